#!/bin/bash
# Boot progress: `plugnet node start` on a terminal shows the boot live
# (state transitions, elapsed time, the last console line) until the
# node's config is done; without a terminal it prints nothing; --wait
# waits for the boot in any output mode and fails clearly (the node's name,
# its last console lines) when the node dies or the time runs out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_lazy_prereq SCRIPT "script(1) (bsdutils) is not installed" 'command -v script'

# on_tty CMD...: run CMD under a pseudo-terminal (script(1)), its exit
# status kept; what the terminal got in $TEST_DIR/tty.out, and as lines
# (each carriage return a line end, the erase-line sequences gone) in
# $TEST_DIR/tty.txt.
on_tty() {
    script -qefc "$*" /dev/null >"$TEST_DIR/tty.out" 2>&1 </dev/null
    _r=$?
    tr "\r" "\n" <"$TEST_DIR/tty.out" | sed "s/\x1b\[K//g" >"$TEST_DIR/tty.txt"
    return $_r
}

test_expect_success ROOT,UML 'image and daemons' '
    pn_image &&
    vm_daemons &&
    plugnet lan add lan1 >/dev/null
'

test_expect_success ROOT,UML,SCRIPT 'on a terminal, node start shows the boot live until config done' '
    plugnet node add u1 --kind uml --nic lan1,ip=10.93.0.1/24 >/dev/null &&
    on_tty plugnet node start u1 &&
    grep -q "^u1: starting (" "$TEST_DIR/tty.txt" &&
    grep -q "^u1: running (" "$TEST_DIR/tty.txt" &&
    grep -q -E "^u1: config done \([0-9]+\.[0-9]s\)" "$TEST_DIR/tty.txt" &&
    grep -a -q "\[ *[0-9]*\.[0-9]s\] u1 running | " "$TEST_DIR/tty.txt" &&
    # it returned once the config was done
    grep -a -q "^plugnet: config done" "$PLUGNET_STATE_DIR/nodes/u1/console.log"
'

test_expect_success ROOT,UML 'not on a terminal: quiet; --wait waits for config done, --json tells the boot time' '
    plugnet node stop u1 &&
    plugnet node start u1 >out 2>err &&
    ! test -s out &&
    ! test -s err &&
    plugnet node stop u1 &&
    n=$(grep -a -c "^plugnet: config done" "$PLUGNET_STATE_DIR/nodes/u1/console.log") &&
    plugnet --json node start u1 --wait 120 >out &&
    test "$(grep -a -c "^plugnet: config done" "$PLUGNET_STATE_DIR/nodes/u1/console.log")" -gt "$n" &&
    test "$(jq -r .booted out)" = config &&
    test "$(jq -r .state out)" = running &&
    test "$(jq -r .boot_ms out)" -gt 0 &&
    plugnet node add u2 --kind uml --nic lan1,ip=10.93.0.2/24 --wait >out &&
    grep -q "^u2: running uml node" out &&
    grep -a -q "^plugnet: config done" "$PLUGNET_STATE_DIR/nodes/u2/console.log"
'

test_expect_success ROOT,NETNS 'an ns node has booted once it runs' '
    plugnet --json node add n1 --kind ns --nic lan1,ip=10.93.0.9/24 --wait=30 >out &&
    test "$(jq -r .booted out)" = running &&
    test "$(jq -r .state out)" = running &&
    plugnet node del --force n1 >/dev/null
'

test_expect_success ROOT,UML 'a node that dies while booting: --wait fails with its name and last console lines' '
    head -c 1M /dev/zero >"$TEST_DIR/junk.img" &&
    plugnet node add bad --kind uml --image "$TEST_DIR/junk.img" --no-mgmt >/dev/null &&
    { plugnet node start bad --wait=60 >out 2>err; test $? = 1; } &&
    ! test -s out &&
    grep -q "^plugnet: node .bad. crashed before its boot completed" err &&
    grep -q "last console lines:" err &&
    grep -q "^  | .*VFS" err
'

test_expect_success ROOT,UML,SCRIPT 'a boot that outlasts --wait: the error names the node and shows its console' '
    plugnet node stop u2 &&
    { on_tty plugnet node start u2 --wait=0.3; test $? = 1; } &&
    grep -q "^plugnet: node .u2. did not finish booting within 0.3s (it is running" "$TEST_DIR/tty.txt" &&
    ! plugnet node start u2 --wait=x 2>err &&
    grep -q "wants a positive number" err
'

# vmd answers node.stop when the node's monitor ends; a monitor that does
# not end (here: stopped) must not keep the answer back for ever.
test_expect_success ROOT,UML 'node stop answers when the node monitor does not end, and vmd says why' '
    test "$(vm_field u1 .state)" = running &&
    mon=$(vm_field u1 .monitor_pid) &&
    kill -STOP "$mon" &&
    test_when_finished "kill -CONT $mon 2>/dev/null || :  # vmd has killed it: gone is fine" &&
    timeout 60 plugnet node stop u1 &&
    test "$(vm_field u1 .state)" = stopped &&
    grep -q "u1: its monitor (pid $mon, state T, .*killing the monitor" "$PLUGNET_STATE_DIR/log/vmd.log"
'

test_done
