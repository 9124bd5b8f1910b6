#!/bin/sh
# b40-agent: the agent path.  `plugnet exec NODE true` round trip (median of
# N runs) next to `ip netns exec NS true`, and plugnet cp / exec streaming
# MiB/s next to the raw throughput of the same channel (a unix stream
# socket for ns nodes, measured with socat).  Targets: exec <= 20 ms,
# cp >= 50% of raw.
set -u
: "${PLUGNET_BUILD:=$(pwd)/build}"
PATH="$PLUGNET_BUILD/bin:$PATH"
RUNS=${B40_RUNS:-30}
MIB=${B40_MIB:-100}
if [ "$(id -u)" != 0 ] || ! command -v socat >/dev/null; then
    echo "b40-agent: skipped (needs root for a network namespace, and socat)"
    exit 0
fi
D=$(mktemp -d /tmp/b40.XXXXXX)
NS=b40$$
export PLUGNET_RUN_DIR=$D/run PLUGNET_STATE_DIR=$D/state
mkdir -p "$PLUGNET_RUN_DIR" "$PLUGNET_STATE_DIR"
# Wait (bounded) for a socket file to appear.
wait_sock() { i=0; while [ ! -S "$1" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done; }
cleanup() {
    [ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null
    [ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null
    [ -n "${RELAY:-}" ] && kill "$RELAY" 2>/dev/null
    [ -f "$D/g/q.pid" ] && kill "$(cat "$D/g/q.pid")" 2>/dev/null
    plugnet daemons stop agentd >/dev/null 2>&1
    ip netns del $NS 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT INT TERM
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
now_us() { echo $(( $(date +%s%N) / 1000 )); }
# median of the numbers on stdin
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
time_runs() {
    i=0
    while [ $i -lt "$RUNS" ]; do
        t0=$(now_us); "$@" >/dev/null 2>&1; t1=$(now_us)
        echo $((t1 - t0)); i=$((i + 1))
    done | median
}
mibs() { awk -v b="$1" -v us="$2" 'BEGIN { printf "%.0f", (b / 1048576) / (us / 1e6) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

plugnet daemons start agentd >/dev/null || { echo "b40-agent: agentd did not start"; exit 1; }
ip netns add $NS || exit 1
ip netns exec $NS plugnet-agent --listen "$D/n1.sock" 2>/dev/null &
AGENT=$!
wait_sock "$D/n1.sock"
ag-call agentd agent.register node=n1 kind=ns path="$D/n1.sock" >/dev/null &&
ag-call agentd agent.wait node=n1 timeout_ms:=10000 >/dev/null || { echo "b40-agent: the agent did not come up"; exit 1; }

head -c $((MIB * 1048576)) /dev/urandom >"$D/blob"
BYTES=$((MIB * 1048576))

ex=$(time_runs plugnet exec n1 true)
peer=$(time_runs ip netns exec $NS true)

# Raw channel: the same kind of socket, file to file like cp, by socat.
# Each round measures raw, put and get back to back, on fresh files; the
# rows give the median of the rounds (other work on the host moves single
# runs by a factor of two).
CPRUNS=${B40_CP_RUNS:-3}
mkdir -p "$D/dst"
raw_once() {
    rm -f "$D/raw.out" "$D/raw.sock"
    ip netns exec $NS socat -b 65536 -u UNIX-LISTEN:"$D/raw.sock" OPEN:"$D/raw.out",creat,trunc &
    SINK=$!
    wait_sock "$D/raw.sock"
    t0=$(now_us); socat -b 65536 -u OPEN:"$D/blob" UNIX-CONNECT:"$D/raw.sock"; wait $SINK; t1=$(now_us); SINK=
    mibs $BYTES $((t1 - t0))
}
timed_mibs() { t0=$(now_us); "$@"; t1=$(now_us); mibs $BYTES $((t1 - t0)); }
i=0
while [ $i -lt "$CPRUNS" ]; do
    rm -f "$D/dst/up" "$D/down"
    echo "raw $(raw_once)"
    echo "up $(timed_mibs plugnet cp "$D/blob" n1:"$D/dst/up")"
    echo "down $(timed_mibs plugnet cp n1:"$D/blob" "$D/down")"
    cmp -s "$D/blob" "$D/down" && cmp -s "$D/blob" "$D/dst/up" || echo "b40-agent: COPY MISMATCH" >&2
    echo "pipe $(timed_mibs sh -c "plugnet exec n1 -- cat <'$D/blob' >/dev/null")"
    i=$((i + 1))
done >"$D/cp.runs"
med() { awk -v k="$1" '$1 == k { print $2 }' "$D/cp.runs" | median; }
raw=$(med raw) up=$(med up) down=$(med down) pipe=$(med pipe)

printf '%-34s %14s %18s %8s\n' "work (ns node)" "plugnet" "peer" "ratio"
printf '%-34s %11.1f ms %15.1f ms %8s   (ip netns exec; target <= 20 ms)\n' "exec true, median of $RUNS" \
    "$(awk -v u="$ex" 'BEGIN{print u/1000}')" "$(awk -v u="$peer" 'BEGIN{print u/1000}')" "$(ratio "$ex" "$peer")"
printf '%-34s %9s MiB/s %13s MiB/s %8s   (raw unix socket, socat; median of %s; target >= 0.50)\n' "cp ${MIB} MiB host -> node" "$up" "$raw" "$(ratio "$up" "$raw")" "$CPRUNS"
printf '%-34s %9s MiB/s %13s MiB/s %8s\n' "cp ${MIB} MiB node -> host" "$down" "$raw" "$(ratio "$down" "$raw")"
printf '%-34s %9s MiB/s %13s MiB/s %8s\n' "exec cat, ${MIB} MiB stdin->stdout" "$pipe" "$raw" "$(ratio "$pipe" "$raw")"

# ------------------------------------------------------------------ guests
# UML (serial line) and qemu TCG (virtio serial) when the tiny image exists:
# exec true median, and 10 MiB through the agent both ways.  No raw peer
# here yet: the line belongs to the agent while it runs.  Uploads to UML are
# bound by its serial line (one byte per read in UML's driver, and a 2 KiB
# window so its tty never throttles).
MAN=${PLUGNET_IMAGE_MANIFEST:-$PLUGNET_BUILD/image/manifest}
if [ ! -r "$MAN" ]; then
    echo "b40-agent: uml/qemu rows skipped (no image: make image)"
    exit 0
fi
. "$MAN"
mkdir -p "$D/g/disk"
cp "$PLUGNET_BUILD/bin/plugnet-agent" "$D/g/disk/"
printf '#!/bin/sh\n/mnt/plugnet/plugnet-agent -d\n' >"$D/g/disk/config"
mke2fs -q -F -t ext2 -L PLUGNET -d "$D/g/disk" "$D/g/plugnet.img" 8M
GMIB=10
head -c $((GMIB * 1048576)) /dev/urandom >"$D/g/blob"
guest_rows() {
    kind=$1 node=$2
    ag-call -t 200000 agentd agent.wait node=$node timeout_ms:=180000 >/dev/null || { echo "$kind: no agent"; return; }
    RUNS=15
    gex=$(time_runs plugnet exec $node true)
    t0=$(now_us); plugnet cp "$D/g/blob" $node:/tmp/blob; t1=$(now_us)
    gup=$(mibs $((GMIB * 1048576)) $((t1 - t0)))
    t0=$(now_us); plugnet cp $node:/tmp/blob "$D/g/back"; t1=$(now_us)
    gdown=$(mibs $((GMIB * 1048576)) $((t1 - t0)))
    t0=$(now_us); plugnet exec $node -- head -c $((GMIB * 1048576)) /dev/zero >/dev/null; t1=$(now_us)
    graw=$(mibs $((GMIB * 1048576)) $((t1 - t0)))
    printf '%-34s %11.1f ms\n' "exec true ($kind), median of $RUNS" "$(awk -v u="$gex" 'BEGIN{print u/1000}')"
    printf '%-34s %9s MiB/s\n' "cp ${GMIB} MiB host -> $kind" "$gup"
    printf '%-34s %9s MiB/s\n' "cp ${GMIB} MiB $kind -> host" "$gdown"
    printf '%-34s %9s MiB/s   (zeros written in the guest, through the agent)\n' "exec head -c ${GMIB} MiB, $kind -> host" "$graw"
}
if [ -x "$UML_KERNEL" ]; then
    ag-relay "$D/g/u.sock" "$D/g/uc.sock" "$D/g/u.log" -- "$UML_KERNEL" mem=96M umid=b40$$ uml_dir="$D/g" \
        ubd0="$D/g/cow,$ROOTFS" ubd1r="$D/g/plugnet.img" root=/dev/ubda rw quiet con=null ssl=null \
        con0=fd:0,fd:1 ssl1=fd:3 "GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX2,-AVX" \
        >/dev/null 2>&1 &
    RELAY=$!
    wait_sock "$D/g/u.sock"
    ag-call agentd agent.register node=bu kind=uml path="$D/g/u.sock" >/dev/null && guest_rows uml bu
    kill $RELAY; RELAY=
fi
if [ -r "$QEMU_KERNEL" ] && command -v qemu-system-x86_64 >/dev/null; then
    qemu-img create -q -f qcow2 -b "$ROOTFS" -F raw "$D/g/q.qcow2"
    qemu-system-x86_64 -accel tcg -m 256 -display none -nodefaults -kernel "$QEMU_KERNEL" -initrd "$QEMU_INITRD" \
        -append "console=ttyS0 quiet root=/dev/vda" \
        -drive file="$D/g/q.qcow2",format=qcow2,if=virtio,file.locking=off,backing.file.locking=off \
        -drive file="$D/g/plugnet.img",format=raw,if=virtio,readonly=on,file.locking=off \
        -device virtio-serial-pci,id=vser0 -chardev socket,id=agent0,path="$D/g/q.sock",server=on,wait=off \
        -device virtserialport,bus=vser0.0,chardev=agent0,name=org.plugnet.agent.0 \
        -pidfile "$D/g/q.pid" -daemonize >/dev/null 2>&1
    ag-call agentd agent.register node=bq kind=qemu path="$D/g/q.sock" knock_ms:=0 >/dev/null && guest_rows qemu-tcg bq
    kill "$(cat "$D/g/q.pid")" 2>/dev/null
fi
