#!/bin/sh
# examples/mixed.clab.yml up and down: a UML, a qemu and a namespace node
# on one bridge, plus a point-to-point link between the UML and ns nodes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1
LAB=$PLUGNET_SRC/examples/mixed.clab.yml

test_expect_success NETNS,IMAGE 'up brings the three kinds up' '
    pn_daemons_start &&
    plugnet up "$LAB" >out &&
    grep -q "um| hello from um" out &&
    every_node_running "$LAB" &&
    test "$(node_field um kind)" = uml &&
    test "$(node_field vm kind)" = qemu &&
    test "$(node_field ns1 kind)" = ns
'

test_expect_success NETNS,IMAGE 'the UML node reaches the qemu and namespace nodes' '
    plugnet exec --wait 90 vm -- true &&
    retry_until 30 plugnet exec um -- ping -c 1 -W 1 10.3.0.2 &&
    retry_until 30 plugnet exec um -- ping -c 1 -W 1 10.3.0.3
'

# p2p_lan: the LAN of the link between um:eth2 and ns1:eth2 (both ends on it,
# nothing else); p2p_frames: the frames its ports have received.
p2p_lan() {
    plugnet --json node show um >um.json &&
    plugnet --json node show ns1 >ns1.json &&
    _l=$(jq -r ".nics[] | select(.ifname == \"eth2\") | .lan" um.json) &&
    test -n "$_l" && test "$_l" != null &&
    test "$(jq -r ".nics[] | select(.ifname == \"eth2\") | .lan" ns1.json)" = "$_l" &&
    plugnet --json port ls "$_l" >p2p.ports &&
    test "$(jq ".ports | length" p2p.ports)" = 2 &&
    echo "$_l"
}
p2p_frames() { plugnet --json stats "$1" | jq -e "[.ports[].rx_frames] | add"; }

test_expect_success NETNS,IMAGE 'the point-to-point link carries traffic between the UML and namespace nodes' '
    lan=$(p2p_lan) &&
    plugnet exec ns1 -- ip addr add 10.4.0.2/30 dev eth2 &&
    plugnet exec ns1 -- ip link set eth2 up &&
    plugnet exec um -- ip addr add 10.4.0.1/30 dev eth2 &&
    plugnet exec um -- ip link set eth2 up &&
    before=$(p2p_frames "$lan") &&
    retry_until 30 plugnet exec um -- ping -c 1 -W 1 10.4.0.2 &&
    plugnet exec um -- ping -c 3 -i 0.2 -W 2 10.4.0.2 >/dev/null &&
    test "$(p2p_frames "$lan")" -ge $((before + 6))
'

test_expect_success NETNS,IMAGE 'down takes it all away' '
    plugnet down "$LAB" &&
    lab_is_gone "$LAB"
'

test_done
