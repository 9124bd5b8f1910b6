/* The agent channel decoder and frames cut anywhere: a frame that has not
 * fully arrived is never decoded (not as a frame, not as a corrupt one),
 * and once its last byte arrives it decodes whole.  A byte stream reads in
 * whatever pieces the pipe or socket hands over, so every cut must work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_chan.h"
#include "tap.h"

/* Feed frame[0..cut), then the rest; "" when all went right, else why. */
static const char *s_cut(const uint8_t *frame, size_t total, size_t cut, const uint8_t *pay, size_t plen)
{
    static char why[128];
    ag_dec_t d;
    ag_frame_t f;
    const char *bad = "";
    ag_dec_init(&d);
    if (cut > 0) {
        ag_dec_feed(&d, frame, cut);
        int r = ag_dec_next(&d, &f);
        if (r != AG_DEC_MORE) {
            snprintf(why, sizeof why, "with %zu of %zu bytes the decoder returned %d, not MORE", cut, total, r);
            bad = why;
            goto out;
        }
    }
    ag_dec_feed(&d, frame + cut, total - cut);
    if (ag_dec_next(&d, &f) != AG_DEC_FRAME || f.type != AG_T_DATA || f.sid != 5 || f.len != plen ||
        (plen && memcmp(f.payload, pay, plen) != 0)) {
        snprintf(why, sizeof why, "cut at %zu of %zu: the whole frame did not decode as sent", cut, total);
        bad = why;
    } else if (ag_dec_next(&d, &f) != AG_DEC_MORE) {
        snprintf(why, sizeof why, "cut at %zu of %zu: more than one frame came out", cut, total);
        bad = why;
    }
out:
    ag_dec_free(&d);
    return bad;
}

int main(void)
{
    static uint8_t pay[AG_MAX_PAYLOAD];
    for (size_t i = 0; i < sizeof pay; i++)
        pay[i] = (uint8_t)(i * 131 + 7);
    const size_t lens[] = { 0, 1, 2, 100, 4096, AG_MAX_PAYLOAD };
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        size_t plen = lens[l];
        ag_buf_t b = { 0 };
        ag_frame_put(&b, AG_T_DATA, AG_STDOUT, 5, pay, plen);
        const uint8_t *frame = ag_buf_head(&b);
        size_t total = ag_buf_used(&b), nbad = 0, tried = 0;
        const char *first = "";
        for (size_t cut = 0; cut < total; cut++) {
            /* Every cut near the ends, a sample in between. */
            if (cut > AG_HDR + 8 && cut + 8 < total && cut % 997)
                continue;
            const char *why = s_cut(frame, total, cut, pay, plen);
            tried++;
            if (*why && !nbad++)
                first = why;
        }
        if (!ok(nbad == 0 && total == AG_HDR + plen,
                "a %zu-byte payload cut at %zu places: MORE until whole, then the frame", plen, tried))
            diag("%zu bad cuts; the first: %s", nbad, first);
        ag_buf_free(&b);
    }

    /* Three frames, one byte at a time: each decodes exactly when its last
     * byte is in. */
    ag_buf_t b = { 0 };
    ag_frame_put(&b, AG_T_HELLO, 0, 0, "hi", 2);
    ag_frame_put(&b, AG_T_DATA, AG_STDOUT, 7, pay, 300);
    ag_frame_put(&b, AG_T_EOF, AG_STDOUT, 7, NULL, 0);
    const size_t ends[] = { AG_HDR + 2, 2 * AG_HDR + 2 + 300, 3 * AG_HDR + 2 + 300 };
    ag_dec_t d;
    ag_dec_init(&d);
    size_t nframes = 0, wrong = 0;
    for (size_t i = 0; i < ag_buf_used(&b); i++) {
        ag_frame_t f;
        ag_dec_feed(&d, ag_buf_head(&b) + i, 1);
        int r = ag_dec_next(&d, &f);
        bool due = nframes < 3 && i + 1 == ends[nframes];
        if (r == AG_DEC_FRAME && due)
            nframes++;
        else if (r != AG_DEC_MORE || due)
            wrong++;
    }
    ok(nframes == 3 && wrong == 0 && ag_buf_used(&b) == ends[2],
       "three frames fed a byte at a time come out at their last bytes (%zu frames, %zu wrong)", nframes, wrong);
    ag_dec_free(&d);
    ag_buf_free(&b);
    return done();
}
