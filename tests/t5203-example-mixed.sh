#!/bin/sh
# examples/mixed.clab.yml up and down: a UML, a qemu and a namespace node
# on one bridge, plus a point-to-point link between the UML and ns nodes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1
LAB=$PLUGNET_SRC/examples/mixed.clab.yml

test_expect_success NETNS,IMAGE 'up brings the three kinds up' '
    pn_daemons_start &&
    plugnet up "$LAB" >out &&
    grep -q "um| hello from um" out &&
    every_node_running "$LAB" &&
    test "$(node_field um kind)" = uml &&
    test "$(node_field vm kind)" = qemu &&
    test "$(node_field ns1 kind)" = ns
'

test_expect_success NETNS,IMAGE 'the UML node reaches the qemu and namespace nodes' '
    plugnet exec --wait 90 vm -- true &&
    retry_until 30 plugnet exec um -- ping -c 1 -W 1 10.3.0.2 &&
    retry_until 30 plugnet exec um -- ping -c 1 -W 1 10.3.0.3
'

test_expect_success NETNS,IMAGE 'down takes it all away' '
    plugnet down "$LAB" &&
    lab_is_gone "$LAB"
'

test_done
