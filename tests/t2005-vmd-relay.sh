#!/bin/bash
# vmd's monitor relays a UML guest's console and agent line without ever
# blocking on a write: every direction has a bounded queue and a side whose
# peer is full is simply not read.  So a console client that stops reading,
# or a guest console that stops taking input, holds up neither the agent
# line nor the other console clients, and the console log stays complete.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_lazy_prereq AGENT "the guest agent is not built" 'test -x "$PLUGNET_BUILD/bin/plugnet-agent"'
test_lazy_prereq SOCAT "socat is not installed" 'command -v socat'

CON="$PLUGNET_STATE_DIR/nodes/r1/console.sock"
LOG="$PLUGNET_STATE_DIR/nodes/r1/console.log"
PIDS=
test_atexit 'for p in $PIDS; do kill $p 2>/dev/null; done'

test_expect_success ROOT,NETNS,UML,AGENT,SOCAT 'a UML node with its agent up' '
    pn_image &&
    vm_daemons switchd cfgdiskd vmd agentd &&
    plugnet node add r1 --kind uml --start >/dev/null &&
    test "$(plugnet exec r1 --wait 120 -- hostname)" = r1 &&
    vm_console_wait r1 60 "plugnet: shell ready"
'

# A 1.4 KiB line, 3200 times: 4.4 MiB of console output, more than the
# relay queues for a client that stopped reading (4 MiB): it is dropped.
FILL=$(printf "%0700d" 0 | tr 0 x)$(printf "%0700d" 0 | tr 0 y)

test_expect_success ROOT,NETNS,UML,AGENT,SOCAT 'a console reader that stops reading holds up neither the agent nor another reader' '
    mkfifo stall && exec 7<>stall &&
    { socat -u "UNIX-CONNECT:$CON" - | tee stall.out >stall & } &&
    PIDS="$PIDS $!" &&
    { socat -u "UNIX-CONNECT:$CON" OPEN:reader.out,creat,append & } &&
    PIDS="$PIDS $!" &&
    retry_until 20 eval "plugnet exec r1 -- sh -c \"echo relay-hello >/dev/console\";
        grep -a -q relay-hello reader.out && grep -a -q relay-hello stall.out" &&
    plugnet exec r1 -- sh -c "i=0; while [ \$i -lt 3200 ]; do echo relay-fill-\$i-$FILL; i=\$((i+1)); done >/dev/console;
        echo relay-mark-one >/dev/console" &&
    test "$(timeout 30 plugnet exec r1 -- echo alive)" = alive &&
    wait_for_line 30 reader.out "relay-mark-one" &&
    wait_for_line 10 "$LOG" "relay-mark-one" &&
    # every line, in the log and at the reader (kernel messages may split
    # a line: count the distinct markers)
    test "$(grep -a -o "relay-fill-[0-9]*-x" "$LOG" | sort -u | wc -l)" = 3200 &&
    test "$(grep -a -o "relay-fill-[0-9]*-x" reader.out | sort -u | wc -l)" = 3200
'

# typed: how many typed lines the guest took (its tty echoes them into the
# log).  stalled: some, and then no more while the agent runs two execs;
# the typing client is still connected (not dropped).
typed() { grep -a -o relay-typed-line "$LOG" | wc -l; }
stalled() {
    kill -0 $typer && n_typed=$(typed) && test "$n_typed" -gt 0 &&
    plugnet exec r1 -- true && plugnet exec r1 -- true &&
    test "$(typed)" = "$n_typed"
}

test_expect_success ROOT,NETNS,UML,AGENT,SOCAT 'a guest console that stops taking input holds up neither the agent nor the log' '
    # The console shell sleeps; a client then types lines without end: the
    # guest tty fills and throttles, and UML stops reading its console.
    # (That takes milliseconds: the later execs run well after it.)
    printf "sleep 600\n" | socat -u - "UNIX-CONNECT:$CON" &&
    retry_until 30 eval "plugnet exec r1 -- ps >ps.out && grep -q \"[s]leep 600\" ps.out" &&
    { yes relay-typed-line | socat -u - "UNIX-CONNECT:$CON" & } &&
    typer=$! && PIDS="$PIDS $typer" &&
    # the console is stalled: typed lines reached the guest, then stopped
    retry_until 30 stalled &&
    for i in 1 2 3 4 5; do
        test "$(timeout 20 plugnet exec r1 -- echo alive-$i)" = alive-$i || return 1
    done &&
    # and it still is, its typist still connected
    test "$(typed)" = "$n_typed" && kill -0 $typer &&
    plugnet exec r1 -- sh -c "echo relay-mark-two >/dev/console" &&
    # (not at the start of a line: the tty echo of the typed lines stops anywhere)
    wait_for_line 30 "$LOG" "relay-mark-two"
'

test_done
