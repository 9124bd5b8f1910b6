#!/bin/sh
# `plugnet up` says the lab is up only once every node it started is ready
# (its agent up): an exec right after up works without waiting.  A node
# whose command dies at once fails the up, naming the node, its exit status
# and its console log -- which the rollback keeps, at the path the message
# names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1
STAR=$PLUGNET_SRC/examples/star.clab.yml

test_expect_success NETNS 'the daemons start' '
    pn_daemons_start
'

# Three rounds: before readiness meant the agent, about one node in three
# had no agent yet when up returned.
test_expect_success NETNS 'up examples/star.clab.yml, then exec into every node at once, three times' '
    (for round in 1 2 3; do
        plugnet up "$STAR" >out 2>err || { cat out err; exit 1; }
        grep -q "^4 nodes ready in " out &&
        grep -q "lab star is up (4 nodes, 1 LAN)" out || { echo "round $round:"; cat out; exit 1; }
        for n in s1 s2 s3 s4; do
            test "$(plugnet exec --wait 0 $n -- hostname)" = $n || { echo "round $round: $n"; exit 1; }
        done
        plugnet down "$STAR" >/dev/null || exit 1
    done)
'

# die.clab.yml CMD: two ns nodes, the second running CMD.
die_lab() {
    cat >die.clab.yml <<EOF
name: die$TEST_TAG
topology:
  defaults: {kind: linux}
  nodes:
    d1: {}
    d2: {cmd: "$1"}
  links:
    - endpoints: [{node: d1, interface: eth1, ipv4: 10.62.0.1/24}, {node: d2, interface: eth1, ipv4: 10.62.0.2/24}]
EOF
}

test_expect_success NETNS 'a node whose command exits at once fails up, naming it, its status and its console log' '
    die_lab "echo dying-now-$TEST_TAG; exit 3" &&
    { plugnet up die.clab.yml >out 2>err; rc=$?; cat out err; echo "exit $rc"; test $rc = 1; } &&
    grep -q "^plugnet: node .d2. crashed before its boot completed (exit status 3); last console lines:" err &&
    grep -q "^  | dying-now-$TEST_TAG\$" err &&
    grep -q "^plugnet: up die$TEST_TAG: node d2 crashed before its boot completed (exit status 3); console log: .*; rolled back [1-9][0-9]* steps\$" err &&
    grep -q "^rolling back" out &&
    ! grep -q "is up" out &&
    nodes >left &&
    ! grep -qx d2 left
'

test_expect_success NETNS 'the console log it names survived the rollback' '
    log=$(sed -n "s/^plugnet: up die$TEST_TAG: .*; console log: \(.*\); rolled back .*/\1/p" err) &&
    test "$log" = "$PLUGNET_STATE_DIR/failed/die$TEST_TAG/d2/console.log" &&
    grep -q "^dying-now-$TEST_TAG\$" "$log" &&
    ! test -e "$PLUGNET_STATE_DIR/nodes/d2"
'

test_expect_success NETNS 'a command that exits 0 at once fails up too; --json says so' '
    die_lab "true" &&
    { plugnet --json up die.clab.yml >out 2>err; test $? = 1; } &&
    grep -q "^plugnet: up die$TEST_TAG: node d2 crashed before its boot completed (exit status 0)" err &&
    test "$(jq -r .ok out)" = false &&
    jq -r .error out >error &&
    grep -q "^node d2 crashed before its boot completed (exit status 0); console log: $PLUGNET_STATE_DIR/failed/die$TEST_TAG/d2/console.log; rolled back" error &&
    test -e "$PLUGNET_STATE_DIR/failed/die$TEST_TAG/d2/console.log"
'

test_done
