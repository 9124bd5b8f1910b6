#!/bin/bash
# The agents of vmd's UML and qemu nodes across a `plugnet node reboot`
# (agent down, then up again, exec works in the new boot), and the knock on
# vmd's wiring: an agent killed in a running guest comes back through the
# node's console (qemu: the virtio console vmd's monitor holds and serves;
# UML: the relayed con0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1

test_lazy_prereq AGENT "the guest agent is not built" 'test -x "$PLUGNET_BUILD/bin/plugnet-agent"'
# Knock soon on a node whose agent stays down.
export PLUGNET_AGENT_KNOCK_MS=2000

# boot_s NODE: seconds since the guest booted.
boot_s() { plugnet exec "$1" -- cut -d. -f1 /proc/uptime; }

test_expect_success ROOT,UML,QEMU,AGENT 'a UML and a qemu node up, their agents answer' '
    pn_image &&
    vm_daemons switchd cfgdiskd vmd agentd &&
    ag_events_start &&
    plugnet node add u1 --kind uml --start >/dev/null &&
    plugnet node add q1 --kind qemu --start >/dev/null &&
    test "$(plugnet exec u1 --wait 120 -- hostname)" = u1 &&
    test "$(plugnet exec q1 --wait 180 -- hostname)" = q1 &&
    echo mark >m && plugnet cp m u1:/tmp/mark && plugnet cp m q1:/tmp/mark
'

test_expect_success ROOT,UML,QEMU,AGENT 'node reboot: each agent goes down, comes back up, exec runs in the new boot' '
    uups=$(ag_events up | grep -c "\"node\":\"u1\"") &&
    qups=$(ag_events up | grep -c "\"node\":\"q1\"") &&
    plugnet node reboot u1 q1 >/dev/null &&
    retry_until 60 ag_events_count 1 down u1 &&
    retry_until 60 ag_events_count 1 down q1 &&
    retry_until 120 ag_events_count $((uups + 1)) up u1 &&
    retry_until 180 ag_events_count $((qups + 1)) up q1 &&
    test "$(plugnet exec u1 -- hostname)" = u1 &&
    test "$(plugnet exec q1 -- hostname)" = q1 &&
    ! plugnet exec u1 -- test -e /tmp/mark &&
    ! plugnet exec q1 -- test -e /tmp/mark &&
    test "$(boot_s u1)" -lt 120 && test "$(boot_s q1)" -lt 180
'

test_expect_success ROOT,UML,QEMU,AGENT 'an agent killed in a running guest comes back through the console (the knock)' '
    downs_u=$(ag_events down | grep -c "\"node\":\"u1\"") &&
    downs_q=$(ag_events down | grep -c "\"node\":\"q1\"") &&
    ups_u=$(ag_events up | grep -c "\"node\":\"u1\"") &&
    ups_q=$(ag_events up | grep -c "\"node\":\"q1\"") &&
    bu=$(boot_s u1) && bq=$(boot_s q1) &&
    { plugnet exec u1 -- sh -c "kill -9 \$(pidof plugnet-agent)"; true; } &&
    { plugnet exec q1 -- sh -c "kill -9 \$(pidof plugnet-agent)"; true; } &&
    retry_until 60 ag_events_count $((downs_u + 1)) down u1 &&
    retry_until 60 ag_events_count $((downs_q + 1)) down q1 &&
    retry_until 90 ag_events_count $((ups_u + 1)) up u1 &&
    retry_until 90 ag_events_count $((ups_q + 1)) up q1 &&
    grep -q "u1: knocking" "$PLUGNET_STATE_DIR/log/agentd.log" &&
    grep -q "q1: knocking" "$PLUGNET_STATE_DIR/log/agentd.log" &&
    test "$(boot_s u1)" -ge "$bu" && test "$(boot_s q1)" -ge "$bq" &&
    test "$(vm_field u1 .state)" = running && test "$(vm_field q1 .state)" = running
'

test_expect_success ROOT,UML,QEMU,AGENT 'nodes deleted' '
    plugnet node del --force u1 q1 >/dev/null &&
    ! plugnet node show u1 2>/dev/null && ! plugnet node show q1 2>/dev/null
'

test_done
