# Helpers for the switchd tests (t1xxx); source after lib.sh.

# sw_ns NAME: a network namespace with IPv6 off (so only the traffic a test
# makes crosses the switch), deleted at the end of the script.
sw_ns() {
    ip netns add "$1" || return 1
    test_atexit "ip netns del $1 2>/dev/null"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null &&
    ip -n "$1" link set lo up
}

# sw_tap_into LAN IFNAME NS ADDR/LEN: a switchd tap port moved into NS
# and configured.  Prints the port number.
sw_tap_into() {
    _sw_out=$(plugnet --json port add-tap "$1" "$2") || return 1
    ip link set "$2" netns "$3" &&
    ip -n "$3" addr add "$4" dev "$2" &&
    ip -n "$3" link set "$2" up &&
    printf "%s\n" "$_sw_out" | jq -r .port
}

# sw_stat LAN PORT FIELD: one counter (FIELD like rx_frames or drops.runt).
sw_stat() {
    plugnet --json stats "$1" | jq -r ".ports[] | select(.port == $2) | .$3"
}

# sw_ping NS ADDR [COUNT]: a quick ping; succeeds when any reply came back.
sw_ping() {
    ip netns exec "$1" ping -n -q -c "${3:-1}" -i 0.2 -W 1 "$2" >/dev/null 2>&1
}

# Scratch files of the tests go to the test's own directory.
cd "$TEST_DIR" || exit 1

# ---------------------------------------------------------------- guests

# sw_guest_root DIR: a busybox root for UML (hostfs) whose /init brings
# eth0 up with pn_ip=ADDR from the kernel command line, then:
#  - with pn_peer=ADDR it pings the peer and prints "PNGUEST PING_OK"; with
#    pn_send=FILE as well it sends FILE to the peer's TCP port 5001 and
#    prints "PNGUEST <name> SENT";
#  - with pn_want=MD5 it takes one file on TCP port 5001 (within 60 s; it
#    listens before its address exists, so a peer that can ping it finds
#    the port open) and prints "PNGUEST <name> GOT MD5" only when what came
#    has that checksum ("PNGUEST <name> BAD ..." otherwise).
# Then it halts.  Nothing passes through the shared root: what a guest
# gets, it got through the LAN.
sw_guest_root() {
    mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/tmp" "$1/etc" &&
    cp /bin/busybox "$1/bin/busybox" &&
    cat >"$1/init" <<'EOS' &&
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
for a in $(cat /proc/cmdline); do case $a in pn_*=*) export "$a";; esac; done
echo "PNGUEST $pn_name up"
ip link set lo up
ip link set eth0 up
if [ -n "$pn_want" ]; then
    # nc ends a connection when either side is done: its input must stay
    # open (a FIFO that stays silent) until the sender has finished.
    mkfifo /tmp/hold
    exec 3<>/tmp/hold
    timeout 60 nc -l -p 5001 </tmp/hold >/tmp/got &
    ncpid=$!
    # Port 5001 is 1389 in /proc/net/tcp; state 0A is LISTEN.
    i=0
    while [ $i -lt 200 ] && ! grep -q ":1389 00000000:0000 0A" /proc/net/tcp; do sleep 0.05; i=$((i+1)); done
fi
ip addr add $pn_ip/24 dev eth0
if [ -n "$pn_peer" ]; then
    i=0
    while [ $i -lt 60 ]; do ping -c 1 -W 1 $pn_peer >/dev/null 2>&1 && break; i=$((i+1)); done
    ping -c 3 -W 2 $pn_peer && echo "PNGUEST PING_OK"
    if [ -n "$pn_send" ]; then
        nc -w 10 $pn_peer 5001 <"$pn_send" && echo "PNGUEST $pn_name SENT"
    fi
fi
if [ -n "$pn_want" ]; then
    wait $ncpid
    sum=$(md5sum </tmp/got)
    sum=${sum%% *}
    if [ "$sum" = "$pn_want" ]; then
        echo "PNGUEST $pn_name GOT $sum"
    else
        echo "PNGUEST $pn_name BAD $sum ($(wc -c </tmp/got) bytes), not $pn_want"
    fi
fi
echo "PNGUEST $pn_name halting"
halt -f
EOS
    chmod +x "$1/init"
}

# sw_uml ROOT LOG ETH0-SPEC pn_...=...: run a UML guest (foreground, at
# most 90 s) with the console on LOG, the way vmd runs them (vm-uml-exec:
# the AVX-512 host workaround, and glibc in the guest kept off AVX).
# 128 MB: with 64 MB, Debian's UML 6.1 kernel failed to create tasks during
# boot in about one boot in three (a kernel thread: a WARNING in
# crypto_wait_for_test; or init's first fork: "can't fork: Resource
# temporarily unavailable", a panic before /init printed anything).
sw_uml() {
    _root=$1 _log=$2 _eth=$3
    shift 3
    timeout 90 vm-uml-exec --tunables "$(command -v linux)" mem=128M root=/dev/root rootfstype=hostfs \
        rootflags="$_root" rw init=/init "eth0=$_eth" con=null con0=null,fd:1 "$@" \
        </dev/null >"$_log" 2>&1
}

SW_QEMU_KVER=$(ls /lib/modules 2>/dev/null | grep -- -cloud-amd64 | sort -V | tail -n1)
SW_QEMU_KERNEL=/boot/vmlinuz-$SW_QEMU_KVER

# sw_qemu_initrd DIR: DIR/initrd.gz, a busybox initramfs that loads the
# virtio-net modules of the host's cloud kernel (dependencies first) and
# runs the same /init as sw_guest_root (it powers off instead of halting).
sw_qemu_initrd() {
    _d=$1/initrd
    sw_guest_root "$_d" &&
    mkdir -p "$_d/lib/modules" &&
    _m=/lib/modules/$SW_QEMU_KVER/kernel &&
    for _k in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev \
              drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover \
              drivers/net/net_failover drivers/net/virtio_net; do
        cp "$_m/$_k.ko" "$_d/lib/modules/" || return 1
        echo "insmod /lib/modules/$(basename $_k).ko" >>"$_d/modules"
    done &&
    sed -i -e 's|^mount -t sysfs sys /sys$|&\n. /modules|' -e 's|^halt -f$|poweroff -f|' "$_d/init" &&
    (cd "$_d" && find . | cpio -o -H newc --quiet | gzip -1) >"$1/initrd.gz"
}

# sw_qemu INITRD LOG NETDEV-OPTS pn_...=...: a qemu TCG guest (foreground,
# at most 150 s) with the serial console on LOG.
sw_qemu() {
    _i=$1 _log=$2 _net=$3
    shift 3
    timeout 150 qemu-system-x86_64 -accel tcg -m 256 -smp 1 -nographic -no-reboot -nodefaults \
        -serial "file:$_log" -kernel "$SW_QEMU_KERNEL" -initrd "$_i" \
        -append "console=ttyS0 panic=-1 quiet $*" \
        -netdev "$_net" -device virtio-net-pci,netdev=n0,mac=02:00:00:00:02:01 </dev/null
}

# sw_stop_clean: stop switchd and check it left no sanitizer report (with
# SANITIZE=1, leaks are reported at exit), in $TEST_DIR/san (lib.sh's
# log_path) or, should the options be overridden, in its log.
sw_stop_clean() {
    plugnet daemons stop switchd >/dev/null &&
    test_no_sanitizer_reports &&
    if grep -E -A20 "Sanitizer|runtime error" "$PLUGNET_STATE_DIR/log/switchd.log"; then return 1; fi
}
