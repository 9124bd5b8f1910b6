/* plugnet-cfgdiskd: builds per-node config disks (the PLUGNET ext2 disk
 * and the cloud-init NoCloud seed) into a content-addressed cache under
 * STATE/cfgdisk/.  It needs no privilege at all: mke2fs -d, debugfs,
 * mkfs.vfat and mcopy all work on plain files.
 *
 * plugnet-cfgdiskd --local OP runs one op once without the daemon, for
 * `plugnet disk` (see local.h). */
#include <stdlib.h>
#include <string.h>

#include "local.h"
#include "ops.h"
#include "pn_svc.h"

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--local"))
        return cd_local_main(argc, argv);
    cd_daemon_t *d = cd_daemon_new();
    if (!d)
        return 1;
    pn_svc_t *svc = pn_svc_new("cfgdiskd", cd_ops, d);
    if (!svc) {
        cd_daemon_destroy(&d);
        return 1;
    }
    if (pn_svc_start(svc, argc, argv) < 0 || cd_daemon_start(d, svc) < 0) {
        cd_daemon_destroy(&d);
        pn_svc_destroy(&svc);
        return 1;
    }
    int rc = pn_svc_run(svc);
    cd_daemon_destroy(&d);
    pn_svc_destroy(&svc);
    return rc;
}
