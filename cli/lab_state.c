/* lab_state: a lab as plugnet knows it outside the file: its record
 * (STATE/labs/<name>.state, the nodes and LANs it created, so `up` can
 * delete what left the file and `down` removes only what is the lab's), and
 * the live lab as vmd and switchd report it (see lab.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

int lab_load(const char *path, topo_t **t)
{
    char err[1024];
    int r = topo_load(path, t, err, sizeof err);
    if (r < 0) {
        /* The warnings before the error, one a line (see topo_parse). */
        for (char *line = err, *nl; line; line = nl) {
            if ((nl = strchr(line, '\n')))
                *nl++ = 0;
            fprintf(stderr, "plugnet: %s\n", line);
        }
        return r;
    }
    for (size_t i = 0; i < (*t)->n_warnings; i++)
        fprintf(stderr, "plugnet: warning: %s\n", (*t)->warnings[i]);
    return 0;
}

int lab_unreachable(const char *err)
{
    fprintf(stderr, "plugnet: %s\nplugnet: start the daemons first: plugnet daemons start\n", err);
    return CLI_UNREACHABLE;
}

/* ------------------------------------------------------------ records */

void lab_record_path(const char *lab, char *out, size_t len)
{
    snprintf(out, len, "%s/labs/%s.state", pn_state_dir(), lab);
}

static void s_names_from(const pn_val_t *arr, topo_record_t *rec, bool lan)
{
    for (size_t i = 0; arr && arr->type == PN_ARR && i < pn_len(arr); i++) {
        const pn_val_t *v = pn_at(arr, i);
        if (v && v->type == PN_STR && topo_name_valid(v->s.p))
            topo_record_add(rec, lan, v->s.p);
    }
}

int lab_record_load(const char *lab, topo_record_t *rec, char **file)
{
    char path[4200];
    pn_val_t *v = NULL;
    memset(rec, 0, sizeof *rec);
    if (file)
        *file = NULL;
    lab_record_path(lab, path, sizeof path);
    if (pn_state_load(path, &v) < 0 || !v || v->type != PN_MAP) {
        pn_val_free(v);
        return -ENOENT;
    }
    s_names_from(pn_get(v, "nodes"), rec, false);
    s_names_from(pn_get(v, "lans"), rec, true);
    if (file && pn_get_str(v, "file", NULL))
        *file = strdup(pn_get_str(v, "file", ""));
    pn_val_free(v);
    return 0;
}

int lab_record_save(const topo_t *t, const topo_record_t *rec)
{
    char path[4200], dir[4200];
    snprintf(dir, sizeof dir, "%s/labs", pn_state_dir());
    int r = pn_mkdirs(dir, 0755);
    if (r < 0)
        return r;
    lab_record_path(t->name, path, sizeof path);
    char *abs = realpath(t->file, NULL);
    pn_val_t *v = pn_map(), *nodes = pn_arr(), *lans = pn_arr();
    pn_map_set_str(v, "name", t->name);
    pn_map_set_str(v, "file", abs ? abs : t->file);
    free(abs);
    pn_map_set_uint(v, "updated_ns", pn_now_ns());
    for (size_t i = 0; i < rec->n_nodes; i++)
        pn_arr_push(nodes, pn_str(rec->nodes[i]));
    for (size_t i = 0; i < rec->n_lans; i++)
        pn_arr_push(lans, pn_str(rec->lans[i]));
    pn_map_set(v, "nodes", nodes);
    pn_map_set(v, "lans", lans);
    r = pn_state_save(path, v);
    pn_val_free(v);
    return r;
}

/* --------------------------------------------------------- live state */

static bool s_has_nics(const pn_val_t *m)
{
    const pn_val_t *n = pn_get(m, "nics");
    return n && n->type == PN_ARR;
}

/* A node as vmd reports it (node.ls item or node.show), tolerant of the
 * keys' spelling; NICs other than eth0. */
int lab_node_from_val(const pn_val_t *m, topo_node_t *n, char state[16])
{
    memset(n, 0, sizeof *n);
    const char *name = pn_get_str(m, "name", NULL);
    int kind = topo_kind_parse(pn_get_str(m, "kind", ""));
    if (!name || !topo_name_valid(name) || kind < 0 || kind == TOPO_BRIDGE)
        return -EINVAL;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->kind = (topo_kind_t)kind;
    snprintf(state, 16, "%s", pn_get_str(m, "state", ""));
    const char *img = pn_get_str(m, "image", NULL);
    if (img && *img)
        n->image = strdup(img);
    n->memory_mb = pn_get_uint(m, "mem", pn_get_uint(m, "mem_mb", pn_get_uint(m, "memory_mb", 0)));
    n->cpus = (unsigned)pn_get_uint(m, "cpus", 0);
    const pn_val_t *nics = pn_get(m, "nics");
    size_t cnt = nics && nics->type == PN_ARR ? pn_len(nics) : 0;
    if (cnt)
        n->nics = calloc(cnt, sizeof *n->nics);
    for (size_t i = 0; n->nics && i < cnt; i++) {
        const pn_val_t *x = pn_at(nics, i);
        const char *ifn = pn_get_str(x, "ifname", NULL), *lan = pn_get_str(x, "lan", "");
        if (!ifn || pn_ifname_index(ifn) < 1)
            continue;
        topo_nic_t *nic = &n->nics[n->n_nics++];
        snprintf(nic->ifname, sizeof nic->ifname, "%s", ifn);
        snprintf(nic->lan, sizeof nic->lan, "%s", lan);
        const char *mac = pn_get_str(x, "mac", NULL);
        if (mac)
            topo_mac_valid(mac, nic->mac);
        const char *ip = pn_get_str(x, "ip", pn_get_str(x, "ipv4", NULL));
        const pn_val_t *ips = pn_get(x, "addrs");
        if (!ip && ips && ips->type == PN_ARR && pn_len(ips) && pn_at(ips, 0)->type == PN_STR)
            ip = pn_at(ips, 0)->s.p;
        if (ip && topo_ipv4_valid(ip, true))
            snprintf(nic->ipv4, sizeof nic->ipv4, "%s", ip);
    }
    return 0;
}

static bool s_interesting(const char *name, const topo_t *t, const topo_record_t *rec)
{
    return !t || topo_node_find(t, name) || topo_record_has(rec, false, name);
}

/* The live lab from vmd and switchd.  Nodes outside the file and record
 * are listed too (the plan leaves them alone), without their NICs. */
int lab_live_fetch(topo_live_t *live, const topo_t *t, const topo_record_t *rec, char *err,
                        size_t errlen)
{
    pn_val_t *d = NULL;
    memset(live, 0, sizeof *live);
    /* A lab of LANs only (bridges) needs no vmd. */
    bool need_vmd = !t || t->n_nodes || (rec && rec->n_nodes) || pn_svc_socket_present("vmd");
    int r = need_vmd ? cli_call_err(PN_OP_NODE_LS, NULL, LAB_READ_MS, &d, err, errlen) : 0;
    if (r != 0)
        return r;
    const pn_val_t *nodes = pn_get(d, "nodes");
    for (size_t i = 0; nodes && nodes->type == PN_ARR && i < pn_len(nodes); i++) {
        const pn_val_t *m = pn_at(nodes, i);
        pn_val_t *show = NULL;
        const char *name = pn_get_str(m, "name", "");
        if (!s_has_nics(m) && s_interesting(name, t, rec) && topo_name_valid(name)) {
            pn_val_t *a = pn_map();
            pn_map_set_str(a, "name", name);
            char e2[512];
            if (cli_call_err(PN_OP_NODE_SHOW, a, LAB_READ_MS, &show, e2, sizeof e2) == 0)
                m = show;
        }
        topo_node_t n;
        char state[16];
        if (lab_node_from_val(m, &n, state) == 0) {
            topo_live_add_node(live, &n, state);
            topo_node_clear(&n);
        }
        pn_val_free(show);
    }
    pn_val_free(d);
    r = cli_call_err(PN_OP_LAN_LS, NULL, LAB_READ_MS, &d, err, errlen);
    if (r != 0) {
        topo_live_clear(live);
        return r;
    }
    const pn_val_t *lans = pn_get(d, "lans");
    for (size_t i = 0; lans && lans->type == PN_ARR && i < pn_len(lans); i++) {
        const char *name = pn_get_str(pn_at(lans, i), "name", NULL);
        if (name && topo_name_valid(name))
            topo_live_add_lan(live, name);
    }
    pn_val_free(d);
    return 0;
}

const char *lab_live_state(const topo_live_t *l, const char *name)
{
    for (size_t i = 0; l && i < l->n_nodes; i++)
        if (!strcmp(l->nodes[i].name, name))
            return l->states[i];
    return NULL;
}

pn_val_t *lab_nic_val(const topo_nic_t *nic, bool with_ifname)
{
    pn_val_t *v = pn_map();
    if (with_ifname)
        pn_map_set_str(v, "ifname", nic->ifname);
    pn_map_set_str(v, "lan", nic->lan);
    if (nic->mac[0])
        pn_map_set_str(v, "mac", nic->mac);
    if (nic->ipv4[0])
        pn_map_set_str(v, "ip", nic->ipv4);
    return v;
}
