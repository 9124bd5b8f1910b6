/* Codec round trips for every schema entry, and malformed input giving
 * its own specific error. */
#include <string.h>

#include "pn_proto.h"
#include "tap.h"

static pn_val_t *s_sample(const pn_field_t *fields);

static pn_val_t *s_sample_value(const pn_field_t *f, pn_ftype_t t)
{
    switch (t) {
    case PN_F_STR:
        switch (f->check) {
        case PN_CHK_NAME: return pn_str("n1");
        case PN_CHK_IFNAME: return pn_str("eth1");
        case PN_CHK_PATH: return pn_str("/tmp/x");
        case PN_CHK_ENUM: {
            const char *bar = strchr(f->enums, '|');
            return bar ? pn_strn(f->enums, (size_t)(bar - f->enums)) : pn_str(f->enums);
        }
        case PN_CHK_NONE: {
            /* Respect a minimum length if the schema has one. */
            size_t n = f->min > 1 ? f->min : 1;
            char buf[256];
            if (n >= sizeof(buf))
                n = sizeof(buf) - 1;
            memset(buf, 'a', n);
            buf[n] = 0;
            return pn_str(buf);
        }
        }
        return pn_str("a");
    case PN_F_UINT: return pn_uint(f->min ? f->min : (f->max && f->max < 1 ? 0 : 1));
    case PN_F_INT: return pn_int(f->min ? (int64_t)f->min : -1);
    case PN_F_BOOL: return pn_bool(true);
    case PN_F_FLOAT: return pn_float(1.5);
    case PN_F_BIN: return pn_bin("\x00\x01\xff", 3);
    case PN_F_MAP:
        if (f->sub)
            return s_sample(f->sub);
        {
            pn_val_t *m = pn_map();
            pn_map_set_str(m, "k", "v");
            return m;
        }
    case PN_F_ARR: {
        pn_val_t *a = pn_arr();
        pn_field_t ef = *f;
        ef.max = 0;
        pn_arr_push(a, s_sample_value(&ef, f->elem));
        return a;
    }
    case PN_F_ANY: return pn_str("any");
    }
    return pn_nil();
}

static pn_val_t *s_sample(const pn_field_t *fields)
{
    pn_val_t *m = pn_map();
    for (const pn_field_t *f = fields; f && f->key; f++)
        pn_map_set(m, f->key, s_sample_value(f, f->type));
    return m;
}

static void s_roundtrip_ops(void)
{
    int nops = 0, bad = 0;
    for (const pn_opdef_t *d = pn_ops; d->svc; d++, nops++) {
        char *buf;
        size_t len;
        char err[512];
        pn_val_t *args = s_sample(d->args);
        pn_val_t *copy = pn_val_dup(args);
        pn_msg_request(42, d->op, args, &buf, &len);
        pn_msg_t m;
        int r = pn_msg_decode_request(buf, len, d->svc, &m, err, sizeof(err));
        if (!ok(r == PN_OK && m.id == 42 && strcmp(m.op, d->op) == 0 && pn_val_equal(m.args, copy),
                "%s %s: request round trip", d->svc, d->op)) {
            diag("%s", err);
            bad++;
        }
        pn_msg_clear(&m);
        pn_val_free(copy);
        free(buf);

        pn_val_t *data = s_sample(d->reply);
        copy = pn_val_dup(data);
        pn_msg_reply_ok(43, data, &buf, &len);
        r = pn_msg_decode_reply(buf, len, d->svc, d->op, &m, err, sizeof(err));
        if (!ok(r == PN_OK && m.ok && m.id == 43 && pn_val_equal(m.data, copy), "%s %s: reply round trip",
                d->svc, d->op))
            diag("%s", err);
        pn_msg_clear(&m);
        pn_val_free(copy);
        free(buf);

        /* Dropping a required arg names it. */
        for (const pn_field_t *f = d->args; f && f->key; f++) {
            if (!(f->flags & PN_REQ))
                continue;
            args = s_sample(d->args);
            pn_val_free(pn_map_del(args, f->key));
            pn_msg_request(44, d->op, args, &buf, &len);
            r = pn_msg_decode_request(buf, len, d->svc, &m, err, sizeof(err));
            char want[128];
            snprintf(want, sizeof(want), "'args.%s' is required", f->key);
            ok(r == PN_EINVAL && strstr(err, want), "%s %s: missing '%s' is refused naming it", d->svc,
               d->op, f->key);
            pn_msg_clear(&m);
            free(buf);
            break;
        }
    }
    ok(nops >= 8 && bad == 0, "all %d ops round trip", nops);
}

static void s_roundtrip_events(void)
{
    for (const pn_evdef_t *d = pn_events; d->svc; d++) {
        char *buf;
        size_t len;
        char err[512];
        pn_val_t *data = s_sample(d->data);
        pn_val_t *copy = pn_val_dup(data);
        pn_msg_event(7, 123456789, d->svc, d->type, data, &buf, &len);
        pn_msg_t m;
        int r = pn_msg_decode_event(buf, len, &m, err, sizeof(err));
        if (!ok(r == PN_OK && m.seq == 7 && m.ts == 123456789 && strcmp(m.src, d->svc) == 0 &&
                    strcmp(m.type, d->type) == 0 && pn_val_equal(m.data, copy),
                "%s event %s round trip", d->svc, d->type))
            diag("%s", err);
        pn_msg_clear(&m);
        pn_val_free(copy);
        free(buf);
    }
}

typedef struct {
    const char *what;
    const char *bytes;
    size_t len;
    int code;
    const char *msg;
} bad_t;

#define B(s) s, sizeof(s) - 1

static void s_malformed(void)
{
    static const bad_t cases[] = {
        { "empty message", B(""), PN_EINVAL, "message is empty" },
        { "reserved byte 0xc1", B("\xc1"), PN_EINVAL, "invalid msgpack byte 0xc1" },
        { "not a map", B("\x91\x01"), PN_EINVAL, "message must be a map" },
        { "no version", B("\x81\xa2id\x01"), PN_EINVAL, "'v' is required" },
        { "version 2", B("\x82\xa1v\x02\xa2id\x01"), PN_EUNSUP, "protocol version 2 is not supported" },
        { "no op", B("\x82\xa1v\x01\xa2id\x01"), PN_EINVAL, "'op' is required" },
        { "op not a string", B("\x83\xa1v\x01\xa2id\x01\xa2op\x05"), PN_EINVAL, "'op' must be a string" },
        { "id negative", B("\x83\xa1v\x01\xa2id\xff\xa2op\xa4ping"), PN_EINVAL, "'id' must be an unsigned integer, not a negative integer" },
        { "args not a map", B("\x84\xa1v\x01\xa2id\x01\xa2op\xa4ping\xa4" "args\x90"), PN_EINVAL,
          "'args' must be a map" },
        { "truncated string", B("\x82\xa1v\x01\xa2id\xa9" "ab"), PN_EINVAL, "truncated inside 'id'" },
        { "array claims 4 billion items", B("\x81\xa1v\xdd\xff\xff\xff\xff"), PN_ETOOLARGE,
          "array 'v' has 4294967295 items, over the limit of 4096" },
        { "map claims 70000 keys", B("\xde\xff\xff"), PN_ETOOLARGE, "map '(message)' has 65535 keys" },
        { "array claims more than present", B("\x81\xa1v\xdc\x00\x10\x01"), PN_EINVAL,
          "truncated inside array 'v'" },
        { "key not a string", B("\x81\x01\x01"), PN_EINVAL, "has a key that is not a string" },
        { "trailing bytes", B("\x80\x80"), PN_EINVAL, "1 trailing bytes" },
        { "bin length beyond data", B("\x81\xa1v\xc6\x00\x00\x10\x00"), PN_EINVAL, "truncated inside 'v'" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pn_msg_t m;
        char err[512] = "";
        int r = pn_msg_decode_request(cases[i].bytes, cases[i].len, "switchd", &m, err, sizeof(err));
        if (!ok(r == cases[i].code && strstr(err, cases[i].msg), "malformed: %s -> %s", cases[i].what,
                pn_err_name(cases[i].code)))
            diag("got %s: %s", pn_err_name(r), err);
        pn_msg_clear(&m);
    }

    /* Nesting 20 levels deep. */
    char deep[64];
    size_t n = 0;
    deep[n++] = (char)0x81;
    deep[n++] = (char)0xa1;
    deep[n++] = 'v';
    for (int i = 0; i < 20; i++)
        deep[n++] = (char)0x91;
    deep[n++] = 0x01;
    pn_msg_t m;
    char err[512];
    int r = pn_msg_decode_request(deep, n, NULL, &m, err, sizeof(err));
    ok(r == PN_ETOOLARGE && strstr(err, "nesting deeper than 16"), "nesting of 20 is too_large");
    pn_msg_clear(&m);

    /* Over 1 MiB. */
    pn_val_t *args = pn_map();
    char *big = malloc(1100000);
    memset(big, 'x', 1100000);
    pn_map_set(args, "blob", pn_bin(big, 1100000));
    free(big);
    char *buf;
    size_t len;
    pn_msg_request(1, "ping", args, &buf, &len);
    r = pn_msg_decode_request(buf, len, "switchd", &m, err, sizeof(err));
    ok(r == PN_ETOOLARGE && strstr(err, "over the limit of 1048576"), "a 1.1 MiB message is too_large");
    pn_msg_clear(&m);
    free(buf);

    /* A 5000-byte string in an unknown key of args. */
    args = pn_map();
    char s5k[5001];
    memset(s5k, 'y', 5000);
    s5k[5000] = 0;
    pn_map_set_str(args, "note", s5k);
    pn_msg_request(2, "ping", args, &buf, &len);
    r = pn_msg_decode_request(buf, len, "switchd", &m, err, sizeof(err));
    ok(r == PN_ETOOLARGE && strstr(err, "'args.note' is 5000 bytes"), "a 5000-byte string is too_large naming the key");
    pn_msg_clear(&m);
    free(buf);

    /* Unknown keys are ignored. */
    args = pn_map();
    pn_map_set_str(args, "future_key", "ok");
    pn_msg_request(3, "ping", args, &buf, &len);
    r = pn_msg_decode_request(buf, len, "switchd", &m, err, sizeof(err));
    ok(r == PN_OK, "unknown keys are ignored");
    pn_msg_clear(&m);
    free(buf);
}

static void s_schema_checks(void)
{
    static const pn_field_t sub[] = {
        { .key = "ifname", .type = PN_F_STR, .flags = PN_REQ, .check = PN_CHK_IFNAME },
        { .key = NULL },
    };
    static const pn_field_t f[] = {
        { .key = "name", .type = PN_F_STR, .flags = PN_REQ, .check = PN_CHK_NAME },
        { .key = "state", .type = PN_F_STR, .check = PN_CHK_ENUM, .enums = "up|down" },
        { .key = "mem", .type = PN_F_UINT, .min = 16, .max = 65536 },
        { .key = "nics", .type = PN_F_ARR, .elem = PN_F_MAP, .sub = sub, .max = 2 },
        { .key = "path", .type = PN_F_STR, .check = PN_CHK_PATH },
        { .key = NULL },
    };
    struct {
        const char *json_what;
        pn_val_t *v;
        int code;
        const char *msg;
    } cases[8];
    int n = 0;
    pn_val_t *v;
#define CASE(what, code_, msg_) cases[n++] = (typeof(cases[0])){ what, v, code_, msg_ }
    v = pn_map(); pn_map_set_str(v, "name", "Bad_Name");
    CASE("bad name", PN_EINVAL, "'args.name' is not a valid name");
    v = pn_map(); pn_map_set_str(v, "name", "n1"); pn_map_set_str(v, "state", "sideways");
    CASE("enum", PN_EINVAL, "'args.state' must be one of up|down");
    v = pn_map(); pn_map_set_str(v, "name", "n1"); pn_map_set_uint(v, "mem", 1 << 30);
    CASE("range", PN_EINVAL, "'args.mem' must be between 16 and 65536");
    v = pn_map(); pn_map_set_str(v, "name", "n1");
    {
        pn_val_t *a = pn_arr(), *nic = pn_map();
        pn_map_set_str(nic, "ifname", "eth99");
        pn_arr_push(a, nic);
        pn_map_set(v, "nics", a);
    }
    CASE("nested ifname", PN_EINVAL, "'args.nics[0].ifname' must be an interface name");
    v = pn_map(); pn_map_set_str(v, "name", "n1");
    {
        pn_val_t *a = pn_arr();
        for (int i = 0; i < 3; i++) {
            pn_val_t *nic = pn_map();
            pn_map_set_str(nic, "ifname", "eth1");
            pn_arr_push(a, nic);
        }
        pn_map_set(v, "nics", a);
    }
    CASE("array cap", PN_ETOOLARGE, "'args.nics' has 3 items, over the limit of 2");
    v = pn_map(); pn_map_set_str(v, "name", "n1"); pn_map_set_str(v, "path", "rel/x");
    CASE("path", PN_EINVAL, "'args.path' must be an absolute path");
    v = pn_map(); pn_map_set_uint(v, "name", 3);
    CASE("type", PN_EINVAL, "'args.name' must be a string, not an unsigned integer");
    for (int i = 0; i < n; i++) {
        char err[512] = "";
        int r = pn_schema_check(f, cases[i].v, "args", err, sizeof(err));
        if (!ok(r == cases[i].code && strstr(err, cases[i].msg), "schema: %s", cases[i].json_what))
            diag("got %s: %s", pn_err_name(r), err);
        pn_val_free(cases[i].v);
    }
}

static void s_names(void)
{
    ok(pn_name_valid("core") && pn_name_valid("a") && pn_name_valid("r1-lan-2") &&
       pn_name_valid("abcdefghijklmno"), "valid names");
    ok(!pn_name_valid("") && !pn_name_valid("1abc") && !pn_name_valid("Core") &&
       !pn_name_valid("abcdefghijklmnop") && !pn_name_valid("a_b") && !pn_name_valid("-a") &&
       !pn_name_valid(NULL), "invalid names");
    ok(pn_ifname_index("eth0") == 0 && pn_ifname_index("eth31") == 31 && pn_ifname_index("eth32") == -1 &&
       pn_ifname_index("eth01") == -1 && pn_ifname_index("eth") == -1 && pn_ifname_index("wlan0") == -1,
       "interface names");
    uint8_t mac[6];
    char s[18];
    ok(pn_mac_parse("02:00:0c:22:00:01", mac) && mac[2] == 0x0c && mac[3] == 0x22, "MAC parse");
    pn_mac_format(mac, s);
    ok(strcmp(s, "02:00:0c:22:00:01") == 0, "MAC format");
    ok(!pn_mac_parse("02:00:0c:22:00", mac) && !pn_mac_parse("02-00-0c-22-00-01", mac) &&
       !pn_mac_parse("zz:00:0c:22:00:01", mac), "bad MACs");
    ok(pn_err_from_name("not_found") == PN_ENOTFOUND && strcmp(pn_err_name(PN_EBUSY), "busy") == 0 &&
       pn_err_from_name("nope") == -1, "error names");
}

static void s_json(void)
{
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "s", "a\"b\n");
    pn_map_set_int(m, "i", -3);
    pn_map_set(m, "b", pn_bin("\xff", 1));
    pn_val_t *a = pn_arr();
    pn_arr_push(a, pn_bool(true));
    pn_arr_push(a, pn_nil());
    pn_map_set(m, "a", a);
    char *j = pn_val_json_str(m);
    ok(strcmp(j, "{\"s\":\"a\\\"b\\n\",\"i\":-3,\"b\":{\"$bin\":\"/w==\"},\"a\":[true,null]}") == 0, "JSON: %s", j);
    free(j);
    pn_val_free(m);
}

int main(void)
{
    s_roundtrip_ops();
    s_roundtrip_events();
    s_malformed();
    s_schema_checks();
    s_names();
    s_json();
    return done();
}
