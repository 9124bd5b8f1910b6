/* Software GSO and checksum completion; see gso.h. */
#include "gso.h"

#include <errno.h>
#include <string.h>

uint32_t sw_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t s = sum;
    /* Sum 16-bit big-endian words; an odd tail byte is the high half. */
    while (len >= 2) {
        s += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        s += (uint32_t)(p[0] << 8);
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t sw_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void s_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t s_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t s_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void s_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int sw_csum_complete(uint8_t *frame, size_t len, const struct virtio_net_hdr *vh)
{
    size_t start = vh->csum_start, off = vh->csum_offset;
    if (start >= len || off + 2 > len - start)
        return -EINVAL;
    /* The field holds the pseudo-header sum: summing the whole region
     * with it in place gives the checksum. */
    uint16_t c = (uint16_t)~sw_csum_fold(sw_csum_add(0, frame + start, len - start));
    if (c == 0)
        c = 0xffff; /* same value for TCP, and UDP reserves 0 for "none" */
    s_put16(frame + start + off, c);
    return 0;
}

int sw_gso_segment(const uint8_t *frame, size_t len, const struct virtio_net_hdr *vh, uint8_t *out,
                   size_t outcap, struct iovec *segs, size_t maxsegs)
{
    size_t l3 = 14;
    if (len < 14)
        return -EINVAL;
    uint16_t et = s_get16(frame + 12);
    if (et == 0x8100 || et == 0x88a8) {
        if (len < 18)
            return -EINVAL;
        et = s_get16(frame + 16);
        l3 = 18;
    }
    int v4;
    size_t l4;
    if (et == 0x0800) {
        if (len < l3 + 20 || (frame[l3] >> 4) != 4)
            return -EINVAL;
        size_t ihl = (size_t)(frame[l3] & 0xf) * 4;
        if (ihl < 20 || len < l3 + ihl || frame[l3 + 9] != 6)
            return -EINVAL;
        l4 = l3 + ihl;
        v4 = 1;
    } else if (et == 0x86dd) {
        /* Extension headers are not expected from a TCP stack's GSO. */
        if (len < l3 + 40 || (frame[l3] >> 4) != 6 || frame[l3 + 6] != 6)
            return -EINVAL;
        l4 = l3 + 40;
        v4 = 0;
    } else {
        return -EINVAL;
    }
    if (len < l4 + 20)
        return -EINVAL;
    size_t thl = (size_t)(frame[l4 + 12] >> 4) * 4;
    if (thl < 20 || len < l4 + thl)
        return -EINVAL;
    size_t hl = l4 + thl, payload = len - hl, mss = vh->gso_size;
    if (mss == 0)
        return -EINVAL;
    size_t nseg = payload ? (payload + mss - 1) / mss : 1;
    if (nseg > maxsegs)
        return -ENOBUFS;
    if (nseg * hl + payload > outcap)
        return -ENOBUFS;

    uint32_t seq = s_get32(frame + l4 + 4);
    uint16_t id = v4 ? s_get16(frame + l3 + 4) : 0;
    uint8_t flags = frame[l4 + 13];
    uint8_t *o = out;
    for (size_t i = 0; i < nseg; i++) {
        size_t off = i * mss, n = payload - off < mss ? payload - off : mss;
        memcpy(o, frame, hl);
        memcpy(o + hl, frame + hl + off, n);
        uint8_t *ip = o + l3, *tcp = o + l4;
        size_t l4len = thl + n;
        s_put32(tcp + 4, seq + (uint32_t)off);
        uint8_t f = flags;
        if (i + 1 < nseg)
            f &= (uint8_t)~(0x01 | 0x08); /* FIN and PSH only on the last */
        if (i > 0)
            f &= (uint8_t)~0x80;          /* CWR only on the first */
        tcp[13] = f;
        tcp[16] = tcp[17] = 0;
        uint32_t ps;
        if (v4) {
            s_put16(ip + 2, (uint16_t)(l4 - l3 + l4len));
            s_put16(ip + 4, (uint16_t)(id + i));
            ip[10] = ip[11] = 0;
            s_put16(ip + 10, (uint16_t)~sw_csum_fold(sw_csum_add(0, ip, l4 - l3)));
            ps = sw_csum_add(0, ip + 12, 8);
        } else {
            s_put16(ip + 4, (uint16_t)l4len);
            ps = sw_csum_add(0, ip + 8, 32);
        }
        ps += 6 + (uint32_t)l4len;
        s_put16(tcp + 16, (uint16_t)~sw_csum_fold(sw_csum_add(ps, tcp, l4len)));
        segs[i].iov_base = o;
        segs[i].iov_len = hl + n;
        o += hl + n;
    }
    return (int)nseg;
}
