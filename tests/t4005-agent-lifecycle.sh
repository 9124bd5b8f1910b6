#!/bin/sh
# The life of an agent as agentd sees it: up and down events, keepalive,
# reconnects after the agent restarts (a guest reboot, for an ns node),
# waiting for an agent, unregistering, and a node that cut all its network.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1

# The default keepalive (1 s, 5 misses): shorter ones see a busy CI
# machine as a dead agent.
test_lazy_prereq IPTABLES "iptables is not installed" 'command -v iptables'

test_expect_success ROOT,NETNS 'agent.up is published with the version and the time from node start' '
    pn_daemons_start agentd &&
    ag_events_start &&
    ag_ns_node n1 &&
    retry_until 10 ag_events_count 1 up &&
    ag_events up | grep -q "\"node\":\"n1\"" &&
    ag_events up | grep -q "\"version\":\"0.1.0\"" &&
    ag_events up | grep -q "\"boot_ms\":"
'

test_expect_success ROOT,NETNS 'the agent dies: down with a reason; it comes back: up, exec works' '
    ag_ns_agent_kill n1 &&
    retry_until 10 eval "ag_events down | grep -q \"channel closed\"" &&
    [ "$(ag_state n1)" = down ] &&
    { plugnet exec n1 true 2>err; [ $? = 255 ]; } && grep -q "is down" err &&
    ag_ns_agent_start n1 &&
    plugnet exec --wait 10 n1 -- echo back >out && [ "$(cat out)" = back ]
'

test_expect_success ROOT,NETNS 'a frozen agent misses its keepalives: down, then up when it thaws' '
    ups=$(ag_events up | wc -l) &&
    kill -STOP "$(cat n1.agent.pid)" &&
    test_when_finished "kill -CONT $(cat n1.agent.pid)" &&
    retry_until 20 eval "ag_events down | tail -n1 | grep -q keepalive" &&
    [ "$(ag_state n1)" = down ] &&
    kill -CONT "$(cat n1.agent.pid)" &&
    retry_until 20 ag_events_count $((ups + 1)) up &&
    [ "$(plugnet exec --wait 10 n1 -- echo thawed)" = thawed ]
'

test_expect_success ROOT,NETNS 'a session open when the agent goes away ends with an error' '
    plugnet exec n1 -- sleep 4343 2>err &
    cli=$! &&
    retry_until 10 pgrep -f "^sleep 4343\$" >/dev/null &&
    ag_ns_agent_kill n1 &&
    { wait $cli; [ $? = 255 ]; } && grep -q "n1" err &&
    retry_until 10 test_expect_code 1 pgrep -f "^sleep 4343\$" >/dev/null
'

test_expect_success ROOT,NETNS 'exec --wait waits for the agent to come up' '
    st=$(ag_state n1) && { [ "$st" = down ] || { echo "state: $st"; ag-call agentd agent.ls; false; }; } &&
    { plugnet exec --wait 20 n1 -- echo waited >out 2>err & } &&
    cli=$! &&
    ag_ns_agent_start n1 &&
    { wait $cli && [ "$(cat out)" = waited ]; } || { cat out err; false; }
'

test_expect_success ROOT,NETNS,IPTABLES 'exec and cp still work after the node cut every interface and drops all IP' '
    ns=pn${TEST_TAG}n1 &&
    ip netns exec $ns ip link add d0 type veth peer name d1 &&
    ip netns exec $ns ip addr add 10.99.0.1/24 dev d0 &&
    ip netns exec $ns ip link set d0 up &&
    ip netns exec $ns ip -o addr show >addrs && grep -q "d0 *inet 10.99.0.1/24" addrs &&
    plugnet exec n1 -- sh -c "for i in \$(ls /sys/class/net); do ip addr flush dev \$i && ip link set \$i down || exit 1; done" &&
    plugnet exec n1 -- sh -c "iptables -P INPUT DROP && iptables -P OUTPUT DROP && iptables -P FORWARD DROP && iptables -F" &&
    ip netns exec $ns ip -o addr show >addrs &&
    test_grep_not inet addrs &&
    [ "$(plugnet exec n1 -- iptables -S | head -n1)" = "-P INPUT DROP" ] &&
    echo payload >p && plugnet cp p n1:$TEST_DIR/p.copy && cmp p p.copy
'

test_expect_success ROOT,NETNS 'agent.unregister: down with the reason, then no such node' '
    ag-call agentd agent.unregister node=n1 >/dev/null &&
    retry_until 10 eval "ag_events down | tail -n1 | grep -q unregistered" &&
    { plugnet exec n1 true 2>err; [ $? = 255 ]; } && grep -q "no agent registered" err &&
    { ag-call agentd agent.unregister node=n1 2>err; [ $? = 1 ]; } && grep -q not_found err
'

test_expect_success ROOT,NETNS 'agentd restarts: the agent answers the new agentd' '
    plugnet daemons stop agentd >/dev/null &&
    plugnet daemons start agentd >/dev/null &&
    ag-call agentd agent.register node=n1 kind=ns path="$TEST_DIR/n1.sock" >/dev/null &&
    ag-call -t 20000 agentd agent.wait node=n1 timeout_ms:=15000 >/dev/null &&
    [ "$(plugnet exec n1 -- echo again)" = again ]
'

test_done
