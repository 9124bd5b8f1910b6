# tests/cd-lib.sh — helpers for the cfgdiskd tests (t3xxx); source after lib.sh.

KEY1='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPzAABld3FpYyc/ig2AwJdNPibGWuFjKwT0dEyTAyaJk alice@lab'
KEY2='ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLlR5N68GcVriRZB4cY61BF31nsMxb4MOn586iKDylzrhvUIthRgconnwBy6xA1NnfXE41nWTT+3gN0nmFHXuI8= bob'

# cd_spec_full NAME NUMBER FORMAT: a spec using every field, as JSON.
cd_spec_full() {
    cat <<JSON
{"name":"$1","hostname":"$1.lab","number":$2,"format":"$3","mgmt_ip":"172.30.12.34/16",
 "nics":[{"ifname":"eth0","mac":"02:00:0c:22:00:00","addrs":["10.0.0.1/24","fd00::1/64"],
          "routes":[{"dst":"10.1.0.0/16","via":"10.0.0.254"},{"dst":"fd01::/64","via":"fd00::fe"},
                    {"dst":"10.9.0.0/16"}],
          "gateway":"10.0.0.254"},
         {"ifname":"eth1","mac":"02:00:0c:22:00:01","addrs":["192.168.5.1/24"],
          "routes":[{"dst":"default","via":"fd05::1"}]}],
 "keys":["$KEY1","$KEY2"],
 "hosts":[{"ip":"10.0.0.2","names":["n2","n2.lab"]},{"ip":"fd00::2","names":["n2-v6"]}],
 "files":[{"path":"/etc/motd","content":"hello from plugnet\n","mode":"0600"},
          {"path":"/usr/local/bin/my tool","content":"#!/bin/sh\necho tool\n","mode":493},
          {"path":"/opt/blob","content":{"\$bin":"AAECAwQFBgcICf8="}}],
 "script":"echo \"user script ran as \$(id -u)\" > \"\$ROOT/script-ran\"\n"}
JSON
}

# cd_build JSON-FILE: disk.build through the daemon; reply JSON on stdout.
cd_build() { cd-call cfgdiskd disk.build "@$1"; }

# cd_field JSON KEY: one field of a reply.
cd_field() { printf '%s' "$1" | jq -r ".$2"; }

# cd_cat IMAGE PATH: a file of an ext2 image, read without mounting.
cd_cat() { debugfs -R "cat \"$2\"" "$1" 2>/dev/null; }

# cd_mode IMAGE PATH: its octal permission bits.
cd_mode() {
    debugfs -R "stat \"$2\"" "$1" 2>/dev/null | sed -n 's/.*Mode: *\([0-7]*\).*/\1/p' | head -n1
}
