/* ag_chan: frames, decoder with resync, TLV, credits.  See ag_chan.h. */
#include "ag_chan.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *ag_type_name(int type)
{
    switch (type) {
#define X(e, v, s) case v: return s;
        AG_TYPES(X)
#undef X
    }
    return "unknown";
}

/* ---------------------------------------------------------------- CRC32C */

static uint32_t s_crc_tab[8][256];
static int s_crc_ready;
static int s_crc_hw = -1;

static void s_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        s_crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            s_crc_tab[t][i] = (s_crc_tab[t - 1][i] >> 8) ^ s_crc_tab[0][s_crc_tab[t - 1][i] & 0xff];
    s_crc_ready = 1;
}

static uint32_t s_crc_sw(uint32_t c, const uint8_t *p, size_t n)
{
    if (!s_crc_ready)
        s_crc_init();
    while (n >= 8) {
        uint32_t lo = c ^ ag_get32(p), hi = ag_get32(p + 4);
        c = s_crc_tab[7][lo & 0xff] ^ s_crc_tab[6][(lo >> 8) & 0xff] ^ s_crc_tab[5][(lo >> 16) & 0xff] ^
            s_crc_tab[4][lo >> 24] ^ s_crc_tab[3][hi & 0xff] ^ s_crc_tab[2][(hi >> 8) & 0xff] ^
            s_crc_tab[1][(hi >> 16) & 0xff] ^ s_crc_tab[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = s_crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
/* The crc32 instruction has a latency of 3 cycles but a throughput of one
 * per cycle: one dependent chain runs at a third of its speed.  So long
 * buffers are cut into three lanes of S_LANE bytes, each lane its own
 * chain, and the three results are joined.  CRC registers are linear:
 * crc(r, A|B) = shift(crc(r, A), |B|) ^ crc(0, B), where shift(r, n) runs
 * r through n zero bytes.  shift is linear in r, so it is the XOR of the
 * images of r's set bits; those images (for n = S_LANE and 2 * S_LANE) are
 * computed once. */
#define S_LANE 4096u

static uint32_t s_shift1[32], s_shift2[32];
static int s_shift_ready;

__attribute__((target("sse4.2"))) static uint32_t s_zeros(uint32_t c, size_t n)
{
    uint64_t c64 = c;
    for (size_t i = 0; i < n / 8; i++)
        c64 = __builtin_ia32_crc32di(c64, 0);
    return (uint32_t)c64;
}

__attribute__((target("sse4.2"))) static void s_shift_init(void)
{
    for (int i = 0; i < 32; i++) {
        s_shift1[i] = s_zeros(1u << i, S_LANE);
        s_shift2[i] = s_zeros(1u << i, 2 * S_LANE);
    }
    s_shift_ready = 1;
}

static inline uint32_t s_shift(const uint32_t *img, uint32_t r)
{
    uint32_t x = 0;
    while (r) {
        x ^= img[__builtin_ctz(r)];
        r &= r - 1;
    }
    return x;
}

__attribute__((target("sse4.2"))) static uint32_t s_crc_hw_run(uint32_t c, const uint8_t *p, size_t n)
{
    if (n >= 3 * S_LANE) {
        if (!s_shift_ready)
            s_shift_init();
        while (n >= 3 * S_LANE) {
            uint64_t a = c, b = 0, d = 0;
            for (size_t i = 0; i < S_LANE; i += 8) {
                uint64_t va, vb, vd;
                memcpy(&va, p + i, 8);
                memcpy(&vb, p + S_LANE + i, 8);
                memcpy(&vd, p + 2 * S_LANE + i, 8);
                a = __builtin_ia32_crc32di(a, va);
                b = __builtin_ia32_crc32di(b, vb);
                d = __builtin_ia32_crc32di(d, vd);
            }
            c = s_shift(s_shift2, (uint32_t)a) ^ s_shift(s_shift1, (uint32_t)b) ^ (uint32_t)d;
            p += 3 * S_LANE;
            n -= 3 * S_LANE;
        }
    }
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    while (n--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
#endif

uint32_t ag_crc32c(uint32_t crc, const void *buf, size_t n)
{
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (s_crc_hw < 0) {
        __builtin_cpu_init();
        s_crc_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    }
    if (s_crc_hw)
        return ~s_crc_hw_run(c, buf, n);
#endif
    return ~s_crc_sw(c, buf, n);
}

/* CRC registers form a vector space over GF(2): the CRC of A|B follows
 * from the CRCs of A and B and the length of B, as A's CRC multiplied by
 * x^(8|B|) modulo the polynomial, plus B's.  Polynomials are reflected:
 * bit 31 is x^0. */
static uint32_t s_gf_mul(uint32_t a, uint32_t b)
{
    uint32_t p = 0;
    for (int k = 0; k < 32; k++) {
        if (a & (0x80000000u >> k))
            p ^= b;
        b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
    }
    return p;
}

uint32_t ag_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
    static uint32_t pw[64]; /* x^(2^k) mod P */
    if (!pw[0]) {
        uint32_t x = 0x40000000u;
        for (int k = 0; k < 64; k++) {
            pw[k] = x;
            x = s_gf_mul(x, x);
        }
    }
    uint32_t m = 0x80000000u; /* x^0 */
    for (int k = 3; len_b; k++, len_b >>= 1)
        if (len_b & 1)
            m = s_gf_mul(m, pw[k]);
    return s_gf_mul(m, crc_a) ^ crc_b;
}

/* -------------------------------------------------------------- buffers */

int ag_buf_reserve(ag_buf_t *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, ag_buf_used(b));
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= n)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return -ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int ag_buf_append(ag_buf_t *b, const void *p, size_t n)
{
    int r = ag_buf_reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void ag_buf_consume(ag_buf_t *b, size_t n)
{
    assert(n <= ag_buf_used(b));
    b->off += n;
    if (b->off == b->len) {
        b->off = b->len = 0;
        /* Give back memory a burst grew. */
        if (b->cap > 1024 * 1024) {
            free(b->data);
            b->data = NULL;
            b->cap = 0;
        }
    }
}

void ag_buf_free(ag_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void ag_sock_buffers(int fd, int bytes)
{
    /* FORCE passes the system cap when we may (root); else the plain
     * request is clamped by the kernel. */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

/* write(2) retried on EINTR: bytes written, 0 when the fd is full, or -errno. */
static long s_write(int fd, const void *p, size_t n)
{
    for (;;) {
        ssize_t w = write(fd, p, n);
        if (w >= 0)
            return (long)w;
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
}

long ag_buf_flush(ag_buf_t *b, int fd)
{
    long total = 0;
    while (ag_buf_used(b)) {
        long w = s_write(fd, ag_buf_head(b), ag_buf_used(b));
        if (w < 0)
            return w;
        if (w == 0)
            break;
        ag_buf_consume(b, (size_t)w);
        total += w;
    }
    return total;
}

/* ---------------------------------------------------------------- frames */

static void s_header(uint8_t *h, uint8_t type, uint8_t flags, uint32_t sid, uint32_t len, uint32_t seq,
                     uint32_t pcrc)
{
    h[0] = AG_MAGIC0;
    h[1] = AG_MAGIC1;
    h[2] = type;
    h[3] = flags;
    ag_put32(h + 4, sid);
    ag_put32(h + 8, len);
    ag_put32(h + 12, seq);
    ag_put32(h + 16, pcrc);
    ag_put32(h + 20, ag_crc32c(0, h, 20));
}

int ag_frame_put(ag_buf_t *out, uint8_t type, uint8_t flags, uint32_t sid, const void *payload, size_t len)
{
    return ag_frame_put_crc(out, type, flags, sid, payload, len, ag_crc32c(0, payload, len));
}

int ag_frame_put_crc(ag_buf_t *out, uint8_t type, uint8_t flags, uint32_t sid, const void *payload, size_t len,
                     uint32_t pcrc)
{
    assert(len <= AG_MAX_PAYLOAD);
    int r = ag_buf_reserve(out, AG_HDR + len);
    if (r < 0)
        return r;
    s_header(out->data + out->len, type, flags, sid, (uint32_t)len, out->seq++, pcrc);
    if (len)
        memcpy(out->data + out->len + AG_HDR, payload, len);
    out->len += AG_HDR + len;
    return 0;
}

int ag_frame_begin(ag_buf_t *out, size_t *mark)
{
    int r = ag_buf_reserve(out, AG_HDR + AG_MAX_PAYLOAD);
    if (r < 0)
        return r;
    *mark = out->len;
    out->len += AG_HDR;
    return 0;
}

void ag_frame_finish(ag_buf_t *out, size_t mark, uint8_t type, uint8_t flags, uint32_t sid)
{
    size_t len = out->len - mark - AG_HDR;
    ag_frame_finish_crc(out, mark, type, flags, sid, ag_crc32c(0, out->data + mark + AG_HDR, len));
}

void ag_frame_finish_crc(ag_buf_t *out, size_t mark, uint8_t type, uint8_t flags, uint32_t sid, uint32_t pcrc)
{
    size_t len = out->len - mark - AG_HDR;
    assert(len <= AG_MAX_PAYLOAD);
    s_header(out->data + mark, type, flags, sid, (uint32_t)len, out->seq++, pcrc);
}

/* ------------------------------------------------------- two-lane output */

bool ag_type_urgent(int type)
{
    return type == AG_T_HELLO || type == AG_T_PING || type == AG_T_PONG || type == AG_T_CREDIT;
}

void ag_wire_reset(ag_wire_t *w)
{
    w->left = 0;
    w->in_urg = false;
}

/* Stamp the frames of q that start in its first n bytes past `skip` (the
 * rest of a frame already started), from seq on; returns the next seq. */
static uint32_t s_stamp(uint8_t *p, size_t used, size_t skip, size_t n, uint32_t seq)
{
    for (size_t at = skip; at < n && at + AG_HDR <= used; at += AG_HDR + ag_get32(p + at + 8)) {
        ag_put32(p + at + 12, seq++);
        ag_put32(p + at + 20, ag_crc32c(0, p + at, 20));
    }
    return seq;
}

/* What a frame costs against the limits of ag_wire_flush: all of it but a
 * DATA payload (data is bounded by credit already). */
static size_t s_cost(const uint8_t *h)
{
    return h[2] == AG_T_DATA ? AG_HDR : AG_HDR + ag_get32(h + 8);
}

/* How many bytes of q to write now: the rest of the frame begun (skip),
 * then whole frames while their cost fits in room (SIZE_MAX: no limit)
 * and they fit in one bounded write; just the rest when `only_rest`. */
static size_t s_span(const ag_buf_t *q, size_t skip, size_t room, bool only_rest)
{
    const uint8_t *p = ag_buf_head(q);
    size_t used = ag_buf_used(q), at = skip, cost = 0;
    if (only_rest)
        return skip;
    while (at + AG_HDR <= used) {
        size_t flen = AG_HDR + ag_get32(p + at + 8);
        cost += s_cost(p + at);
        if (room != SIZE_MAX && cost > room)
            break;
        if (at > 0 && at + flen > 256u * 1024u)
            break;
        at += flen;
    }
    return at;
}

long ag_wire_flush(ag_wire_t *w, ag_buf_t *bulk, ag_buf_t *urg, int fd, size_t max_bulk, size_t max_urg)
{
    long total = 0;
    uint64_t ctl0 = w->ctl;
    for (;;) {
        ag_buf_t *q = NULL;
        size_t n = 0, spent = (size_t)(w->ctl - ctl0);
        size_t rb = max_bulk == SIZE_MAX ? SIZE_MAX : max_bulk > spent ? max_bulk - spent : 0;
        size_t ru = max_urg == SIZE_MAX ? SIZE_MAX : max_urg > spent ? max_urg - spent : 0;
        if (w->left) {
            /* Finish the frame begun (a limit never cuts one); past its end
             * only when no urgent frame waits. */
            q = w->in_urg ? urg : bulk;
            n = s_span(q, w->left, q == urg ? ru : rb, q == bulk && ag_buf_used(urg));
        } else {
            if (ag_buf_used(urg) && (n = s_span(urg, 0, ru, false)) > 0)
                q = urg;
            else if (ag_buf_used(bulk) && (n = s_span(bulk, 0, rb, false)) > 0)
                q = bulk;
        }
        if (!q || !n)
            break;
        uint8_t *p = q->data + q->off;
        size_t used = ag_buf_used(q);
        s_stamp(p, used, w->left, n, w->seq);
        long r = s_write(fd, p, n);
        if (r < 0)
            return r;
        if (r == 0)
            break; /* the fd is full */
        /* Which frames did those bytes start, and where are we now? */
        size_t at = 0, k = (size_t)r;
        if (w->left) {
            at = w->left < k ? w->left : k;
            w->left -= at;
        }
        while (at < k) {
            size_t flen = AG_HDR + ag_get32(p + at + 8);
            size_t t = flen < k - at ? flen : k - at;
            w->seq++;
            w->ctl += s_cost(p + at);
            w->left = flen - t;
            at += t;
        }
        w->in_urg = q == urg;
        ag_buf_consume(q, k);
        w->sent += k;
        total += r;
        if (k < n)
            break;
    }
    return total;
}

/* --------------------------------------------------------------- decoder */

#define DEC_CAP (2 * (AG_HDR + AG_MAX_PAYLOAD))

int ag_dec_init(ag_dec_t *d)
{
    memset(d, 0, sizeof *d);
    d->buf = malloc(DEC_CAP);
    if (!d->buf)
        return -ENOMEM;
    d->cap = DEC_CAP;
    return 0;
}

void ag_dec_free(ag_dec_t *d)
{
    free(d->buf);
    memset(d, 0, sizeof *d);
}

void ag_dec_reset(ag_dec_t *d)
{
    d->off = d->len = 0;
    d->synced = false;
}

static void s_compact(ag_dec_t *d)
{
    if (d->off == 0)
        return;
    memmove(d->buf, d->buf + d->off, d->len - d->off);
    d->len -= d->off;
    d->off = 0;
}

/* room is 0 only while whole frames wait in the buffer: drain them first. */
uint8_t *ag_dec_space(ag_dec_t *d, size_t *room)
{
    if (d->cap - d->len < AG_HDR + AG_MAX_PAYLOAD / 2)
        s_compact(d);
    *room = d->cap - d->len;
    return d->buf + d->len;
}

void ag_dec_commit(ag_dec_t *d, size_t n)
{
    assert(n <= d->cap - d->len);
    d->len += n;
}

long ag_dec_read(ag_dec_t *d, int fd, size_t *room)
{
    size_t space;
    uint8_t *p = ag_dec_space(d, &space);
    if (room)
        *room = space;
    for (;;) {
        ssize_t r = read(fd, p, space);
        if (r >= 0) {
            ag_dec_commit(d, (size_t)r);
            return (long)r;
        }
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

size_t ag_dec_feed(ag_dec_t *d, const void *p, size_t n)
{
    size_t room;
    uint8_t *dst = ag_dec_space(d, &room);
    if (n > room)
        n = room;
    memcpy(dst, p, n);
    ag_dec_commit(d, n);
    return n;
}

int ag_dec_next(ag_dec_t *d, ag_frame_t *f)
{
    for (;;) {
        size_t avail = d->len - d->off;
        const uint8_t *p = d->buf + d->off;
        if (avail == 0) {
            d->off = d->len = 0;
            return AG_DEC_MORE;
        }
        /* Hunt for the magic. */
        if (p[0] != AG_MAGIC0 || (avail >= 2 && p[1] != AG_MAGIC1)) {
            const uint8_t *m = memchr(p + 1, AG_MAGIC0, avail - 1);
            size_t skip = m ? (size_t)(m - p) : avail;
            d->garbage += skip;
            d->off += skip;
            continue;
        }
        if (avail < AG_HDR)
            return AG_DEC_MORE;
        uint32_t len = ag_get32(p + 8);
        if (ag_get32(p + 20) != ag_crc32c(0, p, 20) || len > AG_MAX_PAYLOAD) {
            d->bad_header++;
            d->garbage++;
            d->off++;
            continue;
        }
        if (avail < AG_HDR + (size_t)len)
            return AG_DEC_MORE; /* the buffer always has room for one whole frame */
        f->type = p[2];
        f->flags = p[3];
        f->sid = ag_get32(p + 4);
        f->len = len;
        f->payload = p + AG_HDR;
        f->seq = ag_get32(p + 12);
        f->lost = d->synced && f->type != AG_T_HELLO ? f->seq - d->expect : 0;
        d->lost += f->lost;
        d->expect = f->seq + 1;
        d->synced = true;
        d->off += AG_HDR + len;
        f->pcrc = ag_get32(p + 16);
        f->checked = !d->trusted;
        if (f->checked && f->pcrc != ag_crc32c(0, p + AG_HDR, len)) {
            d->bad_payload++;
            f->payload = NULL;
            f->len = 0;
            return AG_DEC_CORRUPT;
        }
        d->frames++;
        return AG_DEC_FRAME;
    }
}

/* ------------------------------------------------------------------ TLV */

int ag_tlv_put(ag_buf_t *b, uint8_t tag, const void *v, size_t len)
{
    if (len > 0xffff)
        return -E2BIG;
    uint8_t h[3] = { tag, (uint8_t)len, (uint8_t)(len >> 8) };
    int r = ag_buf_append(b, h, 3);
    return r < 0 ? r : ag_buf_append(b, v, len);
}

int ag_tlv_str(ag_buf_t *b, uint8_t tag, const char *s)
{
    return ag_tlv_put(b, tag, s, strlen(s));
}

int ag_tlv_u32(ag_buf_t *b, uint8_t tag, uint32_t v)
{
    uint8_t x[4];
    ag_put32(x, v);
    return ag_tlv_put(b, tag, x, 4);
}

int ag_tlv_u64(ag_buf_t *b, uint8_t tag, uint64_t v)
{
    uint8_t x[8];
    ag_put64(x, v);
    return ag_tlv_put(b, tag, x, 8);
}

int ag_tlv_next(ag_tlv_iter_t *it, uint8_t *tag, const uint8_t **v, size_t *len)
{
    if (it->p >= it->end)
        return 0;
    if (it->end - it->p < 3)
        return -EBADMSG;
    size_t l = ag_get16(it->p + 1);
    if ((size_t)(it->end - it->p - 3) < l)
        return -EBADMSG;
    *tag = it->p[0];
    *v = it->p + 3;
    *len = l;
    it->p += 3 + l;
    return 1;
}

uint32_t ag_tlv_as_u32(const uint8_t *v, size_t len)
{
    return len == 4 ? ag_get32(v) : 0;
}

uint64_t ag_tlv_as_u64(const uint8_t *v, size_t len)
{
    return len == 8 ? ag_get64(v) : len == 4 ? ag_get32(v) : 0;
}

char *ag_tlv_as_str(const uint8_t *v, size_t len)
{
    if (memchr(v, 0, len))
        return NULL;
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, v, len);
    s[len] = 0;
    return s;
}

/* --------------------------------------------------------------- credits */

bool ag_rxwin_take(ag_rxwin_t *w, size_t n)
{
    if (n > w->allowed)
        return false;
    w->allowed -= n;
    w->owed += n;
    return true;
}

uint32_t ag_rxwin_grant(ag_rxwin_t *w, size_t buffered)
{
    if (!w->owed || buffered >= w->window)
        return 0;
    if (w->owed < w->window / 4 && buffered > 0)
        return 0;
    uint32_t g = (uint32_t)w->owed;
    w->owed = 0;
    w->allowed += g;
    return g;
}
