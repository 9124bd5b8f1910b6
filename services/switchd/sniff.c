/* Sniffers: a LAN's (port 0) or one port's frames written as pcap to a
 * file or FIFO (pcap.c) without ever blocking the switch; started and
 * stopped by ops, fed by the data path (fwd.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw.h"

void sw_sniff_write(sw_lan_t *lan, unsigned port, const void *frame, size_t len, uint64_t ts)
{
    for (sw_sniffer_t *s = lan->sniffers; s; s = s->next)
        if (s->port == port)
            sw_pcap_write(s->pcap, ts, frame, len);
}

static void s_sniff_on_out(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    sw_sniffer_t *s = arg;
    int r = sw_pcap_flush(s->pcap);
    if (r == 0) {
        pn_loop_del(loop, s->w);
        s->w = NULL;
    } else if (r != -EAGAIN) {
        sw_sniff_stop(s, "output failed");
    }
}

void sw_sniff_flush(sw_lan_t *lan)
{
    for (sw_sniffer_t *s = lan->sniffers, *next; s; s = next) {
        next = s->next;
        if (s->w || sw_pcap_pending(s->pcap) == 0)
            continue;
        int r = sw_pcap_flush(s->pcap);
        if (r == -EAGAIN)
            s->w = pn_loop_add_fd(lan->sw->loop, sw_pcap_fd(s->pcap), EPOLLOUT, s_sniff_on_out, s);
        else if (r < 0)
            sw_sniff_stop(s, "output failed");
    }
}

pn_val_t *sw_sniff_info(sw_sniffer_t *s)
{
    pn_val_t *m = pn_map();
    pn_map_set_uint(m, "id", s->id);
    pn_map_set_str(m, "lan", s->lan->name);
    pn_map_set_uint(m, "port", s->port);
    pn_map_set_str(m, "path", s->path);
    pn_map_set_uint(m, "frames", sw_pcap_frames(s->pcap));
    pn_map_set_uint(m, "bytes", sw_pcap_bytes(s->pcap));
    pn_map_set_uint(m, "drops", sw_pcap_drops(s->pcap));
    return m;
}

sw_sniffer_t *sw_sniff_find(sw_t *sw, unsigned id)
{
    for (sw_lan_t *l = sw->lans; l; l = l->next)
        for (sw_sniffer_t *s = l->sniffers; s; s = s->next)
            if (s->id == id)
                return s;
    return NULL;
}

int sw_sniff_start(sw_lan_t *lan, unsigned port, const char *path, sw_sniffer_t **out,
                   char *err, size_t errlen)
{
    if (port && (port > SW_MAX_PORTS || !lan->ports[port])) {
        snprintf(err, errlen, "LAN '%s' has no port %u", lan->name, port);
        return -ENOENT;
    }
    if (lan->nsniffers >= SW_MAX_SNIFFERS) {
        snprintf(err, errlen, "LAN '%s' already has %d sniffers", lan->name, SW_MAX_SNIFFERS);
        return -ENOSPC;
    }
    sw_sniffer_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->pcap = sw_pcap_open(path, 0);
    if (!s->pcap) {
        int e = errno;
        snprintf(err, errlen, "cannot open %s for writing: %s", path, strerror(e));
        free(s);
        return e == EACCES || e == EPERM || e == ENOENT || e == ENOTDIR ? -e : -EINVAL;
    }
    s->lan = lan;
    s->port = port;
    s->id = ++lan->sw->sniff_next;
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->next = lan->sniffers;
    lan->sniffers = s;
    lan->nsniffers++;
    if (port)
        lan->ports[port]->nsniff++;
    pn_val_t *ev = pn_map();
    pn_map_set_uint(ev, "id", s->id);
    pn_map_set_str(ev, "lan", lan->name);
    pn_map_set_uint(ev, "port", port);
    pn_map_set_str(ev, "path", s->path);
    pn_svc_publish(lan->sw->svc, "sniff", "sniff.started", ev);
    *out = s;
    return 0;
}

void sw_sniff_stop(sw_sniffer_t *s, const char *reason)
{
    sw_lan_t *lan = s->lan;
    PN_SLIST_REMOVE(lan->sniffers, s);
    lan->nsniffers--;
    if (s->port && lan->ports[s->port])
        lan->ports[s->port]->nsniff--;
    if (s->w)
        pn_loop_del(lan->sw->loop, s->w);
    pn_val_t *ev = sw_sniff_info(s);
    pn_map_set_str(ev, "reason", reason);
    pn_val_free(pn_map_del(ev, "bytes"));
    pn_svc_publish(lan->sw->svc, "sniff", "sniff.stopped", ev);
    sw_pcap_destroy(&s->pcap);
    free(s);
}
