/* Every op of plugnet-agentd, in one table at the end: agent.register /
 * agent.unregister / agent.ls / agent.wait (proto/schema.c).  agent.wait
 * holds its request until the node's agent is up, the node is gone or
 * time runs out: agd_waits_check answers them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd.h"

typedef struct agd_wait {
    pn_req_t *req;
    char node[32];
    uint64_t until;
    struct agd_wait *next;
} agd_wait_t;

static agd_t *s_agd(pn_svc_t *svc) { return pn_svc_user(svc); }

static agd_node_t *s_need(pn_svc_t *svc, pn_req_t *req)
{
    const char *node = pn_get_str(pn_req_args(req), "node", "");
    agd_node_t *n = agd_node_find(s_agd(svc), node);
    if (!n)
        pn_req_fail(req, PN_ENOTFOUND, "node %s is not registered with agentd", node);
    return n;
}

static void op_register(pn_svc_t *svc, pn_req_t *req)
{
    pn_val_t *a = pn_req_args(req);
    const char *node = pn_get_str(a, "node", "");
    int r = agd_node_register(s_agd(svc), node, pn_get_str(a, "kind", ""), pn_get_str(a, "path", ""),
                              pn_get_uint(a, "started_ns", 0), pn_get_str(a, "console", NULL),
                              pn_get(a, "knock_ms") ? (int64_t)pn_get_uint(a, "knock_ms", 0) : -1);
    if (r == -ENOSPC)
        return pn_req_fail(req, PN_EBUSY, "agentd holds %d nodes already", AGD_MAX_NODES);
    if (r < 0)
        return pn_req_fail(req, PN_EINTERNAL, "cannot register %s: %s", node, strerror(-r));
    agd_persist_save(s_agd(svc));
    pn_req_ok(req, NULL);
}

static void op_unregister(pn_svc_t *svc, pn_req_t *req)
{
    agd_node_t *n = s_need(svc, req);
    if (!n)
        return;
    agd_node_unregister(n, "unregistered");
    agd_persist_save(s_agd(svc));
    pn_req_ok(req, NULL);
}

static void op_ls(pn_svc_t *svc, pn_req_t *req)
{
    agd_t *a = s_agd(svc);
    pn_val_t *d = pn_map();
    pn_val_t *arr = pn_arr();
    for (agd_node_t *n = a->nodes; n; n = n->next)
        pn_arr_push(arr, agd_node_info(n));
    pn_map_set(d, "agents", arr);
    pn_map_set_str(d, "stream", a->stream_path);
    pn_req_ok(req, d);
}

static void op_wait(pn_svc_t *svc, pn_req_t *req)
{
    agd_t *a = s_agd(svc);
    agd_node_t *n = s_need(svc, req);
    if (!n)
        return;
    if (n->up)
        return pn_req_ok(req, agd_node_info(n));
    agd_wait_t *w = calloc(1, sizeof *w);
    if (!w)
        return pn_req_fail(req, PN_EINTERNAL, "out of memory");
    w->req = pn_req_hold(req);
    snprintf(w->node, sizeof w->node, "%s", n->name);
    w->until = pn_mono_ms() + pn_get_uint(pn_req_args(req), "timeout_ms", 30000);
    w->next = a->waits;
    a->waits = w;
}

void agd_waits_check(agd_t *a)
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

void agd_status(pn_svc_t *svc, pn_val_t *data)
{
    agd_t *a = s_agd(svc);
    unsigned up = 0;
    for (agd_node_t *n = a->nodes; n; n = n->next)
        up += n->up;
    pn_map_set_uint(data, "agents", (uint64_t)a->nnodes);
    pn_map_set_uint(data, "agents_up", up);
    pn_map_set_uint(data, "streams", (uint64_t)a->nstreams);
}

const pn_svc_op_t agd_ops[] = {
    { PN_OP_AGENT_REGISTER, op_register },
    { PN_OP_AGENT_UNREGISTER, op_unregister },
    { PN_OP_AGENT_LS, op_ls },
    { PN_OP_AGENT_WAIT, op_wait },
    { NULL, NULL, NULL },
};
