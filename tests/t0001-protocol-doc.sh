#!/bin/bash
# docs/PROTOCOL.md is generated from proto/schema.c and must be up to date.
. "$(dirname "$0")/lib.sh"

test_expect_success 'docs/PROTOCOL.md matches the schema' '
    pn-gendoc >"$TEST_DIR/PROTOCOL.md" &&
    test_cmp "$PLUGNET_SRC/docs/PROTOCOL.md" "$TEST_DIR/PROTOCOL.md"
'

test_expect_success 'the doc lists every op of the four daemons' '
    for svc in switchd vmd cfgdiskd agentd; do
        grep -q "^## $svc" "$PLUGNET_SRC/docs/PROTOCOL.md" || return 1
    done &&
    grep -q "^#### \`ping\`" "$PLUGNET_SRC/docs/PROTOCOL.md" &&
    grep -q "^- \`invalid_argument\`" "$PLUGNET_SRC/docs/PROTOCOL.md"
'

test_done
