/* boot_wait: follow nodes from `node start` until their boot completed.
 *
 * A node's boot is complete when its console says "plugnet: config done"
 * (the config disk's script ran) or agentd reports its agent up; an ns node
 * is complete once it runs.  The waiter subscribes to vmd's node events and
 * agentd's agent events BEFORE the node is started (so nothing is missed),
 * and follows each node's console.log from the offset it had before the
 * start.  On a terminal it draws live progress (state transitions, elapsed
 * time, the last console line); otherwise it prints nothing but errors.
 */
#ifndef PN_BOOT_WAIT_H
#define PN_BOOT_WAIT_H

#include <stdbool.h>

#include "cli.h"

typedef struct cli_boot cli_boot_t;

/* Subscribe (bounded wait for the daemons' acknowledgement). tty: draw
 * progress on stdout. */
cli_boot_t *cli_boot_new(bool tty);
void cli_boot_destroy(cli_boot_t **self_p);

/* Before starting NAME: note where its console log ends now.  show is its
 * node.show data (or NULL when it does not exist yet). */
void cli_boot_prepare(cli_boot_t *self, const char *name, pn_val_t *show);
/* After NAME started: follow it. start is node.start's (or node.add's)
 * reply data, borrowed. */
void cli_boot_follow(cli_boot_t *self, const char *name, pn_val_t *start);

/* Wait until every followed node booted, one failed or timeout_ms passed.
 * Returns CLI_OK, or CLI_REFUSED with a message on stderr naming the node
 * and its last console lines; 130 when interrupted.  soft: a timeout is
 * not an error (a terminal user who did not ask for --wait). */
int cli_boot_wait(cli_boot_t *self, int timeout_ms, bool soft);

/* Boot facts of NAME for --json: boot_ms and booted ("config", "agent",
 * "running"), set into the map m. */
void cli_boot_annotate(cli_boot_t *self, const char *name, pn_val_t *m);

#endif
