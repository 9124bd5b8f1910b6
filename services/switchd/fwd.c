/* The data path: receive a batch from one port, learn, look up, queue each
 * frame on its egress ports (no copy: the queues point into the batch
 * slots), then flush every touched port with one sendmmsg (VDE) or a
 * write per frame (tap).  Nothing here blocks: a full egress drops and
 * counts.  Sniffers (sniff.c) tap frames on the way through. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gso.h"
#include "sw.h"

static pn_ratelimit_t s_rl_io = PN_RATELIMIT_INIT(1000, 5);

static void s_flush_port(sw_t *sw, sw_port_t *p);
static void s_flush_ports(sw_t *sw);

static inline void s_queue(sw_t *sw, sw_port_t *p, void *base, size_t len)
{
    if (p->ntx >= SW_TXQ)
        s_flush_port(sw, p);
    struct iovec *iov = &p->txiov[p->ntx++];
    iov->iov_base = base;
    iov->iov_len = len;
    if (!p->dirty) {
        p->dirty = true;
        p->next_dirty = sw->dirty;
        sw->dirty = p;
    }
}

/* A port without offloads gets an offloaded frame: segment it (or fill in
 * its checksum) once into the arena, then queue the pieces. */
static void s_queue_soft(sw_t *sw, sw_port_t *p, unsigned char *hdr, size_t len)
{
    const struct virtio_net_hdr *vh = (const void *)hdr;
    unsigned char *eth = hdr + SW_HDR;
    if (sw->soft_src != hdr) {
        size_t need = len + (len / 512 + 2) * 128;
        if (sw->arena_used + need > SW_ARENA) {
            s_flush_ports(sw); /* queues point into the arena: empty them first */
            sw->arena_used = 0;
        }
        sw->soft_src = hdr;
        unsigned char *o = sw->arena + sw->arena_used;
        if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
            sw->soft_n = sw_gso_segment(eth, len, vh, o, SW_ARENA - sw->arena_used, sw->soft_iov,
                                        SW_SOFT_SEGS);
        } else {
            memcpy(o, eth, len);
            sw->soft_n = sw_csum_complete(o, len, vh) == 0 ? 1 : -EINVAL;
            sw->soft_iov[0].iov_base = o;
            sw->soft_iov[0].iov_len = len;
        }
        for (int i = 0; i < sw->soft_n; i++)
            sw->arena_used += sw->soft_iov[i].iov_len;
    }
    if (sw->soft_n < 0) {
        p->d_oversize++; /* a super-frame we cannot cut for this port */
        return;
    }
    for (int i = 0; i < sw->soft_n; i++)
        s_queue(sw, p, sw->soft_iov[i].iov_base, sw->soft_iov[i].iov_len);
}

static inline void s_enqueue(sw_t *sw, sw_port_t *p, unsigned char *hdr, size_t len, uint64_t ts)
{
    if (!p->admin_up) {
        p->d_admin++;
        return;
    }
    if (p->nsniff)
        sw_sniff_write(p->lan, p->id, hdr + SW_HDR, len, ts);
    if (p->kind == SW_PORT_TAP) {
        s_queue(sw, p, hdr, SW_HDR + len);
        return;
    }
    const struct virtio_net_hdr *vh = (const void *)hdr;
    if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE || (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        s_queue_soft(sw, p, hdr, len);
    else
        s_queue(sw, p, hdr + SW_HDR, len);
}

static void s_forward(sw_t *sw, sw_lan_t *lan, sw_port_t *in, unsigned char *hdr, size_t len,
                      bool trunc, uint64_t now_ms, uint64_t *ts)
{
    unsigned char *eth = hdr + SW_HDR;
    if (len < 14) {
        in->d_runt++;
        return;
    }
    const struct virtio_net_hdr *vh = (const void *)hdr;
    bool gso = vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
    /* A super-frame's segments must fit the LAN too. */
    if (trunc || (len > lan->maxframe && !gso) || (gso && vh->gso_size > lan->mtu)) {
        in->d_oversize++;
        return;
    }
    if (!in->admin_up) {
        in->d_admin++;
        return;
    }
    in->rx_frames++;
    in->rx_bytes += len;
    if (lan->nsniffers) {
        if (!*ts)
            *ts = pn_now_ns();
        sw_sniff_write(lan, 0, eth, len, *ts);
        if (in->nsniff)
            sw_sniff_write(lan, in->id, eth, len, *ts);
    }
    sw_fdb_learn(lan->fdb, eth + 6, in->id, now_ms);
    if (!(eth[0] & 1)) {
        int out = sw_fdb_lookup(lan->fdb, eth, now_ms);
        if (out >= 0) {
            sw_port_t *p = (unsigned)out <= SW_MAX_PORTS ? lan->ports[out] : NULL;
            if (p && p != in)
                s_enqueue(sw, p, hdr, len, *ts);
            return; /* never back out of the ingress port */
        }
    }
    lan->flooded++;
    for (unsigned i = 0; i < lan->nlive; i++) {
        sw_port_t *p = lan->live[i];
        if (p != in)
            s_enqueue(sw, p, hdr, len, *ts);
    }
}

void sw_fwd_backlog_free(sw_port_t *p)
{
    for (unsigned i = 0; i < p->bl_n; i++)
        free(p->bl[(p->bl_head + i) % SW_BACKLOG].iov_base);
    p->lan->sw->bl_total -= p->bl_bytes;
    free(p->bl);
    p->bl = NULL;
    p->bl_n = p->bl_head = 0;
    p->bl_bytes = 0;
}

static void s_want_out(sw_t *sw, sw_port_t *p, bool on)
{
    if (p->want_out == on || !p->w)
        return;
    if (pn_loop_mod_fd(sw->loop, p->w, on ? EPOLLIN | EPOLLOUT : EPOLLIN) == 0)
        p->want_out = on;
}

/* Keep a copy of a frame the client cannot take now. */
static void s_backlog_push(sw_t *sw, sw_port_t *p, const struct iovec *f)
{
    if (!p->bl && !(p->bl = calloc(SW_BACKLOG, sizeof(*p->bl)))) {
        p->d_queue++;
        return;
    }
    void *c;
    if (p->bl_n >= SW_BACKLOG || p->bl_bytes + f->iov_len > SW_BACKLOG_BYTES ||
        sw->bl_total + f->iov_len > SW_BACKLOG_TOTAL || !(c = malloc(f->iov_len ? f->iov_len : 1))) {
        p->d_queue++;
        return;
    }
    memcpy(c, f->iov_base, f->iov_len);
    struct iovec *slot = &p->bl[(p->bl_head + p->bl_n) % SW_BACKLOG];
    slot->iov_base = c;
    slot->iov_len = f->iov_len;
    p->bl_n++;
    p->bl_bytes += f->iov_len;
    sw->bl_total += f->iov_len;
}

/* Send what the socket takes from iov[0..n); returns how many went.
 * *blocked tells a full socket apart from an error. */
static unsigned s_sendv(sw_t *sw, sw_port_t *p, struct iovec *iov, unsigned n, bool *blocked)
{
    unsigned done = 0;
    *blocked = false;
    for (unsigned i = 0; i < n; i++) {
        memset(&sw->txmsg[i], 0, sizeof(sw->txmsg[i]));
        sw->txmsg[i].msg_hdr.msg_iov = &iov[i];
        sw->txmsg[i].msg_hdr.msg_iovlen = 1;
    }
    while (done < n) {
        int r = sendmmsg(p->fd, sw->txmsg + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == ENOBUFS)
                *blocked = true;
            else if (errno != ECONNREFUSED)
                pn_log_rl(&s_rl_io, PN_LOG_WARNING, "lan %s: port %u: send: %s", p->lan->name, p->id,
                          strerror(errno));
            break;
        }
        for (int i = 0; i < r; i++) {
            p->tx_frames++;
            p->tx_bytes += iov[done + i].iov_len;
        }
        done += (unsigned)r;
    }
    return done;
}

/* Push the backlog out while the socket takes it. */
static void s_backlog_drain(sw_t *sw, sw_port_t *p)
{
    struct iovec v[SW_TXQ];
    bool blocked = false;
    while (p->bl_n > 0 && !blocked) {
        unsigned n = p->bl_n < SW_TXQ ? p->bl_n : SW_TXQ;
        for (unsigned i = 0; i < n; i++)
            v[i] = p->bl[(p->bl_head + i) % SW_BACKLOG];
        unsigned done = s_sendv(sw, p, v, n, &blocked);
        if (done < n && !blocked)
            done = n; /* a hard error: these frames are lost */
        for (unsigned i = 0; i < done; i++) {
            free(v[i].iov_base);
            p->bl_bytes -= v[i].iov_len;
            sw->bl_total -= v[i].iov_len;
        }
        p->bl_head = (p->bl_head + done) % SW_BACKLOG;
        p->bl_n -= done;
    }
    s_want_out(sw, p, p->bl_n > 0);
}

static void s_flush_port(sw_t *sw, sw_port_t *p)
{
    unsigned n = p->ntx, done = 0;
    if (p->kind == SW_PORT_VDE) {
        bool blocked = false;
        if (p->bl_n == 0)
            done = s_sendv(sw, p, p->txiov, n, &blocked);
        if (p->bl_n > 0 || blocked) {
            /* Keep order: what did not go waits behind the backlog. */
            for (unsigned i = done; i < n; i++)
                s_backlog_push(sw, p, &p->txiov[i]);
            s_want_out(sw, p, p->bl_n > 0);
        } else {
            p->d_queue += n - done;
        }
    } else {
        for (unsigned i = 0; i < n; i++) {
            ssize_t r;
            do
                r = write(p->fd, p->txiov[i].iov_base, p->txiov[i].iov_len);
            while (r < 0 && errno == EINTR);
            if (r < 0) {
                if (errno != EAGAIN && errno != ENOBUFS && errno != EIO)
                    pn_log_rl(&s_rl_io, PN_LOG_WARNING, "lan %s: port %u (%s): write: %s", p->lan->name,
                              p->id, p->ifname, strerror(errno));
                /* The tap queue is full or the interface is down: this
                 * frame is lost, the next may pass. */
                p->d_queue++;
                continue;
            }
            p->tx_frames++;
            p->tx_bytes += p->txiov[i].iov_len - SW_HDR;
        }
    }
    p->ntx = 0;
}

static void s_flush_ports(sw_t *sw)
{
    while (sw->dirty) {
        sw_port_t *p = sw->dirty;
        sw->dirty = p->next_dirty;
        p->dirty = false;
        s_flush_port(sw, p);
    }
}

static void s_flush(sw_t *sw, sw_lan_t *lan)
{
    s_flush_ports(sw);
    sw->arena_used = 0;
    sw->soft_src = NULL;
    if (lan->nsniffers)
        sw_sniff_flush(lan);
}

const char *sw_fwd_input(sw_port_t *in, uint32_t events)
{
    int fd = in->fd;
    sw_lan_t *lan = in->lan;
    sw_t *sw = lan->sw;
    if (events & EPOLLOUT)
        s_backlog_drain(sw, in);
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return NULL;
    const char *gone = NULL;
    size_t want = lan->maxframe + 1; /* one more byte tells oversize apart */

    for (int round = 0; round < SW_ROUNDS && !gone; round++) {
        int n = 0;
        if (in->kind == SW_PORT_VDE) {
            for (int i = 0; i < SW_BATCH; i++) {
                sw->rxiov[i].iov_base = sw->slots + (size_t)i * SW_SLOT + SW_HDR;
                sw->rxiov[i].iov_len = want;
                memset(&sw->rxmsg[i].msg_hdr, 0, sizeof(sw->rxmsg[i].msg_hdr));
                sw->rxmsg[i].msg_hdr.msg_iov = &sw->rxiov[i];
                sw->rxmsg[i].msg_hdr.msg_iovlen = 1;
            }
            n = recvmmsg(fd, sw->rxmsg, SW_BATCH, MSG_DONTWAIT, NULL);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                    pn_log_rl(&s_rl_io, PN_LOG_WARNING, "lan %s: port %u: recv: %s", lan->name, in->id,
                              strerror(errno));
                break;
            }
        } else {
            for (; n < SW_BATCH; n++) {
                unsigned char *slot = sw->slots + (size_t)n * SW_SLOT;
                ssize_t r = read(fd, slot, SW_HDR + SW_FRAME_MAX);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EINTR)
                        break;
                    /* EBADFD/EIO: the interface was destroyed (its netns
                     * went away). */
                    gone = "tap interface gone";
                    break;
                }
                sw->rxmsg[n].msg_len = r > SW_HDR ? (unsigned)(r - SW_HDR) : 0;
                sw->rxmsg[n].msg_hdr.msg_flags = 0;
            }
        }
        if (n == 0)
            break;
        uint64_t now = pn_mono_ms(), ts = 0;
        for (int i = 0; i < n; i++) {
            unsigned char *hdr = sw->slots + (size_t)i * SW_SLOT;
            if (in->kind == SW_PORT_VDE)
                memset(hdr, 0, SW_HDR);
            s_forward(sw, lan, in, hdr, sw->rxmsg[i].msg_len,
                      (sw->rxmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, now, &ts);
        }
        s_flush(sw, lan);
        if (n < SW_BATCH)
            break;
    }
    return gone;
}
