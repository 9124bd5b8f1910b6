/* pn_acall: asynchronous requests to a peer daemon (see pn_acall.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "pn_acall.h"

typedef struct call call_t;
struct call {
    pn_acall_t *a;
    uint64_t id;
    char op[64];
    unsigned timeout_ms;
    pn_acall_fn fn;
    void *arg;
    pn_timer_t *timer;
    int code;               /* failed before sending: the code its timer reports */
    char msg[256];
    call_t *next;
};

struct pn_acall {
    pn_loop_t *loop;
    char svc[32];
    void *sock;
    pn_watch_t *watch;
    uint64_t next_id;
    call_t *calls;
    unsigned n;
};

/* Is the daemon there?  A non-blocking connect to its ctl socket: refused
 * or missing is "not running"; accepted, or a full backlog (a daemon that
 * is there but does not accept, e.g. stopped), is "there" and the call's
 * deadline tells the rest.  Never waits. */
bool pn_acall_present(const char *svc)
{
    /* unknown (no socket to knock with): the call's deadline decides */
    return pn_svc_knock(svc, true) != PN_KNOCK_ABSENT;
}

static void s_unlink(pn_acall_t *a, call_t *c)
{
    if (PN_SLIST_REMOVE(a->calls, c))
        a->n--;
}

/* Forget one call: no callback. */
static void s_drop(pn_acall_t *a, call_t *c)
{
    if (c->timer)
        pn_loop_del_timer(a->loop, c->timer);
    free(c);
}

/* End a call: off the list first, so its callback may make new calls. */
static void s_end(call_t *c, int code, pn_val_t *data, const char *msg)
{
    pn_acall_fn fn = c->fn;
    void *arg = c->arg;
    s_unlink(c->a, c);
    s_drop(c->a, c);
    fn(code, data, msg, arg);
}

static void s_on_timer(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    call_t *c = arg;
    c->timer = NULL; /* a one-shot timer: gone once it fired */
    if (c->code) {
        s_end(c, c->code, NULL, c->msg);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof(msg), "plugnet-%s did not answer '%s' within %u ms", c->a->svc, c->op, c->timeout_ms);
    s_end(c, -ETIMEDOUT, NULL, msg);
}

static void s_on_reply(pn_loop_t *loop, void *zsock, void *arg)
{
    pn_acall_t *a = arg;
    zmq_msg_t m;
    bool first = true;
    for (;;) { /* the body is the last frame (a delimiter may come first) */
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, zsock, first ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            return;
        }
        first = false;
        if (!zmq_msg_more(&m))
            break;
        zmq_msg_close(&m);
    }
    pn_msg_t rep = { 0 };
    char err[512];
    const void *buf = zmq_msg_data(&m);
    size_t len = zmq_msg_size(&m);
    call_t *c = NULL;
    /* The envelope gives the id, the id the call, the call the op whose
     * reply schema the data is checked against. */
    if (pn_msg_decode_reply(buf, len, NULL, NULL, &rep, err, sizeof(err)) == PN_OK)
        for (c = a->calls; c && c->id != rep.id; c = c->next)
            ;
    pn_msg_clear(&rep);
    if (!c) { /* garbage, or a late reply to a call that timed out */
        zmq_msg_close(&m);
        return;
    }
    char msg[700];
    if (pn_msg_decode_reply(buf, len, a->svc, c->op, &rep, err, sizeof(err)) != PN_OK) {
        snprintf(msg, sizeof(msg), "plugnet-%s sent a bad reply to '%s': %s", a->svc, c->op, err);
        s_end(c, -EPROTO, NULL, msg);
    } else if (!rep.ok) {
        snprintf(msg, sizeof(msg), "%s", rep.errmsg ? rep.errmsg : "");
        s_end(c, rep.err, NULL, msg);
    } else {
        pn_val_t *data = pn_map_del(rep.root, "data");
        s_end(c, PN_OK, data ? data : pn_map(), "");
        pn_val_free(data);
    }
    pn_msg_clear(&rep);
    zmq_msg_close(&m);
}

/* The DEALER to svc's ctl socket, watched by the loop.  0 or -errno. */
static int s_connect(pn_acall_t *a)
{
    char ep[4200];
    int zero = 0;
    int r = pn_endpoint(a->svc, "ctl", ep, sizeof(ep));
    if (r < 0)
        return r;
    if (!(a->sock = zmq_socket(pn_zctx(), ZMQ_DEALER)))
        return -errno;
    zmq_setsockopt(a->sock, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_connect(a->sock, ep) < 0)
        return -errno;
    a->watch = pn_loop_add_zsock(a->loop, a->sock, s_on_reply, a);
    return a->watch ? 0 : -ENOMEM;
}

pn_acall_t *pn_acall_new(pn_loop_t *loop, const char *svc)
{
    pn_acall_t *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->loop = loop;
    snprintf(a->svc, sizeof(a->svc), "%s", svc);
    a->next_id = (uint64_t)getpid() << 24;
    if (s_connect(a) < 0)
        pn_acall_destroy(&a);
    return a;
}

void pn_acall_destroy(pn_acall_t **a_p)
{
    pn_acall_t *a = a_p ? *a_p : NULL;
    if (!a)
        return;
    for (call_t *c = a->calls, *next; c; c = next) {
        next = c->next;
        s_drop(a, c);
    }
    if (a->watch)
        pn_loop_del(a->loop, a->watch);
    if (a->sock)
        zmq_close(a->sock);
    free(a);
    *a_p = NULL;
}

int pn_acall_send(pn_acall_t *a, const char *op, pn_val_t *args, unsigned timeout_ms, pn_acall_fn fn, void *arg)
{
    call_t *c = calloc(1, sizeof(*c));
    if (!c) {
        pn_val_free(args);
        return -ENOMEM;
    }
    c->a = a;
    c->id = ++a->next_id;
    snprintf(c->op, sizeof(c->op), "%s", op);
    c->timeout_ms = timeout_ms ? timeout_ms : 10000;
    c->fn = fn;
    c->arg = arg;
    char *buf = NULL;
    size_t len = 0;
    if (!pn_acall_present(a->svc)) {
        pn_val_free(args);
        c->code = -ECONNREFUSED;
        snprintf(c->msg, sizeof(c->msg), "plugnet-%s is not running (no socket in %s)", a->svc, pn_run_dir());
    } else if (pn_msg_request(c->id, op, args, &buf, &len) < 0) {
        c->code = -ENOMEM;
        snprintf(c->msg, sizeof(c->msg), "out of memory");
    } else if (zmq_send(a->sock, buf, len, ZMQ_DONTWAIT) < 0) {
        c->code = -errno;
        snprintf(c->msg, sizeof(c->msg), "cannot send to plugnet-%s: %s", a->svc, zmq_strerror(errno));
    }
    free(buf);
    /* A call that failed already still ends from the loop, like any other. */
    c->timer = pn_loop_add_timer(a->loop, c->code ? 0 : c->timeout_ms, false, s_on_timer, c);
    if (!c->timer) {
        free(c);
        return -ENOMEM;
    }
    c->next = a->calls;
    a->calls = c;
    a->n++;
    return 0;
}

unsigned pn_acall_cancel(pn_acall_t *a, void *arg)
{
    unsigned n = 0;
    for (call_t **pp = &a->calls; *pp;) {
        call_t *c = *pp;
        if (c->arg != arg) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        a->n--;
        s_drop(a, c);
        n++;
    }
    return n;
}

void pn_acall_drain(pn_acall_t *a, unsigned ms)
{
    if (!a)
        return;
    uint64_t end = pn_mono_ms() + ms;
    for (call_t *c = a->calls, *next; c; c = next) { /* failed before sending: no reply comes */
        next = c->next;
        if (c->code)
            s_end(c, c->code, NULL, c->msg);
    }
    while (a->calls) {
        uint64_t now = pn_mono_ms();
        if (now >= end)
            return;
        zmq_pollitem_t pi = { .socket = a->sock, .events = ZMQ_POLLIN };
        if (zmq_poll(&pi, 1, (long)(end - now)) > 0)
            s_on_reply(a->loop, a->sock, a);
    }
}

unsigned pn_acall_pending(const pn_acall_t *a)
{
    return a->n;
}
