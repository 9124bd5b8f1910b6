/* Every op of plugnet, named once.
 *
 * PN_OP_<NAME> expands to the op's service and name, two comma-separated
 * string literals: "switchd", "lan.add".  The schema (proto/schema.c), each
 * daemon's handler table (services/<d>/ops.c: { PN_OP_LAN_ADD, op_lan_add }) and every
 * call the CLI or a daemon makes (cli_call(PN_OP_LAN_ADD, ...),
 * PN_OPNAME(LAN_ADD) where only the name is wanted) are written with these
 * macros, never with the strings: a misspelt op is a compile error, and
 * pn_ops_check (checked when a daemon starts and by tests/unit/proto_ops)
 * fails when a daemon's table and the schema disagree.
 *
 * To add an op: one line here, one entry in proto/schema.c's pn_ops with its
 * fields, one line in the daemon's ops.c table and its handler,
 * one test (docs/ARCHITECTURE.md, "To add an op").
 */
#ifndef PN_OPS_H
#define PN_OPS_H

/* Answered by every daemon's runtime (services/common/svc.c). */
#define PN_OPNAME_PING "ping"
#define PN_OPNAME_STATUS "status"


/* switchd */
#define PN_OP_LAN_ADD "switchd", "lan.add"
#define PN_OP_LAN_DEL "switchd", "lan.del"
#define PN_OP_LAN_LS "switchd", "lan.ls"
#define PN_OP_LAN_SHOW "switchd", "lan.show"
#define PN_OP_PORT_ADD_TAP "switchd", "port.add_tap"
#define PN_OP_PORT_DEL "switchd", "port.del"
#define PN_OP_PORT_LS "switchd", "port.ls"
#define PN_OP_PORT_SET "switchd", "port.set"
#define PN_OP_PORT_CLAIM "switchd", "port.claim"
#define PN_OP_STATS "switchd", "stats"
#define PN_OP_STATS_WATCH "switchd", "stats.watch"
#define PN_OP_SNIFF_START "switchd", "sniff.start"
#define PN_OP_SNIFF_STOP "switchd", "sniff.stop"

/* vmd */
#define PN_OP_NODE_ADD "vmd", "node.add"
#define PN_OP_NODE_START "vmd", "node.start"
#define PN_OP_NODE_STOP "vmd", "node.stop"
#define PN_OP_NODE_KILL "vmd", "node.kill"
#define PN_OP_NODE_REBOOT "vmd", "node.reboot"
#define PN_OP_NODE_DEL "vmd", "node.del"
#define PN_OP_NODE_LS "vmd", "node.ls"
#define PN_OP_NODE_SHOW "vmd", "node.show"
#define PN_OP_NIC_ADD "vmd", "nic.add"
#define PN_OP_NIC_DEL "vmd", "nic.del"
#define PN_OP_LINK_SET "vmd", "link.set"

/* cfgdiskd */
#define PN_OP_DISK_BUILD "cfgdiskd", "disk.build"
#define PN_OP_DISK_LS "cfgdiskd", "disk.ls"
#define PN_OP_DISK_GC "cfgdiskd", "disk.gc"

/* agentd */
#define PN_OP_AGENT_REGISTER "agentd", "agent.register"
#define PN_OP_AGENT_UNREGISTER "agentd", "agent.unregister"
#define PN_OP_AGENT_LS "agentd", "agent.ls"
#define PN_OP_AGENT_WAIT "agentd", "agent.wait"

/* The service or the name alone: PN_OPSVC(LAN_ADD) is "switchd",
 * PN_OPNAME(LAN_ADD) is "lan.add". */
#define PN_OP__FIRST(a, b) a
#define PN_OP__SECOND(a, b) b
#define PN_OP__APPLY(m, ...) m(__VA_ARGS__)
#define PN_OPSVC(id) PN_OP__APPLY(PN_OP__FIRST, PN_OP_##id)
#define PN_OPNAME(id) PN_OP__APPLY(PN_OP__SECOND, PN_OP_##id)


#endif
