#!/bin/bash
# The four daemons: start, READY/STOPPING, ping/status, second instance,
# CLI exit codes.
. "$(dirname "$0")/lib.sh"

test_expect_success 'plugnet status exits 3 with a hint when the daemons are down' '
    test_expect_code 3 plugnet status >out 2>err &&
    grep -q "switchd *down" out &&
    grep -q "plugnet daemons start" err
'

test_expect_success 'a daemon sends READY=1 after binding, STOPPING=1 on SIGTERM' '
    mkfifo "$TEST_DIR/notify" &&
    exec 7<>"$TEST_DIR/notify" &&
    { pn-notify-run "$TEST_DIR/notify" plugnet-cfgdiskd & } &&
    read -r -t 20 line <&7 &&
    case "$line" in *READY=1*) ;; *) echo "first: $line"; false ;; esac &&
    [ -S "$PLUGNET_RUN_DIR/cfgdiskd.ctl" ] && [ -S "$PLUGNET_RUN_DIR/cfgdiskd.pub" ] &&
    plugnet call cfgdiskd ping >ping.json &&
    pid=$(sed -n "s/.*\"pid\":\([0-9]*\).*/\1/p" ping.json) &&
    kill -TERM "$pid" &&
    read -r -t 20 line <&7 &&
    case "$line" in *STOPPING=1*) ;; *) echo "second: $line"; false ;; esac &&
    read -r -t 20 line <&7 &&
    [ "$line" = "EXIT 0" ] &&
    exec 7<&-
'

test_expect_success 'plugnet daemons start brings up all four; status shows them' '
    pn_daemons_start >out &&
    test "$(grep -c started out)" = 4 &&
    plugnet status >st &&
    for svc in switchd vmd cfgdiskd agentd; do grep -q "^$svc *up *0\." st || return 1; done
'

test_expect_success 'status --json lists four daemons up' '
    plugnet status --json >st.json &&
    [ $(grep -o "\"state\":\"up\"" st.json | wc -l) = 4 ]
'

test_expect_success 'each daemon answers ping and status' '
    for svc in switchd vmd cfgdiskd agentd; do
        plugnet call $svc ping >p.json && grep -q "\"svc\":\"$svc\"" p.json &&
        plugnet call $svc status >s.json && grep -q "\"requests\":" s.json || return 1
    done
'

test_expect_success 'a second instance on the same RUN dir is refused with a clear message' '
    for svc in switchd vmd cfgdiskd agentd; do
        test_must_fail plugnet-$svc 2>err || return 1
        grep -q "another plugnet-$svc (pid [0-9]*) is already running" err || return 1
    done &&
    plugnet status >/dev/null
'

test_expect_success 'daemons start is idempotent' '
    plugnet daemons start >out &&
    test "$(grep -c "already running" out)" = 4
'

test_expect_success 'exit codes: 1 refused, 2 usage, 3 unreachable' '
    test_expect_code 1 plugnet call switchd no.such.op >/dev/null 2>err &&
    grep -q "unsupported: switchd has no op .no.such.op." err &&
    test_expect_code 2 plugnet frobnicate 2>/dev/null &&
    plugnet daemons stop agentd >/dev/null &&
    test_expect_code 3 plugnet call agentd ping 2>/dev/null &&
    test_expect_code 3 plugnet status >/dev/null 2>&1 &&
    plugnet daemons start agentd >/dev/null &&
    plugnet status >/dev/null
'

test_expect_success 'a request that gets no answer times out instead of hanging' '
    pid=$(plugnet call vmd ping | sed -n "s/.*\"pid\":\([0-9]*\).*/\1/p") &&
    kill -STOP $pid &&
    test_when_finished "kill -CONT $pid" &&
    start=$(date +%s%N) &&
    test_expect_code 3 plugnet --timeout 1 call vmd ping 2>err &&
    end=$(date +%s%N) &&
    grep -q "did not answer" err &&
    [ $(( (end - start) / 1000000 )) -lt 5000 ]
'

test_expect_success 'daemons stop stops all four' '
    { plugnet daemons stop >out 2>&1 || { cat out; false; }; } &&
    test "$(grep -c stopped out)" = 4 &&
    test_expect_code 3 plugnet status >/dev/null 2>&1
'

test_done
