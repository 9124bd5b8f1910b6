#!/bin/bash
# The agent on real guests under vmd, beyond the basics of t4006/t4007:
# 100 MiB both ways through a qemu guest's virtio port, and `plugnet shell`
# and `plugnet console` into a UML and a qemu guest, driven through tmux as
# a person would.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_lazy_prereq AGENT "the guest agent is not built" 'test -x "$PLUGNET_BUILD/bin/plugnet-agent"'
test_lazy_prereq TMUX "tmux is not installed" 'command -v tmux'
TM="tmux -L pn$TEST_TAG"
screen() { $TM capture-pane -p -t "$1"; }
# shows SESSION PATTERN: wait until the screen shows a line matching PATTERN.
shows() {
    _ses=$1 _pat=$2
    retry_until 60 eval 'screen "$_ses" | grep -q -- "$_pat"' && return 0
    echo "the screen of $_ses does not show '$_pat':"; screen "$_ses"; return 1
}

test_expect_success ROOT,UML,QEMU,AGENT 'daemons, image, a UML and a qemu node with their agents' '
    pn_image &&
    vm_daemons switchd cfgdiskd vmd agentd &&
    plugnet lan add lan1 >/dev/null &&
    plugnet node add u1 --kind uml --nic lan1 --start >/dev/null &&
    plugnet node add q1 --kind qemu --mem 192 --nic lan1 --start >/dev/null &&
    test "$(plugnet exec u1 --wait 120 -- hostname)" = u1 &&
    test "$(plugnet exec q1 --wait 180 -- hostname)" = q1
'

test_expect_success ROOT,QEMU,AGENT '100 MiB to a qemu guest and back, checked by sha256' '
    head -c 100M /dev/urandom >big &&
    want=$(sha256sum <big | cut -d" " -f1) &&
    plugnet cp big q1:/root/big &&
    test "$(plugnet exec q1 -- sha256sum /root/big | cut -d" " -f1)" = "$want" &&
    plugnet cp q1:/root/big back &&
    test "$(sha256sum <back | cut -d" " -f1)" = "$want" &&
    plugnet exec q1 -- rm /root/big &&
    rm -f big back
'

test_expect_success ROOT,UML,QEMU,AGENT,TMUX 'plugnet shell into UML and qemu guests through tmux' '
    test_atexit "$TM kill-server 2>/dev/null" &&
    for n in u1 q1; do
        $TM new-session -d -s $n -x 90 -y 25 "$PLUGNET_BUILD/bin/plugnet shell $n" &&
        shows $n "[#$] *\$" &&
        $TM send-keys -t $n "echo \$((6*7))-\$(hostname); stty size" Enter &&
        shows $n "^42-$n" && shows $n "^25 90" &&
        $TM resize-window -t $n -x 100 -y 30 &&
        $TM send-keys -t $n "clear; stty size" Enter &&
        shows $n "^30 100" &&
        $TM send-keys -t $n "sleep 4243" Enter &&
        retry_until 30 plugnet exec $n -- sh -c "ps | grep -q \"[s]leep 4243\"" &&
        $TM send-keys -t $n C-c &&
        retry_until 30 plugnet exec $n -- sh -c "! ps | grep -q \"[s]leep 4243\"" &&
        $TM send-keys -t $n "echo alive-\$?" Enter &&
        shows $n "^alive-" &&
        $TM send-keys -t $n "exit" Enter &&
        retry_until 30 eval "! $TM has-session -t $n 2>/dev/null" || return 1
    done
'

test_expect_success ROOT,UML,QEMU,TMUX 'plugnet console in tmux: the root shell answers; Ctrl-] detaches, the node runs on' '
    for n in u1 q1; do
        $TM new-session -d -s c$n -x 90 -y 25 "$PLUGNET_BUILD/bin/plugnet console $n" &&
        shows c$n "Ctrl-. detaches" &&
        $TM send-keys -t c$n "echo \$((3*4))-con-\$(hostname)" Enter &&
        shows c$n "^12-con-$n" &&
        $TM send-keys -t c$n C-] &&
        retry_until 30 eval "! $TM has-session -t c$n 2>/dev/null" &&
        test "$(vm_field $n .state)" = running &&
        test "$(plugnet exec $n -- hostname)" = $n || return 1
    done
'

test_done
