/* vm_agentd: vmd's link to agentd.
 *
 * One DEALER carries every call vmd makes to agentd, so they reach agentd
 * in the order vmd made them: the unregister at a node's end is never
 * overtaken by the register of its restart.  It is ZMQ_IMMEDIATE: nothing
 * is queued while agentd is away, so no stale call reaches a later agentd.
 *
 * A SUB on agentd's event socket subscribes to agentd.daemon and to a
 * hello topic of its own.  zmq subscribes again on every (re)connection,
 * so every agentd that starts answers the hello (and publishes
 * daemon.started, which a subscriber still reconnecting may miss: the
 * hello it cannot).  Either makes vmd reconcile, from the loop and without
 * waiting: agent.ls, then agent.register of each running node agentd does
 * not know (an agentd started after vmd, or one that lost its persisted
 * registrations) and agent.unregister of the nodes it knows that vmd has
 * stopped.  Only a node's start waits for its registration (at most 2 s,
 * on a timer: the loop goes on), so that `plugnet exec` right after `node
 * start` finds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "vm.h"

#define AG_PENDING 64
#define AG_CALL_MS 2000
#define AG_LS_STALE_MS 5000
#define AG_RETRY_MS 200
#define AG_RETRIES 50
#define AG_CONNECT_MS 1000
#define AG_CONNECT_STEP_MS 10

typedef struct ag_wait ag_wait_t;
/* A registration someone waits for (node.start's answer): ends at
 * agentd's answer, or after AG_CALL_MS, or after AG_CONNECT_MS without a
 * connection to send it on. */
struct ag_wait {
    uint64_t id;            /* 0 = not sent yet */
    char node[16];
    vm_t *vm;
    void (*fn)(vm_t *vm, void *arg);
    void *arg;
    pn_timer_t *timer;
    uint64_t until_ms;      /* not sent: give up on connecting */
    ag_wait_t *next;
};


enum { AG_LS = 1, AG_REG, AG_UNREG };

typedef struct {
    uint64_t id;
    int kind;
    char node[16];
    uint64_t seq;   /* AG_LS: registrations made before it was sent */
} ag_pending_t;

static struct {
    vm_t *vm;
    void *dealer, *sub;
    uint64_t next_id;
    uint64_t reg_seq;       /* successful registrations so far */
    ag_pending_t pend[AG_PENDING];
    unsigned pend_next;
    uint64_t ls_id, ls_sent_ms;
    bool again;             /* reconcile asked for while an agent.ls was out */
    pn_timer_t *retry;
    unsigned retries;
    ag_wait_t *waits;       /* registrations waited for */
} s_ag;

static pn_ratelimit_t s_rl = PN_RATELIMIT_INIT(5000, 5);

static void s_reconcile(void);
static void s_wait_answered(uint64_t id);

/* Send a request; 0 with *id set, -EAGAIN when agentd is not connected. */
static int s_send(const char *op, pn_val_t *args, uint64_t *id)
{
    if (!s_ag.dealer) {
        pn_val_free(args);
        return -ENOTCONN;
    }
    *id = ++s_ag.next_id;
    char *buf;
    size_t len;
    if (pn_msg_request(*id, op, args, &buf, &len) < 0)
        return -ENOMEM;
    int r = zmq_send(s_ag.dealer, buf, len, ZMQ_DONTWAIT);
    int e = errno;
    free(buf);
    return r < 0 ? -e : 0;
}

static void s_pending_add(uint64_t id, int kind, const char *node, uint64_t seq)
{
    /* A ring: an entry whose reply never came is overwritten in time. */
    ag_pending_t *p = &s_ag.pend[s_ag.pend_next++ % AG_PENDING];
    p->id = id;
    p->kind = kind;
    snprintf(p->node, sizeof(p->node), "%s", node ? node : "");
    p->seq = seq;
}

static pn_val_t *s_register_args(vm_t *vm, const vm_node_t *nd)
{
    char p[4200];
    vm_node_dir(vm, nd, "agent.sock", p, sizeof(p));
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "node", nd->name);
    pn_map_set_str(a, "kind", vm_kind_name(nd->kind));
    pn_map_set_str(a, "path", p);
    if (nd->started_ns)
        pn_map_set_uint(a, "started_ns", nd->started_ns);
    return a;
}

static void s_register_async(vm_node_t *nd)
{
    uint64_t id;
    if (s_send(PN_OPNAME(AGENT_REGISTER), s_register_args(s_ag.vm, nd), &id) == 0)
        s_pending_add(id, AG_REG, nd->name, 0);
}

static void s_unregister_async(const char *name)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "node", name);
    uint64_t id;
    if (s_send(PN_OPNAME(AGENT_UNREGISTER), a, &id) == 0)
        s_pending_add(id, AG_UNREG, name, 0);
}

/* agent.ls answered: register what agentd misses, drop what vmd stopped. */
static void s_on_ls(pn_val_t *data, uint64_t seq)
{
    vm_t *vm = s_ag.vm;
    pn_val_t *agents = pn_get(data, "agents");
    unsigned reg = 0, unreg = 0;
    for (vm_node_t *nd = vm->nodes; nd; nd = nd->next) {
        if (nd->state != VM_RUNNING || nd->agent_reg > seq)
            continue; /* not running, or registered since the ls went out */
        char want[4200];
        vm_node_dir(vm, nd, "agent.sock", want, sizeof(want));
        bool known = false;
        for (size_t i = 0; i < pn_len(agents) && !known; i++) {
            pn_val_t *a = pn_at(agents, i);
            known = strcmp(pn_get_str(a, "node", ""), nd->name) == 0 && strcmp(pn_get_str(a, "path", ""), want) == 0;
        }
        if (!known) {
            s_register_async(nd);
            reg++;
        }
    }
    for (size_t i = 0; i < pn_len(agents); i++) {
        const char *name = pn_get_str(pn_at(agents, i), "node", "");
        vm_node_t *nd = vm_node_find(vm, name);
        /* Nodes vmd does not know are someone else's: left alone. */
        if (nd && !vm_state_live(nd->state)) {
            s_unregister_async(name);
            unreg++;
        }
    }
    if (reg || unreg)
        pn_notice("vmd: agentd is up: registering %u running node%s, unregistering %u stopped", reg,
                  reg == 1 ? "" : "s", unreg);
}

static void s_on_reply(pn_msg_t *rep)
{
    ag_pending_t *p = NULL;
    for (unsigned i = 0; i < AG_PENDING && !p; i++)
        if (s_ag.pend[i].id == rep->id && s_ag.pend[i].kind)
            p = &s_ag.pend[i];
    if (!p)
        return;
    int kind = p->kind;
    p->kind = 0;
    if (kind == AG_LS) {
        if (rep->id == s_ag.ls_id)
            s_ag.ls_id = 0;
        if (rep->ok)
            s_on_ls(rep->data, p->seq);
        else
            pn_log_rl(&s_rl, PN_LOG_INFO, "vmd: agentd refused agent.ls: %s", rep->errmsg ? rep->errmsg : "");
        if (s_ag.again && !s_ag.ls_id) {
            s_ag.again = false;
            s_reconcile();
        }
    } else if (kind == AG_REG) {
        vm_node_t *nd = vm_node_find(s_ag.vm, p->node);
        if (rep->ok && nd)
            nd->agent_reg = ++s_ag.reg_seq;
        else if (!rep->ok && rep->err != PN_EUNSUP)
            pn_log_rl(&s_rl, PN_LOG_INFO, "vmd: %s: agent.register: %s", p->node, rep->errmsg ? rep->errmsg : "");
        s_wait_answered(rep->id);
    }
}

/* Read one message off the DEALER (the reply frame is the last); false
 * when there was none. */
static bool s_recv(pn_msg_t *rep)
{
    zmq_msg_t m;
    bool got = false, have = false;
    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s_ag.dealer, got ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return false;
        }
        got = true;
        bool more = zmq_msg_more(&m);
        if (!more) {
            char err[256];
            have = pn_msg_decode_reply(zmq_msg_data(&m), zmq_msg_size(&m), NULL, NULL, rep, err, sizeof(err)) ==
                   PN_OK;
            if (!have) {
                pn_msg_clear(rep);
                pn_log_rl(&s_rl, PN_LOG_WARNING, "vmd: a bad reply from agentd: %s", err);
            }
        }
        zmq_msg_close(&m);
        if (!more)
            break;
    }
    if (!have)
        memset(rep, 0, sizeof(*rep));
    return true;
}

static void s_on_dealer(pn_loop_t *loop, void *zsock, void *arg)
{
    (void)loop;
    (void)zsock;
    (void)arg;
    pn_msg_t rep = { 0 };
    if (!s_recv(&rep))
        return;
    if (rep.root)
        s_on_reply(&rep);
    pn_msg_clear(&rep);
}

static void s_on_retry(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    (void)loop;
    (void)t;
    (void)arg;
    s_ag.retry = NULL;
    s_reconcile();
}

static void s_reconcile(void)
{
    if (s_ag.ls_id && pn_mono_ms() - s_ag.ls_sent_ms < AG_LS_STALE_MS) {
        s_ag.again = true;
        return;
    }
    uint64_t id;
    int r = s_send(PN_OPNAME(AGENT_LS), NULL, &id);
    if (r == 0) {
        s_ag.ls_id = id;
        s_ag.ls_sent_ms = pn_mono_ms();
        s_ag.retries = 0;
        s_pending_add(id, AG_LS, NULL, s_ag.reg_seq);
        return;
    }
    /* The event came before the DEALER's connection: try again shortly. */
    if (r == -EAGAIN && !s_ag.retry && s_ag.retries++ < AG_RETRIES)
        s_ag.retry = pn_loop_add_timer(pn_svc_loop(s_ag.vm->svc), AG_RETRY_MS, false, s_on_retry, NULL);
}

static void s_on_sub(pn_loop_t *loop, void *zsock, void *arg)
{
    (void)loop;
    (void)arg;
    char topic[64] = "";
    zmq_msg_t m;
    bool first = true, started = false;
    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, zsock, first ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            return;
        }
        bool more = zmq_msg_more(&m);
        if (first) {
            size_t n = zmq_msg_size(&m) < sizeof(topic) - 1 ? zmq_msg_size(&m) : sizeof(topic) - 1;
            memcpy(topic, zmq_msg_data(&m), n);
            topic[n] = 0;
        } else if (!more && strcmp(topic, "agentd.daemon") == 0) {
            pn_msg_t ev = { 0 };
            char err[128];
            if (pn_msg_decode_event(zmq_msg_data(&m), zmq_msg_size(&m), &ev, err, sizeof(err)) == PN_OK)
                started = ev.type && strcmp(ev.type, "daemon.started") == 0;
            pn_msg_clear(&ev);
        }
        first = false;
        zmq_msg_close(&m);
        if (!more)
            break;
    }
    if (started || strncmp(topic, "pn.hello.", 9) == 0)
        s_reconcile();
}

int vm_agentd_open(vm_t *vm)
{
    s_ag.vm = vm;
    s_ag.next_id = (uint64_t)getpid() << 24;
    char ctl[4200], pub[4200];
    if (pn_endpoint("agentd", "ctl", ctl, sizeof(ctl)) < 0 || pn_endpoint("agentd", "pub", pub, sizeof(pub)) < 0)
        return -ENAMETOOLONG;
    int zero = 0, one = 1;
    s_ag.dealer = zmq_socket(pn_zctx(), ZMQ_DEALER);
    s_ag.sub = zmq_socket(pn_zctx(), ZMQ_SUB);
    if (!s_ag.dealer || !s_ag.sub)
        goto fail;
    zmq_setsockopt(s_ag.dealer, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(s_ag.dealer, ZMQ_IMMEDIATE, &one, sizeof(one));
    zmq_setsockopt(s_ag.sub, ZMQ_LINGER, &zero, sizeof(zero));
    char hello[64];
    snprintf(hello, sizeof(hello), "pn.hello.vmd-%d", (int)getpid());
    zmq_setsockopt(s_ag.sub, ZMQ_SUBSCRIBE, "agentd.daemon", strlen("agentd.daemon"));
    zmq_setsockopt(s_ag.sub, ZMQ_SUBSCRIBE, hello, strlen(hello));
    if (zmq_connect(s_ag.dealer, ctl) < 0 || zmq_connect(s_ag.sub, pub) < 0)
        goto fail;
    pn_loop_t *loop = pn_svc_loop(vm->svc);
    if (!pn_loop_add_zsock(loop, s_ag.dealer, s_on_dealer, NULL) || !pn_loop_add_zsock(loop, s_ag.sub, s_on_sub, NULL))
        goto fail;
    return 0;
fail:
    pn_warn("vmd: cannot connect to agentd's sockets (%s): nodes are registered only at their start",
            zmq_strerror(errno));
    if (s_ag.dealer)
        zmq_close(s_ag.dealer);
    if (s_ag.sub)
        zmq_close(s_ag.sub);
    s_ag.dealer = s_ag.sub = NULL;
    return -EIO;
}

void vm_agentd_close(void)
{
    while (s_ag.waits) {
        ag_wait_t *w = s_ag.waits;
        s_ag.waits = w->next;
        free(w);
    }
    if (s_ag.dealer)
        zmq_close(s_ag.dealer);
    if (s_ag.sub)
        zmq_close(s_ag.sub);
    s_ag.dealer = s_ag.sub = NULL;
}

static void s_wait_end(ag_wait_t *w)
{
    PN_SLIST_REMOVE(s_ag.waits, w);
    if (w->timer)
        pn_loop_del_timer(pn_svc_loop(w->vm->svc), w->timer);
    void (*fn)(vm_t *, void *) = w->fn;
    vm_t *vm = w->vm;
    void *arg = w->arg;
    free(w);
    if (fn)
        fn(vm, arg);
}

/* agentd answered registration id (rep NULL: it is not waited for). */
static void s_wait_answered(uint64_t id)
{
    for (ag_wait_t *w = s_ag.waits; w; w = w->next)
        if (w->id == id) {
            s_wait_end(w);
            return;
        }
}

/* Send the registration: 0, -EAGAIN when the DEALER has no connection yet
 * (agentd or vmd just started), another -errno when it cannot go. */
static int s_register_send(vm_t *vm, vm_node_t *nd, uint64_t *id)
{
    int r = s_send(PN_OPNAME(AGENT_REGISTER), s_register_args(vm, nd), id);
    if (r == 0)
        s_pending_add(*id, AG_REG, nd->name, 0);
    return r;
}

static void s_on_wait_timer(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    ag_wait_t *w = arg;
    (void)t;
    w->timer = NULL;
    if (w->id) {
        pn_info("vmd: %s: agentd did not answer agent.register within %d ms", w->node, AG_CALL_MS);
        s_wait_end(w);
        return;
    }
    /* By name: the node may be gone meanwhile. */
    vm_node_t *nd = vm_node_find(w->vm, w->node);
    int r = nd && nd->state == VM_RUNNING ? s_register_send(w->vm, nd, &w->id) : -ENOENT;
    if (r == 0) {
        w->timer = pn_loop_add_timer(loop, AG_CALL_MS, false, s_on_wait_timer, w);
        return;
    }
    if (r == -EAGAIN && pn_mono_ms() < w->until_ms) {
        w->timer = pn_loop_add_timer(loop, AG_CONNECT_STEP_MS, false, s_on_wait_timer, w);
        return;
    }
    pn_info("vmd: %s: agent.register not sent (%s): it is sent when agentd appears", w->node, strerror(-r));
    s_wait_end(w);
}

void vm_agentd_register(vm_t *vm, vm_node_t *nd, void (*fn)(vm_t *vm, void *arg), void *arg)
{
    nd->agent_reg = 0;
    if (!s_ag.dealer || !pn_acall_present("agentd")) {
        if (fn)
            fn(vm, arg); /* registered when agentd appears */
        return;
    }
    uint64_t id = 0;
    int r = s_register_send(vm, nd, &id);
    if (r < 0 && r != -EAGAIN) {
        pn_info("vmd: %s: agent.register not sent (%s): it is sent when agentd appears", nd->name, strerror(-r));
        if (fn)
            fn(vm, arg);
        return;
    }
    if (!fn && r == 0)
        return; /* nobody waits: its answer is taken by s_on_reply */
    ag_wait_t *w = calloc(1, sizeof(*w));
    if (!w) {
        if (fn)
            fn(vm, arg);
        return;
    }
    w->id = r == 0 ? id : 0;
    snprintf(w->node, sizeof(w->node), "%s", nd->name);
    w->vm = vm;
    w->fn = fn;
    w->arg = arg;
    /* agentd is there but the DEALER not connected yet: try again shortly,
     * for a moment. */
    w->until_ms = pn_mono_ms() + AG_CONNECT_MS;
    w->timer = pn_loop_add_timer(pn_svc_loop(vm->svc), r == 0 ? AG_CALL_MS : AG_CONNECT_STEP_MS, false,
                                 s_on_wait_timer, w);
    w->next = s_ag.waits;
    s_ag.waits = w;
}

void vm_agentd_cancel(void *arg)
{
    for (ag_wait_t **pp = &s_ag.waits; *pp;) {
        ag_wait_t *w = *pp;
        if (!arg || w->arg != arg) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        if (w->timer)
            pn_loop_del_timer(pn_svc_loop(w->vm->svc), w->timer);
        free(w);
    }
}

void vm_agentd_unregister(vm_node_t *nd)
{
    nd->agent_reg = 0;
    /* Not waited for: the DEALER keeps it before any later register. */
    s_unregister_async(nd->name);
}
