# tests/lib-vmd.sh — helpers for the vmd tests (t2xxx); source after lib.sh.

# The tiny guest image: `make check` builds it before any test starts (so
# parallel tests never race to build it); a test only checks it is there.
pn_image() {
    [ -r "$PLUGNET_BUILD/image/manifest" ] ||
        test_fail "no guest image in $PLUGNET_BUILD/image: run 'make image' (make check builds it)"
}

# wait_for_line SECONDS FILE PATTERN: block (on inotify through tail -F, not
# by sleeping) until FILE holds a line matching the extended regex PATTERN.
wait_for_line() {
    timeout "$1" bash -c 'grep -E -q -m1 -- "$2" <(tail -n +1 -F "$1" 2>/dev/null)' _ "$2" "$3" && return 0
    { echo "wait_for_line: no line matching '$3' in $2 after $1 s; its last lines:"
      tail -n 20 "$2" 2>&1 | sed 's/^/| /'; } >&2
    return 1
}

# Kill a process group (started with setsid, so its leader's pid is the
# group id: UML leaves helper processes behind otherwise) and reap it.
# Not `kill -9 -- -PID`: dash's kill takes no `--` and refused the group
# kill, so only the leader died and UML's helpers outlived the test.
# Fails when a member of the group is still alive afterwards.
kill_wait() {
    kill -9 "-$1" 2>/dev/null
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    retry_until 30 _kw_group_gone "$1" || { echo "process group $1 outlived kill -9" >&2; return 1; }
}
_kw_group_gone() {
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { alive = 1 } END { exit alive }'
}

test_lazy_prereq UML "user-mode-linux is not installed" 'command -v linux || [ -x /usr/bin/linux.uml ]'
test_lazy_prereq QEMU "qemu-system-x86_64 is not installed" 'command -v qemu-system-x86_64'

# The management /16 of this test (PLUGNET_MGMT_PREFIX) is claimed by lib.sh.

# vm_daemons [DAEMON...]: the daemons for this test (default: switchd,
# cfgdiskd and vmd -- not agentd, whose knock types into the consoles the
# tests type into), stopped (with their nodes) at the end.
vm_daemons() {
    if [ $# = 0 ]; then set -- switchd cfgdiskd vmd; fi
    pn_daemons_start "$@"
}

# vm_field NODE JQ: one field of node.show.
vm_field() { plugnet --json node show "$1" | jq -r "$2"; }

# vm_console_wait NODE SECONDS PATTERN: wait for PATTERN on the node's console.
vm_console_wait() {
    wait_for_line "$2" "$PLUGNET_STATE_DIR/nodes/$1/console.log" "$3"
}

# vm_console_run NODE SECONDS 'shell command': run it on the node's root
# console and wait for its exit status 0 (a unique marker per call).  The
# console connection stays open until the answer came: qemu drops what it
# has not read yet when a client hangs up.
_vm_mark=0
_vm_want=0
vm_console_run() {
    _vm_mark=$((_vm_mark + 1))
    _m="pnmark${_vm_mark}x$$"
    rm -f "$TEST_DIR/.vmrc"
    {
        printf '%s; echo %s-$?-end\n' "$3" "$_m"
        vm_console_wait "$1" "$2" "^$_m-[0-9]+-end"
        echo $? >"$TEST_DIR/.vmrc"
    } | socat -u - "UNIX-CONNECT:$PLUGNET_STATE_DIR/nodes/$1/console.sock" || return 1
    [ "$(cat "$TEST_DIR/.vmrc" 2>/dev/null)" = 0 ] &&
    grep -a -q -E "^$_m-$_vm_want-end" "$PLUGNET_STATE_DIR/nodes/$1/console.log"
}

# vm_console_fails NODE SECONDS 'shell command': the command ran and failed.
vm_console_fails() {
    _vm_want='[1-9][0-9]*'
    vm_console_run "$@"
    _r=$?
    _vm_want=0
    return $_r
}

# The vmd daemon's pid.
vm_pid() { plugnet --json status | jq -r '.[] | select(.daemon == "vmd") | .pid'; }

# vm_ns_ping NODE ADDR: one ping from inside an ns node.
vm_ns_ping() { ip netns exec "$(vm_field "$1" .netns)" ping -n -q -c 1 -W 2 "$2" >/dev/null 2>&1; }
