#!/bin/sh
# images/tiny/build.sh OUTDIR — build plugnet's tiny default guest from Debian
# packages only (busybox-static, user-mode-linux, linux-image-cloud-amd64,
# iptables).
#
# OUTDIR/rootfs.ext4   ext4 root, made without mounting (mke2fs -d)
# OUTDIR/initrd.cpio.gz  qemu only: loads the virtio modules, mounts /dev/vda
#                        and switches to it
# OUTDIR/manifest      shell-sourceable: ROOTFS, UML_KERNEL, QEMU_KERNEL, QEMU_INITRD
#
# iptables: Debian's legacy xtables binary (iptables, ip6tables) with the
# shared libraries ldd names, a few extensions, and for each kernel (UML's
# and qemu's) the netfilter modules it needs under /lib/modules/RELEASE with
# their modules.dep lines: the kernel and iptables load them on demand
# through busybox modprobe, so booting costs nothing more.
#
# One init (busybox init + /etc/init.d/rcS) serves UML and qemu: it mounts
# /proc, /sys, /dev, finds the disk labelled PLUGNET, runs its `config`
# script (unless the kernel command line says plugnet.noconfig), prints
# "plugnet: config done" and leaves a root shell on the console.
#
# Quick when nothing changed: the inputs' fingerprint is kept in OUTDIR/.stamp.
set -eu
OUT=${1:?usage: build.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)

BUSYBOX=/bin/busybox
UML_KERNEL=/usr/bin/linux
[ -x "$UML_KERNEL" ] || UML_KERNEL=/usr/bin/linux.uml
QEMU_KERNEL=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1 || true)
for f in "$BUSYBOX" "$UML_KERNEL" "$QEMU_KERNEL"; do
    [ -n "$f" ] && [ -e "$f" ] || { echo "image: missing $f (run 'make deps')" >&2; exit 1; }
done
KVER=${QEMU_KERNEL#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER
UML_KERNEL=$(readlink -f "$UML_KERNEL")
# UML's modules (user-mode-linux ships them beside the kernel).
UML_MODDIR=$(ls -d /usr/lib/uml/modules/*/ 2>/dev/null | sort -V | tail -n1 || true)
UML_MODDIR=${UML_MODDIR%/}
XT_BIN=/usr/sbin/xtables-legacy-multi
XT_LIBDIR=/usr/lib/x86_64-linux-gnu/xtables
# The extensions and the kernel modules iptables needs for filtering
# (policies, -p tcp/udp/icmp, --dport, REJECT).
XT_EXT="libxt_standard libxt_tcp libxt_udp libxt_multiport libxt_comment libipt_icmp libipt_REJECT
        libip6t_icmp6 libip6t_REJECT"
XT_KMODS="iptable_filter ip6table_filter xt_tcpudp xt_multiport xt_comment ipt_REJECT ip6t_REJECT"
IPTABLES=yes
if [ ! -x "$XT_BIN" ]; then
    echo "image: no $XT_BIN (apt-get install iptables): the guest gets no iptables" >&2
    IPTABLES=no
fi

stamp=$( { cat "$0"; ls -lL "$BUSYBOX" "$UML_KERNEL" "$QEMU_KERNEL" "$MODDIR/modules.dep";
           [ $IPTABLES = no ] || ls -lL "$XT_BIN" $(ldd "$XT_BIN" | awk '/=>/ { print $3 }') \
               ${UML_MODDIR:+"$UML_MODDIR/modules.dep"}; } | sha256sum | cut -c1-16)
if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$stamp" ] && [ -f "$OUT/manifest" ] \
   && [ -f "$OUT/rootfs.ext4" ] && [ -f "$OUT/initrd.cpio.gz" ]; then
    echo "image: up to date ($OUT)"
    exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pn-image.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ----------------------------------------------------------- busybox tree
# populate DIR: busybox and a symlink per applet, no chroot needed.
populate() {
    d=$1
    mkdir -p "$d/bin" "$d/sbin" "$d/usr/bin" "$d/usr/sbin" "$d/proc" "$d/sys" "$d/dev" \
             "$d/tmp" "$d/run" "$d/etc" "$d/root" "$d/mnt" "$d/var/log"
    chmod 1777 "$d/tmp"
    cp "$BUSYBOX" "$d/bin/busybox"
    "$BUSYBOX" --list-full | while read -r p; do
        [ "$p" = bin/busybox ] && continue
        case "$p" in
        bin/*) ln -sf busybox "$d/$p" ;;
        *) ln -sf /bin/busybox "$d/$p" ;;
        esac
    done
}

# ------------------------------------------------------------- root image
R=$TMP/root
populate "$R"
mkdir -p "$R/etc/init.d" "$R/mnt/plugnet"
cat > "$R/etc/inittab" <<'IT'
::sysinit:/etc/init.d/rcS
::respawn:/etc/init.d/console
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
IT
cat > "$R/etc/init.d/rcS" <<'RC'
#!/bin/sh
# plugnet tiny guest: early boot.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
# (the kernel or the initramfs may have mounted some of these already)
grep -q ' /proc ' /proc/mounts 2>/dev/null || mount -t proc proc /proc
grep -q ' /sys ' /proc/mounts || mount -t sysfs sys /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw / 2>/dev/null
hostname plugnet
ip link set lo up
# Drivers: on qemu the initramfs loaded the virtio modules already.
# No acpid: busybox's acpid restarts the console's shell when a PCI device
# is hot-plugged (nic.add); vmd's stop falls back to a kill after its
# graceful timeout.
# Netfilter under UML: the kernel's module helper (/sbin/modprobe, which is
# busybox) runs without GLIBC_TUNABLES and static glibc crashes there, so
# modules never load on demand; load iptables' IPv4 ones now (~20 ms).
if [ -f /etc/plugnet-uml-modules ] && grep -q '^vendor_id.*User Mode Linux' /proc/cpuinfo; then
    modprobe -a $(cat /etc/plugnet-uml-modules) || echo "plugnet: netfilter modules failed to load"
fi
if grep -qw plugnet.noconfig /proc/cmdline; then
    echo "plugnet: config skipped (plugnet.noconfig)"
    exit 0
fi
dev=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    dev=$(findfs LABEL=PLUGNET 2>/dev/null) && break
    dev=""
    for d in /dev/ubd[b-z] /dev/vd[b-z]; do
        [ -b "$d" ] || continue
        # ext2 superblock: magic at 1080, volume label at 1144.
        [ "$(dd if=$d bs=1 skip=1144 count=7 2>/dev/null)" = PLUGNET ] && { dev=$d; break; }
    done
    [ -n "$dev" ] && break
    usleep 100000
done
if [ -z "$dev" ]; then
    echo "plugnet: no PLUGNET disk"
    exit 0
fi
mount -o ro "$dev" /mnt/plugnet || { echo "plugnet: cannot mount $dev"; exit 0; }
if [ -f /mnt/plugnet/config ]; then
    (cd /mnt/plugnet && sh ./config) || echo "plugnet: config failed: $?"
fi
echo "plugnet: config done"
RC
chmod 755 "$R/etc/init.d/rcS"
# The root shell: on qemu the virtio console hvc0 (qemu's 8250 serial input
# stalls behind a socket chardev; kernel messages stay on ttyS0), else the
# system console (UML's con0).
# Not "exec setsid": init made this script a session leader, so busybox's
# setsid would fork and return at once, init would respawn the script, and
# the shells would pile up (hundreds, each stealing hvc0) until the guest
# runs out of memory.  Run as a child, setsid needs no fork, and init
# respawns the console only when its shell ends.
cat > "$R/etc/init.d/console" <<'CO'
#!/bin/sh
if [ -c /dev/hvc0 ]; then
    setsid -c /bin/sh -l </dev/hvc0 >/dev/hvc0 2>&1
    exit 0
fi
exec /bin/cttyhack /bin/sh -l
CO
chmod 755 "$R/etc/init.d/console"
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
echo 'root:x:0:' > "$R/etc/group"
# The console's login shell says when it reads commands (tests and tools
# typing into the console wait for this line).
printf 'export PATH=/sbin:/bin:/usr/sbin:/usr/bin\nexport PS1="\\h:\\w# "\necho "plugnet: shell ready"\n' > "$R/etc/profile"
echo '127.0.0.1 localhost' > "$R/etc/hosts"
ln -sf /proc/mounts "$R/etc/mtab"
ln -sf /bin/busybox "$R/sbin/init"

# ---------------------------------------------------------------- iptables
# copy_libs FILE...: the shared libraries ldd lists, at their own paths.
copy_libs() {
    ldd "$@" 2>/dev/null | awk '/=>/ { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }' | sort -u |
    while read -r lib; do
        [ -e "$lib" ] && [ ! -e "$R$lib" ] || continue
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
    done
}
# copy_kmods SRCDIR DSTDIR MOD...: MOD and what it depends on (modules.dep),
# uncompressed, at their paths, and a modules.dep of those only.
copy_kmods() {
    src=$1 dst=$2; shift 2
    mkdir -p "$dst"
    : >"$dst/modules.dep.tmp"
    for m in "$@"; do
        line=$(awk -F: -v m="$m" '{ n=$1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n);
                                   gsub(/-/, "_", n); if (n == m) { print; exit } }' "$src/modules.dep")
        [ -n "$line" ] || { echo "image: module $m not in $src (built in?)" >&2; continue; }
        for p in ${line%%:*} ${line#*:}; do
            grep -q "^$p:" "$dst/modules.dep.tmp" && continue
            full=$(grep "^$p:" "$src/modules.dep")
            ko=${p%.ko*}.ko
            mkdir -p "$dst/$(dirname "$p")"
            case "$p" in
            *.ko) cp "$src/$p" "$dst/$ko" ;;
            *.ko.xz) xz -dc "$src/$p" >"$dst/$ko" ;;
            *.ko.zst) zstd -qdc "$src/$p" >"$dst/$ko" ;;
            *.ko.gz) gzip -dc "$src/$p" >"$dst/$ko" ;;
            esac
            deps=""
            for d in ${full#*:}; do deps="$deps ${d%.ko*}.ko"; done
            echo "$ko:$deps" >>"$dst/modules.dep.tmp"
        done
    done
    mv "$dst/modules.dep.tmp" "$dst/modules.dep"
}
if [ $IPTABLES = yes ]; then
    cp "$XT_BIN" "$R/usr/sbin/xtables-legacy-multi"
    for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
        ln -sf xtables-legacy-multi "$R/usr/sbin/$n"
    done
    mkdir -p "$R$XT_LIBDIR"
    for e in $XT_EXT; do cp "$XT_LIBDIR/$e.so" "$R$XT_LIBDIR/"; done
    copy_libs "$XT_BIN" "$R$XT_LIBDIR"/*.so
    copy_kmods "$MODDIR" "$R/lib/modules/$KVER" $XT_KMODS
    if [ -n "$UML_MODDIR" ]; then
        copy_kmods "$UML_MODDIR" "$R/lib/modules/$(basename "$UML_MODDIR")" $XT_KMODS
        # (IPv4 only: ip6tables' modules pull in ipv6, a module under UML,
        # which would give every UML guest IPv6)
        echo $XT_KMODS | tr ' ' '\n' | grep -v '^ip6' >"$R/etc/plugnet-uml-modules"
    else
        echo "image: no UML modules (/usr/lib/uml/modules): no iptables under UML" >&2
    fi
fi

rm -f "$TMP/rootfs.ext4"
mke2fs -q -F -t ext4 -L plugnet-root -E root_owner=0:0 -d "$R" "$TMP/rootfs.ext4" 128M

# ----------------------------------------------------------- qemu initrd
I=$TMP/initrd
populate "$I"
mkdir -p "$I/lib/modules" "$I/newroot"
# The modules and their dependencies, in dependency order (modules.dep).
want="virtio_pci virtio_blk virtio_net virtio_console button"
order=""
add_mod() {
    local rel path deps dp dn
    rel=$(awk -F: -v m="$1" '{ n=$1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n);
                               gsub(/-/, "_", n); if (n == m) { print; exit } }' "$MODDIR/modules.dep")
    [ -n "$rel" ] || { echo "image: module $1 not found (built in?)" >&2; return 0; }
    path=${rel%%:*}
    deps=${rel#*:}
    for dp in $deps; do
        dn=$(basename "$dp"); dn=${dn%%.ko*}; dn=$(echo "$dn" | tr - _)
        add_mod "$dn"
    done
    case " $order " in *" $1 "*) return 0 ;; esac
    order="$order $1"
    case "$path" in
    *.ko) cp "$MODDIR/$path" "$I/lib/modules/$1.ko" ;;
    *.ko.xz) xz -dc "$MODDIR/$path" > "$I/lib/modules/$1.ko" ;;
    *.ko.zst) zstd -qdc "$MODDIR/$path" > "$I/lib/modules/$1.ko" ;;
    *.ko.gz) gzip -dc "$MODDIR/$path" > "$I/lib/modules/$1.ko" ;;
    esac
}
for m in $want; do add_mod "$m"; done
echo "$order" > "$I/lib/modules/order"
cat > "$I/init" <<'INIT'
#!/bin/sh
# plugnet tiny guest, qemu initramfs: virtio drivers, then the real root.
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || echo "plugnet initrd: insmod $m failed"; done
# plugnet.probe: vmd's accelerator probe only wants to see a kernel run.
if grep -qw plugnet.probe /proc/cmdline; then
    echo "plugnet: probe ok"
    poweroff -f
fi
root=/dev/vda
for a in $(cat /proc/cmdline); do case "$a" in root=/dev/*) root=${a#root=} ;; esac; done
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do usleep 50000; i=$((i + 1)); done
if ! mount -t ext4 "$root" /newroot; then
    echo "plugnet initrd: cannot mount $root; dropping to a shell"
    exec sh
fi
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /sbin/init
INIT
chmod 755 "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) > "$TMP/initrd.cpio.gz"

mv "$TMP/rootfs.ext4" "$OUT/rootfs.ext4"
mv "$TMP/initrd.cpio.gz" "$OUT/initrd.cpio.gz"
cat > "$OUT/manifest.tmp" <<MF
# plugnet tiny guest (images/tiny/build.sh)
ROOTFS=$OUT/rootfs.ext4
UML_KERNEL=$UML_KERNEL
QEMU_KERNEL=$QEMU_KERNEL
QEMU_INITRD=$OUT/initrd.cpio.gz
QEMU_MODULES="$order"
IPTABLES=$IPTABLES
MF
mv "$OUT/manifest.tmp" "$OUT/manifest"
echo "$stamp" > "$OUT/.stamp"
echo "image: built $OUT (modules:$order)"
