/* The schema of every op, reply and event of plugnet: the one source of
 * truth.  The codec validates requests and replies against these tables,
 * and pn-gendoc writes docs/PROTOCOL.md from them (a test fails when the
 * committed doc differs).
 *
 * Conventions: keys are lower_snake_case; every op's args and reply are
 * maps; an optional key may be absent; unknown keys are ignored.
 * Strings are at most 4 KiB unless a field's .max says otherwise.
 *
 * Field helpers: STR/UINT/INT/BOOL/FLOAT/BIN/ANY(key, flags, doc, ...),
 * MAP(key, flags, subfields, doc), ARR(key, flags, elemtype, subfields, doc).
 * Extra designated initializers go in the trailing ... (.check, .min, .max,
 * .enums).  Each list ends with END.
 */
#include "pn_proto.h"

#define F_(k, t, fl, d, ...) { .key = (k), .type = (t), .flags = (fl), .doc = (d), __VA_ARGS__ }
#define STR(k, fl, d, ...) F_(k, PN_F_STR, fl, d, __VA_ARGS__)
#define UINT(k, fl, d, ...) F_(k, PN_F_UINT, fl, d, __VA_ARGS__)
#define INT(k, fl, d, ...) F_(k, PN_F_INT, fl, d, __VA_ARGS__)
#define BOOL(k, fl, d, ...) F_(k, PN_F_BOOL, fl, d, __VA_ARGS__)
#define FLOAT(k, fl, d, ...) F_(k, PN_F_FLOAT, fl, d, __VA_ARGS__)
#define BIN(k, fl, d, ...) F_(k, PN_F_BIN, fl, d, __VA_ARGS__)
#define ANY(k, fl, d, ...) F_(k, PN_F_ANY, fl, d, __VA_ARGS__)
#define MAP(k, fl, s, d, ...) F_(k, PN_F_MAP, fl, d, .sub = (s), __VA_ARGS__)
#define ARR(k, fl, e, s, d, ...) F_(k, PN_F_ARR, fl, d, .elem = (e), .sub = (s), __VA_ARGS__)
#define NAME(k, fl, d) STR(k, fl, d, .check = PN_CHK_NAME)
#define IFNAME(k, fl, d) STR(k, fl, d, .check = PN_CHK_IFNAME)
#define ENUM(k, fl, e, d) STR(k, fl, d, .check = PN_CHK_ENUM, .enums = (e))
#define END { .key = NULL }
#define R PN_REQ
#define O 0u

const char *const pn_services[4] = { "switchd", "vmd", "cfgdiskd", "agentd" };

/* ================================================================ common */

static const pn_field_t no_fields[] = { END };

static const pn_field_t ping_reply[] = {
    STR("version", R, "plugnet version of the daemon"),
    UINT("pid", R, "process id"),
    UINT("uptime_ms", R, "milliseconds since the daemon started"),
    STR("svc", R, "service name"),
    END
};

static const pn_field_t status_reply[] = {
    STR("svc", R, "service name"),
    STR("version", R, "plugnet version"),
    UINT("pid", R, "process id"),
    UINT("uptime_ms", R, "milliseconds since start"),
    UINT("requests", R, "requests answered since start"),
    UINT("bad_requests", R, "requests refused as malformed since start"),
    UINT("events", R, "events published since start"),
    /* Each daemon adds its own objects and counters. */
    END
};

static const pn_field_t daemon_event[] = {
    ENUM("state", R, "started|stopping", "what happened"),
    UINT("pid", R, "process id"),
    STR("version", R, "plugnet version"),
    END
};

#define COMMON_OPS(svc)                                                                   \
    { svc, "ping", no_fields, ping_reply, "Liveness: version, pid and uptime." },         \
    { svc, "status", no_fields, status_reply, "The daemon's objects and counters." }

#define COMMON_EVENTS(svc)                                                                \
    { svc, svc ".daemon", "daemon.started", daemon_event,                                \
      "Published once the daemon is ready: every socket bound." },                        \
    { svc, svc ".daemon", "daemon.stopping", daemon_event,                               \
      "Published when the daemon begins to stop (SIGTERM/SIGINT)." }

/* =============================================================== switchd */
/* --- switchd fields (begin) --- */

/* --- switchd fields (end) --- */

/* =================================================================== vmd */
/* --- vmd fields (begin) --- */

/* --- vmd fields (end) --- */

/* ============================================================== cfgdiskd */
/* --- cfgdiskd fields (begin) --- */

/* --- cfgdiskd fields (end) --- */

/* ================================================================ agentd */
/* --- agentd fields (begin) --- */

static const pn_field_t agent_register_args[] = {
    NAME("node", R, "node name"),
    ENUM("kind", R, "uml|qemu|ns", "kind of node (how the channel is wired)"),
    STR("path", R, "unix stream socket on the host that reaches the guest agent's channel", .check = PN_CHK_PATH),
    UINT("started_ns", O, "when the node started (unix ns), for the up event's boot_ms"),
    STR("console", O, "root console socket for the knock (default: console.sock beside path; not for ns)",
        .check = PN_CHK_PATH),
    UINT("knock_ms", O, "knock after the agent stayed down this long (default: agentd's, 10 s); 0 = never",
         .max = 3600000),
    END
};

static const pn_field_t agent_node_args[] = {
    NAME("node", R, "node name"),
    END
};

static const pn_field_t agent_info[] = {
    NAME("node", R, "node name"),
    STR("kind", R, "uml, qemu or ns"),
    STR("path", R, "channel socket"),
    ENUM("state", R, "up|down", "up once the agent answered hello; down otherwise"),
    BOOL("connected", R, "the channel socket is connected"),
    STR("version", O, "agent version (when up)"),
    STR("hostname", O, "guest hostname (when up)"),
    UINT("since_ms", R, "milliseconds in the current state"),
    STR("reason", O, "why it is down"),
    UINT("sessions", R, "open sessions"),
    UINT("rx_bytes", R, "bytes read from the channel"),
    UINT("tx_bytes", R, "bytes written to the channel"),
    UINT("garbage", R, "bytes skipped while resynchronising"),
    UINT("bad_frames", R, "frames dropped: damaged or unexpected"),
    END
};

static const pn_field_t agent_ls_reply[] = {
    ARR("agents", R, PN_F_MAP, agent_info, "every registered node"),
    STR("stream", R, "unix socket of exec/cp/shell streams (docs/AGENT.md)"),
    END
};

static const pn_field_t agent_wait_args[] = {
    NAME("node", R, "node name"),
    UINT("timeout_ms", O, "give up after this long (default 30000)", .max = 600000),
    END
};

static const pn_field_t agent_up_event[] = {
    NAME("node", R, "node name"),
    STR("kind", R, "uml, qemu or ns"),
    STR("version", R, "agent version"),
    UINT("proto", R, "channel protocol version in use"),
    STR("hostname", O, "guest hostname"),
    UINT("boot_ms", O, "milliseconds from node start (register's started_ns) to the agent up"),
    UINT("agent_uptime_ms", O, "the guest's own uptime when it answered"),
    END
};

static const pn_field_t agent_down_event[] = {
    NAME("node", R, "node name"),
    STR("kind", R, "uml, qemu or ns"),
    STR("reason", R, "why: keepalive missed, channel closed, agent restarted, unregistered"),
    END
};

/* --- agentd fields (end) --- */

/* ============================================================ op tables */

const pn_opdef_t pn_ops[] = {
    COMMON_OPS("switchd"),
    /* --- switchd ops (begin) --- */

    /* --- switchd ops (end) --- */

    COMMON_OPS("vmd"),
    /* --- vmd ops (begin) --- */

    /* --- vmd ops (end) --- */

    COMMON_OPS("cfgdiskd"),
    /* --- cfgdiskd ops (begin) --- */

    /* --- cfgdiskd ops (end) --- */

    COMMON_OPS("agentd"),
    /* --- agentd ops (begin) --- */
    { "agentd", "agent.register", agent_register_args, no_fields,
      "Register (or re-register) a node's agent channel; agentd connects and keeps reconnecting." },
    { "agentd", "agent.unregister", agent_node_args, no_fields,
      "Forget a node's channel; its sessions end." },
    { "agentd", "agent.ls", no_fields, agent_ls_reply, "Every registered agent and its state." },
    { "agentd", "agent.wait", agent_wait_args, agent_info,
      "Reply once the node's agent is up (unavailable after the timeout)." },
    /* --- agentd ops (end) --- */

    { NULL, NULL, NULL, NULL, NULL }
};

const pn_evdef_t pn_events[] = {
    COMMON_EVENTS("switchd"),
    /* --- switchd events (begin) --- */

    /* --- switchd events (end) --- */

    COMMON_EVENTS("vmd"),
    /* --- vmd events (begin) --- */

    /* --- vmd events (end) --- */

    COMMON_EVENTS("cfgdiskd"),
    /* --- cfgdiskd events (begin) --- */

    /* --- cfgdiskd events (end) --- */

    COMMON_EVENTS("agentd"),
    /* --- agentd events (begin) --- */
    { "agentd", "agentd.agent", "agent.up", agent_up_event,
      "A node's agent answered hello: after registration, a reconnect or a guest reboot." },
    { "agentd", "agentd.agent", "agent.down", agent_down_event,
      "A node's agent stopped answering (keepalive), its channel closed, or it was unregistered." },
    /* --- agentd events (end) --- */

    { NULL, NULL, NULL, NULL, NULL }
};
