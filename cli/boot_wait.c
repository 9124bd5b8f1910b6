/* boot_wait: live boot progress and --wait for `plugnet node start`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "boot_wait.h"

#define BW_MAX 64
#define BW_TAIL 10
#define BW_LINE 256
#define BW_DONE_MARK "plugnet: config done"

typedef struct {
    char name[16];
    char kind[8];
    char log[4200];
    off_t off;             /* console.log offset before the start */
    bool followed, done, failed;
    char state[16];
    const char *how;       /* "config", "agent", "running" */
    uint64_t done_ms;      /* since the waiter began */
    int64_t exit_status;
    bool have_exit;
    char part[BW_LINE];    /* the unfinished console line */
    size_t plen;
    char tail[BW_TAIL][BW_LINE];
    int ntail;             /* lines in tail (ring, newest at (first+ntail-1)%BW_TAIL) */
    int first;
    int wd;                /* inotify watch, -1 = none */
} bw_node_t;

struct cli_boot {
    void *sub;
    bool tty;
    int ino;
    uint64_t t0_ns, t0_ms;  /* wall clock (events carry it) and monotonic */
    bw_node_t nodes[BW_MAX];
    int n;
    bool line_drawn;
};

static volatile sig_atomic_t s_intr;
static void s_on_sigint(int sig)
{
    (void)sig;
    s_intr = 1;
}

cli_boot_t *cli_boot_new(bool tty)
{
    cli_boot_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->tty = tty;
    self->t0_ns = pn_now_ns();
    self->t0_ms = pn_mono_ms();
    self->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    self->sub = zmq_socket(pn_zctx(), ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(self->sub, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(self->sub, ZMQ_SUBSCRIBE, "vmd.node", 8);
    zmq_setsockopt(self->sub, ZMQ_SUBSCRIBE, "agentd.agent", 12);
    /* The daemons answer our own hello topic once our subscriptions are in
     * force (as for `plugnet events`): from then on nothing is missed. */
    char hello[64];
    snprintf(hello, sizeof(hello), "pn.hello.%d.%llu", (int)getpid(), (unsigned long long)pn_mono_ms());
    zmq_setsockopt(self->sub, ZMQ_SUBSCRIBE, hello, strlen(hello));
    static const char *const svcs[] = { "vmd", "agentd" };
    int expect = 0;
    for (int i = 0; i < 2; i++) {
        char ep[4200];
        if (pn_endpoint(svcs[i], "pub", ep, sizeof(ep)) == 0 && zmq_connect(self->sub, ep) == 0 &&
            pn_svc_socket_present(svcs[i]))
            expect++;
    }
    uint64_t deadline = pn_mono_ms() + 3000;
    for (int acked = 0; acked < expect && pn_mono_ms() < deadline;) {
        zmq_pollitem_t pi = { .socket = self->sub, .events = ZMQ_POLLIN };
        if (zmq_poll(&pi, 1, (long)(deadline - pn_mono_ms())) <= 0)
            break;
        char topic[128];
        int tl = zmq_recv(self->sub, topic, sizeof(topic) - 1, ZMQ_DONTWAIT);
        if (tl < 0)
            continue;
        topic[tl < (int)sizeof(topic) - 1 ? tl : (int)sizeof(topic) - 1] = 0;
        char rest[64];
        int more = 0;
        size_t ms = sizeof(more);
        zmq_getsockopt(self->sub, ZMQ_RCVMORE, &more, &ms);
        if (more)
            zmq_recv(self->sub, rest, sizeof(rest), 0);
        if (strcmp(topic, hello) == 0)
            acked++;
    }
    return self;
}

void cli_boot_destroy(cli_boot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cli_boot_t *self = *self_p;
    if (self->sub)
        zmq_close(self->sub);
    if (self->ino >= 0)
        close(self->ino);
    free(self);
    *self_p = NULL;
}

static bw_node_t *s_find(cli_boot_t *self, const char *name)
{
    for (int i = 0; i < self->n; i++)
        if (strcmp(self->nodes[i].name, name) == 0)
            return &self->nodes[i];
    return NULL;
}

void cli_boot_prepare(cli_boot_t *self, const char *name, pn_val_t *show)
{
    if (!self || s_find(self, name) || self->n == BW_MAX)
        return;
    bw_node_t *b = &self->nodes[self->n++];
    memset(b, 0, sizeof(*b));
    b->wd = -1;
    snprintf(b->name, sizeof(b->name), "%s", name);
    const char *log = show ? pn_get_str(show, "console_log", NULL) : NULL;
    struct stat st;
    if (log && stat(log, &st) == 0)
        b->off = st.st_size;
}

void cli_boot_follow(cli_boot_t *self, const char *name, pn_val_t *start)
{
    if (!self)
        return;
    bw_node_t *b = s_find(self, name);
    if (!b) {
        cli_boot_prepare(self, name, NULL);
        if (!(b = s_find(self, name)))
            return;
    }
    b->followed = true;
    snprintf(b->kind, sizeof(b->kind), "%s", pn_get_str(start, "kind", "?"));
    snprintf(b->state, sizeof(b->state), "%s", pn_get_str(start, "state", "?"));
    snprintf(b->log, sizeof(b->log), "%s", pn_get_str(start, "console_log", ""));
    if (b->log[0] && self->ino >= 0)
        b->wd = inotify_add_watch(self->ino, b->log, IN_MODIFY);
}

/* ------------------------------------------------------------ console */

static void s_tail_push(bw_node_t *b, const char *line)
{
    int slot = (b->first + b->ntail) % BW_TAIL;
    if (b->ntail == BW_TAIL) {
        slot = b->first;
        b->first = (b->first + 1) % BW_TAIL;
    } else
        b->ntail++;
    snprintf(b->tail[slot], BW_LINE, "%s", line);
}

static const char *s_tail_last(const bw_node_t *b)
{
    return b->ntail ? b->tail[(b->first + b->ntail - 1) % BW_TAIL] : "";
}

static void s_mark_done(cli_boot_t *self, bw_node_t *b, const char *how);

/* One console line: printable only (escape sequences and control
 * characters dropped), blank lines ignored. */
static void s_line(cli_boot_t *self, bw_node_t *b, const char *raw)
{
    char clean[BW_LINE];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p && n + 1 < sizeof(clean); p++) {
        if (*p == 0x1b) {
            /* CSI: ESC [ params final-byte */
            if (p[1] == '[') {
                p += 2;
                while (*p && !(*p >= 0x40 && *p <= 0x7e))
                    p++;
                if (!*p)
                    break;
            }
            continue;
        }
        if (*p >= 0x20 && *p != 0x7f)
            clean[n++] = (char)*p;
    }
    clean[n] = 0;
    while (n && clean[n - 1] == ' ')
        clean[--n] = 0;
    if (!n)
        return;
    /* A kernel call trace (" [<6069f8e4>] kernel_init+0x3d/0x162") would
     * push the panic message itself out of the tail. */
    const char *t = clean + strspn(clean, " ");
    if (t[0] == '[' && t[1] == '<')
        return;
    s_tail_push(b, clean);
    if (!b->done && strstr(clean, BW_DONE_MARK))
        s_mark_done(self, b, "config");
}

static void s_read_console(cli_boot_t *self, bw_node_t *b)
{
    if (!b->log[0])
        return;
    int fd = open(b->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (b->wd < 0 && self->ino >= 0)
        b->wd = inotify_add_watch(self->ino, b->log, IN_MODIFY);
    char buf[8192];
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t r = pread(fd, buf, sizeof(buf), b->off);
        if (r <= 0)
            break;
        b->off += r;
        for (ssize_t i = 0; i < r; i++) {
            char c = buf[i];
            if (c == '\n' || c == '\r') {
                b->part[b->plen] = 0;
                s_line(self, b, b->part);
                b->plen = 0;
            } else if (b->plen + 1 < sizeof(b->part))
                b->part[b->plen++] = c;
        }
    }
    close(fd);
}

/* ------------------------------------------------------------ display */

static unsigned s_cols(void)
{
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

static double s_secs(cli_boot_t *self) { return (double)(pn_mono_ms() - self->t0_ms) / 1000.0; }

static void s_clear_line(cli_boot_t *self)
{
    if (self->tty && self->line_drawn) {
        fputs("\r\033[K", stdout);
        self->line_drawn = false;
    }
}

/* A permanent line (a transition), above the live one. */
static void s_say(cli_boot_t *self, const char *name, const char *what, double secs)
{
    if (!self->tty)
        return;
    s_clear_line(self);
    printf("%s: %s (%.1fs)\n", name, what, secs);
    fflush(stdout);
}

static void s_draw(cli_boot_t *self)
{
    if (!self->tty)
        return;
    bw_node_t *show = NULL;
    int pending = 0;
    for (int i = 0; i < self->n; i++) {
        bw_node_t *b = &self->nodes[i];
        if (!b->followed || b->done || b->failed)
            continue;
        pending++;
        if (!show || (b->ntail && !show->ntail))
            show = b;
    }
    if (!show) {
        s_clear_line(self);
        fflush(stdout);
        return;
    }
    char line[1024];
    int len = snprintf(line, sizeof(line), "[%5.1fs] %s %s", s_secs(self), show->name, show->state);
    if (pending > 1)
        len += snprintf(line + len, sizeof(line) - (size_t)len, " (+%d)", pending - 1);
    if (show->ntail)
        snprintf(line + len, sizeof(line) - (size_t)len, " | %s", s_tail_last(show));
    unsigned cols = s_cols() - 1;
    if (strlen(line) > cols)
        line[cols] = 0;
    printf("\r\033[K%s", line);
    fflush(stdout);
    self->line_drawn = true;
}

static void s_mark_done(cli_boot_t *self, bw_node_t *b, const char *how)
{
    b->done = true;
    b->how = how;
    b->done_ms = pn_mono_ms() - self->t0_ms;
    char what[64];
    snprintf(what, sizeof(what), "%s", !strcmp(how, "config") ? "config done" : !strcmp(how, "agent") ? "agent up" : "running");
    s_say(self, b->name, what, (double)b->done_ms / 1000.0);
}

/* ------------------------------------------------------------- events */

static void s_event(cli_boot_t *self, pn_msg_t *ev)
{
    double at = ev->ts > self->t0_ns ? (double)(ev->ts - self->t0_ns) / 1e9 : 0.0;
    if (!strcmp(ev->type, "node.state")) {
        bw_node_t *b = s_find(self, pn_get_str(ev->data, "name", ""));
        if (!b || b->done || b->failed)
            return;
        const char *st = pn_get_str(ev->data, "state", "?");
        snprintf(b->state, sizeof(b->state), "%s", st);
        s_say(self, b->name, st, at);
        if (!strcmp(st, "crashed") || !strcmp(st, "stopped") || !strcmp(st, "stopping")) {
            b->failed = true;
            if (pn_get(ev->data, "exit_status")) {
                b->have_exit = true;
                b->exit_status = pn_get_int(ev->data, "exit_status", 0);
            }
        } else if (!strcmp(st, "running") && !strcmp(b->kind, "ns"))
            s_mark_done(self, b, "running");
    } else if (!strcmp(ev->type, "agent.up")) {
        bw_node_t *b = s_find(self, pn_get_str(ev->data, "node", ""));
        if (b && b->followed && !b->done && !b->failed)
            s_mark_done(self, b, "agent");
    }
}

static void s_drain_events(cli_boot_t *self)
{
    for (;;) {
        char topic[128];
        int tl = zmq_recv(self->sub, topic, sizeof(topic) - 1, ZMQ_DONTWAIT);
        if (tl < 0)
            return;
        int more = 0;
        size_t ms = sizeof(more);
        zmq_getsockopt(self->sub, ZMQ_RCVMORE, &more, &ms);
        if (!more)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->sub, 0) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        pn_msg_t ev;
        char err[256];
        int r = pn_msg_decode_event(zmq_msg_data(&m), zmq_msg_size(&m), &ev, err, sizeof(err));
        zmq_msg_close(&m);
        if (r == PN_OK && ev.type && ev.data)
            s_event(self, &ev);
        pn_msg_clear(&ev);
    }
}

/* --------------------------------------------------------------- wait */

static void s_report(cli_boot_t *self, bw_node_t *b, const char *why)
{
    /* What the console said last may not have been read yet. */
    s_read_console(self, b);
    if (b->plen) {
        b->part[b->plen] = 0;
        s_line(self, b, b->part);
        b->plen = 0;
    }
    fprintf(stderr, "plugnet: node '%s' %s", b->name, why);
    if (b->ntail) {
        fprintf(stderr, "; last console lines:\n");
        for (int i = 0; i < b->ntail; i++)
            fprintf(stderr, "  | %s\n", b->tail[(b->first + i) % BW_TAIL]);
    } else
        fprintf(stderr, "; its console (%s) stayed silent\n", b->log[0] ? b->log : "none");
}

int cli_boot_wait(cli_boot_t *self, int timeout_ms, bool soft)
{
    if (!self)
        return CLI_OK;
    struct sigaction sa = { .sa_handler = s_on_sigint }, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    s_intr = 0;
    uint64_t deadline = pn_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    int rc = CLI_OK;
    for (;;) {
        s_drain_events(self);
        int pending = 0;
        for (int i = 0; i < self->n; i++) {
            bw_node_t *b = &self->nodes[i];
            if (!b->followed || b->done || b->failed)
                continue;
            s_read_console(self, b);
            if (!b->done && !b->failed)
                pending++;
        }
        for (int i = 0; i < self->n; i++) {
            bw_node_t *b = &self->nodes[i];
            if (!b->followed || !b->failed)
                continue;
            s_clear_line(self);
            fflush(stdout);
            char why[128];
            if (b->have_exit)
                snprintf(why, sizeof(why), "%s before its boot completed (exit status %lld)", b->state,
                         (long long)b->exit_status);
            else
                snprintf(why, sizeof(why), "%s before its boot completed", b->state);
            s_report(self, b, why);
            b->followed = false;
            rc = CLI_REFUSED;
        }
        if (!pending)
            break;
        if (s_intr) {
            s_clear_line(self);
            fflush(stdout);
            fprintf(stderr, "plugnet: stopped waiting; the node%s keep%s booting\n", pending > 1 ? "s" : "",
                    pending > 1 ? "" : "s");
            rc = 130;
            break;
        }
        uint64_t now = pn_mono_ms();
        if (now >= deadline) {
            s_clear_line(self);
            fflush(stdout);
            for (int i = 0; i < self->n; i++) {
                bw_node_t *b = &self->nodes[i];
                if (!b->followed || b->done || b->failed)
                    continue;
                char why[256];
                if (soft) {
                    fprintf(stderr, "plugnet: node '%s' is still booting after %gs (%s); not waiting longer\n",
                            b->name, (double)timeout_ms / 1000.0, b->state);
                    continue;
                }
                snprintf(why, sizeof(why),
                         "did not finish booting within %gs (it is %s: no '" BW_DONE_MARK
                         "' on its console and no agent up)",
                         (double)timeout_ms / 1000.0, b->state);
                s_report(self, b, why);
                rc = CLI_REFUSED;
            }
            break;
        }
        s_draw(self);
        long wait = (long)(deadline - now);
        if (self->tty && wait > 100)
            wait = 100;
        else if (wait > 1000)
            wait = 1000; /* a console without inotify (a log not there yet) */
        zmq_pollitem_t pi[2] = { { .socket = self->sub, .events = ZMQ_POLLIN },
                                 { .socket = NULL, .fd = self->ino, .events = ZMQ_POLLIN } };
        int np = self->ino >= 0 ? 2 : 1;
        if (zmq_poll(pi, np, wait) > 0 && np == 2 && (pi[1].revents & ZMQ_POLLIN)) {
            char ib[4096];
            while (read(self->ino, ib, sizeof(ib)) > 0)
                ;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

void cli_boot_annotate(cli_boot_t *self, const char *name, pn_val_t *m)
{
    bw_node_t *b = self ? s_find(self, name) : NULL;
    if (!b || !b->done || !m)
        return;
    pn_map_set_uint(m, "boot_ms", b->done_ms);
    pn_map_set_str(m, "booted", b->how);
}
