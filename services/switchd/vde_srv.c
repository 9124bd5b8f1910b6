/* The VDE server of a LAN: accept on RUN/lan/<lan>/ctl, read the
 * handshake (parsed by vde.c), make the port's data socket, answer, and
 * hand the two descriptors to a new port (port.c).  Handshakes in progress
 * are bounded in number and in time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sw.h"

static pn_ratelimit_t s_rl_hs = PN_RATELIMIT_INIT(1000, 5);
static pn_ratelimit_t s_rl_accept = PN_RATELIMIT_INIT(1000, 3);
/* VDE clients come and go at their own pace: their port lines are limited. */
static pn_ratelimit_t s_rl_vdeport = PN_RATELIMIT_INIT(1000, 10);

/* Take hs off its LAN's list of handshakes in progress and off the loop;
 * freed after this loop iteration, since its own callback may be running. */
static void s_hs_end(sw_hs_t *hs)
{
    sw_lan_t *lan = hs->lan;
    PN_SLIST_REMOVE(lan->pending, hs);
    lan->npending--;
    pn_loop_del(lan->sw->loop, hs->w);
    hs->dead = true;
    pn_loop_defer(lan->sw->loop, free, hs);
}

void sw_hs_close(sw_hs_t *hs, const char *why)
{
    if (why)
        pn_log_rl(&s_rl_hs, PN_LOG_WARNING, "lan %s: VDE client refused: %s", hs->lan->name, why);
    s_hs_end(hs);
    close(hs->fd);
}

void sw_hs_sweep(sw_lan_t *lan, uint64_t now_ms)
{
    for (sw_hs_t *hs = lan->pending, *next; hs; hs = next) {
        next = hs->next;
        if (now_ms - hs->started_ms >= SW_HANDSHAKE_MS)
            sw_hs_close(hs, "handshake timed out");
    }
}

static void s_format_peer(sw_port_t *p, const struct sockaddr_un *sa, int abstract)
{
    if (!abstract) {
        snprintf(p->peer, sizeof(p->peer), "%s", sa->sun_path);
        return;
    }
    /* Abstract names are binary: show them as @ and hex. */
    size_t o = 0, last = sizeof(sa->sun_path);
    while (last > 1 && sa->sun_path[last - 1] == 0)
        last--;
    p->peer[o++] = '@';
    for (size_t i = 1; i < last && o + 3 < sizeof(p->peer); i++)
        o += (size_t)snprintf(p->peer + o, sizeof(p->peer) - o, "%02x", (unsigned char)sa->sun_path[i]);
    p->peer[o] = 0;
}

static void s_hs_complete(sw_hs_t *hs, const sw_vde_req_t *req)
{
    sw_lan_t *lan = hs->lan;
    unsigned id = sw_port_free_id(lan, req->port);
    if (!id) {
        sw_hs_close(hs, "LAN has no free port");
        return;
    }
    sw_port_t *p = sw_port_new(lan, id, SW_PORT_VDE);
    if (!p) {
        sw_hs_close(hs, "out of memory");
        return;
    }
    snprintf(p->descr, sizeof(p->descr), "%s", req->descr);
    s_format_peer(p, &req->addr, req->abstract);
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    if (getsockopt(hs->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
        p->pid = cred.pid;
    sw_port_claimed(p);

    struct sockaddr_un me = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const char *why = NULL;
    if (fd < 0) {
        why = "cannot create a data socket";
        goto fail;
    }
    snprintf(p->data_path, sizeof(p->data_path), "%s/.p%u-%d", lan->dir, id, fd);
    snprintf(me.sun_path, sizeof(me.sun_path), "%s", p->data_path);
    unlink(p->data_path);
    if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        why = "cannot bind the data socket";
        p->data_path[0] = 0;
        goto fail;
    }
    /* Connect before replying: libvdeplug unlinks its socket's name right
     * after it has our answer, and a connected socket also makes the kernel
     * refuse datagrams from anyone but this client. */
    if (connect(fd, (const struct sockaddr *)&req->addr, sizeof(req->addr)) < 0) {
        why = "cannot reach the client's data socket";
        goto fail;
    }
    int sz = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    ssize_t n = send(hs->fd, &me, sizeof(me), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n != (ssize_t)sizeof(me)) {
        why = "cannot send the handshake reply";
        goto fail;
    }
    /* The stream now belongs to the port. */
    p->fd = fd;
    p->ctl_fd = hs->fd;
    hs->fd = -1;
    s_hs_end(hs);

    int r = sw_port_watch(p);
    sw_port_attach(p);
    pn_log_rl(&s_rl_vdeport, PN_LOG_INFO, "lan %s: VDE port %u up (%s)", lan->name, id, p->descr);
    if (r < 0)
        sw_port_remove(p, "cannot watch the port's sockets");
    return;
fail:
    if (fd >= 0)
        close(fd);
    if (p->data_path[0])
        unlink(p->data_path);
    free(p);
    sw_hs_close(hs, why);
}

static void s_on_hs(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    sw_hs_t *hs = arg;
    if (hs->dead)
        return;
    ssize_t n = recv(fd, hs->buf + hs->len, sizeof(hs->buf) - hs->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        sw_hs_close(hs, n == 0 ? "closed in the middle of the handshake" : "control stream error");
        return;
    }
    hs->len += (size_t)n;
    sw_vde_req_t req;
    const char *why;
    int r = sw_vde_parse(hs->buf, hs->len, &req, &why);
    if (r == -EAGAIN)
        return;
    if (r < 0) {
        sw_hs_close(hs, why);
        return;
    }
    s_hs_complete(hs, &req);
}

void sw_vde_on_accept(pn_loop_t *loop, int lfd, uint32_t events, void *arg)
{
    sw_lan_t *lan = arg;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                pn_log_rl(&s_rl_accept, PN_LOG_WARNING, "lan %s: accept: %s", lan->name, strerror(errno));
            return;
        }
        if (lan->npending >= SW_MAX_PENDING) {
            pn_log_rl(&s_rl_hs, PN_LOG_WARNING,
                      "lan %s: VDE client refused: %d handshakes already in progress", lan->name,
                      SW_MAX_PENDING);
            close(fd);
            continue;
        }
        sw_hs_t *hs = calloc(1, sizeof(*hs));
        if (!hs) {
            close(fd);
            continue;
        }
        hs->lan = lan;
        hs->fd = fd;
        hs->started_ms = pn_mono_ms();
        hs->w = pn_loop_add_fd(loop, fd, EPOLLIN, s_on_hs, hs);
        if (!hs->w) {
            close(fd);
            free(hs);
            continue;
        }
        hs->next = lan->pending;
        lan->pending = hs;
        lan->npending++;
    }
}
