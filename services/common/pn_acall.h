/* pn_acall: requests to another daemon from inside an event loop, without
 * waiting.  One DEALER per peer daemon, registered on the loop; every call
 * has its own deadline (a loop timer) and ends by calling its callback
 * exactly once, from the loop, never from inside pn_acall_send.  Replies
 * come back in the order the peer answers; a reply after its call's
 * deadline is dropped.
 *
 * (pn_client is the blocking counterpart, for the CLI and for tools.)
 */
#ifndef PN_ACALL_H
#define PN_ACALL_H

#include "pn_svc.h"

typedef struct pn_acall pn_acall_t;

/* code: PN_OK with data (borrowed: valid during the call only), the peer's
 * error code (PN_E*) when it refused, or a negative errno when the call
 * did not go through (-ECONNREFUSED no daemon, -ETIMEDOUT no answer within
 * the deadline, -EPROTO a bad reply, ...).  errmsg is one sentence naming
 * the peer ("" on success). */
typedef void (*pn_acall_fn)(int code, pn_val_t *data, const char *errmsg, void *arg);

/* A client of daemon svc ("switchd", ...) on loop.  NULL on failure. */
pn_acall_t *pn_acall_new(pn_loop_t *loop, const char *svc);
/* Closes the socket; calls in flight end without their callback. */
void pn_acall_destroy(pn_acall_t **a_p);
/* Send op with args (ownership passes) and call fn(..., arg) with the
 * outcome within timeout_ms.  0, or -ENOMEM (then fn is never called). */
int pn_acall_send(pn_acall_t *a, const char *op, pn_val_t *args, unsigned timeout_ms, pn_acall_fn fn, void *arg);
/* Forget every call in flight made with arg: their callbacks are not
 * called.  The number forgotten. */
unsigned pn_acall_cancel(pn_acall_t *a, void *arg);
/* At exit only, with the loop over: wait (blocking, at most ms) for the
 * replies to the calls in flight, ending them as they come. */
void pn_acall_drain(pn_acall_t *a, unsigned ms);
/* Is daemon svc there?  Without waiting, unlike pn_svc_socket_present: a
 * daemon that is there but stopped (its backlog full) counts as there. */
bool pn_acall_present(const char *svc);
/* Calls in flight. */
unsigned pn_acall_pending(const pn_acall_t *a);

#endif
