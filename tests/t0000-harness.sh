#!/bin/sh
# The harness itself (tests/lib.sh): each rule is shown on a small
# throwaway script that sources lib.sh, run here (its TEST_DIR inside
# ours), by reading its TAP output and exit status.
. "$(dirname "$0")/lib.sh"

LIB=$PLUGNET_SRC/tests/lib.sh

# inner NAME SHELL ['script']: write and run a throwaway test script (the
# argument, else stdin) under SHELL (sh or bash); its TAP goes to
# NAME.out, its status to NAME.rc, its TEST_DIR under $TEST_DIR/NAME.tmp.
inner() {
    mkdir -p "$TEST_DIR/$1.tmp" &&
    { printf '. "%s"\nsay "dir $TEST_DIR"\n' "$LIB" && if [ $# -ge 3 ]; then printf '%s\n' "$3"; else cat; fi; } \
        >"$TEST_DIR/$1.sh" &&
    { PLUGNET_TEST_STRICT=0 PLUGNET_TEST_VERBOSE=0 PLUGNET_TEST_KEEP=0 PLUGNET_TEST_TMP="$TEST_DIR/$1.tmp" \
        PLUGNET_TEST_REAP_WAIT=2 "$2" "$TEST_DIR/$1.sh" >"$TEST_DIR/$1.out" 2>"$TEST_DIR/$1.err"
      echo $? >"$TEST_DIR/$1.rc"; } &&
    sed 's/^/| /' "$TEST_DIR/$1.out"
}
# inner_failed NAME: the script exited non-zero.
inner_failed() {
    [ "$(cat "$TEST_DIR/$1.rc")" != 0 ] || { echo "$1 exited 0" >&2; return 1; }
}
# inner_passed NAME: it exited 0.
inner_passed() {
    [ "$(cat "$TEST_DIR/$1.rc")" = 0 ] || { echo "$1 exited $(cat "$TEST_DIR/$1.rc")" >&2; return 1; }
}
# inner_gone NAME: its TEST_DIR is removed.
inner_gone() {
    _d=$(sed -n 's/^# dir //p' "$TEST_DIR/$1.out") &&
    [ -n "$_d" ] && [ ! -e "$_d" ] || { echo "$1 left its dir $_d" >&2; return 1; }
}
# inner_plan NAME N: the TAP plan line is 1..N (the last line).
inner_plan() {
    [ "$(tail -n 1 "$TEST_DIR/$1.out")" = "1..$2" ] || { echo "$1: no plan 1..$2 at the end" >&2; return 1; }
}
# gone PIDFILE: the process is not running any more (a zombie is gone).
gone() {
    _p=$(cat "$1") && [ -n "$_p" ] || return 1
    if [ -r "/proc/$_p/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$_p/stat"; then
        echo "process $_p ($1) is still running" >&2
        return 1
    fi
}

# A script that ends badly in its second test: a daemon-like process in
# its own session (as plugnet daemons start makes them), a cleanup of the
# test, an atexit cleanup.  What must still happen afterwards is checked
# by ended_badly.
bad_script() {
    cat <<EOF
test_expect_success 'first' 'true'
test_expect_success 'second' '
    setsid sleep 1000 </dev/null >/dev/null 2>&1 &
    echo \$! >"$TEST_DIR/$1.pid" &&
    test_atexit "kill \$(cat $TEST_DIR/$1.pid) && touch $TEST_DIR/$1.atexit" &&
    test_when_finished "touch $TEST_DIR/$1.cleanup" &&
    echo reached-the-end && $2
'
test_expect_success 'third, never run' 'touch $TEST_DIR/$1.third'
test_done
EOF
}
ended_badly() {
    inner_failed "$1" &&
    grep -qx "ok 1 - first" "$TEST_DIR/$1.out" &&
    grep -qx "not ok 2 - second" "$TEST_DIR/$1.out" &&
    inner_plan "$1" 2 &&
    test -e "$TEST_DIR/$1.cleanup" &&
    test -e "$TEST_DIR/$1.atexit" &&
    test ! -e "$TEST_DIR/$1.third" &&
    gone "$TEST_DIR/$1.pid" &&
    inner_gone "$1"
}

for sh in sh bash; do
    test_expect_success "$sh: exit 1 in a body fails that test and the script, and still tears down" "
        inner exit-$sh $sh \"\$(bad_script exit-$sh 'exit 1')\" &&
        ended_badly exit-$sh &&
        grep -q 'the script exited (status 1) inside this test' exit-$sh.out
    "

    test_expect_success "$sh: exit 0 in a body is a failure too" "
        inner exit0-$sh $sh \"\$(bad_script exit0-$sh 'exit 0')\" &&
        ended_badly exit0-$sh
    "

    test_expect_success "$sh: a failing die in a body bails out and still tears down" "
        inner die-$sh $sh \"\$(bad_script die-$sh 'die \"no way on\"')\" &&
        ended_badly die-$sh &&
        grep -q 'Bail out! no way on' die-$sh.out
    "

    test_expect_success "$sh: an unset variable in a body (set -u) fails and still tears down" "
        inner unset-$sh $sh \"\$(bad_script unset-$sh 'echo \$no_such_variable')\" &&
        ended_badly unset-$sh &&
        grep -q 'no_such_variable' unset-$sh.out
    "
done

test_expect_success 'a script that never reaches test_done fails, and tears down' '
    inner nodone sh "test_expect_success one true
test_atexit \"touch $TEST_DIR/nodone.atexit\"" &&
    inner_failed nodone &&
    grep -qx "ok 1 - one" nodone.out &&
    grep -q "^not ok 2 - the script exited (status 0) before test_done" nodone.out &&
    test -e nodone.atexit &&
    inner_gone nodone
'

test_expect_success 'a failing test_when_finished fails its test; the others still run' '
    inner cleanup sh "test_expect_success \"cleanup fails\" \"test_when_finished false && test_when_finished \\\"touch $TEST_DIR/cleanup.second\\\"\"
test_expect_success \"cleanup passes\" \"test_when_finished true\"
test_done" &&
    inner_failed cleanup &&
    grep -qx "not ok 1 - cleanup fails" cleanup.out &&
    grep -q "cleanup failed (status 1)" cleanup.out &&
    test -e cleanup.second &&
    grep -qx "ok 2 - cleanup passes" cleanup.out &&
    inner_plan cleanup 2
'

test_expect_success 'a clean script passes (the harness adds no failures of its own)' '
    inner clean sh "test_expect_success one \"test_when_finished true && true\"
test_atexit true
test_done" &&
    inner_passed clean &&
    test "$(grep -c "^not ok" clean.out)" = 0 &&
    inner_plan clean 1 &&
    inner_gone clean
'

test_expect_success 'a body that hangs fails after PLUGNET_TEST_TIMEOUT, the next test runs, the script ends' '
    PLUGNET_TEST_TIMEOUT=2 inner hang sh "test_expect_success \"hangs\" \"sleep 1000\"
test_expect_success \"after\" true
test_done" &&
    inner_failed hang &&
    grep -qx "not ok 1 - hangs" hang.out &&
    grep -q "timed out after 2 s" hang.out &&
    grep -qx "ok 2 - after" hang.out &&
    inner_plan hang 2 &&
    inner_gone hang
'

test_expect_success 'a process the script left running fails teardown, and is killed' '
    inner left sh "test_expect_success one \"setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo \\\$! >$TEST_DIR/left.pid\"
test_done" &&
    inner_failed left &&
    grep -qx "ok 1 - one" left.out &&
    grep -q "^not ok 2 - teardown: processes the script started were still running" left.out &&
    grep -q "sleep 1000" left.out &&
    gone left.pid &&
    inner_plan left 2
'

# A leaky program built with ASan (in the plain build too: it is compiled
# here), standing in for a daemon or the CLI.  With an argument (a file it
# creates once ready) it waits for SIGTERM first (a daemon that leaks as
# it stops).
test_lazy_prereq ASAN "cannot build a program with -fsanitize=address" '
    printf "int main(void) { return 0; }\n" >"$TEST_DIR/asan-probe.c" &&
    cc -fsanitize=address -o "$TEST_DIR/asan-probe" "$TEST_DIR/asan-probe.c" && "$TEST_DIR/asan-probe"'
cat >"$TEST_DIR/leak.c" <<'EOF'
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }
int main(int argc, char **argv)
{
    char *volatile p = malloc(4242);
    strcpy(p, "planted leak");
    p = NULL;
    if (argc > 1) {
        signal(SIGTERM, on_term);
        close(open(argv[1], O_WRONLY | O_CREAT, 0644));
        while (!stop)
            pause();
    }
    return 0;
}
EOF

test_expect_success ASAN 'a leak reported by a command in a test fails that test, even when its status is ignored' '
    cc -fsanitize=address -g -O0 -o leak leak.c &&
    inner leaky sh "test_expect_success \"leaks\" \"$TEST_DIR/leak || true\"
test_expect_success \"after\" true
test_done" &&
    inner_failed leaky &&
    grep -qx "not ok 1 - leaks" leaky.out &&
    grep -q "LeakSanitizer: detected memory leaks" leaky.out &&
    grep -q "4242 byte" leaky.out &&
    grep -qx "ok 2 - after" leaky.out &&
    inner_plan leaky 2
'

# Under SANITIZE=1 the stand-in is the real switchd (a SEGV is reported
# by ASan into the same log_path); in the plain build, the leaky program
# run as a daemon (own session, leaks as it stops).
case $PLUGNET_BUILD in
*/asan)
    cat >"$TEST_DIR/daemon.in" <<'EOF'
test_expect_success 'switchd runs' 'pn_daemons_start switchd'
test_atexit 'kill -SEGV $(plugnet --json status | jq -r ".[] | select(.daemon == \"switchd\") | .pid")'
test_done
EOF
    daemon_says="AddressSanitizer: SEGV" ;;
*)
    cat >"$TEST_DIR/daemon.in" <<EOF
test_expect_success 'the daemon runs' '
    setsid $TEST_DIR/leak $TEST_DIR/d.ready </dev/null >/dev/null 2>&1 &
    echo \$! >$TEST_DIR/d.pid && retry_until 10 test -e $TEST_DIR/d.ready'
test_atexit 'kill \$(cat $TEST_DIR/d.pid)'
test_done
EOF
    daemon_says="LeakSanitizer: detected memory leaks" ;;
esac
test_expect_success ASAN 'a report a daemon writes when it stops (teardown) fails the script' '
    cc -fsanitize=address -g -O0 -o leak leak.c &&
    inner daemon sh <daemon.in &&
    inner_failed daemon &&
    grep -qx "ok 1 - .*runs" daemon.out &&
    grep -qx "not ok 2 - teardown: sanitizer reports (see below)" daemon.out &&
    grep -q "$daemon_says" daemon.out &&
    inner_plan daemon 2 &&
    inner_gone daemon
'

cat >"$TEST_DIR/opts.in" <<EOF
test_expect_success env 'cat /proc/self/environ | tr "\\\\0" "\\\\n" >$TEST_DIR/opts.env'
test_done
EOF
test_expect_success 'sanitizer options: ours come after the caller'"'"'s, in every process a test starts' '
    ASAN_OPTIONS=detect_stack_use_after_return=1 inner opts sh <opts.in &&
    inner_passed opts &&
    grep -q "^ASAN_OPTIONS=detect_stack_use_after_return=1:log_path=.*/san/asan$" opts.env &&
    grep -q "^UBSAN_OPTIONS=.*log_path=.*/san/ubsan$" opts.env &&
    grep -q "^PLUGNET_TEST_RUN=$PLUGNET_TEST_RUN$" opts.env &&
    grep -q "^PLUGNET_TEST_DIR=$TEST_DIR/opts.tmp/pn-opts" opts.env
'

test_expect_success 'check-strays fails on a process of its run, names it, kills it; passes when none' '
    run=strays-$TEST_TAG-$$ &&
    { PLUGNET_TEST_RUN=$run setsid sleep 1000 </dev/null >/dev/null 2>&1 & } &&
    echo $! >stray.pid &&
    test_when_finished "kill \$(cat stray.pid) 2>/dev/null || true" &&
    retry_until 10 grep -qz "^PLUGNET_TEST_RUN=$run$" /proc/$(cat stray.pid)/environ &&
    test_must_fail "$PLUGNET_SRC/scripts/check-strays.sh" "$run" 2>strays.err &&
    cat strays.err &&
    grep -q "^  $(cat stray.pid) sleep .*: sleep 1000" strays.err &&
    retry_until 10 gone stray.pid &&
    "$PLUGNET_SRC/scripts/check-strays.sh" "$run" &&
    "$PLUGNET_SRC/scripts/check-strays.sh" "other-run-$$"
'

test_done
