/* topo_link: topology.links.  Each link joins two node interfaces (a
 * two-port LAN named after its ends) or a node and a bridge (the bridge's
 * LAN); bridges linked to bridges merge into one LAN.  The NICs land in the
 * nodes, the LANs in t->lans (see topo_read.h). */
#include "topo_read.h"
#include "topo_value.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys that containerlab knows and plugnet does not use (see ty_warn_ignored). */
static const char *const s_clab_endpoint_keys[] = { "ipv6", "vars", "labels", NULL };
static const char *const s_clab_link_keys[] = { "vars", "labels", NULL };
/* The keys plugnet reads: what a misspelt key was probably meant to be. */
static const char *const s_endpoint_keys[] = { "node", "interface", "mac", "ipv4", NULL };
static const char *const s_link_keys[] = { "endpoints", "type", "mtu", NULL };

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

static int s_endpoint(topo_read_t *c, yaml_node_t *n, const char *path, ep_t *e)
{
    memset(e, 0, sizeof *e);
    e->pos = ty_pos(n);
    e->node_idx = e->bridge_idx = -1;
    const char *s;
    if (n && n->type == YAML_MAPPING_NODE) {
        ty_pair_t *p;
        size_t np;
        if (ty_pairs(&c->y, n, path, &p, &np) < 0)
            return -EINVAL;
        int r = 0;
        bool have_node = false, have_if = false;
        for (size_t i = 0; i < np && r == 0; i++) {
            const char *k = ty_scalar(p[i].k);
            char kp[160];
            snprintf(kp, sizeof kp, "%s.%s", path, k);
            if (!strcmp(k, "node") || !strcmp(k, "interface") || !strcmp(k, "mac") ||
                !strcmp(k, "ipv4")) {
                if ((r = ty_str(&c->y, p[i].v, kp, &s)) < 0)
                    break;
                if (!strcmp(k, "node")) {
                    snprintf(e->node, sizeof e->node, "%s", s);
                    have_node = true;
                } else if (!strcmp(k, "interface")) {
                    snprintf(e->iface, sizeof e->iface, "%s", s);
                    have_if = true;
                } else if (!strcmp(k, "mac")) {
                    if (!topo_mac_valid(s, e->mac))
                        r = ty_fail(&c->y, p[i].v, kp,
                                    "'%s' is not a MAC address (like "
                                    "02:00:00:00:00:01)",
                                    s);
                    else if (topo_mac_multicast(e->mac))
                        r = ty_fail(&c->y, p[i].v, kp,
                                    "'%s' is a multicast address: a NIC needs "
                                    "a unicast MAC",
                                    s);
                    e->mac_pos = ty_pos(p[i].v);
                } else {
                    if (topo_ipv4_valid(s, false) && !strchr(s, '/'))
                        r = ty_fail(&c->y, p[i].v, kp, "'%s' needs a prefix length (like %s/24)", s,
                                    s);
                    else if (!topo_ipv4_valid(s, true) || strlen(s) >= sizeof e->ipv4)
                        r = ty_fail(&c->y, p[i].v, kp,
                                    "'%s' is not an IPv4 address with a prefix "
                                    "(like 10.0.0.1/24)",
                                    s);
                    else
                        snprintf(e->ipv4, sizeof e->ipv4, "%s", s);
                    e->ip_pos = ty_pos(p[i].v);
                }
            } else {
                ty_warn_ignored(&c->y, p[i].k, kp, s_clab_endpoint_keys, s_endpoint_keys);
            }
        }
        free(p);
        if (r < 0)
            return r;
        if (!have_node)
            return ty_fail(&c->y, n, path, "endpoint without 'node'");
        if (!have_if)
            return ty_fail(&c->y, n, path, "endpoint without 'interface'");
    } else {
        if (ty_str(&c->y, n, path, &s) < 0)
            return -EINVAL;
        const char *colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1] || strchr(colon + 1, ':'))
            return ty_fail(&c->y, n, path, "'%s' is not an endpoint (say \"node:eth1\")", s);
        snprintf(e->node, sizeof e->node, "%.*s", (int)(colon - s), s);
        snprintf(e->iface, sizeof e->iface, "%s", colon + 1);
    }
    e->node_idx = topo_read_node_index(c, e->node);
    e->bridge_idx = topo_read_bridge_find(c, e->node);
    if (e->node_idx < 0 && e->bridge_idx < 0)
        return ty_fail(&c->y, n, path, "no node '%s' in topology.nodes", e->node);
    if (e->node_idx >= 0) {
        e->ifidx = topo_ifindex(e->iface);
        if (e->ifidx == 0)
            return ty_fail(&c->y, n, path,
                           "%s:eth0 is the management NIC, which plugnet wires "
                           "itself; links start at eth1",
                           e->node);
        if (e->ifidx < 0)
            return ty_fail(&c->y, n, path, "'%s' is not an interface name (eth1..eth%d)", e->iface,
                           TOPO_NIC_MAX);
    } else {
        if (!topo_port_label_valid(e->iface))
            return ty_fail(&c->y, n, path, "'%s' is not a bridge port name", e->iface);
        if (e->mac[0])
            return ty_failp(&c->y, e->mac_pos, path,
                            "bridge '%s' is a LAN: its side of a link has "
                            "no MAC",
                            e->node);
        if (e->ipv4[0])
            return ty_failp(&c->y, e->ip_pos, path,
                            "bridge '%s' is a LAN: its side of a link has "
                            "no address",
                            e->node);
    }
    return 0;
}

static int s_link(topo_read_t *c, yaml_node_t *n, size_t idx, link_t *l)
{
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "topology.links[%zu]", idx);
    l->pos = ty_pos(n);
    ty_pair_t *p;
    size_t np;
    if (n && n->type != YAML_MAPPING_NODE)
        return ty_fail(&c->y, n, l->path, "expected a mapping with endpoints, found %s",
                       ty_type_name(n));
    if (ty_pairs(&c->y, n, l->path, &p, &np) < 0)
        return -EINVAL;
    int r = 0;
    yaml_node_t *eps = NULL, *epskey = NULL;
    for (size_t i = 0; i < np && r == 0; i++) {
        const char *k = ty_scalar(p[i].k), *s;
        char kp[160];
        snprintf(kp, sizeof kp, "%s.%s", l->path, k);
        if (!strcmp(k, "endpoints")) {
            eps = p[i].v;
            epskey = p[i].k;
        } else if (!strcmp(k, "type")) {
            if ((r = ty_str(&c->y, p[i].v, kp, &s)) == 0 && strcmp(s, "veth") != 0)
                r = ty_fail(&c->y, p[i].v, kp,
                            "link type '%s' is not supported (only veth: a "
                            "link between two nodes or a node and a bridge)",
                            s);
        } else if (!strcmp(k, "mtu")) {
            char *end;
            if ((r = ty_str(&c->y, p[i].v, kp, &s)) < 0)
                break;
            long m = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
            if (m < 0 || *end || m < 68 || m > 65535)
                r = ty_fail(&c->y, p[i].v, kp, "'%s' is not an MTU (68..65535)", s);
            else
                l->mtu = (unsigned)m;
            l->mtu_pos = ty_pos(p[i].v);
        } else if (!strcmp(k, "endpoint")) {
            r = ty_fail(&c->y, p[i].k, kp,
                        "single-endpoint links (host, mgmt-net, macvlan, "
                        "dummy) are not supported");
        } else {
            ty_warn_ignored(&c->y, p[i].k, kp, s_clab_link_keys, s_link_keys);
        }
    }
    free(p);
    if (r < 0)
        return r;
    char kp[160];
    snprintf(kp, sizeof kp, "%s.endpoints", l->path);
    if (!eps)
        return ty_fail(&c->y, n, l->path, "link without endpoints");
    if (eps->type != YAML_SEQUENCE_NODE)
        return ty_fail(&c->y, eps, kp, "expected a list of two endpoints, found %s",
                       ty_type_name(eps));
    size_t cnt = (size_t)(eps->data.sequence.items.top - eps->data.sequence.items.start);
    if (cnt != 2)
        return ty_fail(&c->y, epskey, kp,
                       "a link has exactly two endpoints, found %zu (join more "
                       "nodes with a bridge)",
                       cnt);
    for (int i = 0; i < 2; i++) {
        char ep[200];
        snprintf(ep, sizeof ep, "%s[%d]", kp, i);
        if (s_endpoint(c, ty_node(&c->y, eps->data.sequence.items.start[i]), ep, &l->ep[i]) < 0)
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

static bool s_lan_taken(topo_read_t *c, const char *name)
{
    if (topo_read_bridge_find(c, name) >= 0)
        return true;
    for (size_t i = 0; i < c->t->n_lans; i++)
        if (!strcmp(c->t->lans[i].name, name))
            return true;
    return false;
}

static int s_add_nic(topo_read_t *c, const link_t *l, const ep_t *e, const char *lan)
{
    topo_node_t *nd = &c->t->nodes[e->node_idx];
    topo_nic_t *n = realloc(nd->nics, (nd->n_nics + 1) * sizeof *n);
    if (!n)
        return ty_failp(&c->y, e->pos, l->path, "out of memory");
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
    return topo_ifindex(((const topo_nic_t *)a)->ifname) -
           topo_ifindex(((const topo_nic_t *)b)->ifname);
}

int topo_read_links(topo_read_t *c, yaml_node_t *links)
{
    if (links && !ty_is_null(links) && links->type != YAML_SEQUENCE_NODE)
        return ty_fail(&c->y, links, "topology.links", "expected a list of links, found %s",
                       ty_type_name(links));
    size_t cnt = 0;
    if (links && links->type == YAML_SEQUENCE_NODE)
        cnt = (size_t)(links->data.sequence.items.top - links->data.sequence.items.start);
    if (cnt > TOPO_MAX_LINKS)
        return ty_fail(&c->y, links, "topology.links", "too many links (%zu, at most %d)", cnt,
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
        ty_fail(&c->y, links, "topology.links", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cnt; i++)
        if (s_link(c, ty_node(&c->y, links->data.sequence.items.start[i]), i, &ls[i]) < 0)
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
                    ty_failp(&c->y, e->pos, ls[i].path, "interface %s is already linked (line %d)",
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
        int a = topo_read_bridge_root(c, l->ep[0].bridge_idx);
        int b = topo_read_bridge_root(c, l->ep[1].bridge_idx);
        if (a == b) {
            ty_failp(&c->y, l->pos, l->path,
                     "bridges '%s' and '%s' are already connected: this "
                     "link closes a cycle of bridges, which would loop "
                     "frames forever",
                     l->ep[0].node, l->ep[1].node);
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
        ty_fail(&c->y, links, "topology.links", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c->n_bridges; i++) {
        if (topo_read_bridge_root(c, (int)i) != (int)i)
            continue;
        topo_lan_t *lan = &c->t->lans[c->t->n_lans++];
        snprintf(lan->name, sizeof lan->name, "%s", c->bridges[i].name);
        lan->bridge = true;
        lan->pos = c->bridges[i].pos;
        size_t members = 0, len = 0;
        for (size_t j = 0; j < c->n_bridges; j++)
            if (topo_read_bridge_root(c, (int)j) == (int)i) {
                members++;
                len += strlen(c->bridges[j].name) + 1;
            }
        if (members > 1 && (lan->bridges = calloc(1, len + 1))) {
            for (size_t j = 0; j < c->n_bridges; j++)
                if (topo_read_bridge_root(c, (int)j) == (int)i) {
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
                ty_warn(&c->y, NULL, l->path, "mtu of a link to a bridge ignored (line %d)",
                        l->mtu_pos.line);
            if (s_add_nic(c, l, nd, c->bridges[topo_read_bridge_root(c, br->bridge_idx)].name) < 0)
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
                ty_failp(&c->y, l->pos, l->path, "the LAN name '%s' for this link is taken", name);
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

/* The later one in the file is the duplicate. */
int topo_read_unique(topo_read_t *c)
{
    topo_t *t = c->t;
    size_t total = 0, n = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        total += t->nodes[i].n_nics;
    topo_nic_t **all = calloc(total + 1, sizeof *all);
    if (!all)
        return ty_failp(&c->y, (topo_pos_t){ 1, 1 }, "topology", "out of memory");
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
                r = ty_failp(&c->y, later->pos, "topology.links",
                             "MAC %s is used twice (first at "
                             "line %d)",
                             x->mac, first->pos.line);
            if (r == 0 && x->ipv4[0] && y->ipv4[0]) {
                size_t lx = strcspn(x->ipv4, "/"), ly = strcspn(y->ipv4, "/");
                if (lx == ly && !strncmp(x->ipv4, y->ipv4, lx))
                    r = ty_failp(&c->y, later->pos, "topology.links",
                                 "address %.*s is used twice "
                                 "(first at line %d)",
                                 (int)lx, x->ipv4, first->pos.line);
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
                r = ty_failp(&c->y, a->pos, path, "management address %.*s is also node '%s''s",
                             (int)la, a->mgmt_ipv4, t->nodes[k].name);
            }
        }
    }
    return r;
}
