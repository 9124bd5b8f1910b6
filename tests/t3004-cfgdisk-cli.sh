#!/bin/sh
# plugnet disk build | ls | gc: flags become a spec, the image lands in -o,
# the CLI builds in-process when cfgdiskd is down (same bytes as the
# daemon's), and concurrent in-process builds in separate processes share
# the cache safely.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cd-lib.sh"

printf '#!/bin/sh\necho agent\n' >"$TEST_DIR/agent"
chmod 755 "$TEST_DIR/agent"
export PLUGNET_AGENT="$TEST_DIR/agent"
printf '%s\n# a comment\n\n%s\n' "$KEY1" "$KEY2" >"$TEST_DIR/keys.pub"
printf 'hello\n' >"$TEST_DIR/motd"
printf '#!/bin/sh\necho tool\n' >"$TEST_DIR/tool" && chmod 750 "$TEST_DIR/tool"
printf 'echo script\n' >"$TEST_DIR/script.sh"
CACHE=$PLUGNET_STATE_DIR/cfgdisk

build_args() {
    echo web1 --number 1234 --hostname web1.lab \
        --nic eth0,ip=10.0.0.12/24,ip=fd00::12/64,gw=10.0.0.1 \
        --nic eth1,mac=02:aa:00:00:00:01,ip=192.168.9.12/24 \
        --route 10.5.0.0/16,via=10.0.0.1 --route 10.6.0.0/16,via=192.168.9.1 \
        --route 10.7.0.0/16,nic=eth1 --mgmt 172.30.12.34/16 \
        --key "$TEST_DIR/keys.pub" --host 10.0.0.1=gw,router \
        --file "$TEST_DIR/motd:/etc/motd:0600" --file "$TEST_DIR/tool:/usr/local/bin/tool" \
        --script "$TEST_DIR/script.sh"
}

test_expect_success 'plugnet disk build (no daemon) turns flags into a disk at -o' '
    plugnet disk build $(build_args) -o "$TEST_DIR/web1.img" >"$TEST_DIR/out" &&
    cat "$TEST_DIR/out" &&
    grep -q "^plugnet disk $TEST_DIR/web1.img .*built" "$TEST_DIR/out" &&
    cd_cat "$TEST_DIR/web1.img" /plugnet.conf >"$TEST_DIR/conf" &&
    (
        . "$TEST_DIR/conf" &&
        test "$PLUGNET_NAME" = web1 && test "$PLUGNET_HOSTNAME" = web1.lab &&
        test "$PLUGNET_NUMBER" = 1234 && test "$PLUGNET_MGMT_IP" = 172.30.12.34/16 &&
        test "$PLUGNET_eth0_MAC" = 02:00:0c:22:00:00 &&
        test "$PLUGNET_eth0_ADDRS" = "10.0.0.12/24 fd00::12/64" &&
        test "$PLUGNET_eth0_GATEWAY" = 10.0.0.1 &&
        test "$PLUGNET_eth0_ROUTES" = "10.5.0.0/16,10.0.0.1" &&
        test "$PLUGNET_eth1_MAC" = 02:aa:00:00:00:01 &&
        test "$PLUGNET_eth1_ROUTES" = "10.6.0.0/16,192.168.9.1 10.7.0.0/16," &&
        test "$PLUGNET_AGENT" = plugnet-agent
    ) &&
    test "$(cd_cat "$TEST_DIR/web1.img" /authorized_keys | wc -l)" = 2 &&
    cd_cat "$TEST_DIR/web1.img" /hosts | grep -q "^10.0.0.1	gw router$" &&
    test "$(cd_mode "$TEST_DIR/web1.img" /files/etc/motd)" = 0600 &&
    test "$(cd_mode "$TEST_DIR/web1.img" /files/usr/local/bin/tool)" = 0750 &&
    cd_cat "$TEST_DIR/web1.img" /script | grep -qx "echo script" &&
    test "$(ls "$CACHE"/*.plugnet.img | wc -l)" = 1 &&
    cmp "$TEST_DIR/web1.img" "$CACHE"/*.plugnet.img
'

test_expect_success 'the daemon builds the same bytes from the same flags, from its cache' '
    pn_daemons_start cfgdiskd &&
    plugnet --json disk build $(build_args) -o "$TEST_DIR/web1-d.img" >"$TEST_DIR/d.json" &&
    jq -e ".cached == true" "$TEST_DIR/d.json" &&
    cmp "$TEST_DIR/web1.img" "$TEST_DIR/web1-d.img" &&
    plugnet --json disk build $(build_args) --local -o "$TEST_DIR/web1-l.img" >"$TEST_DIR/l.json" &&
    jq -e ".cached == true" "$TEST_DIR/l.json" &&
    cmp "$TEST_DIR/web1.img" "$TEST_DIR/web1-l.img"
'

test_expect_success 'plugnet disk build --cloud-init makes the seed' '
    plugnet --json disk build web1 --number 1234 --nic eth0,ip=10.0.0.12/24 --key "$TEST_DIR/keys.pub" \
        --cloud-init -o "$TEST_DIR/seed.img" >"$TEST_DIR/ci.json" &&
    jq -e ".format == \"cidata\" and .cached == false" "$TEST_DIR/ci.json" &&
    blkid -o export "$TEST_DIR/seed.img" | grep -qx "LABEL=cidata" &&
    MTOOLS_SKIP_CHECK=1 mtype -i "$TEST_DIR/seed.img" ::network-config | grep -q "macaddress: \"02:00:0c:22:00:00\""
'

test_expect_success 'bad flags and bad specs are refused with the field named' '
    test_must_fail plugnet disk build n1 --nic eth0,mac=zz 2>"$TEST_DIR/err1" &&
    grep -q "nics\[0\].mac: .zz. is not a MAC address" "$TEST_DIR/err1" &&
    test_must_fail plugnet disk build n1 --nic eth0,ip=10.0.0.1/24 --file "$TEST_DIR/motd:/etc/../motd" 2>"$TEST_DIR/err2" &&
    grep -q "files\[0\].path" "$TEST_DIR/err2" &&
    test_must_fail plugnet disk build n1 --route 10.0.0.0/8 2>"$TEST_DIR/err3" &&
    grep -q "no NIC to put it on" "$TEST_DIR/err3" &&
    test_must_fail plugnet disk build n1 --nic eth0,foo=1 2>"$TEST_DIR/err4" &&
    grep -q "unknown part .foo=1." "$TEST_DIR/err4" &&
    test_must_fail plugnet disk build 2>"$TEST_DIR/err5" &&
    grep -q "NAME" "$TEST_DIR/err5"
'

test_expect_success 'plugnet disk build --spec takes a disk.build spec in JSON' '
    cd_spec_full js 9 plugnet >"$TEST_DIR/spec.json" &&
    plugnet --json disk build --spec "$TEST_DIR/spec.json" >"$TEST_DIR/js.json" &&
    R=$(cd_build "$TEST_DIR/spec.json") &&
    test "$(cd_field "$R" path)" = "$(jq -r .path "$TEST_DIR/js.json")"
'

test_expect_success 'plugnet disk ls lists them; gc keeps what is named' '
    plugnet disk ls >"$TEST_DIR/ls" &&
    cat "$TEST_DIR/ls" &&
    head -n1 "$TEST_DIR/ls" | grep -q "^NAME *FORMAT *SIZE" &&
    grep -q "^web1 *plugnet" "$TEST_DIR/ls" &&
    grep -q "^web1 *cidata" "$TEST_DIR/ls" &&
    test "$(plugnet --json disk ls | jq ".disks | length")" = 3 &&
    test_expect_code 2 plugnet disk gc 2>"$TEST_DIR/gc.err" &&
    grep -q "name the disks to keep with --keep" "$TEST_DIR/gc.err" &&
    test "$(plugnet --json disk ls | jq ".disks | length")" = 3 &&
    plugnet disk gc --keep "$(jq -r .path "$TEST_DIR/d.json")" >"$TEST_DIR/gc" &&
    grep -q "^removed 2 disks" "$TEST_DIR/gc" &&
    test "$(plugnet --json disk ls | jq -r ".disks[].name")" = web1
'

test_expect_success '10 concurrent in-process builds in 10 processes share the cache safely' '
    plugnet daemons stop cfgdiskd >/dev/null &&
    pids="" &&
    i=0 && while [ $i -lt 10 ]; do
        plugnet --json disk build --local --spec "$TEST_DIR/spec.json" -o "$TEST_DIR/par.$i.img" \
            >"$TEST_DIR/par.$i.json" & pids="$pids $!"
        i=$((i + 1))
    done &&
    failed="" && for p in $pids; do wait $p || failed="$failed $p"; done &&
    test -z "$failed" &&
    test "$(cat "$TEST_DIR"/par.*.json | jq -r .sha256 | sort -u | wc -l)" = 1 &&
    test "$(cat "$TEST_DIR"/par.*.json | jq -r .path | sort -u | wc -l)" = 1 &&
    for i in 1 2 3 4 5 6 7 8 9; do cmp "$TEST_DIR/par.0.img" "$TEST_DIR/par.$i.img" || failed=$i; done &&
    test -z "$failed" &&
    test -z "$(ls -A "$CACHE/tmp")" &&
    e2fsck -fn "$TEST_DIR/par.0.img"
'

test_expect_success 'a big disk: 250 files in nested directories and a 20 MiB file, clean and reproducible' '
    mkdir "$TEST_DIR/many" &&
    args="" && i=0 && while [ $i -lt 250 ]; do
        echo "file $i" >"$TEST_DIR/many/f$i" &&
        args="$args --file $TEST_DIR/many/f$i:/d$((i % 7))/e$((i % 3))/f$i" &&
        i=$((i + 1)) || return 1
    done &&
    head -c 20M /dev/urandom >"$TEST_DIR/big" &&
    plugnet disk build big --local $args --file "$TEST_DIR/big:/opt/big" -o "$TEST_DIR/big1.img" &&
    e2fsck -fn "$TEST_DIR/big1.img" &&
    # every file read back from the disk, at its place, and nothing else
    mkdir "$TEST_DIR/dump" &&
    debugfs -R "rdump /files $TEST_DIR/dump" "$TEST_DIR/big1.img" 2>"$TEST_DIR/rdump.err" &&
    find "$TEST_DIR/dump/files" -type f >"$TEST_DIR/dumped" &&
    test "$(wc -l <"$TEST_DIR/dumped")" = 251 &&
    i=0 && while [ $i -lt 250 ]; do
        test "$(cat "$TEST_DIR/dump/files/d$((i % 7))/e$((i % 3))/f$i")" = "file $i" ||
            { echo "f$i is missing or wrong"; return 1; }
        i=$((i + 1))
    done &&
    cmp "$TEST_DIR/dump/files/opt/big" "$TEST_DIR/big" &&
    plugnet disk gc --all >/dev/null &&
    touch "$TEST_DIR"/many/* &&
    plugnet disk build big --local $args --file "$TEST_DIR/big:/opt/big" -o "$TEST_DIR/big2.img" &&
    cmp "$TEST_DIR/big1.img" "$TEST_DIR/big2.img"
'

test_expect_success 'a file over the 64 MiB cap is refused, saying so' '
    truncate -s 65M "$TEST_DIR/huge" &&
    test_must_fail plugnet disk build huge --local --file "$TEST_DIR/huge:/opt/huge" 2>"$TEST_DIR/huge.err" &&
    grep -q "larger than the 64 MiB" "$TEST_DIR/huge.err"
'

test_expect_success 'without the daemon the CLI runs plugnet-cfgdiskd --local: JSON args in, a reply out' '
    echo "{\"name\":\"one\",\"number\":3}" | plugnet-cfgdiskd --local disk.build >"$TEST_DIR/one.json" &&
    jq -e ".ok == true and .data.format == \"plugnet\" and (.data.path | test(\"^$CACHE/\"))" "$TEST_DIR/one.json" &&
    echo "{\"name\":\"one\"}" | plugnet-cfgdiskd --local disk.build >"$TEST_DIR/bad.json" &&
    jq -e ".ok == false and .err.code == \"invalid_argument\" and .err.msg == \"number: missing\"" "$TEST_DIR/bad.json" &&
    plugnet-cfgdiskd --local disk.ls </dev/null | jq -e "[.data.disks[].name] | index(\"one\") != null" &&
    echo "{\"keep\":[1]}" | plugnet-cfgdiskd --local disk.gc | jq -e ".err.msg | startswith(\"keep[0]:\")" &&
    test_expect_code 2 plugnet-cfgdiskd --local disk.nope </dev/null 2>"$TEST_DIR/usage" &&
    grep -q "usage: plugnet-cfgdiskd --local" "$TEST_DIR/usage"
'

test_done
