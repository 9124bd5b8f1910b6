/* A tiny JSON reader for the cfgdiskd unit tests: specs are easier to read
 * as JSON literals than as trees of constructor calls.  Test-only: it
 * handles what the tests write (no \u escapes beyond ASCII). */
#ifndef CD_JSON_H
#define CD_JSON_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pn_val.h"

static pn_val_t *cdj_value(const char **p);

static void cdj_ws(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

static pn_val_t *cdj_string(const char **p)
{
    char *buf = malloc(strlen(*p) + 1);
    size_t n = 0;
    (*p)++;
    while (**p && **p != '"') {
        char c = *(*p)++;
        if (c == '\\') {
            c = *(*p)++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'u': {
                char h[5] = { 0 };
                memcpy(h, *p, 4);
                *p += 4;
                c = (char)strtoul(h, NULL, 16);
                break;
            }
            default: break;
            }
        }
        buf[n++] = c;
    }
    if (**p == '"')
        (*p)++;
    pn_val_t *v = pn_strn(buf, n);
    free(buf);
    return v;
}

static pn_val_t *cdj_value(const char **p)
{
    cdj_ws(p);
    if (**p == '{') {
        pn_val_t *m = pn_map();
        (*p)++;
        for (;;) {
            cdj_ws(p);
            if (**p == '}') { (*p)++; break; }
            if (**p == ',') { (*p)++; continue; }
            pn_val_t *k = cdj_string(p);
            cdj_ws(p);
            if (**p == ':')
                (*p)++;
            pn_map_set(m, k->s.p, cdj_value(p));
            pn_val_free(k);
        }
        return m;
    }
    if (**p == '[') {
        pn_val_t *a = pn_arr();
        (*p)++;
        for (;;) {
            cdj_ws(p);
            if (**p == ']') { (*p)++; break; }
            if (**p == ',') { (*p)++; continue; }
            pn_arr_push(a, cdj_value(p));
        }
        return a;
    }
    if (**p == '"')
        return cdj_string(p);
    if (!strncmp(*p, "true", 4)) { *p += 4; return pn_bool(true); }
    if (!strncmp(*p, "false", 5)) { *p += 5; return pn_bool(false); }
    if (!strncmp(*p, "null", 4)) { *p += 4; return pn_nil(); }
    char *end;
    if (**p == '-') {
        long long v = strtoll(*p, &end, 10);
        *p = end;
        return pn_int(v);
    }
    unsigned long long v = strtoull(*p, &end, 10);
    *p = end;
    return pn_uint(v);
}

static pn_val_t *cdj_parse(const char *s)
{
    return cdj_value(&s);
}

#endif
