#!/bin/sh
# make fuzz fails when a target crashes, leaks or hangs.  A throwaway target
# misbehaves on three planted inputs (and on nothing a few hundred mutations
# can reach: it keys them on a hash); the test runs `make fuzz` itself on
# it, so the recipe and scripts/fuzz-run.sh are exactly what a user runs.
. "$(dirname "$0")/lib.sh"

command -v test_must_fail >/dev/null 2>&1 ||
test_must_fail() { if "$@"; then echo "$* succeeded, and should not" >&2; return 1; fi; return 0; }

test_lazy_prereq LIBFUZZER "clang with libFuzzer (libclang-rt-14-dev) is missing: make deps" '
    printf "%s\n" "#include <stdint.h>" "#include <stddef.h>" \
        "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }" |
    clang -fsanitize=fuzzer,address -x c - -o "$TEST_DIR/probe"'

F=$TEST_DIR/fuzz
mkdir -p "$F/corpus/planted"
cat >"$F/planted.c" <<'EOF'
/* Crashes, leaks or hangs on three planted inputs, and on nothing else. */
// FUZZ_SOURCES:
#include <stdint.h>
#include <stdlib.h>

static void *volatile sink;

static uint32_t s_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t h = s_hash(data, size);
    if (h == s_hash((const uint8_t *)"plant-crash", 11)) {
        char *b = malloc(8);
        ((volatile char *)b)[8] = 1;
        free(b);
    } else if (h == s_hash((const uint8_t *)"plant-leak", 10)) {
        sink = malloc(64);
        sink = NULL;
    } else if (h == s_hash((const uint8_t *)"plant-hang", 10)) {
        for (volatile int spin = 1; spin;)
            ;
    }
    return 0;
}
EOF

# fuzz_with SEED: make fuzz on the planted target, its corpus that one seed.
# The outer make's flags (jobserver, SANITIZE=...) stay out of this one; a
# hang the harness misses ends at 60 s instead of never.
fuzz_with() {
    rm -f "$F/corpus/planted/"* &&
    printf '%s' "$1" >"$F/corpus/planted/seed" &&
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout -k 5 60 \
        make --no-print-directory -C "$PLUGNET_SRC" fuzz FUZZ_DIR="$F" BUILD="$TEST_DIR/build" \
        FUZZ_RUNS=300 FUZZ_TIME=20 FUZZ_TIMEOUT=1
}
W=$TEST_DIR/build/fuzz/work-planted

test_expect_success LIBFUZZER 'make fuzz builds the planted target and passes on a harmless corpus' '
    fuzz_with harmless >out 2>&1 &&
    cat out &&
    grep -q "^== fuzz planted: up to 300 runs" out &&
    grep -q "^   stat::number_of_executed_units: 300$" out
'

# expect_failure SEED KIND: make fuzz fails, names KIND, keeps the input.
expect_failure() {
    { test_must_fail fuzz_with "$1" >out 2>&1 || { cat out && false; }; } &&
    cat out &&
    grep -q "^FAILED: fuzz planted: $2" out &&
    input=$(sed -n "s/^   input: \([^ ]*\) .*/\1/p" out) &&
    test -n "$input" &&
    test "$(cat "$input")" = "$1" &&
    grep -q "^   log: $W/log$" out
}

test_expect_success LIBFUZZER 'a planted crash fails make fuzz, named with the input that crashed' '
    expect_failure plant-crash "crash (AddressSanitizer: heap-buffer-overflow)"
'

test_expect_success LIBFUZZER 'a planted leak fails make fuzz, named a leak' '
    expect_failure plant-leak "leak"
'

test_expect_success LIBFUZZER 'a planted hang fails make fuzz, named a timeout, within seconds' '
    start=$(date +%s) &&
    expect_failure plant-hang "timeout" &&
    test $(( $(date +%s) - start )) -lt 15
'

test_done
