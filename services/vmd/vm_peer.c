/* vm_peer: vmd's calls to switchd and cfgdiskd (agentd has its own link,
 * vm_agentd.c).  None waits: each sends its request through the peer's
 * pn_acall client on vmd's loop and the callback passed in gets the
 * outcome, from the loop, within the call's deadline (10 s, a disk build
 * 30 s).  An error is one sentence the user can act on, naming the peer.
 * Calls are made for an arg (an op in progress) and can be forgotten by
 * it (vm_peer_cancel) when that op ends first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vm.h"

#define VM_PEER_TIMEOUT_MS 10000
#define VM_PEER_DISK_MS 30000

typedef struct peer_call peer_call_t;
struct peer_call {
    vm_t *vm;
    char svc[16], what[48];
    vm_peer_fn fn;          /* NULL: nobody waits (logged when it fails) */
    void *arg;
    bool exist_ok;          /* already_exists is success (lan.add) */
    peer_call_t *next;
};

struct vm_peers {
    pn_acall_t *sw, *cd;
    peer_call_t *calls;
};

static pn_acall_t *s_client(vm_t *vm, const char *svc)
{
    return strcmp(svc, "cfgdiskd") == 0 ? vm->peers->cd : vm->peers->sw;
}

int vm_peer_open(vm_t *vm)
{
    vm->peers = calloc(1, sizeof(*vm->peers));
    if (!vm->peers)
        return -ENOMEM;
    pn_loop_t *loop = pn_svc_loop(vm->svc);
    vm->peers->sw = pn_acall_new(loop, "switchd");
    vm->peers->cd = pn_acall_new(loop, "cfgdiskd");
    if (!vm->peers->sw || !vm->peers->cd) {
        vm_peer_close(vm);
        return -ENOMEM;
    }
    return 0;
}

void vm_peer_close(vm_t *vm)
{
    if (!vm->peers)
        return;
    /* Requests nobody waits for (the port.del of nodes stopped on the way
     * out) still reach their daemon; the others are forgotten first, so
     * no op continues while vmd ends. */
    for (peer_call_t **pp = &vm->peers->calls; *pp;) {
        peer_call_t *c = *pp;
        if (!c->fn) {
            pp = &c->next;
            continue;
        }
        pn_acall_cancel(s_client(vm, c->svc), c);
        *pp = c->next;
        free(c);
    }
    pn_acall_drain(vm->peers->sw, 2000);
    pn_acall_destroy(&vm->peers->sw);
    pn_acall_destroy(&vm->peers->cd);
    while (vm->peers->calls) {
        peer_call_t *c = vm->peers->calls;
        vm->peers->calls = c->next;
        free(c);
    }
    free(vm->peers);
    vm->peers = NULL;
}

static void s_forget(vm_t *vm, peer_call_t *c)
{
    PN_SLIST_REMOVE(vm->peers->calls, c);
    free(c);
}

static void s_on_reply(int code, pn_val_t *data, const char *errmsg, void *arg)
{
    peer_call_t *c = arg;
    vm_t *vm = c->vm;
    char err[900];
    if (code == PN_EEXIST && c->exist_ok)
        code = PN_OK;
    if (code < 0) {
        /* Not through: the peer is away, stopped or stuck. */
        snprintf(err, sizeof(err), "%s is unreachable (%s)%s%s", c->svc, strerror(-code), errmsg[0] ? ": " : "",
                 errmsg);
        code = PN_EUNAVAIL;
    } else {
        snprintf(err, sizeof(err), "%s", code == PN_OK ? "" : errmsg);
    }
    vm_peer_fn fn = c->fn;
    void *farg = c->arg;
    if (!fn && code != PN_OK)
        pn_debug("vmd: %s: %s", c->what, err);
    s_forget(vm, c);
    if (fn)
        fn(vm, code, data, err, farg);
}

/* The one call wrapper: op to svc, fn(vm, code, data, err, arg) from the
 * loop with PN_OK and the reply's data, the peer's error code, or
 * PN_EUNAVAIL when it could not be reached in time. */
static void s_call(vm_t *vm, const char *svc, const char *op, pn_val_t *args, unsigned timeout_ms, bool exist_ok,
                   vm_peer_fn fn, void *arg)
{
    peer_call_t *c = calloc(1, sizeof(*c));
    if (c) {
        c->vm = vm;
        snprintf(c->svc, sizeof(c->svc), "%s", svc);
        snprintf(c->what, sizeof(c->what), "%s %s", svc, op);
        c->fn = fn;
        c->arg = arg;
        c->exist_ok = exist_ok;
        c->next = vm->peers->calls;
        vm->peers->calls = c;
        if (pn_acall_send(s_client(vm, svc), op, args, timeout_ms, s_on_reply, c) == 0)
            return;
        s_forget(vm, c);
        args = NULL;
    }
    pn_val_free(args);
    pn_err("vmd: out of memory calling %s %s", svc, op);
    if (fn)
        fn(vm, PN_EINTERNAL, NULL, "out of memory", arg);
}

void vm_peer_cancel(vm_t *vm, void *arg)
{
    if (!vm->peers || !arg)
        return;
    for (peer_call_t **pp = &vm->peers->calls; *pp;) {
        peer_call_t *c = *pp;
        if (c->arg != arg) {
            pp = &c->next;
            continue;
        }
        pn_acall_cancel(s_client(vm, c->svc), c);
        *pp = c->next;
        free(c);
    }
}

void vm_lan_dir(const char *lan, char *out, size_t len)
{
    snprintf(out, len, "%s/lan/%s", pn_run_dir(), lan);
}

/* A switchd op whose one argument is the LAN's name. */
static pn_val_t *s_lan_args(const char *lan)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "name", lan);
    return a;
}

void vm_peer_lan_show(vm_t *vm, const char *lan, vm_peer_fn fn, void *arg)
{
    s_call(vm, PN_OP_LAN_SHOW, s_lan_args(lan), VM_PEER_TIMEOUT_MS, false, fn, arg);
}

void vm_peer_lan_ensure(vm_t *vm, const char *lan, vm_peer_fn fn, void *arg)
{
    s_call(vm, PN_OP_LAN_ADD, s_lan_args(lan), VM_PEER_TIMEOUT_MS, true, fn, arg);
}

void vm_peer_tap_add(vm_t *vm, const char *lan, const char *netns, const uint8_t *mac, const char *ifname,
                     const char *owner, vm_peer_fn fn, void *arg)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "lan", lan);
    if (owner)
        pn_map_set_str(a, "owner", owner);
    if (netns)
        pn_map_set_str(a, "netns", netns);
    if (mac) {
        char m[18];
        pn_mac_format(mac, m);
        pn_map_set_str(a, "mac", m);
    }
    if (ifname && ifname[0])
        pn_map_set_str(a, "ifname", ifname);
    s_call(vm, PN_OP_PORT_ADD_TAP, a, VM_PEER_TIMEOUT_MS, false, fn, arg);
}

void vm_peer_port_del(vm_t *vm, const char *lan, unsigned port)
{
    if (!port)
        return;
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "lan", lan);
    pn_map_set_uint(a, "port", port);
    s_call(vm, PN_OP_PORT_DEL, a, VM_PEER_TIMEOUT_MS, false, NULL, NULL);
}

void vm_peer_port_set(vm_t *vm, const char *lan, unsigned port, bool up, vm_peer_fn fn, void *arg)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "lan", lan);
    pn_map_set_uint(a, "port", port);
    pn_map_set_str(a, "state", up ? "up" : "down");
    s_call(vm, PN_OP_PORT_SET, a, VM_PEER_TIMEOUT_MS, false, fn, arg);
}

void vm_peer_port_claim(vm_t *vm, const vm_node_t *nd, const vm_nic_t *nic, pid_t pid)
{
    char owner[96];
    snprintf(owner, sizeof(owner), "%s:%s", nd->name, nic->ifname);
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "lan", nic->lan);
    pn_map_set_str(a, "owner", owner);
    if (pid > 0)
        pn_map_set_uint(a, "pid", (uint64_t)pid);
    s_call(vm, PN_OP_PORT_CLAIM, a, VM_PEER_TIMEOUT_MS, false, NULL, NULL);
}

void vm_peer_cfgdisk(vm_t *vm, vm_node_t *nd, vm_peer_fn fn, void *arg)
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
    s_call(vm, PN_OP_DISK_BUILD, a, VM_PEER_DISK_MS, false, fn, arg);
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

int vm_uml_ports(pn_val_t *lan_show, const uint8_t mac[6], pid_t pid, unsigned *ports, int max)
{
    char want[18];
    pn_mac_format(mac, want);
    unsigned learnt = 0;
    pn_val_t *fdb = pn_get(lan_show, "fdb");
    for (size_t i = 0; i < pn_len(fdb); i++)
        if (strcasecmp(pn_get_str(pn_at(fdb, i), "mac", ""), want) == 0)
            learnt = (unsigned)pn_get_uint(pn_at(fdb, i), "port", 0);
    int n = 0;
    bool have_learnt = false;
    pn_val_t *pv = pn_get(lan_show, "ports");
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
    /* Several NICs of this node on this LAN: the one that sent from its MAC. */
    if (n > 1) {
        if (!have_learnt)
            return -1;
        ports[0] = learnt;
        n = 1;
    }
    return n;
}
