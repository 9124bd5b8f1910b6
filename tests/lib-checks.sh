# tests/lib-checks.sh — checks that can fail, in the manner of git's
# test_must_fail; lib.sh sources it, so every test has them.
#
# `! cmd | grep -q X` passes when cmd itself breaks (nothing to grep), and
# `! cmd` passes when cmd was not found or died of a signal.  Run the
# command on its own, check its status, then look at what it printed:
#
#   plugnet exec u1 -- ip -o link >links &&
#   test_grep_not "$mac" links

# test_must_fail CMD...: CMD ran and failed the way a program reports a
# failure (status 1..125).  Not found (127), not executable (126), killed
# by a signal or a timeout (> 128, 124) is not the failure a test expects.
test_must_fail() {
    "$@"
    _tmf=$?
    if [ $_tmf = 0 ]; then
        echo "test_must_fail: '$*' succeeded" >&2
        return 1
    elif [ $_tmf = 124 ] || [ $_tmf -ge 126 ]; then
        echo "test_must_fail: '$*' did not fail, it broke (status $_tmf)" >&2
        return 1
    fi
    return 0
}

# test_expect_code N CMD...: CMD exits with status N, exactly.
test_expect_code() {
    _tec_want=$1
    shift
    "$@"
    _tec_got=$?
    [ "$_tec_got" = "$_tec_want" ] && return 0
    echo "test_expect_code: '$*' exited $_tec_got, not $_tec_want" >&2
    return 1
}

# test_grep_not [GREP OPTION...] PATTERN FILE: FILE was read and no line of
# it matches (`! grep` also passes when FILE is missing).  The lines that
# match are shown.
test_grep_not() {
    grep "$@" >&2
    _tgn=$?
    [ $_tgn = 1 ] && return 0
    if [ $_tgn = 0 ]; then
        echo "test_grep_not: the lines above match 'grep $*'" >&2
    else
        echo "test_grep_not: 'grep $*' failed (status $_tgn)" >&2
    fi
    return 1
}

# test_must_be_empty FILE: FILE exists and is empty, else show it.
test_must_be_empty() {
    if ! test -f "$1"; then
        echo "test_must_be_empty: $1 does not exist" >&2
        return 1
    elif test -s "$1"; then
        echo "test_must_be_empty: $1 is not empty:" >&2
        cat "$1" >&2
        return 1
    fi
}
