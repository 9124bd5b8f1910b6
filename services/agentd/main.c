/* plugnet-agentd: the host end of every node's agent channel.
 *
 * Control (zmq, proto/schema.c): the ops in ops.c, events agentd.agent
 * agent.up / agent.down.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentd.h"

static agd_t s_agd;

/* The nodes report up through these: to the streams relayed over their
 * channels and to the held agent.wait requests (ops.c). */
static void s_node_up(void *arg, agd_node_t *n)
{
    agd_streams_node_up(arg, n);
    agd_waits_check(arg);
}

static void s_node_down(void *arg, agd_node_t *n, const char *reason)
{
    agd_streams_node_down(arg, n, reason);
}

static void s_node_gone(void *arg, agd_node_t *n)
{
    agd_streams_node_gone(arg, n);
}

static int s_node_frame(void *arg, agd_node_t *n, const ag_frame_t *f)
{
    return agd_streams_from_agent(arg, n, f);
}

static void s_node_damaged(void *arg, agd_node_t *n, uint32_t sid)
{
    agd_streams_damaged(arg, n, sid);
}

static void s_node_drained(void *arg, agd_node_t *n)
{
    agd_streams_resume(arg, n);
}

static int s_node_load(void *arg, const agd_node_t *n, uint64_t *credit, uint64_t *pend)
{
    return agd_streams_load(arg, n, credit, pend);
}

static void s_tick(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    agd_nodes_tick(arg);
    agd_streams_tick(arg);
    agd_waits_check(arg);
}

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
    pn_svc_t *svc = pn_svc_new("agentd", agd_ops, &s_agd);
    if (!svc)
        return 1;
    s_agd.svc = svc;
    s_agd.loop = pn_svc_loop(svc);
    s_agd.lfd = -1;
    s_agd.node_cb = (agd_node_cb_t){ .up = s_node_up, .down = s_node_down, .gone = s_node_gone,
                                     .frame = s_node_frame, .damaged = s_node_damaged, .drained = s_node_drained,
                                     .load = s_node_load };
    s_agd.node_arg = &s_agd;
    s_agd.keepalive_ms = s_env_uint("PLUGNET_AGENT_KEEPALIVE_MS", 1000, 20, 60000);
    s_agd.misses = s_env_uint("PLUGNET_AGENT_MISSES", 12, 2, 100);
    s_agd.knock_ms = s_env_uint("PLUGNET_AGENT_KNOCK_MS", 10000, 0, 3600000);
    pn_svc_set_status_fn(svc, agd_status);
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
