#!/bin/sh
# A VDE client floods frames from random source MACs: the MAC table stays
# at its cap, the flooder only evicts its own entries (fair eviction), and
# the other ports still reach each other.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

A="pna$TEST_TAG" B="pnb$TEST_TAG"

test_expect_success ROOT,NETNS 'two namespaces on a LAN with a 256-entry MAC table' '
    pn_daemons_start switchd &&
    plugnet lan add net1 --fdb-cap 256 &&
    sw_ns $A && sw_ns $B &&
    sw_tap_into net1 "ta$TEST_TAG" $A 10.34.0.1/24 >/dev/null &&
    sw_tap_into net1 "tb$TEST_TAG" $B 10.34.0.2/24 >/dev/null &&
    retry_until 10 sw_ping $A 10.34.0.2
'

fdb_full() {
    plugnet --json stats net1 >s.json &&
    test "$(jq .fdb_entries s.json)" = 256 &&
    test "$(jq .fdb_evictions s.json)" -gt 20000
}

test_expect_success ROOT,NETNS 'a random-source flood keeps the table at its cap' '
    { ip netns exec $A ping -n -q -c 40 -i 0.1 -W 5 10.34.0.2 >ping.out 2>&1 & } &&
    ppid=$! &&
    test_when_finished "test_kill $ppid" &&
    mkfifo hold &&
    { pn-swgen flood "$PLUGNET_RUN_DIR/lan/net1" 30000 hold <hold >flood.out & } &&
    fpid=$! &&
    test_when_finished "kill $fpid 2>/dev/null; exec 7>&-" &&
    exec 7>hold &&
    retry_until 30 grep -q flooded flood.out &&
    retry_until 10 fdb_full &&
    jq -c "{fdb_entries, fdb_cap, fdb_evictions}" s.json &&
    wait $ppid &&
    cat ping.out &&
    grep -q " 40 received, 0% packet loss" ping.out
'

test_expect_success ROOT,NETNS 'the quiet stations kept their entries' '
    maca=$(ip -n $A -j link show "ta$TEST_TAG" | jq -r ".[0].address") &&
    macb=$(ip -n $B -j link show "tb$TEST_TAG" | jq -r ".[0].address") &&
    plugnet --json lan show net1 >show.json &&
    test "$(jq -r ".fdb[] | select(.mac == \"$maca\") | .port" show.json)" = 1 &&
    test "$(jq -r ".fdb[] | select(.mac == \"$macb\") | .port" show.json)" = 2 &&
    sw_ping $A 10.34.0.2
'

test_done
