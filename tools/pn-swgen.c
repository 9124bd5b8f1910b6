/* pn-swgen: a VDE-protocol client for switchd's tests and benchmarks,
 * usable against any VDE switch (plugnet-switchd, vde_switch).
 *
 *   pn-swgen hostile DIR MODE       one misbehaving control client; exits 0
 *                                   when the switch refused it (closed the
 *                                   stream without answering).  MODE:
 *                                   badmagic v2 short bigdescr midclose
 *   pn-swgen cycles DIR N           N well-formed connect/disconnect cycles
 *   pn-swgen flood DIR N [hold]     connect, send N frames from random
 *                                   source MACs to an unknown unicast MAC;
 *                                   with hold, keep the port until stdin closes
 *   pn-swgen rate DIR SIZE SECONDS  two ports: one sends SIZE-byte frames
 *                                   to the other as fast as the switch takes
 *                                   them; prints "frames_per_s N" as seen
 *                                   by the receiver
 *   pn-swgen hold DIR N             hold N idle ports until stdin closes
 *   pn-swgen send DIR SIZE...       one port sends one broadcast frame of
 *                                   each SIZE (0 and runts allowed), prints
 *                                   "sent", then holds the port until stdin
 *                                   closes
 *
 * DIR is the switch directory holding "ctl" (vde_switch -s DIR).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0xfeedfaceu

typedef struct {
    int ctl, data;
} vconn_t;

static uint64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int s_ctl_connect(const char *dir)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "pn-swgen: cannot connect to %s: %s\n", sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static size_t s_request(unsigned char *buf, uint32_t magic, uint32_t version, const struct sockaddr_un *sa,
                        const char *descr)
{
    uint32_t type = 0;
    memcpy(buf, &magic, 4);
    memcpy(buf + 4, &version, 4);
    memcpy(buf + 8, &type, 4);
    memcpy(buf + 12, sa, sizeof(*sa));
    size_t n = strlen(descr);
    memcpy(buf + 122, descr, n);
    return 122 + n;
}

/* A proper client: abstract data socket, v3 request, reply, connect. */
static int s_vconnect(const char *dir, vconn_t *c, int idx)
{
    static int seq;
    c->ctl = s_ctl_connect(dir);
    if (c->ctl < 0)
        return -1;
    c->data = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un me = { .sun_family = AF_UNIX };
    snprintf(me.sun_path + 1, sizeof(me.sun_path) - 1, "pn-swgen-%d-%d-%d", (int)getpid(), idx, seq++);
    if (bind(c->data, (struct sockaddr *)&me, sizeof(me)) < 0) {
        perror("pn-swgen: bind");
        return -1;
    }
    unsigned char req[512];
    char descr[64];
    snprintf(descr, sizeof(descr), "pn-swgen port %d", idx);
    size_t n = s_request(req, MAGIC, 3, &me, descr);
    if (write(c->ctl, req, n) != (ssize_t)n) {
        perror("pn-swgen: write request");
        return -1;
    }
    struct sockaddr_un sw;
    ssize_t r = read(c->ctl, &sw, sizeof(sw));
    if (r != (ssize_t)sizeof(sw)) {
        fprintf(stderr, "pn-swgen: bad handshake reply (%zd bytes)\n", r);
        return -1;
    }
    if (connect(c->data, (struct sockaddr *)&sw, sizeof(sw)) < 0) {
        perror("pn-swgen: connect data");
        return -1;
    }
    int sz = 4 << 20;
    setsockopt(c->data, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(c->data, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    return 0;
}

static void s_vclose(vconn_t *c)
{
    close(c->data);
    close(c->ctl);
}

/* Wait for the switch to close the stream; 0 if it did without a reply. */
static int s_expect_refusal(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 10000) <= 0) {
        fprintf(stderr, "pn-swgen: the switch neither answered nor closed within 10 s\n");
        return 1;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
        fprintf(stderr, "pn-swgen: the switch answered a bad request (%zd bytes)\n", n);
        return 1;
    }
    return 0;
}

static int s_hostile(const char *dir, const char *mode)
{
    int fd = s_ctl_connect(dir);
    if (fd < 0)
        return 2;
    struct sockaddr_un me = { .sun_family = AF_UNIX };
    snprintf(me.sun_path + 1, sizeof(me.sun_path) - 1, "pn-swgen-hostile-%d", (int)getpid());
    unsigned char req[8192];
    size_t n;
    if (strcmp(mode, "badmagic") == 0) {
        n = s_request(req, 0xdeadbeefu, 3, &me, "bad magic");
    } else if (strcmp(mode, "v2") == 0) {
        n = s_request(req, MAGIC, 2, &me, "version 2");
    } else if (strcmp(mode, "short") == 0) {
        /* 60 bytes, then silence: the switch must time the stream out. */
        n = s_request(req, MAGIC, 3, &me, "") - 62;
    } else if (strcmp(mode, "bigdescr") == 0) {
        n = s_request(req, MAGIC, 3, &me, "");
        memset(req + n, 'D', 4096);
        n += 4096;
    } else if (strcmp(mode, "midclose") == 0) {
        n = s_request(req, MAGIC, 3, &me, "") - 100;
        if (write(fd, req, n) != (ssize_t)n)
            return 2;
        close(fd);
        return 0;
    } else {
        fprintf(stderr, "pn-swgen: unknown mode %s\n", mode);
        return 2;
    }
    if (write(fd, req, n) != (ssize_t)n) {
        /* A switch that closes early may make the write fail: that is a refusal. */
        close(fd);
        return 0;
    }
    int r = s_expect_refusal(fd);
    close(fd);
    return r;
}

static unsigned char s_frame[65536];

static void s_mk_frame(unsigned char *f, const unsigned char dst[6], const unsigned char src[6], size_t len)
{
    memset(f, 0, len);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental ethertype */
}

static int s_flood(const char *dir, long count, bool hold)
{
    vconn_t c;
    if (s_vconnect(dir, &c, 0) < 0)
        return 2;
    unsigned char dst[6] = { 0x02, 0xee, 0xee, 0xee, 0xee, 0xee }, src[6];
    srand((unsigned)getpid());
    for (long i = 0; i < count; i++) {
        src[0] = 0x02;
        for (int k = 1; k < 6; k++)
            src[k] = (unsigned char)rand();
        s_mk_frame(s_frame, dst, src, 60);
        while (send(c.data, s_frame, 60, 0) < 0) {
            if (errno != EAGAIN && errno != ENOBUFS) {
                perror("pn-swgen: send");
                return 2;
            }
            usleep(100);
        }
    }
    printf("flooded %ld\n", count);
    fflush(stdout);
    if (hold) {
        char b[64];
        while (read(0, b, sizeof(b)) > 0)
            ;
    }
    s_vclose(&c);
    return 0;
}

struct rate {
    vconn_t tx, rx;
    atomic_int stop;
    atomic_ullong received;
};

static void *s_rx_thread(void *arg)
{
    struct rate *r = arg;
    enum { B = 64 };
    static unsigned char bufs[B][2048];
    struct mmsghdr m[B];
    struct iovec iov[B];
    struct timeval tv = { 0, 200000 };
    setsockopt(r->rx.data, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (!atomic_load(&r->stop)) {
        for (int i = 0; i < B; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = sizeof(bufs[i]);
            memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(r->rx.data, m, B, MSG_WAITFORONE, NULL);
        if (n > 0)
            atomic_fetch_add(&r->received, (unsigned long long)n);
    }
    return NULL;
}

static int s_rate(const char *dir, size_t size, double seconds)
{
    struct rate r;
    memset(&r, 0, sizeof(r));
    if (size < 14 || size > 1514)
        size = 64;
    if (s_vconnect(dir, &r.rx, 1) < 0 || s_vconnect(dir, &r.tx, 2) < 0)
        return 2;
    unsigned char rxmac[6] = { 0x02, 0x5e, 0, 0, 0, 1 }, txmac[6] = { 0x02, 0x5e, 0, 0, 0, 2 };
    unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    /* Let the switch learn where the receiver is. */
    s_mk_frame(s_frame, bcast, rxmac, 60);
    send(r.rx.data, s_frame, 60, 0);
    s_mk_frame(s_frame, bcast, txmac, 60);
    send(r.tx.data, s_frame, 60, 0);
    usleep(100000);
    pthread_t th;
    pthread_create(&th, NULL, s_rx_thread, &r);
    enum { B = 64 };
    static unsigned char f[1514];
    s_mk_frame(f, rxmac, txmac, size);
    struct mmsghdr m[B];
    struct iovec iov = { f, size };
    memset(m, 0, sizeof(m));
    for (int i = 0; i < B; i++) {
        m[i].msg_hdr.msg_iov = &iov;
        m[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t start = s_now_ns(), warm = start + 300000000u, end = warm + (uint64_t)(seconds * 1e9);
    unsigned long long base = 0, sent = 0;
    bool counting = false;
    for (;;) {
        uint64_t now = s_now_ns();
        if (!counting && now >= warm) {
            base = atomic_load(&r.received);
            counting = true;
        }
        if (now >= end)
            break;
        int n = sendmmsg(r.tx.data, m, B, 0);
        if (n > 0)
            sent += (unsigned long long)n;
    }
    unsigned long long got = atomic_load(&r.received) - base;
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    printf("frames_per_s %.0f\n", (double)got / seconds);
    fprintf(stderr, "pn-swgen: sent %llu, received %llu in the window\n", sent, got);
    s_vclose(&r.tx);
    s_vclose(&r.rx);
    return 0;
}

static int s_hold(const char *dir, int n)
{
    vconn_t *c = calloc((size_t)n, sizeof(*c));
    unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, mac[6] = { 0x02, 0x77, 0, 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        if (s_vconnect(dir, &c[i], i) < 0)
            return 2;
        mac[4] = (unsigned char)(i >> 8);
        mac[5] = (unsigned char)i;
        s_mk_frame(s_frame, bcast, mac, 60);
        send(c[i].data, s_frame, 60, 0);
    }
    printf("holding %d ports\n", n);
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof(b)) > 0)
        ;
    for (int i = 0; i < n; i++)
        s_vclose(&c[i]);
    free(c);
    return 0;
}

static int s_send(const char *dir, int n, char **sizes)
{
    vconn_t c;
    if (s_vconnect(dir, &c, 0) < 0)
        return 2;
    unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, src[6] = { 0x02, 0x55, 0, 0, 0, 1 };
    for (int i = 0; i < n; i++) {
        size_t len = (size_t)atol(sizes[i]);
        if (len > sizeof(s_frame))
            len = sizeof(s_frame);
        s_mk_frame(s_frame, bcast, src, len < 14 ? 14 : len);
        if (send(c.data, s_frame, len, 0) < 0)
            fprintf(stderr, "pn-swgen: send %zu bytes: %s\n", len, strerror(errno));
    }
    printf("sent\n");
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof(b)) > 0)
        ;
    s_vclose(&c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "hostile") == 0)
        return s_hostile(argv[2], argv[3]);
    if (argc >= 4 && strcmp(argv[1], "cycles") == 0) {
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++) {
            vconn_t c;
            if (s_vconnect(argv[2], &c, (int)i) < 0) {
                fprintf(stderr, "pn-swgen: cycle %ld failed\n", i);
                return 1;
            }
            s_vclose(&c);
        }
        return 0;
    }
    if (argc >= 5 && strcmp(argv[1], "rate") == 0)
        return s_rate(argv[2], (size_t)atol(argv[3]), atof(argv[4]));
    if (argc >= 4 && strcmp(argv[1], "send") == 0)
        return s_send(argv[2], argc - 3, argv + 3);
    if (argc >= 4 && strcmp(argv[1], "hold") == 0)
        return s_hold(argv[2], atoi(argv[3]));
    if (argc >= 4 && strcmp(argv[1], "flood") == 0)
        return s_flood(argv[2], atol(argv[3]), argc >= 5 && strcmp(argv[4], "hold") == 0);
    fprintf(stderr, "usage: see the comment at the top of tools/pn-swgen.c\n");
    return 2;
}
