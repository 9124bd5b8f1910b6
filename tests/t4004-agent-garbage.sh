#!/bin/sh
# Bad input on every link: noise between frames, damaged and lost frames,
# hostile peers on both ends of the channel, garbage on the CLI stream
# socket, and a guest flooding stdout at a reader that does not read.
# Nobody crashes, sessions that were hit end with a reason, and memory stays
# bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1

test_lazy_prereq PYTHON3 "python3 is not installed" 'command -v python3'
PEER="python3 $PLUGNET_SRC/tests/ag-peer.py"

# ag_noisy NAME ARGS...: register NAME behind ag-noise ARGS, in front of
# n1's agent (the agent serves one host at a time: n1 is unregistered).
ag_noisy() {
    _nn=$1; shift
    ag-noise "$@" "$TEST_DIR/$_nn.sock" "$TEST_DIR/n1.sock" 2>>"$TEST_DIR/noise.log" &
    echo $! >"$TEST_DIR/$_nn.noise.pid"
    test_atexit "kill \$(cat $TEST_DIR/$_nn.noise.pid) 2>/dev/null"
    retry_until 10 test -S "$TEST_DIR/$_nn.sock" &&
    ag-call agentd agent.register node="$_nn" kind=ns path="$TEST_DIR/$_nn.sock" >/dev/null &&
    ag-call -t 20000 agentd agent.wait node="$_nn" timeout_ms:=15000 >/dev/null
}
ag_unnoisy() {
    ag-call agentd agent.unregister node="$1" >/dev/null &&
    kill "$(cat "$TEST_DIR/$1.noise.pid")"
}

test_expect_success ROOT,NETNS 'setup: agentd and an ns agent' '
    pn_daemons_start agentd &&
    ag_ns_node n1 &&
    head -c 10485760 /dev/urandom >r10 && sha256sum <r10 >r10.sum &&
    ag-call agentd agent.unregister node=n1 >/dev/null
'

test_expect_success ROOT,NETNS 'noise between every frame: resync, 10 MiB intact' '
    ag_noisy nz --between 61 &&
    plugnet exec nz -- cat <r10 | sha256sum >got &&
    test_cmp r10.sum got &&
    [ "$(ag_field nz garbage)" -gt 10000 ] &&
    [ "$(ag_state nz)" = up ] &&
    ag_unnoisy nz
'

test_expect_success ROOT,NETNS 'a damaged frame ends its session with a reason; the agent serves on' '
    ag_noisy nc --corrupt 3 &&
    { plugnet exec nc -- cat <r10 >/dev/null 2>err; [ $? = 255 ]; } &&
    grep -q "damaged" err &&
    [ "$(plugnet exec nc -- echo fine)" = fine ] &&
    [ "$(ag_state nc)" = up ] &&
    ag_unnoisy nc
'

test_expect_success ROOT,NETNS 'a lost frame ends the sessions with a reason; the agent serves on' '
    ag_noisy nd --drop 4 &&
    { plugnet exec nd -- cat <r10 >/dev/null 2>err; [ $? = 255 ]; } &&
    grep -q "lost" err &&
    [ "$(plugnet exec nd -- echo fine)" = fine ] &&
    ag_unnoisy nd
'

test_expect_success ROOT,NETNS,PYTHON3 'a hostile host on the agent socket: the agent resyncs and answers hello' '
    $PEER agent "$TEST_DIR/n1.sock" &&
    ag-call agentd agent.register node=n1 kind=ns path="$TEST_DIR/n1.sock" >/dev/null &&
    ag-call -t 20000 agentd agent.wait node=n1 timeout_ms:=15000 >/dev/null &&
    [ "$(plugnet exec n1 -- echo alive)" = alive ]
'

test_expect_success ROOT,NETNS,PYTHON3 'a hostile agent: agentd skips its garbage and keeps serving' '
    $PEER serve "$TEST_DIR/fake.sock" &
    echo $! >fake.pid && test_when_finished "test_kill \$(cat fake.pid)" &&
    retry_until 10 test -S fake.sock &&
    ag-call agentd agent.register node=fake kind=qemu path="$TEST_DIR/fake.sock" >/dev/null &&
    ag-call -t 20000 agentd agent.wait node=fake timeout_ms:=15000 >info &&
    grep -q "\"version\":\"ag-peer\"" info &&
    [ "$(ag_field fake garbage)" -gt 100000 ] &&
    ag-call agentd ping >/dev/null &&
    [ "$(plugnet exec n1 -- echo still)" = still ] &&
    ag-call agentd agent.unregister node=fake >/dev/null
'

test_expect_success ROOT,NETNS,PYTHON3 'garbage on the CLI stream socket: agentd hangs up on it' '
    $PEER stream "$PLUGNET_RUN_DIR/agentd.stream" &&
    ag-call agentd ping >/dev/null &&
    [ "$(plugnet exec n1 -- echo still)" = still ]
'

test_expect_success ROOT,NETNS 'a guest flooding stdout at a stalled reader: bounded memory' '
    mkfifo stall && exec 7<>stall &&
    plugnet exec n1 -- cat /dev/zero >stall 2>/dev/null &
    cli=$! &&
    test_when_finished "kill $cli 2>/dev/null; exec 7>&-" &&
    last=x &&
    retry_until 30 eval "cur=\$(ag_field n1 rx_bytes); [ \$cur -gt 200000 ] && [ \$cur = \$last ] || { last=\$cur; false; }" &&
    [ "$cur" -lt 16777216 ] &&
    rss=$(awk "/^VmRSS:/ { print \$2 }" /proc/$(cat "$PLUGNET_RUN_DIR/agentd.lock")/status) &&
    echo "rx_bytes=$cur agentd rss=${rss} kB" &&
    [ "$rss" -lt 65536 ]
'

test_done
