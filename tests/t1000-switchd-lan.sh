#!/bin/sh
# switchd LANs: add, list, show, delete, refusal while busy, persistence
# across a restart, and the events each change publishes.
. "$(dirname "$0")/lib.sh"
cd "$TEST_DIR" || exit 1

test_expect_success 'switchd starts' '
    pn_daemons_start switchd
'

test_expect_success 'lan add creates the VDE control socket' '
    plugnet lan add core &&
    test -S "$PLUGNET_RUN_DIR/lan/core/ctl" &&
    plugnet lan add jumbo --mtu 9000 --fdb-cap 64
'

test_expect_success 'lan ls lists them, with --json too' '
    plugnet lan ls >out &&
    grep -q "^core  *1500 " out &&
    grep -q "^jumbo  *9000 " out &&
    plugnet --json lan ls >out.json &&
    grep -q "\"name\":\"core\"" out.json &&
    grep -q "\"fdb_cap\":64" out.json
'

test_expect_success 'lan add of an existing name is refused' '
    ! plugnet lan add core 2>err &&
    grep -q already_exists err
'

test_expect_success 'bad names and mtus are refused with invalid_argument' '
    ! plugnet lan add Bad_Name 2>err && grep -q invalid_argument err &&
    ! plugnet lan add x --mtu 20 2>err && grep -q invalid_argument err
'

test_expect_success 'lan show names the socket and the MAC table' '
    plugnet lan show core >out &&
    grep -q "ctl $PLUGNET_RUN_DIR/lan/core/ctl" out &&
    grep -q "MAC table: 0 of 8192" out
'

test_expect_success 'lan del refuses while a port is attached, force closes it' '
    plugnet port add-tap core "pn${TEST_TAG}c" >out &&
    grep -q "^port 1 pn${TEST_TAG}c" out &&
    ip link show "pn${TEST_TAG}c" >/dev/null &&
    ! plugnet lan del core 2>err &&
    grep -q busy err &&
    plugnet lan del core --force >out &&
    grep -q "1 port closed" out &&
    ! ip link show "pn${TEST_TAG}c" 2>/dev/null &&
    ! test -e "$PLUGNET_RUN_DIR/lan/core"
'

test_expect_success 'LANs come back after a restart' '
    plugnet lan add back &&
    plugnet daemons stop switchd &&
    pn_daemons_start switchd &&
    plugnet lan ls >out &&
    grep -q "^back " out &&
    grep -q "^jumbo  *9000 " out &&
    ! grep -q "^core " out &&
    test -S "$PLUGNET_RUN_DIR/lan/back/ctl"
'

test_expect_success 'lan.added and lan.removed are published' '
    plugnet events --json -n 2 --timeout 30 switchd.lan >events 2>events.err &
    epid=$!
    test_when_finished "test_kill $epid"
    retry_until 20 grep -q "^# subscribed" events.err &&
    plugnet lan add evt && plugnet lan del evt &&
    wait $epid &&
    grep -q "\"action\":\"added\".*\"name\":\"evt\"" events &&
    grep -q "\"action\":\"removed\".*\"name\":\"evt\"" events
'

watch_lines() { test "$(grep -c "\"lan\":\"back\"" watch.out)" -ge "$1"; }
test_expect_success 'stats --watch prints the counters every interval until stopped' '
    plugnet --json stats back --watch --interval 200 >watch.out 2>watch.err &
    wpid=$!
    test_when_finished "test_kill $wpid"
    retry_until 20 watch_lines 3 &&
    kill -INT $wpid && wait $wpid &&
    jq -e ".ports and .fdb_cap" <watch.out >/dev/null
'

test_expect_success 'unknown LANs are not_found' '
    ! plugnet lan show nope 2>err && grep -q not_found err &&
    ! plugnet port ls nope 2>err && grep -q not_found err &&
    ! plugnet stats nope 2>err && grep -q not_found err
'

test_done
