#!/bin/sh
# cfgdiskd builds the PLUGNET disk: every field read back without mounting,
# byte-identical rebuilds, a cache hit that does no work, 20 concurrent
# builds, disk.ls / disk.gc, and bad specs refused before anything is written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cd-lib.sh"

# A stand-in agent binary: the disk must carry exactly these bytes.
printf '#!/bin/sh\necho "agent $*" >"$ROOT/agent-ran"\n' >"$TEST_DIR/agent"
chmod 755 "$TEST_DIR/agent"
export PLUGNET_AGENT="$TEST_DIR/agent"
CACHE=$PLUGNET_STATE_DIR/cfgdisk

test_expect_success 'cfgdiskd starts' '
    pn_daemons_start cfgdiskd &&
    cd-call cfgdiskd ping >"$TEST_DIR/ping" &&
    jq -e ".svc == \"cfgdiskd\"" "$TEST_DIR/ping"
'

test_expect_success 'disk.build makes a PLUGNET ext2 disk in the cache' '
    cd_spec_full n1 1234 plugnet >"$TEST_DIR/spec.json" &&
    R=$(cd_build "$TEST_DIR/spec.json") &&
    IMG=$(cd_field "$R" path) &&
    test "$(cd_field "$R" cached)" = false &&
    test "$(cd_field "$R" format)" = plugnet &&
    case "$IMG" in "$CACHE"/*.plugnet.img) ;; *) test_fail "image outside the cache: $IMG" ;; esac &&
    test "$(cd_field "$R" size)" = "$(stat -c %s "$IMG")" &&
    test "$(cd_field "$R" sha256)" = "$(sha256sum "$IMG" | cut -d" " -f1)" &&
    blkid -o export "$IMG" >"$TEST_DIR/blkid" &&
    grep -qx "LABEL=PLUGNET" "$TEST_DIR/blkid" &&
    grep -qx "TYPE=ext2" "$TEST_DIR/blkid" &&
    e2fsck -fn "$IMG"
'

test_expect_success 'plugnet.conf carries every field, shell-sourceable' '
    cd_cat "$IMG" /plugnet.conf >"$TEST_DIR/plugnet.conf" &&
    (
        . "$TEST_DIR/plugnet.conf" &&
        test "$PLUGNET_NAME" = n1 &&
        test "$PLUGNET_HOSTNAME" = n1.lab &&
        test "$PLUGNET_NUMBER" = 1234 &&
        test "$PLUGNET_MGMT_IP" = 172.30.12.34/16 &&
        test "$PLUGNET_NICS" = "eth0 eth1" &&
        test "$PLUGNET_eth0_MAC" = 02:00:0c:22:00:00 &&
        test "$PLUGNET_eth0_ADDRS" = "10.0.0.1/24 fd00::1/64" &&
        test "$PLUGNET_eth0_ROUTES" = "10.1.0.0/16,10.0.0.254 fd01::/64,fd00::fe 10.9.0.0/16," &&
        test "$PLUGNET_eth0_GATEWAY" = 10.0.0.254 &&
        test "$PLUGNET_eth1_MAC" = 02:00:0c:22:00:01 &&
        test "$PLUGNET_eth1_ROUTES" = "default,fd05::1" &&
        test "$PLUGNET_AGENT" = plugnet-agent &&
        test "$PLUGNET_SCRIPT" = script &&
        test "$PLUGNET_KEY" = "$(cd_field "$R" key)" &&
        printf "0600 /etc/motd\n0755 /usr/local/bin/my tool\n0644 /opt/blob\n" >"$TEST_DIR/files.expect" &&
        printf "%s\n" "$PLUGNET_FILES" >"$TEST_DIR/files.got" &&
        test_cmp "$TEST_DIR/files.expect" "$TEST_DIR/files.got"
    )
'

test_expect_success 'hosts, authorized_keys, files, script, agent and config are on the disk' '
    cd_cat "$IMG" /hosts >"$TEST_DIR/hosts" &&
    grep -q "^127.0.1.1	n1.lab n1$" "$TEST_DIR/hosts" &&
    grep -q "^10.0.0.2	n2 n2.lab$" "$TEST_DIR/hosts" &&
    grep -q "^fd00::2	n2-v6$" "$TEST_DIR/hosts" &&
    cd_cat "$IMG" /authorized_keys >"$TEST_DIR/keys" &&
    printf "%s\n%s\n" "$KEY1" "$KEY2" >"$TEST_DIR/keys.expect" &&
    test_cmp "$TEST_DIR/keys.expect" "$TEST_DIR/keys" &&
    test "$(cd_cat "$IMG" /files/etc/motd)" = "hello from plugnet" &&
    test "$(cd_mode "$IMG" /files/etc/motd)" = 0600 &&
    test "$(cd_mode "$IMG" "/files/usr/local/bin/my tool")" = 0755 &&
    cd_cat "$IMG" /files/opt/blob | od -An -tx1 | tr -d " \n" >"$TEST_DIR/blob" &&
    test "$(cat "$TEST_DIR/blob")" = 00010203040506070809ff &&
    cd_cat "$IMG" /plugnet-agent >"$TEST_DIR/agent.out" &&
    cmp "$TEST_DIR/agent" "$TEST_DIR/agent.out" &&
    test "$(cd_mode "$IMG" /plugnet-agent)" = 0755 &&
    test "$(cd_mode "$IMG" /config)" = 0755 &&
    cd_cat "$IMG" /config | head -n1 | grep -qx "#!/bin/sh" &&
    cd_cat "$IMG" /script | grep -q "user script ran" &&
    test "$(cd_cat "$IMG" /config | sha256sum)" = "$(sha256sum <"$PLUGNET_SRC/services/cfgdiskd/config.sh")"
'

test_expect_success 'every inode is owned by root and dated 2000-01-01' '
    for ino in 2 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
        debugfs -R "stat <$ino>" "$IMG" >"$TEST_DIR/stat.$ino" 2>"$TEST_DIR/debugfs.err" &&
        grep -q "^Links: [1-9]" "$TEST_DIR/stat.$ino" || { echo "inode $ino is not in use"; return 1; }
    done &&
    cat "$TEST_DIR"/stat.* >"$TEST_DIR/stats" &&
    test "$(grep -c -E "^User: +0 +Group: +0( |\$)" "$TEST_DIR/stats")" = 16 &&
    grep "time:" "$TEST_DIR/stats" >"$TEST_DIR/times" &&
    test "$(wc -l <"$TEST_DIR/times")" -ge 64 &&
    test_grep_not -v -e "Sat Jan  1 00:00:00 2000" -e "0x00000000:00000000" "$TEST_DIR/times"
'

test_expect_success 'a cache hit does no work: same file, same inode and mtime, cached flag' '
    before=$(stat -c "%i %Y %y" "$IMG" "$CACHE"/*.meta) &&
    builds=$(cd-call cfgdiskd status | jq .builds) &&
    R2=$(cd_build "$TEST_DIR/spec.json") &&
    test "$(cd_field "$R2" cached)" = true &&
    test "$(cd_field "$R2" path)" = "$IMG" &&
    test "$(cd_field "$R2" sha256)" = "$(cd_field "$R" sha256)" &&
    test "$(stat -c "%i %Y %y" "$IMG" "$CACHE"/*.meta)" = "$before" &&
    test "$(cd-call cfgdiskd status | jq .builds)" = "$builds" &&
    test "$(cd-call cfgdiskd status | jq .cache_hits)" -ge 1
'

# build_next: a fresh disk (e1, e2, ...) whose reply is kept under its name;
# true once the listener has written an event.
ev_n=0
build_next() {
    ev_n=$((ev_n + 1)) &&
    cd_spec_full "e$ev_n" $((700 + ev_n)) plugnet >"$TEST_DIR/e.json" &&
    cd_build "$TEST_DIR/e.json" >"$TEST_DIR/e$ev_n.reply" &&
    test -s "$TEST_DIR/ev"
}

test_expect_success 'a cache hit publishes nothing' '
    events=$(cd-call cfgdiskd status | jq .events) &&
    cd_build "$TEST_DIR/spec.json" >/dev/null &&
    test "$(cd-call cfgdiskd status | jq .events)" = "$events"
'

test_expect_success 'cfgdiskd.disk disk.built is published for a build, with the reply fields' '
    { plugnet events --json -n 1 --timeout 60 cfgdiskd.disk >"$TEST_DIR/ev" 2>"$TEST_DIR/ev.err" & } &&
    EV=$! &&
    retry_until 20 grep -q "^# subscribed" "$TEST_DIR/ev.err" &&
    retry_until 30 build_next &&
    wait $EV &&
    cat "$TEST_DIR/ev" &&
    name=$(jq -r .attributes.name "$TEST_DIR/ev") &&
    jq -e ".type == \"disk\" and .action == \"built\"" "$TEST_DIR/ev" &&
    test -f "$TEST_DIR/$name.reply" &&
    test "$(jq -r .attributes.path "$TEST_DIR/ev")" = "$(jq -r .path "$TEST_DIR/$name.reply")" &&
    test "$(jq -r .attributes.sha256 "$TEST_DIR/ev")" = "$(jq -r .sha256 "$TEST_DIR/$name.reply")" &&
    test "$(jq -r .attributes.format "$TEST_DIR/ev")" = plugnet
'

test_expect_success 'key order and spelling do not matter (normalised spec, same disk)' '
    jq -S ".nics[0].mac |= ascii_upcase | .nics[0].addrs[1] = \"FD00:0:0::1/64\"" \
        "$TEST_DIR/spec.json" >"$TEST_DIR/spec2.json" &&
    R3=$(cd_build "$TEST_DIR/spec2.json") &&
    test "$(cd_field "$R3" path)" = "$IMG" &&
    test "$(cd_field "$R3" cached)" = true
'

test_expect_success 'reproducible: a rebuild from scratch gives the same bytes' '
    cp "$IMG" "$TEST_DIR/first.img" &&
    cd-call cfgdiskd disk.gc "{\"keep\":[]}" >"$TEST_DIR/gc" &&
    test ! -e "$IMG" &&
    R4=$(cd_build "$TEST_DIR/spec.json") &&
    test "$(cd_field "$R4" cached)" = false &&
    cmp "$TEST_DIR/first.img" "$(cd_field "$R4" path)"
'

test_expect_success 'a changed agent binary gives a new disk' '
    echo "# v2" >>"$TEST_DIR/agent" &&
    R5=$(cd_build "$TEST_DIR/spec.json") &&
    test "$(cd_field "$R5" cached)" = false &&
    test "$(cd_field "$R5" path)" != "$IMG" &&
    cd_cat "$(cd_field "$R5" path)" /plugnet-agent | tail -n1 | grep -qx "# v2"
'

test_expect_success '20 concurrent builds: one build per spec, all answered, nothing left behind' '
    builds=$(cd-call cfgdiskd status | jq .builds) &&
    cd_spec_full n3 3 plugnet >"$TEST_DIR/same.json" &&
    i=0 && while [ $i -lt 10 ]; do
        cd_spec_full "c$i" $((100 + i)) plugnet >"$TEST_DIR/c$i.json" || return 1
        i=$((i + 1))
    done &&
    pids="" &&
    i=0 && while [ $i -lt 10 ]; do
        cd_build "$TEST_DIR/same.json" >"$TEST_DIR/same.out.$i" & pids="$pids $!"
        cd_build "$TEST_DIR/c$i.json" >"$TEST_DIR/diff.out.$i" & pids="$pids $!"
        i=$((i + 1))
    done &&
    failed="" &&
    for p in $pids; do wait $p || failed="$failed $p"; done &&
    test -z "$failed" &&
    cat "$TEST_DIR"/same.out.* | jq -r .path | sort -u >"$TEST_DIR/same.paths" &&
    test "$(wc -l <"$TEST_DIR/same.paths")" = 1 &&
    test "$(cat "$TEST_DIR"/diff.out.* | jq -r .path | sort -u | wc -l)" = 10 &&
    test "$(cat "$TEST_DIR"/same.out.* | jq -r .sha256 | sort -u | wc -l)" = 1 &&
    test "$(cd-call cfgdiskd status | jq .builds)" = $((builds + 11)) &&
    test -z "$(ls -A "$CACHE/tmp")" &&
    e2fsck -fn "$(cat "$TEST_DIR/same.paths")"
'

test_expect_success 'disk.ls lists every disk with its node name and digest' '
    cd-call cfgdiskd disk.ls >"$TEST_DIR/ls.json" &&
    test "$(jq ".disks | length" "$TEST_DIR/ls.json")" = "$(ls "$CACHE"/*.img | wc -l)" &&
    jq -e ".disks[] | select(.name == \"n3\") | .format == \"plugnet\"" "$TEST_DIR/ls.json" &&
    jq -r ".disks[] | \"\(.sha256)  \(.path)\"" "$TEST_DIR/ls.json" >"$TEST_DIR/ls.sums" &&
    sha256sum -c --quiet "$TEST_DIR/ls.sums"
'

test_expect_success 'disk.gc keeps what is named (by path, key or sha256) and removes the rest' '
    P1=$(jq -r ".path" "$TEST_DIR/same.out.0") &&
    K2=$(jq -r ".key" "$TEST_DIR/diff.out.0") &&
    S3=$(jq -r ".sha256" "$TEST_DIR/diff.out.1") &&
    total=$(ls "$CACHE"/*.img | wc -l) &&
    cd-call cfgdiskd disk.gc "{\"keep\":[\"$P1\",\"$K2\",\"$S3\"]}" >"$TEST_DIR/gc.json" &&
    test "$(jq .kept "$TEST_DIR/gc.json")" = 3 &&
    test "$(jq ".removed | length" "$TEST_DIR/gc.json")" = $((total - 3)) &&
    test "$(ls "$CACHE"/*.img | wc -l)" = 3 &&
    test "$(ls "$CACHE"/*.meta | wc -l)" = 3 &&
    test "$(ls "$CACHE"/*.lock | wc -l)" = 3 &&
    test -e "$P1" && test -e "$(jq -r .path "$TEST_DIR/diff.out.0")" && test -e "$(jq -r .path "$TEST_DIR/diff.out.1")"
'

test_expect_success 'contents and scripts past 4 KiB, as str or bin, go through the protocol' '
    big=$(head -c 6000 /dev/zero | tr "\\0" a) &&
    printf "{\"name\":\"big\",\"number\":5,\"files\":[{\"path\":\"/a\",\"content\":\"%s\"},{\"path\":\"/b\",\"content\":{\"\$bin\":\"%s\"}}],\"script\":\"%s\"}" \
        "$big" "$(printf "%s" "$big" | base64 -w0)" "$big" >"$TEST_DIR/big.json" &&
    RB=$(cd_build "$TEST_DIR/big.json") &&
    test "$(cd_cat "$(cd_field "$RB" path)" /files/a | wc -c)" = 6000 &&
    test "$(cd_cat "$(cd_field "$RB" path)" /files/b | wc -c)" = 6000 &&
    test "$(cd_cat "$(cd_field "$RB" path)" /script | wc -c)" = 6000
'

test_expect_success 'bad specs are refused naming the field, and nothing is written' '
    before=$(ls -A "$CACHE" | sort) &&
    for spec in \
        "{\"name\":\"Bad\",\"number\":1}|name" \
        "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:0z\"}]}|nics[0].mac:" \
        "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/etc/../x\",\"content\":\"\"}]}|files[0].path: '"'"'/etc/../x'"'"' is not normalised" \
        "{\"name\":\"n1\",\"number\":1,\"keys\":[\"ssh-foo AAAA\"]}|keys[0]:" \
        "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"addrs\":[\"10.0.0.1/40\"]}]}|nics[0].addrs[0]:" \
        "{\"name\":\"n1\",\"number\":99999}|number"
    do
        json=${spec%%|*} && want=${spec#*|} &&
        test_must_fail cd-call cfgdiskd disk.build "$json" >"$TEST_DIR/bad.out" &&
        jq -e ".code == \"invalid_argument\"" "$TEST_DIR/bad.out" >/dev/null &&
        jq -r .msg "$TEST_DIR/bad.out" | grep -qF "$want" || { cat "$TEST_DIR/bad.out"; bad=1; }
    done &&
    test -z "${bad:-}" &&
    test "$(ls -A "$CACHE" | sort)" = "$before" &&
    test -z "$(ls -A "$CACHE/tmp")"
'

test_done
