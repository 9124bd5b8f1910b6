#!/bin/bash
# vmd with namespace nodes: lifecycle, the seed addressing rule, the
# management LAN, live NICs, crashes, adoption and bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_expect_success ROOT,NETNS 'daemons start' '
    vm_daemons &&
    plugnet lan add lan1 >/dev/null
'

test_expect_success ROOT,NETNS 'ten ns nodes on one LAN all reach each other' '
    for i in 1 2 3 4 5 6 7 8 9 10; do
        plugnet node add n$i --kind ns --nic lan1,ip=10.99.0.$i/24 --start >/dev/null || return 1
    done &&
    for i in 1 2 3 4 5 6 7 8 9 10; do
        test "$(vm_field n$i .state)" = running || return 1
        for j in 1 2 3 4 5 6 7 8 9 10; do
            [ $i = $j ] && continue
            retry_until 5 vm_ns_ping n$i 10.99.0.$j || { echo "n$i cannot reach n$j"; return 1; }
        done
    done
'

test_expect_success ROOT,NETNS 'the seed rule: MACs, management address, host reaches the node' '
    plugnet node add seed --kind ns --number 1234 --nic lan1 --start >/dev/null &&
    test "$(vm_field seed ".nics[] | select(.ifname == \"eth1\") | .mac")" = 02:00:0c:22:00:01 &&
    test "$(vm_field seed ".nics[] | select(.ifname == \"eth0\") | .mac")" = 02:00:0c:22:00:00 &&
    test "$(vm_field seed .mgmt_ip)" = "$PLUGNET_MGMT_PREFIX.12.34/16" &&
    ns=$(vm_field seed .netns) &&
    { ip -n "$ns" link show eth1 | grep -q "link/ether 02:00:0c:22:00:01" ||
      { echo "eth1 in $ns:"; ip -n "$ns" link; false; }; } &&
    { test "$(nsenter -t "$(vm_field seed .pid)" -u hostname)" = seed ||
      { echo "hostname: $(nsenter -t "$(vm_field seed .pid)" -u hostname)"; false; }; } &&
    { retry_until 20 ping -n -q -c1 -W1 "$PLUGNET_MGMT_PREFIX.12.34" >/dev/null ||
      { echo "the host cannot ping $PLUGNET_MGMT_PREFIX.12.34:"; ip -br addr; ip -n "$ns" -br addr; plugnet port ls mgmt; false; }; }
'

test_expect_success ROOT,NETNS 'nic.add plugs eth2 live on a new LAN; nic.del unplugs it' '
    plugnet lan add lan2 >/dev/null &&
    plugnet nic add n1 eth2 lan2 --ip 10.98.0.1/24 >/dev/null &&
    plugnet nic add n2 eth2 lan2 --ip 10.98.0.2/24 >/dev/null &&
    retry_until 5 vm_ns_ping n1 10.98.0.2 &&
    plugnet nic del n2 eth2 &&
    ! vm_ns_ping n1 10.98.0.2 &&
    test "$(vm_field n2 ".nics | length")" = 2 &&
    vm_ns_ping n1 10.99.0.2
'

test_expect_success ROOT,NETNS 'an ns node whose command exits is crashed, with its status and output' '
    plugnet node add dies --kind ns --start -- sh -c "echo about to fail; read x </dev/null; exit 3" >/dev/null;
    retry_until 10 sh -c "test \"\$(plugnet --json node show dies | jq -r .state)\" = crashed" &&
    test "$(vm_field dies .exit_status)" = 3 &&
    vm_field dies ".console_tail[]" | grep -q "about to fail" &&
    dns=$(vm_field dies .netns) && [ -n "$dns" ] &&
    ip netns list >netns.now && test_grep_not -q "^$dns\\b" netns.now
'

test_expect_success ROOT,NETNS 'stop ends a node gracefully; start brings it back' '
    plugnet node stop n10 &&
    test "$(vm_field n10 .state)" = stopped &&
    ! vm_ns_ping n1 10.99.0.10 &&
    plugnet node start n10 &&
    retry_until 5 vm_ns_ping n1 10.99.0.10
'

test_expect_success ROOT,NETNS 'every transition is an event: defined, starting, running, stopping, stopped' '
    mkfifo "$TEST_DIR/ev.ready" &&
    { plugnet events --json -n 6 --timeout 20 vmd.node >"$TEST_DIR/ev" 2>"$TEST_DIR/ev.ready" & } &&
    evpid=$! &&
    read -r -t 10 line <"$TEST_DIR/ev.ready" && [ "$line" = "# subscribed" ] &&
    plugnet node add evn --kind ns --no-mgmt --start >/dev/null &&
    plugnet node kill evn &&
    wait $evpid &&
    jq -r "select(.attributes.state != null) | .attributes.state" "$TEST_DIR/ev" | tr "\n" " " >"$TEST_DIR/states" &&
    test "$(cat "$TEST_DIR/states")" = "defined starting running stopping stopped " &&
    jq -r "select(.action == \"added\") | .actor.id" "$TEST_DIR/ev" | grep -q evn
'

test_expect_success ROOT,NETNS 'reboot restarts a running node' '
    pid1=$(vm_field n5 .pid) &&
    plugnet node reboot n5 &&
    retry_until 10 sh -c "test \"\$(plugnet --json node show n5 | jq -r .state)\" = running" &&
    test "$(vm_field n5 .pid)" != "$pid1" &&
    retry_until 5 vm_ns_ping n1 10.99.0.5
'

test_expect_success ROOT,NETNS 'bad input is refused with its own error and leaves nothing behind' '
    before=$(plugnet --json node ls | jq ".nodes | length") &&
    ports=$(plugnet --json port ls lan1 | jq ".ports | length") &&
    ! plugnet node add bad1 --kind ns --nic nosuchlan 2>err && grep -q "not_found.*nosuchlan" err &&
    ! plugnet node add n1 --kind ns 2>err && grep -q "already_exists.*n1" err &&
    ! plugnet node add bad2 --kind ns --number 1234 2>err && grep -q "already_exists.*1234.*seed" err &&
    ! plugnet node add bad3 --kind uml --mem 99999999 2>err && grep -q "invalid_argument.*mem" err &&
    ! plugnet node add bad4 --kind uml --image /nonexistent/disk.img 2>err && grep -q "not_found.*nonexistent" err &&
    ! plugnet node add bad5 --kind ns --nic lan1,mac=02:00:00:01:00:01 2>err && grep -q "already_exists.*02:00:00:01:00:01" err &&
    ! plugnet node add BAD --kind ns 2>err && grep -q invalid_argument err &&
    plugnet node start n1 >out && grep -qx "node .n1. is already running" out &&
    test_must_fail plugnet call vmd node.start name=n1 2>err && grep -q "busy.*running" err &&
    ! plugnet node show nosuch 2>err && grep -q "not_found" err &&
    test "$(plugnet --json node ls | jq ".nodes | length")" = "$before" &&
    test "$(plugnet --json port ls lan1 | jq ".ports | length")" = "$ports" &&
    ls "$PLUGNET_STATE_DIR/nodes" >nodes.now && test_grep_not -q "^bad" nodes.now
'

# Running here: n1..n10 and seed (dies crashed, evn was killed).
test_expect_success ROOT,NETNS 'vmd killed with SIGKILL and started again adopts every running node' '
    plugnet --json node ls >ls.before &&
    jq -r ".nodes[] | select(.state == \"running\") | \"\(.name) \(.pid)\"" ls.before | sort >running.before &&
    test "$(wc -l <running.before)" = 11 &&
    kill -9 "$(vm_pid)" &&
    plugnet daemons start vmd >/dev/null &&
    while read -r name pid; do
        plugnet --json node show "$name" >show.json &&
        echo "$name $(jq -r "[.state, .pid, .adopted] | join(\" \")" show.json)" >>adopted || return 1
    done <running.before &&
    awk "{ print \$1, \"running\", \$2, \"true\" }" running.before >adopted.want &&
    test_cmp adopted.want adopted &&
    test "$(vm_field dies .state)" = defined &&
    for i in 1 2 4 5 6 7 8 9 10; do vm_ns_ping n3 10.99.0.$i || { echo "n3 cannot reach n$i"; return 1; }; done &&
    ping -n -q -c1 -W2 "$PLUGNET_MGMT_PREFIX.12.34" >/dev/null &&
    plugnet node kill n3 &&
    test "$(vm_field n3 .state)" = stopped
'

test_expect_success ROOT,NETNS 'node del removes a stopped node and its namespace' '
    ns=$(vm_field n3 .netns) &&
    plugnet node del n3 &&
    ! plugnet node show n3 2>/dev/null &&
    ip netns list >netns.now && test_grep_not -q "^$ns\\b" netns.now &&
    ! plugnet node del n4 2>err && grep -q busy err &&
    plugnet node del --force n4 &&
    ! plugnet node show n4 2>/dev/null
'

test_done
