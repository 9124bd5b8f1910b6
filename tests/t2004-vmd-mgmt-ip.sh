#!/bin/bash
# An explicit management address overrides the seed rule's, and reaches
# the node: the host pings it on the mgmt LAN.
. "$(dirname "$0")/lib.sh"

test_expect_success ROOT,NETNS 'node.add with --mgmt-ip gives eth0 that address' '
    pn_daemons_start >/dev/null &&
    plugnet node add mip --kind ns --mgmt-ip 172.30.200.7/16 --start >/dev/null &&
    test_when_finished "plugnet node kill mip >/dev/null 2>&1; plugnet node del mip >/dev/null 2>&1" &&
    plugnet --json node show mip >show.json &&
    [ "$(jq -r .mgmt_ip show.json)" = 172.30.200.7/16 ] &&
    ns=$(jq -r .netns show.json) &&
    ip netns exec "$ns" ip -o -4 addr show dev eth0 | grep -q "172.30.200.7/16"
'

test_expect_success ROOT,NETNS 'a bad mgmt_ip is refused naming it, and nothing is left behind' '
    ! plugnet node add mbad --kind ns --mgmt-ip 300.1.2.3/16 2>err &&
    grep -q "mgmt_ip: .300.1.2.3/16. is not an address with a prefix" err &&
    ! plugnet node show mbad 2>/dev/null &&
    ! plugnet node add mbad2 --kind ns --no-mgmt --mgmt-ip 172.30.1.1/16 2>err &&
    grep -q "needs eth0 on the management LAN" err
'

test_done
