#!/bin/bash
# vmd registers every node's agent channel with agentd: ns nodes run the
# agent inside their namespaces, UML nodes reach it over the relayed serial
# line, qemu nodes over the virtio port; `plugnet exec` works on all three.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_lazy_prereq AGENT "the guest agent is not built" 'test -x "$PLUGNET_BUILD/bin/plugnet-agent"'

test_expect_success ROOT,NETNS,AGENT 'daemons and image' '
    pn_image &&
    vm_daemons switchd cfgdiskd vmd agentd &&
    plugnet lan add lan1 >/dev/null
'

test_expect_success ROOT,NETNS,AGENT 'an ns node: exec runs in its namespaces through the agent' '
    plugnet node add n1 --kind ns --nic lan1,ip=10.95.0.1/24 --start >/dev/null &&
    test "$(plugnet exec n1 --wait 60 -- hostname)" = n1 &&
    plugnet exec n1 -- ip -o link show eth1 >link &&
    grep -q "$(vm_field n1 ".nics[] | select(.ifname == \"eth1\") | .mac")" link
'

test_expect_success ROOT,UML,AGENT 'a UML node: exec through the serial line vmd relays' '
    plugnet node add u1 --kind uml --nic lan1,ip=10.95.0.2/24 --start >/dev/null &&
    test "$(plugnet exec u1 --wait 120 -- hostname)" = u1 &&
    plugnet exec u1 -- ping -c1 -W2 10.95.0.1 >/dev/null
'

test_expect_success ROOT,QEMU,AGENT 'a qemu node: exec through the virtio port' '
    plugnet node add q1 --kind qemu --nic lan1,ip=10.95.0.3/24 --start >/dev/null &&
    test "$(plugnet exec q1 --wait 180 -- hostname)" = q1 &&
    plugnet exec q1 -- ping -c1 -W2 10.95.0.2 >/dev/null
'

# ifup NODE MAC ADDR: configure the NIC with that MAC in the guest, waiting
# (bounded, in the guest) for a hot-plugged one to appear.
ifup() {
    plugnet exec "$1" -- sh -c "i=0; while [ \$i -lt 300 ]; do for p in /sys/class/net/*; do
        if [ \"\$(cat \$p/address)\" = $2 ]; then { ip addr show dev \${p##*/} | grep -q \" $3 \" || ip addr add $3 dev \${p##*/}; } && ip link set \${p##*/} up; exit; fi
        done; usleep 100000; i=\$((i+1)); done; exit 1"
}

test_expect_success ROOT,UML,QEMU,AGENT 'eth2 hot-plugs into running qemu and UML nodes on a new LAN; nic del stops it' '
    plugnet lan add lan2 >/dev/null &&
    plugnet nic add q1 eth2 lan2 --ip 10.94.0.3/24 >/dev/null &&
    plugnet nic add u1 eth2 lan2 --ip 10.94.0.2/24 >/dev/null &&
    ifup q1 "$(vm_field q1 ".nics[] | select(.ifname == \"eth2\") | .mac")" 10.94.0.3/24 &&
    ifup u1 "$(vm_field u1 ".nics[] | select(.ifname == \"eth2\") | .mac")" 10.94.0.2/24 &&
    plugnet exec u1 -- ping -c1 -W3 10.94.0.3 >/dev/null &&
    plugnet nic del q1 eth2 >/dev/null &&
    test "$(vm_field q1 ".nics | length")" = 2 &&
    test_expect_code 1 plugnet exec u1 -- ping -c1 -W2 10.94.0.3 >/dev/null &&
    plugnet exec u1 -- ping -c1 -W2 10.95.0.3 >/dev/null
'

test_expect_success ROOT,UML,AGENT 'nic del of an interface that is up in a UML guest: vmd takes it down through the agent' '
    m=$(vm_field u1 ".nics[] | select(.ifname == \"eth2\") | .mac") &&
    test -n "$m" &&
    plugnet exec u1 -- ip -o link >links &&
    grep "$m" links | grep -q ",UP" &&
    plugnet nic del u1 eth2 >/dev/null &&
    test "$(vm_field u1 ".nics | length")" = 2 &&
    plugnet exec u1 -- ip -o link >links &&
    test_grep_not "$m" links &&
    test "$(plugnet --json port ls lan2 | jq ".ports | length")" = 0 &&
    plugnet exec u1 -- ping -c1 -W2 10.95.0.3 >/dev/null
'

# is_down NODE: no interface of the guest but lo is up, and the guest
# drops all IP traffic (iptables policies DROP): a ping to itself fails.
is_down() {
    plugnet exec "$1" -- ip -o link >links &&
    test "$(grep -c "^[0-9]*: eth[0-9]*:" links)" -ge 2 &&
    test_grep_not "^[0-9]*: eth[0-9]*:.*[<,]UP[,>]" links &&
    plugnet exec "$1" -- iptables -S >rules &&
    grep -qx -- "-P INPUT DROP" rules && grep -qx -- "-P OUTPUT DROP" rules &&
    test_expect_code 1 plugnet exec "$1" -- ping -c 1 -W 2 127.0.0.1 >/dev/null
}

test_expect_success ROOT,UML,AGENT 'the agent needs no IP: exec works with every link down and INPUT dropped in the guest' '
    test_when_finished "plugnet exec u1 -- sh -c \"iptables -P INPUT ACCEPT && iptables -P OUTPUT ACCEPT\"" &&
    plugnet exec u1 -- ping -c 1 -W 2 127.0.0.1 >/dev/null &&
    plugnet exec u1 -- ip link set eth0 down &&
    plugnet exec u1 -- ip link set eth1 down &&
    plugnet exec u1 -- sh -c "iptables -P INPUT DROP && iptables -P OUTPUT DROP && iptables -F" &&
    is_down u1 &&
    test "$(plugnet exec u1 -- hostname)" = u1 &&
    echo payload >p && plugnet cp p u1:/tmp/p &&
    test "$(plugnet exec u1 -- cat /tmp/p)" = payload
'

test_done
