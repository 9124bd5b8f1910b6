/* The canonical serialisation of a parsed spec, the input of the cache
 * key.  See spec.h. */
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} buf_t;

static void s_put(buf_t *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* Length-prefixed, tagged fields: unambiguous by construction. */
static void s_field(buf_t *b, char tag, const void *p, size_t n)
{
    uint8_t h[9];
    h[0] = (uint8_t)tag;
    for (int i = 0; i < 8; i++)
        h[1 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    s_put(b, h, sizeof h);
    s_put(b, p, n);
}

static void s_fstr(buf_t *b, char tag, const char *s)
{
    s_field(b, tag, s, strlen(s));
}

static void s_fnum(buf_t *b, char tag, uint64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    s_fstr(b, tag, t);
}

int cd_spec_canon(const cd_spec_t *sp, uint8_t **out, size_t *len)
{
    buf_t b = { 0 };
    s_fstr(&b, 'V', "plugnet-cfgdisk-spec-1");
    s_fstr(&b, 'n', sp->name);
    s_fstr(&b, 'h', sp->hostname);
    s_fnum(&b, 'N', sp->number);
    s_fstr(&b, 'F', cd_format_name(sp->format));
    s_fstr(&b, 'M', sp->has_mgmt ? sp->mgmt.text : "");
    s_fnum(&b, 'I', sp->nnics);
    for (size_t i = 0; i < sp->nnics; i++) {
        const cd_nic_t *n = &sp->nics[i];
        s_fstr(&b, 'i', n->ifname);
        s_fstr(&b, 'm', n->mac_text);
        s_fnum(&b, 'A', n->naddrs);
        for (size_t j = 0; j < n->naddrs; j++)
            s_fstr(&b, 'a', n->addrs[j].text);
        s_fnum(&b, 'R', n->nroutes);
        for (size_t j = 0; j < n->nroutes; j++) {
            s_fstr(&b, 'd', n->routes[j].dst.text);
            s_fstr(&b, 'v', n->routes[j].has_via ? n->routes[j].via.text : "");
        }
        s_fstr(&b, 'g', n->has_gateway ? n->gateway.text : "");
    }
    s_fnum(&b, 'K', sp->nkeys);
    for (size_t i = 0; i < sp->nkeys; i++)
        s_fstr(&b, 'k', sp->keys[i]);
    s_fnum(&b, 'H', sp->nhosts);
    for (size_t i = 0; i < sp->nhosts; i++) {
        s_fstr(&b, 'p', sp->hosts[i].ip.text);
        s_fnum(&b, 'E', sp->hosts[i].nnames);
        for (size_t j = 0; j < sp->hosts[i].nnames; j++)
            s_fstr(&b, 'e', sp->hosts[i].names[j]);
    }
    s_fnum(&b, 'L', sp->nfiles);
    for (size_t i = 0; i < sp->nfiles; i++) {
        s_fstr(&b, 'f', sp->files[i].path);
        s_fnum(&b, 'o', sp->files[i].mode);
        s_field(&b, 'c', sp->files[i].data, sp->files[i].len);
    }
    s_fnum(&b, 'S', sp->has_script);
    if (sp->has_script)
        s_field(&b, 's', sp->script, sp->script_len);
    if (b.oom) {
        free(b.p);
        return -ENOMEM;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
