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

static const pn_field_t cd_route_fields[] = {
    STR("dst", R, "destination network ADDRESS/PREFIX (no host bits), or \"default\""),
    STR("via", O, "next hop address, of the same family as dst (absent: on-link)"),
    END
};

static const pn_field_t cd_nic_fields[] = {
    IFNAME("ifname", R, "the NIC's name in the spec (eth0..eth31)"),
    STR("mac", R, "unicast MAC xx:xx:xx:xx:xx:xx; the guest finds the NIC by it, not by name"),
    ARR("addrs", O, PN_F_STR, NULL, "addresses with prefix, IPv4 or IPv6 (\"10.0.0.1/24\", \"fd00::1/64\")"),
    ARR("routes", O, PN_F_MAP, cd_route_fields, "routes through this NIC"),
    STR("gateway", O, "default gateway through this NIC (one per address family per node)"),
    END
};

static const pn_field_t cd_host_fields[] = {
    STR("ip", R, "address, IPv4 or IPv6, without prefix"),
    ARR("names", R, PN_F_STR, NULL, "host names (RFC 1123) for that address"),
    END
};

static const pn_field_t cd_file_fields[] = {
    STR("path", R, "absolute, normalised guest path (no '.', '..' or '//').", .max = 1024),
    BIN("content", R, "file content, bin or str.", .max = 64u << 20),
    ANY("mode", O, "file mode: a number (420) or an octal string (\"0644\"); default 0644"),
    END
};

static const pn_field_t cd_build_args[] = {
    NAME("name", R, "node name."),
    STR("hostname", O, "host name (RFC 1123); default: the node name.", .max = 253),
    UINT("number", R, "node number.", .min = 1, .max = 25599),
    ENUM("format", O, "plugnet|cidata", "disk format: the PLUGNET ext2 disk (default) or a cloud-init NoCloud seed."),
    ARR("nics", O, PN_F_MAP, cd_nic_fields, "NICs (at most 32)"),
    STR("mgmt_ip", O, "management address with prefix (recorded in plugnet.conf as PLUGNET_MGMT_IP)"),
    ARR("keys", O, PN_F_STR, NULL, "SSH public keys for root, one authorized_keys line each (at most 64)"),
    ARR("hosts", O, PN_F_MAP, cd_host_fields, "/etc/hosts entries for the whole lab"),
    ARR("files", O, PN_F_MAP, cd_file_fields, "extra files copied into the guest (at most 256)"),
    BIN("script", O, "startup script run by the guest after configuration (bin or str).", .max = 64u << 20),
    END
};

static const pn_field_t cd_build_reply[] = {
    STR("path", R, "the disk image (in STATE/cfgdisk/; share it read-only, do not modify it)"),
    STR("sha256", R, "SHA-256 of the image bytes"),
    UINT("size", R, "image size in bytes"),
    BOOL("cached", R, "true when the image came from the cache and no work was done"),
    STR("key", R, "cache key: SHA-256 of the normalised spec (and of the agent binary)"),
    ENUM("format", R, "plugnet|cidata", "disk format."),
    END
};

static const pn_field_t cd_disk_fields[] = {
    STR("path", R, "image path"),
    STR("key", R, "cache key"),
    STR("sha256", R, "SHA-256 of the image bytes"),
    UINT("size", R, "bytes"),
    ENUM("format", R, "plugnet|cidata", "disk format."),
    STR("name", R, "node name of the spec it was built from"),
    UINT("built_ns", R, "when it was built (unix ns)"),
    END
};

static const pn_field_t cd_ls_reply[] = {
    ARR("disks", R, PN_F_MAP, cd_disk_fields, "every cached disk"),
    END
};

static const pn_field_t cd_gc_args[] = {
    ARR("keep", O, PN_F_STR, NULL, "disks in use: image paths, cache keys or image sha256s"),
    END
};

static const pn_field_t cd_gc_reply[] = {
    ARR("removed", R, PN_F_STR, NULL, "paths of the removed images"),
    UINT("kept", R, "disks kept"),
    UINT("freed", R, "bytes freed"),
    END
};

static const pn_field_t cd_built_event[] = {
    STR("name", R, "node name."),
    STR("path", R, "image path"),
    STR("sha256", R, "SHA-256 of the image"),
    UINT("size", R, "bytes"),
    ENUM("format", R, "plugnet|cidata", "disk format."),
    STR("key", R, "cache key"),
    UINT("build_ms", R, "build time"),
    END
};

static const pn_field_t cd_gc_event[] = {
    UINT("removed", R, "disks removed"),
    UINT("kept", R, "disks kept"),
    UINT("freed", R, "bytes freed"),
    END
};

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
    { "cfgdiskd", "disk.build", cd_build_args, cd_build_reply,
      "Build (or find in the cache) a node's config disk: the PLUGNET ext2 disk or a cloud-init "
      "NoCloud seed. The same spec always gives the same file, byte for byte." },
    { "cfgdiskd", "disk.ls", no_fields, cd_ls_reply, "List the cached disks." },
    { "cfgdiskd", "disk.gc", cd_gc_args, cd_gc_reply,
      "Remove every cached disk not named in keep (the caller passes the set in use)." },
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
    { "cfgdiskd", "cfgdiskd.disk", "disk.built", cd_built_event,
      "A disk was built (not published for cache hits)." },
    { "cfgdiskd", "cfgdiskd.disk", "disk.gc", cd_gc_event, "disk.gc removed disks." },
    /* --- cfgdiskd events (end) --- */

    COMMON_EVENTS("agentd"),
    /* --- agentd events (begin) --- */

    /* --- agentd events (end) --- */

    { NULL, NULL, NULL, NULL, NULL }
};
