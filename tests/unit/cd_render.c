/* cd_render: the generated files.  The embedded config script matches
 * config.sh; plugnet.conf survives hostile-looking file paths when sourced
 * by sh; user-data quotes what YAML needs quoted; base64 vectors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/cfgdiskd/render.h"
#include "../../services/cfgdiskd/spec.h"
#include "pn_proto.h"
#include "pn_base64.h"
#include "pn_json.h"
#include "pn_svc.h"
#include "tap.h"

/* check() with what came out shown as a diagnostic when cond fails. */
static void check(int cond, const char *what, const char *got)
{
    if (!ok(cond, "%s", what) && got)
        diag("  got: %s", got);
}

static cd_spec_t *s_spec(const char *json)
{
    char err[512];
    pn_val_t *v = pn_json_parse(json, strlen(json), err, sizeof err);
    if (!v) {
        printf("# json: %s\n", err);
        return NULL;
    }
    cd_spec_t *sp = NULL;
    if (cd_spec_parse(v, NULL, &sp, err, sizeof err) != 0)
        printf("# spec: %s\n", err);
    pn_val_free(v);
    return sp;
}

static void t_config_in_sync(void)
{
    const char *src = getenv("PLUGNET_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/services/cfgdiskd/config.sh", src ? src : ".");
    char *buf = NULL;
    size_t len = 0;
    int r = pn_file_read(path, 1 << 20, &buf, &len);
    check(r == 0 && len == strlen(cd_config_script()) && !memcmp(buf, cd_config_script(), len),
       "config_sh.c is config.sh (run scripts/cd-embed-config.sh after editing it)", path);
    free(buf);
}

static void t_conf_quoting(void)
{
    cd_spec_t *sp = s_spec("{\"name\":\"q1\",\"number\":3,"
                           "\"files\":[{\"path\":\"/tmp/it's $(reboot) `x` \\\"q\\\"\",\"content\":\"x\"},"
                           "{\"path\":\"/a b/c\",\"content\":\"y\",\"mode\":\"4755\"}]}");
    check(sp != NULL, "a spec with shell metacharacters in paths is accepted", NULL);
    if (!sp)
        return;
    char *conf = cd_render_conf(sp, "k", false);
    char tmp[] = "/tmp/cd_render.XXXXXX";
    int fd = mkstemp(tmp);
    FILE *f = fdopen(fd, "w");
    fputs(conf, f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sh -c '. %s && printf \"%%s\" \"$PLUGNET_FILES\"'", tmp);
    FILE *p = popen(cmd, "r");
    char out[512] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    unlink(tmp);
    check(st == 0 && !strcmp(out, "0644 /tmp/it's $(reboot) `x` \"q\"\n4755 /a b/c"),
       "PLUGNET_FILES reads back verbatim through sh, nothing expanded", out);
    free(conf);

    char *ud = cd_render_user_data(sp, (const uint8_t *)"AG", 2);
    check(strstr(ud, "  - path: \"/tmp/it's $(reboot) `x` \\\"q\\\"\"\n") != NULL,
       "user-data double-quotes paths, escaping quotes", ud);
    check(strstr(ud, "permissions: '4755'") != NULL, "user-data keeps the mode's special bits", NULL);
    check(strstr(ud, "content: QUc=\n") != NULL, "the agent travels base64-encoded", NULL);
    free(ud);
    cd_spec_destroy(&sp);
}

static void t_hosts(void)
{
    cd_spec_t *sp = s_spec("{\"name\":\"h1\",\"hostname\":\"h1.example.org\",\"number\":3,"
                           "\"hosts\":[{\"ip\":\"FD00::0002\",\"names\":[\"a\",\"b.lab\"]}]}");
    char *h = sp ? cd_render_hosts(sp) : NULL;
    check(h && strstr(h, "127.0.1.1\th1.example.org h1\n") && strstr(h, "\nfd00::2\ta b.lab\n") &&
           !strncmp(h, "127.0.0.1\tlocalhost\n", 20),
       "hosts: localhost, own name with its short form, the lab (addresses normalised)", h);
    free(h);
    char *md = sp ? cd_render_meta_data(sp, "0123456789abcdef0123456789abcdef0123") : NULL;
    check(md && !strcmp(md, "instance-id: plugnet-0123456789abcdef0123456789abcdef\nlocal-hostname: h1.example.org\n"),
       "meta-data", md);
    free(md);
    cd_spec_destroy(&sp);
}

static void t_netcfg(void)
{
    cd_spec_t *sp = s_spec("{\"name\":\"n1\",\"number\":1,\"nics\":[{\"ifname\":\"eth3\",\"mac\":\"02:00:00:01:00:03\","
                           "\"addrs\":[\"10.0.0.1/24\"],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"via\":\"10.0.0.9\"},"
                           "{\"dst\":\"10.8.0.0/16\",\"via\":\"10.0.0.7\"},{\"dst\":\"10.9.0.0/16\"}]}]}");
    char *nc = sp ? cd_render_network_config(sp) : NULL;
    check(nc && strstr(nc, "  eth3:\n    match:\n      macaddress: \"02:00:00:01:00:03\"\n    set-name: eth3\n") &&
           strstr(nc, "    gateway4: \"10.0.0.9\"\n") &&
           strstr(nc, "      - to: \"10.8.0.0/16\"\n        via: \"10.0.0.7\"\n") && !strstr(nc, "10.9.0.0"),
       "network-config: match by MAC, 0.0.0.0/0 as gateway4, on-link routes left to runcmd", nc);
    char *ud = sp ? cd_render_user_data(sp, NULL, 0) : NULL;
    check(ud && strstr(ud, "  - [\"ip\", \"-4\", \"route\", \"replace\", \"10.9.0.0/16\", \"dev\", \"eth3\"]\n") &&
           !strstr(ud, "plugnet-agent"),
       "user-data: on-link route in runcmd, no agent when there is none", ud);
    free(nc);
    free(ud);
    cd_spec_destroy(&sp);
}

static void t_base64(void)
{
    static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    int good = 1;
    for (int i = 0; i < 7; i++) {
        char *b = pn_base64((const uint8_t *)in[i], strlen(in[i]));
        good &= !strcmp(b, want[i]);
        free(b);
    }
    check(good, "base64 RFC 4648 vectors", NULL);
    good = 1;
    for (int i = 1; i < 7; i++) {
        uint8_t out[8];
        ssize_t n = pn_base64_decode(want[i], strlen(want[i]), true, out, sizeof out);
        good &= n == (ssize_t)strlen(in[i]) && !memcmp(out, in[i], (size_t)n);
        n = pn_base64_decode(want[i], strcspn(want[i], "="), false, out, sizeof out);
        good &= n == (ssize_t)strlen(in[i]) && !memcmp(out, in[i], (size_t)n);
    }
    check(good, "base64 decodes the vectors back, padded (strict) and unpadded", NULL);
    uint8_t out[8];
    static const char *bad[] = { "", "Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "Zg=A" };
    good = 1;
    for (int i = 0; i < 6; i++)
        good &= pn_base64_decode(bad[i], strlen(bad[i]), true, out, sizeof out) == -EINVAL;
    good &= pn_base64_decode("Zm9vYmFy", 8, true, out, 5) == -ENOBUFS;
    check(good, "strict base64 refuses bad lengths, padding and characters, and a short buffer", NULL);
}

static void t_json(void)
{
    char err[256];
    static const char *bad[] = { "{\"a\":}", "[1,2", "{\"a\" 1}", "\"abc", "01", "{\"a\":1} x", "\"\\x\"",
                                 "\"\\ud800\"", NULL };
    int refused = 1;
    for (int i = 0; bad[i]; i++) {
        pn_val_t *v = pn_json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        refused &= v == NULL && strstr(err, "line 1, column") != NULL;
        pn_val_free(v);
    }
    check(refused, "JSON reader refuses malformed input, saying where", err);
    const char *good = "{\"s\":\"a\\u00e9\\n\",\"n\":-5,\"u\":18446744073709551615,\"f\":1.5,\"b\":{\"$bin\":\"AP8=\"},"
                       "\"t\":[true,false,null]}";
    pn_val_t *v = pn_json_parse(good, strlen(good), err, sizeof err);
    pn_val_t *b = v ? pn_get(v, "b") : NULL;
    check(v && !strcmp(pn_get_str(v, "s", ""), "a\xc3\xa9\n") && pn_get_int(v, "n", 0) == -5 &&
           pn_get_uint(v, "u", 0) == UINT64_MAX && b && b->type == PN_BIN && b->s.len == 2 &&
           (uint8_t)b->s.p[1] == 0xff && pn_len(pn_get(v, "t")) == 3,
       "JSON reader: escapes, integers, floats, $bin, literals", err);
    pn_val_free(v);
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    v = pn_json_parse(deep, 200, err, sizeof err);
    check(v == NULL && strstr(err, "nested deeper"), "JSON reader bounds nesting", err);
}

int main(void)
{
    t_config_in_sync();
    t_conf_quoting();
    t_hosts();
    t_netcfg();
    t_base64();
    t_json();
    return done();
}
