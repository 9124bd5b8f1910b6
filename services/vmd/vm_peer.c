/* vm_peer: vmd's calls to switchd, cfgdiskd and agentd.  Kept thin: each
 * function is one request with a bounded wait, and its error is one
 * sentence the user can act on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vm.h"

#define VM_PEER_TIMEOUT_MS 10000

/* One client per daemon, kept (see s_call). */
static struct {
    char svc[16];
    pn_client_t *c;
} s_clients[4];

void vm_peer_close(void)
{
    for (int i = 0; i < 4; i++)
        pn_client_destroy(&s_clients[i].c);
}

static int s_call(const char *svc, const char *op, pn_val_t *args, int timeout_ms, pn_val_t **data, char *err,
                  size_t errlen)
{
    char msg[512] = "";
    /* One client per daemon for vmd's life: a fresh zmq socket (and its
     * handshake) per call cost more than the call.  The presence check
     * stays per call, so a daemon that is down is an error at once. */
    pn_client_t *c = NULL;
    int r;
    if (!pn_svc_socket_present(svc)) {
        pn_val_free(args);
        snprintf(msg, sizeof(msg), "plugnet-%s is not running (no socket in %s)", svc, pn_run_dir());
        r = -ECONNREFUSED;
        goto out;
    }
    for (int i = 0; i < 4 && !c; i++) {
        if (!s_clients[i].c) {
            snprintf(s_clients[i].svc, sizeof(s_clients[i].svc), "%s", svc);
            s_clients[i].c = pn_client_new(svc);
        }
        if (s_clients[i].c && strcmp(s_clients[i].svc, svc) == 0)
            c = s_clients[i].c;
    }
    if (c)
        r = pn_client_call(c, op, args, timeout_ms, data, msg, sizeof(msg));
    else
        r = pn_call(svc, op, args, timeout_ms, data, msg, sizeof(msg));
out:
    if (r == PN_OK)
        return PN_OK;
    if (r < 0) {
        snprintf(err, errlen, "%s is unreachable (%s)%s%s", svc, strerror(-r), msg[0] ? ": " : "", msg);
        return PN_EUNAVAIL;
    }
    snprintf(err, errlen, "%s", msg);
    return r;
}

void vm_lan_dir(const char *lan, char *out, size_t len)
{
    snprintf(out, len, "%s/lan/%s", pn_run_dir(), lan);
}

int vm_peer_lan_exists(const char *lan, char *err, size_t errlen)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "name", lan);
    pn_val_t *d = NULL;
    int r = s_call(PN_OP_LAN_SHOW, a, VM_PEER_TIMEOUT_MS, &d, err, errlen);
    pn_val_free(d);
    return r;
}

int vm_peer_lan_ensure(const char *lan, char *err, size_t errlen)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "name", lan);
    pn_val_t *d = NULL;
    int r = s_call(PN_OP_LAN_ADD, a, VM_PEER_TIMEOUT_MS, &d, err, errlen);
    pn_val_free(d);
    return r == PN_EEXIST ? PN_OK : r;
}

int vm_peer_tap_add(const char *lan, const char *netns, const uint8_t *mac, char *ifname_out, unsigned *port,
                    char *err, size_t errlen)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "lan", lan);
    if (netns)
        pn_map_set_str(a, "netns", netns);
    if (mac) {
        char m[18];
        pn_mac_format(mac, m);
        pn_map_set_str(a, "mac", m);
    }
    if (ifname_out[0])
        pn_map_set_str(a, "ifname", ifname_out);
    pn_val_t *d = NULL;
    int r = s_call(PN_OP_PORT_ADD_TAP, a, VM_PEER_TIMEOUT_MS, &d, err, errlen);
    if (r != PN_OK)
        return r;
    snprintf(ifname_out, 16, "%s", pn_get_str(d, "ifname", ""));
    *port = (unsigned)pn_get_uint(d, "port", 0);
    pn_val_free(d);
    return PN_OK;
}

void vm_peer_port_del(const char *lan, unsigned port)
{
    if (!port)
        return;
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "lan", lan);
    pn_map_set_uint(a, "port", port);
    char err[256];
    pn_val_t *d = NULL;
    if (s_call(PN_OP_PORT_DEL, a, VM_PEER_TIMEOUT_MS, &d, err, sizeof(err)) != PN_OK)
        pn_debug("vmd: port.del %s/%u: %s", lan, port, err);
    pn_val_free(d);
}

int vm_peer_cfgdisk(vm_t *vm, vm_node_t *nd, char *path, size_t pathlen, char *err, size_t errlen)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "name", nd->name);
    pn_map_set_uint(a, "number", nd->number);
    pn_val_t *nics = pn_arr();
    for (unsigned i = 0; i < nd->nnics; i++) {
        char mac[18];
        pn_mac_format(nd->nics[i].mac, mac);
        pn_val_t *c = pn_map();
        pn_map_set_str(c, "ifname", nd->nics[i].ifname);
        pn_map_set_str(c, "mac", mac);
        if (nd->nics[i].ip[0]) {
            pn_val_t *addrs = pn_arr();
            pn_arr_push(addrs, pn_str(nd->nics[i].ip));
            pn_map_set(c, "addrs", addrs);
        }
        pn_arr_push(nics, c);
    }
    pn_map_set(a, "nics", nics);
    if (nd->mgmt && nd->nnics && strcmp(nd->nics[0].lan, "mgmt") == 0)
        pn_map_set_str(a, "mgmt_ip", nd->nics[0].ip);
    /* Every node's management address, so names resolve across the lab. */
    pn_val_t *hosts = pn_arr();
    for (vm_node_t *o = vm->nodes; o; o = o->next) {
        if (!o->mgmt || !o->nnics || strcmp(o->nics[0].lan, "mgmt") != 0)
            continue;
        char ip[64];
        snprintf(ip, sizeof(ip), "%s", o->nics[0].ip);
        char *slash = strchr(ip, '/');
        if (slash)
            *slash = 0;
        pn_val_t *h = pn_map(), *names = pn_arr();
        pn_map_set_str(h, "ip", ip);
        pn_arr_push(names, pn_str(o->name));
        pn_map_set(h, "names", names);
        pn_arr_push(hosts, h);
    }
    pn_map_set(a, "hosts", hosts);
    if (nd->script)
        pn_map_set_str(a, "script", nd->script);
    pn_val_t *d = NULL;
    int r = s_call(PN_OP_DISK_BUILD, a, 30000, &d, err, errlen);
    if (r != PN_OK)
        return r;
    snprintf(path, pathlen, "%s", pn_get_str(d, "path", ""));
    pn_val_free(d);
    if (!path[0]) {
        snprintf(err, errlen, "cfgdiskd answered disk.build without a path");
        return PN_EINTERNAL;
    }
    return PN_OK;
}

/* switchd shows a VDE client's abstract data address as "@" and the hex of
 * sun_path[1..].  UML's daemon transport binds {char zero; int pid; int
 * usecs;} there, so its pid is sun_path[4..7] (little-endian): hex digits
 * 7..14 of the string. */
bool vm_uml_peer_pid(const char *peer, pid_t *pid)
{
    if (!peer || peer[0] != '@' || strlen(peer) < 15)
        return false;
    uint32_t v = 0;
    for (int b = 0; b < 4; b++) {
        unsigned byte = 0;
        for (int h = 0; h < 2; h++) {
            char c = peer[7 + 2 * b + h];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return false;
            byte = byte << 4 | (unsigned)d;
        }
        v |= (uint32_t)byte << (8 * b);
    }
    if (v == 0 || v > 0x7fffffff)
        return false;
    *pid = (pid_t)v;
    return true;
}

int vm_peer_uml_ports(const char *lan, const uint8_t mac[6], pid_t pid, unsigned *ports, int max)
{
    pn_val_t *a = pn_map(), *d = NULL;
    pn_map_set_str(a, "name", lan);
    char err[256];
    if (s_call(PN_OP_LAN_SHOW, a, VM_PEER_TIMEOUT_MS, &d, err, sizeof(err)) != PN_OK)
        return 0;
    char want[18];
    pn_mac_format(mac, want);
    unsigned learnt = 0;
    pn_val_t *fdb = pn_get(d, "fdb");
    for (size_t i = 0; i < pn_len(fdb); i++)
        if (strcasecmp(pn_get_str(pn_at(fdb, i), "mac", ""), want) == 0)
            learnt = (unsigned)pn_get_uint(pn_at(fdb, i), "port", 0);
    int n = 0;
    bool have_learnt = false;
    pn_val_t *pv = pn_get(d, "ports");
    for (size_t i = 0; i < pn_len(pv); i++) {
        pn_val_t *p = pn_at(pv, i);
        pid_t who;
        if (strcmp(pn_get_str(p, "kind", ""), "vde") || !vm_uml_peer_pid(pn_get_str(p, "peer", NULL), &who) ||
            who != pid)
            continue;
        unsigned id = (unsigned)pn_get_uint(p, "port", 0);
        if (id == learnt)
            have_learnt = true;
        if (n < max)
            ports[n++] = id;
    }
    pn_val_free(d);
    /* Several NICs of this node on this LAN: the one that sent from its MAC. */
    if (n > 1) {
        if (!have_learnt)
            return -1;
        ports[0] = learnt;
        n = 1;
    }
    return n;
}
