#!/bin/sh
# Sniffing: plugnet sniff writes classic pcap that tcpdump and tshark read
# back (ICMP echo request and reply), to a file or streamed to stdout; a
# port-only sniff sees that port's traffic; a FIFO nobody reads never slows
# the switch, and its drops are counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

A="pna$TEST_TAG" B="pnb$TEST_TAG" C="pnc$TEST_TAG"

test_expect_success ROOT,NETNS 'three namespaces on a LAN' '
    pn_daemons_start switchd &&
    plugnet lan add net1 &&
    sw_ns $A && sw_ns $B && sw_ns $C &&
    sw_tap_into net1 "ta$TEST_TAG" $A 10.35.0.1/24 >/dev/null &&
    sw_tap_into net1 "tb$TEST_TAG" $B 10.35.0.2/24 >/dev/null &&
    sw_tap_into net1 "tc$TEST_TAG" $C 10.35.0.3/24 >/dev/null &&
    retry_until 10 sw_ping $A 10.35.0.2 &&
    retry_until 10 sw_ping $C 10.35.0.2
'

test_expect_success ROOT,NETNS 'a LAN sniff to a file shows echo requests and replies' '
    { plugnet sniff net1 -w cap.pcap 2>sniff.err & } &&
    spid=$! &&
    test_when_finished "test_kill $spid" &&
    retry_until 10 grep -q capturing sniff.err &&
    ip netns exec $A ping -n -c 3 -i 0.2 -W 2 10.35.0.2 &&
    kill -INT $spid && wait $spid &&
    cat sniff.err &&
    grep -q "frames captured, 0 dropped" sniff.err &&
    tcpdump -nr cap.pcap >td.out 2>&1 &&
    cat td.out &&
    test "$(grep -c "10.35.0.1 > 10.35.0.2: ICMP echo request" td.out)" -ge 3 &&
    test "$(grep -c "10.35.0.2 > 10.35.0.1: ICMP echo reply" td.out)" -ge 3 &&
    tshark -r cap.pcap -Y icmp >ts.out 2>&1 &&
    grep -q "Echo (ping) request" ts.out &&
    grep -q "Echo (ping) reply" ts.out
'

test_expect_success ROOT,NETNS 'sniff -w - streams pcap into tcpdump -r -' '
    { ( plugnet sniff net1 -w - 2>stream.err & echo $! >sniff.pid; wait ) | tcpdump -l -nr - >stream.out 2>&1 & } &&
    test_when_finished "test_kill \$(cat sniff.pid)" &&
    retry_until 10 grep -q capturing stream.err &&
    ip netns exec $C ping -n -c 2 -i 0.2 -W 2 10.35.0.2 &&
    retry_until 10 grep -q "10.35.0.2 > 10.35.0.3: ICMP echo reply" stream.out &&
    kill -INT $(cat sniff.pid) &&
    retry_until 10 grep -q "frames captured" stream.err &&
    grep -q "10.35.0.3 > 10.35.0.2: ICMP echo request" stream.out
'

test_expect_success ROOT,NETNS 'when tcpdump -c has had enough, sniff -w - ends too' '
    { timeout 30 sh -c "plugnet sniff net1 -w - 2>c.err | tcpdump -c 2 -nr - icmp >c.out 2>&1" & } &&
    ppid=$! &&
    test_when_finished "test_kill $ppid" &&
    retry_until 10 grep -q capturing c.err &&
    ip netns exec $A ping -n -c 2 -i 0.2 -W 2 10.35.0.2 &&
    wait $ppid &&
    test "$(grep -c "ICMP echo" c.out)" = 2 &&
    retry_until 10 grep -q "frames captured" c.err &&
    test "$(plugnet --json stats net1 | jq ".sniffers | length")" = 0
'

test_expect_success ROOT,NETNS 'a port sniff sees only that port, a LAN sniff beside it sees all' '
    { plugnet sniff net1:3 -w port.pcap 2>port.err & } &&
    spid=$! &&
    test_when_finished "test_kill $spid" &&
    { plugnet sniff net1 -w all.pcap 2>all.err & } &&
    apid=$! &&
    test_when_finished "test_kill $apid" &&
    retry_until 10 grep -q capturing port.err &&
    retry_until 10 grep -q capturing all.err &&
    ip netns exec $A ping -n -c 2 -i 0.2 -W 2 10.35.0.2 &&
    ip netns exec $C ping -n -c 2 -i 0.2 -W 2 10.35.0.2 &&
    kill -INT $spid $apid && wait $spid && wait $apid &&
    tcpdump -nr all.pcap >all.out 2>&1 &&
    grep -q "10.35.0.1 > 10.35.0.2: ICMP echo request" all.out &&
    grep -q "10.35.0.3 > 10.35.0.2: ICMP echo request" all.out &&
    tcpdump -nr port.pcap >port.out 2>&1 &&
    grep -q "10.35.0.3 > 10.35.0.2: ICMP echo request" port.out &&
    grep -q "10.35.0.2 > 10.35.0.3: ICMP echo reply" port.out &&
    test_grep_not "10.35.0.1 > 10.35.0.2: ICMP" port.out
'

sniff_dropping() {
    test "$(plugnet --json stats net1 | jq ".sniffers[0].drops")" -gt 0
}

test_expect_success ROOT,NETNS 'a FIFO nobody reads: the switch goes on, drops are counted' '
    mkfifo slow.fifo hold &&
    { plugnet sniff net1 -w "$TEST_DIR/slow.fifo" 2>slow.err & } &&
    spid=$! &&
    test_when_finished "test_kill $spid" &&
    retry_until 10 grep -q capturing slow.err &&
    { ip netns exec $A ping -n -q -c 30 -i 0.1 -W 5 10.35.0.2 >ping.out 2>&1 & } &&
    ppid=$! &&
    test_when_finished "test_kill $ppid" &&
    { pn-swgen flood "$PLUGNET_RUN_DIR/lan/net1" 40000 hold <hold >flood.out & } &&
    fpid=$! &&
    test_when_finished "kill $fpid 2>/dev/null; exec 7>&-" &&
    exec 7>hold &&
    retry_until 30 grep -q flooded flood.out &&
    retry_until 10 sniff_dropping &&
    wait $ppid && cat ping.out &&
    grep -q " 30 received, 0% packet loss" ping.out &&
    plugnet stats net1 &&
    kill -INT $spid && wait $spid
'

test_expect_success ROOT 'sniffing a missing LAN or port is refused' '
    test_must_fail plugnet sniff nope -w x.pcap 2>err && grep -q not_found err &&
    test_must_fail plugnet sniff net1:77 -w x.pcap 2>err && grep -q not_found err
'

test_expect_success 'switchd stops cleanly (no sanitizer report)' '
    sw_stop_clean
'

test_done
