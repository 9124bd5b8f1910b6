/* cfgdiskd's request handlers and its build workers. */
#ifndef CD_OPS_H
#define CD_OPS_H

#include "pn_svc.h"

typedef struct cd_daemon cd_daemon_t;

extern const pn_svc_op_t cd_ops[];

cd_daemon_t *cd_daemon_new(void);
/* After pn_svc_start (the state dir is known, signals are blocked): open
 * the cache, start the workers.  0 or -errno after logging why. */
int cd_daemon_start(cd_daemon_t *d, pn_svc_t *svc);
/* The reply's error code for a negative errno of the layers below
 * (-EINVAL invalid_argument, -E2BIG too_large, else internal). */
int cd_err_code(int r);
/* After pn_svc_run: stop and join the workers, drop pending jobs. */
void cd_daemon_destroy(cd_daemon_t **d_p);

#endif
