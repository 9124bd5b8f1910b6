#!/bin/sh
# A qemu TCG guest (Debian's cloud kernel, a busybox initramfs made here)
# on -netdev vde pings a namespace on a tap port of the same LAN; a sniff
# of it read back by tcpdump shows the echo requests and replies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

test_lazy_prereq QEMU "qemu-system-x86_64 is not installed" 'command -v qemu-system-x86_64'
test_lazy_prereq CLOUD_KERNEL "no Debian cloud kernel in /boot (linux-image-cloud-amd64)" 'test -r "$SW_QEMU_KERNEL"'
test_lazy_prereq BUSYBOX "busybox-static is not installed" 'file -L /bin/busybox | grep -q "statically linked"'

A="pna$TEST_TAG"

test_expect_success ROOT,NETNS,QEMU,CLOUD_KERNEL,BUSYBOX 'a LAN, a namespace on a tap port, an initramfs' '
    pn_daemons_start switchd &&
    plugnet lan add net1 &&
    sw_ns $A &&
    sw_tap_into net1 "ta$TEST_TAG" $A 10.37.0.1/24 >/dev/null &&
    sw_qemu_initrd "$TEST_DIR"
'

test_expect_success ROOT,NETNS,QEMU,CLOUD_KERNEL,BUSYBOX 'the qemu guest on -netdev vde pings the namespace' '
    { plugnet sniff net1 -w "$TEST_DIR/q.pcap" 2>sniff.err & } &&
    spid=$! &&
    test_when_finished "test_kill $spid" &&
    retry_until 10 grep -q capturing sniff.err &&
    { sw_qemu "$TEST_DIR/initrd.gz" q.log "vde,id=n0,sock=$PLUGNET_RUN_DIR/lan/net1" \
        pn_name=q pn_ip=10.37.0.2 pn_peer=10.37.0.1 pn_run=q ||
      { echo "qemu exited $?"; tail -n 20 q.log; false; }; } &&
    grep PNGUEST q.log &&
    grep -q "PNGUEST PING_OK" q.log &&
    kill -INT $spid && wait $spid
'

test_expect_success ROOT,NETNS,QEMU,CLOUD_KERNEL,BUSYBOX 'tcpdump reads the echo requests and replies from the sniff' '
    tcpdump -nr q.pcap icmp >td.out 2>&1 &&
    cat td.out &&
    test "$(grep -c "10.37.0.2 > 10.37.0.1: ICMP echo request" td.out)" -ge 3 &&
    test "$(grep -c "10.37.0.1 > 10.37.0.2: ICMP echo reply" td.out)" -ge 3
'

test_done
