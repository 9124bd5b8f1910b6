#!/bin/bash
# Links by their names (issue 14, item 3): switchd's ports say which node
# and interface they plug (port ls, lan show, stats, port events), for ns
# (tap), UML and qemu (VDE) nodes; `plugnet link NODE:IFACE down|up` cuts a
# link so that the guest sees its carrier go where the kind allows (ns,
# qemu) and says so where it cannot (UML: frames are dropped).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

# ifname_of MAC: a guest-side snippet setting $d to the interface with MAC.
ifname_of() {
    printf 'd=; for p in /sys/class/net/*; do [ "$(cat $p/address)" = %s ] && d=${p##*/}; done; [ -n "$d" ]' "$1"
}

# guest_link MAC WORD: a guest-side snippet waiting (5 s at most, in the
# guest: the guest learns of a link change from an interrupt) until the
# interface with MAC shows WORD (NO-CARRIER, LOWER_UP) in ip link.
guest_link() {
    printf '%s && i=0; while ! ip link show $d | grep -q %s && [ $i -lt 50 ]; do usleep 100000; i=$((i+1)); done; ip link show $d | grep -q %s' \
        "$(ifname_of "$1")" "$2" "$2"
}

# owner_port LAN OWNER: the number of the port port ls names after OWNER.
owner_port() {
    plugnet --json port ls "$1" | jq -e -r ".ports[] | select(.owner == \"$2\") | .port"
}

# Port events on switchd.port, in JSON, until the listener is killed.
listen_ports() {
    rm -f "$TEST_DIR/ready" && mkfifo "$TEST_DIR/ready" &&
    { plugnet events --json --timeout 600 switchd.port >"$TEST_DIR/ports.ev" 2>"$TEST_DIR/ready" & } &&
    listener=$! &&
    read -r -t 10 line <"$TEST_DIR/ready" &&
    [ "$line" = "# subscribed" ]
}
# ev_owner ACTION OWNER: a port event of that action names the owner.
ev_owner() {
    jq -e -s --arg a "$1" --arg o "$2" \
        'map(select(.action == $a and .actor.attributes.owner == $o)) | length > 0' "$TEST_DIR/ports.ev" >/dev/null
}
ev_owner_any() { ev_owner up "$1" || ev_owner owner "$1"; }
# ns_carrier NODE IF yes|no: the interface in the ns node has carrier or not.
ns_carrier() {
    f=$(ip -n "$(vm_field "$1" .netns)" -o link show "$2") || return 1
    case $3 in
    no) case $f in *NO-CARRIER*) return 0 ;; esac; return 1 ;;
    yes) case $f in *NO-CARRIER*) return 1 ;; *LOWER_UP*) return 0 ;; esac; return 1 ;;
    esac
}

test_expect_success ROOT,NETNS 'daemons, a LAN, a listener on port events' '
    vm_daemons &&
    plugnet lan add lnk >/dev/null &&
    listen_ports
'

test_expect_success ROOT,NETNS 'an ns node: its tap port is n1:eth1 in port ls, lan show, stats and events' '
    plugnet node add n1 --kind ns --nic lnk,ip=10.93.0.1/24 --start >/dev/null &&
    plugnet node add n2 --kind ns --nic lnk,ip=10.93.0.2/24 --start >/dev/null &&
    owner_port lnk n1:eth1 >/dev/null &&
    plugnet port ls lnk >out &&
    grep -q "NODE:IFACE" out &&
    grep -E -q "^[0-9]+ +tap +up +eth1 +n1:eth1$" out &&
    grep -E -q "^[0-9]+ +tap +up +eth1 +n2:eth1$" out &&
    plugnet lan show lnk >out && grep -E -q " n1:eth1$" out &&
    plugnet stats lnk >out && grep -q "NODE:IFACE" out && grep -E -q "^[0-9]+ +tap +up .* n2:eth1$" out &&
    test "$(plugnet --json stats lnk | jq -r ".ports[] | select(.owner == \"n1:eth1\") | .kind")" = tap &&
    retry_until 10 ev_owner up n1:eth1
'

test_expect_success ROOT,NETNS 'link down: the ns node sees NO-CARRIER, the port is admin down; up brings both back' '
    retry_until 10 vm_ns_ping n1 10.93.0.2 &&
    retry_until 10 ns_carrier n1 eth1 yes &&
    plugnet link n1:eth1 down >out &&
    grep -q "link n1:eth1 down (lan lnk, 1 switch port)" out &&
    retry_until 10 ns_carrier n1 eth1 no &&
    p=$(owner_port lnk n1:eth1) &&
    test "$(plugnet --json port ls lnk | jq -r ".ports[] | select(.port == $p) | .admin")" = down &&
    test_must_fail vm_ns_ping n1 10.93.0.2 &&
    retry_until 10 ev_owner admin n1:eth1 &&
    plugnet link n1:eth1 up >/dev/null &&
    retry_until 10 ns_carrier n1 eth1 yes &&
    test "$(plugnet --json port ls lnk | jq -r ".ports[] | select(.port == $p) | .admin")" = up &&
    retry_until 10 vm_ns_ping n1 10.93.0.2 &&
    # port set down cuts the carrier too
    plugnet port set lnk "$p" down >/dev/null &&
    retry_until 10 ns_carrier n1 eth1 no &&
    plugnet port set lnk "$p" up >/dev/null &&
    retry_until 10 ns_carrier n1 eth1 yes
'

test_expect_success ROOT,NETNS 'link: bad names and usage' '
    test_expect_code 1 plugnet link nosuch:eth1 down 2>err &&
    grep -q "nosuch" err &&
    test_expect_code 1 plugnet link n1:eth7 down 2>err &&
    grep -q "has no eth7" err &&
    test_expect_code 2 plugnet link n1 down 2>err &&
    test_expect_code 2 plugnet link n1:eth1 sideways 2>err &&
    plugnet link --help >out && grep -q "uml" out
'

test_expect_success ROOT,NETNS,UML 'a UML node: its VDE port is u1:eth1; link down drops frames and says the guest keeps its carrier' '
    pn_image &&
    plugnet node add u1 --kind uml --nic lnk,ip=10.93.0.11/24 --start >/dev/null &&
    vm_console_wait u1 120 "plugnet: shell ready" &&
    retry_until 30 owner_port lnk u1:eth1 >/dev/null &&
    plugnet port ls lnk >out &&
    grep -E -q "^[0-9]+ +vde +up +.* u1:eth1$" out &&
    retry_until 10 ev_owner_any u1:eth1 &&
    retry_until 20 vm_ns_ping n1 10.93.0.11 &&
    plugnet link u1:eth1 down >out &&
    grep -q "uml: the guest keeps its carrier; frames are dropped" out &&
    test "$(plugnet --json link u1:eth1 down | jq -r .carrier)" = kept &&
    test_must_fail vm_ns_ping n1 10.93.0.11 &&
    plugnet link u1:eth1 up >/dev/null &&
    retry_until 20 vm_ns_ping n1 10.93.0.11
'

test_expect_success ROOT,NETNS,QEMU 'a qemu node: its VDE port is q1:eth1; link down takes the guest NIC to NO-CARRIER' '
    pn_image &&
    plugnet node add q1 --kind qemu --nic lnk,ip=10.93.0.21/24 --start >/dev/null &&
    vm_console_wait q1 240 "plugnet: shell ready" &&
    { retry_until 30 owner_port lnk q1:eth1 >/dev/null || { plugnet port ls lnk; false; }; } &&
    plugnet port ls lnk >out &&
    { grep -E -q "^[0-9]+ +vde +up +QEMU.* q1:eth1$" out || { cat out; false; }; } &&
    # qemu connects at once: port.up, then port.owner once vmd knew its pid
    { retry_until 10 ev_owner_any q1:eth1 || { cat "$TEST_DIR/ports.ev"; false; }; } &&
    m=$(vm_field q1 ".nics[] | select(.ifname == \"eth1\") | .mac") &&
    { vm_console_run q1 60 "$(guest_link $m LOWER_UP)" || { echo "eth1 of q1 has no LOWER_UP"; false; }; } &&
    plugnet link q1:eth1 down >out &&
    { test "$(plugnet --json link q1:eth1 down | jq -r .carrier)" = follows || { echo "carrier not follows"; false; }; } &&
    { vm_console_run q1 60 "$(guest_link $m NO-CARRIER)" || { echo "eth1 of q1 has no NO-CARRIER"; false; }; } &&
    test_must_fail vm_ns_ping n1 10.93.0.21 &&
    plugnet link q1:eth1 up >/dev/null &&
    { vm_console_run q1 60 "$(guest_link $m LOWER_UP)" || { echo "eth1 of q1 has no LOWER_UP after up"; false; }; } &&
    retry_until 20 vm_ns_ping n1 10.93.0.21
'

test_expect_success ROOT,NETNS 'stop the listener' '
    kill $listener && wait $listener
    true
'

test_done
