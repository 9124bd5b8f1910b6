#!/bin/bash
# Bash completion of plugnet, driven as bash does it: COMP_WORDS and
# COMP_CWORD set, the completion function called, COMPREPLY read.
. "$(dirname "$0")/lib.sh"
cd "$TEST_DIR" || exit 1

test_lazy_prereq BASH_COMPLETION "bash-completion is not installed" \
    'test -r /usr/share/bash-completion/bash_completion'

# complete WORD... : the candidates bash would offer for the last word.
# Fails, saying why, when the completion script is broken: it does not
# load, does not register a function for plugnet, or writes to stderr.
complete_words() {
    bash -c '
        . /usr/share/bash-completion/bash_completion 2>/dev/null
        . "$PLUGNET_SRC/cli/plugnet.bash-completion" || exit 1
        f=$(complete -p plugnet 2>/dev/null | sed -n "s/^complete .*-F \([^ ]*\) .*plugnet\$/\1/p")
        [ -n "$f" ] && declare -F "$f" >/dev/null || { echo "no completion function for plugnet" >&2; exit 1; }
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        "$f" plugnet "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        [ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort
    ' complete "$@" 2>"$TEST_DIR/complete.err" &&
    test_must_be_empty "$TEST_DIR/complete.err"
}

# A plugnet that notes each call and its status in $TEST_DIR/calls, then
# runs the real one: the completion asks the binary named in COMP_WORDS[0].
printf '#!/bin/sh\nplugnet "$@"\nrc=$?\necho "$* -> $rc" >>"%s/calls"\nexit $rc\n' "$TEST_DIR" >"$TEST_DIR/spy"
chmod +x "$TEST_DIR/spy"

test_expect_success BASH_COMPLETION 'the completion offers every command of cli.h' '
    sed -n "s/^ *X(\([a-z]*\), .*/\1/p" "$PLUGNET_SRC/cli/cli.h" | sort >expect &&
    echo help >>expect && sort -o expect expect &&
    complete_words plugnet "" >actual &&
    test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'commands complete by prefix, after global options' '
    complete_words plugnet --json "n" >actual &&
    printf "nic\nnode\n" >expect &&
    test_cmp expect actual &&
    complete_words plugnet --ti >actual &&
    echo --timeout >expect && test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'subcommands and fixed choices' '
    complete_words plugnet node s >actual &&
    printf "show\nstart\nstop\n" >expect && test_cmp expect actual &&
    complete_words plugnet graph --format "" >actual &&
    printf "dot\npng\nsvg\n" >expect && test_cmp expect actual &&
    complete_words plugnet node add n1 --kind "" >actual &&
    printf "ns\nqemu\numl\n" >expect && test_cmp expect actual &&
    complete_words plugnet daemons "" >actual &&
    printf "restart\nstart\nstop\n" >expect && test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'up completes topology files and directories' '
    mkdir -p labs/sub && : >labs/a.clab.yml && : >labs/b.yaml && : >labs/notes.txt &&
    (cd labs && complete_words plugnet up "") >actual &&
    printf "a.clab.yml\nb.yaml\nsub/\n" >expect && test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'node names come from the daemons, and none when they are down' '
    rm -f calls &&
    complete_words "$TEST_DIR/spy" exec "" >actual &&
    test_cmp /dev/null actual &&
    # it asked, and the daemons were down (3: unreachable)
    grep -qx -- "--json --timeout 2 node ls -> 3" calls
'

test_expect_success BASH_COMPLETION 'LAN names come from switchd' '
    pn_daemons_start switchd &&
    plugnet lan add core &&
    plugnet lan add edge &&
    complete_words plugnet lan del "" >actual &&
    printf "core\nedge\n" >expect && test_cmp expect actual &&
    complete_words plugnet sniff e >actual &&
    echo edge >expect && test_cmp expect actual &&
    complete_words plugnet nic add n1 eth1 c >actual &&
    echo core >expect && test_cmp expect actual
'

test_expect_success BASH_COMPLETION,NETNS 'node names come from vmd' '
    pn_daemons_start cfgdiskd agentd vmd &&
    plugnet node add "n$TEST_TAG" --kind ns >/dev/null &&
    complete_words plugnet exec "" >actual &&
    echo "n$TEST_TAG" >expect && test_cmp expect actual &&
    complete_words plugnet node del n >actual &&
    test_cmp expect actual &&
    complete_words plugnet cp "" >actual &&
    grep -qx "n$TEST_TAG:" actual &&
    plugnet node del "n$TEST_TAG" >/dev/null
'

test_done
