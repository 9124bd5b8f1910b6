/* boot_wait: live boot progress and readiness for `plugnet node start` and `plugnet up`. */
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
#include "bus.h"

#define BW_MAX 64
#define BW_TAIL 10
#define BW_LINE 256
#define BW_DONE_MARK "plugnet: config done"

typedef struct {
    char name[16];
    char kind[8];
    char log[4200];
    char kept[4400];       /* where the console log was copied on a failure */
    off_t off;             /* console.log offset before the start */
    bool followed, done, failed, reported;
    bool config, agent;    /* milestones: "config done" seen, agent.up seen */
    char state[16];
    const char *how;       /* "agent", "config", "running" */
    uint64_t done_ms, config_ms, agent_ms; /* since the waiter began */
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
    cli_bus_t *bus;
    cli_boot_out_t out;
    bool tty;
    bool agentd;            /* agentd runs: a node is ready once its agent is up */
    int ino;
    uint64_t t0_ns, t0_ms;  /* wall clock (events carry it) and monotonic */
    bw_node_t nodes[BW_MAX];
    int n;
    bool line_drawn;
    char keep[4200];
    char failure[1024];
};

static volatile sig_atomic_t s_intr;
static void s_on_sigint(int sig)
{
    (void)sig;
    s_intr = 1;
}

cli_boot_t *cli_boot_new(cli_boot_out_t out)
{
    cli_boot_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->out = out;
    self->tty = out == CLI_BOOT_TTY;
    self->t0_ns = pn_now_ns();
    self->t0_ms = pn_mono_ms();
    self->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    /* Subscribed to our own hello topic too: once every daemon answered
     * it, our subscriptions are in force and nothing is missed. */
    static const char *const svcs[] = { "vmd", "agentd" };
    static const char *const topics[] = { "vmd.node", "agentd.agent" };
    self->bus = cli_bus_new(svcs, 2, topics, 2);
    if (!self->bus) {
        if (self->ino >= 0)
            close(self->ino);
        free(self);
        return NULL;
    }
    self->agentd = cli_bus_running(self->bus, "agentd");
    int expect = cli_bus_expected(self->bus);
    uint64_t deadline = pn_mono_ms() + 3000;
    for (int acked = 0; acked < expect && pn_mono_ms() < deadline;) {
        zmq_pollitem_t pi = { .socket = cli_bus_socket(self->bus), .events = ZMQ_POLLIN };
        if (zmq_poll(&pi, 1, (long)(deadline - pn_mono_ms())) <= 0)
            break;
        char topic[128], err[256];
        pn_msg_t ev;
        int r = cli_bus_recv(self->bus, topic, sizeof(topic), &ev, err, sizeof(err));
        if (r == 1)
            acked++;
        else if (r == 0)
            pn_msg_clear(&ev); /* before our hello: not ours to follow yet */
    }
    return self;
}

void cli_boot_destroy(cli_boot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cli_boot_t *self = *self_p;
    cli_bus_destroy(&self->bus);
    if (self->ino >= 0)
        close(self->ino);
    free(self);
    *self_p = NULL;
}

void cli_boot_keep(cli_boot_t *self, const char *dir)
{
    if (self)
        snprintf(self->keep, sizeof(self->keep), "%s", dir ? dir : "");
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

static void s_milestone(cli_boot_t *self, bw_node_t *b, const char *what, uint64_t ms);

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
    if (!b->config && strstr(clean, BW_DONE_MARK))
        s_milestone(self, b, "config", pn_mono_ms() - self->t0_ms);
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
    int len = snprintf(line, sizeof(line), "[%5.1fs] %s %s%s", s_secs(self), show->name, show->state,
                       show->config && self->agentd ? ", config done, waiting for its agent" : "");
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

/* Ready by the rule of the header: the agent up (config done, running
 * without agentd). */
static void s_check_ready(cli_boot_t *self, bw_node_t *b)
{
    if (b->done || b->failed || !b->followed)
        return;
    const char *how = NULL;
    if (self->agentd)
        how = b->agent ? "agent" : NULL;
    else if (!strcmp(b->kind, "ns"))
        how = !strcmp(b->state, "running") ? "running" : NULL;
    else
        how = b->config ? "config" : NULL;
    if (!how)
        return;
    b->done = true;
    b->how = how;
    b->done_ms = !strcmp(how, "agent") ? b->agent_ms : !strcmp(how, "config") ? b->config_ms : pn_mono_ms() - self->t0_ms;
    s_say(self, b->name, "ready", (double)b->done_ms / 1000.0);
}

/* ms: since the waiter began. */
static void s_milestone(cli_boot_t *self, bw_node_t *b, const char *what, uint64_t ms)
{
    if (!strcmp(what, "config")) {
        /* The config script starts the agent, so it was done before the
         * agent answered: a console line read late (a loaded host) must
         * not say otherwise. */
        if (b->agent && ms > b->agent_ms)
            ms = b->agent_ms;
        b->config = true;
        b->config_ms = ms;
        s_say(self, b->name, "config done", (double)ms / 1000.0);
    } else {
        b->agent = true;
        b->agent_ms = ms;
        s_say(self, b->name, "agent up", (double)ms / 1000.0);
    }
    s_check_ready(self, b);
}

/* ------------------------------------------------------------- events */

static void s_event(cli_boot_t *self, pn_msg_t *ev)
{
    double at = ev->ts > self->t0_ns ? (double)(ev->ts - self->t0_ns) / 1e9 : 0.0;
    if (!strcmp(ev->type, "node.state")) {
        bw_node_t *b = s_find(self, pn_get_str(ev->data, "name", ""));
        if (!b || b->failed)
            return;
        const char *st = pn_get_str(ev->data, "state", "?");
        /* "defined" is node.add's, queued before the start. */
        if (!strcmp(st, "defined"))
            return;
        snprintf(b->state, sizeof(b->state), "%s", st);
        if (!b->followed)
            return;
        /* vmd's and agentd's events interleave in any order: a node's
         * agent.up may be seen before its "running". */
        bool late = b->done && (!strcmp(st, "starting") || !strcmp(st, "running"));
        if (!late)
            s_say(self, b->name, st, at);
        /* Dead, whether before or after it was ready: the user cannot use it. */
        if (!strcmp(st, "crashed") || !strcmp(st, "stopped") || !strcmp(st, "stopping")) {
            b->failed = true;
            if (pn_get(ev->data, "exit_status")) {
                b->have_exit = true;
                b->exit_status = pn_get_int(ev->data, "exit_status", 0);
            }
        } else
            s_check_ready(self, b);
    } else if (!strcmp(ev->type, "agent.up")) {
        bw_node_t *b = s_find(self, pn_get_str(ev->data, "node", ""));
        if (b && b->followed && !b->agent && !b->failed)
            s_milestone(self, b, "agent", (uint64_t)(at * 1000));
    }
}

static void s_drain_events(cli_boot_t *self)
{
    for (;;) {
        char topic[128], err[256];
        pn_msg_t ev;
        int r = cli_bus_recv(self->bus, topic, sizeof(topic), &ev, err, sizeof(err));
        if (r == -EAGAIN)
            return;
        if (r == 0 && ev.type && ev.data)
            s_event(self, &ev);
        if (r == 0)
            pn_msg_clear(&ev);
    }
}

/* --------------------------------------------------------------- wait */

/* Copy FROM to TO (whose directory is made): 0 or -errno. */
static int s_copy(const char *from, const char *to)
{
    char dir[4400];
    snprintf(dir, sizeof(dir), "%s", to);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return -e;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)r) != r) {
            rc = -EIO;
            break;
        }
    if (r < 0)
        rc = -errno;
    close(in);
    if (close(out) < 0 && !rc)
        rc = -errno;
    return rc;
}

/* The console log the user is pointed to: a copy that outlives the node
 * when the caller asked for one, else the node's own. */
static const char *s_log_path(cli_boot_t *self, bw_node_t *b)
{
    if (b->kept[0])
        return b->kept;
    if (!b->log[0])
        return NULL;
    if (self->keep[0]) {
        char to[4400];
        snprintf(to, sizeof(to), "%s/%s/console.log", self->keep, b->name);
        int r = s_copy(b->log, to);
        if (r == 0) {
            snprintf(b->kept, sizeof(b->kept), "%s", to);
            return b->kept;
        }
        fprintf(stderr, "plugnet: cannot keep %s as %s: %s\n", b->log, to, strerror(-r));
    }
    return b->log;
}

static void s_report(cli_boot_t *self, bw_node_t *b, const char *why)
{
    /* What the console said last may not have been read yet. */
    s_read_console(self, b);
    if (b->plen) {
        b->part[b->plen] = 0;
        s_line(self, b, b->part);
        b->plen = 0;
    }
    b->reported = true;
    const char *log = s_log_path(self, b);
    fprintf(stderr, "plugnet: node '%s' %s", b->name, why);
    if (b->ntail) {
        fprintf(stderr, "; last console lines:\n");
        for (int i = 0; i < b->ntail; i++)
            fprintf(stderr, "  | %s\n", b->tail[(b->first + i) % BW_TAIL]);
        fprintf(stderr, "plugnet: the whole console log: %s\n", log ? log : "none");
    } else
        fprintf(stderr, "; its console (%s) stayed silent\n", log ? log : "none");
    if (!self->failure[0])
        snprintf(self->failure, sizeof(self->failure), "node %s %s; console log: %s", b->name, why,
                 log ? log : "none");
}

/* Why a node is not ready yet, for a timeout: its state and what is
 * missing. */
static void s_pending_why(cli_boot_t *self, bw_node_t *b, char *out, size_t len)
{
    size_t l = (size_t)snprintf(out, len, "it is %s", b->state);
    if (strcmp(b->kind, "ns") != 0 && l < len) {
        if (b->config)
            l += (size_t)snprintf(out + l, len - l, "; config done after %.1fs", (double)b->config_ms / 1000.0);
        else
            l += (size_t)snprintf(out + l, len - l, ": no '" BW_DONE_MARK "' on its console");
    }
    if (l >= len)
        return;
    if (!self->agentd) {
        snprintf(out + l, len - l, "%s", strcmp(b->kind, "ns") ? " and no agent up" : "");
        return;
    }
    /* agentd says why the agent is not up. */
    char msg[256] = "", reason[200] = "no answer from agentd";
    pn_val_t *d = NULL;
    if (cli_call_err(PN_OP_AGENT_LS, NULL, 3000, &d, msg, sizeof(msg)) == 0) {
        snprintf(reason, sizeof(reason), "not registered with agentd");
        pn_val_t *arr = pn_get(d, "agents");
        for (size_t i = 0; i < pn_len(arr); i++)
            if (!strcmp(pn_get_str(pn_at(arr, i), "node", ""), b->name))
                snprintf(reason, sizeof(reason), "%s", pn_get_str(pn_at(arr, i), "reason", "?"));
    }
    pn_val_free(d);
    snprintf(out + l, len - l, "; its agent is not up (agentd: %s)", reason);
}

/* Report each followed node that failed and was not reported yet. */
static int s_report_failed(cli_boot_t *self)
{
    int rc = CLI_OK;
    for (int i = 0; i < self->n; i++) {
        bw_node_t *b = &self->nodes[i];
        if (!b->followed || !b->failed || b->reported)
            continue;
        s_clear_line(self);
        fflush(stdout);
        char why[160], st[48] = "";
        if (b->have_exit)
            snprintf(st, sizeof(st), " (exit status %lld)", (long long)b->exit_status);
        snprintf(why, sizeof(why), "%s %s%s", b->state,
                 b->done ? "after it was ready" : "before its boot completed", st);
        s_report(self, b, why);
        rc = CLI_REFUSED;
    }
    return rc;
}

static void s_summary(cli_boot_t *self)
{
    if (self->out != CLI_BOOT_SUMMARY)
        return;
    int n = 0;
    uint64_t last = 0;
    for (int i = 0; i < self->n; i++)
        if (self->nodes[i].followed && self->nodes[i].done) {
            n++;
            if (self->nodes[i].done_ms > last)
                last = self->nodes[i].done_ms;
        }
    if (!n)
        return;
    if (n == 1) {
        for (int i = 0; i < self->n; i++) {
            bw_node_t *b = &self->nodes[i];
            if (b->followed && b->done)
                printf("%s ready in %.1fs (%s)\n", b->name, (double)b->done_ms / 1000.0,
                       !strcmp(b->how, "agent") ? "agent up" : !strcmp(b->how, "config") ? "config done" : "running");
        }
    } else {
        printf("%d nodes ready in %.1fs (", n, (double)last / 1000.0);
        const char *sep = "";
        for (int i = 0; i < self->n; i++) {
            bw_node_t *b = &self->nodes[i];
            if (b->followed && b->done) {
                printf("%s%s %.1fs", sep, b->name, (double)b->done_ms / 1000.0);
                sep = ", ";
            }
        }
        printf(")\n");
    }
    fflush(stdout);
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
            if (!b->followed || b->failed)
                continue;
            if (!b->config)
                s_read_console(self, b);
            if (!b->done && !b->failed)
                pending++;
        }
        if (s_report_failed(self) != CLI_OK)
            rc = CLI_REFUSED;
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
                char why[700], pw[600];
                s_pending_why(self, b, pw, sizeof(pw));
                if (soft) {
                    fprintf(stderr, "plugnet: node '%s' is still booting after %gs (%s); not waiting longer\n",
                            b->name, (double)timeout_ms / 1000.0, pw);
                    continue;
                }
                snprintf(why, sizeof(why), "did not finish booting within %gs (%s)", (double)timeout_ms / 1000.0, pw);
                s_report(self, b, why);
                b->failed = true;
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
        zmq_pollitem_t pi[2] = { { .socket = cli_bus_socket(self->bus), .events = ZMQ_POLLIN },
                                 { .socket = NULL, .fd = self->ino, .events = ZMQ_POLLIN } };
        int np = self->ino >= 0 ? 2 : 1;
        if (zmq_poll(pi, np, wait) > 0 && np == 2 && (pi[1].revents & ZMQ_POLLIN)) {
            char ib[4096];
            while (read(self->ino, ib, sizeof(ib)) > 0)
                ;
        }
    }
    if (rc == CLI_OK)
        s_summary(self);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

int cli_boot_check(cli_boot_t *self)
{
    if (!self)
        return CLI_OK;
    s_drain_events(self);
    /* The events may still be on their way: ask vmd too. */
    for (int i = 0; i < self->n; i++) {
        bw_node_t *b = &self->nodes[i];
        if (!b->followed || b->failed)
            continue;
        pn_val_t *a = pn_map(), *d = NULL;
        char msg[256];
        pn_map_set_str(a, "name", b->name);
        if (cli_call_err(PN_OP_NODE_SHOW, a, 10000, &d, msg, sizeof(msg)) == 0) {
            const char *st = pn_get_str(d, "state", "?");
            if (strcmp(st, "running") != 0 && strcmp(st, "starting") != 0) {
                snprintf(b->state, sizeof(b->state), "%s", st);
                b->failed = true;
                if (pn_get(d, "exit_status")) {
                    b->have_exit = true;
                    b->exit_status = pn_get_int(d, "exit_status", 0);
                }
            }
        }
        pn_val_free(d);
    }
    return s_report_failed(self);
}

const char *cli_boot_failure(const cli_boot_t *self)
{
    return self ? self->failure : "";
}

void cli_boot_annotate(cli_boot_t *self, const char *name, pn_val_t *m)
{
    bw_node_t *b = self ? s_find(self, name) : NULL;
    if (!b || !b->done || !m)
        return;
    pn_map_set_uint(m, "boot_ms", b->done_ms);
    pn_map_set_str(m, "booted", b->how);
    if (b->config)
        pn_map_set_uint(m, "config_ms", b->config_ms);
    if (b->agent)
        pn_map_set_uint(m, "agent_ms", b->agent_ms);
}
