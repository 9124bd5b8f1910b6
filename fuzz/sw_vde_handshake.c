/* Fuzz the VDE v3 handshake parser with whatever a control client sends,
 * fed whole and in every prefix a stream read could deliver.
 * FUZZ_SOURCES below lists what it compiles with. */
// FUZZ_SOURCES: services/switchd/vde.c
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vde.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_vde_req_t req;
    const char *why;
    for (size_t n = size > 130 ? size - 8 : 0; n <= size; n++) {
        int r = sw_vde_parse(data, n, &req, &why);
        if (r == 0) {
            /* The description is always terminated and printable. */
            size_t l = strlen(req.descr);
            if (l > SW_VDE_DESCR_MAX)
                __builtin_trap();
            for (size_t i = 0; i < l; i++)
                if (req.descr[i] < 0x20 || req.descr[i] > 0x7e)
                    __builtin_trap();
        }
    }
    return 0;
}
