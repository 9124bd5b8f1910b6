# tests/lib.sh — a small TAP test library in the manner of git's t/test-lib.sh.
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'what it proves' '
#       cmd1 &&
#       cmd2
#   '
#   test_expect_success UML 'needs the UML prerequisite' '...'
#   test_done
#
# Bodies are eval'd in the test's shell, so variables persist between tests;
# chain commands with && so a failing step fails the test.  Cleanups
# registered with test_when_finished run after the current test, pass or
# fail.  A prerequisite that is missing makes its tests SKIP with the
# reason given to test_set_prereq / test_lazy_prereq; under
# PLUGNET_TEST_STRICT=1 a skip is a failure.
#
# Every test script gets its own RUN and STATE directories (and so its own
# daemons); they are removed at the end unless PLUGNET_TEST_KEEP=1.
#
# The rules the harness enforces (t0000-harness.sh proves each one):
# - An EXIT trap tears down whatever way the script ends: `exit`, a failing
#   `die`, an unset variable (set -u) inside a body, or no test_done.  The
#   test it ended in is `not ok`, its test_when_finished cleanups and the
#   test_atexit ones still run, and the script fails.
# - A test_when_finished cleanup that fails fails its test ("cleanup
#   failed"), as in git; write `|| true` only where failing is expected.
# - Sanitizer reports never go unread: ASAN/UBSAN/LSAN_OPTIONS get
#   log_path=$TEST_DIR/san/... (after any options of your own), so every
#   daemon, the CLI and the tools write their reports (leaks included)
#   there.  A report that appears during a test fails that test; one that
#   appears at teardown (LeakSanitizer runs when a daemon stops) fails the
#   script with a `not ok - teardown: ...` line that prints it.
# - Everything a script starts runs in a cgroup of its own
#   (cgroup2/plugnet-test/RUN/NAME.XXXXX, when cgroup2 is writable), and
#   carries PLUGNET_TEST_RUN and PLUGNET_TEST_DIR in its environment.
#   After the test_atexit cleanups, teardown waits (bounded) for that set
#   to end; what is still running is listed, killed, and fails the script.
#   `make check` runs scripts/check-strays.sh after prove: any process of
#   the run left on the machine fails the check.
# - No body hangs the suite: after PLUGNET_TEST_TIMEOUT seconds (600) a
#   watchdog kills what the body runs and the test fails, saying so; prove
#   runs each script under `timeout` too (PLUGNET_SCRIPT_TIMEOUT, 1800).

set -u
: "${PLUGNET_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PLUGNET_BUILD:=$PLUGNET_SRC/build}"
export PLUGNET_SRC PLUGNET_BUILD
PATH="$PLUGNET_BUILD/bin:$PATH"
export PATH

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(mktemp -d "${PLUGNET_TEST_TMP:-/tmp}/pn-$TEST_NAME.XXXXXX")
export PLUGNET_RUN_DIR="$TEST_DIR/run" PLUGNET_STATE_DIR="$TEST_DIR/state"
mkdir -p "$PLUGNET_RUN_DIR" "$PLUGNET_STATE_DIR"
# A unique short tag for host-visible names (namespaces, taps) of this test.
TEST_TAG=$(printf '%s' "$TEST_DIR" | md5sum | cut -c1-5)

test_count=0
test_failures=0
test_cleanup=":"
test_final_cleanup=":"
_test_prereqs=" "
_test_missing=""
# Where the script is: top (between tests), body, cleanup, teardown, done.
_test_state=top
_test_out=/dev/null
# What the TAP stream is, to find it again when bash runs the EXIT trap
# with a body's redirections still in place.
_test_tap=$(readlink "/proc/$$/fd/1" 2>/dev/null || true)

# Markers every process the script starts inherits (make check sets the
# run's; a script run alone makes its own).
: "${PLUGNET_TEST_RUN:=solo-$TEST_TAG}"
PLUGNET_TEST_DIR=$TEST_DIR
export PLUGNET_TEST_RUN PLUGNET_TEST_DIR

# Sanitizer reports go to files we read, never only to a log nobody checks.
# Ours come last, so they win over a log_path of the caller's.  The
# directory is world-writable: some daemons run as nobody.
mkdir -p "$TEST_DIR/san/seen" && chmod 1777 "$TEST_DIR/san"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TEST_DIR/san/asan"
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}log_path=$TEST_DIR/san/lsan"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$TEST_DIR/san/ubsan"
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

say() { printf '# %s\n' "$*"; }
die() { printf 'Bail out! %s\n' "$*"; exit 1; }

# test_set_prereq NAME            the prerequisite holds
# test_missing_prereq NAME REASON the prerequisite does not hold, and why
test_set_prereq() { _test_prereqs="$_test_prereqs$1 "; }
test_missing_prereq() { _test_missing="$_test_missing$1=$2;"; }
# test_lazy_prereq NAME REASON 'script': evaluated now.
test_lazy_prereq() {
    if (eval "$3") >/dev/null 2>&1; then test_set_prereq "$1"; else test_missing_prereq "$1" "$2"; fi
}
_prereq_reason() {
    printf '%s' "$_test_missing" | tr ';' '\n' | sed -n "s/^$1=//p" | head -n1
}

# Each cleanup runs, whatever the others did; any failing one is recorded.
test_when_finished() { test_cleanup="{ $*
} || _test_cleanup_rc=\$?; $test_cleanup"; }
# Runs at the end of the script (after test_done), e.g. to stop daemons.
test_atexit() { test_final_cleanup="{ $*
} ; $test_final_cleanup"; }

_test_skip() {
    test_count=$((test_count + 1))
    if [ "${PLUGNET_TEST_STRICT:-0}" = 1 ]; then
        test_failures=$((test_failures + 1))
        printf 'not ok %d - %s # strict mode: skipped because %s\n' "$test_count" "$1" "$2"
    else
        printf 'ok %d # skip %s (%s)\n' "$test_count" "$1" "$2"
    fi
}

# A body runs in its own function, so `return N` inside it ends the body
# with status N rather than leaving test_expect_success early.
_test_eval() { eval "$1"; }

# _test_run_cleanup: the current test's cleanups; 1 when one failed.
_test_run_cleanup() {
    _test_state=cleanup
    _test_cleanup_rc=0
    eval "$test_cleanup" >>"$_test_out" 2>&1 </dev/null
    test_cleanup=":"
    if [ "$_test_cleanup_rc" != 0 ]; then
        echo "cleanup failed (status $_test_cleanup_rc)" >>"$_test_out"
        return 1
    fi
    return 0
}

# _test_san_check: print (as TAP comments) the sanitizer reports that
# appeared since the last call and set them aside; 1 when there was one.
_test_san_check() {
    _san_found=1
    for _f in "$TEST_DIR"/san/*; do
        [ -f "$_f" ] || continue
        _san_found=0
        say "sanitizer report $(basename "$_f"):"
        head -n 80 "$_f" | sed 's/^/#   /'
        mv "$_f" "$TEST_DIR/san/seen/"
    done
    [ $_san_found = 1 ]
}

# A body that hangs must not hang the suite: a watchdog gives each body
# PLUGNET_TEST_TIMEOUT seconds (600 unless told), then kills what the body
# runs (the script's descendants; daemons, which left the tree, stay for
# the cleanups), so the hung step fails and the test is `not ok` with the
# reason in its output.  The wait is a deadline, not a synchronisation.
_test_watchdog_start() {
    rm -f "$TEST_DIR/.timedout"
    # A session of its own, so stopping it kills its sleep too, whenever.
    setsid sh -c '
        sleep "$1" || exit 0
        echo "timed out after $1 s: killing what the body runs" >>"$2"
        : >"$3/.timedout"
        tree() { for c in $(pgrep -P "$1"); do [ "$c" = $$ ] && continue; echo "$c"; tree "$c"; done; }
        v=$(tree "$4")
        [ -z "$v" ] || kill -KILL $v 2>/dev/null
        exit 0' watchdog "${PLUGNET_TEST_TIMEOUT:-600}" "$_test_out" "$TEST_DIR" $$ \
        </dev/null >/dev/null 2>&1 &
    _test_wd=$!
}
_test_watchdog_stop() {
    if [ -n "${_test_wd:-}" ]; then
        # Its group, or itself if it has not made its session yet; once it
        # is gone, a sleep it forked is still in its session.
        kill -KILL "-$_test_wd" "$_test_wd" 2>/dev/null
        wait "$_test_wd" 2>/dev/null
        pkill -KILL -s "$_test_wd" 2>/dev/null
        _test_wd=""
    fi
    ! [ -e "$TEST_DIR/.timedout" ]
}

_test_not_ok() { # NAME BODY
    test_failures=$((test_failures + 1))
    printf 'not ok %d - %s\n' "$test_count" "$1"
    printf '#   %s\n' "$(printf '%s' "$2" | head -n 40)" | sed 's/^/#   /'
    say "output:"
    tail -n 60 "$_test_out" | sed 's/^/#   /'
}

test_expect_success() {
    _prereq=""
    if [ $# = 3 ]; then _prereq=$1; shift; fi
    if [ -n "$_prereq" ]; then
        _old_ifs=$IFS; IFS=,
        for _p in $_prereq; do
            case "$_test_prereqs" in
            *" $_p "*) ;;
            *) IFS=$_old_ifs; _r=$(_prereq_reason "$_p"); _test_skip "$1" "missing $_p${_r:+: $_r}"; return 0 ;;
            esac
        done
        IFS=$_old_ifs
    fi
    test_count=$((test_count + 1))
    test_cleanup=":"
    _test_out="$TEST_DIR/out.$test_count"
    _test_name=$1 _test_body=$2
    # Bodies run inside the test's directory, so scratch files never land
    # in the source tree (top-level code keeps its cwd for sourcing).
    cd "$TEST_DIR" || return 1
    _test_state=body
    _test_watchdog_start
    : >"$_test_out"
    _test_eval "$2" >>"$_test_out" 2>&1 </dev/null
    _rc=$?
    _test_watchdog_stop || _rc=1
    _test_run_cleanup || _rc=1
    _test_state=top
    _san=$(_test_san_check) || _rc=1
    if [ $_rc = 0 ]; then
        printf 'ok %d - %s\n' "$test_count" "$1"
        [ "${PLUGNET_TEST_VERBOSE:-0}" = 1 ] && sed 's/^/#   /' "$_test_out"
    else
        _test_not_ok "$1" "$2"
        [ -z "$_san" ] || printf '%s\n' "$_san"
    fi
    return 0
}

skip_all() {
    _test_state=done
    if [ "${PLUGNET_TEST_STRICT:-0}" = 1 ]; then
        test_count=$((test_count + 1))
        test_failures=$((test_failures + 1))
        echo "not ok $test_count - $TEST_NAME # strict mode: skipped because $*"
    fi
    _test_teardown
    if [ $test_count = 0 ]; then
        echo "1..0 # SKIP $*"
        exit 0
    fi
    echo "1..$test_count"
    [ $test_failures = 0 ]
    exit $?
}

test_done() {
    _test_state=done
    _test_teardown
    echo "1..$test_count"
    [ $test_failures = 0 ]
    exit $?
}

# ------------------------------------------------- process tracking
# The cgroup2 mount, if we may make groups there (else "").
_test_cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts 2>/dev/null)
[ -n "$_test_cg_root" ] && [ -w "$_test_cg_root" ] || _test_cg_root=""
_test_cg=""
_test_cg_home=""
if [ -n "$_test_cg_root" ] && [ "${PLUGNET_TEST_NO_CGROUP:-0}" != 1 ]; then
    _test_cg_home=$_test_cg_root$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null)
    _test_cg=$_test_cg_root/plugnet-test/$PLUGNET_TEST_RUN/$(basename "$TEST_DIR")
    if ! { mkdir -p "$_test_cg" && echo $$ >"$_test_cg/cgroup.procs"; } 2>/dev/null; then
        rmdir "$_test_cg" 2>/dev/null
        _test_cg=""
    fi
fi

# _test_members: the pids of what the script started and still runs
# (zombies left out), one a line; never the script's shell itself.
_test_members() {
    if [ -n "$_test_cg" ]; then
        cat "$_test_cg/cgroup.procs" 2>/dev/null
    else
        for _d in /proc/[0-9]*; do
            _p=${_d#/proc/}
            [ "$_p" = $$ ] && continue
            { tr '\0' '\n' <"$_d/environ"; } 2>/dev/null | grep -qxF "PLUGNET_TEST_DIR=$TEST_DIR" && echo "$_p"
        done
    fi | while read -r _p; do
        [ "$_p" != $$ ] && [ -r "/proc/$_p/stat" ] &&
            ! grep -q '^[0-9]* (.*) Z ' "/proc/$_p/stat" 2>/dev/null && echo "$_p"
    done
}

# _test_describe PID...: one line per process, for a report.
_test_describe() {
    for _p in "$@"; do
        printf '%s %s: %s\n' "$_p" "$(cat "/proc/$_p/comm" 2>/dev/null)" \
            "$({ tr '\0' ' ' <"/proc/$_p/cmdline"; } 2>/dev/null | cut -c1-200)"
    done
}

# _test_reap: wait (bounded, polling every 200 ms: no event tells us a
# process of another session ended) for what the script started to end; list and kill what does not.
# 1 when something had to be killed.
_test_reap() {
    if [ -n "$_test_cg" ]; then
        # The shell leaves its group, so the group holds only what it started.
        echo $$ >"$_test_cg_home/cgroup.procs" 2>/dev/null ||
            echo $$ >"$_test_cg_root/plugnet-test/cgroup.procs" 2>/dev/null
    fi
    _end=$(( $(date +%s) + ${PLUGNET_TEST_REAP_WAIT:-15} ))
    while [ -n "$(_test_members)" ] && [ "$(date +%s)" -lt "$_end" ]; do
        timeout 0.2 tail -f /dev/null 2>/dev/null
    done
    _left=$(_test_members)
    _reap_rc=0
    if [ -n "$_left" ]; then
        _reap_rc=1
        _test_describe $_left >"$TEST_DIR/left"
    fi
    # Kill the whole set (again and again: a dying UML forks no more, but
    # what it forked may still be on its way out).
    _i=0
    while [ -n "$_left" ] && [ $_i -lt 100 ]; do
        if [ -n "$_test_cg" ] && [ -e "$_test_cg/cgroup.kill" ]; then
            echo 1 >"$_test_cg/cgroup.kill" 2>/dev/null
        else
            kill -9 $_left 2>/dev/null
        fi
        timeout 0.1 tail -f /dev/null 2>/dev/null
        _left=$(_test_members)
        _i=$((_i + 1))
    done
    if [ -n "$_test_cg" ]; then
        rmdir "$_test_cg" 2>/dev/null
        rmdir "$(dirname "$_test_cg")" 2>/dev/null
    fi
    return $_reap_rc
}

# _test_teardown: the test_atexit cleanups, then every process the script
# started must be gone, then every sanitizer report must have been read.
# A failure adds a `not ok` line.
_test_teardown() {
    set +u
    _test_state=teardown
    _test_out="$TEST_DIR/atexit.out"
    eval "$test_final_cleanup" >"$_test_out" 2>&1 </dev/null
    test_final_cleanup=":"
    if ! _test_reap; then
        test_count=$((test_count + 1))
        test_failures=$((test_failures + 1))
        printf 'not ok %d - teardown: processes the script started were still running after its cleanups\n' "$test_count"
        say "killed them:"
        sed 's/^/#   /' "$TEST_DIR/left"
    fi
    if ! _san=$(_test_san_check); then
        test_count=$((test_count + 1))
        test_failures=$((test_failures + 1))
        printf 'not ok %d - teardown: sanitizer reports (see below)\n' "$test_count"
        printf '%s\n' "$_san"
    fi
    _test_state=done
    cd / || :
    if [ "${PLUGNET_TEST_KEEP:-0}" != 1 ]; then
        rm -rf "$TEST_DIR"
    else
        say "kept $TEST_DIR"
    fi
}

# bash runs the EXIT trap with a body's redirections in place: write to
# the TAP stream again (dash has restored it already).
_test_restore_tap() {
    [ -n "$_test_tap" ] || return 0
    [ "$(readlink "/proc/$$/fd/1" 2>/dev/null)" = "$_test_tap" ] && return 0
    for _f in /proc/$$/fd/*; do
        if [ "$(readlink "$_f" 2>/dev/null)" = "$_test_tap" ]; then
            # bash's own saved copy of the TAP fd: take it (same offset).
            eval "exec >&${_f##*/} 2>&1"
            return 0
        fi
    done
}

# The script ends any other way than test_done / skip_all: fail the test
# it was in, run its cleanups, tear down, and fail the script.
_test_on_exit() {
    _st=$1
    trap - EXIT
    set +u
    if [ "$_test_state" = done ]; then
        exit "$_st"
    fi
    _test_restore_tap
    [ "$_test_state" = body ] && { _test_watchdog_stop || :; }
    case $_test_state in
    body|cleanup)
        [ "$_test_state" = body ] && { _test_run_cleanup || :; }
        echo "the script exited (status $_st) inside this test" >>"$_test_out"
        _test_not_ok "$_test_name" "$_test_body"
        ;;
    *)
        test_count=$((test_count + 1))
        test_failures=$((test_failures + 1))
        printf 'not ok %d - the script exited (status %s) before test_done\n' "$test_count" "$_st"
        ;;
    esac
    _test_teardown
    echo "1..$test_count"
    [ "$_st" != 0 ] || _st=1
    exit "$_st"
}
trap '_test_on_exit $?' EXIT
# A signal (prove's timeout, ^C) ends the script through the same door.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# --------------------------------------------------------------- helpers

# Start the named daemons (all four when none named) with this test's dirs;
# they are stopped at the end of the script.
pn_daemons_start() {
    plugnet daemons start "$@" || return 1
    test_atexit "plugnet daemons stop >/dev/null 2>&1"
}

# test_no_sanitizer_reports: no sanitizer report has been written yet in
# this test (the harness fails the test on one anyway; this says where).
test_no_sanitizer_reports() {
    for _f in "$TEST_DIR"/san/*; do
        [ -f "$_f" ] || continue
        echo "sanitizer report $_f:" >&2
        head -n 40 "$_f" >&2
        return 1
    done
}

# test_must_fail, test_expect_code, test_grep_not, test_must_be_empty:
# checks that can fail, in their own file.
. "$PLUGNET_SRC/tests/lib-checks.sh"

# test_kill [-SIG] PID...: for cleanups: end these processes (SIGTERM
# unless told) if they still run; fails only when one still runs 10 s
# later.  Not `kill PID 2>/dev/null`, which fails when the process ended
# on its own, as it should have, and now fails the test.
test_kill() {
    _sig=-TERM
    case ${1:-} in -*) _sig=$1; shift ;; esac
    kill "$_sig" "$@" 2>/dev/null
    retry_until 10 _test_all_gone "$@" || { echo "still running after kill $_sig: $*" >&2; return 1; }
}
_test_all_gone() {
    for _p in "$@"; do
        [ -r "/proc/$_p/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$_p/stat" 2>/dev/null && return 1
    done
    return 0
}

# test_cmp EXPECTED ACTUAL: files equal, else show the diff.
test_cmp() { diff -u "$1" "$2"; }

# Fail with a message.
test_fail() { echo "FAIL: $*" >&2; return 1; }

# Wait (bounded) for a command to succeed, by polling on a fd with a
# timeout — used only where no event exists to wait on (e.g. a guest's
# network coming up answers no event but a ping).  Retries every 100 ms
# up to $1 seconds.
retry_until() {
    _limit=$1; shift
    _end=$(( $(date +%s%N) / 1000000 + _limit * 1000 ))
    while :; do
        "$@" && return 0
        [ $(( $(date +%s%N) / 1000000 )) -lt $_end ] || return 1
        # A 100 ms tick between polls (dash has no read -t).
        if [ -n "${BASH_VERSION:-}" ]; then
            read -r -t 0.1 _ <>"$TEST_DIR/.tick" 2>/dev/null || true
        else
            timeout 0.1 tail -f /dev/null 2>/dev/null || true
        fi
    done
}
mkfifo "$TEST_DIR/.tick" 2>/dev/null || true

# Each test's management LAN (every script's: vmd, labs, examples) gets its own /16 on the host (the host has a
# tap on every test's mgmt LAN), and its own node-name space.  Tests run in
# parallel share the host's routes: two taps in one /16 and the host's
# packets for that /16 all go to the first one, so the prefix is claimed,
# not just derived from the test's tag (256 values: two tests at once drew
# the same one now and then).  The claim is a lock held on fd 9 for the
# life of the script (and of the daemons, which inherit it), so it goes
# with them however they end; a /16 the host uses already is skipped.
_vm_claim_prefix() {
    _d=/run/lock
    [ -d "$_d" ] && [ -w "$_d" ] || _d=/tmp
    _h=$(( 0x$(printf %s "$TEST_TAG" | cut -c1-2) ))
    _k=0
    # 10.128-255 only: the tests' and examples' own LANs use 10.0-99
    # (examples/mixed's 10.3.0.1 was once node 1's management address).
    while [ $_k -lt 128 ]; do
        _x=$(( 128 + (_h + _k) % 128 ))
        _k=$((_k + 1))
        exec 9>>"$_d/plugnet-test-mgmt-10.$_x.lock" || continue
        if flock -n 9; then
            if [ -z "$(ip -4 -o addr show to "10.$_x.0.0/16" 2>/dev/null)" ] &&
               [ -z "$(ip -4 route show root "10.$_x.0.0/16" 2>/dev/null)" ]; then
                echo "10.$_x"
                return 0
            fi
        fi
        exec 9>&-
    done
    return 1
}
# (Not in a command substitution: the lock's fd must stay in this shell.)
_vm_claim_prefix >"$TEST_DIR/.mgmt-prefix" || die "no free 10.X.0.0/16 for the management LAN"
PLUGNET_MGMT_PREFIX=$(cat "$TEST_DIR/.mgmt-prefix")
export PLUGNET_MGMT_PREFIX

test_lazy_prereq ROOT "not running as root" '[ "$(id -u)" = 0 ]'
test_lazy_prereq NETNS "cannot create network namespaces" '
    ip netns add pnprobe$$ && ip netns del pnprobe$$'
