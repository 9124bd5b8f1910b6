#!/bin/sh
# The cloud-init NoCloud seed: a vfat image labelled cidata, read back with
# mtools; user-data passes cloud-init's own schema check, network-config
# goes through cloud-init's own parser and ENI renderer, every file decodes
# back to its bytes, and the seed is reproducible.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cd-lib.sh"

test_lazy_prereq CLOUDINIT "cloud-init is not installed" 'command -v cloud-init && /usr/bin/python3 -c "import cloudinit, yaml"'
test_lazy_prereq MTOOLS "mtools is not installed" 'command -v mtype'
export MTOOLS_SKIP_CHECK=1
printf '#!/bin/sh\n# a stand-in agent\n' >"$TEST_DIR/agent"
head -c 3000 /dev/urandom >>"$TEST_DIR/agent"
chmod 755 "$TEST_DIR/agent"
export PLUGNET_AGENT="$TEST_DIR/agent"

cat >"$TEST_DIR/spec.json" <<JSON
{"name":"c1","hostname":"c1.lab","number":41,"format":"cidata",
 "nics":[{"ifname":"eth0","mac":"02:00:00:29:00:00","addrs":["10.0.0.41/24","fd00::41/64"],
          "routes":[{"dst":"10.1.0.0/16","via":"10.0.0.254"},{"dst":"10.9.0.0/16"}],
          "gateway":"10.0.0.254"},
         {"ifname":"eth1","mac":"02:00:00:29:00:01","addrs":["fd05::41/64"],
          "routes":[{"dst":"default","via":"fd05::1"}]}],
 "keys":["$KEY1","$KEY2"],
 "hosts":[{"ip":"10.0.0.2","names":["n2","n2.lab"]}],
 "files":[{"path":"/etc/motd","content":"hello from plugnet\n","mode":"0600"},
          {"path":"/opt/blob","content":{"\$bin":"AAECAwQFBgcICf8="},"mode":"0640"}],
 "script":"echo user script ran\n"}
JSON

test_expect_success MTOOLS 'disk.build format=cidata makes a vfat seed labelled cidata' '
    pn_daemons_start cfgdiskd &&
    R=$(cd_build "$TEST_DIR/spec.json") &&
    IMG=$(cd_field "$R" path) &&
    test "$(cd_field "$R" format)" = cidata &&
    case "$IMG" in *.cidata.img) ;; *) false ;; esac &&
    blkid -o export "$IMG" >"$TEST_DIR/blkid" &&
    grep -qx "LABEL=cidata" "$TEST_DIR/blkid" &&
    grep -qx "TYPE=vfat" "$TEST_DIR/blkid" &&
    mdir -b -i "$IMG" :: | sort >"$TEST_DIR/dir" &&
    printf "::/meta-data\n::/network-config\n::/user-data\n" >"$TEST_DIR/dir.expect" &&
    test_cmp "$TEST_DIR/dir.expect" "$TEST_DIR/dir" &&
    for f in meta-data user-data network-config; do
        mtype -i "$IMG" "::$f" >"$TEST_DIR/$f" || bad=$f
    done &&
    test -z "${bad:-}"
'

test_expect_success MTOOLS 'meta-data: instance-id from the spec hash, local-hostname' '
    KEY=$(cd_field "$R" key) &&
    printf "instance-id: plugnet-%.32s\nlocal-hostname: c1.lab\n" "$KEY" >"$TEST_DIR/md.expect" &&
    test_cmp "$TEST_DIR/md.expect" "$TEST_DIR/meta-data"
'

test_expect_success MTOOLS,CLOUDINIT 'user-data passes cloud-init schema --config-file' '
    head -n1 "$TEST_DIR/user-data" | grep -qx "#cloud-config" &&
    cloud-init schema --config-file "$TEST_DIR/user-data" >"$TEST_DIR/schema.out" 2>&1;
    rc=$?; cat "$TEST_DIR/schema.out"; test $rc = 0 &&
    grep -q "^Valid cloud-config" "$TEST_DIR/schema.out"
'

test_expect_success MTOOLS,CLOUDINIT 'user-data: keys, write_files decode to the same bytes, runcmd starts the agent' '
    mkdir -p "$TEST_DIR/wf" &&
    /usr/bin/python3 - "$TEST_DIR/user-data" "$TEST_DIR/wf" >"$TEST_DIR/ud.txt" <<PY &&
import base64, os, sys, yaml
ud = yaml.safe_load(open(sys.argv[1]))
print("hostname", ud["hostname"])
for k in ud["ssh_authorized_keys"]:
    print("key", k)
for w in ud["write_files"]:
    assert w["encoding"] == "b64", w
    data = base64.b64decode(w["content"], validate=True)
    out = os.path.join(sys.argv[2], w["path"].lstrip("/").replace("/", "_"))
    open(out, "wb").write(data)
    print("file", w["path"], w["permissions"], w["owner"])
for c in ud["runcmd"]:
    print("run", " ".join(c))
PY
    cat "$TEST_DIR/ud.txt" &&
    grep -qx "hostname c1.lab" "$TEST_DIR/ud.txt" &&
    grep -qxF "key $KEY1" "$TEST_DIR/ud.txt" &&
    grep -qxF "key $KEY2" "$TEST_DIR/ud.txt" &&
    grep -qx "file /etc/motd 0600 root:root" "$TEST_DIR/ud.txt" &&
    grep -qx "file /opt/blob 0640 root:root" "$TEST_DIR/ud.txt" &&
    grep -qx "file /usr/local/sbin/plugnet-agent 0755 root:root" "$TEST_DIR/ud.txt" &&
    grep -qx "file /etc/hosts 0644 root:root" "$TEST_DIR/ud.txt" &&
    test "$(cat "$TEST_DIR/wf/etc_motd")" = "hello from plugnet" &&
    test "$(od -An -tx1 "$TEST_DIR/wf/opt_blob" | tr -d " \n")" = 00010203040506070809ff &&
    cmp "$TEST_DIR/agent" "$TEST_DIR/wf/usr_local_sbin_plugnet-agent" &&
    grep -q "^10.0.0.2	n2 n2.lab$" "$TEST_DIR/wf/etc_hosts" &&
    grep -qx "run ip -4 route replace 10.9.0.0/16 dev eth0" "$TEST_DIR/ud.txt" &&
    grep -qx "run sh /var/lib/plugnet/script" "$TEST_DIR/ud.txt" &&
    grep -qx "run /usr/local/sbin/plugnet-agent -d" "$TEST_DIR/ud.txt" &&
    tail -n1 "$TEST_DIR/ud.txt" | grep -q "plugnet: config done" &&
    test "$(cat "$TEST_DIR/wf/var_lib_plugnet_script")" = "echo user script ran"
'

test_expect_success MTOOLS,CLOUDINIT 'network-config v2 matches NICs by MAC: parsed and rendered by cloud-init itself' '
    /usr/bin/python3 - "$TEST_DIR/network-config" "$TEST_DIR/eni" >"$TEST_DIR/ns.txt" <<PY &&
import sys, yaml
from cloudinit.net import network_state, eni
cfg = yaml.safe_load(open(sys.argv[1]))
assert cfg["version"] == 2
ns = network_state.parse_net_config_data(cfg)
for i in ns.iter_interfaces():
    for s in i["subnets"]:
        print(i["name"], i["mac_address"], s["type"], s.get("address"), s.get("prefix"), s.get("gateway"))
        for r in s.get("routes", []):
            print(i["name"], "route", r["network"], r["prefix"], r.get("gateway"))
eni.Renderer().render_network_state(ns, target=sys.argv[2])
PY
    cat "$TEST_DIR/ns.txt" &&
    grep -qx "eth0 02:00:00:29:00:00 static 10.0.0.41 24 10.0.0.254" "$TEST_DIR/ns.txt" &&
    grep -qx "eth0 02:00:00:29:00:00 static fd00::41 64 None" "$TEST_DIR/ns.txt" &&
    grep -qx "eth0 route 10.1.0.0 16 10.0.0.254" "$TEST_DIR/ns.txt" &&
    grep -qx "eth1 02:00:00:29:00:01 static fd05::41 64 fd05::1" "$TEST_DIR/ns.txt" &&
    cat $(find "$TEST_DIR/eni" -type f) >"$TEST_DIR/eni.txt" &&
    cat "$TEST_DIR/eni.txt" &&
    grep -q "ATTR{address}==\"02:00:00:29:00:00\", NAME=\"eth0\"" "$TEST_DIR/eni.txt" &&
    grep -q "ATTR{address}==\"02:00:00:29:00:01\", NAME=\"eth1\"" "$TEST_DIR/eni.txt" &&
    grep -q "address 10.0.0.41/24" "$TEST_DIR/eni.txt" &&
    grep -q "gateway fd05::1" "$TEST_DIR/eni.txt"
'

test_expect_success MTOOLS 'the seed is reproducible and cached' '
    cp "$IMG" "$TEST_DIR/first.img" &&
    R2=$(cd_build "$TEST_DIR/spec.json") &&
    test "$(cd_field "$R2" cached)" = true &&
    cd-call cfgdiskd disk.gc "{}" >/dev/null &&
    test ! -e "$IMG" &&
    R3=$(cd_build "$TEST_DIR/spec.json") &&
    test "$(cd_field "$R3" cached)" = false &&
    cmp "$TEST_DIR/first.img" "$(cd_field "$R3" path)" &&
    fsck.vfat -n "$IMG"
'

test_done
