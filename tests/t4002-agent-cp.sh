#!/bin/sh
# plugnet cp through the agent of an ns node: files and trees with their
# modes both ways, 100 MiB both ways, and the errors a user meets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1

test_expect_success ROOT,NETNS 'setup: agentd and an ns agent' '
    pn_daemons_start agentd &&
    ag_ns_node n1 &&
    mkdir remote
'

test_expect_success ROOT,NETNS 'cp a file to the node and back' '
    printf "hello\n" >f && chmod 0604 f &&
    plugnet cp f n1:$TEST_DIR/remote/f1 &&
    [ "$(cat remote/f1)" = hello ] && [ "$(stat -c %a remote/f1)" = 604 ] &&
    plugnet cp n1:$TEST_DIR/remote/f1 back1 &&
    cmp f back1 && [ "$(stat -c %a back1)" = 604 ]
'

test_expect_success ROOT,NETNS 'cp into an existing directory keeps the name' '
    mkdir -p remote/into && plugnet cp f n1:$TEST_DIR/remote/into/ &&
    cmp f remote/into/f
'

test_expect_success ROOT,NETNS 'cp -r a tree with modes, symlinks and empty dirs to the node' '
    mkdir -p tree/a/b tree/empty && echo one >tree/a/one && head -c 70000 /dev/urandom >tree/a/b/blob &&
    : >tree/zero && ln -s a/one tree/link && chmod 0751 tree/a && chmod 0600 tree/a/one &&
    chmod 0555 tree/a/b && chmod 0700 tree/empty && chmod 0755 tree/zero &&
    plugnet cp -r tree n1:$TEST_DIR/remote/ &&
    diff -r tree remote/tree &&
    (cd tree && find . -printf "%p %m %y\n" | sort) >want &&
    (cd remote/tree && find . -printf "%p %m %y\n" | sort) >got &&
    test_cmp want got && [ "$(readlink remote/tree/link)" = a/one ]
'

test_expect_success ROOT,NETNS 'cp -r a tree from the node under a new name' '
    plugnet cp -r n1:$TEST_DIR/remote/tree copy &&
    diff -r tree copy &&
    (cd copy && find . -printf "%p %m %y\n" | sort) >got2 &&
    test_cmp want got2
'

test_expect_success ROOT,NETNS '100 MiB to the node and back, checked by sha256' '
    head -c 104857600 /dev/urandom >big &&
    plugnet cp big n1:$TEST_DIR/remote/big &&
    plugnet cp n1:$TEST_DIR/remote/big big.back &&
    sha256sum <big >want.sum && sha256sum <remote/big >got.sum && sha256sum <big.back >back.sum &&
    test_cmp want.sum got.sum && test_cmp want.sum back.sum &&
    rm -f big big.back remote/big
'

test_expect_success ROOT,NETNS 'errors name what is wrong' '
    { plugnet cp tree n1:$TEST_DIR/remote/x 2>err; [ $? = 1 ]; } && grep -q "is a directory (use -r)" err &&
    { plugnet cp n1:/no/such/file x 2>err; [ $? = 1 ]; } && grep -q "/no/such/file" err &&
    { plugnet cp f n1:relative/path 2>err; [ $? = 2 ]; } && grep -q "must be absolute" err &&
    { plugnet cp f n1:/no/such/dir/ 2>err; [ $? = 1 ]; } && grep -q "does not exist" err &&
    { plugnet cp f g 2>err; [ $? = 2 ]; } && grep -q "NODE:/path" err &&
    { plugnet cp nosuch.file n1:/tmp/x 2>err; [ $? = 1 ]; } && grep -q "nosuch.file" err &&
    { plugnet cp f n9:/tmp/x 2>err; [ $? != 0 ]; } && grep -q "no agent registered" err
'

test_expect_success ROOT,NETNS 'a failed copy leaves the agent serving' '
    [ "$(plugnet exec n1 -- echo fine)" = fine ]
'

test_done
