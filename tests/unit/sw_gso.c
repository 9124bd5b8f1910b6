/* Software GSO: a TCP super-frame (IPv4 and IPv6) cut into valid segments,
 * and a partial checksum completed. */
#include <errno.h>
#include <string.h>

#include "../../services/switchd/gso.h"
#include "tap.h"

static uint8_t frame[70000], out[80000];

static size_t mk_tcp(int v6, size_t payload, uint8_t flags)
{
    memset(frame, 0, sizeof(frame));
    memcpy(frame, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    size_t l3 = 14, l4;
    if (!v6) {
        frame[12] = 0x08; frame[13] = 0x00;
        uint8_t *ip = frame + l3;
        ip[0] = 0x45; ip[8] = 64; ip[9] = 6;
        ip[4] = 0x12; ip[5] = 0x34;
        memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
        l4 = l3 + 20;
    } else {
        frame[12] = 0x86; frame[13] = 0xdd;
        uint8_t *ip = frame + l3;
        ip[0] = 0x60; ip[6] = 6; ip[7] = 64;
        ip[8] = 0xfd; ip[23] = 1; ip[24] = 0xfd; ip[39] = 2;
        l4 = l3 + 40;
    }
    uint8_t *tcp = frame + l4;
    tcp[0] = 0x13; tcp[1] = 0x89; tcp[2] = 0xc0; tcp[3] = 0x01;
    tcp[4] = 0x10; tcp[5] = 0x20; tcp[6] = 0x30; tcp[7] = 0x40;
    tcp[12] = 8 << 4; /* 32-byte header with options */
    tcp[13] = flags;
    for (size_t i = 0; i < payload; i++)
        tcp[32 + i] = (uint8_t)(i * 7);
    return l4 + 32 + payload;
}

static int ip_ok(const uint8_t *seg) { return sw_csum_fold(sw_csum_add(0, seg + 14, 20)) == 0xffff; }

static int tcp_ok(const uint8_t *seg, size_t len, int v6)
{
    size_t l4 = v6 ? 54 : 34;
    uint32_t ps = v6 ? sw_csum_add(0, seg + 22, 32) : sw_csum_add(0, seg + 26, 8);
    ps += 6 + (uint32_t)(len - l4);
    return sw_csum_fold(sw_csum_add(ps, seg + l4, len - l4)) == 0xffff;
}

static uint32_t seq_of(const uint8_t *seg, int v6)
{
    const uint8_t *t = seg + (v6 ? 54 : 34) + 4;
    return (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
}

int main(void)
{
    struct iovec segs[64];
    for (int v6 = 0; v6 <= 1; v6++) {
        const char *fam = v6 ? "IPv6" : "IPv4";
        size_t len = mk_tcp(v6, 5000, 0x18 /* PSH ACK */);
        struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                     .gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
                                     .gso_size = 1448 };
        int n = sw_gso_segment(frame, len, &vh, out, sizeof(out), segs, 64);
        ok(n == 4, "%s: 5000 bytes at mss 1448 make 4 segments (%d)", fam, n);
        if (n != 4)
            continue;
        size_t hl = v6 ? 86 : 66, total = 0;
        int cs = 1, ips = 1, seqs = 1, data = 1;
        for (int i = 0; i < n; i++) {
            const uint8_t *s = segs[i].iov_base;
            size_t sl = segs[i].iov_len, pl = sl - hl;
            cs &= tcp_ok(s, sl, v6);
            if (!v6)
                ips &= ip_ok(s) && (size_t)(s[16] << 8 | s[17]) == sl - 14 &&
                       (s[18] << 8 | s[19]) == 0x1234 + i;
            else
                ips &= (size_t)(s[18] << 8 | s[19]) == sl - 54;
            seqs &= seq_of(s, v6) == 0x10203040u + (uint32_t)total;
            data &= memcmp(s + hl, frame + hl + total, pl) == 0;
            total += pl;
        }
        ok(total == 5000, "%s: payload bytes preserved", fam);
        ok(cs, "%s: every TCP checksum verifies", fam);
        ok(ips, "%s: IP lengths%s are right", fam, v6 ? "" : ", ids and header checksums");
        ok(seqs, "%s: sequence numbers advance by the payload", fam);
        ok(data, "%s: payload in order", fam);
        const uint8_t *first = segs[0].iov_base, *last = segs[3].iov_base;
        ok((first[(v6 ? 54 : 34) + 13] & 0x08) == 0 && (last[(v6 ? 54 : 34) + 13] & 0x08),
           "%s: PSH only on the last segment", fam);
        ok(segs[0].iov_len == hl + 1448 && segs[3].iov_len == hl + 5000 - 3 * 1448, "%s: segment sizes", fam);
        ok(sw_gso_segment(frame, len, &vh, out, 1000, segs, 64) == -ENOBUFS, "%s: small output refused", fam);
        ok(sw_gso_segment(frame, len, &vh, out, sizeof(out), segs, 2) == -ENOBUFS, "%s: too few slots refused", fam);
    }
    size_t len = mk_tcp(0, 100, 0x10);
    frame[23] = 17; /* UDP is not segmented */
    struct virtio_net_hdr vh = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448 };
    ok(sw_gso_segment(frame, len, &vh, out, sizeof(out), segs, 64) == -EINVAL, "non-TCP refused");
    ok(sw_gso_segment(frame, 20, &vh, out, sizeof(out), segs, 64) == -EINVAL, "truncated frame refused");

    /* Partial checksum: the field holds the pseudo-header sum. */
    len = mk_tcp(0, 333, 0x10);
    uint32_t ps = sw_csum_add(0, frame + 26, 8) + 6 + (uint32_t)(len - 34);
    uint16_t f = sw_csum_fold(ps);
    frame[34 + 16] = (uint8_t)(f >> 8);
    frame[34 + 17] = (uint8_t)f;
    struct virtio_net_hdr ch = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 };
    ok(sw_csum_complete(frame, len, &ch) == 0 && tcp_ok(frame, len, 0), "partial checksum completed");
    ch.csum_start = (uint16_t)len;
    ok(sw_csum_complete(frame, len, &ch) == -EINVAL, "csum_start past the end refused");
    ch.csum_start = 34;
    ch.csum_offset = (uint16_t)(len - 34 - 1);
    ok(sw_csum_complete(frame, len, &ch) == -EINVAL, "csum_offset past the end refused");
    return done();
}
