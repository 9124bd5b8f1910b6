/* lab: what `plugnet up / down / inspect / graph` share below the commands.
 *
 *   cmd_lab.c, cmd_graph.c   the commands
 *     -> lab_run.c           runs a plan's steps through the daemons, waits
 *                            for the nodes, runs their exec: lines
 *     -> lab_state.c         the lab's record, the live lab as vmd and
 *                            switchd report it, the file loaded
 *     -> topo*.c             the topology file and the plan (no daemon)
 */
#ifndef PN_LAB_H
#define PN_LAB_H

#include "boot_wait.h"
#include "cli.h"
#include "topo.h"
#include "topo_plan.h"

#define LAB_CALL_MS 120000   /* node.add builds a disk; node.start may probe KVM */
#define LAB_READ_MS 10000

/* ------------------------------------------------------ lab_state.c */

/* Load a topology file, printing its error or its warnings.  0 or -errno. */
int lab_load(const char *path, topo_t **t);
/* Print err and a hint to start the daemons; CLI_UNREACHABLE. */
int lab_unreachable(const char *err);

/* STATE/labs/<lab>.state: the nodes and LANs a lab created. */
void lab_record_path(const char *lab, char *out, size_t len);
/* 0 and *rec (and *file, the lab's file, when asked), or -ENOENT. */
int lab_record_load(const char *lab, topo_record_t *rec, char **file);
int lab_record_save(const topo_t *t, const topo_record_t *rec);

/* A node as vmd reports it (node.ls item or node.show): 0 or -EINVAL. */
int lab_node_from_val(const pn_val_t *m, topo_node_t *n, char state[16]);
/* The live lab from vmd and switchd (t and rec pick the nodes whose NICs
 * are worth a node.show; both may be NULL): 0, or cli_call_err's code. */
int lab_live_fetch(topo_live_t *live, const topo_t *t, const topo_record_t *rec, char *err,
                   size_t errlen);
const char *lab_live_state(const topo_live_t *l, const char *name); /* NULL: not live */
/* A NIC in vmd's form: {ifname?, lan, mac?, ip?}. */
pn_val_t *lab_nic_val(const topo_nic_t *nic, bool with_ifname);

/* -------------------------------------------------------- lab_run.c */

typedef struct {
    bool quiet;     /* no progress lines (-q or --json) */
    bool json;      /* --json: not even the exec lines' output */
    bool down;      /* the steps of down: LANs go with their ports */
    size_t done, total;
    cli_boot_t *bw; /* follows the nodes this up starts; NULL for none */
} lab_run_t;

/* A progress line on stdout, unless quiet. */
void lab_say(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run one plan step through its daemon (a topo_step_fn; arg is a lab_run_t). */
int lab_step(const topo_step_t *s, void *arg, char *err, size_t errlen);
/* Wait until every node the plan (re)started is ready, counting from start
 * (pn_mono_ms).  0, or -EINTR / -EIO with err naming the node and why. */
int lab_wait_nodes(lab_run_t *run, const topo_plan_t *p, uint64_t start, char *err,
                   size_t errlen);
/* Each booted node's exec: lines, in order, into report; the number of
 * nodes whose lines failed. */
int lab_exec_all(const lab_run_t *run, const topo_t *t, const topo_plan_t *p, pn_val_t *report);

#endif
