#!/bin/sh
# The front door runs as written: every shell block of README.md and
# docs/LABS.md, extracted by scripts/doc-blocks.py and run in order, one
# shell per document (what a block sets or writes is there for the next),
# as doctest runs Python's examples.  Each document gets its own RUN and
# STATE directories under TEST_DIR and a scratch copy of the checkout's
# layout to run in (examples/, build/ ... as links); its blocks start the
# daemons as a reader would, and everything is torn down after it.  Blocks
# marked `<!-- doc-test: skip (why) -->` are listed with the reason.  A
# failing block fails the test naming FILE:LINE of the command that failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1

test_lazy_prereq BASH "no bash" 'command -v bash'
test_lazy_prereq VDE_PLUG "no vde_plug (apt-get install vdeplug)" 'command -v vde_plug'
test_lazy_prereq DOT "no Graphviz dot (apt-get install graphviz)" 'command -v dot'
test_lazy_prereq GUEST_IPTABLES "the guest image has no iptables (apt-get install iptables; make image)" \
    '(. "$PLUGNET_BUILD/image/manifest" && [ "${IPTABLES:-no}" = yes ])'

DOCS="README.md docs/LABS.md"

# run_doc DOC [keep-path]: run DOC's blocks (a path in the checkout) in a
# private lab; fails, printing the block output and the doc-test verdict,
# when a block fails.  The README starts from a PATH without build/bin, as
# a reader's shell does: its own first lines must put plugnet there.
run_doc() {
    _doc=$1
    _d=$TEST_DIR/doc-$(printf %s "$_doc" | tr / -)
    rm -rf "$_d" && mkdir -p "$_d/run" "$_d/state" "$_d/work" || return 1
    for _f in "$PLUGNET_SRC"/*; do
        [ "$(basename "$_f")" = build ] || ln -s "$_f" "$_d/work/" || return 1
    done
    ln -s "$PLUGNET_BUILD" "$_d/work/build" &&
    (cd "$PLUGNET_SRC" && scripts/doc-blocks.py --sh "$_doc") >"$_d/run.sh" || return 1
    test_when_finished "PLUGNET_RUN_DIR='$_d/run' PLUGNET_STATE_DIR='$_d/state' plugnet daemons stop >/dev/null 2>&1 || true"
    _path=$PATH
    if [ "${2:-}" != keep-path ]; then
        _path=$(printf %s "$PATH" | tr : '\n' | grep -vxF "$PLUGNET_BUILD/bin" | paste -sd:)
    fi
    (cd "$_d/work" &&
        PATH=$_path PLUGNET_RUN_DIR=$_d/run PLUGNET_STATE_DIR=$_d/state \
            env -u PLUGNET_BUILD -u PLUGNET_SRC bash "$_d/run.sh") >"$_d/out" 2>&1
    _rc=$?
    if [ $_rc != 0 ]; then
        tail -n 40 "$_d/out"
        return $_rc
    fi
    sed -n "/^doc-test: skip/p" "$_d/out"
}

# The blocks the test does not run, and why (TAP comments).
(cd "$PLUGNET_SRC" && scripts/doc-blocks.py $DOCS) | sed -n 's/^== \(.*\) skip: /skipped \1: /p' |
    while read -r _l; do say "$_l"; done

test_expect_success 'doc-blocks lists every shell block by FILE:LINE, the skipped ones with their reason' '
    (cd "$PLUGNET_SRC" && scripts/doc-blocks.py $DOCS) >blocks &&
    grep "^== " blocks >heads &&
    cat heads &&
    grep -q "^== README.md:[0-9]* (sh) skip: installs packages" heads &&
    grep -q "^== README.md:[0-9]* (sh) skip: installs into the system and needs systemd" heads &&
    grep -q "^== docs/LABS.md:[0-9]* (sh)\$" heads &&
    test $(grep -c -v " skip: " heads) -ge 4 &&
    # only shell blocks: the yaml and json of LABS.md are not run
    test_grep_not "^name: demo" blocks
'

test_expect_success BASH 'a failing block fails, naming the FILE:LINE of its command; jobs are stopped' '
    mkdir -p self/docs &&
    cat >self/docs/x.md <<-\EOF &&
	# x

	<!-- doc-test: skip (too slow) -->
	```sh
	make bench
	```

	```sh
	X=made
	sleep 1000 &
	echo "$X" >x.out
	```

	  ```bash
	  test "$(cat x.out)" = made
	  false; echo not reached
	  ```

	```sh
	echo never run
	```
	EOF
    (cd self && "$PLUGNET_SRC/scripts/doc-blocks.py" --sh docs/x.md) >x.sh &&
    test_expect_code 1 bash x.sh >x.log 2>&1 &&
    cat x.log &&
    grep -q "^doc-test: skip docs/x.md:4: too slow" x.log &&
    grep -q "^doc-test: FAILED: docs/x.md:16 (the block at docs/x.md:14): status 1" x.log &&
    test_grep_not "not reached\|never run" x.log &&
    grep -q "^doc-test: stopping the background jobs" x.log
'

test_expect_success 'a doc-test marker that is not right before a shell block is refused' '
    printf "<!-- doc-test: skip (x) -->\n\`\`\`yaml\na: 1\n\`\`\`\n" >bad1.md &&
    test_expect_code 2 "$PLUGNET_SRC/scripts/doc-blocks.py" bad1.md 2>err &&
    grep -q "bad1.md:1: doc-test marker before a yaml block" err &&
    printf "<!-- doc-test: skip -->\n\`\`\`sh\ntrue\n\`\`\`\n" >bad2.md &&
    test_expect_code 2 "$PLUGNET_SRC/scripts/doc-blocks.py" bad2.md 2>err &&
    grep -q "bad2.md:1: doc-test: skip needs a reason" err
'

test_expect_success NETNS,IMAGE,BASH,VDE_PLUG,DOT,GUEST_IPTABLES 'README.md runs as written' '
    run_doc README.md
'

test_expect_success NETNS,IMAGE,BASH,DOT 'docs/LABS.md runs as written' '
    run_doc docs/LABS.md keep-path
'

test_done
