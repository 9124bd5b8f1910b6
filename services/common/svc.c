/* pn_svc: the skeleton every plugnet daemon runs on. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <zmq.h>

#include "pn_svc.h"

/* zmq drops peers sending more than this; messages between the protocol
 * limit (1 MiB) and this get a too_large reply instead. */
#define PN_ZMQ_MAXMSG (4 << 20)

struct pn_req {
    pn_svc_t *svc;
    zmq_msg_t route[8];
    int nroute;
    uint64_t id;
    pn_msg_t msg;
    bool held, replied;
};

struct pn_svc {
    char name[32];
    const pn_svc_op_t *ops;
    void *user;
    pn_loop_t *loop;
    void *ctl, *pub;
    int lockfd;
    uint64_t start_ms;
    uint64_t seq;
    uint64_t requests, bad_requests, events;
    void (*status_fn)(pn_svc_t *, pn_val_t *);
    void (*stop_fn)(pn_svc_t *);
    pn_timer_t *watchdog;
    char ctl_path[4096], pub_path[4096];
};

static void *s_ctx;

void *pn_zctx(void)
{
    if (!s_ctx) {
        s_ctx = zmq_ctx_new();
        if (s_ctx)
            zmq_ctx_set(s_ctx, ZMQ_BLOCKY, 0);
    }
    return s_ctx;
}

static bool s_common_op(const char *op)
{
    return strcmp(op, PN_OPNAME_PING) == 0 || strcmp(op, PN_OPNAME_STATUS) == 0;
}

int pn_svc_ops_check(const char *svc, const pn_svc_op_t *ops, char *err, size_t errlen)
{
    for (const pn_svc_op_t *o = ops; o && o->op; o++) {
        if (!o->svc || strcmp(o->svc, svc) != 0 || !o->fn) {
            snprintf(err, errlen, "%s's table: op '%s' belongs to %s", svc, o->op, o->svc ? o->svc : "(none)");
            return -EINVAL;
        }
        if (s_common_op(o->op) || !pn_op_find(svc, o->op)) {
            snprintf(err, errlen, "%s's table: op '%s' is not in the schema (proto/schema.c)", svc, o->op);
            return -EINVAL;
        }
        for (const pn_svc_op_t *p = ops; p < o; p++)
            if (strcmp(p->op, o->op) == 0) {
                snprintf(err, errlen, "%s's table: op '%s' twice", svc, o->op);
                return -EINVAL;
            }
    }
    for (const pn_opdef_t *d = pn_ops; d->svc; d++) {
        if (strcmp(d->svc, svc) != 0 || s_common_op(d->op))
            continue;
        const pn_svc_op_t *o = ops;
        while (o && o->op && strcmp(o->op, d->op) != 0)
            o++;
        if (!o || !o->op) {
            snprintf(err, errlen, "%s's table: no handler for op '%s' of the schema", svc, d->op);
            return -EINVAL;
        }
    }
    return 0;
}

pn_svc_t *pn_svc_new(const char *name, const pn_svc_op_t *ops, void *user)
{
    char why[256];
    if (pn_svc_ops_check(name, ops, why, sizeof why) < 0) {
        pn_err("%s", why);
        return NULL;
    }
    pn_svc_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->ops = ops;
    s->user = user;
    s->lockfd = -1;
    s->loop = pn_loop_new();
    s->start_ms = pn_mono_ms();
    if (!s->loop) {
        free(s);
        return NULL;
    }
    return s;
}

void pn_svc_destroy(pn_svc_t **sp)
{
    if (!sp || !*sp)
        return;
    pn_svc_t *s = *sp;
    pn_loop_destroy(&s->loop);
    if (s->ctl)
        zmq_close(s->ctl);
    if (s->pub)
        zmq_close(s->pub);
    if (s->ctl_path[0])
        unlink(s->ctl_path);
    if (s->pub_path[0])
        unlink(s->pub_path);
    if (s->lockfd >= 0)
        close(s->lockfd);
    free(s);
    *sp = NULL;
    /* Terminating the context is what lets lingering messages (the
     * daemon.stopping event) leave before the process exits; every socket
     * has a bounded linger, so this cannot hang. */
    if (s_ctx) {
        zmq_ctx_term(s_ctx);
        s_ctx = NULL;
    }
}

void *pn_svc_user(pn_svc_t *s) { return s->user; }
pn_loop_t *pn_svc_loop(pn_svc_t *s) { return s->loop; }
const char *pn_svc_name(pn_svc_t *s) { return s->name; }
void pn_svc_set_status_fn(pn_svc_t *s, void (*fn)(pn_svc_t *, pn_val_t *)) { s->status_fn = fn; }
void pn_svc_set_stop_fn(pn_svc_t *s, void (*fn)(pn_svc_t *)) { s->stop_fn = fn; }

void pn_svc_notify_status(pn_svc_t *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sd_notifyf(0, "STATUS=%s", buf);
}

/* ---------------------------------------------------------------- events */

int pn_svc_publish(pn_svc_t *s, const char *topic, const char *type, pn_val_t *data)
{
    char full[128];
    snprintf(full, sizeof(full), "%s.%s", s->name, topic);
    char *buf;
    size_t len;
    int r = pn_msg_event(++s->seq, pn_now_ns(), s->name, type, data, &buf, &len);
    if (r)
        return r;
    s->events++;
    if (s->pub) {
        zmq_send(s->pub, full, strlen(full), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(s->pub, buf, len, ZMQ_DONTWAIT);
    }
    free(buf);
    return 0;
}

/* -------------------------------------------------------------- requests */

const char *pn_req_op(pn_req_t *r) { return r->msg.op ? r->msg.op : ""; }

pn_val_t *pn_req_args(pn_req_t *r)
{
    if (!r->msg.args) {
        if (!r->msg.root)
            r->msg.root = pn_map();
        pn_map_set(r->msg.root, "args", pn_map());
        r->msg.args = pn_get(r->msg.root, "args");
    }
    return r->msg.args;
}

static void s_req_free(pn_req_t *r)
{
    for (int i = 0; i < r->nroute; i++)
        zmq_msg_close(&r->route[i]);
    pn_msg_clear(&r->msg);
    free(r);
}

static void s_send(pn_req_t *r, char *buf, size_t len)
{
    pn_svc_t *s = r->svc;
    for (int i = 0; i < r->nroute; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_copy(&m, &r->route[i]);
        if (zmq_msg_send(&m, s->ctl, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&m);
    }
    zmq_send(s->ctl, buf, len, ZMQ_DONTWAIT);
    free(buf);
    r->replied = true;
    s->requests++;
    if (r->held)
        s_req_free(r);
}

void pn_req_ok(pn_req_t *r, pn_val_t *data)
{
    if (r->replied) {
        pn_val_free(data);
        return;
    }
    char *buf;
    size_t len;
    if (pn_msg_reply_ok(r->id, data, &buf, &len) == 0)
        s_send(r, buf, len);
}

void pn_req_ok_with(pn_req_t *r, const char *key, pn_val_t *v)
{
    pn_val_t *d = pn_map();
    pn_map_set(d, key, v);
    pn_req_ok(r, d);
}

void pn_req_fail(pn_req_t *r, int code, const char *fmt, ...)
{
    if (r->replied)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char *buf;
    size_t len;
    if (pn_msg_reply_err(r->id, code, msg, &buf, &len) == 0)
        s_send(r, buf, len);
}

void *pn_req_found(pn_req_t *r, void *obj, const char *what, const char *name)
{
    if (!obj)
        pn_req_fail(r, PN_ENOTFOUND, "%s '%s' does not exist", what, name);
    return obj;
}

pn_req_t *pn_req_hold(pn_req_t *r)
{
    r->held = true;
    return r;
}

static void s_ping(pn_svc_t *s, pn_req_t *r)
{
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "version", PN_VERSION);
    pn_map_set_uint(d, "pid", (uint64_t)getpid());
    pn_map_set_uint(d, "uptime_ms", pn_mono_ms() - s->start_ms);
    pn_map_set_str(d, "svc", s->name);
    pn_req_ok(r, d);
}

static void s_status(pn_svc_t *s, pn_req_t *r)
{
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "svc", s->name);
    pn_map_set_str(d, "version", PN_VERSION);
    pn_map_set_uint(d, "pid", (uint64_t)getpid());
    pn_map_set_uint(d, "uptime_ms", pn_mono_ms() - s->start_ms);
    pn_map_set_uint(d, "requests", s->requests);
    pn_map_set_uint(d, "bad_requests", s->bad_requests);
    pn_map_set_uint(d, "events", s->events);
    if (s->status_fn)
        s->status_fn(s, d);
    pn_req_ok(r, d);
}

static void s_dispatch(pn_svc_t *s, pn_req_t *r)
{
    const char *op = r->msg.op;
    if (strcmp(op, PN_OPNAME_PING) == 0)
        return s_ping(s, r);
    if (strcmp(op, PN_OPNAME_STATUS) == 0)
        return s_status(s, r);
    for (const pn_svc_op_t *o = s->ops; o && o->op; o++)
        if (strcmp(o->op, op) == 0) {
            o->fn(s, r);
            if (!r->replied && !r->held)
                pn_req_fail(r, PN_EINTERNAL, "%s: op '%s' did not answer", s->name, op);
            return;
        }
    if (pn_op_find(s->name, op))
        pn_req_fail(r, PN_EUNSUP, "op '%s' is not implemented yet by %s", op, s->name);
    else
        pn_req_fail(r, PN_EUNSUP, "%s has no op '%s'", s->name, op);
}

static void s_on_ctl(pn_loop_t *loop, void *zsock, void *arg)
{
    static pn_ratelimit_t rl = PN_RATELIMIT_INIT(1000, 5);
    pn_svc_t *s = arg;
    pn_req_t *r = calloc(1, sizeof(*r));
    if (!r) {
        /* Drop one message so the loop makes progress. */
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, zsock, ZMQ_DONTWAIT);
        zmq_msg_close(&m);
        return;
    }
    r->svc = s;
    zmq_msg_t frames[9];
    int n = 0;
    bool overflow = false;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        int more = zmq_msg_more(&m);
        if (n < 9)
            frames[n++] = m;
        else {
            overflow = true;
            zmq_msg_close(&m);
        }
        if (!more)
            break;
    }
    /* A ROUTER prefixes the peer identity; a REQ peer adds an empty
     * delimiter.  So a request is [id, payload] or [id, "", payload];
     * anything else is garbage to drop without a reply. */
    bool shape = n == 2 || (n == 3 && zmq_msg_size(&frames[1]) == 0);
    if (!shape || overflow) {
        for (int i = 0; i < n; i++)
            zmq_msg_close(&frames[i]);
        s->bad_requests++;
        free(r);
        pn_log_rl(&rl, PN_LOG_WARNING, "%s: dropped a malformed ctl message (%d frames)", s->name, n);
        return;
    }
    r->nroute = n - 1;
    for (int i = 0; i < r->nroute; i++)
        r->route[i] = frames[i];
    zmq_msg_t *payload = &frames[n - 1];
    char err[512];
    int code = pn_msg_decode_request(zmq_msg_data(payload), zmq_msg_size(payload), s->name,
                                     &r->msg, err, sizeof(err));
    zmq_msg_close(payload);
    r->id = r->msg.id;
    if (code != PN_OK) {
        s->bad_requests++;
        pn_log_rl(&rl, PN_LOG_WARNING, "%s: refused a request: %s", s->name, err);
        pn_req_fail(r, code, "%s", err);
        s_req_free(r);
        return;
    }
    s_dispatch(s, r);
    if (!r->held)
        s_req_free(r);
}

/* The event socket is an XPUB so subscribers can learn when their
 * subscriptions are in effect: a subscriber subscribes to its topics, then
 * to "pn.hello.<token>"; subscriptions travel in order on one pipe, so when
 * that last one arrives here every earlier one is applied, and the answer
 * on the hello topic tells the subscriber it will miss nothing from now on. */
static void s_on_sub(pn_loop_t *loop, void *zsock, void *arg)
{
    pn_svc_t *s = arg;
    char buf[256];
    int n = zmq_recv(zsock, buf, sizeof(buf) - 1, ZMQ_DONTWAIT);
    if (n <= 1)
        return;
    if (n > (int)sizeof(buf) - 1)
        n = (int)sizeof(buf) - 1;
    buf[n] = 0;
    if (buf[0] == 1 && strncmp(buf + 1, "pn.hello.", 9) == 0) {
        zmq_send(zsock, buf + 1, (size_t)n - 1, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(zsock, s->name, strlen(s->name), ZMQ_DONTWAIT);
    }
}

/* ----------------------------------------------------------- start, run */

static void s_on_term(pn_loop_t *loop, int signo, void *arg)
{
    pn_svc_t *s = arg;
    pn_notice("%s: received %s, stopping", s->name, strsignal(signo));
    if (s->stop_fn)
        s->stop_fn(s);
    pn_loop_stop(loop);
}

static void s_on_watchdog(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    sd_notify(0, "WATCHDOG=1");
}

static void s_usage(const char *name, FILE *f)
{
    fprintf(f,
            "usage: plugnet-%s [-v] [--run-dir DIR] [--state-dir DIR]\n"
            "  -v, --verbose      debug logging\n"
            "  --run-dir DIR      runtime dir (default $PLUGNET_RUN_DIR or /run/plugnet)\n"
            "  --state-dir DIR    state dir (default $PLUGNET_STATE_DIR or /var/lib/plugnet)\n"
            "  --version          print the version\n",
            name);
}

static int s_bind(pn_svc_t *s, void **sock, int type, const char *kind, char *path, size_t pathlen)
{
    char ep[4200];
    int r = pn_endpoint(s->name, kind, ep, sizeof(ep));
    if (r) {
        pn_err("%s: endpoint path for %s is too long (RUN dir '%s')", s->name, kind, pn_run_dir());
        return r;
    }
    snprintf(path, pathlen, "%s", ep + 6);
    unlink(path); /* stale from a crash: we hold the instance lock */
    *sock = zmq_socket(pn_zctx(), type);
    if (!*sock)
        return -errno;
    int linger = type == ZMQ_XPUB ? 200 : 0;
    zmq_setsockopt(*sock, ZMQ_LINGER, &linger, sizeof(linger));
    int64_t maxmsg = PN_ZMQ_MAXMSG;
    zmq_setsockopt(*sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    int hwm = 10000;
    zmq_setsockopt(*sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    if (zmq_bind(*sock, ep) < 0) {
        r = -errno;
        pn_err("%s: cannot bind %s: %s", s->name, ep, zmq_strerror(-r));
        return r;
    }
    chmod(path, 0660);
    return 0;
}

int pn_svc_start(pn_svc_t *s, int argc, char **argv)
{
    static const struct option opts[] = {
        { "verbose", no_argument, NULL, 'v' },
        { "run-dir", required_argument, NULL, 'R' },
        { "state-dir", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'v': pn_log_set_level(PN_LOG_DEBUG); break;
        case 'R': setenv("PLUGNET_RUN_DIR", optarg, 1); break;
        case 'S': setenv("PLUGNET_STATE_DIR", optarg, 1); break;
        case 'h': s_usage(s->name, stdout); exit(0);
        case 'V': printf("plugnet-%s %s\n", s->name, PN_VERSION); exit(0);
        default: s_usage(s->name, stderr); exit(2);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    int r;
    if ((r = pn_mkdirs(pn_run_dir(), 0755)) < 0) {
        pn_err("%s: cannot create run dir %s: %s", s->name, pn_run_dir(), strerror(-r));
        return r;
    }
    if ((r = pn_mkdirs(pn_state_dir(), 0755)) < 0) {
        pn_err("%s: cannot create state dir %s: %s", s->name, pn_state_dir(), strerror(-r));
        return r;
    }
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s/%s.lock", pn_run_dir(), s->name);
    s->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lockfd < 0) {
        r = -errno;
        pn_err("%s: cannot open lock file %s: %s", s->name, lock, strerror(errno));
        return r;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
        char pid[32] = "?";
        ssize_t n = pread(s->lockfd, pid, sizeof(pid) - 1, 0);
        if (n > 0) {
            pid[n] = 0;
            pid[strcspn(pid, "\n")] = 0;
        }
        pn_err("%s: another plugnet-%s (pid %s) is already running with run dir %s", s->name,
               s->name, pid, pn_run_dir());
        close(s->lockfd);
        s->lockfd = -1;
        return -EBUSY;
    }
    char pidbuf[32];
    int pl = snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)getpid());
    if (ftruncate(s->lockfd, 0) < 0 || pwrite(s->lockfd, pidbuf, (size_t)pl, 0) != pl)
        pn_warn("%s: cannot write pid to %s", s->name, lock);

    if ((r = s_bind(s, &s->ctl, ZMQ_ROUTER, "ctl", s->ctl_path, sizeof(s->ctl_path))) < 0)
        return r;
    if ((r = s_bind(s, &s->pub, ZMQ_XPUB, "pub", s->pub_path, sizeof(s->pub_path))) < 0)
        return r;
    int verbose = 1;
    zmq_setsockopt(s->pub, ZMQ_XPUB_VERBOSE, &verbose, sizeof(verbose));
    if (!pn_loop_add_zsock(s->loop, s->pub, s_on_sub, s))
        return -ENOMEM;
    if (!pn_loop_add_zsock(s->loop, s->ctl, s_on_ctl, s))
        return -ENOMEM;
    pn_loop_add_signal(s->loop, SIGTERM, s_on_term, s);
    pn_loop_add_signal(s->loop, SIGINT, s_on_term, s);
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
        uint64_t ms = wd_usec / 2000;
        s->watchdog = pn_loop_add_timer(s->loop, ms ? ms : 1, true, s_on_watchdog, s);
    }
    return 0;
}

int pn_svc_run(pn_svc_t *s)
{
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "state", "started");
    pn_map_set_uint(d, "pid", (uint64_t)getpid());
    pn_map_set_str(d, "version", PN_VERSION);
    pn_svc_publish(s, "daemon", "daemon.started", d);
    sd_notifyf(0, "READY=1\nSTATUS=%s ready\nMAINPID=%d", s->name, (int)getpid());
    pn_info("%s: ready (pid %d, run dir %s)", s->name, (int)getpid(), pn_run_dir());
    int r = pn_loop_run(s->loop);
    sd_notify(0, "STOPPING=1");
    d = pn_map();
    pn_map_set_str(d, "state", "stopping");
    pn_map_set_uint(d, "pid", (uint64_t)getpid());
    pn_map_set_str(d, "version", PN_VERSION);
    pn_svc_publish(s, "daemon", "daemon.stopping", d);
    pn_info("%s: stopped", s->name);
    return r < 0 ? 1 : 0;
}
