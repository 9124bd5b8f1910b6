#!/bin/bash
# vmd never waits on another daemon from its loop: with switchd and agentd
# frozen (SIGSTOP), node starts that need them are held while vmd answers
# ping within 100 ms (the CLI's own deadline measures the round trip); the
# start that needs switchd ends at its deadline with an error naming
# switchd, the one that only waits for agentd's acknowledgement ends well
# after 2 s; once both run again, vmd works with them as before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

daemon_pid() { plugnet --json status | jq -r ".[] | select(.daemon == \"$1\") | .pid"; }

# start_bg NODE: node start in the background ($TEST_DIR/NODE.{rc,err});
# returns once vmd shows it in progress.
start_bg() {
    rm -f "$TEST_DIR/$1.rc"
    { plugnet node start "$1" >/dev/null 2>"$TEST_DIR/$1.err"; echo $? >"$TEST_DIR/$1.rc"; } &
    retry_until 10 sh -c "test \"\$(plugnet --json node show $1 | jq -r .busy)\" = node.start"
}
start_bg_end() { retry_until "$1" test -s "$TEST_DIR/$2.rc" && test "$(cat "$TEST_DIR/$2.rc")" = "$3"; }

# ping_fast: five pings of vmd, each answered within 100 ms.
ping_fast() {
    for i in 1 2 3 4 5; do
        plugnet --timeout 0.1 call vmd ping >/dev/null || { echo "vmd did not answer ping within 100 ms" >&2; return 1; }
    done
}

test_expect_success ROOT,NETNS 'daemons, a LAN, two ns nodes defined' '
    vm_daemons switchd cfgdiskd vmd agentd &&
    plugnet lan add lan1 >/dev/null &&
    plugnet node add b1 --kind ns --no-mgmt --nic lan1 >/dev/null &&
    plugnet node add c1 --kind ns --no-mgmt >/dev/null &&
    spid=$(daemon_pid switchd) && test -n "$spid" &&
    apid=$(daemon_pid agentd) && test -n "$apid"
'

test_expect_success ROOT,NETNS 'switchd and agentd frozen: vmd answers ping within 100 ms while starts wait on them' '
    kill -STOP "$spid" "$apid" &&
    test_when_finished "kill -CONT $spid $apid" &&
    start_bg b1 &&
    ping_fast &&
    start_bg c1 &&
    ping_fast &&
    plugnet --timeout 0.1 node ls >/dev/null &&
    # still waiting: the pings were answered while the starts were held
    test "$(plugnet --json node show b1 | jq -r .busy)" = node.start &&
    # c1 needs agentd only to acknowledge its registration: it runs after 2 s
    start_bg_end 10 c1 0 &&
    test "$(vm_field c1 .state)" = running &&
    # b1 needs switchd: its call times out cleanly, naming the peer
    start_bg_end 20 b1 1 &&
    grep -q "unavailable: cannot start node .b1.: switchd is unreachable (Connection timed out): plugnet-switchd did not answer .lan.show. within 10000 ms" "$TEST_DIR/b1.err" &&
    test "$(vm_field b1 .busy)" = null &&
    test "$(vm_field b1 .state)" = defined &&
    ping_fast
'

test_expect_success ROOT,NETNS 'switchd and agentd run again: vmd works with them' '
    kill -CONT "$spid" "$apid" &&
    plugnet node start b1 >/dev/null &&
    test "$(vm_field b1 .state)" = running &&
    test "$(plugnet --json port ls lan1 | jq ".ports | length")" = 1 &&
    plugnet node stop b1 >/dev/null &&
    plugnet node stop c1 >/dev/null &&
    test "$(vm_field b1 .state)" = stopped &&
    ping_fast
'

test_done
