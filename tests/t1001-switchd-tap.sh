#!/bin/sh
# Two network namespaces on switchd tap ports ping each other; the per-port
# counters add up; unplugging a port (admin down) stops the ping and
# plugging it back restores it; port events are published.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

A="pna$TEST_TAG" B="pnb$TEST_TAG"

test_expect_success ROOT,NETNS 'two namespaces on tap ports of one LAN' '
    pn_daemons_start switchd &&
    plugnet lan add net1 &&
    sw_ns $A && sw_ns $B &&
    pa=$(sw_tap_into net1 "ta$TEST_TAG" $A 10.31.0.1/24) &&
    pb=$(sw_tap_into net1 "tb$TEST_TAG" $B 10.31.0.2/24) &&
    test "$pa" = 1 && test "$pb" = 2 &&
    plugnet port ls net1 >out &&
    grep -q "^1  *tap  *up  *ta$TEST_TAG" out &&
    grep -q "^2  *tap  *up  *tb$TEST_TAG" out
'

# The counters are compared across several CLI calls, so nothing but the
# test's own pings may cross the LAN meanwhile: the stations know each
# other's MAC for good (nud permanent).  With learnt entries the kernel
# re-checks them by itself (a unicast ARP probe 5 s after a neighbour was
# first used, another when its entry goes stale) and under load such a
# probe landed between two readings of the same counter.
test_expect_success ROOT,NETNS 'they ping each other' '
    maca=$(ip -n $A -j link show "ta$TEST_TAG" | jq -r ".[0].address") &&
    macb=$(ip -n $B -j link show "tb$TEST_TAG" | jq -r ".[0].address") &&
    ip -n $A neigh replace 10.31.0.2 lladdr "$macb" dev "ta$TEST_TAG" nud permanent &&
    ip -n $B neigh replace 10.31.0.1 lladdr "$maca" dev "tb$TEST_TAG" nud permanent &&
    retry_until 10 sw_ping $A 10.31.0.2 &&
    plugnet --json stats net1 >s0.json &&
    ip netns exec $A ping -n -c 5 -i 0.2 -W 2 10.31.0.2 &&
    plugnet --json stats net1 >s1.json
'

# The counters moved by the same amount on both sides.  (Compared as deltas:
# before the taps reached their namespaces the host may have sent on them.)
delta() { echo $(( $(jq "$1" s1.json) - $(jq "$1" s0.json) )); }
test_expect_success ROOT,NETNS 'counters match: what one port received the other sent' '
    rx1=$(delta ".ports[0].rx_frames") && tx2=$(delta ".ports[1].tx_frames") &&
    rx2=$(delta ".ports[1].rx_frames") && tx1=$(delta ".ports[0].tx_frames") &&
    echo "p1 rx $rx1 tx $tx1, p2 rx $rx2 tx $tx2" &&
    test "$rx1" -ge 5 && test "$rx2" -ge 5 &&
    test "$rx1" = "$tx2" && test "$rx2" = "$tx1" &&
    test "$(delta ".ports[0].rx_bytes")" = "$(delta ".ports[1].tx_bytes")" &&
    test "$(jq "[.ports[].drops[]] | add" s1.json)" = 0 &&
    test "$(jq .fdb_entries s1.json)" = 2 &&
    plugnet stats net1 >out &&
    grep -q "^1  *tap  *up  *$(jq ".ports[0].rx_frames" s1.json) " out
'

test_expect_success ROOT,NETNS 'the MAC table shows both stations on their ports' '
    maca=$(ip -n $A -j link show "ta$TEST_TAG" | jq -r ".[0].address") &&
    plugnet --json lan show net1 >show.json &&
    test "$(jq -r ".fdb[] | select(.mac == \"$maca\") | .port" show.json)" = 1
'

test_expect_success ROOT,NETNS 'port ls follows a tap renamed inside its namespace' '
    ip -n $B link set "tb$TEST_TAG" down &&
    ip -n $B link set "tb$TEST_TAG" name eth7 &&
    ip -n $B link set eth7 up &&
    plugnet port ls net1 | grep -q "^2  *tap  *up  *eth7" &&
    ip -n $B link set eth7 down &&
    ip -n $B link set eth7 name "tb$TEST_TAG" &&
    ip -n $B link set "tb$TEST_TAG" up &&
    retry_until 10 sw_ping $A 10.31.0.2
'

test_expect_success ROOT,NETNS 'admin down stops the ping, up restores it' '
    plugnet port set net1 2 down &&
    plugnet port ls net1 | grep -q "^2  *tap  *down" &&
    ! sw_ping $A 10.31.0.2 3 &&
    test "$(sw_stat net1 2 drops.admin_down)" -gt 0 &&
    plugnet port set net1 2 up &&
    retry_until 10 sw_ping $A 10.31.0.2
'

test_expect_success ROOT,NETNS 'port events: admin, down on delete; the tap goes with its port' '
    plugnet events --json -n 2 --timeout 30 switchd.port >events 2>events.err &
    epid=$!
    test_when_finished "test_kill $epid"
    retry_until 20 grep -q "^# subscribed" events.err &&
    plugnet port set net1 1 down &&
    plugnet port del net1 2 &&
    wait $epid &&
    grep -q "\"action\":\"admin\"" events &&
    grep -q "\"action\":\"down\"" events &&
    ! ip -n $B link show "tb$TEST_TAG" 2>/dev/null &&
    ! plugnet port del net1 2 2>err && grep -q not_found err
'

# vmd's ns nodes get their NICs this way: no move into the namespace (which
# costs the kernel an RCU barrier), no rename.
no_eth3() { ip -n "$1" -j link show >links.json && jq -e "all(.[]; .ifname != \"eth3\")" links.json >/dev/null; }
test_expect_success ROOT,NETNS 'a tap made in a namespace has its name and MAC there, and goes with its port' '
    C="pnc$TEST_TAG" &&
    sw_ns $C &&
    plugnet call switchd port.add_tap lan=net1 ifname=eth3 netns=$C mac=02:00:00:aa:bb:cc >add.json &&
    port=$(jq .port add.json) &&
    test "$(jq -r .ifname add.json)" = eth3 &&
    test "$(ip -n $C -j link show eth3 | jq -r ".[0].address")" = 02:00:00:aa:bb:cc &&
    ip -n $C -j link show eth3 | jq -r ".[0].flags[]" | grep -qx UP &&
    ip -j link show >host.json &&
    jq -e "all(.[]; .address != \"02:00:00:aa:bb:cc\")" host.json >/dev/null &&
    plugnet port del net1 $port &&
    retry_until 10 no_eth3 $C
'

test_expect_success ROOT 'port.add_tap refuses a bad namespace name, a missing namespace, a bad MAC' '
    ! plugnet call switchd port.add_tap lan=net1 netns=../x 2>err && grep -q invalid_argument err &&
    ! plugnet call switchd port.add_tap lan=net1 netns="pnnone$TEST_TAG" 2>err && grep -q not_found err &&
    ! plugnet call switchd port.add_tap lan=net1 mac=zz 2>err && grep -q invalid_argument err
'

test_expect_success ROOT 'a bad or taken interface name is refused' '
    ! plugnet port add-tap net1 "bad/name" 2>err && grep -q invalid_argument err &&
    ! plugnet port add-tap net1 lo 2>err && grep -q already_exists err
'

test_done
