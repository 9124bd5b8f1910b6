/* pcap writer: a ring-less linear buffer compacted on flush (records are
 * small compared with the buffer, so the memmove is cheap). */
#include "pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sw_pcap {
    int fd;
    int error;
    unsigned char *buf;
    size_t cap, off, len;          /* bytes buf[off..off+len) are pending */
    uint64_t frames, bytes, drops;
};

struct pcap_ghdr {
    uint32_t magic;
    uint16_t major, minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rhdr {
    uint32_t sec, usec, caplen, len;
};

static int s_append(sw_pcap_t *self, const void *a, size_t alen, const void *b, size_t blen)
{
    if (self->off + self->len + alen + blen > self->cap) {
        memmove(self->buf, self->buf + self->off, self->len);
        self->off = 0;
        if (self->len + alen + blen > self->cap)
            return -ENOBUFS;
    }
    unsigned char *p = self->buf + self->off + self->len;
    memcpy(p, a, alen);
    if (blen)
        memcpy(p + alen, b, blen);
    self->len += alen + blen;
    return 0;
}

sw_pcap_t *sw_pcap_fdopen(int fd, size_t bufsize)
{
    sw_pcap_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->cap = bufsize ? bufsize : SW_PCAP_DEFAULT_BUF;
    if (self->cap < 2 * (SW_PCAP_SNAPLEN + 64))
        self->cap = 2 * (SW_PCAP_SNAPLEN + 64);
    self->buf = malloc(self->cap);
    if (!self->buf) {
        free(self);
        errno = ENOMEM;
        return NULL;
    }
    self->fd = fd;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    struct pcap_ghdr g = { 0xa1b2c3d4u, 2, 4, 0, 0, SW_PCAP_SNAPLEN, 1 };
    s_append(self, &g, sizeof(g), NULL, 0);
    sw_pcap_flush(self);
    return self;
}

sw_pcap_t *sw_pcap_open(const char *path, size_t bufsize)
{
    struct stat st;
    int fd;
    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    else
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return NULL;
    sw_pcap_t *self = sw_pcap_fdopen(fd, bufsize);
    if (!self) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return self;
}

void sw_pcap_destroy(sw_pcap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sw_pcap_t *self = *self_p;
    sw_pcap_flush(self);
    if (self->fd >= 0)
        close(self->fd);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

int sw_pcap_flush(sw_pcap_t *self)
{
    if (self->error)
        return self->error;
    while (self->len > 0) {
        ssize_t n = write(self->fd, self->buf + self->off, self->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return -EAGAIN;
            self->error = -errno;
            return self->error;
        }
        self->off += (size_t)n;
        self->len -= (size_t)n;
    }
    self->off = 0;
    return 0;
}

int sw_pcap_write(sw_pcap_t *self, uint64_t ts_ns, const void *frame, size_t len)
{
    if (self->error) {
        self->drops++;
        return -EPIPE;
    }
    size_t cap = len > SW_PCAP_SNAPLEN ? SW_PCAP_SNAPLEN : len;
    struct pcap_rhdr r = { (uint32_t)(ts_ns / 1000000000u),
                           (uint32_t)(ts_ns % 1000000000u / 1000u), (uint32_t)cap, (uint32_t)len };
    if (s_append(self, &r, sizeof(r), frame, cap) < 0) {
        /* Make room by writing what the reader takes, then try once more. */
        sw_pcap_flush(self);
        if (s_append(self, &r, sizeof(r), frame, cap) < 0) {
            self->drops++;
            return -ENOBUFS;
        }
    }
    self->frames++;
    self->bytes += len;
    return 0;
}

int sw_pcap_fd(const sw_pcap_t *self) { return self->fd; }
size_t sw_pcap_pending(const sw_pcap_t *self) { return self->len; }
uint64_t sw_pcap_frames(const sw_pcap_t *self) { return self->frames; }
uint64_t sw_pcap_bytes(const sw_pcap_t *self) { return self->bytes; }
uint64_t sw_pcap_drops(const sw_pcap_t *self) { return self->drops; }
int sw_pcap_error(const sw_pcap_t *self) { return self->error; }
