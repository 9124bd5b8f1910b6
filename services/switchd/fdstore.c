/* Restart without loss under systemd: switchd keeps every descriptor that
 * makes a LAN or a port in systemd's file-descriptor store, and re-adopts
 * them when it starts again.
 *
 * What is kept, under these names (FDNAME=, no ':' allowed):
 *   l.<lan>          the LAN's VDE control listener (RUN/lan/<lan>/ctl)
 *   d.<lan>.<port>   a VDE port's data socket (connected to the client)
 *   c.<lan>.<port>   a VDE port's control stream (its end ends the port)
 *   t.<lan>.<port>   a tap port's tap descriptor
 * and, next to them, RUN/switchd.fds: a msgpack map of each port's kind,
 * admin state, names and counters, rewritten once per loop iteration after
 * a change and once a second for the counters.
 *
 * So after a kill -9 or a watchdog abort systemd keeps the taps alive (a
 * tap dies with its last descriptor), VDE clients never see their control
 * stream end, and the new switchd serves the same ports under the same
 * numbers.  Lost: frames that arrived while no switchd ran (beyond the
 * sockets' queues), the MAC tables (relearnt by flooding), sniffers, VDE
 * handshakes in progress, and at most the last second of counting.
 *
 * The store is used when NOTIFY_SOCKET and FDSTORE (its size: systemd 254
 * and later set it when FileDescriptorStoreMax= is set; our unit sets it
 * for older ones) are both in the environment.  Otherwise (`plugnet
 * daemons start`, tests) every function here returns at once.
 *
 * This file only keeps and hands back descriptors; lan.c and port.c
 * rebuild LANs and ports from them (sw_lans_adopt). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "sw.h"

#define SW_FDSTORE_MAX 16384     /* descriptors re-adopted at most */

static struct {
    bool enabled;                /* under systemd, with a notify socket */
    bool dirty, scheduled;
    sw_t *sw;
    /* Descriptors handed back by systemd at start, until taken. */
    int nfds;
    int *fds;
    char **names;
    pn_val_t *state;             /* RUN/switchd.fds as loaded */
} S;

static int s_state_path(char *out, size_t len)
{
    int n = snprintf(out, len, "%s/switchd.fds", pn_run_dir());
    return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static void s_name(char *out, size_t len, char kind, const char *lan, unsigned port)
{
    if (port)
        snprintf(out, len, "%c.%s.%u", kind, lan, port);
    else
        snprintf(out, len, "%c.%s", kind, lan);
}

static void s_store(int fd, const char *name)
{
    char msg[128];
    if (fd < 0)
        return;
    snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
    int r = sd_pid_notify_with_fds(0, 0, msg, &fd, 1);
    if (r < 0) {
        static pn_ratelimit_t rl = PN_RATELIMIT_INIT(10000, 3);
        pn_log_rl(&rl, PN_LOG_WARNING, "cannot hand %s to the systemd fd store: %s", name, strerror(-r));
    }
}

static void s_unstore(const char *name)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
    sd_notify(0, msg);
}

/* ------------------------------------------------------------ saving */

static pn_val_t *s_port_state(sw_port_t *p)
{
    pn_val_t *m = pn_map();
    pn_map_set_uint(m, "port", p->id);
    pn_map_set_str(m, "kind", sw_port_kind_name(p->kind));
    pn_map_set_bool(m, "admin_up", p->admin_up);
    pn_map_set_str(m, "ifname", p->ifname);
    pn_map_set_str(m, "descr", p->descr);
    pn_map_set_str(m, "owner", p->owner);
    pn_map_set_uint(m, "pid", (uint64_t)(p->pid > 0 ? p->pid : 0));
    pn_map_set_str(m, "peer", p->peer);
    pn_map_set_str(m, "data_path", p->data_path);
    pn_map_set_uint(m, "rx_frames", p->rx_frames);
    pn_map_set_uint(m, "rx_bytes", p->rx_bytes);
    pn_map_set_uint(m, "tx_frames", p->tx_frames);
    pn_map_set_uint(m, "tx_bytes", p->tx_bytes);
    pn_map_set_uint(m, "d_runt", p->d_runt);
    pn_map_set_uint(m, "d_oversize", p->d_oversize);
    pn_map_set_uint(m, "d_admin", p->d_admin);
    pn_map_set_uint(m, "d_queue", p->d_queue);
    return m;
}

static void s_save(sw_t *sw)
{
    char path[4200];
    if (s_state_path(path, sizeof(path)) < 0)
        return;
    pn_val_t *root = pn_map(), *lans = pn_arr();
    for (sw_lan_t *l = sw->lans; l; l = l->next) {
        pn_val_t *m = pn_map(), *ports = pn_arr();
        pn_map_set_str(m, "name", l->name);
        pn_map_set_uint(m, "flooded", l->flooded);
        for (unsigned i = 0; i < l->nlive; i++)
            if (!l->live[i]->dead)
                pn_arr_push(ports, s_port_state(l->live[i]));
        pn_map_set(m, "ports", ports);
        pn_arr_push(lans, m);
    }
    pn_map_set(root, "lans", lans);
    int r = pn_state_save(path, root);
    pn_val_free(root);
    if (r < 0) {
        static pn_ratelimit_t rl = PN_RATELIMIT_INIT(10000, 3);
        pn_log_rl(&rl, PN_LOG_WARNING, "cannot write %s: %s", path, strerror(-r));
    }
    S.dirty = false;
}

static void s_flush(void *arg)
{
    S.scheduled = false;
    if (S.dirty && S.sw)
        s_save(S.sw);
}

/* Rewrite the state file at the end of this loop iteration: many changes
 * in one iteration cost one write. */
void sw_fdstore_dirty(sw_t *sw)
{
    if (!S.enabled)
        return;
    S.sw = sw;
    S.dirty = true;
    if (!S.scheduled && pn_loop_defer(sw->loop, s_flush, NULL) == 0)
        S.scheduled = true;
}

void sw_fdstore_tick(sw_t *sw)
{
    if (!S.enabled)
        return;
    S.sw = sw;
    s_save(sw);
}

void sw_fdstore_lan_added(sw_lan_t *lan)
{
    if (!S.enabled)
        return;
    char name[64];
    s_name(name, sizeof(name), 'l', lan->name, 0);
    s_store(lan->lfd, name);
    sw_fdstore_dirty(lan->sw);
}

void sw_fdstore_lan_removed(sw_lan_t *lan)
{
    if (!S.enabled)
        return;
    char name[64];
    s_name(name, sizeof(name), 'l', lan->name, 0);
    s_unstore(name);
    sw_fdstore_dirty(lan->sw);
}

void sw_fdstore_port_added(sw_port_t *p)
{
    if (!S.enabled)
        return;
    char name[64];
    if (p->kind == SW_PORT_TAP) {
        s_name(name, sizeof(name), 't', p->lan->name, p->id);
        s_store(p->fd, name);
    } else {
        s_name(name, sizeof(name), 'd', p->lan->name, p->id);
        s_store(p->fd, name);
        s_name(name, sizeof(name), 'c', p->lan->name, p->id);
        s_store(p->ctl_fd, name);
    }
    sw_fdstore_dirty(p->lan->sw);
}

void sw_fdstore_port_removed(sw_port_t *p)
{
    if (!S.enabled)
        return;
    char name[64];
    static const char kinds[] = { 't', 'd', 'c' };
    for (size_t i = 0; i < sizeof(kinds); i++) {
        s_name(name, sizeof(name), kinds[i], p->lan->name, p->id);
        s_unstore(name);
    }
    sw_fdstore_dirty(p->lan->sw);
}

/* --------------------------------------------------------- re-adopting */

int sw_fdstore_load(sw_t *sw)
{
    S.sw = sw;
    const char *max = getenv("FDSTORE");
    S.enabled = getenv("NOTIFY_SOCKET") && max && atoi(max) > 0;
    char **names = NULL;
    int n = sd_listen_fds_with_names(1, &names);
    if (n < 0) {
        pn_warn("cannot read the descriptors systemd passed: %s", strerror(-n));
        return n;
    }
    if (n == 0) {
        free(names);
        return 0;
    }
    if (n > SW_FDSTORE_MAX) {
        pn_warn("systemd passed %d descriptors, more than %d: closing the rest", n, SW_FDSTORE_MAX);
        for (int i = SW_FDSTORE_MAX; i < n; i++)
            close(SD_LISTEN_FDS_START + i);
    }
    S.nfds = n > SW_FDSTORE_MAX ? SW_FDSTORE_MAX : n;
    S.fds = calloc((size_t)S.nfds, sizeof(*S.fds));
    S.names = names;
    if (!S.fds) {
        for (int i = 0; i < n; i++)
            close(SD_LISTEN_FDS_START + i);
        S.nfds = 0;
        return -ENOMEM;
    }
    for (int i = 0; i < S.nfds; i++)
        S.fds[i] = SD_LISTEN_FDS_START + i;
    char path[4200];
    if (s_state_path(path, sizeof(path)) == 0) {
        int r = pn_state_load(path, &S.state);
        if (r < 0) {
            pn_warn("cannot load %s: %s; the %d descriptors systemd kept cannot be re-adopted", path,
                    strerror(-r), S.nfds);
            S.state = NULL;
        }
    }
    pn_notice("systemd passed %d descriptors from the previous switchd", S.nfds);
    return 0;
}

int sw_fdstore_take(char kind, const char *lan, unsigned port)
{
    char name[64];
    s_name(name, sizeof(name), kind, lan, port);
    for (int i = 0; i < S.nfds; i++)
        if (S.fds[i] >= 0 && S.names[i] && strcmp(S.names[i], name) == 0) {
            int fd = S.fds[i];
            S.fds[i] = -1;
            return fd;
        }
    return -1;
}

pn_val_t *sw_fdstore_saved(void)
{
    return S.state;
}

bool sw_fdstore_passed(void)
{
    return S.nfds > 0;
}

unsigned sw_fdstore_release(sw_t *sw)
{
    /* What nobody claimed belongs to nothing any more: out of the store. */
    unsigned dropped = 0;
    for (int i = 0; i < S.nfds; i++)
        if (S.fds[i] >= 0) {
            close(S.fds[i]);
            if (S.names[i])
                s_unstore(S.names[i]);
            dropped++;
        }
    free(S.fds);
    S.fds = NULL;
    if (S.names)
        for (int i = 0; S.names[i]; i++)
            free(S.names[i]);
    free(S.names);
    S.names = NULL;
    S.nfds = 0;
    pn_val_free(S.state);
    S.state = NULL;
    if (S.enabled)
        s_save(sw);
    return dropped;
}
