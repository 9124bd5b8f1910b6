#!/bin/bash
# vmd never waits on a guest from its loop: a UML nic.del that takes an
# interface down through the node's agent is held while the agent works,
# vmd answers everyone else meanwhile, and changes of that node answer busy
# naming it; the deadline and a node stopped meanwhile end it clearly.
# And vmd registers its running nodes with an agentd that appears later.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_lazy_prereq AGENT "the guest agent is not built" 'test -x "$PLUGNET_BUILD/bin/plugnet-agent"'

# The deadline of the guest's part of nic.del, shortened for the test.
PLUGNET_VMD_IFDOWN_MS=8000
# agentd is frozen (SIGSTOP) for seconds: when it runs again, it must not
# count the silence against the agents (nor knock on their consoles).
PLUGNET_AGENT_MISSES=100
PLUGNET_AGENT_KNOCK_MS=0
export PLUGNET_VMD_IFDOWN_MS PLUGNET_AGENT_MISSES PLUGNET_AGENT_KNOCK_MS

agentd_pid() { plugnet --json status | jq -r '.[] | select(.daemon == "agentd") | .pid'; }

# ifup NODE IFNAME ADDR: the NIC of that name in vmd's spec, configured and
# up in the guest (waiting there, bounded, for a hot-plugged one to appear).
ifup() {
    _mac=$(vm_field "$1" ".nics[] | select(.ifname == \"$2\") | .mac")
    plugnet exec "$1" -- sh -c "i=0; while [ \$i -lt 300 ]; do for p in /sys/class/net/*; do
        if [ \"\$(cat \$p/address)\" = $_mac ]; then { ip addr show dev \${p##*/} | grep -q \" $3 \" || ip addr add $3 dev \${p##*/}; } && ip link set \${p##*/} up; exit; fi
        done; usleep 100000; i=\$((i+1)); done; exit 1"
}

# fast CMD...: CMD succeeds within 3 s (vmd is not stuck).
fast() { timeout 3 "$@" >/dev/null; }

# nic_del_bg NODE IFNAME: nic del in the background ($TEST_DIR/bg.{rc,err});
# returns once vmd shows it in progress.
nic_del_bg() {
    rm -f "$TEST_DIR/bg.rc"
    { plugnet nic del "$1" "$2" >/dev/null 2>"$TEST_DIR/bg.err"; echo $? >"$TEST_DIR/bg.rc"; } &
    retry_until 10 sh -c "test \"\$(plugnet --json node show $1 | jq -r .busy)\" = \"nic.del $2\""
}
nic_del_bg_end() { retry_until "$1" test -s "$TEST_DIR/bg.rc" && test "$(cat "$TEST_DIR/bg.rc")" = "$2"; }

test_expect_success ROOT,UML,NETNS,AGENT 'daemons, a UML node and an ns node' '
    pn_image &&
    vm_daemons switchd cfgdiskd vmd agentd &&
    plugnet lan add lana >/dev/null &&
    plugnet lan add lanb >/dev/null &&
    plugnet lan add lanc >/dev/null &&
    plugnet node add u1 --kind uml --nic lana,ip=10.91.0.1/24 --start >/dev/null &&
    plugnet node add n1 --kind ns --nic lana,ip=10.91.0.9/24 --start >/dev/null &&
    plugnet exec u1 --wait 120 -- true
'

test_expect_success ROOT,UML,NETNS,AGENT 'nic del waits on a frozen agent channel: vmd answers everyone else meanwhile' '
    plugnet nic add u1 eth2 lanb --ip 10.92.0.1/24 >/dev/null &&
    m=$(vm_field u1 ".nics[] | select(.ifname == \"eth2\") | .mac") &&
    ifup u1 eth2 10.92.0.1/24 &&
    plugnet exec u1 -- ip -o link >links && grep -q "$m" links &&
    test "$(plugnet --json port ls lanb | jq ".ports | length")" = 1 &&
    apid=$(agentd_pid) &&
    kill -STOP "$apid" &&
    test_when_finished "kill -CONT $apid" &&
    nic_del_bg u1 eth2 &&
    # the loop is free: ping, reads, another node changed
    fast plugnet call vmd ping &&
    fast plugnet node ls &&
    fast plugnet nic add n1 eth3 lanc &&
    fast plugnet nic del n1 eth3 &&
    # changes of u1 wait, told what is in progress
    test_must_fail fast plugnet nic del u1 eth2 2>err &&
    grep -q "busy: node .u1. is busy: nic.del eth2 is in progress" err &&
    test_must_fail fast plugnet nic add u1 eth3 lanc 2>err &&
    grep -q "busy: node .u1. is busy: nic.del eth2" err &&
    test_must_fail fast plugnet node stop u1 2>err &&
    grep -q "busy: node .u1. is busy: nic.del eth2" err &&
    test "$(cat "$TEST_DIR/bg.rc" 2>/dev/null)" = "" &&
    kill -CONT "$apid" &&
    nic_del_bg_end 30 0 &&
    test "$(vm_field u1 ".nics | length")" = 2 &&
    test "$(vm_field u1 .busy)" = null &&
    test "$(plugnet --json port ls lanb | jq ".ports | length")" = 0 &&
    plugnet exec u1 -- ip -o link >links &&
    test_grep_not "$m" links
'

test_expect_success ROOT,UML,NETNS,AGENT 'an agent that never answers: nic del ends at its deadline with a clear error' '
    plugnet nic add u1 eth2 lanb --ip 10.92.0.1/24 >/dev/null &&
    ifup u1 eth2 10.92.0.1/24 &&
    apid=$(agentd_pid) &&
    kill -STOP "$apid" &&
    test_when_finished "kill -CONT $apid" &&
    nic_del_bg u1 eth2 &&
    fast plugnet call vmd ping &&
    nic_del_bg_end 30 1 &&
    grep -q "busy: cannot remove eth2 from node .u1.: eth2 is up in the guest.*unplugged from its LAN.*the agent did not answer within 8.0 s" "$TEST_DIR/bg.err" &&
    test "$(vm_field u1 .busy)" = null &&
    test "$(vm_field u1 ".nics | length")" = 3 &&
    kill -CONT "$apid" &&
    # once the agent answers again, the same nic del succeeds
    plugnet exec u1 --wait 30 -- true &&
    plugnet nic del u1 eth2 >/dev/null &&
    test "$(vm_field u1 ".nics | length")" = 2
'

test_expect_success ROOT,UML,NETNS,AGENT 'a node killed while its nic del waits: the nic del ends with an error saying so' '
    plugnet nic add u1 eth2 lanb --ip 10.92.0.1/24 >/dev/null &&
    ifup u1 eth2 10.92.0.1/24 &&
    apid=$(agentd_pid) &&
    kill -STOP "$apid" &&
    test_when_finished "kill -CONT $apid" &&
    nic_del_bg u1 eth2 &&
    plugnet node kill u1 >/dev/null &&
    nic_del_bg_end 30 1 &&
    grep -q "unavailable: node .u1. was killed while nic.del eth2 was in progress: eth2 stays in its spec" "$TEST_DIR/bg.err" &&
    test "$(vm_field u1 .state)" = stopped &&
    test "$(vm_field u1 .busy)" = null &&
    kill -CONT "$apid" &&
    plugnet nic del u1 eth2 >/dev/null &&
    test "$(vm_field u1 ".nics | length")" = 2
'

# registered NODE / unregistered NODE: agentd answered agent.ls, and holds
# a registration of NODE / holds none.
agents_has() {
    plugnet --json call agentd agent.ls >"$TEST_DIR/agents.json" &&
    jq -e --arg n "$1" "any(.agents[]; .node == \$n) == $2" "$TEST_DIR/agents.json" >/dev/null
}
registered() { agents_has "$1" true; }
unregistered() { agents_has "$1" false; }

test_expect_success ROOT,UML,NETNS,AGENT 'agentd started after vmd (its registrations lost): every running node gets registered' '
    plugnet daemons stop agentd >/dev/null &&
    # u1 and n2 start while agentd is away; n1 was registered, but the
    # new agentd will not know it
    plugnet node start u1 >/dev/null &&
    plugnet node add n2 --kind ns --nic lana,ip=10.91.0.8/24 --start >/dev/null &&
    rm -f "$PLUGNET_STATE_DIR/agentd/agents" &&
    plugnet daemons start agentd >/dev/null &&
    retry_until 10 registered u1 &&
    retry_until 10 registered n1 &&
    retry_until 10 registered n2 &&
    plugnet exec u1 --wait 120 -- true &&
    test "$(plugnet exec n1 --wait 60 -- hostname)" = n1 &&
    test "$(plugnet exec n2 --wait 60 -- hostname)" = n2
'

test_expect_success ROOT,UML,NETNS,AGENT 'a registration agentd kept for a node vmd stopped meanwhile is dropped' '
    plugnet daemons stop agentd >/dev/null &&
    plugnet node stop n2 >/dev/null &&
    plugnet daemons start agentd >/dev/null &&
    retry_until 10 unregistered n2 &&
    registered n1 &&
    test "$(plugnet exec n1 -- hostname)" = n1
'

test_done
