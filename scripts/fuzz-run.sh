#!/bin/sh
# scripts/fuzz-run.sh BINARY WORKDIR [SEEDDIR...]: one libFuzzer target, one run.
#
# `make fuzz` runs every target through this script, and tests/t0002 runs
# a planted target through it, so what the test proves is what make runs.
# The run stops after FUZZ_RUNS inputs or FUZZ_TIME seconds; one input that
# takes longer than FUZZ_TIMEOUT seconds is a failure, and so is a crash
# (any sanitizer report, UBSan included), a leak or running out of memory.
# The verdict is libFuzzer's own exit status, never a grep of its output.
#
# WORKDIR/corpus grows with the inputs libFuzzer finds; WORKDIR/artifacts
# gets the input that failed; WORKDIR/log holds the whole output.  Prints a
# short summary; on failure names the kind of failure and the input, and
# exits 1.
set -u
usage() { echo "usage: $0 BINARY WORKDIR [SEEDDIR...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
bin=$1 work=$2
shift 2
runs=${FUZZ_RUNS:-1000000} secs=${FUZZ_TIME:-120} timeout=${FUZZ_TIMEOUT:-10}
name=$(basename "$bin")
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
log=$work/log

# Seed directories that exist (a new target may have none yet).
for d in "$@"; do
    shift
    if [ -d "$d" ]; then set -- "$@" "$d"; fi
done

# Our own sanitizer settings, whatever the caller's environment says (a
# log_path there would hide the report, detect_leaks=0 the leaks).
echo "== fuzz $name: up to $runs runs or $secs s, $timeout s per input"
ASAN_OPTIONS=detect_leaks=1 \
UBSAN_OPTIONS=print_stacktrace=1 LSAN_OPTIONS= \
    "$bin" -runs="$runs" -max_total_time="$secs" -timeout="$timeout" -detect_leaks=1 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
        "$work/corpus" "$@" >"$log" 2>&1
rc=$?

# Name what went wrong from the report libFuzzer and the sanitizers wrote.
kind=
if grep -q 'ERROR: libFuzzer: timeout' "$log"; then
    kind=timeout
elif grep -q 'ERROR: LeakSanitizer' "$log"; then
    kind=leak
elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then
    kind=out-of-memory
elif what=$(grep -m1 -oE 'runtime error: .*' "$log"); then
    kind="crash (UndefinedBehaviorSanitizer: ${what#runtime error: })"
elif what=$(grep -m1 -oE 'ERROR: AddressSanitizer: [A-Za-z-]+' "$log"); then
    kind="crash (${what#ERROR: })"
elif what=$(grep -m1 -oE 'ERROR: libFuzzer: [a-z -]*[a-z]' "$log"); then
    kind="crash (${what#ERROR: })"
fi

if [ "$rc" -eq 0 ] && [ -z "$kind" ]; then
    grep -E '^stat::number_of_executed_units|^Done ' "$log" | sed 's/^/   /'
    exit 0
fi
echo "FAILED: fuzz $name: ${kind:-libFuzzer exited with status $rc} (exit status $rc)"
grep -E '^SUMMARY: ' "$log" | sed 's/^/   /'
input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
[ -n "$input" ] && echo "   input: $input (rerun: $bin $input)"
echo "   log: $log"
exit 1
