#!/bin/sh
# exec: lines of a topology file run through the node's agent once it is up,
# in order, with their output shown by node; env applies to them; a failing
# line stops that node's list and is reported by node and line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1

cat >exec.clab.yml <<EOF
name: t5101
topology:
  nodes:
    u1:
      kind: uml
      env: {WHO: plugnet}
      exec:
        - echo "one from \$(hostname)"
        - echo "two for \$WHO"
        - exit 3
        - echo never
EOF

test_expect_success NETNS,IMAGE 'exec lines run in order; the failing one is named' '
    pn_daemons_start &&
    test_expect_code 1 plugnet up exec.clab.yml >out 2>err &&
    grep -n "u1[|$]" out >lines &&
    sed -n "1s/^[0-9]*://p" lines | grep -qx "  u1\$ echo \"one from \$(hostname)\"" &&
    grep -qx "  u1| one from u1" out &&
    grep -qx "  u1| two for plugnet" out &&
    test $(grep -n "one from u1" out | cut -d: -f1) -lt $(grep -n "two for plugnet" out | cut -d: -f1) &&
    grep -qx "plugnet: node u1: exec at exec.clab.yml:10 failed with status 3: exit 3" err &&
    ! grep -q never out &&
    grep -q "lab t5101 is up (1 node, 0 LANs) in .*, with exec failures" out &&
    test "$(node_field u1 state)" = running
'

test_expect_success NETNS,IMAGE 'up --json reports each exec line with its status' '
    plugnet down exec.clab.yml >/dev/null &&
    test_expect_code 1 plugnet up --json exec.clab.yml >out.json 2>err &&
    /usr/bin/python3 -c "
import json
o = json.load(open(\"out.json\"))
assert not o[\"ok\"], o
assert [(e[\"line\"], e[\"status\"]) for e in o[\"exec\"]] == [(8, 0), (9, 0), (10, 3)], o[\"exec\"]
" || { echo "up said:"; cat err; false; }
'

test_expect_success NETNS,IMAGE 'down' '
    plugnet down exec.clab.yml >/dev/null &&
    lab_is_gone exec.clab.yml
'

test_done
