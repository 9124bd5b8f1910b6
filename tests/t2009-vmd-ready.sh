#!/bin/bash
# Started means reachable: `plugnet node start --wait NODE` returns once the
# node is ready (its config done and its agent up), so the next exec works
# without waiting at all (`--wait 0`) -- for every kind, boot after boot.
# And exec/cp/shell on a node that is still booting wait for its agent by
# default, while an agent that was up and went away fails at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"
cd "$TEST_DIR" || exit 1


test_expect_success ROOT 'image and the four daemons' '
    pn_image &&
    pn_daemons_start &&
    plugnet lan add lan1 >/dev/null
'

# ready_exec NODE ROUNDS: start the node with --wait, exec into it at once
# without any agent wait, stop it; ROUNDS times.
ready_exec() {
    _i=0
    while [ $_i -lt "$2" ]; do
        _i=$((_i + 1))
        plugnet node start --wait=180 "$1" >start.out 2>start.err || { echo "round $_i: start failed"; cat start.err; return 1; }
        test "$(plugnet exec --wait 0 "$1" -- hostname)" = "$1" || { echo "round $_i: exec failed"; return 1; }
        grep -q "^$1 ready in [0-9.]*s (agent up)\$" start.out || { echo "round $_i: no summary"; cat start.out; return 1; }
        plugnet node stop "$1" >/dev/null || return 1
    done
}

test_expect_success ROOT,NETNS 'ns: node start --wait, then exec at once, five times' '
    plugnet node add n1 --kind ns --nic lan1,ip=10.95.0.1/24 -- sleep infinity >/dev/null &&
    ready_exec n1 5
'

test_expect_success ROOT,UML 'uml: node start --wait, then exec at once, four times' '
    plugnet node add u1 --kind uml --nic lan1,ip=10.95.0.2/24 >/dev/null &&
    ready_exec u1 4
'

test_expect_success ROOT,QEMU 'qemu: node start --wait, then exec at once, twice' '
    plugnet node add q1 --kind qemu --nic lan1,ip=10.95.0.3/24 >/dev/null &&
    ready_exec q1 2
'

test_expect_success ROOT,UML 'the documented pair: node start --wait NODE && exec NODE -- true; --json says how' '
    plugnet node start --wait u1 >/dev/null &&
    plugnet exec u1 -- true &&
    plugnet node stop u1 >/dev/null &&
    plugnet --json node start --wait u1 >out &&
    test "$(jq -r .booted out)" = agent &&
    test "$(jq -r .state out)" = running &&
    test "$(jq -r ".agent_ms >= .config_ms" out)" = true &&
    plugnet exec --wait 0 u1 -- true
'

test_expect_success ROOT,UML 'exec right after a plain node start waits for the agent of the booting node' '
    plugnet node stop u1 >/dev/null &&
    plugnet node start u1 >out &&
    test ! -s out &&
    test "$(plugnet exec u1 -- hostname)" = u1
'

test_expect_success ROOT,UML 'cp right after a plain node start waits too' '
    plugnet node stop u1 >/dev/null &&
    echo payload >p &&
    plugnet node start u1 >/dev/null &&
    plugnet cp p u1:/tmp/p &&
    test "$(plugnet exec --wait 0 u1 -- cat /tmp/p)" = payload
'

_t_agent_down() {
    ag-call agentd agent.ls | tr "{" "\n" | grep "\"node\":\"$1\"" | grep -q "\"state\":\"down\""
}

test_expect_success ROOT,NETNS 'an agent that was up and went away: exec fails at once (no boot wait)' '
    plugnet node start --wait n1 >/dev/null &&
    pkill -KILL -f "plugnet-agent --listen $PLUGNET_STATE_DIR/nodes/n1/agent.sock" &&
    # once agentd has seen it go (an exec racing the EOF gets "channel read failed")
    retry_until 10 _t_agent_down n1 &&
    { plugnet exec n1 -- true 2>err; rc=$?; cat err; echo "exit $rc"; test $rc = 255; } &&
    grep -q "the agent of node n1 is down" err
'

test_expect_success ROOT,UML 'a node that is not ready within --wait: the reason (agentd says why) and its console' '
    plugnet node stop u1 >/dev/null &&
    { plugnet node start --wait=0.3 u1 >out 2>err; test $? = 1; } &&
    grep -q "^plugnet: node .u1. did not finish booting within 0.3s (it is running.*its agent is not up (agentd: " err &&
    grep -q -e "last console lines:" -e "its console (.*) stayed silent" err
'

test_done
