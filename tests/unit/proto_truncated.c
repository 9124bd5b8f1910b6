/* Every proper prefix of a valid message is refused as truncated: a
 * request, a reply and an event holding each kind of msgpack item (fixed
 * and long strings, integers of every width, floats, binary, arrays and
 * maps) are cut after each byte, and none of the cuts decodes. */
#include <string.h>

#include "pn_proto.h"
#include "tap.h"

static pn_val_t *s_items(void)
{
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    pn_val_t *m = pn_map(), *a = pn_arr();
    pn_map_set_str(m, "short", "n1");
    pn_map_set_str(m, "long", big);
    pn_map_set_uint(m, "u8", 200);
    pn_map_set_uint(m, "u16", 60000);
    pn_map_set_uint(m, "u32", 4000000000u);
    pn_map_set_uint(m, "u64", 1ull << 40);
    pn_map_set_int(m, "neg", -100000);
    pn_map_set(m, "f", pn_float(2.5));
    pn_map_set(m, "b", pn_bin("\x00\x01\xff", 3));
    pn_map_set_bool(m, "t", true);
    for (int i = 0; i < 20; i++)
        pn_arr_push(a, pn_uint((uint64_t)i * 1000));
    pn_map_set(m, "arr", a);
    pn_val_t *inner = pn_map();
    pn_map_set_str(inner, "k", "v");
    pn_map_set(m, "map", inner);
    return m;
}

typedef int (*decode_fn)(const char *buf, size_t len, pn_msg_t *m, char *err, size_t errlen);
static int s_req(const char *b, size_t n, pn_msg_t *m, char *e, size_t el)
{
    return pn_msg_decode_request(b, n, NULL, m, e, el);
}
static int s_rep(const char *b, size_t n, pn_msg_t *m, char *e, size_t el)
{
    return pn_msg_decode_reply(b, n, NULL, NULL, m, e, el);
}
static int s_evt(const char *b, size_t n, pn_msg_t *m, char *e, size_t el)
{
    return pn_msg_decode_event(b, n, m, e, el);
}

static void s_check(const char *what, const char *buf, size_t len, decode_fn fn)
{
    pn_msg_t m;
    char err[512] = "";
    int r = fn(buf, len, &m, err, sizeof err);
    pn_msg_clear(&m);
    if (!ok(r == PN_OK, "%s: the whole message (%zu bytes) decodes", what, len))
        diag("%s: %s", pn_err_name(r), err);
    size_t bad = 0;
    for (size_t cut = 0; cut < len; cut++) {
        err[0] = 0;
        r = fn(buf, cut, &m, err, sizeof err);
        pn_msg_clear(&m);
        if (r != PN_EINVAL || (cut > 0 && !strstr(err, "truncated"))) {
            if (!bad++)
                diag("%s cut to %zu of %zu bytes: %s: %s", what, cut, len, pn_err_name(r), err);
        }
    }
    ok(bad == 0, "%s: each of its %zu proper prefixes is refused as truncated (%zu were not)", what, len, bad);
}

int main(void)
{
    char *buf;
    size_t len;
    pn_msg_request(7, "ping", s_items(), &buf, &len);
    s_check("request", buf, len, s_req);
    free(buf);
    pn_msg_reply_ok(7, s_items(), &buf, &len);
    s_check("reply", buf, len, s_rep);
    free(buf);
    pn_msg_event(9, 1700000000000000000ull, "switchd", "test.items", s_items(), &buf, &len);
    s_check("event", buf, len, s_evt);
    free(buf);
    return done();
}
