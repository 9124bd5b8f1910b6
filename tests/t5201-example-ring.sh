#!/bin/sh
# examples/ring.clab.yml up and down: four UML routers in a ring of
# point-to-point links; static routes carry a ping to the far side.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1
LAB=$PLUGNET_SRC/examples/ring.clab.yml

test_expect_success NETNS,IMAGE 'up brings the ring up' '
    pn_daemons_start &&
    plugnet up "$LAB" >out &&
    grep -q "lab ring is up (4 nodes, 4 LANs)" out &&
    every_node_running "$LAB"
'

test_expect_success NETNS,IMAGE 'ra reaches the far link through rb or rd' '
    retry_until 20 plugnet exec ra -- ping -c 1 -W 1 10.1.34.3 &&
    plugnet exec ra -- ping -c 1 -W 1 10.1.23.3
'

test_expect_success NETNS,IMAGE 'down takes it all away' '
    plugnet down "$LAB" &&
    lab_is_gone "$LAB"
'

test_done
