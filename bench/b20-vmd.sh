#!/bin/bash
# b20-vmd: node lifecycle benchmarks.
#  (a) 50 ns nodes on one LAN: build, pingall (every ordered pair once,
#      2450 pings), teardown -- against Mininet doing the same
#      (mn --switch lxbr --controller none --topo single,50 --test pingall),
#      and build + teardown alone against --test none.
#  (b) median boot of the tiny guest to "plugnet: config done", UML and qemu.
#  (c) memory of an idle UML node.
set -u
: "${PLUGNET_BUILD:=$(cd "$(dirname "$0")/.." && pwd)/build}"
: "${PLUGNET_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
PATH="$PLUGNET_BUILD/bin:$PATH"
N=${B20_NODES:-50}
BOOTS=${B20_BOOTS:-5}
W=$(mktemp -d /tmp/pn-b20.XXXXXX)
export PLUGNET_RUN_DIR="$W/run" PLUGNET_STATE_DIR="$W/state" PLUGNET_MGMT_PREFIX=${PLUGNET_MGMT_PREFIX:-10.251}
mkdir -p "$PLUGNET_RUN_DIR" "$PLUGNET_STATE_DIR"
cleanup() { plugnet daemons stop >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '%-44s %10s %10s %7s\n' "$@"; }

[ "$(id -u)" = 0 ] || { echo "b20: needs root (namespaces, taps); skipped"; exit 0; }
"$PLUGNET_SRC/images/tiny/build.sh" "$PLUGNET_BUILD/image" >/dev/null || exit 1
plugnet daemons start >/dev/null || exit 1
plugnet lan add bench >/dev/null || exit 1

build() {
    for i in $(seq 1 "$N"); do
        plugnet node add "h$i" --kind ns --no-mgmt --nic "bench,ip=10.250.$((i / 250)).$((i % 250 + 1))/16" \
            --start >/dev/null || return 1
    done
}
ip_of() { echo "10.250.$(($1 / 250)).$(($1 % 250 + 1))"; }
pingall() {
    fails=0
    # Namespaces are named "pn<tag>-<node>": ask once (jq per node cost
    # more than the node's 49 pings).
    ns1=$(plugnet --json node show h1 | grep -o '"netns":"[^"]*"' | cut -d'"' -f4)
    for i in $(seq 1 "$N"); do
        ns="${ns1%-h1}-h$i"
        targets=""
        for j in $(seq 1 "$N"); do [ "$i" = "$j" ] || targets="$targets $(ip_of "$j")"; done
        f=$(ip netns exec "$ns" sh -c 'n=0; for t in "$@"; do ping -c1 -W1 -q "$t" >/dev/null 2>&1 || n=$((n+1)); done; echo $n' _ $targets)
        fails=$((fails + f))
    done
    echo "$fails"
}
teardown() {
    plugnet node del --force $(seq -f "h%g" 1 "$N") >/dev/null
}

echo "(a) $N ns nodes on one LAN (no management LAN), ping every ordered pair once"
t0=$(now_ms); build || { echo "b20: build failed"; exit 1; }; t1=$(now_ms)
drops=$(pingall); t2=$(now_ms)
teardown; t3=$(now_ms)
pn_all=$((t3 - t0)) pn_bt=$((t1 - t0 + t3 - t2))
echo "    plugnet: build $((t1 - t0)) ms, pingall $((t2 - t1)) ms ($drops of $((N * (N - 1))) pings lost), teardown $((t3 - t2)) ms"

mn_all="" mn_none=""
if command -v mn >/dev/null 2>&1; then
    mn -c >/dev/null 2>&1
    t0=$(now_ms)
    out=$(mn --switch lxbr --controller none --topo "single,$N" --test pingall 2>&1)
    t1=$(now_ms)
    mn_all=$((t1 - t0))
    echo "    mininet: $(printf '%s\n' "$out" | grep -E 'Results' | head -1)"
    mn -c >/dev/null 2>&1
    t0=$(now_ms)
    mn --switch lxbr --controller none --topo "single,$N" --test none >/dev/null 2>&1
    t1=$(now_ms)
    mn_none=$((t1 - t0))
    mn -c >/dev/null 2>&1
fi
row "" "plugnet" "mininet" "ratio"
row "build + pingall + teardown (ms)" "$pn_all" "${mn_all:--}" "$(ratio "$pn_all" "${mn_all:-0}")"
row "build + teardown (ms)" "$pn_bt" "${mn_none:--}" "$(ratio "$pn_bt" "${mn_none:-0}")"

# (b) boot to "plugnet: config done"
boot_ms() { # KIND NAME
    plugnet node add "$2" --kind "$1" --no-mgmt >/dev/null || return 1
    log="$PLUGNET_STATE_DIR/nodes/$2/console.log"
    t0=$(now_ms)
    plugnet node start "$2" >/dev/null || return 1
    timeout 120 bash -c 'grep -q -m1 "plugnet: config done" <(tail -n +1 -F "$1" 2>/dev/null)' _ "$log" || return 1
    t1=$(now_ms)
    plugnet node del --force "$2" >/dev/null
    echo $((t1 - t0))
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
echo "(b) boot of the tiny guest to 'plugnet: config done', median of $BOOTS"
for kind in uml qemu; do
    res=""
    for k in $(seq 1 "$BOOTS"); do res="$res $(boot_ms "$kind" "b$kind$k")"; done
    med=$(printf '%s\n' $res | median)
    target=$([ "$kind" = uml ] && echo 2000 || echo 6000)
    accel=""
    [ "$kind" = qemu ] && accel=" ($(cat /run/plugnet-accel 2>/dev/null | awk '{print $2}'))"
    row "$kind$accel boot, median ms (runs:$res)" "$med" "target" "$target"
done

# (c) memory of idle UML nodes
echo "(c) memory of an idle UML node (4 nodes, after boot)"
for k in 1 2 3 4; do plugnet node add "m$k" --kind uml --no-mgmt --start >/dev/null; done
for k in 1 2 3 4; do
    timeout 60 bash -c 'grep -q -m1 "plugnet: shell ready" <(tail -n +1 -F "$1" 2>/dev/null)' _ \
        "$PLUGNET_STATE_DIR/nodes/m$k/console.log"
done
rss=0 pss=0
for k in 1 2 3 4; do
    g=$(plugnet --json node show "m$k" | jq -r .pid)
    for p in $(pgrep -g "$g"); do
        r=$(awk '/^Rss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        rss=$((rss + ${r:-0})) pss=$((pss + ${s:-0}))
    done
done
row "idle UML node, RSS sum of its processes (KiB)" "$((rss / 4))" "" ""
row "idle UML node, PSS (KiB)" "$((pss / 4))" "" ""
for k in 1 2 3 4; do plugnet node del --force "m$k" >/dev/null; done
