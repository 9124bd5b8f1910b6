/* ag-noise: a relay between agentd and an agent that damages the line,
 * for the garbage tests.  It listens on LISTEN, and for each connection
 * connects to TARGET and relays frames both ways, doing on the way:
 *
 *   --between N   N random bytes after every frame (resync must cope)
 *   --corrupt K   flip a payload byte of every K-th DATA frame >= 4 KiB
 *   --drop K      drop every K-th DATA frame >= 4 KiB (a hole in a stream)
 *
 *   ag-noise [options] LISTEN TARGET
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ag_chan.h"

static unsigned s_between, s_corrupt, s_drop;
static unsigned long s_big;

static int s_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path)
        return -1;
    strcpy(sa->sun_path, path);
    return 0;
}

static int s_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Relay what is readable on from to to; -1 when the connection ends. */
static int s_pump(int from, int to, ag_dec_t *d, ag_buf_t *out)
{
    size_t room;
    uint8_t *p = ag_dec_space(d, &room);
    ssize_t n = read(from, p, room);
    if (n <= 0)
        return -1;
    ag_dec_commit(d, (size_t)n);
    ag_frame_t f;
    int k;
    while ((k = ag_dec_next(d, &f)) != AG_DEC_MORE) {
        if (k != AG_DEC_FRAME)
            continue;
        bool big = f.type == AG_T_DATA && f.len >= 4096;
        if (big)
            s_big++;
        if (big && s_drop && s_big % s_drop == 0)
            continue; /* the receiver sees the gap in seq */
        out->seq = f.seq;
        size_t at = out->len;
        ag_frame_put(out, f.type, f.flags, f.sid, f.payload, f.len);
        if (big && s_corrupt && s_big % s_corrupt == 0)
            out->data[at + AG_HDR + f.len / 2] ^= 0x55;
        for (unsigned i = 0; i < s_between; i++) {
            uint8_t b = (uint8_t)random();
            ag_buf_append(out, &b, 1);
        }
    }
    int r = s_write_all(to, ag_buf_head(out), ag_buf_used(out));
    out->off = out->len = 0;
    return r;
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        unsigned v = (unsigned)atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--between"))
            s_between = v;
        else if (!strcmp(argv[i], "--corrupt"))
            s_corrupt = v;
        else if (!strcmp(argv[i], "--drop"))
            s_drop = v;
        else
            break;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: ag-noise [--between N] [--corrupt K] [--drop K] LISTEN TARGET\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    srandom(42);
    struct sockaddr_un la, ta;
    if (s_addr(argv[i], &la) < 0 || s_addr(argv[i + 1], &ta) < 0)
        return 2;
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(argv[i]);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 4) < 0) {
        perror("ag-noise: listen");
        return 1;
    }
    ag_dec_t d1, d2;
    ag_buf_t o1 = { 0 }, o2 = { 0 };
    ag_dec_init(&d1);
    ag_dec_init(&d2);
    for (;;) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        int t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (t < 0 || connect(t, (struct sockaddr *)&ta, sizeof ta) < 0) {
            close(c);
            if (t >= 0)
                close(t);
            continue;
        }
        ag_dec_reset(&d1);
        ag_dec_reset(&d2);
        for (;;) {
            struct pollfd pf[2] = { { .fd = c, .events = POLLIN }, { .fd = t, .events = POLLIN } };
            if (poll(pf, 2, -1) < 0 && errno != EINTR)
                break;
            if (pf[0].revents && s_pump(c, t, &d1, &o1) < 0)
                break;
            if (pf[1].revents && s_pump(t, c, &d2, &o2) < 0)
                break;
        }
        close(c);
        close(t);
    }
}
