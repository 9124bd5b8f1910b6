#!/bin/bash
# vmd registers every node's agent channel with agentd: ns nodes run the
# agent inside their namespaces, UML nodes reach it over the relayed serial
# line, qemu nodes over the virtio port; `plugnet exec` works on all three.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_lazy_prereq AGENT "the guest agent is not built" 'test -x "$PLUGNET_BUILD/bin/plugnet-agent"'

test_expect_success ROOT,NETNS,AGENT 'daemons and image' '
    pn_image &&
    vm_daemons &&
    plugnet lan add lan1 >/dev/null
'

test_expect_success ROOT,NETNS,AGENT 'an ns node: exec runs in its namespaces through the agent' '
    plugnet node add n1 --kind ns --nic lan1,ip=10.95.0.1/24 --start >/dev/null &&
    test "$(plugnet exec n1 --wait 15 -- hostname)" = n1 &&
    plugnet exec n1 -- ip -o link show eth1 | grep -q 02:00:00:01:00:01
'

test_expect_success ROOT,UML,AGENT 'a UML node: exec through the serial line vmd relays' '
    plugnet node add u1 --kind uml --nic lan1,ip=10.95.0.2/24 --start >/dev/null &&
    test "$(plugnet exec u1 --wait 40 -- hostname)" = u1 &&
    plugnet exec u1 -- ping -c1 -W2 10.95.0.1 >/dev/null
'

test_expect_success ROOT,QEMU,AGENT 'a qemu node: exec through the virtio port' '
    plugnet node add q1 --kind qemu --nic lan1,ip=10.95.0.3/24 --start >/dev/null &&
    test "$(plugnet exec q1 --wait 90 -- hostname)" = q1 &&
    plugnet exec q1 -- ping -c1 -W2 10.95.0.2 >/dev/null
'

test_expect_success ROOT,UML,AGENT 'the agent needs no IP: exec works with INPUT dropped in the guest' '
    plugnet exec u1 -- sh -c "ip link set eth0 down; ip link set eth1 down" &&
    test "$(plugnet exec u1 -- hostname)" = u1
'

test_done
