/* agentd streams: the CLI's exec/shell/cp sessions.
 *
 * The CLI connects to RUN/agentd.stream and speaks the channel framing
 * (docs/AGENT.md): an OPEN naming the node, then stdin DATA/EOF, RESIZE,
 * SIGNAL; it receives DATA/EOF/EXIT.  Each stream is one session on the
 * node's channel; agentd rewrites the session id and relays.
 *
 * Flow control: toward the agent, agentd spends the session's credit and
 * stops reading the CLI socket when it runs out (the kernel socket buffer
 * then pushes back on the CLI).  From the agent, credit is given back only
 * while the bytes queued for the CLI stay under a window, so a guest that
 * floods stdout at a slow reader cannot grow agentd's memory. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentd.h"

static pn_ratelimit_t s_rl = PN_RATELIMIT_INIT(1000, 10);

static void s_process(agd_stream_t *s);

static agd_stream_t *s_by_sid(agd_t *a, const agd_node_t *n, uint32_t sid)
{
    for (agd_stream_t *s = a->streams; s; s = s->next)
        if (s->node == n && s->sid == sid && s->opened)
            return s;
    return NULL;
}

static void s_free(agd_stream_t *s)
{
    agd_t *a = s->agd;
    if (s->opened && s->node) {
        if (!s->closing)
            agd_node_send(s->node, AG_T_CLOSE, 0, s->sid, NULL, 0);
        s->node->nsess--;
    }
    PN_SLIST_REMOVE(a->streams, s);
    a->nstreams--;
    if (s->w)
        pn_loop_del(a->loop, s->w);
    close(s->fd);
    ag_dec_free(&s->dec);
    ag_buf_free(&s->out);
    ag_buf_free(&s->open);
    ag_buf_free(&s->pend);
    free(s);
}

static void s_free_deferred(void *arg)
{
    s_free(arg);
}

/* May the stream read its CLI socket now? */
static bool s_can_take(agd_stream_t *s)
{
    if (s->closing || s->waiting)
        return false;
    if (!s->opened)
        return true;
    return !ag_buf_used(&s->pend) && s->credit > 0 && ag_buf_used(&s->node->out) < AGD_OUT_HIGH;
}

static void s_events(agd_stream_t *s)
{
    if (!s->w)
        return;
    uint32_t m = (s_can_take(s) ? EPOLLIN : 0) | (ag_buf_used(&s->out) ? EPOLLOUT : 0);
    if (m != s->wmask && pn_loop_mod_fd(s->agd->loop, s->w, m) == 0)
        s->wmask = m;
}

/* After the last byte reaches the CLI the stream closes. */
static void s_close_after_flush(agd_stream_t *s)
{
    if (s->opened && s->node) {
        s->node->nsess--;
        s->opened = false;
    }
    s->closing = true;
    s->waiting = false;
    if (!ag_buf_used(&s->out)) {
        if (s->w)
            pn_loop_del(s->agd->loop, s->w);
        s->w = NULL;
        pn_loop_defer(s->agd->loop, s_free_deferred, s);
        return;
    }
    s_events(s);
}

static void __attribute__((format(printf, 3, 4)))
s_fail(agd_stream_t *s, const char *code, const char *fmt, ...)
{
    if (s->closing)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ag_buf_t p = { 0 };
    ag_tlv_str(&p, AG_K_ERROR, msg);
    ag_tlv_str(&p, AG_K_ERRCODE, code);
    ag_tlv_u32(&p, AG_K_STATUS, 255);
    ag_frame_put(&s->out, AG_T_EXIT, 0, 1, ag_buf_head(&p), ag_buf_used(&p));
    ag_buf_free(&p);
    s_close_after_flush(s);
}

static void s_grant(agd_stream_t *s)
{
    uint32_t g = ag_rxwin_grant(&s->rx, ag_buf_used(&s->out));
    if (g && s->opened) {
        uint8_t p[4];
        ag_put32(p, g);
        agd_node_send(s->node, AG_T_CREDIT, 0, s->sid, p, 4);
    }
}

static void s_from_agent(agd_stream_t *s, const ag_frame_t *f)
{
    switch (f->type) {
    case AG_T_DATA:
        if (!ag_rxwin_take(&s->rx, f->len)) {
            pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: %s: agent overran the window of session %u", s->node->name, s->sid);
            agd_node_send(s->node, AG_T_CLOSE, 0, s->sid, NULL, 0);
            s_fail(s, "internal", "the agent of %s broke flow control", s->node->name);
            return;
        }
        /* The node's decoder checked the payload: forward its CRC. */
        ag_frame_put_crc(&s->out, AG_T_DATA, f->flags, 1, f->payload, f->len, f->pcrc);
        s_grant(s);
        break;
    case AG_T_EOF:
        ag_frame_put(&s->out, AG_T_EOF, f->flags, 1, NULL, 0);
        break;
    case AG_T_CREDIT:
        if (f->len == 4) {
            s->credit += ag_get32(f->payload);
            s_process(s);
        }
        break;
    case AG_T_EXIT:
        ag_frame_put(&s->out, AG_T_EXIT, 0, 1, f->payload, f->len);
        s_close_after_flush(s);
        return;
    default:
        pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: %s: unexpected %s frame on session %u", s->node->name,
                  ag_type_name(f->type), s->sid);
        return;
    }
    s_events(s);
}

static void s_start(agd_stream_t *s)
{
    agd_node_t *n = s->node;
    if (n->nsess >= AG_MAX_SESSIONS) {
        s_fail(s, "busy", "node %s has %d sessions open already", n->name, n->nsess);
        return;
    }
    s->waiting = false;
    s->opened = true;
    n->nsess++;
    do {
        s->sid = ++n->next_sid;
    } while (s->sid == 0 || s->sid == 1 || s_by_sid(s->agd, n, s->sid) != s);
    s->credit = n->window;
    ag_rxwin_init(&s->rx);
    agd_node_send(n, AG_T_OPEN, 0, s->sid, ag_buf_head(&s->open), ag_buf_used(&s->open));
    ag_buf_free(&s->open);
    s_process(s);
    s_events(s);
}

static void s_on_open(agd_stream_t *s, const ag_frame_t *f)
{
    ag_tlv_iter_t it = { f->payload, f->payload + f->len };
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    char *node = NULL;
    uint32_t wait = 0, bootwait = 0;
    int r;
    while ((r = ag_tlv_next(&it, &tag, &v, &len)) == 1) {
        if (tag == AG_K_NODE && !node)
            node = ag_tlv_as_str(v, len);
        else if (tag == AG_K_WAIT)
            wait = ag_tlv_as_u32(v, len);
        else if (tag == AG_K_BOOTWAIT)
            bootwait = ag_tlv_as_u32(v, len);
    }
    if (r < 0 || !node) {
        free(node);
        s_fail(s, "invalid_argument", "the open request is malformed or names no node");
        return;
    }
    agd_node_t *n = agd_node_find(s->agd, node);
    if (!n) {
        s_fail(s, "not_found", "node %s has no agent registered with agentd", node);
        free(node);
        return;
    }
    free(node);
    s->node = n;
    if (ag_buf_append(&s->open, f->payload, f->len) < 0) {
        s_fail(s, "internal", "out of memory");
        return;
    }
    if (n->up) {
        s_start(s);
        return;
    }
    /* A node that still boots gets its agent soon: the CLI's default. An
     * agent that was up and went away fails at once (unless told to wait). */
    if (!wait && !n->booted)
        wait = bootwait;
    if (!wait) {
        s_fail(s, "unavailable", "the agent of node %s is down: %s", n->name, n->reason);
        return;
    }
    s->waiting = true;
    s->wait_until = pn_mono_ms() + wait;
    s_events(s);
}

/* Act on the frames the CLI sent, as far as flow control allows. */
static void s_process(agd_stream_t *s)
{
    ag_frame_t f;
    int r;
    while (s->opened && !s->closing && ag_buf_used(&s->pend) && s->credit) {
        size_t n = ag_buf_used(&s->pend);
        if (n > s->credit)
            n = (size_t)s->credit;
        if (n > AG_CHUNK)
            n = AG_CHUNK;
        agd_node_send(s->node, AG_T_DATA, AG_STDIN, s->sid, ag_buf_head(&s->pend), n);
        ag_buf_consume(&s->pend, n);
        s->credit -= n;
    }
    while (s_can_take(s) && (r = ag_dec_next(&s->dec, &f)) != AG_DEC_MORE) {
        if (r == AG_DEC_CORRUPT) {
            pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: damaged frame from a CLI stream");
            s_fail(s, "invalid_argument", "a damaged frame arrived from the client");
            return;
        }
        if (!s->opened && !s->node) {
            if (f.type != AG_T_OPEN) {
                s_fail(s, "invalid_argument", "a stream must start with an open frame");
                return;
            }
            s_on_open(s, &f);
            continue;
        }
        switch (f.type) {
        case AG_T_DATA: {
            if (f.flags != AG_STDIN) {
                s_fail(s, "invalid_argument", "the client sent data on stream %u", f.flags);
                return;
            }
            /* Send what the credit covers; the rest waits in pend. */
            size_t n = f.len < s->credit ? f.len : (size_t)s->credit;
            if (n == f.len) /* whole: its CRC goes along unchecked, the agent checks it */
                agd_node_send_crc(s->node, AG_T_DATA, AG_STDIN, s->sid, f.payload, n, f.pcrc);
            else if (n)
                agd_node_send(s->node, AG_T_DATA, AG_STDIN, s->sid, f.payload, n);
            s->credit -= n;
            if (n < f.len && ag_buf_append(&s->pend, f.payload + n, f.len - n) < 0) {
                s_fail(s, "internal", "out of memory");
                return;
            }
            break;
        }
        case AG_T_EOF:
        case AG_T_RESIZE:
        case AG_T_SIGNAL:
            agd_node_send(s->node, f.type, f.flags, s->sid, f.payload, f.len);
            break;
        case AG_T_CLOSE:
            agd_node_send(s->node, AG_T_CLOSE, 0, s->sid, NULL, 0);
            s->closing = true; /* so s_free sends no second close */
            s_close_after_flush(s);
            return;
        default:
            s_fail(s, "invalid_argument", "unexpected %s frame from the client", ag_type_name(f.type));
            return;
        }
    }
}

static void s_on_io(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    agd_stream_t *s = arg;
    if (events & EPOLLOUT) {
        long w = ag_buf_flush(&s->out, s->fd);
        if (w < 0) {
            s_free(s);
            return;
        }
        if (s->closing && !ag_buf_used(&s->out)) {
            s_free(s);
            return;
        }
        s_grant(s);
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !s->closing) {
        s_process(s);
        if (s_can_take(s)) {
            long r = ag_dec_read(&s->dec, s->fd, NULL);
            if (r == 0 || (r < 0 && r != -EAGAIN)) {
                s_free(s); /* the CLI went away: the agent kills the session */
                return;
            }
            if (r > 0)
                s_process(s);
        } else if (events & (EPOLLHUP | EPOLLERR)) {
            s_free(s);
            return;
        }
    }
    if (!s->closing || s->w)
        s_events(s);
}

static void s_on_accept(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    agd_t *a = arg;
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return;
    if (a->nstreams >= AGD_MAX_STREAMS) {
        pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: refusing a stream: %d open already", a->nstreams);
        close(c);
        return;
    }
    ag_sock_buffers(c, 1 << 20);
    agd_stream_t *s = calloc(1, sizeof *s);
    if (!s || ag_dec_init(&s->dec) < 0) {
        free(s);
        close(c);
        return;
    }
    s->dec.trusted = true; /* a local socket: payload CRCs are checked by the agent */
    s->agd = a;
    s->fd = c;
    s->w = pn_loop_add_fd(a->loop, c, EPOLLIN, s_on_io, s);
    if (!s->w) {
        ag_dec_free(&s->dec);
        free(s);
        close(c);
        return;
    }
    s->wmask = EPOLLIN;
    s->next = a->streams;
    a->streams = s;
    a->nstreams++;
}

int agd_stream_listen(agd_t *a)
{
    snprintf(a->stream_path, sizeof a->stream_path, "%s/agentd.stream", pn_run_dir());
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(a->stream_path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, a->stream_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unlink(a->stream_path);
    mode_t old = umask(0077);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (r < 0 || listen(fd, 128) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    a->lfd = fd;
    a->lw = pn_loop_add_fd(a->loop, fd, EPOLLIN, s_on_accept, a);
    return a->lw ? 0 : -ENOMEM;
}

void agd_streams_node_up(agd_t *a, agd_node_t *n)
{
    for (agd_stream_t *s = a->streams; s; s = s->next)
        if (s->node == n && s->waiting)
            s_start(s);
}

void agd_streams_node_down(agd_t *a, agd_node_t *n, const char *reason)
{
    for (agd_stream_t *s = a->streams; s; s = s->next)
        if (s->node == n && s->opened && !s->closing) {
            agd_node_send(n, AG_T_CLOSE, 0, s->sid, NULL, 0);
            s_fail(s, "unavailable", "the session on node %s ended: %s", n->name, reason);
        }
}

void agd_streams_resume(agd_t *a, agd_node_t *n)
{
    for (agd_stream_t *s = a->streams; s; s = s->next)
        if (s->node == n && s->opened && !s->closing) {
            s_process(s);
            s_events(s);
        }
}

void agd_streams_tick(agd_t *a)
{
    uint64_t now = pn_mono_ms();
    for (agd_stream_t *s = a->streams; s; s = s->next)
        if (s->waiting && now >= s->wait_until)
            s_fail(s, "unavailable", "the agent of node %s did not come up in time: %s", s->node->name,
                            s->node->reason);
}

int agd_streams_from_agent(agd_t *a, agd_node_t *n, const ag_frame_t *f)
{
    agd_stream_t *s = s_by_sid(a, n, f->sid);
    if (!s)
        return -ENOENT;
    s_from_agent(s, f);
    return 0;
}

void agd_streams_damaged(agd_t *a, agd_node_t *n, uint32_t sid)
{
    agd_stream_t *s = s_by_sid(a, n, sid);
    if (!s)
        return;
    agd_node_send(n, AG_T_CLOSE, 0, sid, NULL, 0);
    s_fail(s, "internal", "a frame of this session was damaged on the channel of %s", n->name);
}

void agd_streams_node_gone(agd_t *a, agd_node_t *n)
{
    for (agd_stream_t *s = a->streams; s; s = s->next)
        if (s->node == n && !s->closing)
            s_fail(s, "not_found", "node %s was unregistered", n->name);
}

int agd_streams_load(agd_t *a, const agd_node_t *n, uint64_t *credit, uint64_t *pend)
{
    int ns = 0;
    for (agd_stream_t *s = a->streams; s; s = s->next)
        if (s->node == n && s->opened) {
            ns++;
            *credit += s->credit;
            *pend += ag_buf_used(&s->pend);
        }
    return ns;
}
