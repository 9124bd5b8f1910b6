#!/bin/sh
# A UML guest stalled by its host (its kernel's processes stopped) in the
# middle of a large `plugnet cp`: a stall shorter than agentd's deadline
# costs nothing (the cp completes intact, the agent never goes down); a
# longer one brings the agent down once, with the reason in agentd's log,
# and it comes back up by itself when the guest runs again: no knock storm,
# and exec and cp work.  Before issue 12 the first stall killed the session
# at 5 s, and a longer one killed the line for good: agentd's keepalives
# piled up in the stalled guest's serial line, overflowed its tty when it
# ran again, and UML's line driver stopped reading (docs/AGENT.md,
# "Liveness").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1
ag_need_image

# agentd's defaults (keepalive 1 s, deadline floor 12 s, knock after 10 s
# down), said out loud: the stalls below are sized against them.
unset PLUGNET_AGENT_KEEPALIVE_MS PLUGNET_AGENT_MISSES
export PLUGNET_AGENT_KNOCK_MS=10000
SHORT=8  # longer than the old 5 s deadline, shorter than the floor
LONG=25  # past the deadline, and long enough that the old keepalives overflowed the tty

# in_flight NODE: the cp is moving (agentd wrote 256 KiB more since $tx0).
in_flight() { [ "$(ag_field "$1" tx_bytes)" -gt $((tx0 + 262144)) ]; }
# count PATTERN FILE: lines holding PATTERN (0 too is an answer).
count() { awk -v p="$1" 'index($0, p) { c++ } END { print c + 0 }' "$2"; }
# ups NODE / downs NODE / knocks NODE: how many so far.
ups() { count "\"action\":\"up\",\"actor\":{\"id\":\"$1\"" "$TEST_DIR/events"; }
downs() { count "\"action\":\"down\",\"actor\":{\"id\":\"$1\"" "$TEST_DIR/events"; }
knocks() { count "$1: knocking" "$PLUGNET_STATE_DIR/log/agentd.log"; }
# guest_sha NODE PATH
guest_sha() { plugnet exec "$1" -- sha256sum "$2" | cut -d" " -f1; }

test_expect_success ROOT,IMAGE,UML 'a UML guest up over its serial line; its kernel can be told from its processes' '
    pn_daemons_start agentd &&
    ag_events_start &&
    ag_uml_boot u1 &&
    ag_wait_up u1 &&
    plugnet exec u1 -- true &&
    k=$(ag_uml_kernel_pids u1) && [ -n "$k" ] &&
    [ "$(ag_field u1 deadline_ms)" -ge 12000 ]
'

test_expect_success ROOT,IMAGE,UML "frozen ${SHORT} s in the middle of a 6 MiB cp: the cp completes intact, the agent never goes down" '
    head -c 6291456 /dev/urandom >blob &&
    [ "$(ups u1)" = 1 ] && [ "$(downs u1)" = 0 ] &&
    want=$(sha256sum <blob | cut -d" " -f1) &&
    d0=$(downs u1) &&
    tx0=$(ag_field u1 tx_bytes) &&
    { plugnet cp blob u1:/tmp/blob >cp.out 2>&1 & cpid=$!; } &&
    retry_until 30 in_flight u1 &&
    ag_uml_freeze u1 &&
    test_when_finished "ag_uml_thaw u1" &&
    sleep 1 && rx1=$(ag_field u1 rx_bytes) &&
    sleep $((SHORT - 1)) && rx2=$(ag_field u1 rx_bytes) &&
    quiet=$(ag_field u1 quiet_ms) && unans=$(ag_field u1 unanswered) &&
    ag_uml_thaw u1 &&
    echo "frozen: rx $rx1 -> $rx2, quiet $quiet ms, $unans control bytes unacknowledged" &&
    [ "$rx1" = "$rx2" ] && [ "$quiet" -gt 6000 ] && [ "$unans" -le 768 ] &&
    { wait $cpid || { cat cp.out; false; }; } &&
    [ "$(guest_sha u1 /tmp/blob)" = "$want" ] &&
    [ "$(downs u1)" = "$d0" ] &&
    [ "$(ag_state u1)" = up ] &&
    plugnet exec u1 -- rm /tmp/blob
'

test_expect_success ROOT,IMAGE,UML "frozen ${LONG} s mid-cp, execs queued: down once with the reason, all fail clearly, the agent comes back by itself" '
    d0=$(downs u1) && u0=$(ups u1) && k0=$(knocks u1) &&
    tx0=$(ag_field u1 tx_bytes) &&
    { plugnet cp blob u1:/tmp/blob2 >cp2.out 2>&1 & cpid=$!; } &&
    retry_until 30 in_flight u1 &&
    ag_uml_freeze u1 &&
    test_when_finished "ag_uml_thaw u1" &&
    for i in 1 2 3 4 5 6 7 8 9 10; do
        { plugnet exec u1 -- echo queued$i >q$i.out 2>&1; echo $? >q$i.rc; } &
    done &&
    sleep $LONG &&
    unans=$(ag_field u1 unanswered) && state=$(ag_state u1) &&
    ag_uml_thaw u1 &&
    echo "after ${LONG} s frozen: $state, $unans control bytes unacknowledged" &&
    [ "$state" = down ] && [ "$unans" -le 768 ] &&
    { wait $cpid; rc=$?; cat cp2.out; [ $rc = 1 ]; } &&
    for i in 1 2 3 4 5 6 7 8 9 10; do
        retry_until 30 test -s q$i.rc &&
        case $(cat q$i.rc) in
        0) grep -qx "queued$i" q$i.out ;;
        255) grep -q "the session on node u1 ended: keepalive" q$i.out ;;
        *) false ;;
        esac || { echo "exec $i: status $(cat q$i.rc)"; cat q$i.out; return 1; }
    done &&
    grep -q "the session on node u1 ended: keepalive: no answer for [0-9]* ms (deadline [0-9]* ms)" cp2.out &&
    retry_until 30 eval "[ \$(ups u1) -gt $u0 ]" &&
    [ "$(plugnet exec u1 -- echo alive)" = alive ] &&
    head -c 262144 /dev/urandom >small && plugnet cp small u1:/tmp/small &&
    [ "$(guest_sha u1 /tmp/small)" = "$(sha256sum <small | cut -d" " -f1)" ] &&
    [ "$(plugnet exec u1 -- echo still)" = still ] &&
    [ "$(downs u1)" = $((d0 + 1)) ] &&
    [ "$(knocks u1)" -le $((k0 + 1)) ] &&
    [ "$(ag_state u1)" = up ]
'

test_expect_success ROOT,IMAGE,UML 'agentd logged why it declared the agent down: the rule, the silence, the last frames, queues and credit' '
    log=$PLUGNET_STATE_DIR/log/agentd.log &&
    grep "u1: declaring the agent down: " "$log" >why &&
    [ "$(wc -l <why)" = 1 ] &&
    grep -q "rule: no byte from the agent for [0-9]* ms, deadline [0-9]* ms (floor 12 x 1000 ms, srtt [0-9]* ms" why &&
    grep -q "received: [a-z]*/[0-9]* [0-9]* ms ago" why &&
    grep -q "sent: [a-z]*/[0-9]* [0-9]* ms ago" why &&
    grep -q "queued [0-9]* bulk + [0-9]* urgent bytes, [0-9]* control bytes unacknowledged (serial line)" why &&
    grep -q "; 11 sessions, credit toward the agent [0-9]*, stdin waiting for credit [0-9]*" why
'

test_done
