#!/bin/bash
# agentd keeps its registrations (STATE/agentd/agents): killed with SIGKILL
# and started again, it reconnects to every agent without anyone
# registering them again; unregistered nodes stay gone; a damaged file
# costs the registrations, not the daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1

agd_pid() { plugnet --json call agentd ping | jq -r .pid; }

test_expect_success ROOT,NETNS 'two ns nodes with agents registered' '
    pn_daemons_start agentd &&
    ag_ns_node n1 && ag_ns_node n2 &&
    ag-call -t 20000 agentd agent.wait node=n1 timeout_ms:=15000 >/dev/null &&
    ag-call -t 20000 agentd agent.wait node=n2 timeout_ms:=15000 >/dev/null &&
    [ -f "$PLUGNET_STATE_DIR/agentd/agents" ]
'

test_expect_success ROOT,NETNS 'kill -9 agentd: the new one knows both nodes and reaches their agents' '
    kill -9 "$(agd_pid)" &&
    plugnet daemons start agentd >/dev/null &&
    ag-call -t 20000 agentd agent.wait node=n1 timeout_ms:=15000 >/dev/null &&
    ag-call -t 20000 agentd agent.wait node=n2 timeout_ms:=15000 >/dev/null &&
    [ "$(plugnet exec n1 -- echo back)" = back ] &&
    grep -q "registered 2 agents again" "$PLUGNET_STATE_DIR/log/agentd.log"
'

test_expect_success ROOT,NETNS 'an unregistered node does not come back after a restart' '
    ag-call agentd agent.unregister node=n2 >/dev/null &&
    plugnet daemons stop agentd >/dev/null &&
    plugnet daemons start agentd >/dev/null &&
    ag-call -t 20000 agentd agent.wait node=n1 timeout_ms:=15000 >/dev/null &&
    ag-call agentd agent.ls >ls.json &&
    jq -e "any(.agents[]; .node == \"n1\")" ls.json >/dev/null &&
    jq -e "any(.agents[]; .node == \"n2\") | not" ls.json >/dev/null
'

test_expect_success ROOT,NETNS 'a damaged registrations file costs the registrations, not agentd' '
    plugnet daemons stop agentd >/dev/null &&
    printf "\301 not msgpack" >"$PLUGNET_STATE_DIR/agentd/agents" &&
    plugnet daemons start agentd >/dev/null &&
    plugnet call agentd ping >/dev/null &&
    grep -q "cannot load .*agentd/agents" "$PLUGNET_STATE_DIR/log/agentd.log" &&
    ag-call agentd agent.ls >ls.json &&
    jq -e ".agents == []" ls.json >/dev/null
'

test_done
