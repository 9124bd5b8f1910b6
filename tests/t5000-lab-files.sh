#!/bin/sh
# Topology files without daemons: inspect resolves them (text and JSON),
# every broken file is refused with its own file:line:column message by the
# command a user runs, graph draws them with Graphviz, the man page is built.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1

EX=$PLUGNET_SRC/examples
BAD=$PLUGNET_SRC/tests/data/topo-bad


test_expect_success 'inspect resolves the demo lab' '
    plugnet inspect "$EX/demo.clab.yml" >out &&
    grep -q "^lab demo (.*demo.clab.yml): 4 nodes, 2 LANs" out &&
    grep -q "^r1  *qemu  *default  *192M .*eth1:lan1=10.0.1.254/24 eth2:lan2=10.0.2.254/24" out &&
    grep -q "^mon  *ns  " out &&
    grep -q "^lan2  *bridge  *h2:eth1 r1:eth2" out
'

test_expect_success 'inspect --json gives the resolved nodes and LANs' '
    plugnet inspect --json "$EX/ring.clab.yml" >out.json &&
    /usr/bin/python3 - out.json <<-\PY
	import json, sys
	lab = json.load(open(sys.argv[1]))
	assert lab["name"] == "ring", lab
	nodes = {n["name"]: n for n in lab["nodes"]}
	assert sorted(nodes) == ["ra", "rb", "rc", "rd"], nodes
	assert nodes["ra"]["kind"] == "uml" and nodes["ra"]["memory_mb"] == 64
	assert [x["ifname"] for x in nodes["ra"]["nics"]] == ["eth1", "eth2"]
	assert len(nodes["rb"]["exec"]) == 3 and nodes["rb"]["exec"][0]["line"] > 0
	lans = {l["name"]: l for l in lab["lans"]}
	assert lans["rae1-rbe2"]["kind"] == "link"
	assert [m["node"] for m in lans["rae1-rbe2"]["members"]] == ["ra", "rb"]
	PY
'

test_expect_success 'every example parses without warnings' '
    (for f in "$EX"/*.clab.yml; do
        plugnet inspect "$f" >/dev/null 2>err &&
        test_must_be_empty err || exit 1
    done)
'

test_expect_success 'unknown keys are warnings with file:line:column' '
    cat >warn.clab.yml <<-\EOF &&
	name: w
	topology:
	  nodes:
	    n1: {kind: ns, colour: red}
	EOF
    plugnet inspect warn.clab.yml >out 2>err &&
    grep -qx "plugnet: warning: warn.clab.yml:4:20: topology.nodes.n1.colour: unknown key, ignored" err
'

test_expect_success 'each broken file fails with its own message, through up and inspect' '
    (for f in "$BAD"/*.clab.yml; do
        want=$(cat "${f%.clab.yml}.err") &&
        (cd "$BAD" && test_expect_code 2 plugnet inspect "$(basename "$f")") >/dev/null 2>err &&
        echo "plugnet: $want" >expect &&
        test_cmp expect err &&
        (cd "$BAD" && test_expect_code 2 plugnet up "$(basename "$f")") >/dev/null 2>err &&
        test_cmp expect err || exit 1
    done) &&
    n=$(ls "$BAD"/*.clab.yml | wc -l) &&
    test $n -ge 20 &&
    test $(cat "$BAD"/*.err | sort -u | wc -l) = $n
'

test_expect_success 'a missing file is named' '
    test_expect_code 2 plugnet inspect nowhere.clab.yml 2>err &&
    grep -q "nowhere.clab.yml: No such file or directory" err
'

test_expect_success 'graph writes DOT with LANs and labelled links' '
    plugnet graph "$EX/mixed.clab.yml" >g.dot &&
    grep -q "^graph \"mixed\"" g.dot &&
    grep -q "\"l:lan\" \[label=\"lan\", shape=ellipse" g.dot &&
    grep -q "\"n:um\" -- \"n:ns1\" \[label=\"ns1e2-ume2\", taillabel=\"eth2\", headlabel=\"eth2\"\]" g.dot &&
    dot -Tplain g.dot >/dev/null
'

test_expect_success 'graph --format svg and png go through dot' '
    plugnet graph "$EX/demo.clab.yml" --format svg -o demo.svg &&
    grep -q "<svg" demo.svg && grep -q ">r1<" demo.svg &&
    plugnet graph --format png -o demo.png "$EX/star.clab.yml" &&
    file demo.png | grep -q "PNG image" &&
    test_expect_code 2 plugnet graph --format jpeg "$EX/demo.clab.yml" 2>err &&
    grep -q "jpeg" err
'

test_expect_success 'the man page is built from the help and renders' '
    test -s "$PLUGNET_BUILD/man/plugnet.1" &&
    MANWIDTH=100 man -l "$PLUGNET_BUILD/man/plugnet.1" >man.txt 2>man.err &&
    grep -q "plugnet - a virtual network laboratory" man.txt &&
    grep -q "usage: plugnet up" man.txt &&
    grep -q "TOPOLOGY FILES" man.txt &&
    ! grep -i warning man.err
'

test_done
