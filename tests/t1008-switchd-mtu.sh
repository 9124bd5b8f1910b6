#!/bin/sh
# Frame sizes: runts (< 14 bytes) and frames over mtu + 18 are dropped and
# counted per cause; a jumbo LAN carries 9000-byte frames between taps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

A="pna$TEST_TAG" B="pnb$TEST_TAG"

vde_port() { plugnet --json port ls "$1" | jq '.ports[] | select(.kind == "vde") | .port'; }

test_expect_success ROOT 'runts and oversize frames are dropped and counted' '
    pn_daemons_start switchd &&
    plugnet lan add net1 &&
    plugnet port add-tap net1 "tz$TEST_TAG" >/dev/null &&
    mkfifo hold &&
    { pn-swgen send "$PLUGNET_RUN_DIR/lan/net1" 0 5 13 14 60 1518 1519 9000 <hold >send.out & } &&
    spid=$! &&
    exec 7>hold &&
    test_when_finished "exec 7>&-; test_kill $spid" &&
    retry_until 10 grep -q sent send.out &&
    p=$(vde_port net1) &&
    retry_until 10 eval "test \"\$(sw_stat net1 $p rx_frames)\" = 3" &&
    plugnet --json stats net1 >s.json &&
    jq -c ".ports[] | select(.port == $p)" s.json &&
    test "$(sw_stat net1 $p drops.runt)" = 3 &&
    test "$(sw_stat net1 $p drops.oversize)" = 2 &&
    test "$(sw_stat net1 $p rx_bytes)" = $((14 + 60 + 1518))
'

test_expect_success ROOT,NETNS 'a jumbo LAN carries 9000-byte frames between taps' '
    plugnet lan add jumbo --mtu 9000 &&
    sw_ns $A && sw_ns $B &&
    sw_tap_into jumbo "ta$TEST_TAG" $A 10.38.0.1/24 >/dev/null &&
    sw_tap_into jumbo "tb$TEST_TAG" $B 10.38.0.2/24 >/dev/null &&
    test "$(ip -n $A -j link show "ta$TEST_TAG" | jq ".[0].mtu")" = 9000 &&
    retry_until 10 sw_ping $A 10.38.0.2 &&
    ip netns exec $A ping -n -c 3 -i 0.2 -W 2 -M do -s 8972 10.38.0.2 &&
    ! ip netns exec $A ping -n -c 1 -W 1 -M do -s 8973 10.38.0.2
'

test_expect_success ROOT,NETNS 'a 1500 LAN refuses what a bigger MTU inside a namespace sends' '
    plugnet lan add small &&
    sw_tap_into small "tc$TEST_TAG" $A 10.39.0.1/24 >/dev/null &&
    sw_tap_into small "td$TEST_TAG" $B 10.39.0.2/24 >/dev/null &&
    retry_until 10 sw_ping $A 10.39.0.2 &&
    ip -n $A link set "tc$TEST_TAG" mtu 4000 &&
    ! ip netns exec $A ping -n -c 1 -W 1 -M do -s 3000 10.39.0.2 &&
    test "$(sw_stat small 1 drops.oversize)" -ge 1
'

test_done
