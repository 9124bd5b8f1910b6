/* Parsing of a disk.build spec into a cd_spec_t, every field checked.
 * See spec.h. */
#include "spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pn_proto.h"
#include "spec_valid.h"

const cd_limits_t cd_default_limits = {
    .max_bytes = 64u << 20,
    .max_nics = 32,
    .max_addrs = 64,
    .max_routes = 256,
    .max_keys = 64,
    .max_hosts = 4096,
    .max_names = 16,
    .max_files = 256,
};

const char *cd_format_name(cd_format_t f)
{
    return f == CD_FMT_CIDATA ? "cidata" : "plugnet";
}

/* ------------------------------------------------------------- errors */

typedef struct {
    char *err;
    size_t errlen;
    int code;
} ctx_t;

/* Printable, bounded rendering of a value for an error message. */
static const char *s_show(const char *s, size_t len, char out[72])
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    if (len > 64 && o == 64) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

__attribute__((format(printf, 4, 5))) static int s_fail(ctx_t *c, int code, const char *field,
                                                         const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->errlen)
        snprintf(c->err, c->errlen, "%s: %s", field, msg);
    c->code = code;
    return code;
}

/* ----------------------------------------------------------- getters */

static int s_str(ctx_t *c, const pn_val_t *map, const char *key, const char *field, bool req,
                 const char **out)
{
    pn_val_t *v = pn_get(map, key);
    *out = NULL;
    if (!v || v->type == PN_NIL) {
        if (req)
            return s_fail(c, -EINVAL, field, "missing");
        return 0;
    }
    if (v->type != PN_STR)
        return s_fail(c, -EINVAL, field, "must be a string");
    if (strlen(v->s.p) != v->s.len)
        return s_fail(c, -EINVAL, field, "contains a NUL byte");
    *out = v->s.p;
    return 0;
}

/* s_str of key in the map of the item named item ("nics[0]"); the
 * field name "item.key" is left in f for the caller's messages. */
static int s_sub_str(ctx_t *c, const pn_val_t *map, const char *item, const char *key, bool req,
                     char *f, size_t flen, const char **out)
{
    snprintf(f, flen, "%s.%s", item, key);
    return s_str(c, map, key, f, req, out);
}

/* An array (or absent): *arr NULL when absent. */
static int s_arr(ctx_t *c, const pn_val_t *map, const char *key, const char *field, size_t max,
                 const char *what, const pn_val_t **arr)
{
    pn_val_t *v = pn_get(map, key);
    *arr = NULL;
    if (!v || v->type == PN_NIL)
        return 0;
    if (v->type != PN_ARR)
        return s_fail(c, -EINVAL, field, "must be an array");
    if (v->a.n > max)
        return s_fail(c, -E2BIG, field, "has %zu %s, at most %zu are allowed", v->a.n, what, max);
    *arr = v;
    return 0;
}

/* An array as s_arr, and room for its items (size bytes each, calloc'd
 * into *items; NULL when the array is absent). */
static int s_items(ctx_t *c, const pn_val_t *map, const char *key, const char *field, size_t max,
                   const char *what, size_t size, const pn_val_t **arr, void **items)
{
    int r = s_arr(c, map, key, field, max, what, arr);
    *items = NULL;
    if (r || !*arr)
        return r;
    *items = calloc((*arr)->a.n ? (*arr)->a.n : 1, size);
    return *items ? 0 : s_fail(c, -ENOMEM, field, "out of memory");
}

/* ----------------------------------------------------------- sections */

static int s_addr(ctx_t *c, const char *s, bool want_prefix, const char *field, pn_addr_t *a)
{
    const char *why;
    char sh[72];
    if (pn_addr_parse(s, want_prefix, a, &why) < 0)
        return s_fail(c, -EINVAL, field, "'%s' %s", s_show(s, strlen(s), sh), why);
    return 0;
}

static int s_nic(ctx_t *c, const cd_limits_t *lim, cd_spec_t *sp, const pn_val_t *v, size_t idx,
                 const char *field, void *item)
{
    cd_nic_t *nic = item;
    char f[96];
    char sh[72];
    const char *s;
    int r;

    if ((r = s_sub_str(c, v, field, "ifname", true, f, sizeof f, &s)))
        return r;
    if (pn_ifname_index(s) < 0)
        return s_fail(c, -EINVAL, f, "'%s' is not an interface name (eth0..eth31)",
                      s_show(s, strlen(s), sh));
    snprintf(nic->ifname, sizeof nic->ifname, "%s", s);

    if ((r = s_sub_str(c, v, field, "mac", true, f, sizeof f, &s)))
        return r;
    if (!pn_mac_parse(s, nic->mac))
        return s_fail(c, -EINVAL, f, "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
                      s_show(s, strlen(s), sh));
    if (nic->mac[0] & 1)
        return s_fail(c, -EINVAL, f, "'%s' is a multicast MAC address; a NIC needs a unicast one", s);
    static const uint8_t zero[6];
    if (!memcmp(nic->mac, zero, 6))
        return s_fail(c, -EINVAL, f, "'%s' is the all-zero MAC address", s);
    pn_mac_format(nic->mac, nic->mac_text); /* lowercase */

    const pn_val_t *arr;
    snprintf(f, sizeof f, "%s.addrs", field);
    if ((r = s_items(c, v, "addrs", f, lim->max_addrs, "addresses", sizeof *nic->addrs, &arr,
                     (void **)&nic->addrs)))
        return r;
    if (arr) {
        for (size_t i = 0; i < arr->a.n; i++) {
            snprintf(f, sizeof f, "%s.addrs[%zu]", field, i);
            const pn_val_t *e = arr->a.v[i];
            if (e->type != PN_STR)
                return s_fail(c, -EINVAL, f, "must be a string ADDRESS/PREFIX");
            pn_addr_t *a = &nic->addrs[nic->naddrs];
            if ((r = s_addr(c, e->s.p, true, f, a)))
                return r;
            if (a->prefix == 0)
                return s_fail(c, -EINVAL, f, "'%s' has prefix length 0; an interface address needs 1..%u",
                              a->text, a->family == AF_INET ? 32 : 128);
            nic->naddrs++;
        }
    }

    snprintf(f, sizeof f, "%s.routes", field);
    if ((r = s_items(c, v, "routes", f, lim->max_routes, "routes", sizeof *nic->routes, &arr,
                     (void **)&nic->routes)))
        return r;
    if (arr) {
        for (size_t i = 0; i < arr->a.n; i++) {
            const pn_val_t *e = arr->a.v[i];
            cd_route_t *rt = &nic->routes[nic->nroutes];
            char rf[96];
            snprintf(rf, sizeof rf, "%s.routes[%zu]", field, i);
            if (e->type != PN_MAP)
                return s_fail(c, -EINVAL, rf, "must be a map {dst, via}");
            const char *via;
            if ((r = s_sub_str(c, e, rf, "via", false, f, sizeof f, &via)))
                return r;
            if (via) {
                if ((r = s_addr(c, via, false, f, &rt->via)))
                    return r;
                rt->has_via = true;
            }
            if ((r = s_sub_str(c, e, rf, "dst", true, f, sizeof f, &s)))
                return r;
            if (!strcmp(s, "default")) {
                if (!rt->has_via)
                    return s_fail(c, -EINVAL, f, "a default route needs a gateway in 'via'");
                rt->is_default = true;
                rt->dst.family = rt->via.family;
                snprintf(rt->dst.text, sizeof rt->dst.text, "default");
            } else {
                if ((r = s_addr(c, s, true, f, &rt->dst)))
                    return r;
                if (!pn_addr_is_network(&rt->dst)) {
                    char net[PN_ADDR_MAX];
                    pn_addr_network(&rt->dst, net, sizeof net);
                    return s_fail(c, -EINVAL, f, "'%s' has host bits set (did you mean %s?)",
                                  rt->dst.text, net);
                }
                if (rt->dst.prefix == 0) {
                    rt->is_default = true;
                    if (!rt->has_via)
                        return s_fail(c, -EINVAL, f, "a default route needs a gateway in 'via'");
                }
            }
            if (rt->has_via && rt->via.family != rt->dst.family) {
                snprintf(f, sizeof f, "%s.via", rf);
                return s_fail(c, -EINVAL, f, "'%s' is not of the same address family as dst '%s'",
                              rt->via.text, rt->dst.text);
            }
            nic->nroutes++;
        }
    }

    if ((r = s_sub_str(c, v, field, "gateway", false, f, sizeof f, &s)))
        return r;
    if (s) {
        if ((r = s_addr(c, s, false, f, &nic->gateway)))
            return r;
        nic->has_gateway = true;
    }
    return 0;
}

/* Cross-NIC rules: names and MACs unique, an address on one NIC only,
 * at most one default route per family. */
static int s_nics_check(ctx_t *c, cd_spec_t *sp)
{
    char dflt_owner[2][96] = { "", "" };
    char f[96];
    for (size_t i = 0; i < sp->nnics; i++) {
        cd_nic_t *a = &sp->nics[i];
        for (size_t j = 0; j < i; j++) {
            cd_nic_t *b = &sp->nics[j];
            snprintf(f, sizeof f, "nics[%zu].ifname", i);
            if (!strcmp(a->ifname, b->ifname))
                return s_fail(c, -EINVAL, f, "'%s' is also nics[%zu]; interface names must be unique",
                              a->ifname, j);
            snprintf(f, sizeof f, "nics[%zu].mac", i);
            if (!memcmp(a->mac, b->mac, 6))
                return s_fail(c, -EINVAL, f, "%s is also the MAC of nics[%zu] (%s); MACs must be unique",
                              a->mac_text, j, b->ifname);
        }
        for (size_t k = 0; k < a->naddrs; k++) {
            for (size_t j = 0; j <= i; j++) {
                cd_nic_t *b = &sp->nics[j];
                for (size_t m = 0; m < (j == i ? k : b->naddrs); m++) {
                    if (b->addrs[m].family == a->addrs[k].family &&
                        !memcmp(b->addrs[m].addr, a->addrs[k].addr, 16)) {
                        snprintf(f, sizeof f, "nics[%zu].addrs[%zu]", i, k);
                        return s_fail(c, -EINVAL, f, "%s is already nics[%zu].addrs[%zu]",
                                      a->addrs[k].text, j, m);
                    }
                }
            }
        }
        for (size_t k = 0; k <= a->nroutes; k++) {
            const pn_addr_t *gw;
            if (k < a->nroutes) {
                if (!a->routes[k].is_default)
                    continue;
                gw = &a->routes[k].via;
                snprintf(f, sizeof f, "nics[%zu].routes[%zu]", i, k);
            } else {
                if (!a->has_gateway)
                    continue;
                gw = &a->gateway;
                snprintf(f, sizeof f, "nics[%zu].gateway", i);
            }
            int fi = gw->family == AF_INET ? 0 : 1;
            if (dflt_owner[fi][0])
                return s_fail(c, -EINVAL, f, "a default %s route is already set by %s; only one is allowed",
                              fi ? "IPv6" : "IPv4", dflt_owner[fi]);
            snprintf(dflt_owner[fi], sizeof dflt_owner[fi], "%s", f);
        }
    }
    return 0;
}

static void s_nic_free(void *item)
{
    cd_nic_t *nic = item;
    free(nic->addrs);
    free(nic->routes);
}

static int s_key(ctx_t *c, const cd_limits_t *lim, cd_spec_t *sp, const pn_val_t *e, size_t i,
                 const char *f, void *item)
{
    char **key = item;
    char sh[72];
    const char *why;
    /* Tolerate the trailing newline of a key read from a .pub file. */
    size_t len = e->s.len;
    while (len && (e->s.p[len - 1] == '\n' || e->s.p[len - 1] == '\r'))
        len--;
    if (!cd_key_valid(e->s.p, len, &why))
        return s_fail(c, -EINVAL, f, "'%s' %s", s_show(e->s.p, len, sh), why);
    *key = strndup(e->s.p, len);
    if (!*key)
        return s_fail(c, -ENOMEM, f, "out of memory");
    sp->total_bytes += len + 1;
    return 0;
}

static void s_key_free(void *item)
{
    free(*(char **)item);
}

static int s_host(ctx_t *c, const cd_limits_t *lim, cd_spec_t *sp, const pn_val_t *e, size_t i,
                  const char *field, void *item)
{
    cd_host_t *h = item;
    char f[64];
    char sh[72];
    const char *s;
    int r;
    if ((r = s_sub_str(c, e, field, "ip", true, f, sizeof f, &s)))
        return r;
    if ((r = s_addr(c, s, false, f, &h->ip)))
        return r;
    const pn_val_t *names;
    snprintf(f, sizeof f, "%s.names", field);
    if ((r = s_items(c, e, "names", f, lim->max_names, "names", sizeof *h->names, &names,
                     (void **)&h->names)))
        return r;
    if (!names || names->a.n == 0)
        return s_fail(c, -EINVAL, f, "needs at least one host name");
    for (size_t j = 0; j < names->a.n; j++) {
        const pn_val_t *n = names->a.v[j];
        snprintf(f, sizeof f, "%s.names[%zu]", field, j);
        if (n->type != PN_STR)
            return s_fail(c, -EINVAL, f, "must be a string");
        if (strlen(n->s.p) != n->s.len || !cd_hostname_valid(n->s.p))
            return s_fail(c, -EINVAL, f, "'%s' is not a valid host name (RFC 1123)",
                          s_show(n->s.p, n->s.len, sh));
        h->names[j] = strdup(n->s.p);
        if (!h->names[j])
            return s_fail(c, -ENOMEM, f, "out of memory");
        h->nnames++;
    }
    return 0;
}

static void s_host_free(void *item)
{
    cd_host_t *h = item;
    for (size_t j = 0; j < h->nnames; j++)
        free(h->names[j]);
    free(h->names);
}

/* bin or str content (present: not absent), copied into *data, counted
 * against the spec's size cap. */
static int s_content(ctx_t *c, const cd_limits_t *lim, cd_spec_t *sp, const pn_val_t *map, const char *key,
                     const char *field, bool req, uint8_t **data, size_t *len, bool *present)
{
    pn_val_t *v = pn_get(map, key);
    *data = NULL;
    *len = 0;
    *present = false;
    if (!v || v->type == PN_NIL)
        return req ? s_fail(c, -EINVAL, field, "missing") : 0;
    if (v->type != PN_STR && v->type != PN_BIN)
        return s_fail(c, -EINVAL, field, "must be a string or binary");
    if (v->s.len > lim->max_bytes - sp->total_bytes)
        return s_fail(c, -E2BIG, field, "takes the spec over its size cap of %zu bytes", lim->max_bytes);
    *data = malloc(v->s.len ? v->s.len : 1);
    if (!*data)
        return s_fail(c, -ENOMEM, field, "out of memory");
    memcpy(*data, v->s.p, v->s.len);
    *len = v->s.len;
    *present = true;
    sp->total_bytes += v->s.len;
    return 0;
}

static int s_mode(ctx_t *c, const pn_val_t *e, const char *field, unsigned *mode)
{
    pn_val_t *v = pn_get(e, "mode");
    *mode = 0644;
    if (!v || v->type == PN_NIL)
        return 0;
    uint64_t m;
    if (v->type == PN_UINT) {
        m = v->u;
    } else if (v->type == PN_STR) {
        const char *s = v->s.p;
        size_t n = v->s.len;
        if (n == 0 || n > 5 || strlen(s) != n)
            return s_fail(c, -EINVAL, field, "must be an octal mode such as \"0644\"");
        m = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '7')
                return s_fail(c, -EINVAL, field, "'%s' is not an octal mode such as \"0644\"", s);
            m = m * 8 + (uint64_t)(s[i] - '0');
        }
    } else {
        return s_fail(c, -EINVAL, field, "must be a number (e.g. 420 for 0644) or an octal string");
    }
    if (m > 07777)
        return s_fail(c, -EINVAL, field, "0%llo is not a file mode (0..07777)", (unsigned long long)m);
    *mode = (unsigned)m;
    return 0;
}

static int s_file(ctx_t *c, const cd_limits_t *lim, cd_spec_t *sp, const pn_val_t *e, size_t i,
                  const char *field, void *item)
{
    cd_file_t *fl = item;
    char f[64];
    char sh[72];
    const char *s, *why;
    int r;
    if ((r = s_sub_str(c, e, field, "path", true, f, sizeof f, &s)))
        return r;
    if (!cd_path_valid(s, strlen(s), &why))
        return s_fail(c, -EINVAL, f, "'%s' %s", s_show(s, strlen(s), sh), why);
    fl->path = strdup(s);
    if (!fl->path)
        return s_fail(c, -ENOMEM, f, "out of memory");
    s_show(s, strlen(s), sh);
    for (size_t j = 0; j < i; j++) {
        char sh2[72];
        const char *o = sp->files[j].path;
        size_t lo = strlen(o), ln = strlen(s);
        if (!strcmp(o, s))
            return s_fail(c, -EINVAL, f, "'%s' is also files[%zu].path", sh, j);
        if ((lo < ln && !strncmp(o, s, lo) && s[lo] == '/') ||
            (ln < lo && !strncmp(o, s, ln) && o[ln] == '/'))
            return s_fail(c, -EINVAL, f, "'%s' and files[%zu].path '%s' cannot both be files "
                          "(one is a directory of the other)", sh, j, s_show(o, lo, sh2));
    }
    snprintf(f, sizeof f, "%s.content", field);
    bool present;
    if ((r = s_content(c, lim, sp, e, "content", f, true, &fl->data, &fl->len, &present)))
        return r;
    snprintf(f, sizeof f, "%s.mode", field);
    if ((r = s_mode(c, e, f, &fl->mode)))
        return r;
    return 0;
}

static void s_file_free(void *item)
{
    cd_file_t *fl = item;
    free(fl->path);
    free(fl->data);
}

/* The spec's arrays of items, parsed and freed the same way. */
typedef struct {
    const char *key;       /* the array's key and field name */
    const char *what;      /* its items, for the too-many message */
    size_t max_off;        /* offset of its cap in cd_limits_t */
    size_t items_off;      /* offset of its array in cd_spec_t */
    size_t count_off;      /* offset of its count in cd_spec_t */
    size_t size;           /* of one item */
    pn_type_t type;        /* of each item's value */
    const char *type_msg;  /* when an item's value is not of it */
    int (*parse)(ctx_t *c, const cd_limits_t *lim, cd_spec_t *sp, const pn_val_t *e, size_t i,
                 const char *field, void *item);
    int (*check)(ctx_t *c, cd_spec_t *sp); /* across the items; NULL: none */
    void (*free)(void *item);
} section_t;

#define SECTION(k, what, max, arr, count, type, msg, parse, check, free)                              \
    { k, what, offsetof(cd_limits_t, max), offsetof(cd_spec_t, arr), offsetof(cd_spec_t, count),     \
      sizeof *((cd_spec_t *)0)->arr, type, msg, parse, check, free }

static const section_t s_sections[] = {
    SECTION("nics", "NICs", max_nics, nics, nnics, PN_MAP,
            "must be a map {ifname, mac, addrs, routes, gateway}", s_nic, s_nics_check, s_nic_free),
    SECTION("keys", "keys", max_keys, keys, nkeys, PN_STR,
            "must be a string (one authorized_keys line)", s_key, NULL, s_key_free),
    SECTION("hosts", "entries", max_hosts, hosts, nhosts, PN_MAP,
            "must be a map {ip, names}", s_host, NULL, s_host_free),
    SECTION("files", "files", max_files, files, nfiles, PN_MAP,
            "must be a map {path, content, mode}", s_file, NULL, s_file_free),
};

/* The array of section sec in args, if present: every item counted in
 * before it is parsed, so that cd_spec_destroy frees a half-parsed one. */
static int s_section(ctx_t *c, const cd_limits_t *lim, const section_t *sec, const pn_val_t *args,
                     cd_spec_t *sp)
{
    void **items = (void **)((char *)sp + sec->items_off);
    size_t *count = (size_t *)((char *)sp + sec->count_off);
    size_t max = *(const size_t *)((const char *)lim + sec->max_off);
    const pn_val_t *arr;
    int r;
    if ((r = s_items(c, args, sec->key, sec->key, max, sec->what, sec->size, &arr, items)) || !arr)
        return r;
    for (size_t i = 0; i < arr->a.n; i++) {
        char f[32];
        const pn_val_t *e = arr->a.v[i];
        (*count)++;
        snprintf(f, sizeof f, "%s[%zu]", sec->key, i);
        if (e->type != sec->type)
            return s_fail(c, -EINVAL, f, "%s", sec->type_msg);
        if ((r = sec->parse(c, lim, sp, e, i, f, (char *)*items + i * sec->size)))
            return r;
    }
    return sec->check ? sec->check(c, sp) : 0;
}

/* --------------------------------------------------------------- parse */

int cd_spec_parse(const pn_val_t *args, const cd_limits_t *lim, cd_spec_t **out, char *err,
                  size_t errlen)
{
    ctx_t c = { err, errlen, 0 };
    char sh[72];
    const char *s;
    int r;
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!lim)
        lim = &cd_default_limits;
    if (!args || args->type != PN_MAP)
        return s_fail(&c, -EINVAL, "args", "must be a map");
    cd_spec_t *sp = calloc(1, sizeof *sp);
    if (!sp)
        return s_fail(&c, -ENOMEM, "args", "out of memory");

    if ((r = s_str(&c, args, "name", "name", true, &s)))
        goto fail;
    if (!pn_name_valid(s)) {
        r = s_fail(&c, -EINVAL, "name", "'%s' is not a node name (a lowercase letter, then up to 14 "
                   "of a-z 0-9 -)", s_show(s, strlen(s), sh));
        goto fail;
    }
    snprintf(sp->name, sizeof sp->name, "%s", s);

    if ((r = s_str(&c, args, "hostname", "hostname", false, &s)))
        goto fail;
    if (s && !cd_hostname_valid(s)) {
        r = s_fail(&c, -EINVAL, "hostname", "'%s' is not a valid host name (RFC 1123: labels of "
                   "a-z A-Z 0-9 -, 1..63 bytes, not starting or ending with -)", s_show(s, strlen(s), sh));
        goto fail;
    }
    snprintf(sp->hostname, sizeof sp->hostname, "%s", s ? s : sp->name);

    pn_val_t *num = pn_get(args, "number");
    if (!num || num->type == PN_NIL) {
        r = s_fail(&c, -EINVAL, "number", "missing");
        goto fail;
    }
    if (num->type != PN_UINT) {
        r = s_fail(&c, -EINVAL, "number", "must be a node number 1..25599");
        goto fail;
    }
    if (num->u < 1 || num->u > 25599) {
        r = s_fail(&c, -EINVAL, "number", "%llu is out of range for a node number (1..25599)",
                   (unsigned long long)num->u);
        goto fail;
    }
    sp->number = (unsigned)num->u;

    if ((r = s_str(&c, args, "format", "format", false, &s)))
        goto fail;
    if (!s || !strcmp(s, "plugnet")) {
        sp->format = CD_FMT_PLUGNET;
    } else if (!strcmp(s, "cidata")) {
        sp->format = CD_FMT_CIDATA;
    } else {
        r = s_fail(&c, -EINVAL, "format", "'%s' is not a disk format (plugnet or cidata)",
                   s_show(s, strlen(s), sh));
        goto fail;
    }

    if ((r = s_str(&c, args, "mgmt_ip", "mgmt_ip", false, &s)))
        goto fail;
    if (s) {
        if ((r = s_addr(&c, s, true, "mgmt_ip", &sp->mgmt)))
            goto fail;
        sp->has_mgmt = true;
    }

    for (size_t i = 0; i < sizeof s_sections / sizeof *s_sections; i++)
        if ((r = s_section(&c, lim, &s_sections[i], args, sp)))
            goto fail;

    if ((r = s_content(&c, lim, sp, args, "script", "script", false, &sp->script, &sp->script_len,
                       &sp->has_script)))
        goto fail;
    if (sp->total_bytes > lim->max_bytes) {
        r = s_fail(&c, -E2BIG, "args", "the spec is %zu bytes, over the cap of %zu",
                   sp->total_bytes, lim->max_bytes);
        goto fail;
    }
    *out = sp;
    return 0;
fail:
    cd_spec_destroy(&sp);
    return r;
}

void cd_spec_destroy(cd_spec_t **spec_p)
{
    if (!spec_p || !*spec_p)
        return;
    cd_spec_t *sp = *spec_p;
    for (size_t i = 0; i < sizeof s_sections / sizeof *s_sections; i++) {
        const section_t *sec = &s_sections[i];
        char *items = *(char **)((char *)sp + sec->items_off);
        size_t count = *(const size_t *)((const char *)sp + sec->count_off);
        for (size_t j = 0; j < count; j++)
            sec->free(items + j * sec->size);
        free(items);
    }
    free(sp->script);
    free(sp);
    *spec_p = NULL;
}
