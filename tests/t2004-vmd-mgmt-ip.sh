#!/bin/bash
# An explicit management address overrides the seed rule's, and reaches
# the node: the host pings it on the mgmt LAN.
. "$(dirname "$0")/lib.sh"

test_expect_success ROOT,NETNS 'node.add with --mgmt-ip gives eth0 that address' '
    pn_daemons_start >/dev/null &&
    plugnet node add mip --kind ns --mgmt-ip $PLUGNET_MGMT_PREFIX.200.7/16 --start >/dev/null &&
    test_when_finished "plugnet node kill mip >/dev/null 2>&1; plugnet node del mip >/dev/null 2>&1" &&
    plugnet --json node show mip >show.json &&
    [ "$(jq -r .mgmt_ip show.json)" = $PLUGNET_MGMT_PREFIX.200.7/16 ] &&
    ns=$(jq -r .netns show.json) &&
    ip netns exec "$ns" ip -o -4 addr show dev eth0 >addr &&
    grep -q "$PLUGNET_MGMT_PREFIX.200.7/16" addr &&
    retry_until 20 ping -n -q -c1 -W1 "$PLUGNET_MGMT_PREFIX.200.7" >/dev/null
'

test_expect_success ROOT,NETNS 'a bad mgmt_ip is refused naming it, and nothing is left behind' '
    test_must_fail plugnet node add mbad --kind ns --mgmt-ip 300.1.2.3/16 2>err &&
    grep -q "mgmt_ip: .300.1.2.3/16. is not an address with a prefix" err &&
    test_must_fail plugnet node show mbad 2>/dev/null &&
    test_must_fail plugnet node add mbad2 --kind ns --no-mgmt --mgmt-ip $PLUGNET_MGMT_PREFIX.1.1/16 2>err &&
    grep -q "needs eth0 on the management LAN" err
'

test_done
