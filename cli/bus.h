/* bus: the CLI's subscription to the daemons' event buses (`plugnet events`
 * and the boot waiter of `plugnet node start` and `plugnet up`).
 *
 * Besides the topics asked for, the socket subscribes to a hello topic of
 * its own, last: each daemon answers on it once it has applied the
 * subscriptions (see s_on_sub in services/common/svc.c), so after the
 * hellos of every daemon that was running no event of interest is missed.
 */
#ifndef PN_CLI_BUS_H
#define PN_CLI_BUS_H

#include <stdbool.h>
#include <stddef.h>

#include "pn_proto.h"

typedef struct cli_bus cli_bus_t;

/* A SUB socket on the buses of svcs, subscribed to topics (prefixes such as
 * "vmd.node"; "" = all).  NULL when out of memory. */
cli_bus_t *cli_bus_new(const char *const *svcs, size_t n_svcs, const char *const *topics,
                       size_t n_topics);
void cli_bus_destroy(cli_bus_t **self_p);

/* The socket, to poll for ZMQ_POLLIN. */
void *cli_bus_socket(cli_bus_t *self);
/* How many of the daemons ran when the socket connected: the hellos to
 * wait for; and whether one of them (by name) did. */
int cli_bus_expected(const cli_bus_t *self);
bool cli_bus_running(const cli_bus_t *self, const char *svc);

/* One message, without waiting (the parts of one come together).
 *   0        an event: *ev (pn_msg_clear it) and its topic
 *   1        a daemon's answer on the hello topic
 *   -EAGAIN  nothing (more) to read
 *   -EBADMSG a message on topic that is not an event; err says why
 * Messages of one part, or whose body cannot be read, are skipped. */
int cli_bus_recv(cli_bus_t *self, char *topic, size_t tlen, pn_msg_t *ev, char *err,
                 size_t errlen);

#endif
