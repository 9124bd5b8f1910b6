/* pn_client: one request, one reply, within a deadline. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <zmq.h>

#include "pn_svc.h"

struct pn_client {
    char svc[32];
    void *sock;
    uint64_t next_id;
    bool seen; /* the daemon answered once: skip the presence check */
};

pn_knock_t pn_svc_knock(const char *svc, bool nowait)
{
    char ep[4200];
    if (pn_endpoint(svc, "ctl", ep, sizeof(ep)) < 0)
        return PN_KNOCK_ABSENT;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ep + 6);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nowait ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return PN_KNOCK_UNKNOWN;
    int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    int e = errno;
    close(fd);
    if (r == 0 || (nowait && (e == EAGAIN || e == EINPROGRESS)))
        return PN_KNOCK_THERE;
    return PN_KNOCK_ABSENT;
}

/* A daemon is reachable when its ipc socket accepts a plain connect();
 * checking first turns "no daemon" into an immediate error rather than a
 * wait for the deadline (zmq connects lazily and would just queue). */
bool pn_svc_socket_present(const char *svc)
{
    return pn_svc_knock(svc, false) == PN_KNOCK_THERE;
}

pn_client_t *pn_client_new(const char *svc)
{
    pn_client_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    snprintf(c->svc, sizeof(c->svc), "%s", svc);
    c->next_id = (uint64_t)getpid() << 20;
    c->sock = zmq_socket(pn_zctx(), ZMQ_DEALER);
    char ep[4200];
    int linger = 0;
    if (!c->sock || pn_endpoint(svc, "ctl", ep, sizeof(ep)) < 0) {
        pn_client_destroy(&c);
        return NULL;
    }
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_connect(c->sock, ep) < 0) {
        pn_client_destroy(&c);
        return NULL;
    }
    return c;
}

void pn_client_destroy(pn_client_t **cp)
{
    if (!cp || !*cp)
        return;
    if ((*cp)->sock)
        zmq_close((*cp)->sock);
    free(*cp);
    *cp = NULL;
}

int pn_client_call(pn_client_t *c, const char *op, pn_val_t *args, int timeout_ms, pn_val_t **data,
                   char *errmsg, size_t errlen)
{
    if (data)
        *data = NULL;
    if (errmsg && errlen)
        errmsg[0] = 0;
    if (!c->seen && !pn_svc_socket_present(c->svc)) {
        pn_val_free(args);
        snprintf(errmsg, errlen, "plugnet-%s is not running (no socket in %s)", c->svc, pn_run_dir());
        return -ECONNREFUSED;
    }
    uint64_t id = ++c->next_id;
    char *buf;
    size_t len;
    if (pn_msg_request(id, op, args, &buf, &len) < 0) {
        snprintf(errmsg, errlen, "out of memory");
        return -ENOMEM;
    }
    int r = zmq_send(c->sock, buf, len, 0);
    free(buf);
    if (r < 0) {
        r = -errno;
        snprintf(errmsg, errlen, "cannot send to plugnet-%s: %s", c->svc, zmq_strerror(errno));
        return r;
    }
    uint64_t deadline = pn_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 10000);
    for (;;) {
        uint64_t now = pn_mono_ms();
        if (now >= deadline) {
            snprintf(errmsg, errlen, "plugnet-%s did not answer '%s' within %d ms", c->svc, op, timeout_ms);
            return -ETIMEDOUT;
        }
        zmq_pollitem_t pi = { .socket = c->sock, .events = ZMQ_POLLIN };
        r = zmq_poll(&pi, 1, (long)(deadline - now));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            snprintf(errmsg, errlen, "waiting for plugnet-%s: %s", c->svc, zmq_strerror(errno));
            return r;
        }
        if (r == 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        /* Skip an empty delimiter frame if a peer sent one. */
        if (zmq_msg_more(&m) && zmq_msg_size(&m) == 0) {
            zmq_msg_close(&m);
            continue;
        }
        pn_msg_t rep;
        char err[512];
        int code = pn_msg_decode_reply(zmq_msg_data(&m), zmq_msg_size(&m), c->svc, op, &rep, err, sizeof(err));
        zmq_msg_close(&m);
        if (code != PN_OK) {
            pn_msg_clear(&rep);
            snprintf(errmsg, errlen, "plugnet-%s sent a bad reply to '%s': %s", c->svc, op, err);
            return -EPROTO;
        }
        if (rep.id != id) { /* a late reply to an earlier, timed-out call */
            pn_msg_clear(&rep);
            continue;
        }
        c->seen = true;
        if (!rep.ok) {
            int e = rep.err;
            snprintf(errmsg, errlen, "%s", rep.errmsg ? rep.errmsg : "");
            pn_msg_clear(&rep);
            return e;
        }
        if (data) {
            *data = pn_map_del(rep.root, "data");
            if (!*data)
                *data = pn_map();
        }
        pn_msg_clear(&rep);
        return PN_OK;
    }
}

int pn_call(const char *svc, const char *op, pn_val_t *args, int timeout_ms, pn_val_t **data,
            char *errmsg, size_t errlen)
{
    pn_client_t *c = pn_client_new(svc);
    if (!c) {
        pn_val_free(args);
        snprintf(errmsg, errlen, "cannot create a client for plugnet-%s", svc);
        return -ENOMEM;
    }
    int r = pn_client_call(c, op, args, timeout_ms, data, errmsg, errlen);
    pn_client_destroy(&c);
    return r;
}
