#!/bin/sh
# Real VDE clients: two unchanged vde_plug processes, each plugging a tap in
# its own namespace into a LAN's control socket, ping each other and a
# namespace on a switchd tap port; the port lives as long as the client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

test_lazy_prereq VDE_PLUG "vde_plug (package vdeplug) is not installed" 'command -v vde_plug'

A="pna$TEST_TAG" B="pnb$TEST_TAG" C="pnc$TEST_TAG"

# sw_vde_plug NS IFNAME ADDR: run vde_plug in NS, wait for its tap, configure it.
sw_vde_plug() {
    ip netns exec "$1" vde_plug "vde://$PLUGNET_RUN_DIR/lan/net1" "tap://$2" \
        >"$TEST_DIR/vde_plug.$1.log" 2>&1 &
    _pid=$!
    eval "vp_$1=\$_pid"
    test_atexit "kill $_pid 2>/dev/null"
    retry_until 10 ip -n "$1" link show "$2" >/dev/null 2>&1 &&
    ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" link set "$2" up
}

test_expect_success ROOT,NETNS,VDE_PLUG 'two vde_plug clients attach' '
    pn_daemons_start switchd &&
    plugnet lan add net1 &&
    sw_ns $A && sw_ns $B && sw_ns $C &&
    sw_vde_plug $A va0 10.32.0.1/24 &&
    sw_vde_plug $B vb0 10.32.0.2/24 &&
    retry_until 10 eval "test \$(plugnet --json port ls net1 | jq \".ports | length\") = 2" &&
    plugnet --json port ls net1 >ports.json &&
    test "$(jq -r "[.ports[].kind] | unique | .[0]" ports.json)" = vde &&
    jq -r ".ports[].descr" ports.json | grep -q "^vdeplug: user=root"
'

# has_port N true|false: switchd answered port ls, and port N is there / is not.
has_port() {
    plugnet --json port ls net1 >ports.json &&
    jq -e "any(.ports[]; .port == $1) == ${2:-true}" ports.json >/dev/null
}
test_expect_success VDE_PLUG 'a client asking for a port number gets it' '
    { vde_plug "vde://$PLUGNET_RUN_DIR/lan/net1[7]" = sleep 60 >/dev/null 2>&1 & } &&
    vpid=$! &&
    test_when_finished "test_kill $vpid" &&
    retry_until 10 has_port 7 &&
    # vde_plug leaves its command (sleep) running when it is killed.
    kids=$(cat /proc/$vpid/task/*/children) && test -n "$kids" &&
    test_when_finished "test_kill $kids" &&
    kill $vpid &&
    retry_until 10 has_port 7 false
'

test_expect_success ROOT,NETNS,VDE_PLUG 'they ping each other through switchd' '
    retry_until 15 sw_ping $A 10.32.0.2 &&
    ip netns exec $A ping -n -c 5 -i 0.2 -W 2 10.32.0.2
'

test_expect_success ROOT,NETNS,VDE_PLUG 'a VDE client and a tap port reach each other' '
    sw_tap_into net1 "tc$TEST_TAG" $C 10.32.0.3/24 >/dev/null &&
    retry_until 15 sw_ping $C 10.32.0.1 &&
    ip netns exec $C ping -n -c 3 -i 0.2 -W 2 10.32.0.2
'

# The tap side hands switchd TCP super-frames (offloads on); the VDE side
# must get them cut to size with correct checksums, or the transfer stalls.
test_expect_success ROOT,NETNS,VDE_PLUG 'TCP from a tap port to a VDE port and back arrives whole' '
    head -c 8000000 /dev/urandom >data &&
    { ip netns exec $A socat -u TCP-LISTEN:5001,bind=10.32.0.1,reuseaddr OPEN:got.a,creat,trunc & } &&
    lpid=$! &&
    test_when_finished "test_kill $lpid" &&
    retry_until 10 ip netns exec $A sh -c "ss -ltn | grep -q 10.32.0.1:5001" &&
    timeout 60 ip netns exec $C socat -u OPEN:data TCP:10.32.0.1:5001 &&
    wait $lpid &&
    cmp data got.a &&
    { ip netns exec $C socat -u TCP-LISTEN:5002,bind=10.32.0.3,reuseaddr OPEN:got.c,creat,trunc & } &&
    lpid=$! &&
    test_when_finished "test_kill $lpid" &&
    retry_until 10 ip netns exec $C sh -c "ss -ltn | grep -q 10.32.0.3:5002" &&
    timeout 60 ip netns exec $A socat -u OPEN:data TCP:10.32.0.3:5002 &&
    wait $lpid &&
    cmp data got.c &&
    test "$(plugnet --json stats net1 | jq "[.ports[].drops.oversize] | add")" = 0
'

test_expect_success ROOT,NETNS,VDE_PLUG 'the port goes away with its client' '
    kill $vp_pnb'"$TEST_TAG"' &&
    retry_until 10 eval "test \$(plugnet --json port ls net1 | jq \".ports | length\") = 2" &&
    plugnet --json port ls net1 >ports.json &&
    jq -r ".ports[].descr" ports.json >descr &&
    ! grep -q "pid=$vp_pnb'"$TEST_TAG"'" descr &&
    sw_ping $A 10.32.0.3
'

test_expect_success ROOT,NETNS,VDE_PLUG 'a VDE port can be unplugged and plugged back' '
    pa=$(plugnet --json port ls net1 | jq ".ports[] | select(.kind == \"vde\") | .port") &&
    plugnet port set net1 $pa down &&
    ! sw_ping $C 10.32.0.1 2 &&
    plugnet port set net1 $pa up &&
    retry_until 10 sw_ping $C 10.32.0.1
'

test_expect_success 'switchd stops cleanly (no sanitizer report)' '
    sw_stop_clean
'

test_done
