/* JSON text to and from pn_val trees.  See pn_json.h. */
#include "pn_json.h"

#include "pn_base64.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- reader */

#define MAX_DEPTH 32

typedef struct {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    bool failed;
} js_t;

__attribute__((format(printf, 2, 3))) static pn_val_t *s_fail(js_t *j, const char *fmt, ...)
{
    if (j->failed)
        return NULL;
    j->failed = true;
    char m[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    /* Line and column of the error. */
    size_t line = 1, col = 1;
    for (const char *q = j->start; q < j->p && q < j->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(j->err, j->errlen, "line %zu, column %zu: %s", line, col, m);
    return NULL;
}

static void s_ws(js_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int s_hex4(js_t *j, unsigned *out)
{
    if (j->end - j->p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = j->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    j->p += 4;
    *out = v;
    return 0;
}

/* A string's bytes (malloc'd, NUL-terminated, *len without the NUL). */
static char *s_string(js_t *j, size_t *len)
{
    j->p++; /* opening quote */
    size_t cap = 32, n = 0;
    char *b = malloc(cap);
    if (!b)
        return (char *)s_fail(j, "out of memory");
    for (;;) {
        if (j->p >= j->end) {
            free(b);
            return (char *)s_fail(j, "unterminated string");
        }
        unsigned char c = (unsigned char)*j->p++;
        char tmp[4];
        size_t tn = 0;
        if (c == '"')
            break;
        if (c < 0x20) {
            j->p--;
            free(b);
            return (char *)s_fail(j, "control character in a string (escape it)");
        }
        if (c != '\\') {
            tmp[tn++] = (char)c;
        } else {
            if (j->p >= j->end) {
                free(b);
                return (char *)s_fail(j, "unterminated escape");
            }
            char e = *j->p++;
            unsigned u;
            switch (e) {
            case '"': tmp[tn++] = '"'; break;
            case '\\': tmp[tn++] = '\\'; break;
            case '/': tmp[tn++] = '/'; break;
            case 'b': tmp[tn++] = '\b'; break;
            case 'f': tmp[tn++] = '\f'; break;
            case 'n': tmp[tn++] = '\n'; break;
            case 'r': tmp[tn++] = '\r'; break;
            case 't': tmp[tn++] = '\t'; break;
            case 'u':
                if (s_hex4(j, &u) < 0) {
                    free(b);
                    return (char *)s_fail(j, "bad \\u escape");
                }
                if (u >= 0xd800 && u < 0xdc00) {
                    unsigned lo;
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                        (j->p += 2, s_hex4(j, &lo) < 0) || lo < 0xdc00 || lo > 0xdfff) {
                        free(b);
                        return (char *)s_fail(j, "bad UTF-16 surrogate pair");
                    }
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                } else if (u >= 0xdc00 && u < 0xe000) {
                    free(b);
                    return (char *)s_fail(j, "lone UTF-16 surrogate");
                }
                if (u < 0x80) {
                    tmp[tn++] = (char)u;
                } else if (u < 0x800) {
                    tmp[tn++] = (char)(0xc0 | u >> 6);
                    tmp[tn++] = (char)(0x80 | (u & 0x3f));
                } else if (u < 0x10000) {
                    tmp[tn++] = (char)(0xe0 | u >> 12);
                    tmp[tn++] = (char)(0x80 | (u >> 6 & 0x3f));
                    tmp[tn++] = (char)(0x80 | (u & 0x3f));
                } else {
                    tmp[tn++] = (char)(0xf0 | u >> 18);
                    tmp[tn++] = (char)(0x80 | (u >> 12 & 0x3f));
                    tmp[tn++] = (char)(0x80 | (u >> 6 & 0x3f));
                    tmp[tn++] = (char)(0x80 | (u & 0x3f));
                }
                break;
            default:
                j->p--;
                free(b);
                return (char *)s_fail(j, "unknown escape \\%c", e);
            }
        }
        if (n + tn + 1 > cap) {
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return (char *)s_fail(j, "out of memory");
            }
            b = nb;
        }
        memcpy(b + n, tmp, tn);
        n += tn;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

static pn_val_t *s_bin(js_t *j, const pn_val_t *s)
{
    uint8_t *o = malloc(PN_BASE64_DECODED_MAX(s->s.len));
    if (!o)
        return s_fail(j, "out of memory");
    ssize_t k = pn_base64_decode(s->s.p, s->s.len, false, o, PN_BASE64_DECODED_MAX(s->s.len));
    if (k < 0) {
        free(o);
        return s_fail(j, "\"$bin\" is not base64");
    }
    pn_val_t *v = pn_bin(o, (size_t)k);
    free(o);
    return v;
}

static pn_val_t *s_value(js_t *j, int depth);

static pn_val_t *s_container(js_t *j, int depth, bool obj)
{
    if (depth >= MAX_DEPTH)
        return s_fail(j, "nested deeper than %d", MAX_DEPTH);
    j->p++;
    pn_val_t *c = obj ? pn_map() : pn_arr();
    if (!c)
        return s_fail(j, "out of memory");
    s_ws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        return c;
    }
    for (;;) {
        s_ws(j);
        char *key = NULL;
        if (obj) {
            size_t kl;
            if (j->p >= j->end || *j->p != '"') {
                pn_val_free(c);
                return s_fail(j, "expected a string key");
            }
            if (!(key = s_string(j, &kl))) {
                pn_val_free(c);
                return NULL;
            }
            s_ws(j);
            if (j->p >= j->end || *j->p != ':') {
                free(key);
                pn_val_free(c);
                return s_fail(j, "expected ':'");
            }
            j->p++;
        }
        pn_val_t *v = s_value(j, depth + 1);
        if (!v) {
            free(key);
            pn_val_free(c);
            return NULL;
        }
        if (obj) {
            pn_map_set(c, key, v);
            free(key);
        } else {
            pn_arr_push(c, v);
        }
        s_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
            j->p++;
            break;
        }
        pn_val_free(c);
        return s_fail(j, "expected ',' or '%c'", obj ? '}' : ']');
    }
    /* {"$bin": "..."} is binary. */
    if (obj && c->m.n == 1 && !strcmp(c->m.k[0], "$bin") && c->m.v[0]->type == PN_STR) {
        pn_val_t *b = s_bin(j, c->m.v[0]);
        pn_val_free(c);
        return b;
    }
    return c;
}

static pn_val_t *s_number(js_t *j)
{
    const char *s = j->p;
    const char *q = s;
    if (q < j->end && *q == '-')
        q++;
    if (q >= j->end || *q < '0' || *q > '9')
        return s_fail(j, "unexpected character '%c'", *s);
    if (*q == '0' && q + 1 < j->end && q[1] >= '0' && q[1] <= '9')
        return s_fail(j, "numbers have no leading zeros");
    while (q < j->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
                          (*q == '-' && q > s)))
        q++;
    char buf[64];
    size_t n = (size_t)(q - s);
    if (n >= sizeof buf)
        return s_fail(j, "number too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    errno = 0;
    pn_val_t *v;
    if (strpbrk(buf, ".eE")) {
        double d = strtod(buf, &e);
        if (*e || !isfinite(d))
            return s_fail(j, "bad number '%s'", buf);
        v = pn_float(d);
    } else if (buf[0] == '-') {
        long long x = strtoll(buf, &e, 10);
        if (*e || errno)
            return s_fail(j, "bad integer '%s'", buf);
        v = pn_int(x);
    } else {
        unsigned long long x = strtoull(buf, &e, 10);
        if (*e || errno)
            return s_fail(j, "bad integer '%s'", buf);
        v = pn_uint(x);
    }
    j->p = q;
    return v ? v : s_fail(j, "out of memory");
}

static pn_val_t *s_value(js_t *j, int depth)
{
    s_ws(j);
    if (j->p >= j->end)
        return s_fail(j, "unexpected end of input");
    switch (*j->p) {
    case '{': return s_container(j, depth, true);
    case '[': return s_container(j, depth, false);
    case '"': {
        size_t n;
        char *s = s_string(j, &n);
        if (!s)
            return NULL;
        pn_val_t *v = pn_strn(s, n);
        free(s);
        return v ? v : s_fail(j, "out of memory");
    }
    default: break;
    }
    static const struct { const char *w; int k; } lits[] = { { "true", 1 }, { "false", 0 }, { "null", 2 } };
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(lits[i].w);
        if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, lits[i].w, l)) {
            j->p += l;
            return lits[i].k == 2 ? pn_nil() : pn_bool(lits[i].k == 1);
        }
    }
    return s_number(j);
}

pn_val_t *pn_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    js_t j = { .p = text, .end = text + len, .start = text, .err = err, .errlen = errlen };
    if (errlen)
        err[0] = '\0';
    pn_val_t *v = s_value(&j, 0);
    if (!v)
        return NULL;
    s_ws(&j);
    if (j.p != j.end) {
        pn_val_free(v);
        return s_fail(&j, "trailing characters after the value");
    }
    return v;
}

/* --------------------------------------------------------------- writer */

static void s_json_str(FILE *f, const char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static void s_b64_out(FILE *f, const unsigned char *p, size_t n)
{
    char chunk[PN_BASE64_LEN(3 * 64) + 1]; /* whole groups of 3 bytes: the same text as in one go */
    fputc('"', f);
    for (size_t i = 0; i < n; i += 3 * 64) {
        pn_base64_encode(p + i, n - i < 3 * 64 ? n - i : 3 * 64, chunk);
        fputs(chunk, f);
    }
    fputc('"', f);
}

/* The n items of an array (keys NULL) or a map, comma separated,
 * between open and close. */
static void s_json_items(FILE *f, char open, char *const *keys, pn_val_t *const *vals, size_t n,
                         char close)
{
    fputc(open, f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        if (keys) {
            s_json_str(f, keys[i], strlen(keys[i]));
            fputc(':', f);
        }
        pn_val_json(vals[i], f);
    }
    fputc(close, f);
}

void pn_val_json(const pn_val_t *v, FILE *f)
{
    if (!v) {
        fputs("null", f);
        return;
    }
    switch (v->type) {
    case PN_NIL: fputs("null", f); break;
    case PN_BOOL: fputs(v->b ? "true" : "false", f); break;
    case PN_INT: fprintf(f, "%lld", (long long)v->i); break;
    case PN_UINT: fprintf(f, "%llu", (unsigned long long)v->u); break;
    case PN_FLOAT:
        if (isfinite(v->f))
            fprintf(f, "%.17g", v->f);
        else
            fputs("null", f);
        break;
    case PN_STR: s_json_str(f, v->s.p, v->s.len); break;
    case PN_BIN:
        fputs("{\"$bin\":", f);
        s_b64_out(f, (const unsigned char *)v->s.p, v->s.len);
        fputc('}', f);
        break;
    case PN_ARR: s_json_items(f, '[', NULL, v->a.v, v->a.n, ']'); break;
    case PN_MAP: s_json_items(f, '{', v->m.k, v->m.v, v->m.n, '}'); break;
    }
}

char *pn_val_json_str(const pn_val_t *v)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    pn_val_json(v, f);
    fclose(f);
    return s;
}
