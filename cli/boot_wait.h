/* boot_wait: follow nodes from their start until they are ready.
 *
 * A node is *ready* when a user can use it: its configuration applied and
 * its agent up, so that `plugnet exec` works at once.  The config disk's
 * script starts the agent as its last step, so agentd's `agent.up` for the
 * node (after its start) is the mark; the console's "plugnet: config done"
 * and vmd's `running` are milestones shown on the way.  Without agentd
 * (no agent can come up) a node is ready at "config done", an ns node once
 * it runs.
 *
 * The waiter subscribes to vmd's node events and agentd's agent events
 * BEFORE the node is started (so nothing is missed), and follows each
 * node's console.log from the offset it had before the start.  A followed
 * node that crashes or stops, before or after it was ready, is a failure,
 * reported with the reason, its exit status and its last console lines.
 */
#ifndef PN_BOOT_WAIT_H
#define PN_BOOT_WAIT_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

typedef struct cli_boot cli_boot_t;

typedef enum {
    CLI_BOOT_QUIET,   /* nothing on stdout (errors on stderr) */
    CLI_BOOT_TTY,     /* live progress: transitions and a redrawn line */
    CLI_BOOT_SUMMARY, /* one line once every node is ready */
} cli_boot_out_t;

/* Subscribe (bounded wait for the daemons' acknowledgement). */
cli_boot_t *cli_boot_new(cli_boot_out_t out);
void cli_boot_destroy(cli_boot_t **self_p);

/* On a failure, copy the node's console log to DIR/<node>/console.log and
 * name that copy in the report (the caller is about to delete the node). */
void cli_boot_keep(cli_boot_t *self, const char *dir);

/* Before starting NAME: note where its console log ends now.  show is its
 * node.show data (or NULL when it does not exist yet). */
void cli_boot_prepare(cli_boot_t *self, const char *name, pn_val_t *show);
/* After NAME started: follow it. start is node.start's (or node.add's)
 * reply data, borrowed. */
void cli_boot_follow(cli_boot_t *self, const char *name, pn_val_t *start);

/* Wait until every followed node is ready, one failed or timeout_ms passed.
 * Returns CLI_OK, or CLI_REFUSED with a report on stderr naming the node,
 * why, and its last console lines; 130 when interrupted.  soft: a timeout
 * is not an error (a terminal user who did not ask for --wait). */
int cli_boot_wait(cli_boot_t *self, int timeout_ms, bool soft);

/* Without waiting: did a followed node crash or stop since it was ready?
 * CLI_OK, or CLI_REFUSED with its report on stderr. */
int cli_boot_check(cli_boot_t *self);

/* The first failure in one line ("node s1 crashed while booting (exit
 * status 1); console log: PATH"), or "" when none. */
const char *cli_boot_failure(const cli_boot_t *self);

/* Boot facts of NAME for --json: boot_ms and booted ("agent", "config",
 * "running"), set into the map m. */
void cli_boot_annotate(cli_boot_t *self, const char *name, pn_val_t *m);

#endif
