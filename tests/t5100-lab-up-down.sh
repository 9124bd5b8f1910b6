#!/bin/sh
# plugnet up / down on a lab of namespace nodes: create, apply changes live
# (untouched nodes keep their process), roll back a failing up, and take
# down only what the lab created.  (exec lines: t5101.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1

T=$TEST_TAG
A=a$T B=b$T C=c$T D=d$T E=e$T SW=s$T

# lab FILE [extra nodes] [extra links]: the base lab, two nodes on a link.
lab() {
    cat >"$1" <<EOF
name: t5100
topology:
  defaults: {kind: linux}
  nodes:
    $A: {}
    $B: {}
${2-}
  links:
    - endpoints:
        - {node: $A, interface: eth1, ipv4: 10.51.0.1/24}
        - {node: $B, interface: eth1, ipv4: 10.51.0.2/24}
${3-}
EOF
}


test_expect_success NETNS 'the daemons start' '
    pn_daemons_start &&
    plugnet lan add "k$T"
'

# in_node NODE CMD...: run CMD in an ns node's network namespace.
in_node() { _ns=$(node_field "$1" netns) && shift && ip netns exec "$_ns" "$@"; }

test_expect_success NETNS 'up creates the lab and records it' '
    lab v1.clab.yml &&
    plugnet up v1.clab.yml >out 2>err &&
    grep -q "lab t5100 is up (2 nodes, 1 LAN)" out &&
    test "$(node_field $A state)" = running &&
    test "$(node_field $B state)" = running &&
    lan=$(lab_lans v1.clab.yml) &&
    lans | grep -qx "$lan" &&
    test -s "$PLUGNET_STATE_DIR/labs/t5100.state"
'

test_expect_success NETNS 'the nodes reach each other over their link' '
    retry_until 15 in_node $A ping -c 1 -W 1 10.51.0.2
'

test_expect_success NETNS 'up again changes nothing' '
    pa=$(node_pid $A) && pb=$(node_pid $B) &&
    plugnet up v1.clab.yml >out &&
    grep -q "lab t5100: 0 steps" out &&
    test "$(node_pid $A)" = "$pa" && test "$(node_pid $B)" = "$pb"
'

test_expect_success NETNS 'a new node and bridge apply live; untouched nodes keep running' '
    lab v2.clab.yml "    $C: {}
    $SW: {kind: bridge}" "    - endpoints: [\"$B:eth2\", \"$SW:any\"]
    - endpoints: [{node: $C, interface: eth1, ipv4: 10.52.0.3/24}, \"$SW:any\"]" &&
    sed -i "s/\"$B:eth2\"/{node: $B, interface: eth2, ipv4: 10.52.0.2\/24}/" v2.clab.yml &&
    pa=$(node_pid $A) && pb=$(node_pid $B) &&
    plugnet up v2.clab.yml >out &&
    ! grep "node $A" out &&
    grep -q "add node $C (ns)" out &&
    grep -q "plug $B eth2 into $SW" out &&
    test "$(node_pid $A)" = "$pa" && test "$(node_pid $B)" = "$pb" &&
    test "$(node_field $C state)" = running &&
    in_node $B ip link show eth2 >/dev/null &&
    retry_until 15 in_node $C ping -c 1 -W 1 10.52.0.2 &&
    lans | grep -qx "$SW"
'

test_expect_success NETNS 'a node that leaves the file is deleted' '
    lab v3.clab.yml "    $SW: {kind: bridge}" "    - endpoints: [\"$B:eth2\", \"$SW:any\"]" &&
    plugnet up v3.clab.yml >out &&
    grep -q "delete node $C" out &&
    nodes >now && ! grep -qx "$C" now &&
    lans | grep -qx "$SW"
'

test_expect_success NETNS 'a failing step rolls back this up, and names the step' '
    lab v4.clab.yml "    $SW: {kind: bridge}
    $D: {kind: qemu, image: /nonexistent/t5100.qcow2}" "    - endpoints: [\"$B:eth2\", \"$SW:any\"]
    - endpoints: [\"$A:eth2\", \"$D:eth1\"]" &&
    pa=$(node_pid $A) &&
    lans >before &&
    test_must_fail plugnet up v4.clab.yml >out 2>err &&
    grep -q "plugnet: up t5100: step [0-9]*/[0-9]* (add node $D (qemu)): vmd: " err &&
    grep -q "; rolled back [1-9][0-9]* step" err &&
    nodes >now && ! grep -qx "$D" now &&
    lans >after &&
    test_cmp before after &&
    test "$(node_pid $A)" = "$pa"
'

test_expect_success NETNS 'down removes the lab and only the lab' '
    plugnet down v4.clab.yml >out &&
    grep -q "lab t5100 is down" out &&
    nodes >left && ! grep -qx "$A" left && ! grep -qx "$B" left &&
    lans >left && ! grep -qx "$SW" left && grep -qx "k$T" left &&
    ! test -e "$PLUGNET_STATE_DIR/labs/t5100.state"
'

test_done
