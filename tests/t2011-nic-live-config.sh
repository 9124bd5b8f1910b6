#!/bin/bash
# A NIC added to a running node is configured in the guest at once, on
# every kind: `plugnet nic add NODE eth2 LAN --ip A/P` returns once the
# address is on eth2 and eth2 is up (UML and qemu through the node's
# agent, ns directly), and nodes ping each other over it; nic del leaves
# no address behind; a NIC added to a stopped node comes up configured at
# its next boot; and when the guest's part cannot be done, nic add says so
# and exits non-zero (the NIC stays plugged and in the spec).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_lazy_prereq AGENT "the guest agent is not built" 'test -x "$PLUGNET_BUILD/bin/plugnet-agent"'

# addr_up NODE IFNAME ADDR: in the guest, IFNAME has ADDR and is up.
addr_up() {
    plugnet exec "$1" -- ip -4 addr show "$2" >"$TEST_DIR/addr" &&
    grep -q "inet $3 " "$TEST_DIR/addr" &&
    grep -q "[<,]UP[,>]" "$TEST_DIR/addr"
}

# no_addr NODE ADDR: no interface of the guest has ADDR.
no_addr() {
    plugnet exec "$1" -- ip -4 addr show >"$TEST_DIR/addr" &&
    test_grep_not "inet $2 " "$TEST_DIR/addr"
}

test_expect_success ROOT,UML,QEMU,NETNS,AGENT 'daemons, a UML, a qemu and an ns node, booted' '
    pn_image &&
    vm_daemons switchd cfgdiskd vmd agentd &&
    plugnet lan add lana >/dev/null &&
    plugnet lan add lanb >/dev/null &&
    plugnet node add u1 --kind uml --nic lana,ip=10.89.0.1/24 --start --wait 120 >/dev/null &&
    plugnet node add q1 --kind qemu --nic lana,ip=10.89.0.2/24 --start --wait 240 >/dev/null &&
    plugnet node add n1 --kind ns --nic lana,ip=10.89.0.9/24 --start --wait 60 >/dev/null &&
    plugnet exec u1 --wait 120 -- true &&
    plugnet exec q1 --wait 240 -- true
'

test_expect_success ROOT,UML,QEMU,NETNS,AGENT 'nic add --ip: eth2 is up with its address in every guest at once' '
    plugnet nic add u1 eth2 lanb --ip 10.88.0.1/24 >/dev/null &&
    addr_up u1 eth2 10.88.0.1/24 &&
    plugnet nic add q1 eth2 lanb --ip 10.88.0.2/24 >/dev/null &&
    addr_up q1 eth2 10.88.0.2/24 &&
    plugnet nic add n1 eth2 lanb --ip 10.88.0.9/24 >/dev/null &&
    addr_up n1 eth2 10.88.0.9/24 &&
    plugnet exec u1 -- ping -c1 -W3 10.88.0.2 >/dev/null &&
    plugnet exec q1 -- ping -c1 -W3 10.88.0.9 >/dev/null &&
    plugnet exec n1 -- ping -c1 -W3 10.88.0.1 >/dev/null
'

test_expect_success ROOT,UML,QEMU,NETNS,AGENT 'nic del: the address is gone from the guest, nothing answers on it' '
    plugnet nic del q1 eth2 >/dev/null &&
    no_addr q1 10.88.0.2 &&
    test_expect_code 1 plugnet exec u1 -- ping -c1 -W2 10.88.0.2 >/dev/null &&
    plugnet nic del u1 eth2 >/dev/null &&
    no_addr u1 10.88.0.1 &&
    plugnet nic del n1 eth2 >/dev/null &&
    no_addr n1 10.88.0.9 &&
    test "$(vm_field u1 ".nics | length")" = 2 &&
    test "$(vm_field q1 ".nics | length")" = 2 &&
    plugnet exec u1 -- ping -c1 -W3 10.89.0.2 >/dev/null
'

test_expect_success ROOT,UML,AGENT 'a NIC added to a stopped node comes up configured at its next boot' '
    plugnet node stop u1 >/dev/null &&
    plugnet nic add u1 eth3 lanb --ip 10.88.0.11/24 >/dev/null &&
    plugnet node start u1 --wait 120 >/dev/null &&
    plugnet exec u1 --wait 120 -- true &&
    addr_up u1 eth3 10.88.0.11/24 &&
    plugnet nic add n1 eth2 lanb --ip 10.88.0.9/24 >/dev/null &&
    plugnet exec n1 -- ping -c1 -W3 10.88.0.11 >/dev/null
'

test_expect_success ROOT,UML,AGENT 'no agent to configure the guest: nic add says so, exits non-zero, keeps the NIC' '
    plugnet daemons stop agentd >/dev/null &&
    test_must_fail plugnet nic add u1 eth4 lanb --ip 10.88.0.12/24 >out 2>err &&
    grep -q "eth4 is plugged into LAN .lanb. but not configured in the guest (address 10.88.0.12/24 not applied, link not up)" err &&
    grep -q "next boot configures it" err &&
    test "$(vm_field u1 ".nics[] | select(.ifname == \"eth4\") | .ip")" = 10.88.0.12/24 &&
    test "$(vm_field u1 .busy)" = null
'

test_done
