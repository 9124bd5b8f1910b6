/* Unit tests of the agent channel codec and the cp stream. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_chan.h"
#include "ag_tree.h"
#include "tap.h"

static uint32_t s_rand_state = 12345;
static uint32_t s_rand(void)
{
    s_rand_state = s_rand_state * 1103515245u + 12345u;
    return s_rand_state >> 8;
}

/* Decode everything in buf fed in pieces of `step`; count frames. */
static int s_decode_all(const uint8_t *buf, size_t len, size_t step, int *corrupt, uint64_t *garbage,
                        uint32_t *sum_len)
{
    ag_dec_t d;
    ag_dec_init(&d);
    int frames = 0;
    *corrupt = 0;
    *sum_len = 0;
    size_t off = 0;
    for (;;) {
        ag_frame_t f;
        int r;
        while ((r = ag_dec_next(&d, &f)) != AG_DEC_MORE) {
            if (r == AG_DEC_FRAME) {
                frames++;
                *sum_len += f.len;
            } else {
                (*corrupt)++;
            }
        }
        if (off >= len)
            break;
        size_t k = len - off < step ? len - off : step;
        off += ag_dec_feed(&d, buf + off, k);
    }
    *garbage = d.garbage;
    ag_dec_free(&d);
    return frames;
}

static void test_crc(void)
{
    /* The standard check value of CRC-32C. */
    ok(ag_crc32c(0, "123456789", 9) == 0xE3069283u, "crc32c check value");
    uint32_t c = ag_crc32c(0, "1234", 4);
    ok(ag_crc32c(c, "56789", 5) == 0xE3069283u, "crc32c is incremental");
    /* Long buffers take the three-lane path: it must agree with a plain
     * bitwise CRC at every length and alignment around the lane sizes. */
    static uint8_t buf[3 * 4096 * 3 + 64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)s_rand();
    size_t lens[] = { 0, 1, 7, 8, 4095, 4096, 12287, 12288, 12289, 12295, 24576, 24577, 36863, 36864, 36864 + 63 };
    int bad = 0;
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++)
        for (size_t off = 0; off < 3; off++) {
            size_t n = lens[k];
            if (off + n > sizeof buf)
                continue;
            uint32_t r = ~0u;
            for (size_t i = 0; i < n; i++) {
                r ^= buf[off + i];
                for (int b = 0; b < 8; b++)
                    r = r & 1 ? (r >> 1) ^ 0x82F63B78u : r >> 1;
            }
            uint32_t seed = (uint32_t)k * 0x9E3779B9u;
            if (ag_crc32c(0, buf + off, n) != ~r)
                bad++;
            /* and continuing from a non-zero CRC, split anywhere */
            uint32_t whole = ag_crc32c(seed, buf + off, n);
            uint32_t part = ag_crc32c(ag_crc32c(seed, buf + off, n / 3), buf + off + n / 3, n - n / 3);
            if (whole != part)
                bad++;
        }
    ok(bad == 0, "crc32c agrees with the bitwise definition on long buffers (%d mismatches)", bad);
    bad = 0;
    for (size_t a = 0; a < sizeof buf; a += 1 + s_rand() % 5000)
        for (size_t b = 0; a + b <= sizeof buf; b += 1 + s_rand() % 7000) {
            uint32_t ca = ag_crc32c(0, buf, a), cb = ag_crc32c(0, buf + a, b);
            if (ag_crc32c_combine(ca, cb, b) != ag_crc32c(0, buf, a + b))
                bad++;
        }
    ok(bad == 0 && ag_crc32c_combine(0x12345678u, 0, 0) == 0x12345678u,
       "crc32c_combine joins the CRCs of two pieces (%d mismatches)", bad);
}

static void test_frames(void)
{
    ag_buf_t b = { 0 };
    uint8_t pay[AG_MAX_PAYLOAD];
    for (size_t i = 0; i < sizeof pay; i++)
        pay[i] = (uint8_t)s_rand();
    ag_frame_put(&b, AG_T_HELLO, 0, 0, "hi", 2);
    ag_frame_put(&b, AG_T_DATA, AG_STDOUT, 7, pay, sizeof pay);
    ag_frame_put(&b, AG_T_EOF, AG_STDOUT, 7, NULL, 0);

    ag_dec_t d;
    ag_dec_init(&d);
    ag_dec_feed(&d, ag_buf_head(&b), ag_buf_used(&b));
    ag_frame_t f;
    ok(ag_dec_next(&d, &f) == AG_DEC_FRAME && f.type == AG_T_HELLO && f.len == 2 && !memcmp(f.payload, "hi", 2),
       "hello frame round trip");
    ok(ag_dec_next(&d, &f) == AG_DEC_FRAME && f.type == AG_T_DATA && f.sid == 7 && f.flags == AG_STDOUT &&
           f.len == AG_MAX_PAYLOAD && !memcmp(f.payload, pay, sizeof pay),
       "largest data frame round trip");
    ok(ag_dec_next(&d, &f) == AG_DEC_FRAME && f.type == AG_T_EOF && f.len == 0, "empty frame");
    ok(ag_dec_next(&d, &f) == AG_DEC_MORE, "then nothing");
    ag_dec_free(&d);

    int corrupt;
    uint64_t garbage;
    uint32_t sum;
    int n = s_decode_all(ag_buf_head(&b), ag_buf_used(&b), 1, &corrupt, &garbage, &sum);
    ok(n == 3 && corrupt == 0 && garbage == 0, "byte-by-byte feeding yields the same frames");

    /* Garbage between and before frames, including fake magics. */
    ag_buf_t g = { 0 };
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)s_rand();
    junk[10] = AG_MAGIC0;
    junk[11] = AG_MAGIC1;
    junk[100] = AG_MAGIC0;
    ag_buf_append(&g, junk, sizeof junk);
    ag_frame_put(&g, AG_T_PING, 0, 0, "12345678", 8);
    ag_buf_append(&g, junk, 37);
    ag_frame_put(&g, AG_T_DATA, 0, 3, pay, 1000);
    ag_buf_append(&g, "\xA7", 1);
    n = s_decode_all(ag_buf_head(&g), ag_buf_used(&g), 7, &corrupt, &garbage, &sum);
    ok(n == 2 && corrupt == 0 && sum == 1008, "resync after garbage (frames=%d garbage=%llu)", n,
       (unsigned long long)garbage);

    /* A flipped payload byte: the frame is reported corrupt with its sid. */
    ag_buf_t c = { 0 };
    ag_frame_put(&c, AG_T_DATA, 0, 9, pay, 500);
    ag_frame_put(&c, AG_T_PONG, 0, 0, NULL, 0);
    c.data[AG_HDR + 17] ^= 1;
    ag_dec_init(&d);
    ag_dec_feed(&d, ag_buf_head(&c), ag_buf_used(&c));
    ok(ag_dec_next(&d, &f) == AG_DEC_CORRUPT && f.sid == 9 && f.type == AG_T_DATA, "corrupt payload names its session");
    ok(ag_dec_next(&d, &f) == AG_DEC_FRAME && f.type == AG_T_PONG, "the next frame still decodes");
    ag_dec_free(&d);

    /* A flipped header byte: the frame is skipped as garbage. */
    ag_buf_t h = { 0 };
    ag_frame_put(&h, AG_T_DATA, 0, 9, pay, 500);
    ag_frame_put(&h, AG_T_PONG, 0, 0, NULL, 0);
    h.data[5] ^= 0x40;
    n = s_decode_all(ag_buf_head(&h), ag_buf_used(&h), 4096, &corrupt, &garbage, &sum);
    ok(n == 1 && corrupt == 0 && garbage >= 500, "bad header CRC: frame skipped, next found");

    /* An oversized length with a valid header CRC is refused. */
    uint8_t big[AG_HDR] = { AG_MAGIC0, AG_MAGIC1, AG_T_DATA, 0 };
    ag_put32(big + 4, 1);
    ag_put32(big + 8, AG_MAX_PAYLOAD + 1);
    ag_put32(big + 20, ag_crc32c(0, big, 20));
    ag_buf_t o = { 0 };
    ag_buf_append(&o, big, sizeof big);
    ag_frame_put(&o, AG_T_PING, 0, 0, NULL, 0);
    n = s_decode_all(ag_buf_head(&o), ag_buf_used(&o), 3, &corrupt, &garbage, &sum);
    ok(n == 1 && corrupt == 0, "oversized frame refused, stream resyncs");

    /* Noise that hits a header loses that frame: the next one says so. */
    {
        ag_buf_t q = { 0 };
        ag_frame_put(&q, AG_T_DATA, 0, 5, pay, 100);
        size_t second = q.len;
        ag_frame_put(&q, AG_T_DATA, 0, 5, pay, 100);
        ag_frame_put(&q, AG_T_DATA, 0, 6, pay, 100);
        q.data[second + 9] ^= 0x10;
        ag_dec_init(&d);
        ag_dec_feed(&d, ag_buf_head(&q), ag_buf_used(&q));
        int good = ag_dec_next(&d, &f) == AG_DEC_FRAME && f.lost == 0;
        good = good && ag_dec_next(&d, &f) == AG_DEC_FRAME && f.sid == 6 && f.lost == 1;
        ok(good && d.lost == 1, "a frame lost to noise is counted by the next one");
        ag_frame_put(&q, AG_T_HELLO, 0, 0, NULL, 0);
        q.seq = 1000;
        ag_frame_put(&q, AG_T_HELLO, 0, 0, NULL, 0);
        ag_dec_feed(&d, ag_buf_head(&q) + q.len - 2 * AG_HDR, 2 * AG_HDR);
        good = ag_dec_next(&d, &f) == AG_DEC_FRAME && f.lost == 0 && ag_dec_next(&d, &f) == AG_DEC_FRAME && f.lost == 0;
        ok(good, "hello restarts the numbering");
        ag_dec_free(&d);
        ag_buf_free(&q);
    }

    /* Random noise never yields a frame and never stalls. */
    uint8_t *noise = malloc(1 << 20);
    for (size_t i = 0; i < 1 << 20; i++)
        noise[i] = (uint8_t)s_rand();
    n = s_decode_all(noise, 1 << 20, 65536, &corrupt, &garbage, &sum);
    ok(n == 0 && corrupt == 0 && garbage == 1 << 20, "1 MiB of noise: no frame, all skipped");
    free(noise);

    /* Truncated frame: waits for more. */
    ag_dec_init(&d);
    ag_dec_feed(&d, ag_buf_head(&b), AG_HDR + 1);
    ag_dec_next(&d, &f);
    ok(ag_dec_next(&d, &f) == AG_DEC_MORE, "truncated frame waits");
    ag_dec_free(&d);

    ag_buf_free(&b);
    ag_buf_free(&g);
    ag_buf_free(&c);
    ag_buf_free(&h);
    ag_buf_free(&o);
}

static void test_tlv(void)
{
    ag_buf_t b = { 0 };
    ag_tlv_str(&b, AG_K_ARG, "echo");
    ag_tlv_u32(&b, AG_K_PTY, 24u << 16 | 80u);
    ag_tlv_u64(&b, AG_K_INSTANCE, 0x1122334455667788ull);
    ag_tlv_iter_t it = { ag_buf_head(&b), ag_buf_head(&b) + ag_buf_used(&b) };
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    int good = ag_tlv_next(&it, &tag, &v, &len) == 1 && tag == AG_K_ARG && len == 4;
    char *s = ag_tlv_as_str(v, len);
    good = good && s && !strcmp(s, "echo");
    free(s);
    good = good && ag_tlv_next(&it, &tag, &v, &len) == 1 && ag_tlv_as_u32(v, len) == (24u << 16 | 80u);
    good = good && ag_tlv_next(&it, &tag, &v, &len) == 1 && ag_tlv_as_u64(v, len) == 0x1122334455667788ull;
    good = good && ag_tlv_next(&it, &tag, &v, &len) == 0;
    ok(good, "tlv round trip");
    it.p = ag_buf_head(&b);
    it.end = ag_buf_head(&b) + 5;
    good = ag_tlv_next(&it, &tag, &v, &len) == -EBADMSG;
    ok(good, "truncated tlv is malformed");
    ok(ag_tlv_as_str((const uint8_t *)"a\0b", 3) == NULL, "string with NUL refused");
    ag_buf_free(&b);
}

static void test_credit(void)
{
    ag_rxwin_t w;
    ag_rxwin_init(&w);
    ok(ag_rxwin_take(&w, AG_WINDOW), "a whole window is accepted");
    ok(!ag_rxwin_take(&w, 1), "one byte past the window is refused");
    ok(ag_rxwin_grant(&w, AG_WINDOW) == 0, "no credit while the buffer is full");
    ok(ag_rxwin_grant(&w, 10) == AG_WINDOW, "credit once it drains");
    ok(ag_rxwin_take(&w, 100) && ag_rxwin_grant(&w, 50) == 0 && ag_rxwin_grant(&w, 0) == 100,
       "small amounts are granted when the buffer empties");
}

static int s_tree_copy(const char *src, const char *dst, bool rec, size_t step, char *err, size_t errlen)
{
    ag_tree_w_t *w = ag_tree_w_new(src, rec, err, errlen);
    if (!w)
        return -1;
    ag_tree_r_t *r = ag_tree_r_new(dst);
    uint8_t *buf = malloc(step);
    int rc = 0;
    /* Big steps take the one-pass path: the walker's payload CRC, the
     * reader fed a CRC it checked. */
    bool fused = step >= 65536;
    for (;;) {
        uint32_t crc = 0;
        long n = fused ? ag_tree_w_read_crc(w, buf, step, &crc) : ag_tree_w_read(w, buf, step);
        if (fused && n > 0 && crc != ag_crc32c(0, buf, (size_t)n)) {
            snprintf(err, errlen, "the walker's payload CRC is wrong");
            rc = -1;
            break;
        }
        if (n < 0) {
            snprintf(err, errlen, "%s", ag_tree_w_error(w));
            rc = -1;
            break;
        }
        if (n == 0) {
            rc = ag_tree_r_finish(r);
            if (rc)
                snprintf(err, errlen, "%s", ag_tree_r_error(r));
            break;
        }
        if ((fused ? ag_tree_r_feed_content(r, buf, (size_t)n, crc) : ag_tree_r_feed(r, buf, (size_t)n)) < 0) {
            snprintf(err, errlen, "%s", ag_tree_r_error(r));
            rc = -1;
            break;
        }
    }
    free(buf);
    ag_tree_w_free(&w);
    ag_tree_r_free(&r);
    return rc;
}

static void test_tree(void)
{
    char tmp[] = "/tmp/ag_tree.XXXXXX";
    if (!mkdtemp(tmp)) {
        ok(0, "mkdtemp");
        return;
    }
    char cmd[1024], err[512];
    snprintf(cmd, sizeof cmd,
             "cd %s && mkdir -p src/a/b src/empty && printf hello > src/a/f && head -c 300000 /dev/urandom > src/a/b/big"
             " && : > src/zero && chmod 0751 src/a && chmod 0600 src/a/f && chmod 0555 src/a/b && ln -s a/f src/lnk"
             " && mkdir out",
             tmp);
    ok(system(cmd) == 0, "made a tree");
    char src[600], dst[600];
    snprintf(src, sizeof src, "%s/src", tmp);
    snprintf(dst, sizeof dst, "%s/out", tmp);
    int rc = s_tree_copy(src, dst, true, 777, err, sizeof err);
    ok(rc == 0, "copy a tree into an existing dir (%s)", rc ? err : "ok");
    snprintf(cmd, sizeof cmd,
             "cd %s && diff -r src out/src && [ \"$(stat -c %%a out/src/a out/src/a/f out/src/a/b | tr '\\n' ' ')\" = '751 600 555 ' ]"
             " && [ \"$(readlink out/src/lnk)\" = a/f ] && [ -d out/src/empty ]",
             tmp);
    ok(system(cmd) == 0, "contents, modes and symlinks preserved");

    snprintf(dst, sizeof dst, "%s/renamed", tmp);
    rc = s_tree_copy(src, dst, true, 65536, err, sizeof err);
    snprintf(cmd, sizeof cmd, "cd %s && diff -r src renamed", tmp);
    ok(rc == 0 && system(cmd) == 0, "copy a tree to a new name");

    rc = s_tree_copy(src, dst, false, 65536, err, sizeof err);
    ok(rc < 0 && strstr(err, "directory"), "a directory without -r is refused: %s", err);

    snprintf(src, sizeof src, "%s/src/a/b/big", tmp);
    snprintf(dst, sizeof dst, "%s/single", tmp);
    rc = s_tree_copy(src, dst, false, 4096, err, sizeof err);
    snprintf(cmd, sizeof cmd, "cmp %s/src/a/b/big %s/single", tmp, tmp);
    ok(rc == 0 && system(cmd) == 0, "single file copy");

    snprintf(dst, sizeof dst, "%s/nodir/", tmp);
    rc = s_tree_copy(src, dst, false, 4096, err, sizeof err);
    ok(rc < 0, "copy into a missing directory fails: %s", err);

    /* Hostile streams. */
    static const char *bad_paths[] = { "../x", "/etc/x", "a/../../x", "a//b", "." };
    for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
        ag_tree_r_t *r = ag_tree_r_new(tmp);
        uint8_t h[AG_TREE_HDR + 64] = { 0 };
        size_t pl = strlen(bad_paths[i]);
        ag_put32(h, AG_TREE_MAGIC);
        h[4] = AG_TR_DIR;
        ag_put16(h + 6, (uint16_t)pl);
        memcpy(h + AG_TREE_HDR, bad_paths[i], pl);
        int fr = ag_tree_r_feed(r, h, AG_TREE_HDR + pl);
        ok(fr < 0, "refuses path %s: %s", bad_paths[i], ag_tree_r_error(r));
        ag_tree_r_free(&r);
    }
    /* A stream that puts a symlink then writes through it. */
    {
        ag_buf_t s = { 0 };
        uint8_t h[AG_TREE_HDR];
        const char *ents[][2] = { { "root", NULL }, { "root/l", "/tmp" }, { "root/l/evil", "" } };
        int types[] = { AG_TR_DIR, AG_TR_LINK, AG_TR_FILE };
        for (int i = 0; i < 3; i++) {
            memset(h, 0, sizeof h);
            ag_put32(h, AG_TREE_MAGIC);
            h[4] = (uint8_t)types[i];
            ag_put16(h + 6, (uint16_t)strlen(ents[i][0]));
            ag_put32(h + 8, 0755);
            ag_put64(h + 12, ents[i][1] ? strlen(ents[i][1]) : 0);
            ag_buf_append(&s, h, sizeof h);
            ag_buf_append(&s, ents[i][0], strlen(ents[i][0]));
            if (ents[i][1])
                ag_buf_append(&s, ents[i][1], strlen(ents[i][1]));
        }
        uint8_t crc[4] = { 0 };
        ag_buf_append(&s, crc, 4);
        snprintf(dst, sizeof dst, "%s/evil", tmp);
        ag_tree_r_t *r = ag_tree_r_new(dst);
        int fr = ag_tree_r_feed(r, ag_buf_head(&s), ag_buf_used(&s));
        ok(fr < 0 && access("/tmp/evil", F_OK) != 0, "refuses to write through a symlink: %s", ag_tree_r_error(r));
        ag_tree_r_free(&r);
        ag_buf_free(&s);
    }
    /* Corrupted content is detected. */
    {
        snprintf(src, sizeof src, "%s/src/a/f", tmp);
        ag_tree_w_t *w = ag_tree_w_new(src, false, err, sizeof err);
        uint8_t buf[4096];
        long n = ag_tree_w_read(w, buf, sizeof buf);
        buf[AG_TREE_HDR + 1 + 2] ^= 1; /* inside "hello" */
        snprintf(dst, sizeof dst, "%s/damaged", tmp);
        ag_tree_r_t *r = ag_tree_r_new(dst);
        int fr = ag_tree_r_feed(r, buf, (size_t)n);
        ok(fr < 0 && strstr(ag_tree_r_error(r), "checksum"), "damaged content detected: %s", ag_tree_r_error(r));
        ag_tree_r_free(&r);
        ag_tree_w_free(&w);
    }
    snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", tmp, tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "# cleanup of %s failed\n", tmp);
}

/* Count the frames decoded (and lost), noting where the PING came. */
static void s_count(ag_dec_t *d, int *frames, int *lost, int *ping_at)
{
    ag_frame_t f;
    while (ag_dec_next(d, &f) == AG_DEC_FRAME) {
        *lost += (int)f.lost;
        if (f.type == AG_T_PING)
            *ping_at = *frames;
        (*frames)++;
    }
}

/* Two-lane output: an urgent frame queued behind megabytes of bulk goes
 * out at the next frame boundary, the wire's seq stays gapless (the
 * decoder sees no loss), and a limit never cuts a frame. */
static void test_wire(void)
{
    int p[2];
    if (pipe(p) < 0)
        return;
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    ag_buf_t bulk = { 0 }, urg = { 0 };
    ag_wire_t w = { 0 };
    static uint8_t big[AG_CHUNK];
    for (int i = 0; i < 40; i++) /* 2.5 MiB of DATA: more than the pipe holds */
        ag_frame_put(&bulk, AG_T_DATA, AG_STDOUT, 7, big, sizeof big);
    long n = ag_wire_flush(&w, &bulk, &urg, p[1], SIZE_MAX, SIZE_MAX);
    ok(n > 0 && ag_buf_used(&bulk) > 0, "bulk fills the pipe (%ld bytes written)", n);
    uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    ag_frame_put(&urg, AG_T_PING, 0, 0, ping, 8);
    ok(ag_type_urgent(AG_T_PING) && ag_type_urgent(AG_T_PONG) && ag_type_urgent(AG_T_CREDIT) &&
           !ag_type_urgent(AG_T_DATA) && !ag_type_urgent(AG_T_EXIT),
       "PING, PONG, CREDIT are urgent; DATA and EXIT are not");
    ag_dec_t d;
    ag_dec_init(&d);
    int seen = 0, ping_at = -1, lost = 0, frames = 0;
    while (ag_buf_used(&bulk) || ag_buf_used(&urg) || w.left) {
        ag_wire_flush(&w, &bulk, &urg, p[1], SIZE_MAX, SIZE_MAX);
        ag_dec_read(&d, p[0], NULL);
        s_count(&d, &frames, &lost, &ping_at);
        if (++seen > 100000)
            break;
    }
    while (ag_dec_read(&d, p[0], NULL) > 0) /* what is left in the pipe */
        s_count(&d, &frames, &lost, &ping_at);
    ok(frames == 41 && lost == 0, "all 41 frames arrive, none counted lost (%d frames, %d lost)", frames, lost);
    ok(ping_at >= 0 && ping_at < 10, "the PING jumped the queue: frame %d of 41", ping_at);
    /* A limit: a frame starts only when its cost fits whole; a DATA frame
     * costs its header (credit bounds its payload). */
    uint64_t ctl0 = w.ctl;
    ag_frame_put(&bulk, AG_T_OPEN, 0, 3, big, 1000);
    ag_frame_put(&bulk, AG_T_OPEN, 0, 3, big, 1000);
    n = ag_wire_flush(&w, &bulk, &urg, p[1], 1500, 1500);
    ok(n == AG_HDR + 1000 && w.left == 0 && w.ctl - ctl0 == AG_HDR + 1000,
       "a limit of 1500 writes one 1024-byte OPEN, not the next (%ld)", n);
    ag_buf_consume(&bulk, ag_buf_used(&bulk));
    ag_frame_put(&bulk, AG_T_DATA, AG_STDIN, 3, big, 1000);
    ag_frame_put(&bulk, AG_T_DATA, AG_STDIN, 3, big, 1000);
    ctl0 = w.ctl;
    n = ag_wire_flush(&w, &bulk, &urg, p[1], 60, 60);
    ok(n == 2 * (AG_HDR + 1000) && w.ctl - ctl0 == 2 * AG_HDR,
       "two 1000-byte DATA frames cost their headers: a limit of 60 lets both go (%ld)", n);
    ag_dec_free(&d);
    ag_buf_free(&bulk);
    ag_buf_free(&urg);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    test_crc();
    test_frames();
    test_tlv();
    test_credit();
    test_wire();
    test_tree();
    return done();
}
