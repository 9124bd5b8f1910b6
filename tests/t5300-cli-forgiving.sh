#!/bin/sh
# Commands that forgive (issue 14, item 5): start and stop are idempotent;
# typos get a did-you-mean (commands, subcommands, node names, YAML keys)
# in one "plugnet:" prefix; exec, cp and shell say "no node" or "is
# stopped" with their documented exit codes; stats without a LAN names the
# LANs; exec | head ends quietly; every option is in the help and the man
# page; a count is printed with its noun in the right number.
. "$(dirname "$0")/lib.sh"
cd "$TEST_DIR" || exit 1

# ---------------------------------------------------------- without daemons

test_expect_success 'an unknown command: one prefix and a did-you-mean, exit 2' '
    test_expect_code 2 plugnet nodes ls 2>err &&
    echo "plugnet: unknown command '\''nodes'\'' (did you mean '\''node'\''?)" >expect &&
    test_cmp expect err &&
    test_expect_code 2 plugnet xyzzy 2>err &&
    echo "plugnet: unknown command '\''xyzzy'\'' (see '\''plugnet help'\'')" >expect &&
    test_cmp expect err &&
    test_expect_code 2 plugnet help exce 2>err &&
    echo "plugnet: unknown command '\''exce'\'' (did you mean '\''exec'\''?)" >expect &&
    test_cmp expect err &&
    test_expect_code 2 plugnet --timeout soon status 2>err &&
    echo "plugnet: --timeout wants seconds, not '\''soon'\''" >expect &&
    test_cmp expect err
'

test_expect_success 'an unknown subcommand of node: did you mean' '
    test_expect_code 2 plugnet node strat web 2>err &&
    grep -qx "plugnet node: unknown subcommand .strat. (did you mean .start.?)" err
'

# Every option a command accepts, in its help and in the man page made from it.
test_expect_success 'every option is in the help and the man page' '
    man=$PLUGNET_BUILD/man/plugnet.1 &&
    (check() { # COMMAND OPTION...
        cmd=$1 && shift &&
        plugnet help $cmd >help.$cmd 2>&1 || { echo "plugnet help $cmd failed"; exit 1; }
        for o in "$@"; do
            grep -q -e "$o\\b" help.$cmd || { echo "plugnet help $cmd: no $o"; exit 1; }
            grep -q -e "$o\\b" "$man" || { echo "man page: no $o"; exit 1; }
        done
    } &&
    check node --kind --image --mem --cpus --number --nic --mgmt-ip --no-mgmt --persistent \
        --start --wait --script --force -f &&
    check exec -t -e --cwd --timeout --wait &&
    check shell --wait &&
    check cp -r -R --wait &&
    check stats --watch -w --interval &&
    check up --json -j --quiet -q &&
    check graph --format -f -T --output -o &&
    check events --json --timeout -n --count)
'

test_expect_success 'a misspelt YAML key: warned with file:line:col and a did-you-mean' '
    cat >typo.clab.yml <<-\EOF &&
	name: typo
	topology:
	  node:
	    n1: {kind: ns, memroy: 64MiB}
	EOF
    plugnet inspect typo.clab.yml >out 2>err &&
    cat err &&
    grep -qx "plugnet: warning: typo.clab.yml:3:3: topology.node: unknown key, ignored (did you mean .nodes.?)" err &&
    cat >typo2.clab.yml <<-\EOF &&
	name: typo2
	topology:
	  nodes:
	    n1: {kind: ns, memroy: 64MiB}
	    n2: {kind: ns}
	  links:
	    - {endpoints: ["n1:eth1", "n2:eth1"], mut: 1400}
	EOF
    plugnet inspect typo2.clab.yml >out 2>err &&
    grep -qx "plugnet: warning: typo2.clab.yml:4:20: topology.nodes.n1.memroy: unknown key, ignored (did you mean .memory.?)" err &&
    grep -qx "plugnet: warning: typo2.clab.yml:7:[0-9]*: topology.links\[0\].mut: unknown key, ignored (did you mean .mtu.?)" err
'

test_expect_success 'the warning of a misspelt key comes with the error it causes' '
    cat >fails.clab.yml <<-\EOF &&
	name: fails
	topology:
	  node:
	    n1: {kind: ns}
	  links:
	    - endpoints: ["n1:eth1", "n1:eth2"]
	EOF
    test_expect_code 2 plugnet inspect fails.clab.yml 2>err &&
    cat err &&
    head -n1 err | grep -qx "plugnet: warning: fails.clab.yml:3:3: topology.node: unknown key, ignored (did you mean .nodes.?)" &&
    sed -n 2p err | grep -q "^plugnet: fails.clab.yml:6:.*no node .n1." &&
    test $(wc -l <err) = 2
'

# ------------------------------------------------------------- with daemons

test_expect_success NETNS 'the daemons start; web runs, db is stopped' '
    pn_daemons_start &&
    plugnet lan add lan1 >/dev/null &&
    plugnet node add web --kind ns --nic lan1 --wait >/dev/null &&
    plugnet node add db --kind ns --nic lan1 --wait >/dev/null &&
    plugnet node stop db >/dev/null
'

test_expect_success NETNS 'start on a running node, stop on a stopped one: said, exit 0' '
    plugnet node start web >out &&
    echo "node '\''web'\'' is already running" >expect &&
    test_cmp expect out &&
    plugnet node stop db >out &&
    echo "node '\''db'\'' is already stopped" >expect &&
    test_cmp expect out &&
    plugnet --json node start web >out.json &&
    test "$(jq -r .state out.json)" = running
'

test_expect_success NETNS 'several names: the ones already there are said, the others done' '
    plugnet node start --wait web db >out &&
    grep -qx "node .web. is already running" out &&
    test "$(plugnet --json node show db | jq -r .state)" = running &&
    plugnet node stop web db >out &&
    test_must_be_empty out &&
    plugnet node stop web db >out &&
    printf "node '\''%s'\'' is already stopped\n" web db >expect &&
    test_cmp expect out &&
    plugnet node start --wait web >/dev/null
'

test_expect_success NETNS 'a missing node: no node, did you mean; exec 255, cp 1, shell 255' '
    echo "plugnet: no node '\''wbe'\'' (did you mean '\''web'\''?)" >expect &&
    test_expect_code 255 plugnet exec wbe -- true 2>err &&
    test_cmp expect err &&
    test_expect_code 255 plugnet shell wbe </dev/null 2>err &&
    test_cmp expect err &&
    echo x >f &&
    test_expect_code 1 plugnet cp f wbe:/tmp/x 2>err &&
    test_cmp expect err &&
    test_expect_code 255 plugnet exec zzzzzz -- true 2>err &&
    grep -qx "plugnet: no node .zzzzzz. (plugnet node ls lists them)" err
'

test_expect_success NETNS 'a stopped node: is stopped, start it' '
    echo "plugnet: node '\''db'\'' is stopped; start it with '\''plugnet node start db'\''" >expect &&
    test_expect_code 255 plugnet exec db -- true 2>err &&
    test_cmp expect err &&
    test_expect_code 1 plugnet cp db:/etc/hostname x 2>err &&
    test_cmp expect err
'

test_expect_success NETNS 'exec | head: quiet on a closed pipe' '
    { plugnet exec web -- seq 1 1000000 2>err; echo $? >rc; } | head -n 2 >out &&
    printf "1\n2\n" >expect &&
    test_cmp expect out &&
    test_must_be_empty err &&
    test "$(cat rc)" = 141
'

test_expect_success NETNS 'stats without a LAN names the LANs' '
    test_expect_code 2 plugnet stats >out 2>err &&
    test_must_be_empty out &&
    head -n1 err >first &&
    grep -qx "plugnet stats: which LAN? (.*)" first &&
    grep -q "lan1" first
'

test_expect_success NETNS 'a count of one takes the singular noun' '
    plugnet node add big --kind uml --cpus 2 --mem 128 >out &&
    grep -q "memory  *128 MiB, 2 cpus$" out &&
    plugnet node add small --kind uml --cpus 1 --mem 128 >out &&
    grep -q "memory  *128 MiB, 1 cpu$" out &&
    plugnet stats lan1 >out &&
    grep -q "^lan lan1: [0-9]* MACs\? (cap" out
'

test_done
