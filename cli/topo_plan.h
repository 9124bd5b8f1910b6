/* topo_plan: what `plugnet up` and `plugnet down` must do to turn the live
 * lab into the one a topology file describes, as a list of steps, and the
 * engine that runs them and rolls back the ones done when one fails.
 *
 * The diff works on plain structures (no daemon in sight), so it is unit
 * tested on in-memory states; cmd_lab.c fills them from vmd's node.ls /
 * node.show and switchd's lan.ls and runs the steps through the daemons.
 *
 * Rules: a node the file does not change gets no step at all (it keeps
 * running; its uptime proves it).  A node whose kind, image, memory or CPUs
 * changed is recreated.  NICs are compared by interface: a NIC that moved
 * to another LAN or changed its MAC or address is unplugged and plugged
 * again, live.  Nodes and LANs this lab created (its record) and that left
 * the file are deleted; anything else that is live is never touched.
 */
#ifndef PN_TOPO_PLAN_H
#define PN_TOPO_PLAN_H

#include "pn_ops.h"
#include "topo.h"

/* The live lab, as the daemons report it.  Nodes reuse topo_node_t:
 * memory_mb / cpus 0 and image NULL mean "not reported". NICs exclude eth0. */
typedef struct {
    topo_node_t *nodes;
    char (*states)[16]; /* per node: defined, starting, running, stopping, stopped, crashed */
    size_t n_nodes;
    char (*lans)[16];
    size_t n_lans;
} topo_live_t;

/* What a lab created earlier (STATE/labs/<lab>.json): the names it owns. */
typedef struct {
    char (*nodes)[16];
    size_t n_nodes;
    char (*lans)[16];
    size_t n_lans;
} topo_record_t;

#define TOPO_STEPS(X)                                   \
    X(TOPO_LAN_ADD, PN_OPNAME(LAN_ADD), "add LAN")               \
    X(TOPO_NODE_DEL, PN_OPNAME(NODE_DEL), "delete node")         \
    X(TOPO_NIC_DEL, PN_OPNAME(NIC_DEL), "unplug")                \
    X(TOPO_NODE_ADD, PN_OPNAME(NODE_ADD), "add node")            \
    X(TOPO_NIC_ADD, PN_OPNAME(NIC_ADD), "plug")                  \
    X(TOPO_NODE_START, PN_OPNAME(NODE_START), "start node")      \
    X(TOPO_NODE_STOP, PN_OPNAME(NODE_STOP), "stop node")         \
    X(TOPO_LAN_DEL, PN_OPNAME(LAN_DEL), "delete LAN")

typedef enum {
#define X(e, op, verb) e,
    TOPO_STEPS(X)
#undef X
} topo_step_kind_t;

typedef struct {
    topo_step_kind_t kind;
    char node[16];
    char lan[16];
    unsigned mtu;             /* LAN_ADD */
    topo_nic_t nic;           /* NIC_ADD / NIC_DEL */
    const topo_node_t *spec;  /* NODE_ADD: what to create (borrowed: want or live) */
    const topo_node_t *was;   /* NODE_DEL: the live node, to recreate on rollback */
    bool was_running;         /* NODE_DEL: start it again on rollback */
    char why[96];             /* "new", "memory 64 -> 128 MiB", "left the file" */
} topo_step_t;

typedef struct {
    topo_step_t *steps;
    size_t n;
    /* Names of nodes that this plan (re)starts: their exec: runs after. */
    char (*booted)[16];
    size_t n_booted;
} topo_plan_t;

const char *topo_step_op(topo_step_kind_t k);   /* its op's name (proto/pn_ops.h) */
/* "add node r1 (uml)", "plug r1 eth2 into r1e2-r2e2", ... */
void topo_step_describe(const topo_step_t *s, char *buf, size_t len);

/* The steps from live to want.  rec may be NULL (nothing owned).
 * Returns 0 and *out, or -ENOMEM / -EINVAL with err set (e.g. a node of
 * the file exists with another kind and is not this lab's). */
int topo_plan_up(const topo_t *want, const topo_live_t *live, const topo_record_t *rec,
                 topo_plan_t **out, char *err, size_t errlen);
/* The steps that remove the lab: its nodes and LANs that are live (those of
 * the file, and those of the record when rec is given). */
int topo_plan_down(const topo_t *want, const topo_live_t *live, const topo_record_t *rec,
                   topo_plan_t **out, char *err, size_t errlen);
void topo_plan_destroy(topo_plan_t **p_p);

/* Runs one step; returns 0 or a negative errno with err set to one sentence. */
typedef int (*topo_step_fn)(const topo_step_t *s, void *arg, char *err, size_t errlen);

/* Run the steps in order.  When one fails and rollback is set, the steps
 * already done are undone in reverse order (best effort: each undo that
 * fails is reported in err too).  Without rollback (down), every step is
 * tried and the first failure is reported.  Returns 0, or the failing
 * step's error with err = "step 3/7 (add node r1): <why>; rolled back 2 steps". */
int topo_plan_apply(const topo_plan_t *p, topo_step_fn fn, void *arg, bool rollback,
                    char *err, size_t errlen);

/* Undo the first `done` steps of p in reverse order, appending
 * "; rolled back N steps[, M could not be undone (...)]" to err (which
 * holds the reason already).  0, or -EIO when some undo failed. */
int topo_plan_undo(const topo_plan_t *p, size_t done, topo_step_fn fn, void *arg, char *err,
                   size_t errlen);

/* Free a live state / record built by the caller with the functions below. */
void topo_live_clear(topo_live_t *l);
void topo_record_clear(topo_record_t *r);
/* Append helpers (return 0 or -ENOMEM); the node is copied (deep). */
int topo_live_add_node(topo_live_t *l, const topo_node_t *n, const char *state);
int topo_live_add_lan(topo_live_t *l, const char *name);
int topo_record_add(topo_record_t *r, bool lan, const char *name);
bool topo_record_has(const topo_record_t *r, bool lan, const char *name);

#endif
