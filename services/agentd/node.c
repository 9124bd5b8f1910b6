/* agentd nodes: one agent channel each.  Connects (and reconnects with a
 * backoff) to the registered unix socket, says hello, pings every
 * keepalive period and marks the agent down after `misses` silent
 * periods.  The agent is up from its HELLO on; a HELLO with another
 * instance id means the agent restarted (a guest reboot): down, then up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentd.h"

static pn_ratelimit_t s_rl = PN_RATELIMIT_INIT(1000, 10);

static void s_knock_end(agd_node_t *n);

agd_node_t *agd_node_find(agd_t *a, const char *name)
{
    for (agd_node_t *n = a->nodes; n; n = n->next)
        if (!strcmp(n->name, name))
            return n;
    return NULL;
}

/* The cost of a lane's next frame against the serial-line bound: all of
 * it but a DATA payload (ag_wire_flush). */
static size_t s_head_cost(const ag_buf_t *b)
{
    if (ag_buf_used(b) < AG_HDR)
        return 0;
    const uint8_t *h = ag_buf_head(b);
    return h[2] == AG_T_DATA ? AG_HDR : AG_HDR + ag_get32(h + 8);
}

/* What the serial-line rule lets a lane (whose next frame costs head)
 * write now: SIZE_MAX (no limit) off a serial line. */
static size_t s_room(const agd_node_t *n, size_t cap, size_t head)
{
    uint64_t unanswered = n->wire.ctl - n->acked;
    if (!n->serial)
        return SIZE_MAX;
    if (unanswered == 0 && head > cap)
        return head; /* a frame longer than the cap still goes, alone */
    return unanswered < cap ? (size_t)(cap - unanswered) : 0;
}

/* The urgent lane's room: as any lane's, but a PING at its head always
 * goes.  Only a PONG acknowledges, and there is one PING out at a time:
 * held back (after a frame longer than the bound went alone), nothing
 * could ever be acknowledged again and the agent would be declared down. */
static size_t s_urg_room(const agd_node_t *n, size_t head)
{
    size_t r = s_room(n, AGD_LINE_MAX, head);
    if (head && r < head && ag_buf_head(&n->urg)[2] == AG_T_PING)
        return head;
    return r;
}

/* Is there something the channel could take now? */
static bool s_writable(const agd_node_t *n)
{
    if (n->wire.left)
        return true;
    size_t u = s_head_cost(&n->urg), b = s_head_cost(&n->out);
    return (u && u <= s_urg_room(n, u)) || (b && b <= s_room(n, AGD_LINE_BULK, b));
}

static void s_events(agd_node_t *n)
{
    if (!n->w)
        return;
    uint32_t m = EPOLLIN | (s_writable(n) ? EPOLLOUT : 0);
    if (m != n->wmask && pn_loop_mod_fd(n->agd->loop, n->w, m) == 0)
        n->wmask = m;
}

static void s_hist(struct agd_hist *h, unsigned *count, uint8_t type, uint32_t len)
{
    struct agd_hist *e = &h[*count % AGD_HIST];
    e->type = type;
    e->len = len;
    e->ms = pn_mono_ms();
    (*count)++;
}

void agd_node_send(agd_node_t *n, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t len)
{
    agd_node_send_crc(n, type, flags, sid, p, len, ag_crc32c(0, p, len));
}

void agd_node_send_crc(agd_node_t *n, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t len,
                       uint32_t pcrc)
{
    if (!n->connected)
        return;
    /* Keepalives and credit jump the queued bulk data (ag_wire_flush). */
    if (ag_frame_put_crc(ag_type_urgent(type) ? &n->urg : &n->out, type, flags, sid, p, len, pcrc) < 0) {
        pn_log_rl(&s_rl, PN_LOG_ERR, "agentd: %s: out of memory queueing a frame", n->name);
        return;
    }
    s_hist(n->hout, &n->nout, type, (uint32_t)len);
    s_events(n);
}

/* The agent has read everything up to pos. */
static void s_ack(agd_node_t *n, uint64_t pos)
{
    if (pos > n->acked && pos <= n->wire.ctl) {
        n->acked = pos;
        n->acked_ms = pn_mono_ms();
        s_events(n);
    }
}

/* A PING carries the time and the cost written before it (wire.ctl): the
 * agent echoes it, so its PONG gives the round trip and acknowledges what
 * preceded the PING on the wire (and more). */
static void s_ping(agd_node_t *n, uint64_t now)
{
    uint8_t p[16];
    ag_put64(p, now);
    ag_put64(p + 8, n->wire.ctl);
    n->ping_at = now;
    agd_node_send(n, AG_T_PING, 0, 0, p, 16);
}

static void s_on_pong(agd_node_t *n, const ag_frame_t *f)
{
    uint64_t now = pn_mono_ms();
    n->ping_at = 0;
    if (f->len != 16)
        return;
    /* The PONG also proves the PING itself was read: without its own
     * cost, a PING was always left unanswered, and a frame longer than
     * the bound (it goes only when nothing is unanswered) never went. */
    uint64_t pos = ag_get64(f->payload + 8) + AG_HDR + 16;
    s_ack(n, pos < n->wire.ctl ? pos : n->wire.ctl);
    uint64_t sent = ag_get64(f->payload);
    if (sent > now || now - sent > 3600000)
        return;
    uint32_t rtt = (uint32_t)(now - sent);
    if (!n->srtt && !n->rttvar) {
        n->srtt = rtt ? rtt : 1;
        n->rttvar = rtt / 2;
        return;
    }
    uint32_t d = rtt > n->srtt ? rtt - n->srtt : n->srtt - rtt;
    n->rttvar = (3 * n->rttvar + d) / 4;
    n->srtt = (7 * n->srtt + rtt) / 8;
}

/* How long the agent may stay silent before it is declared down. */
static uint64_t s_deadline(const agd_node_t *n)
{
    uint64_t floor = (uint64_t)n->agd->keepalive_ms * n->agd->misses;
    uint64_t adapt = (uint64_t)AGD_RTT_K * n->srtt + 4ull * n->rttvar;
    uint64_t cap = floor > AGD_DEADLINE_CAP ? floor : AGD_DEADLINE_CAP;
    uint64_t d = adapt > floor ? adapt : floor;
    return d < cap ? d : cap;
}

static int s_hist_fmt(char *buf, size_t len, const struct agd_hist *h, unsigned count, uint64_t now)
{
    int k = 0;
    unsigned nshow = count < AGD_HIST ? count : AGD_HIST;
    for (unsigned i = 0; i < nshow && (size_t)k < len; i++) {
        const struct agd_hist *e = &h[(count - 1 - i) % AGD_HIST];
        k += snprintf(buf + k, len - (size_t)k, "%s%s/%u %llu ms ago", i ? ", " : "", ag_type_name(e->type), e->len,
                      (unsigned long long)(now - e->ms));
    }
    if (!nshow)
        k += snprintf(buf + k, len > (size_t)k ? len - (size_t)k : 0, "none");
    return k;
}

/* Why the agent is being declared down: the rule, times, recent frames,
 * queues and credit, one line for the log. */
static void s_why(agd_node_t *n, uint64_t now, char *buf, size_t len)
{
    uint64_t credit = 0, pend = 0;
    int ns = n->agd->node_cb.load(n->agd->node_arg, n, &credit, &pend);
    char in[400], out[400];
    s_hist_fmt(in, sizeof in, n->hin, n->nin, now);
    s_hist_fmt(out, sizeof out, n->hout, n->nout, now);
    snprintf(buf, len,
             "rule: no byte from the agent for %llu ms, deadline %llu ms (floor %u x %u ms, srtt %u ms, rttvar %u ms); "
             "ping %s; received: %s; sent: %s; queued %zu bulk + %zu urgent bytes, %llu control bytes unacknowledged%s; "
             "%d sessions, credit toward the agent %llu, stdin waiting for credit %llu",
             (unsigned long long)(now - n->last_rx), (unsigned long long)s_deadline(n), n->agd->misses,
             n->agd->keepalive_ms, n->srtt, n->rttvar, n->ping_at ? "unanswered" : "none out", in, out,
             ag_buf_used(&n->out), ag_buf_used(&n->urg), (unsigned long long)(n->wire.ctl - n->acked),
             n->serial ? " (serial line)" : "", ns, (unsigned long long)credit, (unsigned long long)pend);
}

static void s_hello(agd_node_t *n, uint8_t flags)
{
    ag_buf_t p = { 0 };
    ag_tlv_str(&p, AG_K_VERSION, PN_VERSION);
    ag_tlv_u32(&p, AG_K_PROTO_MIN, AG_PROTO_MIN);
    ag_tlv_u32(&p, AG_K_PROTO_MAX, AG_PROTO_MAX);
    agd_node_send(n, AG_T_HELLO, flags, 0, ag_buf_head(&p), ag_buf_used(&p));
    ag_buf_free(&p);
    n->last_hello = pn_mono_ms();
    n->hello_pos = n->wire.ctl;
}

static void s_set_down(agd_node_t *n, const char *reason)
{
    snprintf(n->reason, sizeof n->reason, "%s", reason);
    if (!n->up)
        return;
    n->up = false;
    n->since = pn_mono_ms();
    pn_info("agentd: %s: agent down: %s", n->name, reason);
    n->agd->node_cb.down(n->agd->node_arg, n, reason);
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "node", n->name);
    pn_map_set_str(d, "kind", n->kind);
    pn_map_set_str(d, "reason", reason);
    pn_svc_publish(n->agd->svc, "agent", "agent.down", d);
}

static void s_disconnect(agd_node_t *n, const char *reason)
{
    if (n->w)
        pn_loop_del(n->agd->loop, n->w);
    n->w = NULL;
    n->wmask = 0;
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    n->connected = false;
    ag_dec_reset(&n->dec);
    n->out.off = n->out.len = 0;
    n->urg.off = n->urg.len = 0;
    ag_wire_reset(&n->wire);
    n->acked = n->wire.ctl;
    n->ping_at = 0;
    s_set_down(n, reason);
    n->backoff = n->backoff ? (n->backoff * 2 > 1000 ? 1000 : n->backoff * 2) : 50;
    n->next_try = pn_mono_ms() + n->backoff;
}

static void s_on_up(agd_node_t *n, const ag_frame_t *f)
{
    ag_tlv_iter_t it = { f->payload, f->payload + f->len };
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    char *version = NULL, *host = NULL;
    uint32_t pmin = 0, pmax = 0;
    uint64_t inst = 0, uptime = 0;
    uint32_t window = AG_WINDOW;
    while (ag_tlv_next(&it, &tag, &v, &len) == 1) {
        switch (tag) {
        case AG_K_VERSION: free(version); version = ag_tlv_as_str(v, len); break;
        case AG_K_HOSTNAME: free(host); host = ag_tlv_as_str(v, len); break;
        case AG_K_PROTO_MIN: pmin = ag_tlv_as_u32(v, len); break;
        case AG_K_PROTO_MAX: pmax = ag_tlv_as_u32(v, len); break;
        case AG_K_INSTANCE: inst = ag_tlv_as_u64(v, len); break;
        case AG_K_UPTIME_MS: uptime = ag_tlv_as_u64(v, len); break;
        case AG_K_WINDOW: window = ag_tlv_as_u32(v, len); break;
        }
    }
    if (f->flags & AG_F_REPLY)
        s_ack(n, n->hello_pos);
    else
        s_hello(n, AG_F_REPLY);
    if (pmin > AG_PROTO_MAX || pmax < AG_PROTO_MIN) {
        char why[128];
        snprintf(why, sizeof why, "agent speaks protocol %u..%u, agentd %d..%d", pmin, pmax, AG_PROTO_MIN,
                 AG_PROTO_MAX);
        pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: %s: %s", n->name, why);
        s_set_down(n, why);
        goto out;
    }
    if (n->up && inst == n->instance)
        goto out;
    if (n->up)
        s_set_down(n, "agent restarted");
    n->up = true;
    n->booted = true;
    n->instance = inst;
    /* 0 is valid: the agent grants each session's first credit itself. */
    n->window = window > AG_WINDOW ? AG_WINDOW : window;
    /* Window 0: a serial line with a shared budget (docs/AGENT.md). */
    n->serial = n->serial || window == 0;
    n->proto = pmax < AG_PROTO_MAX ? pmax : AG_PROTO_MAX;
    n->since = pn_mono_ms();
    n->reason[0] = 0;
    snprintf(n->version, sizeof n->version, "%s", version ? version : "?");
    snprintf(n->hostname, sizeof n->hostname, "%s", host ? host : "");
    pn_info("agentd: %s: agent up (version %s)", n->name, n->version);
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "node", n->name);
    pn_map_set_str(d, "kind", n->kind);
    pn_map_set_str(d, "version", n->version);
    pn_map_set_uint(d, "proto", n->proto);
    if (host)
        pn_map_set_str(d, "hostname", n->hostname);
    if (n->started_ns) {
        uint64_t now = pn_now_ns();
        pn_map_set_uint(d, "boot_ms", now > n->started_ns ? (now - n->started_ns) / 1000000 : 0);
    }
    if (uptime)
        pn_map_set_uint(d, "agent_uptime_ms", uptime);
    pn_svc_publish(n->agd->svc, "agent", "agent.up", d);
    n->agd->node_cb.up(n->agd->node_arg, n);
out:
    free(version);
    free(host);
}

static void s_frame(agd_node_t *n, const ag_frame_t *f)
{
    s_hist(n->hin, &n->nin, f->type, f->len);
    switch (f->type) {
    case AG_T_HELLO:
        s_on_up(n, f);
        return;
    case AG_T_PING:
        agd_node_send(n, AG_T_PONG, 0, 0, f->payload, f->len);
        return;
    case AG_T_PONG:
        s_on_pong(n, f);
        return;
    }
    if (f->sid && n->agd->node_cb.frame(n->agd->node_arg, n, f) == 0)
        return;
    if (f->type != AG_T_CREDIT && f->type != AG_T_DATA && f->type != AG_T_EOF && f->type != AG_T_EXIT) {
        n->bad_frames++;
        pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: %s: %s frame for unknown session %u", n->name,
                  ag_type_name(f->type), f->sid);
    }
}

static void s_on_io(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    agd_node_t *n = arg;
    if (events & EPOLLOUT) {
        size_t before = ag_buf_used(&n->out);
        long w = ag_wire_flush(&n->wire, &n->out, &n->urg, n->fd, s_room(n, AGD_LINE_BULK, s_head_cost(&n->out)),
                               s_urg_room(n, s_head_cost(&n->urg)));
        if (w < 0) {
            s_disconnect(n, "channel write failed");
            return;
        }
        n->tx_bytes += (uint64_t)w;
        if (before >= AGD_OUT_HIGH && ag_buf_used(&n->out) < AGD_OUT_HIGH)
            n->agd->node_cb.drained(n->agd->node_arg, n);
        /* On a serial line, ask for the acknowledgement of what went out
         * once half the bound is used, so the bound (s_room) rarely holds
         * anything back. */
        if (n->serial && n->up && !n->ping_at && n->wire.ctl - n->acked > AGD_LINE_BULK / 2)
            s_ping(n, pn_mono_ms());
        s_events(n);
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (int i = 0; i < 8 && n->connected; i++) {
            size_t room;
            long r = ag_dec_read(&n->dec, n->fd, &room);
            if (r == -EAGAIN)
                break;
            if (r <= 0) {
                s_disconnect(n, r == 0 ? "channel closed" : "channel read failed");
                return;
            }
            n->rx_bytes += (uint64_t)r;
            n->last_rx = pn_mono_ms(); /* any byte proves the agent alive */
            uint64_t garbage = n->dec.garbage;
            ag_frame_t f;
            int k;
            while (n->connected && (k = ag_dec_next(&n->dec, &f)) != AG_DEC_MORE) {
                if (k == AG_DEC_CORRUPT) {
                    n->bad_frames++;
                    pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: %s: damaged %s frame (session %u) dropped", n->name,
                              ag_type_name(f.type), f.sid);
                    if (f.sid)
                        n->agd->node_cb.damaged(n->agd->node_arg, n, f.sid);
                    continue;
                }
                if (f.lost) {
                    pn_log_rl(&s_rl, PN_LOG_WARNING, "agentd: %s: %u frames lost on the channel: ending its sessions",
                              n->name, f.lost);
                    n->agd->node_cb.down(n->agd->node_arg, n, "frames were lost on the channel");
                }
                s_frame(n, &f);
            }
            if (n->dec.garbage != garbage)
                pn_log_rl(&s_rl, PN_LOG_NOTICE, "agentd: %s: skipped %llu bytes of garbage on the channel", n->name,
                          (unsigned long long)(n->dec.garbage - garbage));
            if ((size_t)r < room)
                break;
        }
        if (n->connected)
            s_events(n);
    }
}

/* A non-blocking stream socket connected to path: the fd, or -errno. */
static int s_unix_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

static void s_connect(agd_node_t *n)
{
    int fd = s_unix_connect(n->path);
    if (fd == -ENAMETOOLONG) {
        s_set_down(n, "channel path too long");
        n->next_try = pn_mono_ms() + 60000;
        return;
    }
    if (fd < 0) {
        snprintf(n->reason, sizeof n->reason, "cannot connect to %s: %s", n->path, strerror(-fd));
        n->backoff = n->backoff ? (n->backoff * 2 > 1000 ? 1000 : n->backoff * 2) : 50;
        n->next_try = pn_mono_ms() + n->backoff;
        return;
    }
    ag_sock_buffers(fd, 1 << 20);
    n->fd = fd;
    n->w = pn_loop_add_fd(n->agd->loop, fd, EPOLLIN, s_on_io, n);
    if (!n->w) {
        close(fd);
        n->fd = -1;
        return;
    }
    n->wmask = EPOLLIN;
    n->connected = true;
    n->backoff = 0;
    n->last_rx = pn_mono_ms();
    n->acked = n->wire.ctl;
    n->acked_ms = n->last_rx;
    pn_debug("agentd: %s: connected to %s", n->name, n->path);
    s_hello(n, 0);
}

int agd_node_register(agd_t *a, const char *name, const char *kind, const char *path, uint64_t started_ns,
                      const char *console, int64_t knock_ms)
{
    agd_node_t *n = agd_node_find(a, name);
    if (n) {
        /* Re-registration (vmd restarted the node): start over. */
        if (n->connected)
            s_disconnect(n, "re-registered");
        free(n->path);
    } else {
        if (a->nnodes >= AGD_MAX_NODES)
            return -ENOSPC;
        n = calloc(1, sizeof *n);
        if (!n || ag_dec_init(&n->dec) < 0) {
            free(n);
            return -ENOMEM;
        }
        n->agd = a;
        n->fd = -1;
        n->kfd = -1;
        snprintf(n->name, sizeof n->name, "%s", name);
        snprintf(n->reason, sizeof n->reason, "not connected yet");
        n->next = a->nodes;
        a->nodes = n;
        a->nnodes++;
        n->since = pn_mono_ms();
    }
    snprintf(n->kind, sizeof n->kind, "%s", kind);
    n->serial = !strcmp(kind, "uml");
    n->srtt = n->rttvar = 0;
    n->path = strdup(path);
    free(n->console);
    n->console = NULL;
    n->knock_ms = knock_ms;
    n->since = pn_mono_ms();
    n->knocks = 0;
    n->knext = 0;
    if (console && *console) {
        n->console = strdup(console);
    } else if (n->path && strcmp(kind, "ns") != 0) {
        /* The node dir convention: STATE/nodes/N/{agent,console}.sock. */
        const char *sl = strrchr(n->path, '/');
        if (sl && asprintf(&n->console, "%.*s/console.sock", (int)(sl - n->path), n->path) < 0)
            n->console = NULL;
    }
    n->started_ns = started_ns;
    n->booted = false;
    n->backoff = 0;
    n->next_try = 0;
    if (n->path)
        s_connect(n);
    return n->path ? 0 : -ENOMEM;
}

void agd_node_unregister(agd_node_t *n, const char *reason)
{
    agd_t *a = n->agd;
    if (n->kphase)
        s_knock_end(n);
    s_disconnect(n, reason);
    a->node_cb.down(a->node_arg, n, reason);
    /* Streams waiting on it fail too. */
    a->node_cb.gone(a->node_arg, n);
    PN_SLIST_REMOVE(a->nodes, n);
    a->nnodes--;
    ag_dec_free(&n->dec);
    ag_buf_free(&n->out);
    ag_buf_free(&n->urg);
    free(n->path);
    free(n->console);
    free(n);
}

/* ------------------------------------------------------------ the knock
 *
 * A guest that booted without running its PLUGNET config script (or whose
 * agent died) but has a root shell on its console gets the agent started
 * by typing into that console: wake it with a newline, wait for a prompt,
 * then mount the PLUGNET disk by label (or the first disk holding the
 * agent) and start it.  Repeated with a growing pause while the agent stays
 * down; the agent's own lock makes a second start harmless. */

/* A disk already mounted (the config script ran, then the agent died) is
 * used where it is: mounting it again fails ("Can't open blockdev"). */
#define KNOCK_CMD                                                                                        \
    "mkdir -p /run/plugnet-knock; for d in $(findfs LABEL=PLUGNET 2>/dev/null) /dev/ubd[b-z] /dev/vd[b-z]; " \
    "do [ -b \"$d\" ] || continue; m=; while read -r x y z; do [ \"$x\" = \"$d\" ] && m=$y && break; "   \
    "done </proc/mounts; if [ -z \"$m\" ]; then mount -o ro \"$d\" /run/plugnet-knock 2>/dev/null || "      \
    "continue; m=/run/plugnet-knock; fi; if [ -x \"$m/plugnet-agent\" ]; then \"$m/plugnet-agent\" -d; "   \
    "break; fi; [ \"$m\" != /run/plugnet-knock ] || umount /run/plugnet-knock; done; "                      \
    "echo plugnet-knock-$((6*7))\r"

/* Waiting for a prompt: wake the shell every KNOCK_POKE_MS, KNOCK_POKES
 * times more, then hang up (about 35 s on one connection). */
#define KNOCK_POKE_MS 5000
#define KNOCK_POKES 6

static void s_knock_end(agd_node_t *n)
{
    if (n->kw)
        pn_loop_del(n->agd->loop, n->kw);
    n->kw = NULL;
    if (n->kfd >= 0)
        close(n->kfd);
    n->kfd = -1;
    n->kphase = 0;
    unsigned pause = 5000u << (n->knocks < 4 ? n->knocks : 4);
    n->knext = pn_mono_ms() + (pause > 60000 ? 60000 : pause);
}

static void s_knock_io(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    agd_node_t *n = arg;
    char buf[1024];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0) {
        if (r < 0 && errno == EAGAIN)
            return;
        s_knock_end(n);
        return;
    }
    /* Keep the last bytes: is there a prompt at the end? */
    size_t tl = strlen(n->ktail), k = (size_t)r;
    if (k >= sizeof n->ktail - 1) {
        memcpy(n->ktail, buf + k - (sizeof n->ktail - 1), sizeof n->ktail - 1);
        n->ktail[sizeof n->ktail - 1] = 0;
    } else {
        if (tl + k > sizeof n->ktail - 1) {
            size_t drop = tl + k - (sizeof n->ktail - 1);
            memmove(n->ktail, n->ktail + drop, tl - drop + 1);
            tl -= drop;
        }
        memcpy(n->ktail + tl, buf, k);
        n->ktail[tl + k] = 0;
    }
    if (n->kphase == 2) {
        /* The shell ran it (the echo says 42, the typed line does not). */
        if (strstr(n->ktail, "plugnet-knock-42")) {
            n->kphase = 3;
            n->kdeadline = pn_mono_ms() + 1000;
        }
        return;
    }
    if (n->kphase != 1)
        return;
    /* A prompt ends in "# " (root) perhaps followed by terminal queries. */
    char *h = strrchr(n->ktail, '#');
    if (!h || h[1] != ' ')
        return;
    for (char *c = h + 2; *c; c++)
        if (*c != '\033' && *c != '[' && *c != ';' && *c != 'n' && (*c < '0' || *c > '9'))
            return;
    pn_info("agentd: %s: knocking: starting the agent through the console", n->name);
    if (write(fd, KNOCK_CMD, sizeof KNOCK_CMD - 1) < 0) {
        s_knock_end(n);
        return;
    }
    n->kphase = 2;
    n->ktail[0] = 0;
    n->kdeadline = pn_mono_ms() + 3000;
}

static void s_knock_start(agd_node_t *n)
{
    n->knocks++;
    int fd = s_unix_connect(n->console);
    if (fd < 0) {
        s_knock_end(n);
        return;
    }
    n->kfd = fd;
    n->kw = pn_loop_add_fd(n->agd->loop, fd, EPOLLIN, s_knock_io, n);
    n->kphase = 1;
    n->kretries = 0;
    n->kpokes = 0;
    n->ktail[0] = 0;
    n->kdeadline = pn_mono_ms() + KNOCK_POKE_MS;
    pn_debug("agentd: %s: knock %u on %s", n->name, n->knocks, n->console);
    /* Wake the shell (and clear a half-typed line). */
    if (write(fd, "\025\r", 2) < 0)
        s_knock_end(n);
}

static void s_knock_tick(agd_node_t *n, uint64_t now)
{
    if (n->kphase == 1 && now >= n->kdeadline && !n->up && n->kfd >= 0 && n->kpokes < KNOCK_POKES) {
        /* No prompt yet: the guest may still be booting (qemu's hvc0 is
         * silent until its shell starts; a knock connects early).  Stay
         * connected and wake the shell again rather than hanging up and
         * backing off. */
        n->kpokes++;
        n->kdeadline = now + KNOCK_POKE_MS;
        if (write(n->kfd, "\025\r", 2) < 0)
            s_knock_end(n);
        return;
    }
    if (n->kphase == 2 && now >= n->kdeadline && !n->up && n->kfd >= 0 && n->kretries < 5) {
        /* The line got lost (a console whose shell was just replaced, as
         * qemu's hvc0 does when a client connects): ask again. */
        n->kretries++;
        n->kphase = 1;
        n->ktail[0] = 0;
        n->kdeadline = now + KNOCK_POKE_MS;
        if (write(n->kfd, "\025\r", 2) < 0)
            s_knock_end(n);
        return;
    }
    if (n->kphase) {
        if ((n->up && n->kphase != 2) || now >= n->kdeadline)
            s_knock_end(n);
        return;
    }
    uint64_t delay = n->knock_ms >= 0 ? (uint64_t)n->knock_ms : n->agd->knock_ms;
    if (n->up || !n->console || !delay)
        return;
    if (now - n->since < delay || now < n->knext)
        return;
    if (access(n->console, F_OK) < 0)
        return;
    s_knock_start(n);
}

void agd_nodes_tick(agd_t *a)
{
    uint64_t now = pn_mono_ms();
    for (agd_node_t *n = a->nodes, *nx; n; n = nx) {
        nx = n->next;
        s_knock_tick(n, now);
        if (!n->connected) {
            if (now >= n->next_try)
                s_connect(n);
            continue;
        }
        /* Liveness: any byte from the agent resets the clock (a slow
         * line whose bytes still flow is alive); the deadline adapts to
         * the round trips seen (agd_node_deadline). */
        uint64_t deadline = s_deadline(n);
        if (n->up && now - n->last_rx > deadline) {
            /* We may be the slow one: read what is waiting before judging. */
            s_on_io(a->loop, n->fd, EPOLLIN, n);
            if (!n->connected || n->last_rx + deadline >= now)
                continue;
            char why[96], detail[1400];
            s_why(n, now, detail, sizeof detail);
            snprintf(why, sizeof why, "keepalive: no answer for %llu ms (deadline %llu ms)",
                     (unsigned long long)(now - n->last_rx), (unsigned long long)deadline);
            pn_warn("agentd: %s: declaring the agent down: %s", n->name, detail);
            s_set_down(n, why);
        }
        /* An agent that has been talking for a whole floor period without
         * acknowledging (its PONG lost to noise on a console line) reads
         * its line all the same. */
        uint64_t floor = (uint64_t)a->keepalive_ms * a->misses;
        if (n->acked < n->wire.ctl && now - n->acked_ms > floor && now - n->last_rx < a->keepalive_ms)
            s_ack(n, n->wire.ctl);
        /* One keepalive (and while down one HELLO) queued at a time: a
         * stalled guest must not find a pile of them in its line when it
         * runs again (docs/AGENT.md, "Liveness").  A PING unanswered for a
         * whole floor period is sent again (noise may have eaten it). */
        if (n->up) {
            if (!n->ping_at || now - n->ping_at >= floor)
                if (!ag_buf_used(&n->urg))
                    s_ping(n, now);
        } else if (now - n->last_hello >= a->keepalive_ms && !ag_buf_used(&n->urg)) {
            s_hello(n, 0);
        }
    }
}

pn_val_t *agd_node_info(agd_node_t *n)
{
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "node", n->name);
    pn_map_set_str(m, "kind", n->kind);
    pn_map_set_str(m, "path", n->path ? n->path : "");
    pn_map_set_str(m, "state", n->up ? "up" : "down");
    pn_map_set_bool(m, "connected", n->connected);
    if (n->up) {
        pn_map_set_str(m, "version", n->version);
        pn_map_set_str(m, "hostname", n->hostname);
    } else {
        pn_map_set_str(m, "reason", n->reason);
    }
    pn_map_set_uint(m, "since_ms", pn_mono_ms() - n->since);
    pn_map_set_uint(m, "sessions", (uint64_t)n->nsess);
    pn_map_set_uint(m, "rx_bytes", n->rx_bytes);
    pn_map_set_uint(m, "tx_bytes", n->tx_bytes);
    pn_map_set_uint(m, "garbage", n->dec.garbage);
    pn_map_set_uint(m, "bad_frames", n->bad_frames + n->dec.bad_payload);
    /* Liveness (docs/AGENT.md): how long since the last byte, the deadline
     * now, the smoothed round trip, bytes written that the agent has not
     * acknowledged yet (bounded on a serial line). */
    if (n->connected) {
        pn_map_set_uint(m, "quiet_ms", pn_mono_ms() - n->last_rx);
        pn_map_set_uint(m, "unanswered", n->wire.ctl - n->acked);
    }
    pn_map_set_uint(m, "deadline_ms", s_deadline(n));
    pn_map_set_uint(m, "srtt_ms", n->srtt);
    return m;
}
