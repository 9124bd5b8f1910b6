/* Fuzz the agent channel decoder, the TLV parser behind OPEN/HELLO/EXIT
 * and the cp stream reader with arbitrary bytes.
 * FUZZ_SOURCES lists what this target compiles. */
// FUZZ_SOURCES: proto/ag_chan.c proto/ag_tree.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ag_chan.h"
#include "ag_tree.h"

static void s_tlv(const uint8_t *p, size_t n)
{
    ag_tlv_iter_t it = { p, p + n };
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    while (ag_tlv_next(&it, &tag, &v, &len) == 1) {
        char *s = ag_tlv_as_str(v, len);
        free(s);
        (void)ag_tlv_as_u32(v, len);
        (void)ag_tlv_as_u64(v, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ag_dec_t d;
    static int init;
    if (!init) {
        ag_dec_init(&d);
        init = 1;
    }
    ag_dec_reset(&d);
    /* Feed in uneven pieces chosen by the first byte. */
    size_t step = size ? (size_t)data[0] % 61 + 1 : 1;
    size_t off = 0;
    for (;;) {
        ag_frame_t f;
        int r;
        while ((r = ag_dec_next(&d, &f)) != AG_DEC_MORE)
            if (r == AG_DEC_FRAME)
                s_tlv(f.payload, f.len);
        if (off >= size)
            break;
        size_t k = size - off < step ? size - off : step;
        off += ag_dec_feed(&d, data + off, k);
    }
    s_tlv(data, size);
    /* The cp reader, writing under a scratch dir that never exists as a
     * dir: every path it accepts lands in /tmp/ag-fuzz-tree*. */
    ag_tree_r_t *t = ag_tree_r_new("/tmp/ag-fuzz-tree");
    if (t) {
        if (ag_tree_r_feed(t, data, size) == 0)
            ag_tree_r_finish(t);
        ag_tree_r_free(&t);
    }
    return 0;
}
