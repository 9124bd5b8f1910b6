/* Ports: their numbers, their descriptors on the loop, tap ports, removal
 * and admin state.  A VDE port is made by the VDE server (vde_srv.c) once
 * its handshake is done; it lives as long as its control stream.  A tap
 * port's interface is made and closed by tap.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sw.h"

/* VDE clients come and go at their own pace: their port lines are limited. */
static pn_ratelimit_t s_rl_vdeport = PN_RATELIMIT_INIT(1000, 10);

static void s_publish_port(sw_port_t *p, const char *type, const char *reason)
{
    pn_val_t *ev = pn_map();
    pn_map_set_str(ev, "lan", p->lan->name);
    pn_map_set_uint(ev, "port", p->id);
    pn_map_set_str(ev, "kind", sw_port_kind_name(p->kind));
    if (p->kind == SW_PORT_TAP)
        pn_map_set_str(ev, "ifname", p->ifname);
    else
        pn_map_set_str(ev, "descr", p->descr);
    if (p->owner[0])
        pn_map_set_str(ev, "owner", p->owner);
    if (reason)
        pn_map_set_str(ev, "reason", reason);
    if (strcmp(type, "port.admin") == 0)
        pn_map_set_str(ev, "state", p->admin_up ? "up" : "down");
    pn_svc_publish(p->lan->sw->svc, "port", type, ev);
}

/* The owner of the one claim of pid on lan; NULL when none or several. */
static const char *s_claim_owner(sw_lan_t *lan, int pid)
{
    const char *found = NULL;
    if (pid <= 0)
        return NULL;
    for (unsigned i = 0; i < lan->nclaims; i++) {
        if (lan->claims[i].pid != pid)
            continue;
        if (found)
            return NULL;
        found = lan->claims[i].owner;
    }
    return found;
}

void sw_port_claimed(sw_port_t *p)
{
    const char *o = s_claim_owner(p->lan, p->pid);
    if (o)
        snprintf(p->owner, sizeof(p->owner), "%s", o);
}

int sw_port_claim(sw_lan_t *lan, const char *owner, int pid)
{
    unsigned i = 0;
    while (i < lan->nclaims && strcmp(lan->claims[i].owner, owner) != 0)
        i++;
    if (pid <= 0) {
        if (i < lan->nclaims)
            lan->claims[i] = lan->claims[--lan->nclaims];
        return 0;
    }
    if (i == lan->nclaims) {
        if (lan->nclaims >= SW_MAX_PORTS)
            return -ENOSPC;
        sw_claim_t *c = realloc(lan->claims, (lan->nclaims + 1) * sizeof(*c));
        if (!c)
            return -ENOMEM;
        lan->claims = c;
        lan->nclaims++;
    }
    lan->claims[i].pid = pid;
    snprintf(lan->claims[i].owner, sizeof(lan->claims[i].owner), "%s", owner);
    /* A guest that connected before vmd knew its pid (qemu does at once). */
    for (unsigned k = 0; k < lan->nlive; k++) {
        sw_port_t *p = lan->live[k];
        const char *o = p->kind == SW_PORT_VDE ? s_claim_owner(lan, p->pid) : NULL;
        if (o && strcmp(o, p->owner) != 0) {
            snprintf(p->owner, sizeof(p->owner), "%s", o);
            s_publish_port(p, "port.owner", NULL);
            sw_fdstore_dirty(lan->sw);
        }
    }
    return 0;
}

unsigned sw_port_free_id(sw_lan_t *lan, unsigned want)
{
    if (want >= 1 && want <= SW_MAX_PORTS && !lan->ports[want])
        return want;
    for (unsigned id = 1; id <= SW_MAX_PORTS; id++)
        if (!lan->ports[id])
            return id;
    return 0;
}

sw_port_t *sw_port_new(sw_lan_t *lan, unsigned id, sw_port_kind_t kind)
{
    sw_port_t *p = malloc(sizeof(*p));
    if (p)
        *p = (sw_port_t){ .lan = lan, .id = id, .kind = kind, .fd = -1, .ctl_fd = -1, .admin_up = true };
    return p;
}

void sw_port_attach(sw_port_t *p)
{
    sw_lan_t *lan = p->lan;
    lan->ports[p->id] = p;
    p->live_idx = lan->nlive;
    lan->live[lan->nlive++] = p;
    s_publish_port(p, "port.up", NULL);
    sw_fdstore_port_added(p);
}

static void s_port_free(void *arg)
{
    free(arg);
}

void sw_port_remove(sw_port_t *p, const char *reason)
{
    if (p->dead)
        return;
    sw_lan_t *lan = p->lan;
    sw_t *sw = lan->sw;
    p->dead = true;
    /* Sniffers of this very port end with it. */
    for (sw_sniffer_t *s = lan->sniffers, *next; s; s = next) {
        next = s->next;
        if (s->port == p->id)
            sw_sniff_stop(s, "port removed");
    }
    sw_fdb_flush_port(lan->fdb, p->id);
    sw_fdstore_port_removed(p);
    lan->ports[p->id] = NULL;
    sw_port_t *last = lan->live[--lan->nlive];
    lan->live[p->live_idx] = last;
    last->live_idx = p->live_idx;
    if (p->w)
        pn_loop_del(sw->loop, p->w);
    if (p->wctl)
        pn_loop_del(sw->loop, p->wctl);
    if (p->fd >= 0 && p->kind == SW_PORT_TAP)
        sw_tap_close(p->fd, p->close_async);
    else if (p->fd >= 0)
        close(p->fd);
    if (p->ctl_fd >= 0)
        close(p->ctl_fd);
    if (p->data_path[0])
        unlink(p->data_path);
    sw_fwd_backlog_free(p);
    if (p->kind == SW_PORT_VDE)
        pn_log_rl(&s_rl_vdeport, PN_LOG_INFO, "lan %s: VDE port %u down: %s", lan->name, p->id, reason);
    else
        pn_info("lan %s: tap port %u (%s) down: %s", lan->name, p->id, p->ifname, reason);
    s_publish_port(p, "port.down", reason);
    pn_loop_defer(sw->loop, s_port_free, p);
}

void sw_port_set_admin(sw_port_t *p, bool up)
{
    if (p->admin_up == up)
        return;
    p->admin_up = up;
    if (!up)
        sw_fdb_flush_port(p->lan->fdb, p->id);
    if (p->kind == SW_PORT_TAP && p->fd >= 0) {
        int r = sw_tap_carrier(p->fd, up);
        if (r < 0)
            pn_warn("lan %s: port %u: cannot turn the carrier of %s %s: %s", p->lan->name, p->id, p->ifname,
                    up ? "on" : "off", strerror(-r));
    }
    s_publish_port(p, "port.admin", NULL);
    sw_fdstore_dirty(p->lan->sw);
}

static void s_on_data(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    sw_port_t *p = arg;
    if (p->dead)
        return;
    const char *gone = sw_fwd_input(p, events);
    if (gone)
        sw_port_remove(p, gone);
}

static void s_on_ctl(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    sw_port_t *p = arg;
    char buf[512];
    /* After the handshake the stream carries nothing we need; its end is
     * the end of the port.  Read a bounded amount per wakeup. */
    for (int i = 0; i < 8; i++) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        sw_port_remove(p, n == 0 ? "client closed its control stream" : "control stream error");
        return;
    }
}

int sw_port_watch(sw_port_t *p)
{
    pn_loop_t *loop = p->lan->sw->loop;
    p->w = pn_loop_add_fd(loop, p->fd, EPOLLIN, s_on_data, p);
    if (p->ctl_fd >= 0)
        p->wctl = pn_loop_add_fd(loop, p->ctl_fd, EPOLLIN | EPOLLRDHUP, s_on_ctl, p);
    return p->w && (p->ctl_fd < 0 || p->wctl) ? 0 : -ENOMEM;
}

/* A port whose descriptors a previous switchd left in the systemd fd
 * store (fdstore.c): the same number, the same sockets or tap, the same
 * counters. */
sw_port_t *sw_port_adopt(sw_lan_t *lan, pn_val_t *m)
{
    uint64_t id = pn_get_uint(m, "port", 0);
    const char *kind = pn_get_str(m, "kind", "");
    if (id < 1 || id > SW_MAX_PORTS || lan->ports[id]) {
        pn_warn("%s: skipping a bad port entry of LAN %s", "switchd.fds", lan->name);
        return NULL;
    }
    sw_port_kind_t k;
    int fd, cfd = -1;
    if (strcmp(kind, "tap") == 0) {
        k = SW_PORT_TAP;
        fd = sw_fdstore_take('t', lan->name, (unsigned)id);
        if (fd < 0) {
            pn_warn("lan %s: tap port %u: systemd kept no descriptor; the port is gone", lan->name,
                    (unsigned)id);
            return NULL;
        }
    } else if (strcmp(kind, "vde") == 0) {
        k = SW_PORT_VDE;
        fd = sw_fdstore_take('d', lan->name, (unsigned)id);
        cfd = sw_fdstore_take('c', lan->name, (unsigned)id);
        if (fd < 0 || cfd < 0) {
            pn_warn("lan %s: VDE port %u: systemd kept no descriptor; the port is gone", lan->name,
                    (unsigned)id);
            if (fd >= 0)
                close(fd);
            if (cfd >= 0)
                close(cfd);
            return NULL;
        }
    } else {
        return NULL;
    }
    const char *name = pn_get_str(m, k == SW_PORT_TAP ? "ifname" : "descr", "");
    sw_port_t *p = sw_port_new(lan, (unsigned)id, k);
    if (!p) {
        close(fd);
        if (cfd >= 0)
            close(cfd);
        return NULL;
    }
    p->fd = fd;
    p->ctl_fd = cfd;
    if (k == SW_PORT_TAP)
        snprintf(p->ifname, sizeof(p->ifname), "%s", name);
    else
        snprintf(p->descr, sizeof(p->descr), "%s", name);
    int r = sw_port_watch(p);
    sw_port_attach(p);
    pn_info("lan %s: %s port %u (%s) re-adopted", lan->name, kind, (unsigned)id, name);
    if (r < 0) {
        sw_port_remove(p, "cannot watch the port's descriptors");
        return NULL;
    }
    if (k == SW_PORT_VDE) {
        snprintf(p->peer, sizeof(p->peer), "%s", pn_get_str(m, "peer", ""));
        snprintf(p->data_path, sizeof(p->data_path), "%s", pn_get_str(m, "data_path", ""));
    }
    p->admin_up = pn_get_bool(m, "admin_up", true);
    snprintf(p->owner, sizeof(p->owner), "%s", pn_get_str(m, "owner", ""));
    p->pid = (int)pn_get_uint(m, "pid", 0);
    p->rx_frames = pn_get_uint(m, "rx_frames", 0);
    p->rx_bytes = pn_get_uint(m, "rx_bytes", 0);
    p->tx_frames = pn_get_uint(m, "tx_frames", 0);
    p->tx_bytes = pn_get_uint(m, "tx_bytes", 0);
    p->d_runt = pn_get_uint(m, "d_runt", 0);
    p->d_oversize = pn_get_uint(m, "d_oversize", 0);
    p->d_admin = pn_get_uint(m, "d_admin", 0);
    p->d_queue = pn_get_uint(m, "d_queue", 0);
    return p;
}

pn_val_t *sw_port_info(sw_port_t *p)
{
    pn_val_t *m = pn_map();
    pn_map_set_uint(m, "port", p->id);
    pn_map_set_str(m, "kind", sw_port_kind_name(p->kind));
    pn_map_set_str(m, "admin", p->admin_up ? "up" : "down");
    if (p->owner[0])
        pn_map_set_str(m, "owner", p->owner);
    if (p->kind == SW_PORT_VDE) {
        pn_map_set_str(m, "descr", p->descr);
        pn_map_set_str(m, "peer", p->peer);
    } else {
        /* vmd may have renamed the interface in its namespace: ask the
         * kernel for the name it has now. */
        sw_tap_ifname(p->fd, p->ifname);
        pn_map_set_str(m, "ifname", p->ifname);
    }
    return m;
}

/* ------------------------------------------------------------------ tap */

int sw_port_add_tap(sw_lan_t *lan, const char *ifname, const char *netns, const uint8_t *mac, const char *owner,
                    sw_port_t **out, char *err, size_t errlen)
{
    int r = sw_tap_names_ok(ifname, netns, err, errlen);
    if (r < 0)
        return r;
    unsigned id = sw_port_free_id(lan, 0);
    if (!id) {
        snprintf(err, errlen, "LAN '%s' has no free port (at most %d)", lan->name, SW_MAX_PORTS);
        return -ENOSPC;
    }
    char name[IFNAMSIZ];
    int fd = sw_tap_open(lan->name, lan->mtu, ifname, netns, mac, name, err, errlen);
    if (fd < 0)
        return fd;
    sw_port_t *p = sw_port_new(lan, id, SW_PORT_TAP);
    if (!p) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    p->fd = fd;
    p->close_async = netns != NULL;
    snprintf(p->ifname, sizeof(p->ifname), "%s", name);
    snprintf(p->owner, sizeof(p->owner), "%s", owner ? owner : "");
    if (sw_port_watch(p) < 0) {
        close(fd);
        free(p);
        snprintf(err, errlen, "cannot watch the tap fd");
        return -ENOMEM;
    }
    sw_port_attach(p);
    pn_info("lan %s: tap port %u up (%s)", lan->name, id, p->ifname);
    *out = p;
    return 0;
}
