#!/bin/sh
# plugnet exec through the agent of an ns node (plugnet-agent --listen in a
# network namespace of its own): exit codes, signals, timeouts, binary-safe
# stdin/stdout, env and cwd, parallel sessions, no orphans.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1

test_expect_success ROOT,NETNS 'agentd starts and an ns agent comes up' '
    pn_daemons_start agentd &&
    ag_ns_node n1 &&
    [ "$(ag_state n1)" = up ]
'

test_expect_success ROOT,NETNS 'exec runs in the node and returns its exit status' '
    [ "$(plugnet exec n1 -- sh -c "echo hello")" = hello ] &&
    plugnet exec n1 true &&
    { plugnet exec n1 -- sh -c "exit 3"; [ $? = 3 ]; } &&
    { plugnet exec n1 false; [ $? = 1 ]; }
'

test_expect_success ROOT,NETNS 'exec runs inside the node namespace' '
    plugnet exec n1 -- ip -o link show >links &&
    [ "$(wc -l <links)" = 1 ] && grep -q " lo:" links
'

test_expect_success ROOT,NETNS 'stdout and stderr stay apart' '
    plugnet exec n1 -- sh -c "echo out; echo err >&2" >out 2>err &&
    [ "$(cat out)" = out ] && [ "$(cat err)" = err ]
'

test_expect_success ROOT,NETNS 'a signal that kills the command gives 128+N' '
    { plugnet exec n1 -- sh -c "kill -TERM \$\$"; [ $? = 143 ]; } &&
    { plugnet exec n1 -- sh -c "kill -KILL \$\$"; [ $? = 137 ]; }
'

test_expect_success ROOT,NETNS 'a missing command is 127, a bad cwd 126, both explained' '
    { plugnet exec n1 -- /no/such/cmd 2>err; [ $? = 127 ]; } && grep -q "cannot run /no/such/cmd" err &&
    { plugnet exec --cwd /no/such/dir n1 -- pwd 2>err; [ $? = 126 ]; } && grep -q "/no/such/dir" err
'

test_expect_success ROOT,NETNS '--timeout kills the command and exits 124' '
    { plugnet exec n1 --timeout 0.3 -- sleep 30 2>err; [ $? = 124 ]; } && grep -q "timed out" err
'

test_expect_success ROOT,NETNS 'env and cwd are passed' '
    [ "$(plugnet exec n1 -e FOO=bar -e X=1=2 --cwd /tmp -- sh -c "echo \$FOO \$X \$(pwd)")" = "bar 1=2 /tmp" ]
'

test_expect_success ROOT,NETNS '10 MiB of random bytes through stdin and stdout (sha256)' '
    head -c 10485760 /dev/urandom >r10 &&
    plugnet exec n1 -- cat <r10 | sha256sum >got &&
    sha256sum <r10 >want &&
    test_cmp want got
'

test_expect_success ROOT,NETNS 'tar c . | plugnet exec n1 -- tar x works' '
    mkdir -p src/d && head -c 100000 /dev/urandom >src/d/blob && echo hi >src/f && chmod 0640 src/f &&
    mkdir dst &&
    (cd src && tar c .) | plugnet exec n1 -- tar x -C "$TEST_DIR/dst" &&
    diff -r src dst && [ "$(stat -c %a dst/f)" = 640 ]
'

test_expect_success ROOT,NETNS 'an empty stdin and a command that ignores stdin' '
    plugnet exec n1 -- cat </dev/null >empty.out && test ! -s empty.out &&
    head -c 1000000 /dev/zero | plugnet exec n1 -- true
'

test_expect_success ROOT,NETNS '16 parallel execs all succeed with their own output' '
    i=0 && pids="" &&
    while [ $i -lt 16 ]; do
        { plugnet exec n1 -- sh -c "head -c 200000 /dev/zero | tr \\\\0 x | wc -c; echo $i" >par.$i & } &&
        pids="$pids $!" && i=$((i+1)) || return 1
    done &&
    for p in $pids; do wait $p || return 1; done &&
    i=0 && while [ $i -lt 16 ]; do
        [ "$(tr -d " " <par.$i | tr "\n" " ")" = "200000 $i " ] || { cat par.$i; return 1; }
        i=$((i+1))
    done
'

test_expect_success ROOT,NETNS 'a CLI killed mid-session leaves no orphan' '
    rm -f pid1 pid2 &&
    plugnet exec n1 -- sh -c "sleep 1000 & echo \$! >$TEST_DIR/pid2; echo \$\$ >$TEST_DIR/pid1; wait" &
    cli=$! &&
    retry_until 10 test -s pid2 && retry_until 10 test -s pid1 &&
    ag_alive "$(cat pid1)" && ag_alive "$(cat pid2)" &&
    kill -9 $cli &&
    retry_until 10 eval "! ag_alive $(cat pid1) && ! ag_alive $(cat pid2)"
'

test_expect_success ROOT,NETNS 'exec of an unknown node fails with a reason' '
    { plugnet exec nosuch true 2>err; [ $? = 255 ]; } && grep -q "no agent registered" err
'

test_done
