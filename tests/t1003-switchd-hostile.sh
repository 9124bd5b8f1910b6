#!/bin/sh
# Hostile VDE control clients: bad magic, version 2, a short request left
# hanging, a 4 KiB description, a close in the middle of the handshake and
# 1000 connect/disconnect cycles.  Each is refused or closed, the log stays
# short (rate-limited), and a ping between two other ports never stops.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

A="pna$TEST_TAG" B="pnb$TEST_TAG"
LAN="$PLUGNET_RUN_DIR/lan/net1"
LOG="$PLUGNET_STATE_DIR/log/switchd.log"

test_expect_success ROOT,NETNS 'two namespaces ping through a LAN' '
    pn_daemons_start switchd &&
    plugnet lan add net1 &&
    sw_ns $A && sw_ns $B &&
    sw_tap_into net1 "ta$TEST_TAG" $A 10.33.0.1/24 >/dev/null &&
    sw_tap_into net1 "tb$TEST_TAG" $B 10.33.0.2/24 >/dev/null &&
    retry_until 10 sw_ping $A 10.33.0.2
'

test_expect_success ROOT,NETNS 'hostile clients are refused while the ping goes on' '
    ip netns exec $A ping -n -q -c 60 -i 0.1 -W 5 10.33.0.2 >ping.out 2>&1 &
    ppid=$!
    test_when_finished "test_kill $ppid"
    pn-swgen hostile "$LAN" badmagic &
    h1=$!
    pn-swgen hostile "$LAN" v2 &
    h2=$!
    pn-swgen hostile "$LAN" short &
    h3=$!
    pn-swgen hostile "$LAN" bigdescr &
    h4=$!
    pn-swgen hostile "$LAN" midclose &
    h5=$!
    pn-swgen cycles "$LAN" 1000 &&
    wait $h1 && wait $h2 && wait $h3 && wait $h4 && wait $h5 &&
    wait $ppid &&
    cat ping.out &&
    grep -q " 60 received, 0% packet loss" ping.out
'

test_expect_success ROOT,NETNS 'only the two tap ports remain, and the switch still answers' '
    test "$(plugnet --json port ls net1 | jq ".ports | length")" = 2 &&
    plugnet lan show net1 >/dev/null &&
    sw_ping $A 10.33.0.2
'

test_expect_success ROOT,NETNS 'each refusal is logged, naming the problem, and the log stays short' '
    grep -q "bad magic" "$LOG" &&
    grep -q "version" "$LOG" &&
    lines=$(wc -l <"$LOG") &&
    echo "log has $lines lines" &&
    test "$lines" -lt 200
'

test_expect_success 'switchd stops cleanly (no sanitizer report)' '
    sw_stop_clean
'

test_done
