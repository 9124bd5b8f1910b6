#!/bin/bash
# The event bus: plugnet events sees daemon events, human and JSON.
. "$(dirname "$0")/lib.sh"

test_expect_success 'start the daemons' 'pn_daemons_start >/dev/null'

# Start a listener, wait until it says it is subscribed, then act.
listen() {
    out=$1; shift
    mkfifo "$TEST_DIR/ready.$out" &&
    { plugnet events "$@" >"$out" 2>"$TEST_DIR/ready.$out" & } &&
    listener=$! &&
    read -r -t 10 line <"$TEST_DIR/ready.$out" &&
    [ "$line" = "# subscribed" ]
}

# A daemon publishes daemon.started the moment it is ready, before any
# subscriber can have connected to its new socket, so listeners here
# watch daemons that are already up stop.  Every listener has a deadline.
test_expect_success 'events shows a daemon stopping' '
    listen ev.txt -n 1 --timeout 20 switchd.daemon &&
    plugnet daemons stop switchd >/dev/null &&
    wait $listener &&
    grep -q "switchd.daemon *daemon.stopping" ev.txt &&
    plugnet daemons start switchd >/dev/null
'

test_expect_success 'events --json emits one containerlab-shaped object per line' '
    listen ev.json --json -n 2 --timeout 20 &&
    plugnet daemons stop cfgdiskd switchd >/dev/null &&
    wait $listener &&
    plugnet daemons start >/dev/null &&
    [ $(wc -l <ev.json) = 2 ] &&
    python3 -c "
import json,sys
for line in open(\"ev.json\"):
    o = json.loads(line)
    for k in (\"timestamp\", \"type\", \"action\", \"actor\", \"attributes\"):
        assert k in o, k
    assert o[\"type\"] == \"daemon\"
    assert o[\"action\"] == \"stopping\"
"
'

test_expect_success 'a topic filter only lets matching events through' '
    listen ev2.txt -n 1 --timeout 20 vmd &&
    plugnet daemons stop agentd >/dev/null &&
    plugnet daemons stop vmd >/dev/null &&
    wait $listener &&
    plugnet daemons start >/dev/null &&
    ! grep -q agentd ev2.txt && grep -q "^.* vmd.daemon" ev2.txt
'

test_done
