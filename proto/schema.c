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
#include "pn_ops.h"
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
    { svc, PN_OPNAME_PING, no_fields, ping_reply, "Liveness: version, pid and uptime." },         \
    { svc, PN_OPNAME_STATUS, no_fields, status_reply, "The daemon's objects and counters." }

#define COMMON_EVENTS(svc)                                                                \
    { svc, svc ".daemon", "daemon.started", daemon_event,                                \
      "Published once the daemon is ready: every socket bound." },                        \
    { svc, svc ".daemon", "daemon.stopping", daemon_event,                               \
      "Published when the daemon begins to stop (SIGTERM/SIGINT)." }

/* =============================================================== switchd */
/* --- switchd fields (begin) --- */

static const pn_field_t sw_lan_add_args[] = {
    NAME("name", R, "LAN name"),
    UINT("mtu", O, "largest payload in bytes (default 1500); frames up to mtu + 18 pass", .min = 68, .max = 65000),
    UINT("fdb_cap", O, "MAC table cap (default 8192)", .min = 16, .max = 1048576),
    END
};
static const pn_field_t sw_lan_reply[] = {
    STR("name", R, "LAN name"),
    UINT("mtu", R, "largest payload in bytes"),
    STR("dir", R, "the LAN's socket directory RUN/lan/<lan>"),
    STR("ctl", R, "its VDE control socket (RUN/lan/<lan>/ctl)"),
    UINT("ports", O, "ports attached"),
    UINT("fdb_entries", O, "MAC addresses learnt"),
    UINT("fdb_cap", O, "MAC table cap"),
    END
};
static const pn_field_t sw_lan_del_args[] = {
    NAME("name", R, "LAN name"),
    BOOL("force", O, "delete even while ports are attached (they are closed)"),
    END
};
static const pn_field_t sw_lan_del_reply[] = {
    STR("name", R, "LAN name"),
    UINT("ports_closed", R, "ports closed with it"),
    END
};
static const pn_field_t sw_lan_ls_reply[] = {
    ARR("lans", R, PN_F_MAP, sw_lan_reply, "every LAN"),
    END
};
static const pn_field_t sw_lan_name_args[] = {
    NAME("name", R, "LAN name"),
    END
};
static const pn_field_t sw_port_fields[] = {
    UINT("port", R, "port number within the LAN"),
    ENUM("kind", R, "vde|tap", "how the port is attached"),
    ENUM("admin", R, "up|down", "administrative state (down = cable unplugged)"),
    STR("descr", O, "the client's description (VDE), sanitised"),
    STR("owner", O, "the node's interface this port plugs, \"node:ifname\" (set by vmd with port.add_tap)"),
    STR("ifname", O, "host interface name (tap)"),
    STR("peer", O, "the client's data socket address (VDE)"),
    END
};
static const pn_field_t sw_fdb_fields[] = {
    STR("mac", R, "station address"),
    UINT("port", R, "port it was last seen on"),
    UINT("age_ms", R, "milliseconds since last seen"),
    END
};
/* A LAN's MAC table counters, in lan.show's reply and in stats. */
#define SW_FDB_COUNTERS                                                        \
    UINT("fdb_entries", R, "MAC addresses learnt"),                            \
    UINT("fdb_cap", R, "MAC table cap"),                                       \
    UINT("fdb_evictions", R, "entries evicted because the table was full")
static const pn_field_t sw_lan_show_reply[] = {
    STR("name", R, "LAN name"),
    UINT("mtu", R, "largest payload in bytes"),
    STR("dir", R, "socket directory"),
    STR("ctl", R, "VDE control socket"),
    ARR("ports", R, PN_F_MAP, sw_port_fields, "attached ports"),
    SW_FDB_COUNTERS,
    ARR("fdb", R, PN_F_MAP, sw_fdb_fields, "the MAC table (first 4096 entries)"),
    END
};
static const pn_field_t sw_lan_only_args[] = {
    NAME("lan", R, "LAN name"),
    END
};
static const pn_field_t sw_port_ls_reply[] = {
    STR("lan", R, "LAN name"),
    ARR("ports", R, PN_F_MAP, sw_port_fields, "attached ports"),
    END
};
static const pn_field_t sw_add_tap_args[] = {
    NAME("lan", R, "LAN name"),
    STR("ifname", O, "host interface name to create (1-15 of [A-Za-z0-9_.-]); the kernel picks when absent", .max = 15),
    STR("netns", O, "create the tap in this network namespace (a name in /run/netns) rather than switchd's", .max = 64),
    STR("mac", O, "station address of the tap xx:xx:xx:xx:xx:xx (default: the kernel's random one)", .max = 17),
    STR("owner", O, "who the port belongs to, \"node:ifname\" (vmd sets it; shown in port.ls, lan.show, stats and port events)", .max = 80),
    END
};
static const pn_field_t sw_add_tap_reply[] = {
    UINT("port", R, "port number"),
    STR("ifname", R, "the tap interface (switchd owns its fd; it may be moved to another netns by name)"),
    END
};
static const pn_field_t sw_port_del_args[] = {
    NAME("lan", R, "LAN name"),
    UINT("port", R, "port number"),
    END
};
static const pn_field_t sw_port_del_reply[] = {
    UINT("port", R, "port number"),
    END
};
static const pn_field_t sw_port_set_args[] = {
    NAME("lan", R, "LAN name"),
    UINT("port", R, "port number"),
    ENUM("state", R, "up|down", "administrative state"),
    END
};
static const pn_field_t sw_port_set_reply[] = {
    UINT("port", R, "port number"),
    ENUM("state", R, "up|down", "administrative state now"),
    END
};
static const pn_field_t sw_port_claim_args[] = {
    NAME("lan", R, "LAN name"),
    STR("owner", R, "the NIC, \"node:ifname\" (not empty)", .max = 80),
    UINT("pid", O, "the guest process whose VDE connections on this LAN are that NIC (absent or 0: forget the claim)",
         .max = 2147483647),
    END
};
static const pn_field_t sw_port_claim_reply[] = {
    STR("owner", R, "the NIC"),
    END
};
static const pn_field_t sw_drop_fields[] = {
    UINT("runt", R, "frames shorter than 14 bytes"),
    UINT("oversize", R, "frames longer than mtu + 18"),
    UINT("admin_down", R, "frames dropped because the port is down"),
    UINT("queue_full", R, "frames the egress could not take"),
    END
};
static const pn_field_t sw_pstat_fields[] = {
    UINT("port", R, "port number"),
    ENUM("kind", R, "vde|tap", "port kind"),
    ENUM("admin", R, "up|down", "administrative state"),
    STR("owner", O, "the node's interface, \"node:ifname\" (when vmd named it)"),
    UINT("rx_frames", R, "frames received from the port"),
    UINT("rx_bytes", R, "bytes received from the port"),
    UINT("tx_frames", R, "frames sent to the port"),
    UINT("tx_bytes", R, "bytes sent to the port"),
    MAP("drops", R, sw_drop_fields, "frames dropped, by cause"),
    END
};
static const pn_field_t sw_sniff_fields[] = {
    UINT("id", R, "sniffer id"),
    STR("lan", R, "LAN name"),
    UINT("port", R, "port captured (0 = the whole LAN)"),
    STR("path", R, "output file or FIFO"),
    UINT("frames", R, "frames written"),
    UINT("bytes", R, "frame bytes written"),
    UINT("drops", R, "frames dropped because the reader was slow or absent"),
    END
};
static const pn_field_t sw_stats_reply[] = {
    STR("lan", R, "LAN name"),
    ARR("ports", R, PN_F_MAP, sw_pstat_fields, "per-port counters"),
    SW_FDB_COUNTERS,
    UINT("flooded", R, "frames flooded (broadcast, multicast, unknown unicast)"),
    ARR("sniffers", R, PN_F_MAP, sw_sniff_fields, "active sniffers"),
    END
};
static const pn_field_t sw_stats_watch_args[] = {
    NAME("lan", O, "only this LAN (default all)"),
    UINT("interval_ms", O, "publish period (default 1000)", .min = 100, .max = 3600000),
    UINT("ttl_ms", O, "keep publishing this long unless renewed (default 10000)", .min = 100, .max = 86400000),
    END
};
static const pn_field_t sw_stats_watch_reply[] = {
    UINT("interval_ms", R, "publish period in force"),
    UINT("ttl_ms", R, "publishing stops this long from now unless renewed"),
    END
};
static const pn_field_t sw_sniff_start_args[] = {
    NAME("lan", R, "LAN name"),
    UINT("port", O, "only frames in or out of this port (default the whole LAN)"),
    STR("path", R, "absolute path of a file (created or truncated) or an existing FIFO", .check = PN_CHK_PATH, .max = 1024),
    END
};
static const pn_field_t sw_sniff_start_reply[] = {
    UINT("id", R, "sniffer id, for sniff.stop"),
    STR("path", R, "output path"),
    END
};
static const pn_field_t sw_sniff_stop_args[] = {
    UINT("id", R, "sniffer id"),
    END
};
static const pn_field_t sw_lan_event[] = {
    STR("name", R, "LAN name"),
    UINT("mtu", O, "largest payload in bytes"),
    END
};
static const pn_field_t sw_port_event[] = {
    STR("lan", R, "LAN name"),
    UINT("port", R, "port number"),
    ENUM("kind", O, "vde|tap", "port kind"),
    STR("ifname", O, "tap interface"),
    STR("descr", O, "VDE client description"),
    STR("owner", O, "the node's interface, \"node:ifname\" (when vmd named it)"),
    STR("reason", O, "why the port went down"),
    ENUM("state", O, "up|down", "administrative state (port.admin)"),
    END
};
static const pn_field_t sw_stats_event[] = {
    ARR("lans", R, PN_F_MAP, NULL, "one stats reply per LAN"),
    END
};
static const pn_field_t sw_sniff_event[] = {
    UINT("id", R, "sniffer id"),
    STR("lan", R, "LAN name"),
    UINT("port", O, "port captured (0 = whole LAN)"),
    STR("path", R, "output path"),
    UINT("frames", O, "frames written"),
    UINT("drops", O, "frames dropped"),
    STR("reason", O, "why it stopped"),
    END
};

/* --- switchd fields (end) --- */

/* =================================================================== vmd */
/* --- vmd fields (begin) --- */
static const pn_field_t vm_nic_spec[] = {
    NAME("lan", R, "LAN the NIC plugs into"),
    STR("mac", O, "MAC xx:xx:xx:xx:xx:xx (default: the seed rule 02:00:n/100:n%100:00:E)"),
    STR("ip", O, "address with prefix (\"10.0.0.1/24\"); default none (mgmt: the seed rule)"),
    IFNAME("ifname", O, "NIC name (default: the next free ethN)"),
    END
};
static const pn_field_t vm_node_add_args[] = {
    NAME("name", R, "node name"),
    ENUM("kind", R, "uml|qemu|ns", "kind of machine"),
    STR("image", O, "root image: a path, or absent for the tiny default guest", .max = 1024),
    UINT("mem", O, "memory in MiB (default 128)", .min = 16, .max = 1048576),
    UINT("cpus", O, "virtual CPUs (qemu)", .min = 1, .max = 64),
    UINT("number", O, "node number 1..25599 (default: the lowest free)", .min = 1, .max = 25599),
    ARR("nics", O, PN_F_MAP, vm_nic_spec, "NICs besides eth0 on mgmt (at most 31)"),
    BOOL("mgmt", O, "eth0 on the management LAN (default true)"),
    STR("mgmt_ip", O, "eth0's management address with prefix, overriding the seed rule's", .max = 64),
    BOOL("persistent", O, "write the image itself (locked to this node) instead of a COW overlay"),
    ARR("cmd", O, PN_F_STR, NULL, "ns: the command to run (default: an idle init)"),
    STR("script", O, "uml/qemu: a startup script for the config disk", .max = 65536),
    BOOL("start", O, "start it at once"),
    END
};
static const pn_field_t vm_name_args[] = {
    NAME("name", R, "node name"),
    END
};
static const pn_field_t vm_stop_args[] = {
    NAME("name", R, "node name"),
    UINT("timeout_ms", O, "graceful stop budget before the kill (default 5000)", .max = 600000),
    END
};
static const pn_field_t vm_del_args[] = {
    NAME("name", R, "node name"),
    BOOL("force", O, "kill it first when running"),
    END
};
static const pn_field_t vm_nic_fields[] = {
    STR("ifname", R, "ethN"),
    STR("lan", R, "LAN"),
    STR("mac", R, "MAC"),
    STR("ip", O, "address with prefix"),
    STR("host_if", O, "ns: the switchd tap behind it"),
    UINT("port", O, "ns: its switchd port"),
    END
};
static const pn_field_t vm_node_fields[] = {
    STR("name", R, "node name"),
    STR("kind", R, "uml|qemu|ns"),
    UINT("number", R, "node number"),
    STR("state", R, "defined|starting|running|stopping|stopped|crashed"),
    STR("image", O, "root image"),
    UINT("mem", O, "MiB"),
    UINT("cpus", O, "CPUs"),
    BOOL("persistent", O, "writes its image"),
    STR("mgmt_ip", O, "management address"),
    ARR("nics", R, PN_F_MAP, vm_nic_fields, "NICs"),
    UINT("pid", O, "guest process (uml/qemu) or command (ns) while running"),
    UINT("monitor_pid", O, "vmd's per-node monitor process while running"),
    STR("accel", O, "qemu: kvm or tcg"),
    STR("accel_reason", O, "qemu: why that accelerator"),
    STR("dir", O, "the node's state directory"),
    STR("console_log", O, "console log file"),
    STR("console_sock", O, "console socket"),
    STR("agent_sock", O, "agent channel socket"),
    STR("control_sock", O, "QMP (qemu) or mconsole (uml) socket"),
    STR("netns", O, "ns: the network namespace name"),
    STR("cfgdisk", O, "config disk image"),
    INT("exit_status", O, "crashed: exit code, or -signal"),
    ARR("console_tail", O, PN_F_STR, NULL, "crashed: the last console lines"),
    UINT("started_ns", O, "when it was started (unix ns)"),
    BOOL("adopted", O, "running since before this vmd started"),
    STR("busy", O, "an op in progress that other changes of the node wait for, e.g. \"nic.del eth2\""),
    END
};
static const pn_field_t vm_node_ls_reply[] = {
    ARR("nodes", R, PN_F_MAP, vm_node_fields, "every node"),
    END
};
static const pn_field_t vm_nic_add_args[] = {
    NAME("node", R, "node name"),
    IFNAME("ifname", R, "the new NIC"),
    NAME("lan", R, "LAN"),
    STR("ip", O, "address with prefix"),
    STR("mac", O, "MAC (default: the seed rule)"),
    END
};
static const pn_field_t vm_nic_del_args[] = {
    NAME("node", R, "node name"),
    IFNAME("ifname", R, "the NIC to remove"),
    END
};
static const pn_field_t vm_link_set_args[] = {
    NAME("node", R, "node name"),
    IFNAME("ifname", R, "the NIC"),
    ENUM("state", R, "up|down", "down: the link is cut (the guest loses its carrier where the kind allows)"),
    END
};
static const pn_field_t vm_link_set_reply[] = {
    STR("node", R, "node name"),
    STR("ifname", R, "the NIC"),
    STR("lan", R, "its LAN"),
    STR("kind", R, "uml|qemu|ns"),
    ENUM("state", R, "up|down", "the link now"),
    ENUM("carrier", R, "follows|kept", "follows: the guest sees the carrier go and come (ns, qemu); kept: it does "
         "not (uml), frames are dropped at the switch port"),
    STR("note", O, "what the user should know (uml: the guest keeps its carrier)"),
    UINT("ports", R, "switch ports set"),
    END
};
static const pn_field_t vm_state_event[] = {
    STR("name", R, "node name"),
    STR("kind", R, "uml|qemu|ns"),
    STR("state", R, "the new state"),
    STR("from", R, "the previous state"),
    INT("exit_status", O, "crashed/stopped: exit code, or -signal"),
    ARR("console_tail", O, PN_F_STR, NULL, "crashed: the last console lines"),
    UINT("pid", O, "running: the guest's pid"),
    END
};
static const pn_field_t vm_nic_event[] = {
    STR("node", R, "node name"),
    STR("ifname", R, "NIC"),
    STR("lan", R, "LAN"),
    STR("mac", R, "MAC"),
    END
};
static const pn_field_t vm_name_event[] = {
    STR("name", R, "node name"),
    END
};

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
    UINT("quiet_ms", O, "milliseconds since the last byte from the agent (when connected)"),
    UINT("unanswered", O, "bytes written, other than DATA payloads, that the agent has not acknowledged yet; at most 768 on a serial line (when connected)"),
    UINT("deadline_ms", R, "silence after which the agent is declared down: the floor, or more after slow round trips"),
    UINT("srtt_ms", R, "smoothed keepalive round trip (0: none measured yet)"),
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
    { PN_OP_LAN_ADD, sw_lan_add_args, sw_lan_reply,
      "Create a LAN and its VDE control socket RUN/lan/<name>/ctl; persisted in STATE." },
    { PN_OP_LAN_DEL, sw_lan_del_args, sw_lan_del_reply,
      "Delete a LAN; refused with busy while ports are attached unless force." },
    { PN_OP_LAN_LS, no_fields, sw_lan_ls_reply, "List LANs." },
    { PN_OP_LAN_SHOW, sw_lan_name_args, sw_lan_show_reply, "One LAN: ports and MAC table." },
    { PN_OP_PORT_ADD_TAP, sw_add_tap_args, sw_add_tap_reply,
      "Create a tap interface whose fd switchd owns and attach it to a LAN." },
    { PN_OP_PORT_DEL, sw_port_del_args, sw_port_del_reply,
      "Detach a port (a tap disappears; a VDE client's control stream is closed)." },
    { PN_OP_PORT_LS, sw_lan_only_args, sw_port_ls_reply, "List a LAN's ports." },
    { PN_OP_PORT_SET, sw_port_set_args, sw_port_set_reply,
      "Set a port administratively up or down (cable plugged or unplugged); the client stays connected. A tap port's carrier follows (the interface shows NO-CARRIER while down)." },
    { PN_OP_PORT_CLAIM, sw_port_claim_args, sw_port_claim_reply,
      "Name the VDE ports of a guest process on a LAN after its NIC (node:ifname): the ports it has and the ones it "
      "connects later (vmd calls it; a process with several NICs on one LAN stays unnamed)." },
    { PN_OP_STATS, sw_lan_only_args, sw_stats_reply, "Per-port counters of a LAN." },
    { PN_OP_STATS_WATCH, sw_stats_watch_args, sw_stats_watch_reply,
      "Publish switchd.stats every interval until ttl_ms passes without renewal." },
    { PN_OP_SNIFF_START, sw_sniff_start_args, sw_sniff_start_reply,
      "Capture a LAN or one port to a classic pcap file or FIFO (linktype Ethernet); never blocks the switch." },
    { PN_OP_SNIFF_STOP, sw_sniff_stop_args, sw_sniff_fields, "Stop a sniffer; its final counters." },
    /* --- switchd ops (end) --- */

    COMMON_OPS("vmd"),
    /* --- vmd ops (begin) --- */
    { PN_OP_NODE_ADD, vm_node_add_args, vm_node_fields,
      "Define a node (and start it with start: true); refused when its name, number or a MAC is in use." },
    { PN_OP_NODE_START, vm_name_args, vm_node_fields, "Start a defined, stopped or crashed node." },
    { PN_OP_NODE_STOP, vm_stop_args, vm_node_fields,
      "Graceful stop (ACPI powerdown / mconsole halt / SIGTERM), then a kill after timeout_ms." },
    { PN_OP_NODE_KILL, vm_name_args, vm_node_fields, "Kill a node at once (it ends stopped)." },
    { PN_OP_NODE_REBOOT, vm_name_args, vm_node_fields, "Stop (kill) and start again." },
    { PN_OP_NODE_DEL, vm_del_args, vm_name_event, "Delete a node that is not running, and its files." },
    { PN_OP_NODE_LS, no_fields, vm_node_ls_reply, "Every node." },
    { PN_OP_NODE_SHOW, vm_name_args, vm_node_fields, "One node in full." },
    { PN_OP_NIC_ADD, vm_nic_add_args, vm_node_fields, "Plug a NIC into a node, live when it runs." },
    { PN_OP_NIC_DEL, vm_nic_del_args, vm_node_fields, "Unplug a NIC, live when it runs." },
    { PN_OP_LINK_SET, vm_link_set_args, vm_link_set_reply,
      "Take a running node's link down or up: its switch ports admin down/up (ns: the tap's carrier follows; qemu: "
      "QMP set_link drops the NIC's carrier; uml: the guest keeps its carrier, frames are dropped)." },

    /* --- vmd ops (end) --- */

    COMMON_OPS("cfgdiskd"),
    /* --- cfgdiskd ops (begin) --- */
    { PN_OP_DISK_BUILD, cd_build_args, cd_build_reply,
      "Build (or find in the cache) a node's config disk: the PLUGNET ext2 disk or a cloud-init "
      "NoCloud seed. The same spec always gives the same file, byte for byte." },
    { PN_OP_DISK_LS, no_fields, cd_ls_reply, "List the cached disks." },
    { PN_OP_DISK_GC, cd_gc_args, cd_gc_reply,
      "Remove every cached disk not named in keep (the caller passes the set in use)." },
    /* --- cfgdiskd ops (end) --- */

    COMMON_OPS("agentd"),
    /* --- agentd ops (begin) --- */
    { PN_OP_AGENT_REGISTER, agent_register_args, no_fields,
      "Register (or re-register) a node's agent channel; agentd connects and keeps reconnecting." },
    { PN_OP_AGENT_UNREGISTER, agent_node_args, no_fields,
      "Forget a node's channel; its sessions end." },
    { PN_OP_AGENT_LS, no_fields, agent_ls_reply, "Every registered agent and its state." },
    { PN_OP_AGENT_WAIT, agent_wait_args, agent_info,
      "Reply once the node's agent is up (unavailable after the timeout)." },
    /* --- agentd ops (end) --- */

    { NULL, NULL, NULL, NULL, NULL }
};

const pn_evdef_t pn_events[] = {
    COMMON_EVENTS("switchd"),
    /* --- switchd events (begin) --- */
    { "switchd", "switchd.lan", "lan.added", sw_lan_event, "A LAN was created (or restored at start)." },
    { "switchd", "switchd.lan", "lan.removed", sw_lan_event, "A LAN was deleted." },
    { "switchd", "switchd.port", "port.up", sw_port_event, "A port was attached (tap created or VDE client connected)." },
    { "switchd", "switchd.port", "port.down", sw_port_event, "A port went away (deleted, client gone, interface gone)." },
    { "switchd", "switchd.port", "port.admin", sw_port_event, "A port's administrative state changed." },
    { "switchd", "switchd.port", "port.owner", sw_port_event,
      "A port was named after its node's interface (owner) after it came up (a guest that connected before vmd claimed it)." },
    { "switchd", "switchd.stats", "stats", sw_stats_event, "Periodic counters while a stats.watch is in force." },
    { "switchd", "switchd.sniff", "sniff.started", sw_sniff_event, "A sniffer began writing." },
    { "switchd", "switchd.sniff", "sniff.stopped", sw_sniff_event, "A sniffer stopped (asked, LAN or port gone, output failed)." },
    /* --- switchd events (end) --- */

    COMMON_EVENTS("vmd"),
    /* --- vmd events (begin) --- */
    { "vmd", "vmd.node", "node.state", vm_state_event,
      "A node changed state: defined, starting, running, stopping, stopped, crashed." },
    { "vmd", "vmd.node", "node.added", vm_name_event, "A node was defined." },
    { "vmd", "vmd.node", "node.removed", vm_name_event, "A node was deleted." },
    { "vmd", "vmd.nic", "nic.added", vm_nic_event, "A NIC was plugged in." },
    { "vmd", "vmd.nic", "nic.removed", vm_nic_event, "A NIC was unplugged." },

    /* --- vmd events (end) --- */

    COMMON_EVENTS("cfgdiskd"),
    /* --- cfgdiskd events (begin) --- */
    { "cfgdiskd", "cfgdiskd.disk", "disk.built", cd_built_event,
      "A disk was built (not published for cache hits)." },
    { "cfgdiskd", "cfgdiskd.disk", "disk.gc", cd_gc_event, "disk.gc removed disks." },
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
