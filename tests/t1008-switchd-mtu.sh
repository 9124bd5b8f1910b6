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

# rx_bytes NS IFNAME: what the interface has received so far.
rx_bytes() { ip -n "$1" -j -s link show "$2" | jq -e ".[0].stats64.rx.bytes"; }

# switchd_drops_oversize LAN PORT NS IFNAME SIZE DST NS2 IFNAME2: a ping of
# SIZE bytes (DF set) from NS, whose interface lets it go, gets no answer;
# switchd counted it oversize at PORT, and IFNAME2 in NS2 never received it.
switchd_drops_oversize() {
    _d0=$(sw_stat "$1" "$2" drops.oversize) && test -n "$_d0" &&
    _r0=$(rx_bytes "$7" "$8") &&
    test_expect_code 1 ip netns exec "$3" ping -n -c 1 -W 1 -M do -s "$5" "$6" >ping.out 2>&1 &&
    cat ping.out &&
    grep -q "1 packets transmitted, 0 received" ping.out &&
    retry_until 5 eval "test \"\$(sw_stat $1 $2 drops.oversize)\" -gt $_d0" &&
    _r1=$(rx_bytes "$7" "$8") &&
    test $((_r1 - _r0)) -lt "$5"
}

test_expect_success ROOT,NETNS 'a jumbo LAN carries 9000-byte frames between taps' '
    plugnet lan add jumbo --mtu 9000 &&
    sw_ns $A && sw_ns $B &&
    pa=$(sw_tap_into jumbo "ta$TEST_TAG" $A 10.38.0.1/24) &&
    sw_tap_into jumbo "tb$TEST_TAG" $B 10.38.0.2/24 >/dev/null &&
    test "$(ip -n $A -j link show "ta$TEST_TAG" | jq ".[0].mtu")" = 9000 &&
    retry_until 10 sw_ping $A 10.38.0.2 &&
    ip netns exec $A ping -n -c 3 -i 0.2 -W 2 -M do -s 8972 10.38.0.2 &&
    # 9018 bytes of IP, a 9032-byte frame: over mtu + 18, the sender
    # (its MTU raised) sends it and switchd is the one that drops it
    ip -n $A link set "ta$TEST_TAG" mtu 9100 &&
    test_when_finished "ip -n $A link set ta$TEST_TAG mtu 9000" &&
    switchd_drops_oversize jumbo "$pa" $A "ta$TEST_TAG" 8990 10.38.0.2 $B "tb$TEST_TAG"
'

test_expect_success ROOT,NETNS 'a 1500 LAN refuses what a bigger MTU inside a namespace sends' '
    plugnet lan add small &&
    pc=$(sw_tap_into small "tc$TEST_TAG" $A 10.39.0.1/24) &&
    sw_tap_into small "td$TEST_TAG" $B 10.39.0.2/24 >/dev/null &&
    retry_until 10 sw_ping $A 10.39.0.2 &&
    ip -n $A link set "tc$TEST_TAG" mtu 4000 &&
    switchd_drops_oversize small "$pc" $A "tc$TEST_TAG" 3000 10.39.0.2 $B "td$TEST_TAG"
'

test_done
