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

test_when_finished() { test_cleanup="{ $*
} ; $test_cleanup"; }
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
    _out="$TEST_DIR/out.$test_count"
    # Bodies run inside the test's directory, so scratch files never land
    # in the source tree (top-level code keeps its cwd for sourcing).
    cd "$TEST_DIR" || return 1
    _test_eval "$2" >"$_out" 2>&1 </dev/null
    _rc=$?
    eval "$test_cleanup" >>"$_out" 2>&1 </dev/null
    if [ $_rc = 0 ]; then
        printf 'ok %d - %s\n' "$test_count" "$1"
        [ "${PLUGNET_TEST_VERBOSE:-0}" = 1 ] && sed 's/^/#   /' "$_out"
    else
        test_failures=$((test_failures + 1))
        printf 'not ok %d - %s\n' "$test_count" "$1"
        printf '#   %s\n' "$(printf '%s' "$2" | head -n 40)" | sed 's/^/#   /'
        say "output:"
        tail -n 60 "$_out" | sed 's/^/#   /'
    fi
    return 0
}

skip_all() {
    if [ "${PLUGNET_TEST_STRICT:-0}" = 1 ]; then
        echo "1..1"
        echo "not ok 1 - $TEST_NAME # strict mode: skipped because $*"
        _test_teardown
        exit 1
    fi
    echo "1..0 # SKIP $*"
    _test_teardown
    exit 0
}

_test_teardown() {
    eval "$test_final_cleanup" >/dev/null 2>&1 </dev/null
    if [ "${PLUGNET_TEST_KEEP:-0}" != 1 ]; then
        rm -rf "$TEST_DIR"
    else
        say "kept $TEST_DIR"
    fi
}

test_done() {
    echo "1..$test_count"
    _test_teardown
    [ $test_failures = 0 ]
    exit $?
}

# --------------------------------------------------------------- helpers

# Start the named daemons (all four when none named) with this test's dirs;
# they are stopped at the end of the script.
pn_daemons_start() {
    plugnet daemons start "$@" || return 1
    test_atexit "plugnet daemons stop >/dev/null 2>&1"
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

test_lazy_prereq ROOT "not running as root" '[ "$(id -u)" = 0 ]'
test_lazy_prereq NETNS "cannot create network namespaces" '
    ip netns add pnprobe$$ && ip netns del pnprobe$$'
