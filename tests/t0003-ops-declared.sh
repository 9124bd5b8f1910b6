#!/bin/sh
# Every op is named once, in proto/pn_ops.h: the schema, the daemons' tables
# and every call are written with its macros.  A misspelt macro does not
# compile; a string literal where an op name belongs is found here.  (That
# each daemon's table agrees with the schema is tests/unit/proto_ops.)
. "$(dirname "$0")/lib.sh"

S=$PLUGNET_SRC
CC=${CC:-cc}

# The op names the schema knows, from the one list.
sed -n 's/^#define PN_OP_[A-Z_]* "[a-z]*", "\([a-z_.]*\)"$/\1/p' "$S/proto/pn_ops.h" >"$TEST_DIR/names"

test_expect_success 'proto/pn_ops.h names every op, each once' '
    test $(wc -l <"$TEST_DIR/names") -ge 29 &&
    test -z "$(sort "$TEST_DIR/names" | uniq -d)"
'

test_expect_success 'the schema gives every name of the list fields, and no op of its own' '
    for m in $(sed -n "s/^#define \(PN_OP_[A-Z_]*\) \".*/\1/p" "$S/proto/pn_ops.h"); do
        grep -q "{ $m," "$S/proto/schema.c" || { echo "$m has no schema entry" >&2; return 1; }
    done &&
    test_grep_not "^ *{ \"[a-z]*\", \"[a-z_.]*\", [a-z_]*," "$S/proto/schema.c"
'

test_expect_success 'a known op compiles, a misspelt one does not' '
    printf "%s\n" "#include \"pn_ops.h\"" "const char *op[] = { PN_OP_LAN_ADD };" \
        "const char *name = PN_OPNAME(NODE_START);" >"$TEST_DIR/good.c" &&
    $CC -I"$S/proto" -c "$TEST_DIR/good.c" -o "$TEST_DIR/good.o" &&
    printf "%s\n" "#include \"pn_ops.h\"" "const char *op[] = { PN_OP_LAN_ADDD };" >"$TEST_DIR/bad.c" &&
    test_must_fail $CC -I"$S/proto" -c "$TEST_DIR/bad.c" -o "$TEST_DIR/bad.o" 2>"$TEST_DIR/bad.err" &&
    grep -q PN_OP_LAN_ADDD "$TEST_DIR/bad.err"
'

# Sources outside proto/ (and the runtime's ping/status in services/common).
srcs() { ls "$S"/cli/*.[ch] "$S"/services/*/*.[ch] | grep -v /services/common/; }

test_expect_success 'no op name is written as a string outside proto/' '
    : >"$TEST_DIR/hits" &&
    for f in $(srcs); do
        grep -n -o "\"[a-z_]*\.[a-z_]*\"" "$f" | while IFS=: read -r line lit; do
            if grep -qx "$(echo "$lit" | tr -d \")" "$TEST_DIR/names"; then
                # an event type may share an op name (disk.gc): pn_svc_publish lines are events
                sed -n "${line}p" "$f" | grep -q pn_svc_publish || echo "$f:$line: $lit"
            fi
        done >>"$TEST_DIR/hits"
    done &&
    test_must_be_empty "$TEST_DIR/hits"
'

test_expect_success 'no call passes a string literal as its op' '
    for f in $(srcs); do
        grep -n -E "\b(cli_call|cli_call_t|cli_call_err|pn_call|pn_client_call|pn_acall_send|s_call|s_send|s_local|vm_pend_run)\(([^,()]*, *){0,2}\"[a-z_]*\.[a-z_.]*\"" "$f" |
            sed "s|^|$f:|"
    done >"$TEST_DIR/calls" &&
    test_must_be_empty "$TEST_DIR/calls"
'

test_expect_success 'the CLI checks its args against the schema before they leave' '
    # no daemon runs in this test: a request that reached the bus would get
    # "not running" (exit 3); one the schema refuses never leaves (exit 1)
    test_expect_code 1 plugnet lan add Bad_Name 2>err &&
    grep "^plugnet: switchd: invalid_argument: .args.name. is not a valid name" err &&
    test_expect_code 3 plugnet lan add good 2>err &&
    grep "not running" err &&
    # plugnet call sends what it is given, unchecked
    test_expect_code 3 plugnet call switchd lan.add name=Bad_Name 2>err &&
    grep "not running" err
'

test_done
