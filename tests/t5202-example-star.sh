#!/bin/sh
# examples/star.clab.yml up and down: four namespace hosts on one bridge,
# whose traffic `plugnet sniff` captures and tshark reads back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1
LAB=$PLUGNET_SRC/examples/star.clab.yml

test_expect_success NETNS 'up brings the star up' '
    pn_daemons_start &&
    plugnet up "$LAB" >out &&
    grep -q "lab star is up (4 nodes, 1 LAN)" out &&
    every_node_running "$LAB" &&
    lans | grep -qx core
'

# in_node NODE CMD...: run CMD in an ns node's network namespace.
in_node() { _ns=$(node_field "$1" netns) && shift && ip netns exec "$_ns" "$@"; }

test_expect_success NETNS 'every host reaches every other' '
    retry_until 20 in_node s1 ping -c 1 -W 1 10.2.0.4 &&
    (for i in 1 2 3 4; do
        for j in 1 2 3 4; do
            [ $i = $j ] || in_node s$i ping -c 1 -W 2 10.2.0.$j >/dev/null || exit 1
        done
    done)
'

test_expect_success NETNS 'the sniffed LAN shows the echo requests and replies' '
    { plugnet sniff core -w core.pcap 2>sniff.err & } &&
    echo $! >sniff.pid &&
    test_when_finished "kill -INT \$(cat sniff.pid) 2>/dev/null; true" &&
    retry_until 10 grep -q capturing sniff.err &&
    in_node s2 ping -c 3 -i 0.2 10.2.0.3 >/dev/null &&
    kill -INT $(cat sniff.pid) &&
    { wait $(cat sniff.pid) || { echo "sniff exited $?"; cat sniff.err; false; }; } &&
    test "$(plugnet --json stats core | jq ".sniffers | length")" = 0 &&
    tshark -r core.pcap -Y "icmp.type == 8 && ip.src == 10.2.0.2" >req 2>tshark.err &&
    tshark -r core.pcap -Y "icmp.type == 0 && ip.src == 10.2.0.3" >rep 2>tshark.err &&
    test $(wc -l <req) -ge 3 && test $(wc -l <rep) -ge 3
'

test_expect_success NETNS 'down takes it all away' '
    plugnet down "$LAB" &&
    lab_is_gone "$LAB"
'

test_done
