#!/bin/sh
# `make demo`: the plugnet tour.  Starts the daemons, brings up
# examples/demo.clab.yml (two UML hosts on two LANs joined by a qemu router,
# and a namespace node on the management side), pings across the router,
# runs a command in a node, sniffs a LAN and summarises it with tshark,
# firewalls a guest shut (iptables DROP) and still execs and copies into it,
# draws the lab, and says how to look around and how to take it down.
set -eu
: "${PLUGNET_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PLUGNET_BUILD:=$PLUGNET_SRC/build}"
PATH=$PLUGNET_BUILD/bin:$PATH
export PATH
LAB=$PLUGNET_SRC/examples/demo.clab.yml
OUT=${PLUGNET_DEMO_OUT:-$PLUGNET_BUILD/demo}
mkdir -p "$OUT"
t0=$(date +%s%N)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
elapsed() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
# Retry a command up to $1 seconds (a guest's network is up when it answers).
retry() {
    _end=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        [ "$(date +%s)" -lt "$_end" ] || return 1
        sleep 0.5
    done
}

step "the daemons"
plugnet status >/dev/null 2>&1 || plugnet daemons start
plugnet status

step "plugnet up $LAB"
plugnet up "$LAB"

step "plugnet node ls"
plugnet node ls

step "h1 pings h2 across the qemu router r1"
retry 30 plugnet exec h1 -- ping -c 1 -W 1 10.0.2.2 >/dev/null
plugnet exec h1 -- ping -c 3 10.0.2.2

step "a command in a node: plugnet exec r1 -- ip -o -4 addr"
plugnet exec r1 -- ip -o -4 addr

step "sniffing lan2 while h1 pings h2 (plugnet sniff lan2 -w $OUT/lan2.pcap)"
rm -f "$OUT/lan2.pcap"
plugnet sniff lan2 -w "$OUT/lan2.pcap" &
sniffer=$!
retry 10 test -s "$OUT/lan2.pcap"
plugnet exec h1 -- ping -c 5 -i 0.2 10.0.2.2 >/dev/null
kill -INT "$sniffer" 2>/dev/null || true
wait "$sniffer" 2>/dev/null || true
echo "captured $(tshark -r "$OUT/lan2.pcap" 2>/dev/null | wc -l) frames; by protocol:"
tshark -r "$OUT/lan2.pcap" -q -z io,phs 2>/dev/null | sed -n '/^eth/,/^=/p' | sed '/^=/d'
tshark -r "$OUT/lan2.pcap" -Y icmp -T fields -e ip.src -e ip.dst -e icmp.type 2>/dev/null |
    sort | uniq -c | sed 's/^/  /'

step "h2 drops all IP traffic (iptables), and plugnet still reaches it"
# The agent talks over a virtual serial line, not IP: exec and cp keep
# working in a guest that firewalled itself shut.
echo "h2\$ iptables -P INPUT DROP; iptables -P OUTPUT DROP; iptables -F"
plugnet exec h2 -- sh -c "iptables -P INPUT DROP; iptables -P OUTPUT DROP; iptables -F"
if plugnet exec h1 -- ping -c 2 -W 1 10.0.2.2 >/dev/null; then
    echo "demo: h1 still pings h2 through its firewall" >&2
    exit 1
fi
echo "h1 -> h2 ping: no answer (dropped by h2's firewall)"
echo "plugnet exec h2 -- iptables -S:"
plugnet exec h2 -- iptables -S | sed 's/^/  /'
head -c 1048576 /dev/urandom >"$OUT/blob"
plugnet cp "$OUT/blob" h2:/tmp/blob
plugnet cp h2:/tmp/blob "$OUT/blob.back"
cmp "$OUT/blob" "$OUT/blob.back"
echo "plugnet cp of 1 MiB into h2 and back: identical ($(sha256sum <"$OUT/blob" | cut -c1-16)...)"
plugnet exec h2 -- sh -c "iptables -P INPUT ACCEPT; iptables -P OUTPUT ACCEPT"
retry 10 plugnet exec h1 -- ping -c 1 -W 1 10.0.2.2 >/dev/null
echo "policies back to ACCEPT: h1 pings h2 again"

step "the lab as a graph: $OUT/demo.svg"
plugnet graph "$LAB" --format svg -o "$OUT/demo.svg"
ls -l "$OUT/demo.svg"

step "done in $(( $(elapsed) / 1000 )).$(( $(elapsed) % 1000 / 100 )) s"
BIN=$(cd "$PLUGNET_BUILD/bin" && pwd)
cat <<EOT
plugnet is in $BIN, not on your PATH yet: in your shell, run
  export PATH="$BIN:\$PATH"
(or 'make install', which puts it in /usr/local/bin).
Look around:
  plugnet node ls                      the nodes, their state and uptime
  plugnet inspect $LAB
  plugnet exec h2 -- ip route          any command in any node, no IP needed
  plugnet shell r1                     an interactive shell (exit with Ctrl-D)
  plugnet console h1                   the node's console
  plugnet sniff lan1 -w - | tshark -r -     watch a LAN live
  plugnet events --json                the event bus, one JSON object per line
  examples/watch_events.py             the same from Python
Edit $LAB and run 'plugnet up' again: only the difference is applied.
Take it down:
  plugnet down $LAB
  plugnet daemons stop
EOT
