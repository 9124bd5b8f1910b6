/* sw_pcap: a classic pcap writer (magic a1b2c3d4, version 2.4, linktype 1
 * Ethernet) onto a file or FIFO that never blocks the switch.  Records are
 * appended to a bounded buffer and written with non-blocking writes; when
 * the reader is slow or absent and the buffer is full, the record is
 * dropped and counted. */
#ifndef SW_PCAP_H
#define SW_PCAP_H

#include <stddef.h>
#include <stdint.h>

#define SW_PCAP_SNAPLEN 65535u
#define SW_PCAP_DEFAULT_BUF (1u << 20)

typedef struct sw_pcap sw_pcap_t;

/* Open path for writing (a FIFO is opened read-write, so an absent reader
 * never makes the open or a write fail; a regular file is created or
 * truncated).  The global header is queued at once.  NULL with errno set. */
sw_pcap_t *sw_pcap_open(const char *path, size_t bufsize);
/* Wrap an fd the caller opened (takes it; set to non-blocking). */
sw_pcap_t *sw_pcap_fdopen(int fd, size_t bufsize);
/* Flushes what the fd takes without blocking, then closes. */
void sw_pcap_destroy(sw_pcap_t **self_p);

/* Queue one frame captured at ts_ns (CLOCK_REALTIME).  Returns 0, or
 * -ENOBUFS when it was dropped (buffer full), or -EPIPE when the reader
 * went away for good. */
int sw_pcap_write(sw_pcap_t *self, uint64_t ts_ns, const void *frame, size_t len);
/* Write out what the fd takes now.  0 when the buffer is empty, -EAGAIN
 * when bytes remain (wait for POLLOUT), -EPIPE or another -errno when the
 * output failed. */
int sw_pcap_flush(sw_pcap_t *self);

int sw_pcap_fd(const sw_pcap_t *self);
size_t sw_pcap_pending(const sw_pcap_t *self);
uint64_t sw_pcap_frames(const sw_pcap_t *self);   /* frames queued */
uint64_t sw_pcap_bytes(const sw_pcap_t *self);    /* frame bytes queued */
uint64_t sw_pcap_drops(const sw_pcap_t *self);    /* frames dropped */
int sw_pcap_error(const sw_pcap_t *self);         /* 0 or the -errno that ended output */

#endif
