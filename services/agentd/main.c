/* plugnet-agentd: placeholder entry until the service's own ops land.  It
 * answers ping and status and replies "unsupported" to everything else. */
#include <stdlib.h>

#include "pn_svc.h"

static const pn_svc_op_t s_ops[] = { { NULL, NULL } };

int main(int argc, char **argv)
{
    pn_svc_t *svc = pn_svc_new("agentd", s_ops, NULL);
    if (!svc)
        return 1;
    if (pn_svc_start(svc, argc, argv) < 0) {
        pn_svc_destroy(&svc);
        return 1;
    }
    int rc = pn_svc_run(svc);
    pn_svc_destroy(&svc);
    return rc;
}
