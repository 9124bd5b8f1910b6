#!/bin/sh
# The PLUGNET disk's `config` script, taken off a built image without
# mounting it, configures a throwaway network namespace + a scratch root
# tree: under busybox alone, then under Debian's own sh and iproute2.  NICs
# are found by MAC: the namespace's interfaces have other names and another
# order than the spec's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cd-lib.sh"

test_lazy_prereq BUSYBOX "busybox-static is not installed" 'test -x /bin/busybox'
NS=cd$TEST_TAG
printf '#!/bin/sh\necho "agent $*" >"$ROOT/agent-ran"\n' >"$TEST_DIR/agent"
chmod 755 "$TEST_DIR/agent"
export PLUGNET_AGENT="$TEST_DIR/agent"

# The spec: eth0 and eth1 with IPv4 and IPv6, on-link and gatewayed routes,
# a default route per family.
cat >"$TEST_DIR/spec.json" <<JSON
{"name":"n7","hostname":"n7.lab","number":7,
 "nics":[{"ifname":"eth0","mac":"02:00:00:07:00:00","addrs":["10.0.0.7/24","fd00::7/64"],
          "routes":[{"dst":"10.1.0.0/16","via":"10.0.0.254"},{"dst":"fd01::/64","via":"fd00::fe"},
                    {"dst":"10.9.0.0/16"}],
          "gateway":"10.0.0.254"},
         {"ifname":"eth1","mac":"02:00:00:07:00:01","addrs":["192.168.5.7/24","fd05::7/64"],
          "routes":[{"dst":"default","via":"fd05::1"}]}],
 "keys":["$KEY1","$KEY2"],
 "hosts":[{"ip":"10.0.0.2","names":["n2","n2.lab"]}],
 "files":[{"path":"/etc/motd","content":"hello from plugnet\n","mode":"0600"},
          {"path":"/usr/local/bin/my tool","content":"#!/bin/sh\necho tool\n","mode":493},
          {"path":"/opt/deep/dir/blob","content":{"\$bin":"AAECAwQFBgcICf8="},"mode":"0640"}],
 "script":"echo \"user script ran as \$(id -u) in \$PLUGNET_DIR\" >\"\$ROOT/script-ran\"\n"}
JSON

# ns_setup: the namespace with two veths whose names and order do not match
# the spec (eth1's MAC comes first, on "nica").
ns_setup() {
    ip netns add "$NS" &&
    ip link add "${NS}a" type veth peer name nica netns "$NS" &&
    ip link add "${NS}b" type veth peer name nicb netns "$NS" &&
    ip -n "$NS" link set nica address 02:00:00:07:00:01 &&
    ip -n "$NS" link set nicb address 02:00:00:07:00:00 &&
    ip link set "${NS}a" up && ip link set "${NS}b" up
}
# Deleting a veth end removes the pair at once; a namespace goes away lazily.
ns_cleanup() {
    ip link del "${NS}a" 2>/dev/null
    ip link del "${NS}b" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    true
}
test_atexit ns_cleanup

# run_config PATH SHELL: run the disk's config in the namespace and a new
# UTS namespace, then record the host name it set.
run_config() {
    ip netns exec "$NS" unshare --uts env -i PATH="$1" ROOT="$TEST_DIR/root" \
        PLUGNET_CONSOLE="$TEST_DIR/console" PLUGNET_NIC_WAIT=0 \
        "$2" -c '"$0" "$1" && hostname >"$ROOT/../hostname.now"' "$2" "$TEST_DIR/disk/config" \
        >"$TEST_DIR/config.out" 2>"$TEST_DIR/config.err"
}

check_applied() {
    cat "$TEST_DIR/config.out" "$TEST_DIR/config.err" &&
    test "$(tail -n1 "$TEST_DIR/config.out")" = "plugnet: config done" &&
    ! grep "plugnet: config:" "$TEST_DIR/config.out" "$TEST_DIR/config.err" &&
    grep -qx "plugnet: config done" "$TEST_DIR/console" &&
    test "$(cat "$TEST_DIR/hostname.now")" = n7.lab &&
    test "$(cat "$TEST_DIR/root/etc/hostname")" = n7.lab &&
    ip -n "$NS" -o addr show dev nicb >"$TEST_DIR/addr.b" &&
    ip -n "$NS" -o addr show dev nica >"$TEST_DIR/addr.a" &&
    grep -q "inet 10.0.0.7/24 " "$TEST_DIR/addr.b" &&
    grep -q "inet6 fd00::7/64 " "$TEST_DIR/addr.b" &&
    grep -q "inet 192.168.5.7/24 " "$TEST_DIR/addr.a" &&
    grep -q "inet6 fd05::7/64 " "$TEST_DIR/addr.a" &&
    ! grep -q "10.0.0.7" "$TEST_DIR/addr.a" &&
    ip -n "$NS" -o link show dev nicb | grep -q "UP" &&
    ip -n "$NS" route show >"$TEST_DIR/route4" &&
    ip -n "$NS" -6 route show >"$TEST_DIR/route6" &&
    cat "$TEST_DIR/route4" "$TEST_DIR/route6" &&
    grep -q "^default via 10.0.0.254 dev nicb" "$TEST_DIR/route4" &&
    grep -q "^10.1.0.0/16 via 10.0.0.254 dev nicb" "$TEST_DIR/route4" &&
    grep -q "^10.9.0.0/16 dev nicb scope link" "$TEST_DIR/route4" &&
    grep -q "^fd01::/64 via fd00::fe dev nicb" "$TEST_DIR/route6" &&
    grep -q "^default via fd05::1 dev nica" "$TEST_DIR/route6" &&
    test_cmp "$TEST_DIR/disk/hosts" "$TEST_DIR/root/etc/hosts" &&
    grep -q "^10.0.0.2	n2 n2.lab$" "$TEST_DIR/root/etc/hosts" &&
    test "$(stat -c %a "$TEST_DIR/root/root/.ssh")" = 700 &&
    test "$(stat -c %a "$TEST_DIR/root/root/.ssh/authorized_keys")" = 600 &&
    grep -qxF "$KEY1" "$TEST_DIR/root/root/.ssh/authorized_keys" &&
    grep -qxF "$KEY2" "$TEST_DIR/root/root/.ssh/authorized_keys" &&
    test "$(cat "$TEST_DIR/root/etc/motd")" = "hello from plugnet" &&
    test "$(stat -c %a "$TEST_DIR/root/etc/motd")" = 600 &&
    test "$(stat -c %a "$TEST_DIR/root/usr/local/bin/my tool")" = 755 &&
    test "$("$TEST_DIR/root/usr/local/bin/my tool")" = tool &&
    test "$(stat -c %a "$TEST_DIR/root/opt/deep/dir/blob")" = 640 &&
    test "$(od -An -tx1 "$TEST_DIR/root/opt/deep/dir/blob" | tr -d " \n")" = 00010203040506070809ff &&
    test "$(cat "$TEST_DIR/root/script-ran")" = "user script ran as 0 in $TEST_DIR/disk" &&
    test "$(cat "$TEST_DIR/root/agent-ran")" = "agent -d" &&
    ! ls "$TEST_DIR"/root/etc/*.plugnet-new 2>/dev/null
}

test_expect_success 'build the disk and take it apart without mounting it' '
    pn_daemons_start cfgdiskd &&
    R=$(cd_build "$TEST_DIR/spec.json") &&
    IMG=$(cd_field "$R" path) &&
    mkdir "$TEST_DIR/disk" &&
    debugfs -R "rdump / $TEST_DIR/disk" "$IMG" &&
    test -x "$TEST_DIR/disk/config" &&
    test -x "$TEST_DIR/disk/plugnet-agent"
'

test_expect_success ROOT,NETNS,BUSYBOX 'config under busybox alone: host name, NICs by MAC, routes, hosts, keys, files, script, agent' '
    test_when_finished "ns_cleanup" &&
    ns_setup &&
    rm -rf "$TEST_DIR/root" "$TEST_DIR/bb" && mkdir -p "$TEST_DIR/root" "$TEST_DIR/bb" &&
    /bin/busybox --install -s "$TEST_DIR/bb" &&
    run_config "$TEST_DIR/bb" "$TEST_DIR/bb/sh" &&
    check_applied
'

test_expect_success ROOT,NETNS 'config under Debian sh + iproute2, twice: idempotent, keys kept once, IPv6 without DAD' '
    test_when_finished "ns_cleanup" &&
    ns_setup &&
    rm -rf "$TEST_DIR/root" && mkdir -p "$TEST_DIR/root/root/.ssh" &&
    echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldKeyOldKeyOldKeyOldKeyOldKeyOldKeyOldKey old" \
        >"$TEST_DIR/root/root/.ssh/authorized_keys" &&
    run_config /usr/sbin:/usr/bin:/sbin:/bin /bin/sh &&
    check_applied &&
    run_config /usr/sbin:/usr/bin:/sbin:/bin /bin/sh &&
    check_applied &&
    test "$(wc -l <"$TEST_DIR/root/root/.ssh/authorized_keys")" = 3 &&
    grep -q " old$" "$TEST_DIR/root/root/.ssh/authorized_keys" &&
    test "$(ip -n "$NS" -o -4 addr show dev nicb | wc -l)" = 1 &&
    ip -n "$NS" -o -6 addr show dev nicb >"$TEST_DIR/addr6" &&
    grep -q "inet6 fd00::7/64 " "$TEST_DIR/addr6" &&
    ! grep "fd00::7/64 .*tentative" "$TEST_DIR/addr6"
'

test_expect_success ROOT,NETNS 'a NIC whose MAC is absent is reported, the rest still applied' '
    test_when_finished "ns_cleanup" &&
    ns_setup &&
    ip -n "$NS" link set nica address 02:00:00:07:00:99 &&
    rm -rf "$TEST_DIR/root" && mkdir -p "$TEST_DIR/root" &&
    run_config /usr/sbin:/usr/bin:/sbin:/bin /bin/sh &&
    grep -q "plugnet: config: eth1: no interface with MAC 02:00:00:07:00:01" "$TEST_DIR/config.err" &&
    grep -q "plugnet: config: 1 step(s) failed" "$TEST_DIR/config.out" &&
    test "$(tail -n1 "$TEST_DIR/config.out")" = "plugnet: config done" &&
    ip -n "$NS" -o addr show dev nicb | grep -q "inet 10.0.0.7/24 "
'

test_done
