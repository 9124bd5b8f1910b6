#!/bin/bash
# switchd's restart without loss, without systemd: pn-fdstore-run plays
# systemd's part (NOTIFY_SOCKET, FDSTORE=1 / FDSTOREREMOVE=1, and a restart
# on failure with the stored descriptors in LISTEN_FDS / LISTEN_FDNAMES).
# Taps and a real VDE client (vde_plug) survive kill -9 of switchd with the
# same port numbers and counters; the store follows port deletion; a
# damaged state file costs the ports but never the daemon; a clean stop
# ends everything.  (make check-systemd does the same under a real systemd.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sw-lib.sh"

test_lazy_prereq VDE_PLUG "vde_plug (package vdeplug) is not installed" 'command -v vde_plug'

A="pfa$TEST_TAG" B="pfb$TEST_TAG" C="pfc$TEST_TAG"

# sup_wait N PATTERN: block until the supervisor printed N lines matching
# PATTERN (its output is the event; tail -F follows it).
sup_wait() {
    timeout 30 bash -c '[ "$(grep -E -m "$2" -c -- "$3" <(tail -n +1 -F "$1" 2>/dev/null))" = "$2" ]' _ sup.out "$1" "$2"
}

sw_pid() { plugnet --json call switchd ping | jq -r .pid; }

test_expect_success ROOT,NETNS,VDE_PLUG 'switchd under the fd store: two taps and a VDE client ping' '
    { pn-fdstore-run --list store.list -- plugnet-switchd >sup.out 2>sup.err & } &&
    sup_pid=$! &&
    test_atexit "kill $sup_pid 2>/dev/null; timeout 20 tail --pid=$sup_pid -f /dev/null" &&
    sup_wait 1 "^READY" &&
    plugnet lan add net1 &&
    sw_ns $A && sw_ns $B && sw_ns $C &&
    sw_tap_into net1 "ta$TEST_TAG" $A 10.61.0.1/24 >/dev/null &&
    sw_tap_into net1 "tb$TEST_TAG" $B 10.61.0.2/24 >/dev/null &&
    { ip netns exec $C vde_plug "vde://$PLUGNET_RUN_DIR/lan/net1" "tap://vc$TEST_TAG" >vde.log 2>&1 & } &&
    vde_pid=$! &&
    test_atexit "kill $vde_pid 2>/dev/null" &&
    retry_until 10 ip -n $C link show "vc$TEST_TAG" &&
    ip -n $C addr add 10.61.0.3/24 dev "vc$TEST_TAG" && ip -n $C link set "vc$TEST_TAG" up &&
    retry_until 10 sw_ping $A 10.61.0.2 &&
    retry_until 10 sw_ping $A 10.61.0.3 &&
    sort store.list >names &&
    printf "%s\n" c.net1.3 d.net1.3 l.net1 t.net1.1 t.net1.2 >expected &&
    test_cmp expected names
'

test_expect_success ROOT,NETNS,VDE_PLUG 'kill -9 switchd: it comes back with the same ports, taps and counters' '
    plugnet --json port ls net1 | jq -c .ports >ports.before &&
    plugnet --json stats net1 | jq -r ".ports[] | \"\(.port) \(.rx_frames)\"" >cnt.before &&
    [ "$(wc -l <cnt.before)" = 3 ] &&
    # switchd saves its counters once a second: let one save pass.
    m0=$(stat -c %.9Y "$PLUGNET_RUN_DIR/switchd.fds") &&
    retry_until 5 eval "[ \"\$(stat -c %.9Y \"\$PLUGNET_RUN_DIR/switchd.fds\")\" != $m0 ]" &&
    old=$(sw_pid) &&
    kill -9 "$old" &&
    sup_wait 2 "^READY" &&
    [ "$(sw_pid)" != "$old" ] &&
    grep -q "re-adopted 3 ports on 1 LANs" sup.err &&
    plugnet --json port ls net1 | jq -c .ports >ports.after &&
    test_cmp ports.before ports.after &&
    ip -n $A link show "ta$TEST_TAG" && ip -n $B link show "tb$TEST_TAG" &&
    kill -0 "$vde_pid" &&
    plugnet --json stats net1 | jq -r ".ports[] | \"\(.port) \(.rx_frames)\"" >cnt.after &&
    (while read -r port rx; do
        now=$(sed -n "s/^$port //p" cnt.after) &&
        echo "port $port: rx $rx -> $now" &&
        [ "$now" -ge "$rx" ] && [ "$now" -gt 0 ] || exit 1
    done <cnt.before) &&
    sw_ping $A 10.61.0.2 && sw_ping $A 10.61.0.3 && sw_ping $B 10.61.0.3
'

test_expect_success ROOT,NETNS,VDE_PLUG 'deleting a port takes its tap out of the store' '
    plugnet port del net1 2 &&
    retry_until 5 eval "! grep -qx t.net1.2 store.list" &&
    grep -qx t.net1.1 store.list &&
    ! ip -n $B link show "tb$TEST_TAG" 2>/dev/null
'

test_expect_success ROOT,NETNS,VDE_PLUG 'a damaged state file costs the ports, not the daemon' '
    old=$(sw_pid) &&
    kill -STOP "$old" &&
    printf "\301 not msgpack" >"$PLUGNET_RUN_DIR/switchd.fds" &&
    kill -9 "$old" &&
    sup_wait 3 "^READY" &&
    grep -q "cannot load .*switchd.fds" sup.err &&
    plugnet --json lan ls | jq -e ".lans[] | select(.name == \"net1\")" &&
    test "$(plugnet --json port ls net1 | jq ".ports | length")" = 0 &&
    retry_until 5 eval "[ \"\$(cat store.list)\" = l.net1 ]" &&
    ! ip -n $A link show "ta$TEST_TAG" 2>/dev/null &&
    timeout 10 tail --pid="$vde_pid" -f /dev/null
'

test_expect_success ROOT,NETNS 'a clean stop ends the run with status 0' '
    plugnet --json port add-tap net1 "td$TEST_TAG" >/dev/null &&
    ip link show "td$TEST_TAG" &&
    kill -TERM "$sup_pid" &&
    timeout 20 tail --pid="$sup_pid" -f /dev/null &&
    grep -q "^EXIT [0-9]* status 0" sup.out &&
    ! ip link show "td$TEST_TAG" 2>/dev/null
'

test_done
