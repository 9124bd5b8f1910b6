/* plugnet-agentd: the host end of every node's agent channel.
 *
 * Control (zmq, proto/schema.c): agent.register / agent.unregister /
 * agent.ls / agent.wait, events agentd.agent agent.up / agent.down.
 * Streams (exec, shell, cp): the unix socket RUN/agentd.stream, see
 * stream.c and docs/AGENT.md.
 *
 * Tuning through the environment (tests shorten these):
 *   PLUGNET_AGENT_KEEPALIVE_MS  ping period (default 1000)
 *   PLUGNET_AGENT_MISSES        silent periods before down, the floor of
 *                               the adaptive deadline (default 12)
 *   PLUGNET_AGENT_KNOCK_MS      down this long: knock on the console
 *                               (default 10000, 0 = never)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentd.h"

typedef struct agd_wait {
    pn_req_t *req;
    char node[32];
    uint64_t until;
    struct agd_wait *next;
} agd_wait_t;

static agd_t s_agd;

static void s_register(pn_svc_t *svc, pn_req_t *req)
{
    pn_val_t *a = pn_req_args(req);
    const char *node = pn_get_str(a, "node", "");
    int r = agd_node_register(&s_agd, node, pn_get_str(a, "kind", ""), pn_get_str(a, "path", ""),
                              pn_get_uint(a, "started_ns", 0), pn_get_str(a, "console", NULL),
                              pn_get(a, "knock_ms") ? (int64_t)pn_get_uint(a, "knock_ms", 0) : -1);
    if (r == -ENOSPC)
        return pn_req_fail(req, PN_EBUSY, "agentd holds %d nodes already", AGD_MAX_NODES);
    if (r < 0)
        return pn_req_fail(req, PN_EINTERNAL, "cannot register %s: %s", node, strerror(-r));
    agd_persist_save(&s_agd);
    pn_req_ok(req, NULL);
}

static void s_unregister(pn_svc_t *svc, pn_req_t *req)
{
    const char *node = pn_get_str(pn_req_args(req), "node", "");
    agd_node_t *n = agd_node_find(&s_agd, node);
    if (!n)
        return pn_req_fail(req, PN_ENOTFOUND, "node %s is not registered with agentd", node);
    agd_node_unregister(n, "unregistered");
    agd_persist_save(&s_agd);
    pn_req_ok(req, NULL);
}

static void s_ls(pn_svc_t *svc, pn_req_t *req)
{
    pn_val_t *d = pn_map();
    pn_val_t *arr = pn_arr();
    for (agd_node_t *n = s_agd.nodes; n; n = n->next)
        pn_arr_push(arr, agd_node_info(n));
    pn_map_set(d, "agents", arr);
    pn_map_set_str(d, "stream", s_agd.stream_path);
    pn_req_ok(req, d);
}

static void s_wait(pn_svc_t *svc, pn_req_t *req)
{
    pn_val_t *a = pn_req_args(req);
    const char *node = pn_get_str(a, "node", "");
    agd_node_t *n = agd_node_find(&s_agd, node);
    if (!n)
        return pn_req_fail(req, PN_ENOTFOUND, "node %s is not registered with agentd", node);
    if (n->up)
        return pn_req_ok(req, agd_node_info(n));
    agd_wait_t *w = calloc(1, sizeof *w);
    if (!w)
        return pn_req_fail(req, PN_EINTERNAL, "out of memory");
    w->req = pn_req_hold(req);
    snprintf(w->node, sizeof w->node, "%s", node);
    w->until = pn_mono_ms() + pn_get_uint(a, "timeout_ms", 30000);
    w->next = s_agd.waits;
    s_agd.waits = w;
}

/* Answer held waits: the node is up, gone, or time ran out. */
static void s_waits_check(agd_t *a)
{
    uint64_t now = pn_mono_ms();
    for (agd_wait_t **pp = &a->waits; *pp;) {
        agd_wait_t *w = *pp;
        agd_node_t *n = agd_node_find(a, w->node);
        if (n && n->up)
            pn_req_ok(w->req, agd_node_info(n));
        else if (!n)
            pn_req_fail(w->req, PN_ENOTFOUND, "node %s was unregistered", w->node);
        else if (now >= w->until)
            pn_req_fail(w->req, PN_EUNAVAIL, "the agent of node %s did not come up in time: %s", w->node, n->reason);
        else {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        free(w);
    }
}

void agd_waits_node_up(agd_t *a, agd_node_t *n)
{
    s_waits_check(a);
}

static void s_tick(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    agd_tick(loop, t, arg);
    s_waits_check(arg);
}

static void s_status(pn_svc_t *svc, pn_val_t *data)
{
    unsigned up = 0;
    for (agd_node_t *n = s_agd.nodes; n; n = n->next)
        up += n->up;
    pn_map_set_uint(data, "agents", (uint64_t)s_agd.nnodes);
    pn_map_set_uint(data, "agents_up", up);
    pn_map_set_uint(data, "streams", (uint64_t)s_agd.nstreams);
}

static const pn_svc_op_t s_ops[] = {
    { PN_OP_AGENT_REGISTER, s_register },
    { PN_OP_AGENT_UNREGISTER, s_unregister },
    { PN_OP_AGENT_LS, s_ls },
    { PN_OP_AGENT_WAIT, s_wait },
    { NULL, NULL, NULL },
};

static unsigned s_env_uint(const char *name, unsigned def, unsigned min, unsigned max)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    unsigned long u = strtoul(v, &end, 10);
    if (*end || u < min || u > max) {
        pn_warn("agentd: ignoring %s=%s (want %u..%u)", name, v, min, max);
        return def;
    }
    return (unsigned)u;
}

int main(int argc, char **argv)
{
    pn_svc_t *svc = pn_svc_new("agentd", s_ops, &s_agd);
    if (!svc)
        return 1;
    s_agd.svc = svc;
    s_agd.loop = pn_svc_loop(svc);
    s_agd.lfd = -1;
    s_agd.keepalive_ms = s_env_uint("PLUGNET_AGENT_KEEPALIVE_MS", 1000, 20, 60000);
    s_agd.misses = s_env_uint("PLUGNET_AGENT_MISSES", 12, 2, 100);
    s_agd.knock_ms = s_env_uint("PLUGNET_AGENT_KNOCK_MS", 10000, 0, 3600000);
    pn_svc_set_status_fn(svc, s_status);
    if (pn_svc_start(svc, argc, argv) < 0) {
        pn_svc_destroy(&svc);
        return 1;
    }
    int r = agd_stream_listen(&s_agd);
    if (r < 0) {
        pn_err("agentd: cannot listen on %s: %s", s_agd.stream_path, strerror(-r));
        pn_svc_destroy(&svc);
        return 1;
    }
    agd_persist_restore(&s_agd);
    s_agd.tick = pn_loop_add_timer(s_agd.loop, s_agd.keepalive_ms, true, s_tick, &s_agd);
    int rc = pn_svc_run(svc);
    while (s_agd.nodes)
        agd_node_unregister(s_agd.nodes, "agentd stopping");
    unlink(s_agd.stream_path);
    pn_svc_destroy(&svc);
    return rc;
}
