#!/bin/bash
# vmd with real guests: UML and qemu (TCG) nodes of the tiny image on
# switchd LANs, live NICs, crash reports, COW disks, the persistent lock and
# adoption after a SIGKILL of vmd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

# ifname_of MAC: a guest-side snippet naming the interface with that MAC,
# waiting (bounded, in the guest) for a hot-plugged one to appear.
ifname_of() {
    printf 'd=; i=0; while [ -z "$d" ] && [ $i -lt 100 ]; do for p in /sys/class/net/*; do [ "$(cat $p/address)" = %s ] && d=${p##*/}; done; [ -z "$d" ] && usleep 100000; i=$((i+1)); done; [ -n "$d" ]' "$1"
}

test_expect_success ROOT,UML,QEMU 'image and daemons' '
    pn_image &&
    . "$PLUGNET_BUILD/image/manifest" &&
    sum0=$(sha256sum <"$ROOTFS") &&
    vm_daemons &&
    plugnet lan add lan1 >/dev/null
'

test_expect_success ROOT,UML 'two UML nodes boot and ping each other' '
    plugnet node add u1 --kind uml --nic lan1,ip=10.97.0.1/24 --start >/dev/null &&
    plugnet node add u2 --kind uml --nic lan1,ip=10.97.0.2/24 --start >/dev/null &&
    test "$(vm_field u1 .state)" = running &&
    vm_console_wait u1 120 "plugnet: shell ready" &&
    vm_console_wait u2 120 "plugnet: shell ready" &&
    vm_console_run u1 60 "ping -c1 -W2 10.97.0.2" &&
    retry_until 10 ping -n -q -c1 -W1 "$(vm_field u2 .mgmt_ip | cut -d/ -f1)" >/dev/null
'

test_expect_success ROOT,UML,QEMU 'a qemu node (TCG here, with the reason) and a UML node ping each other on one LAN' '
    plugnet node add q1 --kind qemu --nic lan1,ip=10.97.0.3/24 --start >/dev/null &&
    case "$(vm_field q1 .accel)" in
    kvm) ;;
    tcg) vm_field q1 .accel_reason | grep -q . ;;
    *) false ;;
    esac &&
    vm_console_wait q1 180 "plugnet: shell ready" &&
    vm_console_run q1 90 "ping -c1 -W2 10.97.0.1" &&
    vm_console_run u1 60 "ping -c1 -W2 10.97.0.3" &&
    # one console shell, started once (no respawn storm on hvc0)
    test "$(grep -a -c "plugnet: shell ready" "$PLUGNET_STATE_DIR/nodes/q1/console.log")" = 1
'

test_expect_success ROOT,UML 'eth2 hot-plugs into running UML nodes on a new LAN; nic del unplugs it at once' '
    plugnet lan add lan2 >/dev/null &&
    # no agentd here: the NICs are plugged, nic add says they are not configured
    test_must_fail plugnet nic add u1 eth2 lan2 --ip 10.96.0.1/24 >/dev/null 2>err &&
    grep -q "unavailable: node .u1.: eth2 is plugged into LAN .lan2. but not configured in the guest" err &&
    test_must_fail plugnet nic add u2 eth2 lan2 --ip 10.96.0.2/24 >/dev/null 2>err &&
    m1=$(vm_field u1 ".nics[] | select(.ifname == \"eth2\") | .mac") &&
    m2=$(vm_field u2 ".nics[] | select(.ifname == \"eth2\") | .mac") &&
    test "$m1" = 02:00:00:01:00:02 &&
    vm_console_run u1 60 "$(ifname_of $m1) && ip addr add 10.96.0.1/24 dev \$d && ip link set \$d up" &&
    vm_console_run u2 60 "$(ifname_of $m2) && ip addr add 10.96.0.2/24 dev \$d && ip link set \$d up" &&
    vm_console_run u1 60 "ping -c1 -W3 10.96.0.2" &&
    # up in the guest and no agent to take it down (no agentd here): vmd
    # unplugs it from the LAN, keeps it and says what to do
    ! plugnet nic del u2 eth2 2>err &&
    grep -q "busy.*eth2 is up in the guest.*unplugged from its LAN.*ip link set eth2 down" err &&
    test "$(plugnet --json port ls lan2 | jq ".ports | length")" = 1 &&
    vm_console_fails u1 60 "ping -c1 -W2 10.96.0.2" &&
    vm_console_run u2 60 "$(ifname_of $m2) && ip link set \$d down" &&
    plugnet nic del u2 eth2 >/dev/null &&
    test "$(vm_field u2 ".nics | length")" = 2 &&
    vm_console_fails u1 60 "ping -c1 -W2 10.96.0.2" &&
    vm_console_run u1 60 "ping -c1 -W2 10.97.0.2"
'

test_expect_success ROOT,UML 'COW nodes write their own files; the base image never changes' '
    vm_console_run u1 60 "echo one >/root/mine && sync" &&
    vm_console_run u2 60 "echo two >/root/mine && sync" &&
    vm_console_run u1 60 "grep -q one /root/mine" &&
    vm_console_run u2 60 "grep -q two /root/mine" &&
    test "$(sha256sum <"$ROOTFS")" = "$sum0"
'

test_expect_success ROOT,UML 'a persistent node locks its image against a second user' '
    cp --sparse=always "$ROOTFS" "$TEST_DIR/own.img" &&
    plugnet node add p1 --kind uml --image "$TEST_DIR/own.img" --persistent >/dev/null &&
    ! plugnet node add p2 --kind uml --image "$TEST_DIR/own.img" 2>err &&
    grep -q "busy.*locked by persistent node .p1." err &&
    ! plugnet node add p3 --kind qemu --image "$TEST_DIR/own.img" --persistent 2>err &&
    grep -q "busy.*in use by node .p1." err &&
    ! plugnet node add p4 --kind uml --persistent 2>err &&
    grep -q "busy" err &&
    plugnet node del p1
'

test_expect_success ROOT,QEMU 'kill -9 of a qemu process: crashed, with the exit status and the last console lines' '
    qpid=$(vm_field q1 .pid) &&
    kill -9 "$qpid" &&
    retry_until 10 sh -c "test \"\$(plugnet --json node show q1 | jq -r .state)\" = crashed" &&
    test "$(vm_field q1 .exit_status)" = -9 &&
    test "$(vm_field q1 ".console_tail | length")" -gt 0 &&
    vm_field q1 ".console_tail[]" | grep -q "plugnet"
'

test_expect_success ROOT,UML 'SIGKILL of vmd: the UML nodes keep running and are adopted' '
    upid=$(vm_field u2 .pid) &&
    kill -9 "$(vm_pid)" &&
    plugnet daemons start vmd >/dev/null &&
    test "$(vm_field u2 .state)" = running &&
    test "$(vm_field u2 .adopted)" = true &&
    test "$(vm_field u2 .pid)" = "$upid" &&
    vm_console_run u2 60 "ping -c1 -W2 10.97.0.1" &&
    plugnet node stop u2 &&
    test "$(vm_field u2 .state)" = stopped
'

test_done
