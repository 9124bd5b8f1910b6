/* LANs: creation with their socket directory and VDE listener, deletion,
 * persistence in STATE/switchd/lans, re-adopting ports from the systemd fd
 * store after a restart, summaries and counters. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sw.h"

sw_lan_t *sw_lan_find(sw_t *sw, const char *name)
{
    for (sw_lan_t *l = sw->lans; l; l = l->next)
        if (strcmp(l->name, name) == 0)
            return l;
    return NULL;
}

static int s_state_path(char *out, size_t len)
{
    int n = snprintf(out, len, "%s/switchd/lans", pn_state_dir());
    return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int sw_lans_save(sw_t *sw)
{
    char path[4096], dir[4096];
    if (s_state_path(path, sizeof(path)) < 0)
        return -ENAMETOOLONG;
    snprintf(dir, sizeof(dir), "%s/switchd", pn_state_dir());
    int r = pn_mkdirs(dir, 0755);
    if (r < 0)
        return r;
    pn_val_t *root = pn_map(), *arr = pn_arr();
    for (sw_lan_t *l = sw->lans; l; l = l->next) {
        pn_val_t *m = pn_map();
        pn_map_set_str(m, "name", l->name);
        pn_map_set_uint(m, "mtu", l->mtu);
        pn_map_set_uint(m, "fdb_cap", sw_fdb_cap(l->fdb));
        pn_arr_push(arr, m);
    }
    pn_map_set(root, "lans", arr);
    r = pn_state_save(path, root);
    pn_val_free(root);
    return r;
}

int sw_lans_restore(sw_t *sw)
{
    char path[4096];
    pn_val_t *root = NULL;
    if (s_state_path(path, sizeof(path)) < 0)
        return -ENAMETOOLONG;
    int r = pn_state_load(path, &root);
    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        pn_warn("cannot load %s: %s; starting with no LANs", path, strerror(-r));
        return r;
    }
    pn_val_t *arr = pn_get(root, "lans");
    size_t n = arr && arr->type == PN_ARR ? pn_len(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        pn_val_t *m = pn_at(arr, i);
        const char *name = pn_get_str(m, "name", "");
        uint64_t mtu = pn_get_uint(m, "mtu", 1500), cap = pn_get_uint(m, "fdb_cap", 0);
        char err[256];
        if (!pn_name_valid(name) || mtu < 68 || mtu > 65000 || cap > 1048576) {
            pn_warn("%s: skipping a bad LAN entry (#%zu)", path, i);
            continue;
        }
        if (sw_lan_add(sw, name, (unsigned)mtu, (unsigned)cap, false, NULL, err, sizeof(err)) < 0)
            pn_warn("cannot restore LAN %s: %s", name, err);
        else
            pn_info("restored LAN %s", name);
    }
    pn_val_free(root);
    return 0;
}

void sw_lans_adopt(sw_t *sw)
{
    unsigned adopted = 0, lans = 0;
    pn_val_t *arr = sw_fdstore_saved() ? pn_get(sw_fdstore_saved(), "lans") : NULL;
    size_t n = arr && arr->type == PN_ARR ? pn_len(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        pn_val_t *m = pn_at(arr, i);
        sw_lan_t *lan = sw_lan_find(sw, pn_get_str(m, "name", ""));
        if (!lan)
            continue;
        lans++;
        lan->flooded = pn_get_uint(m, "flooded", 0);
        pn_val_t *ports = pn_get(m, "ports");
        size_t np = ports && ports->type == PN_ARR ? pn_len(ports) : 0;
        for (size_t j = 0; j < np; j++) {
            unsigned before = lan->nlive;
            sw_port_adopt(lan, pn_at(ports, j));
            adopted += lan->nlive - before;
        }
    }
    bool passed = sw_fdstore_passed();
    unsigned dropped = sw_fdstore_release(sw);
    if (passed)
        pn_notice("re-adopted %u ports on %u LANs from the systemd fd store (%u descriptors dropped)",
                  adopted, lans, dropped);
}

/* Remove what we put in a LAN's directory (sockets only) and the directory. */
static void s_rmdir_lan(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_type == DT_SOCK || e->d_type == DT_UNKNOWN) {
                char p[512];
                snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
                struct stat st;
                if (lstat(p, &st) == 0 && S_ISSOCK(st.st_mode))
                    unlink(p);
            }
        }
        closedir(d);
    }
    if (rmdir(dir) < 0 && errno != ENOENT)
        pn_warn("cannot remove %s: %s", dir, strerror(errno));
}

int sw_lan_add(sw_t *sw, const char *name, unsigned mtu, unsigned fdb_cap, bool persist,
               sw_lan_t **out, char *err, size_t errlen)
{
    if (sw_lan_find(sw, name)) {
        snprintf(err, errlen, "LAN '%s' already exists", name);
        return -EEXIST;
    }
    if (sw->nlans >= SW_MAX_LANS) {
        snprintf(err, errlen, "too many LANs (at most %d)", SW_MAX_LANS);
        return -ENOSPC;
    }
    sw_lan_t *lan = calloc(1, sizeof(*lan));
    if (!lan) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    lan->sw = sw;
    lan->lfd = -1;
    snprintf(lan->name, sizeof(lan->name), "%s", name);
    lan->mtu = mtu ? mtu : 1500;
    lan->maxframe = lan->mtu + SW_ETH_OVERHEAD;
    if (lan->maxframe > SW_FRAME_MAX)
        lan->maxframe = SW_FRAME_MAX;
    int n1 = snprintf(lan->dir, sizeof(lan->dir), "%s/lan/%s", pn_run_dir(), name);
    int n2 = snprintf(lan->ctl_path, sizeof(lan->ctl_path), "%s/ctl", lan->dir);
    /* Data sockets are named <dir>/.p<port>-<fd>: keep room for them. */
    if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof(lan->ctl_path) - 16) {
        snprintf(err, errlen, "run directory %s is too long for unix socket paths", pn_run_dir());
        free(lan);
        return -ENAMETOOLONG;
    }
    lan->ports = calloc(SW_MAX_PORTS + 1, sizeof(*lan->ports));
    lan->live = calloc(SW_MAX_PORTS, sizeof(*lan->live));
    lan->fdb = sw_fdb_new(fdb_cap, 0);
    int r;
    if (!lan->ports || !lan->live || !lan->fdb) {
        snprintf(err, errlen, "out of memory");
        r = -ENOMEM;
        goto fail;
    }
    if ((r = pn_mkdirs(lan->dir, 0755)) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", lan->dir, strerror(-r));
        r = -EIO;
        goto fail;
    }
    /* The listener a previous switchd left in the systemd fd store keeps
     * its path and its backlog; else one switchd per RUN dir holds the
     * lock, so a socket left here is stale. */
    lan->lfd = sw_fdstore_take('l', lan->name, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", lan->ctl_path);
    if (lan->lfd < 0)
        unlink(lan->ctl_path);
    if (lan->lfd < 0 && ((lan->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
                         bind(lan->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lan->lfd, 128) < 0)) {
        snprintf(err, errlen, "cannot listen on %s: %s", lan->ctl_path, strerror(errno));
        r = -EIO;
        goto fail;
    }
    /* Like the ipc sockets: owner and group only. */
    chmod(lan->ctl_path, 0660);
    lan->lw = pn_loop_add_fd(sw->loop, lan->lfd, EPOLLIN, sw_vde_on_accept, lan);
    if (!lan->lw) {
        snprintf(err, errlen, "cannot watch %s", lan->ctl_path);
        r = -ENOMEM;
        goto fail;
    }
    lan->next = sw->lans;
    sw->lans = lan;
    sw->nlans++;
    sw_fdstore_lan_added(lan);
    if (persist && (r = sw_lans_save(sw)) < 0)
        pn_warn("cannot save the LAN list: %s", strerror(-r));
    pn_val_t *ev = pn_map();
    pn_map_set_str(ev, "name", lan->name);
    pn_map_set_uint(ev, "mtu", lan->mtu);
    pn_svc_publish(sw->svc, "lan", "lan.added", ev);
    if (out)
        *out = lan;
    return 0;
fail:
    if (lan->lfd >= 0) {
        close(lan->lfd);
        unlink(lan->ctl_path);
        rmdir(lan->dir);
    }
    sw_fdb_destroy(&lan->fdb);
    free(lan->claims);
    free(lan->ports);
    free(lan->live);
    free(lan);
    return r;
}

/* End every port, handshake in progress and sniffer of a LAN. */
static void s_lan_empty(sw_lan_t *lan, const char *reason)
{
    while (lan->nlive > 0)
        sw_port_remove(lan->live[lan->nlive - 1], reason);
    while (lan->pending)
        sw_hs_close(lan->pending, NULL);
    while (lan->sniffers)
        sw_sniff_stop(lan->sniffers, reason);
}

static void s_lan_free(void *arg)
{
    sw_lan_t *lan = arg;
    sw_fdb_destroy(&lan->fdb);
    free(lan->claims);
    free(lan->ports);
    free(lan->live);
    free(lan);
}

int sw_lan_del(sw_t *sw, sw_lan_t *lan, bool force, unsigned *closed)
{
    if (lan->nlive > 0 && !force)
        return -EBUSY;
    *closed = lan->nlive;
    s_lan_empty(lan, "LAN deleted");
    sw_fdstore_lan_removed(lan);
    pn_loop_del(sw->loop, lan->lw);
    close(lan->lfd);
    unlink(lan->ctl_path);
    s_rmdir_lan(lan->dir);
    PN_SLIST_REMOVE(sw->lans, lan);
    sw->nlans--;
    int r = sw_lans_save(sw);
    if (r < 0)
        pn_warn("cannot save the LAN list: %s", strerror(-r));
    pn_val_t *ev = pn_map();
    pn_map_set_str(ev, "name", lan->name);
    pn_svc_publish(sw->svc, "lan", "lan.removed", ev);
    /* Ports freed above are deferred too; the LAN outlives them. */
    pn_loop_defer(sw->loop, s_lan_free, lan);
    return 0;
}

pn_val_t *sw_lan_summary(sw_lan_t *lan)
{
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "name", lan->name);
    pn_map_set_uint(m, "mtu", lan->mtu);
    pn_map_set_str(m, "dir", lan->dir);
    pn_map_set_str(m, "ctl", lan->ctl_path);
    pn_map_set_uint(m, "ports", lan->nlive);
    pn_map_set_uint(m, "fdb_entries", sw_fdb_count(lan->fdb));
    pn_map_set_uint(m, "fdb_cap", sw_fdb_cap(lan->fdb));
    return m;
}

pn_val_t *sw_lan_stats(sw_lan_t *lan)
{
    pn_val_t *m = pn_map(), *ports = pn_arr();
    pn_map_set_str(m, "lan", lan->name);
    for (unsigned id = 1; id <= SW_MAX_PORTS; id++) {
        sw_port_t *p = lan->ports[id];
        if (!p)
            continue;
        pn_val_t *s = pn_map(), *d = pn_map();
        pn_map_set_uint(s, "port", p->id);
        pn_map_set_str(s, "kind", sw_port_kind_name(p->kind));
        pn_map_set_str(s, "admin", p->admin_up ? "up" : "down");
        if (p->owner[0])
            pn_map_set_str(s, "owner", p->owner);
        pn_map_set_uint(s, "rx_frames", p->rx_frames);
        pn_map_set_uint(s, "rx_bytes", p->rx_bytes);
        pn_map_set_uint(s, "tx_frames", p->tx_frames);
        pn_map_set_uint(s, "tx_bytes", p->tx_bytes);
        pn_map_set_uint(d, "runt", p->d_runt);
        pn_map_set_uint(d, "oversize", p->d_oversize);
        pn_map_set_uint(d, "admin_down", p->d_admin);
        pn_map_set_uint(d, "queue_full", p->d_queue);
        pn_map_set(s, "drops", d);
        pn_arr_push(ports, s);
    }
    pn_map_set(m, "ports", ports);
    pn_map_set_uint(m, "fdb_entries", sw_fdb_count(lan->fdb));
    pn_map_set_uint(m, "fdb_cap", sw_fdb_cap(lan->fdb));
    pn_map_set_uint(m, "fdb_evictions", sw_fdb_evictions(lan->fdb));
    pn_map_set_uint(m, "flooded", lan->flooded);
    pn_val_t *sn = pn_arr();
    for (sw_sniffer_t *s = lan->sniffers; s; s = s->next)
        pn_arr_push(sn, sw_sniff_info(s));
    pn_map_set(m, "sniffers", sn);
    return m;
}

void sw_lans_stop(sw_t *sw)
{
    for (sw_lan_t *l = sw->lans; l; l = l->next)
        s_lan_empty(l, "switchd stopping");
}

/* At exit: close and free every LAN (their ports are gone already); the
 * LAN list stays in STATE for the next start. */
void sw_lans_free(sw_t *sw)
{
    while (sw->lans) {
        sw_lan_t *lan = sw->lans;
        sw->lans = lan->next;
        s_lan_empty(lan, "switchd stopping");
        if (lan->lw)
            pn_loop_del(sw->loop, lan->lw);
        close(lan->lfd);
        unlink(lan->ctl_path);
        s_lan_free(lan);
    }
    sw->nlans = 0;
}

/* Once a second: age the MAC tables, time out stalled handshakes. */
void sw_tick(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    sw_t *sw = arg;
    uint64_t now = pn_mono_ms();
    for (sw_lan_t *l = sw->lans; l; l = l->next) {
        sw_fdb_expire(l->fdb, now);
        sw_hs_sweep(l, now);
    }
    sw_fdstore_tick(sw);
}
