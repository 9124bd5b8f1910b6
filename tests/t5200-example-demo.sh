#!/bin/sh
# examples/demo.clab.yml up and down: two UML hosts on two LANs joined by a
# qemu (TCG) router, and a namespace node; h1 pings h2 across the router.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1
LAB=$PLUGNET_SRC/examples/demo.clab.yml
test_lazy_prereq TSHARK "no tshark" 'command -v tshark'
test_lazy_prereq GUEST_IPTABLES "the guest image has no iptables (apt-get install iptables; make image)" \
    '(. "$PLUGNET_BUILD/image/manifest" && [ "${IPTABLES:-no}" = yes ])'

test_expect_success NETNS,IMAGE 'up brings the demo up, exec lines run' '
    pn_daemons_start &&
    plugnet up "$LAB" >out &&
    grep -q "lab demo is up (4 nodes, 2 LANs)" out &&
    grep -q "r1\$ sysctl -w net.ipv4.ip_forward=1" out &&
    every_node_running "$LAB"
'

test_expect_success NETNS,IMAGE 'h1 reaches h2 across the qemu router' '
    retry_until 30 plugnet exec h1 -- ping -c 1 -W 1 10.0.2.2 &&
    plugnet exec h2 -- ping -c 1 -W 2 10.0.1.1
'

test_expect_success NETNS,IMAGE,TSHARK,GUEST_IPTABLES 'the demo script: h2 firewalled shut, exec and cp still reach it; it prints the PATH line' '
    PLUGNET_DEMO_OUT="$TEST_DIR/demo" "$PLUGNET_SRC/examples/demo.sh" >demo.out 2>&1 ||
        { cat demo.out; false; } &&
    grep -q "h1 -> h2 ping: no answer" demo.out &&
    grep -q "^  -P OUTPUT DROP" demo.out &&
    grep -q "1 MiB into h2 and back: identical" demo.out &&
    grep -q "h1 pings h2 again" demo.out &&
    sed -n "s/^  \(export PATH=.*\)/\1/p" demo.out >path.sh &&
    (PATH=/usr/sbin:/usr/bin:/sbin:/bin && . ./path.sh && command -v plugnet) >which &&
    test "$(cat which)" -ef "$PLUGNET_BUILD/bin/plugnet" &&
    plugnet exec h2 -- iptables -S >rules && grep -qx -- "-P INPUT ACCEPT" rules
'

test_expect_success NETNS,IMAGE 'graph draws the live lab, nodes green' '
    plugnet graph "$LAB" >g.dot &&
    grep -q "\"n:r1\" \[label=\"r1\\\\nqemu · running\".*fillcolor=palegreen" g.dot
'

test_expect_success NETNS,IMAGE 'down takes it all away' '
    plugnet down "$LAB" &&
    lab_is_gone "$LAB"
'

test_done
