#!/bin/sh
# switchd against vde_switch and the Linux bridge, on the same work:
#  (a) iperf3 TCP between two namespaces (switchd: tap ports; vde_switch:
#      vde_plug vde://... tap://...; bridge: veth pairs);
#  (b) 64-byte frames per second between two VDE-protocol ports, with one
#      generator (pn-swgen rate) used against both switches;
#  (c) resident memory of the switch with 64 connected VDE ports.
set -u
: "${PLUGNET_BUILD:=$(cd "$(dirname "$0")/.." && pwd)/build}"
PATH="$PLUGNET_BUILD/bin:$PATH"
SECS=${BENCH_SECS:-5}
T=$(mktemp -d /tmp/pn-b10.XXXXXX)
export PLUGNET_RUN_DIR="$T/run" PLUGNET_STATE_DIR="$T/state"
TAG=$(printf '%s' "$T" | md5sum | cut -c1-4)
A="pbA$TAG" B="pbB$TAG" BR="pbR$TAG"
VS="" VP1="" VP2="" IP=""

cleanup() {
    [ -n "$IP" ] && kill $IP 2>/dev/null
    [ -n "$VP1" ] && kill $VP1 2>/dev/null
    [ -n "$VP2" ] && kill $VP2 2>/dev/null
    [ -n "$VS" ] && kill $VS 2>/dev/null
    plugnet daemons stop switchd >/dev/null 2>&1
    ip netns del $A 2>/dev/null
    ip netns del $B 2>/dev/null
    ip netns del $BR 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then echo "b10: needs root (namespaces, taps); skipped"; exit 0; fi
for c in vde_switch vde_plug iperf3 jq; do
    command -v $c >/dev/null || { echo "b10: $c is missing; skipped"; exit 0; }
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() { printf '%-34s %14s %14s %8s\n' "$@"; }

wait_for() { # wait_for SECONDS CMD...: bounded polling
    _n=$(( $1 * 10 )); shift
    while [ $_n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; _n=$((_n - 1)); sleep 0.1; done
    return 1
}

ns_pair() {
    ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
    ip netns add $A && ip netns add $B
    for n in $A $B; do ip -n $n link set lo up; done
}

# iperf3 from A (10.40.0.1) to B (10.40.0.2): prints Gbit/s.
tcp_run() {
    ip netns exec $B iperf3 -s -1 -B 10.40.0.2 >/dev/null 2>&1 &
    IP=$!
    wait_for 5 ip netns exec $A sh -c 'exec 3<>/dev/tcp/10.40.0.2/5201' 2>/dev/null ||
        wait_for 5 ip netns exec $B ss -ltn 'sport = :5201' | grep -q 5201
    ip netns exec $A iperf3 -c 10.40.0.2 -t "$SECS" -J 2>/dev/null |
        jq '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100'
    wait $IP 2>/dev/null; IP=""
}

addr_up() { # NS IF ADDR
    ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" link set "$2" up
}

plugnet daemons start switchd >/dev/null || { echo "b10: cannot start switchd"; exit 1; }
SWPID=$(plugnet --json status 2>/dev/null | jq -r '.[] | select(.daemon == "switchd") | .pid')

# ------------------------------------------------------------ (a) TCP
ns_pair
plugnet lan add bench >/dev/null
plugnet port add-tap bench "tA$TAG" >/dev/null && plugnet port add-tap bench "tB$TAG" >/dev/null
ip link set "tA$TAG" netns $A && ip link set "tB$TAG" netns $B
addr_up $A "tA$TAG" 10.40.0.1/24 && addr_up $B "tB$TAG" 10.40.0.2/24
wait_for 10 ip netns exec $A ping -c1 -W1 10.40.0.2
PN_TCP=$(tcp_run)
plugnet lan del bench --force >/dev/null

ns_pair
mkdir -p "$T/vde"
vde_switch -s "$T/vde" -n 128 -d -p "$T/vde.pid" >/dev/null 2>&1 </dev/null
wait_for 10 test -S "$T/vde/ctl"
wait_for 10 test -s "$T/vde.pid"
VS=$(cat "$T/vde.pid")
ip netns exec $A vde_plug "vde://$T/vde" "tap://vA$TAG" >/dev/null 2>&1 &
VP1=$!
ip netns exec $B vde_plug "vde://$T/vde" "tap://vB$TAG" >/dev/null 2>&1 &
VP2=$!
wait_for 10 ip -n $A link show "vA$TAG" && wait_for 10 ip -n $B link show "vB$TAG"
addr_up $A "vA$TAG" 10.40.0.1/24 && addr_up $B "vB$TAG" 10.40.0.2/24
wait_for 10 ip netns exec $A ping -c1 -W1 10.40.0.2
VDE_TCP=$(tcp_run)
kill $VP1 $VP2; wait $VP1 $VP2 2>/dev/null; VP1="" VP2=""

ns_pair
ip netns add $BR
ip -n $BR link add br0 type bridge && ip -n $BR link set br0 up
for n in $A $B; do
    ip -n $BR link add "v$n" type veth peer name eth0 netns $n
    ip -n $BR link set "v$n" master br0 && ip -n $BR link set "v$n" up
done
addr_up $A eth0 10.40.0.1/24 && addr_up $B eth0 10.40.0.2/24
wait_for 10 ip netns exec $A ping -c1 -W1 10.40.0.2
BR_TCP=$(tcp_run)
ip netns del $BR

echo "(a) iperf3 TCP, two namespaces, ${SECS}s (Gbit/s)"
row "" "plugnet" "peer" "ratio"
row "switchd tap vs vde_switch+vde_plug" "$PN_TCP" "$VDE_TCP" "$(ratio "$PN_TCP" "$VDE_TCP")"
row "switchd tap vs Linux bridge+veth" "$PN_TCP" "$BR_TCP" "$(ratio "$PN_TCP" "$BR_TCP")"

# ------------------------------------------------- (b) 64-byte frames/s
plugnet lan add rate >/dev/null
PN_FPS=$(pn-swgen rate "$PLUGNET_RUN_DIR/lan/rate" 64 "$SECS" 2>/dev/null | awk '/frames_per_s/ { print $2 }')
VDE_FPS=$(pn-swgen rate "$T/vde" 64 "$SECS" 2>/dev/null | awk '/frames_per_s/ { print $2 }')
echo "(b) 64-byte frames/s between two VDE ports (pn-swgen rate)"
row "" "plugnet" "vde_switch" "ratio"
row "frames/s" "$PN_FPS" "$VDE_FPS" "$(ratio "$PN_FPS" "$VDE_FPS")"

# ------------------------------------------------------ (c) RSS, 64 ports
rss_kib() { awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r " " a }' "/proc/$1/status"; }
rss_with_ports() { # DIR PID: KiB with 64 ports held
    mkfifo "$T/hold.$2"
    pn-swgen hold "$1" 64 <"$T/hold.$2" >"$T/hold.$2.out" 2>&1 &
    _h=$!
    exec 8>"$T/hold.$2"
    wait_for 20 grep -q holding "$T/hold.$2.out"
    _r=$(rss_kib "$2")
    exec 8>&-
    wait $_h 2>/dev/null
    echo "$_r"
}
plugnet lan add many >/dev/null
set -- $(rss_with_ports "$PLUGNET_RUN_DIR/lan/many" "$SWPID")
PN_RSS=${1:-} PN_ANON=${2:-}
set -- $(rss_with_ports "$T/vde" "$VS")
VDE_RSS=${1:-} VDE_ANON=${2:-}
echo "(c) switch RSS with 64 VDE ports connected (KiB; target <= 16384)"
row "" "plugnet" "vde_switch" "ratio"
row "VmRSS KiB" "$PN_RSS" "$VDE_RSS" "$(ratio "$PN_RSS" "$VDE_RSS")"
row "  of which anonymous (RssAnon)" "$PN_ANON" "$VDE_ANON" "$(ratio "$PN_ANON" "$VDE_ANON")"
