/* sw_gso: finishing offloaded frames in software for ports that cannot
 * take them.  Tap ports run with IFF_VNET_HDR and TUNSETOFFLOAD, so the
 * kernel hands switchd TCP super-frames (up to 64 KiB, one virtio_net_hdr
 * describing them) and frames whose checksum is left to the "device".
 * Between taps they cross whole; a VDE port gets them segmented to
 * gso_size with every checksum filled in. */
#ifndef SW_GSO_H
#define SW_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Fill in the checksum a NEEDS_CSUM frame leaves open (in place).
 * 0, or -EINVAL when csum_start/csum_offset point outside the frame. */
int sw_csum_complete(uint8_t *frame, size_t len, const struct virtio_net_hdr *vh);

/* Cut a TCP (IPv4 or IPv6, optionally VLAN-tagged) super-frame into
 * segments of at most vh->gso_size payload bytes each, written one after
 * the other into out (outcap bytes) and described by segs[].  Returns the
 * number of segments, -ENOBUFS when out or segs is too small, -EINVAL
 * when the frame is not a TCP frame this code understands. */
int sw_gso_segment(const uint8_t *frame, size_t len, const struct virtio_net_hdr *vh, uint8_t *out,
                   size_t outcap, struct iovec *segs, size_t maxsegs);

/* The Internet checksum of a buffer folded to 16 bits (not complemented),
 * starting from sum (host-independent byte order handling). */
uint32_t sw_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t sw_csum_fold(uint32_t sum);

#endif
