#!/bin/sh
# Real UML guests (Debian's user-mode-linux, a busybox root made here, on
# hostfs) ping each other through one LAN: a pair over the uml_switch
# "daemon" transport (ctl socket, abstract data addresses) and a pair over
# the "vde" transport (libvdeplug).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

test_lazy_prereq UML "user-mode-linux (/usr/bin/linux) is not installed" 'command -v linux'
test_lazy_prereq BUSYBOX "busybox-static is not installed" 'file -L /bin/busybox | grep -q "statically linked"'

test_expect_success UML,BUSYBOX 'a LAN and a busybox root' '
    pn_daemons_start switchd &&
    plugnet lan add net1 &&
    sw_guest_root "$TEST_DIR/root"
'

# uml_pair TRANSPORT-A TRANSPORT-B RUN: guest b listens, guest a pings it
# and sends it a file of random bytes over TCP; b says it got the file only
# when the checksum of what came matches.
uml_pair() {
    head -c 300000 /dev/urandom >"$TEST_DIR/root/payload.$3" &&
    _sum=$(md5sum <"$TEST_DIR/root/payload.$3") &&
    _sum=${_sum%% *} &&
    { sw_uml "$TEST_DIR/root" b.$3.log "$2" pn_name=b pn_ip=10.36.0.2 pn_want=$_sum & } &&
    _bpid=$! &&
    sw_uml "$TEST_DIR/root" a.$3.log "$1" pn_name=a pn_ip=10.36.0.1 pn_peer=10.36.0.2 pn_send=/payload.$3
    _ast=$?
    wait $_bpid
    _bst=$?
    echo "status of a's run $_ast, of b's $_bst (124: killed by the timeout)"
    grep PNGUEST a.$3.log b.$3.log
    # A guest that halted after its script is done: UML itself was seen to
    # abort (134) in its host-side exit after "System halted" under load.
    _done_ok() { test "$1" = 0 || { test "$1" = 134 && grep -q "reboot: System halted" "$2"; }; }
    _done_ok $_ast a.$3.log && _done_ok $_bst b.$3.log &&
    grep -q "PNGUEST PING_OK" a.$3.log &&
    grep -q "PNGUEST b GOT $_sum" b.$3.log && return 0
    for _g in a b; do echo "== the end of $_g's console"; tail -n 25 $_g.$3.log; done
    return 1
}

test_expect_success UML,BUSYBOX 'two UML guests ping over the daemon transport' '
    uml_pair "daemon,02:00:00:00:01:01,unix,$PLUGNET_RUN_DIR/lan/net1/ctl" \
             "daemon,02:00:00:00:01:02,unix,$PLUGNET_RUN_DIR/lan/net1/ctl" d &&
    grep -q "uml_switch version 3" a.d.log
'

test_expect_success UML,BUSYBOX 'two UML guests ping over the vde transport' '
    uml_pair "vde,$PLUGNET_RUN_DIR/lan/net1" "vde,$PLUGNET_RUN_DIR/lan/net1" v &&
    grep -q "vde backend - connection opened" a.v.log
'

test_expect_success UML,BUSYBOX 'their ports went away with them' '
    test "$(plugnet --json port ls net1 | jq ".ports | length")" = 0 &&
    test "$(plugnet --json stats net1 | jq .fdb_entries)" = 0
'

test_done
