/* libFuzzer target: the request/reply/event decoders on arbitrary bytes.
 * Whatever the input, decoding returns an error or a tree that re-encodes
 * and decodes to the same tree. */
// FUZZ_SOURCES: proto/val.c proto/json.c proto/base64.c proto/proto.c proto/schema.c proto/names.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pn_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    pn_msg_t m;
    static const char *const svcs[] = { "switchd", "vmd", "cfgdiskd", "agentd" };
    const char *svc = size ? svcs[data[0] % 4] : NULL;
    if (pn_msg_decode_request(data, size, svc, &m, err, sizeof(err)) == PN_OK) {
        char *buf;
        size_t len;
        if (pn_val_encode(m.root, &buf, &len) == 0) {
            pn_val_t *again = NULL;
            if (pn_val_decode(buf, len, NULL, &again, err, sizeof(err)) == PN_OK &&
                !pn_val_equal(again, m.root))
                abort();
            pn_val_free(again);
            free(buf);
        }
        char *j = pn_val_json_str(m.root);
        free(j);
    }
    pn_msg_clear(&m);
    if (pn_msg_decode_reply(data, size, svc, "status", &m, err, sizeof(err)) == PN_OK && !m.ok && !m.errmsg)
        abort();
    pn_msg_clear(&m);
    pn_msg_decode_event(data, size, &m, err, sizeof(err));
    pn_msg_clear(&m);
    return 0;
}
