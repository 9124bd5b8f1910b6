/* pn-ctl-abuse SVC: throw garbage at a daemon's ctl socket and check it
 * keeps answering.  Prints TAP-style lines; exit 0 when every check held. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <zmq.h>

#include "pn_svc.h"

static int s_fail;
static int s_n;

static void s_ok(int cond, const char *what)
{
    printf("%sok %d - %s\n", cond ? "" : "not ", ++s_n, what);
    if (!cond)
        s_fail++;
}

static void *s_dealer(const char *svc)
{
    char ep[4200];
    pn_endpoint(svc, "ctl", ep, sizeof(ep));
    void *d = zmq_socket(pn_zctx(), ZMQ_DEALER);
    int linger = 0, to = 5000;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(d, ZMQ_RCVTIMEO, &to, sizeof(to));
    zmq_connect(d, ep);
    return d;
}

/* Receive one reply; return its error code, PN_OK, or -1 for none. */
static int s_reply(void *d, char *err, size_t errlen)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, d, 0) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    pn_msg_t rep;
    int r = pn_msg_decode_reply(zmq_msg_data(&m), zmq_msg_size(&m), NULL, NULL, &rep, err, errlen);
    zmq_msg_close(&m);
    if (r != PN_OK) {
        pn_msg_clear(&rep);
        return -2;
    }
    r = rep.ok ? PN_OK : rep.err;
    if (!rep.ok)
        snprintf(err, errlen, "%s", rep.errmsg);
    pn_msg_clear(&rep);
    return r;
}

static int s_ping(const char *svc)
{
    char err[256];
    pn_val_t *d = NULL;
    int r = pn_call(svc, "ping", NULL, 5000, &d, err, sizeof(err));
    pn_val_free(d);
    return r == PN_OK;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pn-ctl-abuse SVC\n");
        return 2;
    }
    const char *svc = argv[1];
    srand((unsigned)getpid());
    char ep[4200];
    pn_endpoint(svc, "ctl", ep, sizeof(ep));

    /* 1. Raw bytes on the socket, no ZMTP handshake at all. */
    for (int i = 0; i < 50; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ep + 6);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            char junk[4096];
            for (size_t j = 0; j < sizeof(junk); j++)
                junk[j] = (char)rand();
            if (write(fd, junk, (size_t)(rand() % (int)sizeof(junk)) + 1) < 0) {
                /* the daemon may already have hung up: fine */
            }
        }
        close(fd);
    }
    s_ok(s_ping(svc), "answers ping after 50 raw-garbage connections");

    /* 2. Random payloads through a proper zmq peer: each gets an error reply. */
    void *d = s_dealer(svc);
    int replied = 0, errors = 0;
    for (int i = 0; i < 200; i++) {
        char junk[2048];
        size_t len = (size_t)(rand() % (int)sizeof(junk));
        for (size_t j = 0; j < len; j++)
            junk[j] = (char)rand();
        if (i % 4 == 0 && len > 0)
            junk[0] = (char)(0x80 | (rand() % 16)); /* start like a map */
        zmq_send(d, junk, len, 0);
        char err[512];
        int r = s_reply(d, err, sizeof(err));
        if (r >= 0)
            replied++;
        if (r > 0)
            errors++;
    }
    s_ok(replied == 200 && errors == 200, "200 random payloads each get an error reply");

    /* 3. Multi-frame garbage is dropped without a reply, and the peer is still served. */
    zmq_send(d, "a", 1, ZMQ_SNDMORE);
    zmq_send(d, "b", 1, ZMQ_SNDMORE);
    zmq_send(d, "c", 1, 0);
    char *buf;
    size_t len;
    pn_msg_request(99, "ping", NULL, &buf, &len);
    zmq_send(d, buf, len, 0);
    free(buf);
    char err[512];
    s_ok(s_reply(d, err, sizeof(err)) == PN_OK, "multi-frame garbage is dropped; the next ping is answered");

    /* 4. A 2 MiB request: too_large. */
    size_t big = 2u << 20;
    char *b = calloc(1, big);
    zmq_send(d, b, big, 0);
    int r = s_reply(d, err, sizeof(err));
    s_ok(r == PN_ETOOLARGE, "a 2 MiB request is refused as too_large");

    /* 5. Wrong types for a known op. */
    pn_val_t *args = pn_map();
    pn_map_set_uint(args, "x", 1);
    pn_msg_request(100, "no.such.op", args, &buf, &len);
    zmq_send(d, buf, len, 0);
    free(buf);
    r = s_reply(d, err, sizeof(err));
    s_ok(r == PN_EUNSUP && strstr(err, "no.such.op"), "an unknown op is unsupported, naming it");
    zmq_close(d);

    /* 6. 8 MiB: beyond zmq's own cap, the peer is dropped; others go on. */
    d = s_dealer(svc);
    b = realloc(b, 8u << 20);
    memset(b, 0x42, 8u << 20);
    zmq_send(d, b, 8u << 20, 0);
    free(b);
    int to = 300;
    zmq_setsockopt(d, ZMQ_RCVTIMEO, &to, sizeof(to));
    s_ok(s_reply(d, err, sizeof(err)) == -1, "an 8 MiB frame gets no reply (peer dropped)");
    zmq_close(d);
    s_ok(s_ping(svc), "answers ping at the end");
    printf("1..%d\n", s_n);
    return s_fail ? 1 : 0;
}
