#!/bin/sh
# cfgdiskd needs no privilege: run as nobody with no capability at all (not
# even in its bounding set), it builds both disk formats, and its PLUGNET
# disk is byte-identical to the one a root daemon builds from the same spec.
# Whatever nobody runs or reads is copied into the test's own directory, so
# the test passes wherever the checkout lives (root's 0700 home included).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cd-lib.sh"

test_lazy_prereq SETPRIV "setpriv (util-linux) is missing" 'command -v setpriv'
printf '#!/bin/sh\necho "agent $*"\n' >"$TEST_DIR/agent"
chmod 755 "$TEST_DIR/agent"
export PLUGNET_AGENT="$TEST_DIR/agent"
cd_spec_full n5 5 plugnet >"$TEST_DIR/spec.json"
cd_spec_full n5 5 cidata >"$TEST_DIR/spec-ci.json"

U=$TEST_DIR/nobody
NBIN=$TEST_DIR/nobody-bin
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"
stop_nobody() { [ -n "${NPID:-}" ] && kill "$NPID" 2>/dev/null; true; }
test_atexit stop_nobody
# as_nobody_env CMD...: a command against the nobody daemon's run dir.
nobody_call() { PLUGNET_RUN_DIR=$U/run PLUGNET_STATE_DIR=$U/state cd-call "$@"; }

test_expect_success ROOT,SETPRIV 'plugnet-cfgdiskd starts as nobody without any capability' '
    chmod 711 "$TEST_DIR" &&
    mkdir -p "$U" "$NBIN" && chown 65534:65534 "$U" &&
    cp "$PLUGNET_BUILD/bin/plugnet-cfgdiskd" "$NBIN/" &&
    chmod 755 "$NBIN" "$NBIN/plugnet-cfgdiskd" &&
    if ! $AS_NOBODY test -x "$NBIN/plugnet-cfgdiskd" -a -r "$PLUGNET_AGENT"
    then
        say "nobody cannot reach $NBIN: is a parent of $TEST_DIR private?" && false
    fi &&
    { $AS_NOBODY env PLUGNET_RUN_DIR="$U/run" PLUGNET_STATE_DIR="$U/state" \
        "$NBIN/plugnet-cfgdiskd" >"$TEST_DIR/nobody.log" 2>&1 & } &&
    NPID=$! &&
    retry_until 20 nobody_call cfgdiskd ping >/dev/null &&
    grep -E "^(Uid|Gid):" /proc/$NPID/status &&
    grep -Eq "^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534" /proc/$NPID/status &&
    grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/$NPID/status >"$TEST_DIR/caps" &&
    cat "$TEST_DIR/caps" &&
    test "$(grep -c "0000000000000000$" "$TEST_DIR/caps")" = 5
'

test_expect_success ROOT,SETPRIV 'the unprivileged daemon builds a PLUGNET disk, owned by nobody, readable back' '
    RN=$(nobody_call cfgdiskd disk.build "@$TEST_DIR/spec.json") &&
    NIMG=$(cd_field "$RN" path) &&
    test "$(stat -c %u "$NIMG")" = 65534 &&
    cd_cat "$NIMG" /plugnet.conf | grep -qx "PLUGNET_NAME=n5" &&
    cd_cat "$NIMG" /plugnet-agent | cmp - "$TEST_DIR/agent" &&
    e2fsck -fn "$NIMG"
'

test_expect_success ROOT,SETPRIV 'and a cidata seed' '
    RC=$(nobody_call cfgdiskd disk.build "@$TEST_DIR/spec-ci.json") &&
    test "$(stat -c %u "$(cd_field "$RC" path)")" = 65534 &&
    MTOOLS_SKIP_CHECK=1 mtype -i "$(cd_field "$RC" path)" ::meta-data | grep -qx "local-hostname: n5.lab"
'

test_expect_success ROOT,SETPRIV 'root and nobody build byte-identical disks from the same spec' '
    pn_daemons_start cfgdiskd &&
    RR=$(cd_build "$TEST_DIR/spec.json") &&
    test "$(cd_field "$RR" cached)" = false &&
    test "$(cd_field "$RR" key)" = "$(cd_field "$RN" key)" &&
    test "$(cd_field "$RR" sha256)" = "$(cd_field "$RN" sha256)" &&
    cmp "$(cd_field "$RR" path)" "$NIMG" &&
    RRC=$(cd_build "$TEST_DIR/spec-ci.json") &&
    cmp "$(cd_field "$RRC" path)" "$(cd_field "$RC" path)"
'

test_expect_success ROOT,SETPRIV 'everything the nobody daemon wrote is its own, no staging left behind' '
    find "$U" ! -user 65534 >"$TEST_DIR/not-nobodys" &&
    test ! -s "$TEST_DIR/not-nobodys" &&
    ls -A "$U/state/cfgdisk/tmp" >"$TEST_DIR/staging" &&
    test ! -s "$TEST_DIR/staging"
'

test_done
