/* Fuzz the disk.build spec validator: any msgpack the decoder accepts must
 * be refused with a message or parsed into a spec whose canonical form and
 * renderings can be built, without a crash or a leak. */
// FUZZ_SOURCES: services/cfgdiskd/spec.c services/cfgdiskd/spec_valid.c services/cfgdiskd/spec_canon.c services/cfgdiskd/sha256.c services/cfgdiskd/render.c proto/val.c proto/json.c proto/base64.c proto/addr.c proto/names.c proto/proto.c proto/schema.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pn_proto.h"
#include "render.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pn_val_t *v = NULL;
    char err[256];
    if (pn_val_decode(data, size, &pn_default_limits, &v, err, sizeof err) != PN_OK)
        return 0;
    cd_spec_t *sp = NULL;
    char msg[512];
    int r = cd_spec_parse(v, NULL, &sp, msg, sizeof msg);
    if (r == 0) {
        uint8_t *c;
        size_t len;
        if (cd_spec_canon(sp, &c, &len) == 0)
            free(c);
        char *s = cd_render_conf(sp, "0123456789abcdef", true);
        free(s);
        s = cd_render_hosts(sp);
        free(s);
        s = cd_render_user_data(sp, NULL, 0);
        free(s);
        s = cd_render_network_config(sp);
        free(s);
        cd_spec_destroy(&sp);
    } else if (msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    pn_val_free(v);
    return 0;
}
