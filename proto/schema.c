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

    /* --- agentd events (end) --- */

    { NULL, NULL, NULL, NULL, NULL }
};
