#!/bin/sh
# plugnet shell and exec -t driven through tmux as a person would: a raw
# pty, the window size and its changes, Ctrl-C reaching the remote program.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1

test_lazy_prereq TMUX "tmux is not installed" 'command -v tmux'
TM="tmux -L pn$TEST_TAG"
screen() { $TM capture-pane -p -t sh; }
# Wait until the screen shows a line matching PATTERN.
shows() {
    _pat=$1
    retry_until 15 eval 'screen | grep -q -- "$_pat"' && return 0
    echo "the screen does not show '$_pat':"; screen; return 1
}

test_expect_success ROOT,NETNS,TMUX 'setup: agentd, an ns agent, a tmux server' '
    pn_daemons_start agentd &&
    ag_ns_node n1 &&
    test_atexit "$TM kill-server 2>/dev/null"
'

test_expect_success ROOT,NETNS,TMUX 'plugnet shell gives a prompt in the node' '
    $TM new-session -d -s sh -x 100 -y 30 "$PLUGNET_BUILD/bin/plugnet shell n1" &&
    shows "[#$] *\$"
'

test_expect_success ROOT,NETNS,TMUX 'commands run there, in a pty of the right size' '
    $TM send-keys -t sh "unset HISTFILE; export PS1=pnp\\\$\\ " Enter &&
    $TM send-keys -t sh "echo \$((6*7))-answer; tty; stty size" Enter &&
    shows "^42-answer" && shows "^/dev/pts/" && shows "^30 100"
'

test_expect_success ROOT,NETNS,TMUX 'a window resize reaches the remote pty' '
    $TM resize-window -t sh -x 120 -y 40 &&
    $TM send-keys -t sh "clear; stty size" Enter &&
    shows "^40 120"
'

test_expect_success ROOT,NETNS,TMUX 'Ctrl-C interrupts the remote program, not the session' '
    $TM send-keys -t sh "clear; sleep 4242" Enter &&
    retry_until 10 sh -c "pgrep -f \"^sleep 4242\$\" >/dev/null" &&
    $TM send-keys -t sh C-c &&
    retry_until 10 sh -c "! pgrep -f \"^sleep 4242\$\" >/dev/null" &&
    $TM send-keys -t sh "echo still-\$((1+1))-here" Enter &&
    shows "^still-2-here"
'

test_expect_success ROOT,NETNS,TMUX 'exit ends the shell and the CLI with it' '
    $TM send-keys -t sh "exit" Enter &&
    retry_until 15 eval "! $TM has-session -t sh 2>/dev/null"
'

test_expect_success ROOT,NETNS,TMUX 'exec -t runs an interactive program with a pty' '
    $TM new-session -d -s sh -x 90 -y 20 "$PLUGNET_BUILD/bin/plugnet exec -t n1 -- sh -c \"stty size; tty; read x; echo got-\\\$x; sleep 100\"" &&
    shows "^20 90" && shows "^/dev/pts/" &&
    $TM send-keys -t sh "abc" Enter && shows "^got-abc" &&
    $TM send-keys -t sh C-c &&
    retry_until 15 eval "! $TM has-session -t sh 2>/dev/null"
'

test_done
