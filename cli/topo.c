/* topo: containerlab-shaped topology files, parsed with libyaml's document
 * API and resolved into nodes, NICs and LANs (see topo.h).
 *
 * The parser keeps the first error only: one precise message is worth more
 * than a cascade that follows from it.  Positions come from the yaml marks
 * of the node that is wrong (the value, or the key when the value is
 * missing), so the message points where the user has to look.
 */
#include "topo.h"

/* Key paths in messages are cut at a few hundred bytes, on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ------------------------------------------------------------ kinds */

static const struct {
    const char *name;
    topo_kind_t kind;
} s_kinds[] = {
    { "uml", TOPO_UML },   { "qemu", TOPO_QEMU },         { "ns", TOPO_NS },
    { "bridge", TOPO_BRIDGE }, { "linux", TOPO_NS }, { "generic_vm", TOPO_QEMU },
};

const char *topo_kind_name(topo_kind_t k)
{
    switch (k) {
    case TOPO_UML: return "uml";
    case TOPO_QEMU: return "qemu";
    case TOPO_NS: return "ns";
    case TOPO_BRIDGE: return "bridge";
    }
    return "?";
}

int topo_kind_parse(const char *s)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s && strcmp(s, s_kinds[i].name) == 0)
            return (int)s_kinds[i].kind;
    return -1;
}

/* Node keys that containerlab knows and plugnet does not use: a warning
 * that says so is more helpful than "unknown key". */
static const char *const s_clab_node_keys[] = {
    "binds", "ports", "labels", "group", "type", "license", "startup-config",
    "startup-delay", "enforce-startup-config", "suppress-startup-config", "entrypoint",
    "user", "network-mode", "mgmt-ipv6", "publish", "sysctls", "extras", "wait-for",
    "dns", "certificate", "healthcheck", "image-pull-policy", "runtime", "cpu-set",
    "shm-size", "devices", "cap-add", "stages", "aliases", "env-files", "memory-reservation",
    "restart-policy", "auto-remove", "config", "components", "exec-timeout", NULL,
};

static bool s_in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* -------------------------------------------------------- validators */

bool topo_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 15 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static int s_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool topo_mac_valid(const char *s, char out[18])
{
    uint8_t b[6];
    if (!s || strlen(s) != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        int h = s_hexval(s[3 * i]), l = s_hexval(s[3 * i + 1]);
        if (h < 0 || l < 0 || (i < 5 && s[3 * i + 2] != ':'))
            return false;
        b[i] = (uint8_t)(h << 4 | l);
    }
    if (out)
        snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return true;
}

bool topo_ipv4_valid(const char *s, bool need_prefix)
{
    char buf[32];
    struct in_addr a;
    if (!s || strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = 0;
        char *end;
        const char *p = slash + 1;
        if (!isdigit((unsigned char)*p))
            return false;
        long pl = strtol(p, &end, 10);
        if (*end || pl < 0 || pl > 32 || end - p > 2)
            return false;
    } else if (need_prefix) {
        return false;
    }
    return inet_pton(AF_INET, buf, &a) == 1;
}

static bool s_env_name_valid(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

/* A bridge's side of a link: containerlab wants a host interface name there;
 * plugnet's LANs have no named ports, so any short label will do. */
static bool s_port_label_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 15)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* "eth1".."eth31" -> 1..31; 0 for eth0; -1 otherwise. */
static int s_ifindex(const char *s)
{
    if (strncmp(s, "eth", 3) != 0 || !isdigit((unsigned char)s[3]))
        return -1;
    if (s[3] == '0' && s[4])
        return -1;
    char *end;
    long v = strtol(s + 3, &end, 10);
    if (*end || v < 0 || v > TOPO_NIC_MAX)
        return -1;
    return (int)v;
}

/* "512", "512M", "512MiB", "1GB", "1.5 GiB", "262144KiB" -> MiB. */
static bool s_parse_mem(const char *s, uint64_t *mb)
{
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (errno || end == p)
        return false;
    while (*end == ' ')
        end++;
    char unit[8] = "";
    size_t n = strlen(end);
    while (n && end[n - 1] == ' ')
        n--;
    if (n >= sizeof unit)
        return false;
    for (size_t i = 0; i < n; i++)
        unit[i] = (char)tolower((unsigned char)end[i]);
    unit[n] = 0;
    double mult;
    if (!*unit || !strcmp(unit, "m") || !strcmp(unit, "mb") || !strcmp(unit, "mib"))
        mult = 1;
    else if (!strcmp(unit, "g") || !strcmp(unit, "gb") || !strcmp(unit, "gib"))
        mult = 1024;
    else if (!strcmp(unit, "k") || !strcmp(unit, "kb") || !strcmp(unit, "kib"))
        mult = 1.0 / 1024;
    else if (!strcmp(unit, "t") || !strcmp(unit, "tb") || !strcmp(unit, "tib"))
        mult = 1024.0 * 1024;
    else if (!strcmp(unit, "b"))
        mult = 1.0 / (1024 * 1024);
    else
        return false;
    double r = v * mult;
    if (r > 1e12)
        r = 1e12;
    *mb = (uint64_t)r;
    return true;
}

/* ---------------------------------------------------------- context */

typedef struct {
    yaml_node_t *k, *v;
} pair_t;

typedef struct {
    char name[16];
    topo_pos_t pos;
    int parent; /* union-find over bridges linked to each other */
    int order;
} bridge_t;

typedef struct {
    yaml_document_t doc;
    bool have_doc;
    const char *fname;
    char *err;
    size_t errlen;
    bool failed;
    topo_t *t;
    bridge_t *bridges;
    size_t n_bridges;
} ctx_t;

static topo_pos_t s_pos(const yaml_node_t *n)
{
    topo_pos_t p = { 0, 0 };
    if (n) {
        p.line = (int)n->start_mark.line + 1;
        p.col = (int)n->start_mark.column + 1;
    }
    return p;
}

static int s_failp(ctx_t *c, topo_pos_t p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_failp(ctx_t *c, topo_pos_t p, const char *path, const char *fmt, ...)
{
    if (!c->failed && c->err && c->errlen) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (path && *path)
            snprintf(c->err, c->errlen, "%s:%d:%d: %s: %s", c->fname, p.line, p.col, path, msg);
        else
            snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->fname, p.line, p.col, msg);
    }
    c->failed = true;
    return -EINVAL;
}
#define s_fail(c, n, path, ...) s_failp((c), s_pos(n), (path), __VA_ARGS__)

static void s_warn(ctx_t *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_warn(ctx_t *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char msg[512], *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    topo_pos_t p = s_pos(n);
    if (asprintf(&line, "%s:%d:%d: %s: %s", c->fname, p.line, p.col, path, msg) < 0)
        return;
    char **w = realloc(c->t->warnings, (c->t->n_warnings + 1) * sizeof *w);
    if (!w) {
        free(line);
        return;
    }
    c->t->warnings = w;
    w[c->t->n_warnings++] = line;
}

static yaml_node_t *s_node(ctx_t *c, int id)
{
    return yaml_document_get_node(&c->doc, id);
}

static const char *s_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* An empty plain scalar, "~" or "null": "h1:" with nothing after it. */
static bool s_is_null(const yaml_node_t *n)
{
    const char *s = s_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

static const char *s_type_name(const yaml_node_t *n)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case YAML_SCALAR_NODE: return s_is_null(n) ? "nothing" : "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* A string value: any non-null scalar. */
static int s_str(ctx_t *c, yaml_node_t *n, const char *path, const char **out)
{
    if (!n || n->type != YAML_SCALAR_NODE || s_is_null(n))
        return s_fail(c, n, path, "expected a string, found %s", s_type_name(n));
    *out = s_scalar(n);
    return 0;
}

/* The key/value pairs of a mapping, with YAML merge keys ("<<: *base")
 * flattened in first so the mapping's own keys override them.  Duplicate
 * keys are an error: YAML forbids them and a silent "last one wins" hides
 * typos in node lists. */
static int s_pairs_rec(ctx_t *c, yaml_node_t *map, const char *path, pair_t **out, size_t *n,
                       size_t *cap, int depth)
{
    if (depth > 8)
        return s_fail(c, map, path, "merge keys nested too deeply");
    if (!map || s_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return s_fail(c, map, path, "expected a mapping, found %s", s_type_name(map));
    /* Merged mappings first, so the mapping's own keys come after them. */
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = s_node(c, p->key), *v = s_node(c, p->value);
        const char *ks = s_scalar(k);
        if (!ks)
            return s_fail(c, k, path, "keys must be strings, found %s", s_type_name(k));
        if (strcmp(ks, "<<") != 0 || k->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
            continue;
        if (v && v->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++)
                if (s_pairs_rec(c, s_node(c, *it), path, out, n, cap, depth + 1) < 0)
                    return -EINVAL;
        } else if (s_pairs_rec(c, v, path, out, n, cap, depth + 1) < 0) {
            return -EINVAL;
        }
    }
    size_t own_start = *n;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = s_node(c, p->key), *v = s_node(c, p->value);
        const char *ks = s_scalar(k);
        if (!strcmp(ks, "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            continue;
        for (size_t i = own_start; i < *n; i++)
            if (!strcmp(s_scalar((*out)[i].k), ks))
                return s_fail(c, k, path, "duplicate key '%s' (first at line %d)", ks,
                              s_pos((*out)[i].k).line);
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            pair_t *np = realloc(*out, nc * sizeof *np);
            if (!np)
                return s_fail(c, k, path, "out of memory");
            *out = np;
            *cap = nc;
        }
        (*out)[(*n)++] = (pair_t){ k, v };
    }
    return 0;
}

static int s_pairs(ctx_t *c, yaml_node_t *map, const char *path, pair_t **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (s_pairs_rec(c, map, path, out, n, &cap, 0) < 0) {
        free(*out);
        *out = NULL;
        return -EINVAL;
    }
    /* Later keys override earlier ones (own keys come after merged ones):
     * drop the earlier duplicates. */
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        bool later = false;
        for (size_t j = i + 1; j < *n; j++)
            if (!strcmp(s_scalar((*out)[i].k), s_scalar((*out)[j].k)))
                later = true;
        if (!later)
            (*out)[w++] = (*out)[i];
    }
    *n = w;
    return 0;
}

static yaml_node_t *s_lookup(pair_t *pairs, size_t n, const char *key, yaml_node_t **keynode)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s_scalar(pairs[i].k), key)) {
            if (keynode)
                *keynode = pairs[i].k;
            return pairs[i].v;
        }
    return NULL;
}

/* ------------------------------------------------------------ nodes */

void topo_node_clear(topo_node_t *n)
{
    free(n->image);
    free(n->cmd);
    for (size_t i = 0; i < n->n_exec; i++)
        free(n->exec[i].text);
    free(n->exec);
    for (size_t i = 0; i < n->n_env; i++) {
        free(n->env[i].key);
        free(n->env[i].val);
    }
    free(n->env);
    free(n->nics);
    memset(n, 0, sizeof *n);
}

static char *s_dup(const char *s, bool *fail)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *fail = true;
    return d;
}

int topo_node_copy(topo_node_t *dst, const topo_node_t *src)
{
    bool fail = false;
    *dst = *src;
    dst->image = s_dup(src->image, &fail);
    dst->cmd = s_dup(src->cmd, &fail);
    dst->exec = NULL;
    dst->env = NULL;
    dst->nics = NULL;
    dst->n_exec = dst->n_env = dst->n_nics = 0;
    if (src->n_exec && (dst->exec = calloc(src->n_exec, sizeof *dst->exec))) {
        dst->n_exec = src->n_exec;
        for (size_t i = 0; i < src->n_exec; i++) {
            dst->exec[i].text = s_dup(src->exec[i].text, &fail);
            dst->exec[i].line = src->exec[i].line;
        }
    } else if (src->n_exec) {
        fail = true;
    }
    if (src->n_env && (dst->env = calloc(src->n_env, sizeof *dst->env))) {
        dst->n_env = src->n_env;
        for (size_t i = 0; i < src->n_env; i++) {
            dst->env[i].key = s_dup(src->env[i].key, &fail);
            dst->env[i].val = s_dup(src->env[i].val, &fail);
        }
    } else if (src->n_env) {
        fail = true;
    }
    if (src->n_nics && (dst->nics = malloc(src->n_nics * sizeof *dst->nics))) {
        memcpy(dst->nics, src->nics, src->n_nics * sizeof *dst->nics);
        dst->n_nics = src->n_nics;
    } else if (src->n_nics) {
        fail = true;
    }
    if (fail) {
        topo_node_clear(dst);
        return -ENOMEM;
    }
    return 0;
}

static int s_set_env(topo_node_t *nd, const char *k, const char *v)
{
    for (size_t i = 0; i < nd->n_env; i++)
        if (!strcmp(nd->env[i].key, k)) {
            char *nv = strdup(v);
            if (!nv)
                return -ENOMEM;
            free(nd->env[i].val);
            nd->env[i].val = nv;
            return 0;
        }
    topo_kv_t *e = realloc(nd->env, (nd->n_env + 1) * sizeof *e);
    if (!e)
        return -ENOMEM;
    nd->env = e;
    e[nd->n_env].key = strdup(k);
    e[nd->n_env].val = strdup(v);
    if (!e[nd->n_env].key || !e[nd->n_env].val) {
        free(e[nd->n_env].key);
        free(e[nd->n_env].val);
        return -ENOMEM;
    }
    nd->n_env++;
    return 0;
}

enum { LVL_DEFAULTS, LVL_KINDS, LVL_NODE };

/* Apply one level of properties (defaults, kinds.<kind> or the node's own)
 * onto nd: later levels override earlier ones; env merges key by key. */
static int s_props(ctx_t *c, yaml_node_t *map, const char *path, topo_node_t *nd, int lvl)
{
    pair_t *pairs;
    size_t np;
    char kp[256];
    if (s_pairs(c, map, path, &pairs, &np) < 0)
        return -EINVAL;
    int r = 0;
    for (size_t i = 0; i < np && r == 0; i++) {
        const char *key = s_scalar(pairs[i].k);
        yaml_node_t *v = pairs[i].v;
        const char *s = NULL;
        snprintf(kp, sizeof kp, "%s.%s", path, key);
        if (!strcmp(key, "kind")) {
            continue; /* resolved before the levels are applied */
        } else if (!strcmp(key, "image")) {
            if ((r = s_str(c, v, kp, &s)) < 0)
                break;
            char *d = strdup(s);
            if (!d)
                r = s_fail(c, v, kp, "out of memory");
            free(nd->image);
            nd->image = d;
        } else if (!strcmp(key, "memory")) {
            uint64_t mb = 0;
            if ((r = s_str(c, v, kp, &s)) < 0)
                break;
            if (!s_parse_mem(s, &mb))
                r = s_fail(c, v, kp, "'%s' is not a memory size (say 256MiB or 1GiB)", s);
            else if (mb < TOPO_MEM_MIN_MB)
                r = s_fail(c, v, kp, "'%s' is too little memory (at least %u MiB)", s,
                           TOPO_MEM_MIN_MB);
            else if (mb > TOPO_MEM_MAX_MB)
                r = s_fail(c, v, kp, "'%s' is too much memory (at most %u MiB)", s,
                           TOPO_MEM_MAX_MB);
            else
                nd->memory_mb = mb;
        } else if (!strcmp(key, "cpus") || !strcmp(key, "cpu")) {
            if ((r = s_str(c, v, kp, &s)) < 0)
                break;
            char *end;
            errno = 0;
            long n = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
            if (n < 0 || errno || *end)
                r = s_fail(c, v, kp, "'%s' is not a whole number of CPUs", s);
            else if (n < 1 || n > TOPO_CPUS_MAX)
                r = s_fail(c, v, kp, "%ld CPUs is out of range (1..%d)", n, TOPO_CPUS_MAX);
            else
                nd->cpus = (unsigned)n;
        } else if (!strcmp(key, "exec")) {
            if (!v || v->type != YAML_SEQUENCE_NODE) {
                r = s_fail(c, v, kp, "expected a list of commands, found %s", s_type_name(v));
                break;
            }
            for (size_t j = 0; j < nd->n_exec; j++)
                free(nd->exec[j].text);
            free(nd->exec);
            nd->exec = NULL;
            nd->n_exec = 0;
            size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
            if (cnt == 0)
                continue;
            nd->exec = calloc(cnt, sizeof *nd->exec);
            if (!nd->exec) {
                r = s_fail(c, v, kp, "out of memory");
                break;
            }
            for (size_t j = 0; j < cnt && r == 0; j++) {
                yaml_node_t *it = s_node(c, v->data.sequence.items.start[j]);
                char ip[300];
                snprintf(ip, sizeof ip, "%s[%zu]", kp, j);
                if ((r = s_str(c, it, ip, &s)) < 0)
                    break;
                const char *q = s;
                while (isspace((unsigned char)*q))
                    q++;
                if (!*q) {
                    r = s_fail(c, it, ip, "empty command");
                    break;
                }
                nd->exec[j].text = strdup(s);
                nd->exec[j].line = s_pos(it).line;
                nd->n_exec = j + 1;
                if (!nd->exec[j].text)
                    r = s_fail(c, it, ip, "out of memory");
            }
        } else if (!strcmp(key, "env")) {
            pair_t *ep;
            size_t ne;
            if ((r = s_pairs(c, v, kp, &ep, &ne)) < 0)
                break;
            for (size_t j = 0; j < ne && r == 0; j++) {
                const char *ek = s_scalar(ep[j].k), *ev;
                if (!ek)
                    continue;
                char ip[300];
                snprintf(ip, sizeof ip, "%s.%s", kp, ek);
                if (!s_env_name_valid(ek))
                    r = s_fail(c, ep[j].k, ip, "'%s' is not a valid variable name", ek);
                else if (ep[j].v && s_is_null(ep[j].v))
                    r = s_set_env(nd, ek, "") < 0 ? s_fail(c, ep[j].v, ip, "out of memory") : 0;
                else if ((r = s_str(c, ep[j].v, ip, &ev)) == 0 && s_set_env(nd, ek, ev) < 0)
                    r = s_fail(c, ep[j].v, ip, "out of memory");
            }
            free(ep);
        } else if (!strcmp(key, "cmd")) {
            if ((r = s_str(c, v, kp, &s)) < 0)
                break;
            char *d = strdup(s);
            if (!d)
                r = s_fail(c, v, kp, "out of memory");
            free(nd->cmd);
            nd->cmd = d;
        } else if (!strcmp(key, "mgmt-ipv4")) {
            if (lvl != LVL_NODE) {
                r = s_fail(c, pairs[i].k, kp, "a management address belongs to one node, "
                                              "not to %s", lvl == LVL_KINDS ? "a kind" : "defaults");
                break;
            }
            if ((r = s_str(c, v, kp, &s)) < 0)
                break;
            if (!topo_ipv4_valid(s, false) || strlen(s) >= sizeof nd->mgmt_ipv4)
                r = s_fail(c, v, kp, "'%s' is not an IPv4 address", s);
            else
                snprintf(nd->mgmt_ipv4, sizeof nd->mgmt_ipv4, "%s", s);
        } else if (s_in_list(s_clab_node_keys, key)) {
            s_warn(c, pairs[i].k, kp, "containerlab key not supported by plugnet, ignored");
        } else {
            s_warn(c, pairs[i].k, kp, "unknown key, ignored");
        }
    }
    free(pairs);
    return r;
}

/* The kind written in a properties mapping, validated; NULL when absent. */
static int s_kind_of(ctx_t *c, yaml_node_t *map, const char *path, const char **written,
                     yaml_node_t **at)
{
    pair_t *pairs;
    size_t np;
    *written = NULL;
    if (s_pairs(c, map, path, &pairs, &np) < 0)
        return -EINVAL;
    yaml_node_t *v = s_lookup(pairs, np, "kind", NULL);
    free(pairs);
    if (!v)
        return 0;
    char kp[256];
    snprintf(kp, sizeof kp, "%s.kind", path);
    const char *s;
    if (s_str(c, v, kp, &s) < 0)
        return -EINVAL;
    if (topo_kind_parse(s) < 0)
        return s_fail(c, v, kp, "unknown kind '%s' (uml, qemu, ns, bridge; linux = ns, "
                                "generic_vm = qemu)", s);
    *written = s;
    if (at)
        *at = v;
    return 0;
}

static int s_bridge_find(ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_bridges; i++)
        if (!strcmp(c->bridges[i].name, name))
            return (int)i;
    return -1;
}

static int s_bridge_root(ctx_t *c, int i)
{
    while (c->bridges[i].parent != i)
        i = c->bridges[i].parent = c->bridges[c->bridges[i].parent].parent;
    return i;
}

static int s_node_index(ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->t->n_nodes; i++)
        if (!strcmp(c->t->nodes[i].name, name))
            return (int)i;
    return -1;
}

static int s_nodes(ctx_t *c, yaml_node_t *nodes, yaml_node_t *defaults, yaml_node_t *kinds)
{
    pair_t *np_ = NULL, *kp_ = NULL;
    size_t nn = 0, nk = 0;
    const char *def_kind = NULL;
    int r = -EINVAL;

    if (defaults && s_kind_of(c, defaults, "topology.defaults", &def_kind, NULL) < 0)
        return -EINVAL;
    if (kinds) {
        if (s_pairs(c, kinds, "topology.kinds", &kp_, &nk) < 0)
            return -EINVAL;
        for (size_t i = 0; i < nk; i++) {
            const char *kn = s_scalar(kp_[i].k);
            char path[256];
            snprintf(path, sizeof path, "topology.kinds.%s", kn);
            if (topo_kind_parse(kn) < 0) {
                s_fail(c, kp_[i].k, path, "unknown kind '%s'", kn);
                goto out;
            }
            const char *inner;
            yaml_node_t *at = NULL;
            if (s_kind_of(c, kp_[i].v, path, &inner, &at) < 0)
                goto out;
            if (inner) {
                s_fail(c, at, path, "a kind's settings cannot change its kind");
                goto out;
            }
        }
    }
    if (!nodes) {
        r = 0;
        goto out;
    }
    if (s_pairs(c, nodes, "topology.nodes", &np_, &nn) < 0)
        goto out;
    if (nn > TOPO_MAX_NODES) {
        s_fail(c, nodes, "topology.nodes", "too many nodes (%zu, at most %d)", nn, TOPO_MAX_NODES);
        goto out;
    }
    c->t->nodes = calloc(nn ? nn : 1, sizeof *c->t->nodes);
    c->bridges = calloc(nn ? nn : 1, sizeof *c->bridges);
    if (!c->t->nodes || !c->bridges) {
        s_fail(c, nodes, "topology.nodes", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nn; i++) {
        const char *name = s_scalar(np_[i].k);
        yaml_node_t *body = np_[i].v;
        char path[256];
        snprintf(path, sizeof path, "topology.nodes.%s", name);
        if (!topo_name_valid(name)) {
            s_fail(c, np_[i].k, path, "'%s' is not a valid node name (a lower-case letter, "
                                      "then up to 14 of a-z, 0-9, '-')", name);
            goto out;
        }
        const char *written;
        yaml_node_t *kind_at = NULL;
        if (s_kind_of(c, body, path, &written, &kind_at) < 0)
            goto out;
        if (!written)
            written = def_kind;
        if (!written) {
            s_fail(c, np_[i].k, path, "node '%s' has no kind (set kind here or in "
                                      "topology.defaults)", name);
            goto out;
        }
        topo_kind_t kind = (topo_kind_t)topo_kind_parse(written);
        if (s_bridge_find(c, name) >= 0 || s_node_index(c, name) >= 0) {
            s_fail(c, np_[i].k, path, "duplicate node '%s'", name);
            goto out;
        }
        if (kind == TOPO_BRIDGE) {
            bridge_t *b = &c->bridges[c->n_bridges];
            snprintf(b->name, sizeof b->name, "%s", name);
            b->pos = s_pos(np_[i].k);
            b->parent = (int)c->n_bridges;
            b->order = (int)c->n_bridges;
            c->n_bridges++;
            /* A bridge is a LAN: nothing runs there. */
            pair_t *bp;
            size_t nb;
            if (s_pairs(c, body, path, &bp, &nb) < 0)
                goto out;
            for (size_t j = 0; j < nb; j++) {
                const char *k = s_scalar(bp[j].k);
                char kp[300];
                snprintf(kp, sizeof kp, "%s.%s", path, k);
                if (!strcmp(k, "kind"))
                    continue;
                if (!strcmp(k, "exec") || !strcmp(k, "cmd")) {
                    s_fail(c, bp[j].k, kp, "a bridge is a LAN and runs no commands");
                    free(bp);
                    goto out;
                }
                s_warn(c, bp[j].k, kp, "%s for a bridge, ignored",
                       !strcmp(k, "image") || !strcmp(k, "memory") || !strcmp(k, "cpus") ||
                               !strcmp(k, "env") || !strcmp(k, "mgmt-ipv4")
                           ? "meaningless"
                           : "unknown key");
            }
            free(bp);
            continue;
        }
        topo_node_t *nd = &c->t->nodes[c->t->n_nodes++];
        snprintf(nd->name, sizeof nd->name, "%s", name);
        nd->kind = kind;
        nd->pos = s_pos(np_[i].k);
        if (defaults && s_props(c, defaults, "topology.defaults", nd, LVL_DEFAULTS) < 0)
            goto out;
        /* kinds.<as written>, else kinds.<canonical name> */
        yaml_node_t *kb = s_lookup(kp_, nk, written, NULL);
        const char *kname = written;
        if (!kb) {
            kb = s_lookup(kp_, nk, topo_kind_name(kind), NULL);
            kname = topo_kind_name(kind);
        }
        if (kb) {
            char kpath[256];
            snprintf(kpath, sizeof kpath, "topology.kinds.%s", kname);
            if (s_props(c, kb, kpath, nd, LVL_KINDS) < 0)
                goto out;
        }
        if (s_props(c, body, path, nd, LVL_NODE) < 0)
            goto out;
        /* A namespace shares the host's memory and CPUs: limits from
         * defaults or kinds do not apply to it. */
        if (kind == TOPO_NS)
            nd->memory_mb = nd->cpus = 0;
        if (kind == TOPO_NS && nd->image)
            s_warn(c, kind_at ? kind_at : np_[i].k, path,
                   "image '%s' ignored: an ns node runs on the host's files", nd->image);
        if (kind != TOPO_NS && nd->cmd) {
            s_failp(c, nd->pos, path, "cmd is for ns nodes; a %s node runs its image "
                                     "(use exec for commands)", topo_kind_name(kind));
            goto out;
        }
    }
    r = 0;
out:
    free(np_);
    free(kp_);
    return r;
}

/* ------------------------------------------------------------ links */

typedef struct {
    char node[64];
    char iface[64];
    char mac[18];
    char ipv4[24];
    int node_idx;   /* index in t->nodes, or -1 */
    int bridge_idx; /* index in c->bridges, or -1 */
    int ifidx;
    topo_pos_t pos;      /* of the endpoint */
    topo_pos_t mac_pos, ip_pos;
} ep_t;

typedef struct {
    ep_t ep[2];
    unsigned mtu;
    topo_pos_t pos, mtu_pos;
    char path[64];
} link_t;

static int s_endpoint(ctx_t *c, yaml_node_t *n, const char *path, ep_t *e)
{
    memset(e, 0, sizeof *e);
    e->pos = s_pos(n);
    e->node_idx = e->bridge_idx = -1;
    const char *s;
    if (n && n->type == YAML_MAPPING_NODE) {
        pair_t *p;
        size_t np;
        if (s_pairs(c, n, path, &p, &np) < 0)
            return -EINVAL;
        int r = 0;
        bool have_node = false, have_if = false;
        for (size_t i = 0; i < np && r == 0; i++) {
            const char *k = s_scalar(p[i].k);
            char kp[160];
            snprintf(kp, sizeof kp, "%s.%s", path, k);
            if (!strcmp(k, "node") || !strcmp(k, "interface") || !strcmp(k, "mac") ||
                !strcmp(k, "ipv4")) {
                if ((r = s_str(c, p[i].v, kp, &s)) < 0)
                    break;
                if (!strcmp(k, "node")) {
                    snprintf(e->node, sizeof e->node, "%s", s);
                    have_node = true;
                } else if (!strcmp(k, "interface")) {
                    snprintf(e->iface, sizeof e->iface, "%s", s);
                    have_if = true;
                } else if (!strcmp(k, "mac")) {
                    if (!topo_mac_valid(s, e->mac))
                        r = s_fail(c, p[i].v, kp, "'%s' is not a MAC address (like "
                                                  "02:00:00:00:00:01)", s);
                    else if (s_hexval(e->mac[1]) & 1)
                        r = s_fail(c, p[i].v, kp, "'%s' is a multicast address: a NIC needs "
                                                  "a unicast MAC", s);
                    e->mac_pos = s_pos(p[i].v);
                } else {
                    if (topo_ipv4_valid(s, false) && !strchr(s, '/'))
                        r = s_fail(c, p[i].v, kp, "'%s' needs a prefix length (like %s/24)", s,
                                   s);
                    else if (!topo_ipv4_valid(s, true) || strlen(s) >= sizeof e->ipv4)
                        r = s_fail(c, p[i].v, kp, "'%s' is not an IPv4 address with a prefix "
                                                  "(like 10.0.0.1/24)", s);
                    else
                        snprintf(e->ipv4, sizeof e->ipv4, "%s", s);
                    e->ip_pos = s_pos(p[i].v);
                }
            } else if (!strcmp(k, "ipv6") || !strcmp(k, "vars") || !strcmp(k, "labels")) {
                s_warn(c, p[i].k, kp, "containerlab key not supported by plugnet, ignored");
            } else {
                s_warn(c, p[i].k, kp, "unknown key, ignored");
            }
        }
        free(p);
        if (r < 0)
            return r;
        if (!have_node)
            return s_fail(c, n, path, "endpoint without 'node'");
        if (!have_if)
            return s_fail(c, n, path, "endpoint without 'interface'");
    } else {
        if (s_str(c, n, path, &s) < 0)
            return -EINVAL;
        const char *colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1] || strchr(colon + 1, ':'))
            return s_fail(c, n, path, "'%s' is not an endpoint (say \"node:eth1\")", s);
        snprintf(e->node, sizeof e->node, "%.*s", (int)(colon - s), s);
        snprintf(e->iface, sizeof e->iface, "%s", colon + 1);
    }
    e->node_idx = s_node_index(c, e->node);
    e->bridge_idx = s_bridge_find(c, e->node);
    if (e->node_idx < 0 && e->bridge_idx < 0)
        return s_fail(c, n, path, "no node '%s' in topology.nodes", e->node);
    if (e->node_idx >= 0) {
        e->ifidx = s_ifindex(e->iface);
        if (e->ifidx == 0)
            return s_fail(c, n, path, "%s:eth0 is the management NIC, which plugnet wires "
                                      "itself; links start at eth1", e->node);
        if (e->ifidx < 0)
            return s_fail(c, n, path, "'%s' is not an interface name (eth1..eth%d)", e->iface,
                          TOPO_NIC_MAX);
    } else {
        if (!s_port_label_valid(e->iface))
            return s_fail(c, n, path, "'%s' is not a bridge port name", e->iface);
        if (e->mac[0])
            return s_failp(c, e->mac_pos, path, "bridge '%s' is a LAN: its side of a link has "
                                                "no MAC", e->node);
        if (e->ipv4[0])
            return s_failp(c, e->ip_pos, path, "bridge '%s' is a LAN: its side of a link has "
                                               "no address", e->node);
    }
    return 0;
}

static int s_link(ctx_t *c, yaml_node_t *n, size_t idx, link_t *l)
{
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "topology.links[%zu]", idx);
    l->pos = s_pos(n);
    pair_t *p;
    size_t np;
    if (n && n->type != YAML_MAPPING_NODE)
        return s_fail(c, n, l->path, "expected a mapping with endpoints, found %s",
                      s_type_name(n));
    if (s_pairs(c, n, l->path, &p, &np) < 0)
        return -EINVAL;
    int r = 0;
    yaml_node_t *eps = NULL, *epskey = NULL;
    for (size_t i = 0; i < np && r == 0; i++) {
        const char *k = s_scalar(p[i].k), *s;
        char kp[160];
        snprintf(kp, sizeof kp, "%s.%s", l->path, k);
        if (!strcmp(k, "endpoints")) {
            eps = p[i].v;
            epskey = p[i].k;
        } else if (!strcmp(k, "type")) {
            if ((r = s_str(c, p[i].v, kp, &s)) == 0 && strcmp(s, "veth") != 0)
                r = s_fail(c, p[i].v, kp, "link type '%s' is not supported (only veth: a "
                                          "link between two nodes or a node and a bridge)", s);
        } else if (!strcmp(k, "mtu")) {
            char *end;
            if ((r = s_str(c, p[i].v, kp, &s)) < 0)
                break;
            long m = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
            if (m < 0 || *end || m < 68 || m > 65535)
                r = s_fail(c, p[i].v, kp, "'%s' is not an MTU (68..65535)", s);
            else
                l->mtu = (unsigned)m;
            l->mtu_pos = s_pos(p[i].v);
        } else if (!strcmp(k, "endpoint")) {
            r = s_fail(c, p[i].k, kp, "single-endpoint links (host, mgmt-net, macvlan, "
                                      "dummy) are not supported");
        } else if (!strcmp(k, "vars") || !strcmp(k, "labels")) {
            s_warn(c, p[i].k, kp, "containerlab key not supported by plugnet, ignored");
        } else {
            s_warn(c, p[i].k, kp, "unknown key, ignored");
        }
    }
    free(p);
    if (r < 0)
        return r;
    char kp[160];
    snprintf(kp, sizeof kp, "%s.endpoints", l->path);
    if (!eps)
        return s_fail(c, n, l->path, "link without endpoints");
    if (eps->type != YAML_SEQUENCE_NODE)
        return s_fail(c, eps, kp, "expected a list of two endpoints, found %s", s_type_name(eps));
    size_t cnt = (size_t)(eps->data.sequence.items.top - eps->data.sequence.items.start);
    if (cnt != 2)
        return s_fail(c, epskey, kp, "a link has exactly two endpoints, found %zu (join more "
                                     "nodes with a bridge)", cnt);
    for (int i = 0; i < 2; i++) {
        char ep[200];
        snprintf(ep, sizeof ep, "%s[%d]", kp, i);
        if (s_endpoint(c, s_node(c, eps->data.sequence.items.start[i]), ep, &l->ep[i]) < 0)
            return -EINVAL;
    }
    return 0;
}

static uint32_t s_fnv1a(const char *s, uint32_t h)
{
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

static bool s_lan_taken(ctx_t *c, const char *name)
{
    if (s_bridge_find(c, name) >= 0)
        return true;
    for (size_t i = 0; i < c->t->n_lans; i++)
        if (!strcmp(c->t->lans[i].name, name))
            return true;
    return false;
}

static int s_add_nic(ctx_t *c, const link_t *l, const ep_t *e, const char *lan)
{
    topo_node_t *nd = &c->t->nodes[e->node_idx];
    topo_nic_t *n = realloc(nd->nics, (nd->n_nics + 1) * sizeof *n);
    if (!n)
        return s_failp(c, e->pos, l->path, "out of memory");
    nd->nics = n;
    n = &n[nd->n_nics++];
    memset(n, 0, sizeof *n);
    snprintf(n->ifname, sizeof n->ifname, "eth%d", e->ifidx);
    snprintf(n->lan, sizeof n->lan, "%s", lan);
    memcpy(n->mac, e->mac, sizeof n->mac);
    memcpy(n->ipv4, e->ipv4, sizeof n->ipv4);
    n->pos = e->pos;
    return 0;
}

static int s_nic_cmp(const void *a, const void *b)
{
    return s_ifindex(((const topo_nic_t *)a)->ifname) - s_ifindex(((const topo_nic_t *)b)->ifname);
}

static int s_links(ctx_t *c, yaml_node_t *links)
{
    if (links && !s_is_null(links) && links->type != YAML_SEQUENCE_NODE)
        return s_fail(c, links, "topology.links", "expected a list of links, found %s",
                      s_type_name(links));
    size_t cnt = 0;
    if (links && links->type == YAML_SEQUENCE_NODE)
        cnt = (size_t)(links->data.sequence.items.top - links->data.sequence.items.start);
    if (cnt > TOPO_MAX_LINKS)
        return s_fail(c, links, "topology.links", "too many links (%zu, at most %d)", cnt,
                      TOPO_MAX_LINKS);
    link_t *ls = calloc(cnt ? cnt : 1, sizeof *ls);
    /* Every used (node, interface): the position that took it. */
    typedef struct {
        char key[160];
        topo_pos_t pos;
    } used_t;
    used_t *used = calloc(2 * cnt + 1, sizeof *used);
    size_t n_used = 0;
    int r = -EINVAL;
    if (!ls || !used) {
        s_fail(c, links, "topology.links", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cnt; i++)
        if (s_link(c, s_node(c, links->data.sequence.items.start[i]), i, &ls[i]) < 0)
            goto out;

    /* Duplicate interfaces, in file order. */
    for (size_t i = 0; i < cnt; i++) {
        for (int j = 0; j < 2; j++) {
            ep_t *e = &ls[i].ep[j];
            if (e->bridge_idx >= 0 && !strcmp(e->iface, "any"))
                continue;
            char key[160];
            snprintf(key, sizeof key, "%s:%s", e->node, e->iface);
            for (size_t k = 0; k < n_used; k++)
                if (!strcmp(used[k].key, key)) {
                    s_failp(c, e->pos, ls[i].path, "interface %s is already linked (line %d)",
                            key, used[k].pos.line);
                    goto out;
                }
            snprintf(used[n_used].key, sizeof used[n_used].key, "%s", key);
            used[n_used++].pos = e->pos;
        }
    }

    /* Bridges linked to bridges are one LAN; a cycle would loop frames. */
    for (size_t i = 0; i < cnt; i++) {
        link_t *l = &ls[i];
        if (l->ep[0].bridge_idx < 0 || l->ep[1].bridge_idx < 0)
            continue;
        int a = s_bridge_root(c, l->ep[0].bridge_idx), b = s_bridge_root(c, l->ep[1].bridge_idx);
        if (a == b) {
            s_failp(c, l->pos, l->path, "bridges '%s' and '%s' are already connected: this "
                                        "link closes a cycle of bridges, which would loop "
                                        "frames forever", l->ep[0].node, l->ep[1].node);
            goto out;
        }
        /* The bridge declared first names the merged LAN. */
        if (c->bridges[a].order < c->bridges[b].order)
            c->bridges[b].parent = a;
        else
            c->bridges[a].parent = b;
    }

    c->t->lans = calloc(cnt + c->n_bridges + 1, sizeof *c->t->lans);
    if (!c->t->lans) {
        s_fail(c, links, "topology.links", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c->n_bridges; i++) {
        if (s_bridge_root(c, (int)i) != (int)i)
            continue;
        topo_lan_t *lan = &c->t->lans[c->t->n_lans++];
        snprintf(lan->name, sizeof lan->name, "%s", c->bridges[i].name);
        lan->bridge = true;
        lan->pos = c->bridges[i].pos;
        size_t members = 0, len = 0;
        for (size_t j = 0; j < c->n_bridges; j++)
            if (s_bridge_root(c, (int)j) == (int)i) {
                members++;
                len += strlen(c->bridges[j].name) + 1;
            }
        if (members > 1 && (lan->bridges = calloc(1, len + 1))) {
            for (size_t j = 0; j < c->n_bridges; j++)
                if (s_bridge_root(c, (int)j) == (int)i) {
                    if (*lan->bridges)
                        strcat(lan->bridges, ",");
                    strcat(lan->bridges, c->bridges[j].name);
                }
        }
    }

    for (size_t i = 0; i < cnt; i++) {
        link_t *l = &ls[i];
        ep_t *a = &l->ep[0], *b = &l->ep[1];
        if (a->bridge_idx >= 0 && b->bridge_idx >= 0)
            continue;
        if (a->bridge_idx >= 0 || b->bridge_idx >= 0) {
            ep_t *br = a->bridge_idx >= 0 ? a : b, *nd = a->bridge_idx >= 0 ? b : a;
            if (l->mtu)
                s_warn(c, NULL, l->path, "mtu of a link to a bridge ignored (line %d)",
                       l->mtu_pos.line);
            if (s_add_nic(c, l, nd, c->bridges[s_bridge_root(c, br->bridge_idx)].name) < 0)
                goto out;
            continue;
        }
        /* A point-to-point link: a two-port LAN named after its ends, in a
         * canonical order, so the same link always gets the same LAN. */
        if (strcmp(a->node, b->node) > 0 || (!strcmp(a->node, b->node) && a->ifidx > b->ifidx)) {
            ep_t *t = a;
            a = b;
            b = t;
        }
        char name[160];
        snprintf(name, sizeof name, "%se%d-%se%d", a->node, a->ifidx, b->node, b->ifidx);
        if (!topo_name_valid(name) || s_lan_taken(c, name)) {
            char key[160];
            snprintf(key, sizeof key, "%s:eth%d|%s:eth%d", a->node, a->ifidx, b->node, b->ifidx);
            snprintf(name, sizeof name, "l%08x", s_fnv1a(key, 2166136261u));
            if (s_lan_taken(c, name)) {
                s_failp(c, l->pos, l->path, "the LAN name '%s' for this link is taken", name);
                goto out;
            }
        }
        topo_lan_t *lan = &c->t->lans[c->t->n_lans++];
        snprintf(lan->name, sizeof lan->name, "%.15s", name);
        lan->mtu = l->mtu;
        lan->pos = l->pos;
        if (s_add_nic(c, l, a, name) < 0 || s_add_nic(c, l, b, name) < 0)
            goto out;
    }
    r = 0;
out:
    free(ls);
    free(used);
    return r;
}

/* Explicit MACs and addresses must be unique across the lab; the later
 * one in the file is the duplicate. */
static int s_unique(ctx_t *c)
{
    topo_t *t = c->t;
    size_t total = 0, n = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        total += t->nodes[i].n_nics;
    topo_nic_t **all = calloc(total + 1, sizeof *all);
    if (!all)
        return s_failp(c, (topo_pos_t){ 1, 1 }, "topology", "out of memory");
    for (size_t i = 0; i < t->n_nodes; i++) {
        topo_node_t *a = &t->nodes[i];
        if (a->n_nics > 1)
            qsort(a->nics, a->n_nics, sizeof *a->nics, s_nic_cmp);
        for (size_t j = 0; j < a->n_nics; j++)
            all[n++] = &a->nics[j];
    }
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        for (size_t j = i + 1; j < n && r == 0; j++) {
            topo_nic_t *x = all[i], *y = all[j];
            bool y_later = y->pos.line > x->pos.line ||
                           (y->pos.line == x->pos.line && y->pos.col > x->pos.col);
            topo_nic_t *later = y_later ? y : x, *first = y_later ? x : y;
            if (x->mac[0] && !strcmp(x->mac, y->mac))
                r = s_failp(c, later->pos, "topology.links", "MAC %s is used twice (first at "
                            "line %d)", x->mac, first->pos.line);
            if (r == 0 && x->ipv4[0] && y->ipv4[0]) {
                size_t lx = strcspn(x->ipv4, "/"), ly = strcspn(y->ipv4, "/");
                if (lx == ly && !strncmp(x->ipv4, y->ipv4, lx))
                    r = s_failp(c, later->pos, "topology.links", "address %.*s is used twice "
                                "(first at line %d)", (int)lx, x->ipv4, first->pos.line);
            }
        }
    free(all);
    for (size_t i = 0; i < t->n_nodes && r == 0; i++) {
        topo_node_t *a = &t->nodes[i];
        for (size_t k = 0; a->mgmt_ipv4[0] && k < i && r == 0; k++) {
            size_t la = strcspn(a->mgmt_ipv4, "/"), lb = strcspn(t->nodes[k].mgmt_ipv4, "/");
            if (la == lb && !strncmp(a->mgmt_ipv4, t->nodes[k].mgmt_ipv4, la)) {
                char path[64];
                snprintf(path, sizeof path, "topology.nodes.%s.mgmt-ipv4", a->name);
                r = s_failp(c, a->pos, path, "management address %.*s is also node '%s''s",
                            (int)la, a->mgmt_ipv4, t->nodes[k].name);
            }
        }
    }
    return r;
}

/* ------------------------------------------------------------ top */

static bool s_lab_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !isalnum((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static int s_parse_doc(ctx_t *c)
{
    yaml_node_t *root = yaml_document_get_root_node(&c->doc);
    if (!root)
        return s_failp(c, (topo_pos_t){ 1, 1 }, "", "empty file: a lab needs a name and "
                                                    "topology.nodes");
    if (root->type != YAML_MAPPING_NODE)
        return s_fail(c, root, "", "expected a mapping at the top (name, topology), found %s",
                      s_type_name(root));
    pair_t *top;
    size_t nt;
    if (s_pairs(c, root, "", &top, &nt) < 0)
        return -EINVAL;
    int r = -EINVAL;
    pair_t *tp = NULL;
    size_t ntp = 0;
    yaml_node_t *name = NULL, *topology = NULL;
    for (size_t i = 0; i < nt; i++) {
        const char *k = s_scalar(top[i].k);
        if (!strcmp(k, "name"))
            name = top[i].v;
        else if (!strcmp(k, "topology"))
            topology = top[i].v;
        else if (!strcmp(k, "prefix") || !strcmp(k, "mgmt") || !strcmp(k, "settings"))
            s_warn(c, top[i].k, k, "containerlab key not supported by plugnet, ignored");
        else
            s_warn(c, top[i].k, k, "unknown key, ignored");
    }
    const char *s;
    if (!name) {
        s_failp(c, s_pos(root), "name", "missing: every lab has a name");
        goto out;
    }
    if (s_str(c, name, "name", &s) < 0)
        goto out;
    if (!s_lab_name_valid(s)) {
        s_fail(c, name, "name", "'%s' is not a valid lab name (letters, digits, '-', '_', "
                                "'.'; up to 64)", s);
        goto out;
    }
    if (!(c->t->name = strdup(s)))
        goto out;
    if (!topology) {
        s_failp(c, s_pos(root), "topology", "missing: a lab needs topology.nodes");
        goto out;
    }
    if (s_pairs(c, topology, "topology", &tp, &ntp) < 0)
        goto out;
    yaml_node_t *nodes = NULL, *links = NULL, *kinds = NULL, *defaults = NULL;
    for (size_t i = 0; i < ntp; i++) {
        const char *k = s_scalar(tp[i].k);
        char kp[128];
        snprintf(kp, sizeof kp, "topology.%s", k);
        if (!strcmp(k, "nodes"))
            nodes = tp[i].v;
        else if (!strcmp(k, "links"))
            links = tp[i].v;
        else if (!strcmp(k, "kinds"))
            kinds = tp[i].v;
        else if (!strcmp(k, "defaults"))
            defaults = tp[i].v;
        else if (!strcmp(k, "groups"))
            s_warn(c, tp[i].k, kp, "containerlab key not supported by plugnet, ignored");
        else
            s_warn(c, tp[i].k, kp, "unknown key, ignored");
    }
    if (s_nodes(c, nodes, defaults, kinds) < 0 || s_links(c, links) < 0 || s_unique(c) < 0)
        goto out;
    r = 0;
out:
    free(top);
    free(tp);
    return r;
}

int topo_parse(const char *text, size_t len, const char *fname, topo_t **out, char *err,
               size_t errlen)
{
    ctx_t c = { .fname = fname ? fname : "-", .err = err, .errlen = errlen };
    yaml_parser_t parser;
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    c.t = calloc(1, sizeof *c.t);
    if (!c.t || !(c.t->file = strdup(c.fname))) {
        free(c.t);
        snprintf(err, errlen, "%s: out of memory", c.fname);
        return -ENOMEM;
    }
    if (len > TOPO_MAX_FILE) {
        s_failp(&c, (topo_pos_t){ 1, 1 }, "", "file too large (%zu bytes, at most %u)", len,
                TOPO_MAX_FILE);
        topo_destroy(&c.t);
        return -EINVAL;
    }
    if (!yaml_parser_initialize(&parser)) {
        topo_destroy(&c.t);
        snprintf(err, errlen, "%s: cannot initialise the YAML parser", c.fname);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int r;
    if (!yaml_parser_load(&parser, &c.doc)) {
        topo_pos_t p = { (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1 };
        s_failp(&c, p, "", "YAML syntax error: %s%s%s", parser.problem ? parser.problem : "?",
                parser.context ? " " : "", parser.context ? parser.context : "");
        r = -EINVAL;
    } else {
        c.have_doc = true;
        r = s_parse_doc(&c);
        if (r == 0) {
            /* A second document would be silently ignored: say so. */
            yaml_document_t d2;
            if (yaml_parser_load(&parser, &d2)) {
                yaml_node_t *r2 = yaml_document_get_root_node(&d2);
                if (r2)
                    r = s_fail(&c, r2, "", "a second YAML document: a topology file holds one lab");
                yaml_document_delete(&d2);
            } else {
                topo_pos_t p = { (int)parser.problem_mark.line + 1,
                                 (int)parser.problem_mark.column + 1 };
                r = s_failp(&c, p, "", "YAML syntax error: %s",
                            parser.problem ? parser.problem : "?");
            }
        }
        yaml_document_delete(&c.doc);
    }
    yaml_parser_delete(&parser);
    free(c.bridges);
    if (r < 0) {
        topo_destroy(&c.t);
        return r;
    }
    *out = c.t;
    return 0;
}

int topo_load(const char *path, topo_t **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: not a regular file", path);
        return -EINVAL;
    }
    if (st.st_size > TOPO_MAX_FILE) {
        close(fd);
        snprintf(err, errlen, "%s: file too large (%lld bytes, at most %u)", path,
                 (long long)st.st_size, TOPO_MAX_FILE);
        return -EFBIG;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    int r = topo_parse(buf, got, path, out, err, errlen);
    free(buf);
    return r;
}

void topo_destroy(topo_t **t_p)
{
    if (!t_p || !*t_p)
        return;
    topo_t *t = *t_p;
    for (size_t i = 0; i < t->n_nodes; i++)
        topo_node_clear(&t->nodes[i]);
    free(t->nodes);
    for (size_t i = 0; i < t->n_lans; i++)
        free(t->lans[i].bridges);
    free(t->lans);
    for (size_t i = 0; i < t->n_warnings; i++)
        free(t->warnings[i]);
    free(t->warnings);
    free(t->file);
    free(t->name);
    free(t);
    *t_p = NULL;
}

const topo_node_t *topo_node_find(const topo_t *t, const char *name)
{
    for (size_t i = 0; t && i < t->n_nodes; i++)
        if (!strcmp(t->nodes[i].name, name))
            return &t->nodes[i];
    return NULL;
}

const topo_lan_t *topo_lan_find(const topo_t *t, const char *name)
{
    for (size_t i = 0; t && i < t->n_lans; i++)
        if (!strcmp(t->lans[i].name, name))
            return &t->lans[i];
    return NULL;
}
