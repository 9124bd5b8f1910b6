#!/bin/sh
# plugnet up / down on a lab of bridges only (switchd alone): LANs are
# created, the difference applied, a refused step rolled back with the step
# named, and down removes the lab's LANs and nothing else.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1

lab() {
    { echo "name: lans"; echo "topology:"; echo "  nodes:"
      for b in "$@"; do echo "    $b: {kind: bridge}"; done; } >lab.clab.yml
}

test_expect_success 'switchd starts, with a LAN of its own' '
    pn_daemons_start switchd &&
    plugnet lan add mine
'

test_expect_success 'up creates the bridges as LANs and records them' '
    lab core edge &&
    plugnet up lab.clab.yml >out &&
    grep -q "\[1/2\] add LAN core (new)" out &&
    grep -q "lab lans is up (0 nodes, 2 LANs)" out &&
    lans >actual &&
    printf "core\nedge\nmine\n" >expect && test_cmp expect actual &&
    test -s "$PLUGNET_STATE_DIR/labs/lans.state" &&
    plugnet inspect >labs && grep -q "^lans  *0  *2 " labs
'

test_expect_success 'up again does nothing' '
    plugnet up lab.clab.yml >out &&
    grep -q "lab lans: 0 steps" out && grep -q "nothing to change" out
'

test_expect_success 'the difference is applied: a LAN added, one removed' '
    lab core dmz &&
    plugnet up --json lab.clab.yml >out.json &&
    /usr/bin/python3 -c "
import json, sys
o = json.load(open(\"out.json\"))
assert o[\"ok\"] and o[\"lab\"] == \"lans\", o
assert [s[\"step\"] for s in o[\"steps\"]] == [\"add LAN dmz\", \"delete LAN edge\"], o
" &&
    lans >actual &&
    printf "core\ndmz\nmine\n" >expect && test_cmp expect actual
'

test_expect_success ROOT 'a refused step is rolled back and named' '
    plugnet port add-tap dmz "pn${TEST_TAG}d" >/dev/null &&
    lab core web &&
    test_expect_code 1 plugnet up lab.clab.yml >out 2>err &&
    grep -q "^plugnet: up lans: step 2/2 (delete LAN dmz): switchd: busy: .*; rolled back 1 step$" err &&
    grep -q "undo: delete LAN web" out &&
    lans >actual &&
    printf "core\ndmz\nmine\n" >expect && test_cmp expect actual
'

test_expect_success 'down removes the lab and leaves the rest' '
    lab core dmz &&
    plugnet down lab.clab.yml >out &&
    grep -q "lab lans is down" out &&
    lans >actual &&
    echo mine >expect && test_cmp expect actual &&
    ! test -e "$PLUGNET_STATE_DIR/labs/lans.state"
'

test_done
