/* Every op of plugnet-switchd, in one table at the end.  The layers below
 * return 0 or a negative errno with a message; here it becomes a reply. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sw.h"

static sw_t *s_sw(pn_svc_t *svc) { return pn_svc_user(svc); }

/* The reply code of a negative errno from the layers below. */
static int s_code(int r)
{
    switch (-r) {
    case EINVAL:
    case ENAMETOOLONG:
        return PN_EINVAL;
    case ENOENT:
    case ENOTDIR:
        return PN_ENOTFOUND;
    case EEXIST:
        return PN_EEXIST;
    case EBUSY:
        return PN_EBUSY;
    case ENODEV:
        return PN_EUNAVAIL;
    case EPERM:
    case EACCES:
        return PN_EPERM;
    case ENOSPC:
        return PN_ETOOLARGE;
    default:
        return PN_EINTERNAL;
    }
}

/* When r is an error, fail req with err as its message: true. */
static bool s_failed(pn_req_t *req, int r, const char *err)
{
    if (r >= 0)
        return false;
    pn_req_fail(req, s_code(r), "%s", err);
    return true;
}

/* Reply {ukey: u, skey: str}: the number and name of what an op made or
 * changed. */
static void s_ok_pair(pn_req_t *req, const char *ukey, uint64_t u, const char *skey, const char *str)
{
    pn_val_t *d = pn_map();
    pn_map_set_uint(d, ukey, u);
    pn_map_set_str(d, skey, str);
    pn_req_ok(req, d);
}

static sw_lan_t *s_need_lan(pn_svc_t *svc, pn_req_t *req, const char *key)
{
    const char *name = pn_get_str(pn_req_args(req), key, "");
    return pn_req_found(req, sw_lan_find(s_sw(svc), name), "LAN", name);
}

static sw_port_t *s_need_port(pn_svc_t *svc, pn_req_t *req, sw_lan_t **lan_p)
{
    sw_lan_t *lan = s_need_lan(svc, req, "lan");
    if (!lan)
        return NULL;
    uint64_t id = pn_get_uint(pn_req_args(req), "port", 0);
    sw_port_t *p = id >= 1 && id <= SW_MAX_PORTS ? lan->ports[id] : NULL;
    if (!p) {
        pn_req_fail(req, PN_ENOTFOUND, "LAN '%s' has no port %llu", lan->name, (unsigned long long)id);
        return NULL;
    }
    *lan_p = lan;
    return p;
}

static void op_lan_add(pn_svc_t *svc, pn_req_t *req)
{
    pn_val_t *a = pn_req_args(req);
    char err[256];
    sw_lan_t *lan;
    int r = sw_lan_add(s_sw(svc), pn_get_str(a, "name", ""), (unsigned)pn_get_uint(a, "mtu", 1500),
                       (unsigned)pn_get_uint(a, "fdb_cap", 0), true, &lan, err, sizeof(err));
    if (s_failed(req, r, err))
        return;
    pn_req_ok(req, sw_lan_summary(lan));
}

static void op_lan_del(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan = s_need_lan(svc, req, "name");
    if (!lan)
        return;
    unsigned closed = 0;
    char name[16];
    snprintf(name, sizeof(name), "%s", lan->name);
    unsigned n = lan->nlive;
    int r = sw_lan_del(s_sw(svc), lan, pn_get_bool(pn_req_args(req), "force", false), &closed);
    if (r == -EBUSY) {
        pn_req_fail(req, s_code(r), "LAN '%s' still has %u port%s attached; detach them or use force", name, n,
                    n == 1 ? "" : "s");
        return;
    }
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "name", name);
    pn_map_set_uint(d, "ports_closed", closed);
    pn_req_ok(req, d);
}

static void op_lan_ls(pn_svc_t *svc, pn_req_t *req)
{
    pn_val_t *d = pn_map(), *arr = pn_arr();
    /* Oldest first reads better: the list is newest first, so reverse. */
    sw_t *sw = s_sw(svc);
    sw_lan_t *v[SW_MAX_LANS];
    unsigned n = 0;
    for (sw_lan_t *l = sw->lans; l && n < SW_MAX_LANS; l = l->next)
        v[n++] = l;
    while (n > 0)
        pn_arr_push(arr, sw_lan_summary(v[--n]));
    pn_map_set(d, "lans", arr);
    pn_req_ok(req, d);
}

struct fdb_walk {
    pn_val_t *arr;
    size_t n;
};

static void s_fdb_visit(const uint8_t mac[6], unsigned port, uint64_t age_ms, void *arg)
{
    struct fdb_walk *w = arg;
    if (w->n++ >= 4096)
        return;
    char s[18];
    pn_mac_format(mac, s);
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "mac", s);
    pn_map_set_uint(m, "port", port);
    pn_map_set_uint(m, "age_ms", age_ms);
    pn_arr_push(w->arr, m);
}

static pn_val_t *s_ports(sw_lan_t *lan)
{
    pn_val_t *arr = pn_arr();
    for (unsigned id = 1; id <= SW_MAX_PORTS; id++)
        if (lan->ports[id])
            pn_arr_push(arr, sw_port_info(lan->ports[id]));
    return arr;
}

static void op_lan_show(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan = s_need_lan(svc, req, "name");
    if (!lan)
        return;
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "name", lan->name);
    pn_map_set_uint(d, "mtu", lan->mtu);
    pn_map_set_str(d, "dir", lan->dir);
    pn_map_set_str(d, "ctl", lan->ctl_path);
    pn_map_set(d, "ports", s_ports(lan));
    uint64_t now = pn_mono_ms();
    sw_fdb_expire(lan->fdb, now);
    pn_map_set_uint(d, "fdb_entries", sw_fdb_count(lan->fdb));
    pn_map_set_uint(d, "fdb_cap", sw_fdb_cap(lan->fdb));
    pn_map_set_uint(d, "fdb_evictions", sw_fdb_evictions(lan->fdb));
    struct fdb_walk w = { pn_arr(), 0 };
    sw_fdb_foreach(lan->fdb, now, s_fdb_visit, &w);
    pn_map_set(d, "fdb", w.arr);
    pn_req_ok(req, d);
}

static void op_port_ls(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan = s_need_lan(svc, req, "lan");
    if (!lan)
        return;
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "lan", lan->name);
    pn_map_set(d, "ports", s_ports(lan));
    pn_req_ok(req, d);
}

static void op_port_add_tap(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan = s_need_lan(svc, req, "lan");
    if (!lan)
        return;
    char err[256];
    sw_port_t *p;
    pn_val_t *a = pn_req_args(req);
    const char *macs = pn_get_str(a, "mac", NULL);
    uint8_t mac[6];
    if (macs && !pn_mac_parse(macs, mac)) {
        pn_req_fail(req, PN_EINVAL, "mac '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", macs);
        return;
    }
    int r = sw_port_add_tap(lan, pn_get_str(a, "ifname", NULL), pn_get_str(a, "netns", NULL), macs ? mac : NULL,
                            pn_get_str(a, "owner", NULL), &p, err, sizeof(err));
    if (s_failed(req, r, err))
        return;
    s_ok_pair(req, "port", p->id, "ifname", p->ifname);
}

static void op_port_del(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan;
    sw_port_t *p = s_need_port(svc, req, &lan);
    if (!p)
        return;
    unsigned id = p->id;
    sw_port_remove(p, "deleted");
    pn_val_t *d = pn_map();
    pn_map_set_uint(d, "port", id);
    pn_req_ok(req, d);
}

static void op_port_set(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan;
    sw_port_t *p = s_need_port(svc, req, &lan);
    if (!p)
        return;
    bool up = strcmp(pn_get_str(pn_req_args(req), "state", "up"), "up") == 0;
    sw_port_set_admin(p, up);
    s_ok_pair(req, "port", p->id, "state", up ? "up" : "down");
}

static void op_port_claim(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan = s_need_lan(svc, req, "lan");
    if (!lan)
        return;
    pn_val_t *a = pn_req_args(req);
    const char *owner = pn_get_str(a, "owner", "");
    if (!owner[0]) {
        pn_req_fail(req, PN_EINVAL, "owner is empty; name the NIC as node:ifname");
        return;
    }
    int r = sw_port_claim(lan, owner, (int)pn_get_uint(a, "pid", 0));
    if (r == -ENOSPC) {
        pn_req_fail(req, PN_ETOOLARGE, "LAN '%s' has %d claims already", lan->name, SW_MAX_PORTS);
        return;
    }
    if (r < 0) {
        pn_req_fail(req, s_code(r), "cannot record the claim of %s: %s", owner, strerror(-r));
        return;
    }
    pn_req_ok_with(req, "owner", pn_str(owner));
}

static void op_stats(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan = s_need_lan(svc, req, "lan");
    if (lan)
        pn_req_ok(req, sw_lan_stats(lan));
}

static void s_watch_tick(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    sw_t *sw = arg;
    if (pn_mono_ms() >= sw->watch_until_ms) {
        pn_loop_del_timer(loop, sw->watch_timer);
        sw->watch_timer = NULL;
        return;
    }
    pn_val_t *d = pn_map(), *arr = pn_arr();
    for (sw_lan_t *l = sw->lans; l; l = l->next)
        if (!sw->watch_lan[0] || strcmp(sw->watch_lan, l->name) == 0)
            pn_arr_push(arr, sw_lan_stats(l));
    pn_map_set(d, "lans", arr);
    pn_svc_publish(sw->svc, "stats", "stats", d);
}

static void op_stats_watch(pn_svc_t *svc, pn_req_t *req)
{
    sw_t *sw = s_sw(svc);
    pn_val_t *a = pn_req_args(req);
    const char *lan = pn_get_str(a, "lan", "");
    if (lan[0] && !pn_req_found(req, sw_lan_find(sw, lan), "LAN", lan))
        return;
    unsigned interval = (unsigned)pn_get_uint(a, "interval_ms", 1000);
    uint64_t ttl = pn_get_uint(a, "ttl_ms", 10000);
    /* Several watchers share one publisher: the widest scope and the
     * shortest interval win while they overlap. */
    if (sw->watch_timer) {
        if (strcmp(sw->watch_lan, lan) != 0)
            sw->watch_lan[0] = 0;
        if (interval < sw->watch_interval_ms) {
            pn_loop_del_timer(sw->loop, sw->watch_timer);
            sw->watch_timer = NULL;
        } else {
            interval = sw->watch_interval_ms;
        }
    } else {
        snprintf(sw->watch_lan, sizeof(sw->watch_lan), "%s", lan);
    }
    uint64_t until = pn_mono_ms() + ttl;
    if (until > sw->watch_until_ms || !sw->watch_timer)
        sw->watch_until_ms = until;
    if (!sw->watch_timer) {
        sw->watch_interval_ms = interval;
        sw->watch_timer = pn_loop_add_timer(sw->loop, interval, true, s_watch_tick, sw);
    }
    pn_val_t *d = pn_map();
    pn_map_set_uint(d, "interval_ms", sw->watch_interval_ms);
    pn_map_set_uint(d, "ttl_ms", ttl);
    pn_req_ok(req, d);
}

static void op_sniff_start(pn_svc_t *svc, pn_req_t *req)
{
    sw_lan_t *lan = s_need_lan(svc, req, "lan");
    if (!lan)
        return;
    pn_val_t *a = pn_req_args(req);
    char err[1400];
    sw_sniffer_t *s;
    int r = sw_sniff_start(lan, (unsigned)pn_get_uint(a, "port", 0), pn_get_str(a, "path", ""), &s, err,
                           sizeof(err));
    if (s_failed(req, r, err))
        return;
    s_ok_pair(req, "id", s->id, "path", s->path);
}

static void op_sniff_stop(pn_svc_t *svc, pn_req_t *req)
{
    uint64_t id = pn_get_uint(pn_req_args(req), "id", 0);
    sw_sniffer_t *s = id <= 0xffffffffu ? sw_sniff_find(s_sw(svc), (unsigned)id) : NULL;
    if (!s) {
        pn_req_fail(req, PN_ENOTFOUND, "no sniffer %llu", (unsigned long long)id);
        return;
    }
    sw_pcap_flush(s->pcap);
    pn_val_t *d = sw_sniff_info(s);
    sw_sniff_stop(s, "stopped");
    pn_req_ok(req, d);
}

const pn_svc_op_t sw_ops[] = {
    { PN_OP_LAN_ADD, op_lan_add },
    { PN_OP_LAN_DEL, op_lan_del },
    { PN_OP_LAN_LS, op_lan_ls },
    { PN_OP_LAN_SHOW, op_lan_show },
    { PN_OP_PORT_ADD_TAP, op_port_add_tap },
    { PN_OP_PORT_DEL, op_port_del },
    { PN_OP_PORT_LS, op_port_ls },
    { PN_OP_PORT_SET, op_port_set },
    { PN_OP_PORT_CLAIM, op_port_claim },
    { PN_OP_STATS, op_stats },
    { PN_OP_STATS_WATCH, op_stats_watch },
    { PN_OP_SNIFF_START, op_sniff_start },
    { PN_OP_SNIFF_STOP, op_sniff_stop },
    { NULL, NULL, NULL },
};
