#!/bin/sh
# A LAN without impairments loses nothing: a thousand echo requests and
# their replies cross two tap ports in a flood, every one arrives, and the
# counters agree frame for frame.  (Catches a port that silently drops a
# frame now and then, which a ping of five never would.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

A="pnla$TEST_TAG" B="pnlb$TEST_TAG"

test_expect_success ROOT,NETNS 'two namespaces on tap ports of one LAN' '
    pn_daemons_start switchd &&
    plugnet lan add lossless &&
    sw_ns $A && sw_ns $B &&
    pa=$(sw_tap_into lossless "la$TEST_TAG" $A 10.32.0.1/24) &&
    pb=$(sw_tap_into lossless "lb$TEST_TAG" $B 10.32.0.2/24) &&
    test "$pa" = 1 && test "$pb" = 2 &&
    retry_until 10 sw_ping $A 10.32.0.2
'

test_expect_success ROOT,NETNS 'a flood of 1000 echo requests gets 1000 replies' '
    plugnet --json stats lossless >s0.json &&
    ip netns exec $A ping -n -q -f -c 1000 -W 5 10.32.0.2 >ping.out &&
    plugnet --json stats lossless >s1.json &&
    sed "s/^/# /" ping.out &&
    grep -q "^1000 packets transmitted, 1000 received," ping.out
'

# Deltas: the host may have sent on the taps before they reached their
# namespaces.  switchd forwards a frame in the loop iteration that read
# it, so between two stats calls what one port received the other sent.
delta() {
    echo $(( $(jq ".ports[] | select(.port == $1) | .$2" s1.json) -
             $(jq ".ports[] | select(.port == $1) | .$2" s0.json) ))
}
test_expect_success ROOT,NETNS 'what one port received the other sent, frame for frame, none dropped' '
    rx1=$(delta 1 rx_frames) && tx1=$(delta 1 tx_frames) &&
    rx2=$(delta 2 rx_frames) && tx2=$(delta 2 tx_frames) &&
    echo "port 1 rx $rx1 tx $tx1, port 2 rx $rx2 tx $tx2" &&
    test "$rx1" -ge 1000 && test "$rx2" -ge 1000 &&
    test "$rx1" = "$tx2" && test "$rx2" = "$tx1" &&
    test "$(delta 1 rx_bytes)" = "$(delta 2 tx_bytes)" &&
    test "$(delta 2 rx_bytes)" = "$(delta 1 tx_bytes)" &&
    test "$(jq "[.ports[].drops[]] | add" s1.json)" = 0
'

test_done
