/* bus: the CLI's subscription to the daemons' event buses (see bus.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "pn_svc.h"

#define BUS_MAX_SVCS 4

struct cli_bus {
    void *sock;
    char hello[64];
    int expect;
    const char *running[BUS_MAX_SVCS]; /* borrowed names of the daemons that ran */
};

cli_bus_t *cli_bus_new(const char *const *svcs, size_t n_svcs, const char *const *topics,
                       size_t n_topics)
{
    cli_bus_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->sock = zmq_socket(pn_zctx(), ZMQ_SUB);
    if (!self->sock) {
        free(self);
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof(linger));
    for (size_t i = 0; i < n_topics; i++)
        zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));
    snprintf(self->hello, sizeof(self->hello), "pn.hello.%d.%llu", (int)getpid(),
             (unsigned long long)pn_mono_ms());
    zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, self->hello, strlen(self->hello));
    for (size_t i = 0; i < n_svcs && i < BUS_MAX_SVCS; i++) {
        char ep[4200];
        if (pn_endpoint(svcs[i], "pub", ep, sizeof(ep)) == 0 &&
            zmq_connect(self->sock, ep) == 0 && pn_svc_socket_present(svcs[i]))
            self->running[self->expect++] = svcs[i];
    }
    return self;
}

void cli_bus_destroy(cli_bus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zmq_close((*self_p)->sock);
    free(*self_p);
    *self_p = NULL;
}

void *cli_bus_socket(cli_bus_t *self)
{
    return self->sock;
}

int cli_bus_expected(const cli_bus_t *self)
{
    return self->expect;
}

bool cli_bus_running(const cli_bus_t *self, const char *svc)
{
    for (int i = 0; i < self->expect; i++)
        if (strcmp(self->running[i], svc) == 0)
            return true;
    return false;
}

int cli_bus_recv(cli_bus_t *self, char *topic, size_t tlen, pn_msg_t *ev, char *err,
                 size_t errlen)
{
    for (;;) {
        int tl = zmq_recv(self->sock, topic, tlen - 1, ZMQ_DONTWAIT);
        if (tl < 0)
            return -EAGAIN;
        topic[tl < (int)tlen - 1 ? tl : (int)tlen - 1] = 0;
        int more = 0;
        size_t ms = sizeof(more);
        zmq_getsockopt(self->sock, ZMQ_RCVMORE, &more, &ms);
        if (!more)
            continue;
        if (strcmp(topic, self->hello) == 0) {
            char who[64];
            zmq_recv(self->sock, who, sizeof(who), 0);
            return 1;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->sock, 0) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        int r = pn_msg_decode_event(zmq_msg_data(&m), zmq_msg_size(&m), ev, err, errlen);
        zmq_msg_close(&m);
        if (r != PN_OK) {
            pn_msg_clear(ev);
            return -EBADMSG;
        }
        return 0;
    }
}
