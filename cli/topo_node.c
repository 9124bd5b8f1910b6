/* topo_node: topology.nodes, each resolved through topology.defaults, then
 * topology.kinds.<kind>, then its own keys; bridge nodes become bridges
 * (LANs) for the links to join (see topo_read.h). */
#include "topo_read.h"
#include "topo_value.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
/* The node keys plugnet reads: what a misspelt key was probably meant to be. */
static const char *const s_node_keys[] = { "kind", "image", "memory", "cpus", "exec", "env", "cmd", "mgmt-ipv4", NULL };


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

/* A string property: it replaces what an earlier level set. */
static int s_prop_str(topo_read_t *c, yaml_node_t *v, const char *kp, char **dst)
{
    const char *s;
    int r = ty_str(&c->y, v, kp, &s);
    if (r < 0)
        return r;
    char *d = strdup(s);
    if (!d)
        r = ty_fail(&c->y, v, kp, "out of memory");
    free(*dst);
    *dst = d;
    return r;
}

enum { LVL_DEFAULTS, LVL_KINDS, LVL_NODE };

/* Apply one level of properties (defaults, kinds.<kind> or the node's own)
 * onto nd: later levels override earlier ones; env merges key by key. */
static int s_props(topo_read_t *c, yaml_node_t *map, const char *path, topo_node_t *nd, int lvl)
{
    ty_pair_t *pairs;
    size_t np;
    char kp[256];
    if (ty_pairs(&c->y, map, path, &pairs, &np) < 0)
        return -EINVAL;
    int r = 0;
    for (size_t i = 0; i < np && r == 0; i++) {
        const char *key = ty_scalar(pairs[i].k);
        yaml_node_t *v = pairs[i].v;
        const char *s = NULL;
        snprintf(kp, sizeof kp, "%s.%s", path, key);
        if (!strcmp(key, "kind")) {
            continue; /* resolved before the levels are applied */
        } else if (!strcmp(key, "image")) {
            r = s_prop_str(c, v, kp, &nd->image);
        } else if (!strcmp(key, "memory")) {
            uint64_t mb = 0;
            if ((r = ty_str(&c->y, v, kp, &s)) < 0)
                break;
            if (!topo_parse_mem(s, &mb))
                r = ty_fail(&c->y, v, kp, "'%s' is not a memory size (say 256MiB or 1GiB)", s);
            else if (mb < TOPO_MEM_MIN_MB)
                r = ty_fail(&c->y, v, kp, "'%s' is too little memory (at least %u MiB)", s,
                            TOPO_MEM_MIN_MB);
            else if (mb > TOPO_MEM_MAX_MB)
                r = ty_fail(&c->y, v, kp, "'%s' is too much memory (at most %u MiB)", s,
                            TOPO_MEM_MAX_MB);
            else
                nd->memory_mb = mb;
        } else if (!strcmp(key, "cpus") || !strcmp(key, "cpu")) {
            if ((r = ty_str(&c->y, v, kp, &s)) < 0)
                break;
            char *end;
            errno = 0;
            long n = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
            if (n < 0 || errno || *end)
                r = ty_fail(&c->y, v, kp, "'%s' is not a whole number of CPUs", s);
            else if (n < 1 || n > TOPO_CPUS_MAX)
                r = ty_fail(&c->y, v, kp, "%ld CPUs is out of range (1..%d)", n, TOPO_CPUS_MAX);
            else
                nd->cpus = (unsigned)n;
        } else if (!strcmp(key, "exec")) {
            if (!v || v->type != YAML_SEQUENCE_NODE) {
                r = ty_fail(&c->y, v, kp, "expected a list of commands, found %s", ty_type_name(v));
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
                r = ty_fail(&c->y, v, kp, "out of memory");
                break;
            }
            for (size_t j = 0; j < cnt && r == 0; j++) {
                yaml_node_t *it = ty_node(&c->y, v->data.sequence.items.start[j]);
                char ip[300];
                snprintf(ip, sizeof ip, "%s[%zu]", kp, j);
                if ((r = ty_str(&c->y, it, ip, &s)) < 0)
                    break;
                const char *q = s;
                while (isspace((unsigned char)*q))
                    q++;
                if (!*q) {
                    r = ty_fail(&c->y, it, ip, "empty command");
                    break;
                }
                nd->exec[j].text = strdup(s);
                nd->exec[j].line = ty_pos(it).line;
                nd->n_exec = j + 1;
                if (!nd->exec[j].text)
                    r = ty_fail(&c->y, it, ip, "out of memory");
            }
        } else if (!strcmp(key, "env")) {
            ty_pair_t *ep;
            size_t ne;
            if ((r = ty_pairs(&c->y, v, kp, &ep, &ne)) < 0)
                break;
            for (size_t j = 0; j < ne && r == 0; j++) {
                const char *ek = ty_scalar(ep[j].k), *ev;
                if (!ek)
                    continue;
                char ip[300];
                snprintf(ip, sizeof ip, "%s.%s", kp, ek);
                if (!topo_env_name_valid(ek))
                    r = ty_fail(&c->y, ep[j].k, ip, "'%s' is not a valid variable name", ek);
                else if (ep[j].v && ty_is_null(ep[j].v))
                    r = s_set_env(nd, ek, "") < 0 ? ty_fail(&c->y, ep[j].v, ip, "out of memory")
                                                  : 0;
                else if ((r = ty_str(&c->y, ep[j].v, ip, &ev)) == 0 && s_set_env(nd, ek, ev) < 0)
                    r = ty_fail(&c->y, ep[j].v, ip, "out of memory");
            }
            free(ep);
        } else if (!strcmp(key, "cmd")) {
            r = s_prop_str(c, v, kp, &nd->cmd);
        } else if (!strcmp(key, "mgmt-ipv4")) {
            if (lvl != LVL_NODE) {
                r = ty_fail(&c->y, pairs[i].k, kp,
                            "a management address belongs to one node, "
                            "not to %s",
                            lvl == LVL_KINDS ? "a kind" : "defaults");
                break;
            }
            if ((r = ty_str(&c->y, v, kp, &s)) < 0)
                break;
            if (!topo_ipv4_valid(s, false) || strlen(s) >= sizeof nd->mgmt_ipv4)
                r = ty_fail(&c->y, v, kp, "'%s' is not an IPv4 address", s);
            else
                snprintf(nd->mgmt_ipv4, sizeof nd->mgmt_ipv4, "%s", s);
        } else {
            ty_warn_ignored(&c->y, pairs[i].k, kp, s_clab_node_keys, s_node_keys);
        }
    }
    free(pairs);
    return r;
}

/* The kind written in a properties mapping, validated; NULL when absent. */
static int s_kind_of(topo_read_t *c, yaml_node_t *map, const char *path, const char **written,
                     yaml_node_t **at)
{
    ty_pair_t *pairs;
    size_t np;
    *written = NULL;
    if (ty_pairs(&c->y, map, path, &pairs, &np) < 0)
        return -EINVAL;
    yaml_node_t *v = ty_lookup(pairs, np, "kind", NULL);
    free(pairs);
    if (!v)
        return 0;
    char kp[256];
    snprintf(kp, sizeof kp, "%s.kind", path);
    const char *s;
    if (ty_str(&c->y, v, kp, &s) < 0)
        return -EINVAL;
    if (topo_kind_parse(s) < 0)
        return ty_fail(&c->y, v, kp,
                       "unknown kind '%s' (uml, qemu, ns, bridge; linux = ns, "
                       "generic_vm = qemu)",
                       s);
    *written = s;
    if (at)
        *at = v;
    return 0;
}

int topo_read_bridge_find(topo_read_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_bridges; i++)
        if (!strcmp(c->bridges[i].name, name))
            return (int)i;
    return -1;
}

int topo_read_bridge_root(topo_read_t *c, int i)
{
    while (c->bridges[i].parent != i)
        i = c->bridges[i].parent = c->bridges[c->bridges[i].parent].parent;
    return i;
}

int topo_read_node_index(topo_read_t *c, const char *name)
{
    for (size_t i = 0; i < c->t->n_nodes; i++)
        if (!strcmp(c->t->nodes[i].name, name))
            return (int)i;
    return -1;
}

int topo_read_nodes(topo_read_t *c, yaml_node_t *nodes, yaml_node_t *defaults,
                    yaml_node_t *kinds)
{
    ty_pair_t *np_ = NULL, *kp_ = NULL;
    size_t nn = 0, nk = 0;
    const char *def_kind = NULL;
    int r = -EINVAL;

    if (defaults && s_kind_of(c, defaults, "topology.defaults", &def_kind, NULL) < 0)
        return -EINVAL;
    if (kinds) {
        if (ty_pairs(&c->y, kinds, "topology.kinds", &kp_, &nk) < 0)
            return -EINVAL;
        for (size_t i = 0; i < nk; i++) {
            const char *kn = ty_scalar(kp_[i].k);
            char path[256];
            snprintf(path, sizeof path, "topology.kinds.%s", kn);
            if (topo_kind_parse(kn) < 0) {
                ty_fail(&c->y, kp_[i].k, path, "unknown kind '%s'", kn);
                goto out;
            }
            const char *inner;
            yaml_node_t *at = NULL;
            if (s_kind_of(c, kp_[i].v, path, &inner, &at) < 0)
                goto out;
            if (inner) {
                ty_fail(&c->y, at, path, "a kind's settings cannot change its kind");
                goto out;
            }
        }
    }
    if (!nodes) {
        r = 0;
        goto out;
    }
    if (ty_pairs(&c->y, nodes, "topology.nodes", &np_, &nn) < 0)
        goto out;
    if (nn > TOPO_MAX_NODES) {
        ty_fail(&c->y, nodes, "topology.nodes", "too many nodes (%zu, at most %d)", nn,
                TOPO_MAX_NODES);
        goto out;
    }
    c->t->nodes = calloc(nn ? nn : 1, sizeof *c->t->nodes);
    c->bridges = calloc(nn ? nn : 1, sizeof *c->bridges);
    if (!c->t->nodes || !c->bridges) {
        ty_fail(&c->y, nodes, "topology.nodes", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nn; i++) {
        const char *name = ty_scalar(np_[i].k);
        yaml_node_t *body = np_[i].v;
        char path[256];
        snprintf(path, sizeof path, "topology.nodes.%s", name);
        if (!topo_name_valid(name)) {
            ty_fail(&c->y, np_[i].k, path,
                    "'%s' is not a valid node name (a lower-case letter, "
                    "then up to 14 of a-z, 0-9, '-')",
                    name);
            goto out;
        }
        const char *written;
        yaml_node_t *kind_at = NULL;
        if (s_kind_of(c, body, path, &written, &kind_at) < 0)
            goto out;
        if (!written)
            written = def_kind;
        if (!written) {
            ty_fail(&c->y, np_[i].k, path,
                    "node '%s' has no kind (set kind here or in "
                    "topology.defaults)",
                    name);
            goto out;
        }
        topo_kind_t kind = (topo_kind_t)topo_kind_parse(written);
        if (topo_read_bridge_find(c, name) >= 0 || topo_read_node_index(c, name) >= 0) {
            ty_fail(&c->y, np_[i].k, path, "duplicate node '%s'", name);
            goto out;
        }
        if (kind == TOPO_BRIDGE) {
            topo_bridge_t *b = &c->bridges[c->n_bridges];
            snprintf(b->name, sizeof b->name, "%s", name);
            b->pos = ty_pos(np_[i].k);
            b->parent = (int)c->n_bridges;
            b->order = (int)c->n_bridges;
            c->n_bridges++;
            /* A bridge is a LAN: nothing runs there. */
            ty_pair_t *bp;
            size_t nb;
            if (ty_pairs(&c->y, body, path, &bp, &nb) < 0)
                goto out;
            for (size_t j = 0; j < nb; j++) {
                const char *k = ty_scalar(bp[j].k);
                char kp[300];
                snprintf(kp, sizeof kp, "%s.%s", path, k);
                if (!strcmp(k, "kind"))
                    continue;
                if (!strcmp(k, "exec") || !strcmp(k, "cmd")) {
                    ty_fail(&c->y, bp[j].k, kp, "a bridge is a LAN and runs no commands");
                    free(bp);
                    goto out;
                }
                ty_warn(&c->y, bp[j].k, kp, "%s for a bridge, ignored",
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
        nd->pos = ty_pos(np_[i].k);
        if (defaults && s_props(c, defaults, "topology.defaults", nd, LVL_DEFAULTS) < 0)
            goto out;
        /* kinds.<as written>, else kinds.<canonical name> */
        yaml_node_t *kb = ty_lookup(kp_, nk, written, NULL);
        const char *kname = written;
        if (!kb) {
            kb = ty_lookup(kp_, nk, topo_kind_name(kind), NULL);
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
            ty_warn(&c->y, kind_at ? kind_at : np_[i].k, path,
                    "image '%s' ignored: an ns node runs on the host's files", nd->image);
        if (kind != TOPO_NS && nd->cmd) {
            ty_failp(&c->y, nd->pos, path,
                     "cmd is for ns nodes; a %s node runs its image "
                     "(use exec for commands)",
                     topo_kind_name(kind));
            goto out;
        }
    }
    r = 0;
out:
    free(np_);
    free(kp_);
    return r;
}
