/* cd_spec: validation of disk.build specs.  A table of bad specs, each
 * refused with its own message naming the field; good specs normalised;
 * the canonical form independent of key order; SHA-256 test vectors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pn_json.h"
#include "pn_proto.h"
#include "tap.h"
#include "../../services/cfgdiskd/sha256.h"
#include "../../services/cfgdiskd/spec.h"

/* check() with what failed: extra is shown as a diagnostic when cond fails. */
static void check(int cond, const char *fmt, const char *what, const char *extra)
{
    if (!ok(cond, fmt, what) && extra)
        diag("  got: %s", extra);
}

/* A spec written as a JSON literal (the tests' specs are valid JSON). */
static pn_val_t *s_json(const char *text)
{
    char err[256];
    pn_val_t *v = pn_json_parse(text, strlen(text), err, sizeof err);
    if (!v)
        diag("bad JSON in the test: %s: %s", err, text);
    return v;
}

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPzAABld3FpYyc/ig2AwJdNPibGWuFjKwT0dEyTAyaJk alice@lab"
#define KEY2                                                                                        \
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLlR5N68GcVriRZB4cY61BF31" \
    "nsMxb4MOn586iKDylzrhvUIthRgconnwBy6xA1NnfXE41nWTT+3gN0nmFHXuI8= bob"

/* A good spec; each bad one below replaces one piece (%s = the NIC list etc.). */
#define GOOD_NIC "{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"10.0.0.1/24\",\"fd00::1/64\"]}"

struct bad {
    const char *json;
    int code;
    const char *msg; /* substring of the error */
};

static const struct bad bad[] = {
    /* top level */
    { "[]", -EINVAL, "args: must be a map" },
    { "{\"number\":1}", -EINVAL, "name: missing" },
    { "{\"name\":7,\"number\":1}", -EINVAL, "name: must be a string" },
    { "{\"name\":\"Node1\",\"number\":1}", -EINVAL, "name: 'Node1' is not a node name" },
    { "{\"name\":\"n1-way-too-long-name\",\"number\":1}", -EINVAL, "name: 'n1-way-too-long-name' is not a node name" },
    { "{\"name\":\"n1\"}", -EINVAL, "number: missing" },
    { "{\"name\":\"n1\",\"number\":0}", -EINVAL, "number: 0 is out of range for a node number (1..25599)" },
    { "{\"name\":\"n1\",\"number\":25600}", -EINVAL, "number: 25600 is out of range" },
    { "{\"name\":\"n1\",\"number\":-3}", -EINVAL, "number: must be a node number" },
    { "{\"name\":\"n1\",\"number\":1,\"format\":\"iso\"}", -EINVAL, "format: 'iso' is not a disk format" },
    { "{\"name\":\"n1\",\"number\":1,\"hostname\":\"-bad\"}", -EINVAL, "hostname: '-bad' is not a valid host name" },
    { "{\"name\":\"n1\",\"number\":1,\"hostname\":\"a..b\"}", -EINVAL, "hostname: 'a..b' is not a valid host name" },
    { "{\"name\":\"n1\",\"number\":1,\"hostname\":\"under_score\"}", -EINVAL, "hostname: 'under_score'" },
    { "{\"name\":\"n1\",\"number\":1,\"hostname\":\"x\\ny\"}", -EINVAL, "hostname: 'x?y' is not a valid host name" },
    { "{\"name\":\"n1\",\"number\":1,\"hostname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b\"}",
      -EINVAL, "hostname: 'aaaa" },
    { "{\"name\":\"n1\",\"number\":1,\"mgmt_ip\":\"172.30.0.1\"}", -EINVAL, "mgmt_ip: '172.30.0.1' needs a prefix length" },
    { "{\"name\":\"n1\",\"number\":1,\"mgmt_ip\":\"172.300.0.1/16\"}", -EINVAL, "mgmt_ip: '172.300.0.1/16' is not an IPv4 address" },
    /* nics */
    { "{\"name\":\"n1\",\"number\":1,\"nics\":{}}", -EINVAL, "nics: must be an array" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[\"eth0\"]}", -EINVAL, "nics[0]: must be a map" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"mac\":\"02:00:00:01:00:00\"}]}", -EINVAL, "nics[0].ifname: missing" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth32\",\"mac\":\"02:00:00:01:00:00\"}]}", -EINVAL,
      "nics[0].ifname: 'eth32' is not an interface name (eth0..eth31)" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\"}]}", -EINVAL, "nics[0].mac: missing" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00\"}]}", -EINVAL,
      "nics[0].mac: '02:00:00:01:00' is not a MAC address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02-00-00-01-00-00\"}]}", -EINVAL,
      "nics[0].mac: '02-00-00-01-00-00' is not a MAC address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:0g\"}]}", -EINVAL,
      "nics[0].mac: '02:00:00:01:00:0g' is not a MAC address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"01:00:5e:00:00:01\"}]}", -EINVAL,
      "nics[0].mac: '01:00:5e:00:00:01' is a multicast MAC address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"00:00:00:00:00:00\"}]}", -EINVAL,
      "nics[0].mac: '00:00:00:00:00:00' is the all-zero MAC address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[" GOOD_NIC ",{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:01\"}]}",
      -EINVAL, "nics[1].ifname: 'eth0' is also nics[0]" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[" GOOD_NIC ",{\"ifname\":\"eth1\",\"mac\":\"02:00:00:01:00:00\"}]}",
      -EINVAL, "nics[1].mac: 02:00:00:01:00:00 is also the MAC of nics[0] (eth0); MACs must be unique" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"10.0.0.1\"]}]}",
      -EINVAL, "nics[0].addrs[0]: '10.0.0.1' needs a prefix length" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"10.0.0.1/33\"]}]}",
      -EINVAL, "nics[0].addrs[0]: '10.0.0.1/33' has a bad prefix length (0..32)" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"10.0.0.1/024\"]}]}",
      -EINVAL, "nics[0].addrs[0]: '10.0.0.1/024' has a bad prefix length" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"10.0.0.1/0\"]}]}",
      -EINVAL, "nics[0].addrs[0]: '10.0.0.1/0' has prefix length 0" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"10.0.0.01/24\"]}]}",
      -EINVAL, "nics[0].addrs[0]: '10.0.0.01/24' is not an IPv4 address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"fd00::1::2/64\"]}]}",
      -EINVAL, "nics[0].addrs[0]: 'fd00::1::2/64' is not an IPv6 address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[\"fd00::1/129\"]}]}",
      -EINVAL, "nics[0].addrs[0]: 'fd00::1/129' has a bad prefix length (0..128)" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"addrs\":[17]}]}",
      -EINVAL, "nics[0].addrs[0]: must be a string" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[" GOOD_NIC ",{\"ifname\":\"eth1\",\"mac\":\"02:00:00:01:00:01\",\"addrs\":[\"FD00::1/64\"]}]}",
      -EINVAL, "nics[1].addrs[0]: fd00::1/64 is already nics[0].addrs[1]" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"routes\":[{\"via\":\"10.0.0.254\"}]}]}",
      -EINVAL, "nics[0].routes[0].dst: missing" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"routes\":[\"10.1.0.0/16\"]}]}",
      -EINVAL, "nics[0].routes[0]: must be a map {dst, via}" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"routes\":[{\"dst\":\"10.1.0.5/16\",\"via\":\"10.0.0.254\"}]}]}",
      -EINVAL, "nics[0].routes[0].dst: '10.1.0.5/16' has host bits set (did you mean 10.1.0.0/16?)" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"routes\":[{\"dst\":\"fd01::1/64\",\"via\":\"fd00::fe\"}]}]}",
      -EINVAL, "nics[0].routes[0].dst: 'fd01::1/64' has host bits set (did you mean fd01::/64?)" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"routes\":[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.0.0.254/24\"}]}]}",
      -EINVAL, "nics[0].routes[0].via: '10.0.0.254/24' must be a plain address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"routes\":[{\"dst\":\"10.1.0.0/16\",\"via\":\"fd00::fe\"}]}]}",
      -EINVAL, "nics[0].routes[0].via: 'fd00::fe' is not of the same address family as dst '10.1.0.0/16'" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"routes\":[{\"dst\":\"default\"}]}]}",
      -EINVAL, "nics[0].routes[0].dst: a default route needs a gateway in 'via'" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"gateway\":\"10.0.0.256\"}]}",
      -EINVAL, "nics[0].gateway: '10.0.0.256' is not an IPv4 address" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"gateway\":\"10.0.0.254\"},"
      "{\"ifname\":\"eth1\",\"mac\":\"02:00:00:01:00:01\",\"gateway\":\"10.0.1.254\"}]}",
      -EINVAL, "nics[1].gateway: a default IPv4 route is already set by nics[0].gateway" },
    { "{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:00:01:00:00\",\"gateway\":\"fd00::fe\","
      "\"routes\":[{\"dst\":\"::/0\",\"via\":\"fd00::fd\"}]}]}",
      -EINVAL, "nics[0].gateway: a default IPv6 route is already set by nics[0].routes[0]" },
    /* keys */
    { "{\"name\":\"n1\",\"number\":1,\"keys\":\"" KEY1 "\"}", -EINVAL, "keys: must be an array" },
    { "{\"name\":\"n1\",\"number\":1,\"keys\":[\"ssh-dss AAAAB3NzaC1kc3MAAACBAP alice\"]}", -EINVAL,
      "keys[0]: 'ssh-dss AAAAB3NzaC1kc3MAAACBAP alice' is not a public key of a known type" },
    { "{\"name\":\"n1\",\"number\":1,\"keys\":[\"" KEY1 "\",\"no-pty " KEY1 "\"]}", -EINVAL,
      "keys[1]: 'no-pty ssh-ed25519" },
    { "{\"name\":\"n1\",\"number\":1,\"keys\":[\"ssh-ed25519\"]}", -EINVAL, "keys[0]: 'ssh-ed25519' has no key data" },
    { "{\"name\":\"n1\",\"number\":1,\"keys\":[\"ssh-ed25519 AAAA*C3NzaC1lZDI1NTE5 x\"]}", -EINVAL,
      "keys[0]: 'ssh-ed25519 AAAA*C3NzaC1lZDI1NTE5 x' has key data that is not valid base64" },
    { "{\"name\":\"n1\",\"number\":1,\"keys\":[\"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIPzAABld3FpYyc/ig2AwJdNPibGWuFjKwT0dEyTAyaJk x\"]}",
      -EINVAL, "has key data that does not match its key type" },
    { "{\"name\":\"n1\",\"number\":1,\"keys\":[\"" KEY1 "\\n" KEY1 "\"]}", -EINVAL,
      "keys[0]: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPzAABld3FpYyc/ig2AwJdNPibGW...' contains a control character" },
    /* hosts */
    { "{\"name\":\"n1\",\"number\":1,\"hosts\":[{\"names\":[\"a\"]}]}", -EINVAL, "hosts[0].ip: missing" },
    { "{\"name\":\"n1\",\"number\":1,\"hosts\":[{\"ip\":\"10.0.0.1/24\",\"names\":[\"a\"]}]}", -EINVAL,
      "hosts[0].ip: '10.0.0.1/24' must be a plain address without a prefix length" },
    { "{\"name\":\"n1\",\"number\":1,\"hosts\":[{\"ip\":\"10.0.0.1\",\"names\":[]}]}", -EINVAL,
      "hosts[0].names: needs at least one host name" },
    { "{\"name\":\"n1\",\"number\":1,\"hosts\":[{\"ip\":\"10.0.0.1\",\"names\":[\"ok\",\"bad name\"]}]}", -EINVAL,
      "hosts[0].names[1]: 'bad name' is not a valid host name" },
    /* files */
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"content\":\"x\"}]}", -EINVAL, "files[0].path: missing" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"etc/motd\",\"content\":\"x\"}]}", -EINVAL,
      "files[0].path: 'etc/motd' must be an absolute path" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/etc/../../root/x\",\"content\":\"x\"}]}", -EINVAL,
      "files[0].path: '/etc/../../root/x' is not normalised (no '.' or '..' components)" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/etc/./motd\",\"content\":\"x\"}]}", -EINVAL,
      "files[0].path: '/etc/./motd' is not normalised (no '.' or '..' components)" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/etc//motd\",\"content\":\"x\"}]}", -EINVAL,
      "files[0].path: '/etc//motd' is not normalised (empty component, '//')" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/etc/\",\"content\":\"x\"}]}", -EINVAL,
      "files[0].path: '/etc/' must not end with /" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/\",\"content\":\"x\"}]}", -EINVAL,
      "files[0].path: '/' must name a file, not /" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/etc/a\\tb\",\"content\":\"x\"}]}", -EINVAL,
      "files[0].path: '/etc/a?b' contains a control character" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":\"x\"},{\"path\":\"/a\",\"content\":\"y\"}]}",
      -EINVAL, "files[1].path: '/a' is also files[0].path" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":\"x\"},{\"path\":\"/a/b\",\"content\":\"y\"}]}",
      -EINVAL, "files[1].path: '/a/b' and files[0].path '/a' cannot both be files" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\"}]}", -EINVAL, "files[0].content: missing" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":5}]}", -EINVAL,
      "files[0].content: must be a string or binary" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":\"x\",\"mode\":4096}]}", -EINVAL,
      "files[0].mode: 010000 is not a file mode (0..07777)" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":\"x\",\"mode\":\"0689\"}]}", -EINVAL,
      "files[0].mode: '0689' is not an octal mode" },
    { "{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":\"x\",\"mode\":true}]}", -EINVAL,
      "files[0].mode: must be a number" },
    { "{\"name\":\"n1\",\"number\":1,\"script\":[]}", -EINVAL, "script: must be a string or binary" },
    { NULL, 0, NULL },
};

static void t_bad(void)
{
    for (const struct bad *b = bad; b->json; b++) {
        pn_val_t *v = s_json(b->json);
        cd_spec_t *sp = NULL;
        char err[512];
        int r = cd_spec_parse(v, NULL, &sp, err, sizeof err);
        int good = r == b->code && sp == NULL && strstr(err, b->msg) != NULL;
        check(good, "refused: %s", b->msg, err);
        cd_spec_destroy(&sp);
        pn_val_free(v);
    }
}

/* Every message in the table is distinct: each bad spec has its own. */
static void t_distinct(void)
{
    int dup = 0;
    char first[512] = "";
    char msgs[128][512];
    size_t n = 0;
    for (const struct bad *b = bad; b->json && n < 128; b++) {
        pn_val_t *v = s_json(b->json);
        cd_spec_t *sp = NULL;
        cd_spec_parse(v, NULL, &sp, msgs[n], sizeof msgs[n]);
        pn_val_free(v);
        for (size_t j = 0; j < n; j++)
            if (!strcmp(msgs[j], msgs[n]) && strcmp(bad[j].json, b->json)) {
                dup++;
                snprintf(first, sizeof first, "%s", msgs[n]);
            }
        n++;
    }
    check(dup == 0, "%s", "every distinct bad spec gets its own message", first);
}

static void t_caps(void)
{
    cd_limits_t lim = cd_default_limits;
    char err[512];
    cd_spec_t *sp = NULL;

    lim.max_bytes = 100;
    pn_val_t *v = s_json("{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":"
                            "\"0123456789012345678901234567890123456789012345678901234567890123456789\"},"
                            "{\"path\":\"/b\",\"content\":\"01234567890123456789012345678901234567890\"}]}");
    int r = cd_spec_parse(v, &lim, &sp, err, sizeof err);
    check(r == -E2BIG && strstr(err, "files[1].content: takes the spec over its size cap of 100 bytes"),
       "%s", "size cap refuses the file that crosses it (too_large)", err);
    pn_val_free(v);

    v = s_json("{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":"
                  "\"01234567890123456789012345678901234567890123456789012345678901234567890123456789\"}],"
                  "\"script\":\"0123456789012345678901234567890123456789\"}");
    r = cd_spec_parse(v, &lim, &sp, err, sizeof err);
    check(r == -E2BIG && strstr(err, "script: takes the spec over its size cap"), "%s",
       "size cap counts the script", err);
    pn_val_free(v);

    lim = cd_default_limits;
    lim.max_files = 2;
    v = s_json("{\"name\":\"n1\",\"number\":1,\"files\":[{\"path\":\"/a\",\"content\":\"\"},"
                  "{\"path\":\"/b\",\"content\":\"\"},{\"path\":\"/c\",\"content\":\"\"}]}");
    r = cd_spec_parse(v, &lim, &sp, err, sizeof err);
    check(r == -E2BIG && strstr(err, "files: has 3 files, at most 2 are allowed"), "%s", "file count cap", err);
    pn_val_free(v);

    /* 33 NICs against the default cap of 32. */
    v = pn_map();
    pn_map_set_str(v, "name", "n1");
    pn_map_set_uint(v, "number", 1);
    pn_val_t *nics = pn_arr();
    for (int i = 0; i < 33; i++) {
        pn_val_t *n = pn_map();
        pn_map_set(n, "ifname", pn_strf("eth%d", i % 32));
        pn_map_set(n, "mac", pn_strf("02:00:00:01:00:%02x", i));
        pn_arr_push(nics, n);
    }
    pn_map_set(v, "nics", nics);
    r = cd_spec_parse(v, NULL, &sp, err, sizeof err);
    check(r == -E2BIG && strstr(err, "nics: has 33 NICs, at most 32 are allowed"), "%s", "NIC count cap", err);
    pn_val_free(v);

    v = pn_map();
    pn_map_set_str(v, "name", "n1");
    pn_map_set_uint(v, "number", 1);
    pn_val_t *nic = pn_map(), *addrs = pn_arr();
    pn_map_set_str(nic, "ifname", "eth0");
    pn_map_set_str(nic, "mac", "02:00:00:00:00:01");
    for (int i = 0; i < 65; i++)
        pn_arr_push(addrs, pn_strf("10.0.%d.1/24", i));
    pn_map_set(nic, "addrs", addrs);
    nics = pn_arr();
    pn_arr_push(nics, nic);
    pn_map_set(v, "nics", nics);
    r = cd_spec_parse(v, NULL, &sp, err, sizeof err);
    check(r == -E2BIG && strstr(err, "nics[0].addrs: has 65 addresses, at most 64 are allowed"), "%s",
       "address count cap", err);
    pn_val_free(v);

    v = pn_map();
    pn_map_set_str(v, "name", "n1");
    pn_map_set_uint(v, "number", 1);
    pn_val_t *hosts = pn_arr(), *h = pn_map(), *names = pn_arr();
    pn_map_set_str(h, "ip", "10.0.0.1");
    for (int i = 0; i < 17; i++)
        pn_arr_push(names, pn_strf("h%d", i));
    pn_map_set(h, "names", names);
    pn_arr_push(hosts, h);
    pn_map_set(v, "hosts", hosts);
    r = cd_spec_parse(v, NULL, &sp, err, sizeof err);
    check(r == -E2BIG && strstr(err, "hosts[0].names: has 17 names, at most 16 are allowed"), "%s",
       "host names count cap", err);
    pn_val_free(v);

    v = pn_map();
    pn_map_set_str(v, "name", "n1");
    pn_map_set_uint(v, "number", 1);
    pn_val_t *keys = pn_arr();
    for (int i = 0; i < 65; i++)
        pn_arr_push(keys, pn_str(KEY1));
    pn_map_set(v, "keys", keys);
    r = cd_spec_parse(v, NULL, &sp, err, sizeof err);
    check(r == -E2BIG && strstr(err, "keys: has 65 keys, at most 64 are allowed"), "%s", "key count cap", err);
    pn_val_free(v);
}

static const char *good_json =
    "{\"name\":\"n1\",\"hostname\":\"node-1.lab\",\"number\":1234,\"mgmt_ip\":\"172.30.12.34/16\","
    " \"nics\":[{\"ifname\":\"eth0\",\"mac\":\"02:00:0C:22:00:00\",\"addrs\":[\"10.0.0.1/24\",\"FD00:0::1/64\"],"
    "            \"routes\":[{\"dst\":\"10.1.0.0/16\",\"via\":\"10.0.0.254\"},{\"dst\":\"fd01::/64\",\"via\":\"fd00::fe\"},"
    "                        {\"dst\":\"10.9.0.0/16\"}],"
    "            \"gateway\":\"10.0.0.254\"},"
    "           {\"ifname\":\"eth1\",\"mac\":\"02:00:0c:22:00:01\",\"routes\":[{\"dst\":\"default\",\"via\":\"fd02::1\"}]}],"
    " \"keys\":[\"" KEY1 "\\n\",\"" KEY2 "\"],"
    " \"hosts\":[{\"ip\":\"10.0.0.2\",\"names\":[\"n2\",\"n2.lab\"]}],"
    " \"files\":[{\"path\":\"/etc/motd\",\"content\":\"hello\\n\",\"mode\":\"0600\"},"
    "            {\"path\":\"/usr/local/bin/my tool\",\"content\":\"#!/bin/sh\\n\",\"mode\":493}],"
    " \"script\":\"echo hi\\n\", \"extra_unknown_key\": 1}";

static void t_good(void)
{
    pn_val_t *v = s_json(good_json);
    cd_spec_t *sp = NULL;
    char err[512];
    int r = cd_spec_parse(v, NULL, &sp, err, sizeof err);
    check(r == 0 && sp, "%s", "a full spec is accepted", err);
    if (!sp) {
        pn_val_free(v);
        return;
    }
    check(!strcmp(sp->nics[0].mac_text, "02:00:0c:22:00:00"), "%s", "MAC normalised to lowercase",
       sp->nics[0].mac_text);
    check(!strcmp(sp->nics[0].addrs[1].text, "fd00::1/64"), "%s", "IPv6 address normalised",
       sp->nics[0].addrs[1].text);
    check(sp->files[0].mode == 0600 && sp->files[1].mode == 0755, "%s", "modes from octal string and number", NULL);
    check(sp->nkeys == 2 && !strcmp(sp->keys[0], KEY1), "%s", "trailing newline of a key line dropped", sp->keys[0]);
    check(sp->nics[1].routes[0].is_default && sp->nics[1].routes[0].dst.family == 10, "%s",
       "'default' route takes the family of its gateway", NULL);
    check(!sp->nics[0].routes[2].has_via, "%s", "a route without via is on-link", NULL);
    check(sp->total_bytes > 0 && sp->has_script && sp->script_len == 8, "%s", "script kept", NULL);

    /* The same spec with keys in another order and in other spellings
     * canonicalises to the same bytes; a changed byte does not. */
    pn_val_t *v2 = pn_map();
    for (size_t i = v->m.n; i-- > 0;)
        pn_map_set(v2, v->m.k[i], pn_val_dup(v->m.v[i]));
    cd_spec_t *sp2 = NULL;
    cd_spec_parse(v2, NULL, &sp2, err, sizeof err);
    uint8_t *c1, *c2;
    size_t l1, l2;
    cd_spec_canon(sp, &c1, &l1);
    cd_spec_canon(sp2, &c2, &l2);
    check(sp2 && l1 == l2 && !memcmp(c1, c2, l1), "%s", "canonical form independent of key order", NULL);
    free(c2);
    cd_spec_destroy(&sp2);
    pn_map_set_str(pn_at(pn_get(v2, "files"), 0), "content", "hello!\n");
    cd_spec_parse(v2, NULL, &sp2, err, sizeof err);
    cd_spec_canon(sp2, &c2, &l2);
    check(l1 != l2 || memcmp(c1, c2, l1), "%s", "a changed file content changes the canonical form", NULL);
    free(c1);
    free(c2);
    cd_spec_destroy(&sp2);
    pn_val_free(v2);
    cd_spec_destroy(&sp);
    pn_val_free(v);

    v = s_json("{\"name\":\"n9\",\"number\":9}");
    r = cd_spec_parse(v, NULL, &sp, err, sizeof err);
    check(r == 0 && !strcmp(sp->hostname, "n9") && sp->format == CD_FMT_PLUGNET, "%s",
       "hostname defaults to the name, format to plugnet", err);
    cd_spec_destroy(&sp);
    pn_val_free(v);
}

/* The library cfgdiskd hashes with (libmd) gives FIPS 180-4's digests as
 * lowercase hex, whole or fed byte by byte: the cache keys depend on it. */
static void t_sha256(void)
{
    char hex[SHA256_DIGEST_STRING_LENGTH];
    SHA256Data((const uint8_t *)"abc", 3, hex);
    check(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "%s", "sha256(abc)", hex);
    SHA256Data((const uint8_t *)"", 0, hex);
    check(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "%s", "sha256()", hex);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    SHA2_CTX s;
    SHA256Init(&s);
    for (const char *p = m; *p; p++)
        SHA256Update(&s, (const uint8_t *)p, 1);
    SHA256End(&s, hex);
    check(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "%s",
          "sha256 of 448 bits fed byte by byte", hex);
    char path[] = "/tmp/cd_spec.XXXXXX";
    int fd = mkstemp(path);
    char *big = malloc(1000000);
    memset(big, 'a', 1000000);
    uint64_t size = 0;
    int r = fd >= 0 && write(fd, big, 1000000) == 1000000 ? cd_sha256_file(path, hex, &size) : -1;
    free(big);
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    check(r == 0 && size == 1000000 && !strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "%s", "sha256 of a file of a million a", hex);
}

int main(void)
{
    t_bad();
    t_distinct();
    t_caps();
    t_good();
    t_sha256();
    return done();
}
