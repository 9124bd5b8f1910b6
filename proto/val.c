/* pn_val: the value tree and its msgpack codec (msgpack-c).  JSON: json.c. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "pn_proto.h"
#include "pn_val.h"

const pn_limits_t pn_default_limits = {
    .max_msg = 1u << 20,
    .max_depth = 16,
    .max_items = 4096,
    .max_str = 1u << 20, /* per-field 4 KiB limits are the schema's job */
};

static pn_val_t *s_new(pn_type_t t)
{
    pn_val_t *v = calloc(1, sizeof(*v));
    if (v)
        v->type = t;
    return v;
}

pn_val_t *pn_nil(void) { return s_new(PN_NIL); }
pn_val_t *pn_bool(bool b) { pn_val_t *v = s_new(PN_BOOL); if (v) v->b = b; return v; }
pn_val_t *pn_float(double f) { pn_val_t *v = s_new(PN_FLOAT); if (v) v->f = f; return v; }
pn_val_t *pn_uint(uint64_t u) { pn_val_t *v = s_new(PN_UINT); if (v) v->u = u; return v; }
pn_val_t *pn_int(int64_t i)
{
    if (i >= 0)
        return pn_uint((uint64_t)i);
    pn_val_t *v = s_new(PN_INT);
    if (v)
        v->i = i;
    return v;
}

static pn_val_t *s_bytes(pn_type_t t, const void *p, size_t len)
{
    pn_val_t *v = s_new(t);
    if (!v)
        return NULL;
    v->s.p = malloc(len + 1);
    if (!v->s.p) {
        free(v);
        return NULL;
    }
    if (len)
        memcpy(v->s.p, p, len);
    v->s.p[len] = 0;
    v->s.len = len;
    return v;
}

pn_val_t *pn_strn(const char *s, size_t len) { return s_bytes(PN_STR, s, len); }
pn_val_t *pn_str(const char *s) { return s ? pn_strn(s, strlen(s)) : pn_nil(); }
pn_val_t *pn_bin(const void *p, size_t len) { return s_bytes(PN_BIN, p, len); }

pn_val_t *pn_strf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    pn_val_t *v = s_new(PN_STR);
    if (!v) {
        free(s);
        return NULL;
    }
    v->s.p = s;
    v->s.len = (size_t)n;
    return v;
}

pn_val_t *pn_arr(void) { return s_new(PN_ARR); }
pn_val_t *pn_map(void) { return s_new(PN_MAP); }

void pn_val_free(pn_val_t *v)
{
    if (!v)
        return;
    switch (v->type) {
    case PN_STR:
    case PN_BIN:
        free(v->s.p);
        break;
    case PN_ARR:
        for (size_t i = 0; i < v->a.n; i++)
            pn_val_free(v->a.v[i]);
        free(v->a.v);
        break;
    case PN_MAP:
        for (size_t i = 0; i < v->m.n; i++) {
            free(v->m.k[i]);
            pn_val_free(v->m.v[i]);
        }
        free(v->m.k);
        free(v->m.v);
        break;
    default:
        break;
    }
    free(v);
}

void pn_val_destroy(pn_val_t **v_p)
{
    if (v_p) {
        pn_val_free(*v_p);
        *v_p = NULL;
    }
}

pn_val_t *pn_val_dup(const pn_val_t *v)
{
    if (!v)
        return NULL;
    switch (v->type) {
    case PN_NIL: return pn_nil();
    case PN_BOOL: return pn_bool(v->b);
    case PN_INT: return pn_int(v->i);
    case PN_UINT: return pn_uint(v->u);
    case PN_FLOAT: return pn_float(v->f);
    case PN_STR: return pn_strn(v->s.p, v->s.len);
    case PN_BIN: return pn_bin(v->s.p, v->s.len);
    case PN_ARR: {
        pn_val_t *a = pn_arr();
        for (size_t i = 0; a && i < v->a.n; i++)
            if (!pn_arr_push(a, pn_val_dup(v->a.v[i]))) {
                pn_val_free(a);
                return NULL;
            }
        return a;
    }
    case PN_MAP: {
        pn_val_t *m = pn_map();
        for (size_t i = 0; m && i < v->m.n; i++)
            if (!pn_map_set(m, v->m.k[i], pn_val_dup(v->m.v[i]))) {
                pn_val_free(m);
                return NULL;
            }
        return m;
    }
    }
    return NULL;
}

static ssize_t s_map_index(const pn_val_t *m, const char *key)
{
    for (size_t i = 0; i < m->m.n; i++)
        if (strcmp(m->m.k[i], key) == 0)
            return (ssize_t)i;
    return -1;
}

pn_val_t *pn_map_set(pn_val_t *m, const char *key, pn_val_t *val)
{
    if (!m || m->type != PN_MAP || !key || !val) {
        pn_val_free(val);
        return NULL;
    }
    ssize_t i = s_map_index(m, key);
    if (i >= 0) {
        pn_val_free(m->m.v[i]);
        m->m.v[i] = val;
        return m;
    }
    if (m->m.n == m->m.cap) {
        size_t cap = m->m.cap ? m->m.cap * 2 : 8;
        char **k = realloc(m->m.k, cap * sizeof(*k));
        if (!k)
            goto fail;
        m->m.k = k;
        pn_val_t **v = realloc(m->m.v, cap * sizeof(*v));
        if (!v)
            goto fail;
        m->m.v = v;
        m->m.cap = cap;
    }
    char *kd = strdup(key);
    if (!kd)
        goto fail;
    m->m.k[m->m.n] = kd;
    m->m.v[m->m.n] = val;
    m->m.n++;
    return m;
fail:
    pn_val_free(val);
    return NULL;
}

pn_val_t *pn_map_set_str(pn_val_t *m, const char *k, const char *s) { return pn_map_set(m, k, pn_str(s)); }
pn_val_t *pn_map_set_uint(pn_val_t *m, const char *k, uint64_t u) { return pn_map_set(m, k, pn_uint(u)); }
pn_val_t *pn_map_set_int(pn_val_t *m, const char *k, int64_t i) { return pn_map_set(m, k, pn_int(i)); }
pn_val_t *pn_map_set_bool(pn_val_t *m, const char *k, bool b) { return pn_map_set(m, k, pn_bool(b)); }
pn_val_t *pn_map_set_float(pn_val_t *m, const char *k, double f) { return pn_map_set(m, k, pn_float(f)); }

pn_val_t *pn_map_del(pn_val_t *m, const char *key)
{
    if (!m || m->type != PN_MAP)
        return NULL;
    ssize_t i = s_map_index(m, key);
    if (i < 0)
        return NULL;
    pn_val_t *v = m->m.v[i];
    free(m->m.k[i]);
    memmove(&m->m.k[i], &m->m.k[i + 1], (m->m.n - (size_t)i - 1) * sizeof(char *));
    memmove(&m->m.v[i], &m->m.v[i + 1], (m->m.n - (size_t)i - 1) * sizeof(pn_val_t *));
    m->m.n--;
    return v;
}

pn_val_t *pn_arr_push(pn_val_t *a, pn_val_t *val)
{
    if (!a || a->type != PN_ARR || !val) {
        pn_val_free(val);
        return NULL;
    }
    if (a->a.n == a->a.cap) {
        size_t cap = a->a.cap ? a->a.cap * 2 : 8;
        pn_val_t **v = realloc(a->a.v, cap * sizeof(*v));
        if (!v) {
            pn_val_free(val);
            return NULL;
        }
        a->a.v = v;
        a->a.cap = cap;
    }
    a->a.v[a->a.n++] = val;
    return a;
}

size_t pn_len(const pn_val_t *v)
{
    if (!v)
        return 0;
    switch (v->type) {
    case PN_ARR: return v->a.n;
    case PN_MAP: return v->m.n;
    case PN_STR:
    case PN_BIN: return v->s.len;
    default: return 0;
    }
}

pn_val_t *pn_at(const pn_val_t *a, size_t i)
{
    if (!a || a->type != PN_ARR || i >= a->a.n)
        return NULL;
    return a->a.v[i];
}

pn_val_t *pn_get(const pn_val_t *m, const char *key)
{
    if (!m || m->type != PN_MAP || !key)
        return NULL;
    ssize_t i = s_map_index(m, key);
    return i < 0 ? NULL : m->m.v[i];
}

const char *pn_get_str(const pn_val_t *m, const char *key, const char *def)
{
    pn_val_t *v = pn_get(m, key);
    return v && v->type == PN_STR ? v->s.p : def;
}

uint64_t pn_get_uint(const pn_val_t *m, const char *key, uint64_t def)
{
    pn_val_t *v = pn_get(m, key);
    return v && v->type == PN_UINT ? v->u : def;
}

int64_t pn_get_int(const pn_val_t *m, const char *key, int64_t def)
{
    pn_val_t *v = pn_get(m, key);
    if (v && v->type == PN_INT)
        return v->i;
    if (v && v->type == PN_UINT && v->u <= INT64_MAX)
        return (int64_t)v->u;
    return def;
}

bool pn_get_bool(const pn_val_t *m, const char *key, bool def)
{
    pn_val_t *v = pn_get(m, key);
    return v && v->type == PN_BOOL ? v->b : def;
}

double pn_get_float(const pn_val_t *m, const char *key, double def)
{
    pn_val_t *v = pn_get(m, key);
    if (!v)
        return def;
    if (v->type == PN_FLOAT)
        return v->f;
    if (v->type == PN_UINT)
        return (double)v->u;
    if (v->type == PN_INT)
        return (double)v->i;
    return def;
}

pn_val_t *pn_path(const pn_val_t *v, const char *dotted)
{
    char key[256];
    const char *p = dotted;
    pn_val_t *cur = (pn_val_t *)v;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        cur = pn_get(cur, key);
        p += n + (dot ? 1 : 0);
    }
    return cur;
}

bool pn_val_equal(const pn_val_t *a, const pn_val_t *b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case PN_NIL: return true;
    case PN_BOOL: return a->b == b->b;
    case PN_INT: return a->i == b->i;
    case PN_UINT: return a->u == b->u;
    case PN_FLOAT: return a->f == b->f || (isnan(a->f) && isnan(b->f));
    case PN_STR:
    case PN_BIN: return a->s.len == b->s.len && memcmp(a->s.p, b->s.p, a->s.len) == 0;
    case PN_ARR:
        if (a->a.n != b->a.n)
            return false;
        for (size_t i = 0; i < a->a.n; i++)
            if (!pn_val_equal(a->a.v[i], b->a.v[i]))
                return false;
        return true;
    case PN_MAP:
        if (a->m.n != b->m.n)
            return false;
        for (size_t i = 0; i < a->m.n; i++)
            if (!pn_val_equal(a->m.v[i], pn_get(b, a->m.k[i])))
                return false;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------- encoding */

static int s_pack(msgpack_packer *pk, const pn_val_t *v)
{
    int r = 0;
    switch (v->type) {
    case PN_NIL: return msgpack_pack_nil(pk);
    case PN_BOOL: return v->b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case PN_INT: return msgpack_pack_int64(pk, v->i);
    case PN_UINT: return msgpack_pack_uint64(pk, v->u);
    case PN_FLOAT: return msgpack_pack_double(pk, v->f);
    case PN_STR:
        r = msgpack_pack_str(pk, v->s.len);
        return r ? r : msgpack_pack_str_body(pk, v->s.p, v->s.len);
    case PN_BIN:
        r = msgpack_pack_bin(pk, v->s.len);
        return r ? r : msgpack_pack_bin_body(pk, v->s.p, v->s.len);
    case PN_ARR:
        r = msgpack_pack_array(pk, v->a.n);
        for (size_t i = 0; !r && i < v->a.n; i++)
            r = s_pack(pk, v->a.v[i]);
        return r;
    case PN_MAP:
        r = msgpack_pack_map(pk, v->m.n);
        for (size_t i = 0; !r && i < v->m.n; i++) {
            size_t kl = strlen(v->m.k[i]);
            r = msgpack_pack_str(pk, kl);
            if (!r)
                r = msgpack_pack_str_body(pk, v->m.k[i], kl);
            if (!r)
                r = s_pack(pk, v->m.v[i]);
        }
        return r;
    }
    return -1;
}

int pn_val_encode(const pn_val_t *v, char **buf, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (!v || s_pack(&pk, v) != 0) {
        msgpack_sbuffer_destroy(&sb);
        return -ENOMEM;
    }
    *buf = sb.data; /* ownership moves to the caller */
    *len = sb.size;
    if (!*buf) {
        *buf = malloc(1);
        if (!*buf)
            return -ENOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------- decoding
 *
 * msgpack-c allocates an array's or map's item table from the count in its
 * header before it has seen the items, so a 5-byte header could claim
 * billions.  A pre-scan walks the raw bytes first, bounding depth and counts
 * against the limits and against the bytes actually present; only then is
 * msgpack-c asked to unpack.  The pre-scan also tracks the map key being
 * read so errors can name it. */

typedef struct {
    const uint8_t *p, *end;
    const pn_limits_t *lim;
    char path[256];
    char *err;
    size_t errlen;
    int code;
} scan_t;

static int s_fail(scan_t *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int s_fail(scan_t *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s->err && s->errlen)
        vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    s->code = code;
    return -1;
}

static const char *s_where(scan_t *s) { return s->path[0] ? s->path : "(message)"; }

static int s_need(scan_t *s, size_t n)
{
    if ((size_t)(s->end - s->p) < n)
        return s_fail(s, PN_EINVAL, "message is truncated inside '%s'", s_where(s));
    return 0;
}

static uint64_t s_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static int s_scan(scan_t *s, size_t depth);

/* An array of n items or a map of n pairs, about to be scanned one level
 * down: within the nesting and item limits, and each item (each key and
 * each value) takes at least one of the bytes left. */
static int s_container(scan_t *s, size_t depth, size_t n, bool map)
{
    const char *what = map ? "map" : "array";
    if (depth + 1 > s->lim->max_depth)
        return s_fail(s, PN_ETOOLARGE, "nesting deeper than %zu levels at '%s'", s->lim->max_depth, s_where(s));
    if (n > s->lim->max_items)
        return s_fail(s, PN_ETOOLARGE, "%s '%s' has %zu %s, over the limit of %zu", what,
                      s_where(s), n, map ? "keys" : "items", s->lim->max_items);
    if (n > (size_t)(s->end - s->p) / (map ? 2 : 1))
        return s_fail(s, PN_EINVAL, "message is truncated inside %s '%s'", what, s_where(s));
    return 0;
}

static int s_scan_str(scan_t *s, size_t len, bool is_key, bool *was_str_key)
{
    if (len > s->lim->max_str)
        return s_fail(s, PN_ETOOLARGE, "string in '%s' is %zu bytes, over the limit of %zu",
                      s_where(s), len, s->lim->max_str);
    if (s_need(s, len))
        return -1;
    if (is_key && was_str_key) {
        *was_str_key = true;
        size_t base = strlen(s->path);
        /* s->path holds "parent."; append the key (truncated if absurd). */
        size_t room = sizeof(s->path) - base - 1;
        size_t n = len < room ? len : room;
        for (size_t i = 0; i < n; i++) {
            uint8_t c = s->p[i];
            s->path[base + i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        }
        s->path[base + n] = 0;
    }
    s->p += len;
    return 0;
}

/* Scan one object.  is_key: this object is a map key (appends to path). */
static int s_scan_obj(scan_t *s, size_t depth, bool is_key, bool *was_str_key)
{
    if (s_need(s, 1))
        return -1;
    uint8_t t = *s->p++;
    size_t n;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
        return 0;
    if ((t & 0xe0) == 0xa0)
        return s_scan_str(s, t & 0x1f, is_key, was_str_key);
    if ((t & 0xf0) == 0x90) {
        n = t & 0x0f;
        goto array;
    }
    if ((t & 0xf0) == 0x80) {
        n = t & 0x0f;
        goto map;
    }
    switch (t) {
    case 0xcc: case 0xd0: return s_need(s, 1) ? -1 : (s->p += 1, 0);
    case 0xcd: case 0xd1: return s_need(s, 2) ? -1 : (s->p += 2, 0);
    case 0xce: case 0xd2: case 0xca: return s_need(s, 4) ? -1 : (s->p += 4, 0);
    case 0xcf: case 0xd3: case 0xcb: return s_need(s, 8) ? -1 : (s->p += 8, 0);
    case 0xd9: case 0xc4:
        if (s_need(s, 1)) return -1;
        n = s->p[0]; s->p += 1;
        return s_scan_str(s, n, is_key && t == 0xd9, was_str_key);
    case 0xda: case 0xc5:
        if (s_need(s, 2)) return -1;
        n = s_be(s->p, 2); s->p += 2;
        return s_scan_str(s, n, is_key && t == 0xda, was_str_key);
    case 0xdb: case 0xc6:
        if (s_need(s, 4)) return -1;
        n = s_be(s->p, 4); s->p += 4;
        return s_scan_str(s, n, is_key && t == 0xdb, was_str_key);
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
        size_t sz = (size_t)1 << (t - 0xd4);
        return s_need(s, 1 + sz) ? -1 : (s->p += 1 + sz, 0);
    }
    case 0xc7: case 0xc8: case 0xc9: {
        int hb = t == 0xc7 ? 1 : t == 0xc8 ? 2 : 4;
        if (s_need(s, hb)) return -1;
        n = s_be(s->p, hb); s->p += hb;
        if (n > s->lim->max_str)
            return s_fail(s, PN_ETOOLARGE, "extension object in '%s' is too large", s_where(s));
        return s_need(s, 1 + n) ? -1 : (s->p += 1 + n, 0);
    }
    case 0xdc: if (s_need(s, 2)) return -1; n = s_be(s->p, 2); s->p += 2; goto array;
    case 0xdd: if (s_need(s, 4)) return -1; n = s_be(s->p, 4); s->p += 4; goto array;
    case 0xde: if (s_need(s, 2)) return -1; n = s_be(s->p, 2); s->p += 2; goto map;
    case 0xdf: if (s_need(s, 4)) return -1; n = s_be(s->p, 4); s->p += 4; goto map;
    default:
        return s_fail(s, PN_EINVAL, "invalid msgpack byte 0x%02x in '%s'", t, s_where(s));
    }
array:
    if (s_container(s, depth, n, false))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s_scan(s, depth + 1))
            return -1;
    return 0;
map:
    if (s_container(s, depth, n, true))
        return -1;
    {
        size_t base = strlen(s->path);
        for (size_t i = 0; i < n; i++) {
            if (base && base < sizeof(s->path) - 2) {
                s->path[base] = '.';
                s->path[base + 1] = 0;
            }
            bool strkey = false;
            if (s_scan_obj(s, depth + 1, true, &strkey))
                return -1;
            if (!strkey)
                return s_fail(s, PN_EINVAL, "map '%s' has a key that is not a string", base ? s_where(s) : "(message)");
            if (s_scan(s, depth + 1))
                return -1;
            s->path[base] = 0;
        }
    }
    return 0;
}

static int s_scan(scan_t *s, size_t depth) { return s_scan_obj(s, depth, false, NULL); }

/* Convert a msgpack object already bounded by the pre-scan. */
static pn_val_t *s_conv(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return pn_nil();
    case MSGPACK_OBJECT_BOOLEAN: return pn_bool(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return pn_uint(o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return pn_int(o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return pn_float(o->via.f64);
    case MSGPACK_OBJECT_STR: return pn_strn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN: return pn_bin(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_EXT: return pn_bin(o->via.ext.ptr, o->via.ext.size);
    case MSGPACK_OBJECT_ARRAY: {
        pn_val_t *a = pn_arr();
        for (uint32_t i = 0; a && i < o->via.array.size; i++)
            if (!pn_arr_push(a, s_conv(&o->via.array.ptr[i]))) {
                pn_val_free(a);
                return NULL;
            }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        pn_val_t *m = pn_map();
        for (uint32_t i = 0; m && i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (k->type != MSGPACK_OBJECT_STR) {
                pn_val_free(m);
                return NULL;
            }
            /* Keys with embedded NULs are truncated at the NUL; such a key
             * cannot match a schema key, so it is simply unknown.  An empty
             * key comes with a NULL ptr, which strndup must not be given. */
            char *key = k->via.str.size ? strndup(k->via.str.ptr, k->via.str.size) : strdup("");
            if (!key || !pn_map_set(m, key, s_conv(&o->via.map.ptr[i].val))) {
                free(key);
                pn_val_free(m);
                return NULL;
            }
            free(key);
        }
        return m;
    }
    }
    return NULL;
}

int pn_val_decode(const void *buf, size_t len, const pn_limits_t *lim, pn_val_t **out,
                  char *errmsg, size_t errlen)
{
    if (!lim)
        lim = &pn_default_limits;
    *out = NULL;
    if (errmsg && errlen)
        errmsg[0] = 0;
    if (len > lim->max_msg) {
        snprintf(errmsg, errlen, "message is %zu bytes, over the limit of %zu", len, lim->max_msg);
        return PN_ETOOLARGE;
    }
    if (len == 0) {
        snprintf(errmsg, errlen, "message is empty");
        return PN_EINVAL;
    }
    scan_t s = { .p = buf, .end = (const uint8_t *)buf + len, .lim = lim, .err = errmsg, .errlen = errlen };
    if (s_scan(&s, 0))
        return s.code;
    if (s.p != s.end) {
        snprintf(errmsg, errlen, "message has %zu trailing bytes after the first object",
                 (size_t)(s.end - s.p));
        return PN_EINVAL;
    }
    msgpack_zone zone;
    msgpack_object obj;
    if (!msgpack_zone_init(&zone, 4096)) {
        snprintf(errmsg, errlen, "out of memory");
        return PN_EINTERNAL;
    }
    int r = msgpack_unpack(buf, len, NULL, &zone, &obj);
    if (r != MSGPACK_UNPACK_SUCCESS) {
        msgpack_zone_destroy(&zone);
        snprintf(errmsg, errlen, "message is not valid msgpack");
        return PN_EINVAL;
    }
    *out = s_conv(&obj);
    msgpack_zone_destroy(&zone);
    if (!*out) {
        snprintf(errmsg, errlen, "out of memory decoding the message");
        return PN_EINTERNAL;
    }
    return PN_OK;
}
