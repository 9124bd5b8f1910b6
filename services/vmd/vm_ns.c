/* vm_ns: the network namespace of an ns node and the taps born in it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "vm.h"
#include "vm_host.h"
#include "vm_net.h"

void vm_ns_name(vm_t *vm, const vm_node_t *nd, char *out, size_t len)
{
    snprintf(out, len, "pn%s-%s", vm->tag, nd->name);
}

/* The tap is born in the node's namespace with its final name and MAC
 * (switchd creates it there): no move, no rename. */
static void s_tap_added(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    vm_pend_t *p = arg;
    vm_nic_t *c = p->tap;
    char msg[512] = "";
    if (code == PN_OK) {
        snprintf(c->host_if, sizeof(c->host_if), "%s", pn_get_str(data, "ifname", ""));
        c->port = (unsigned)pn_get_uint(data, "port", 0);
    }
    if (code == PN_OK && c->ip[0]) {
        char ns[64], path[128];
        vm_ns_name(vm, p->nd, ns, sizeof(ns));
        snprintf(path, sizeof(path), "/run/netns/%s", ns);
        int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0) {
            snprintf(msg, sizeof(msg), "cannot open %s: %s", path, strerror(errno));
            code = PN_EINTERNAL;
        } else {
            code = vm_ns_addr_add(nsfd, c->ifname, c->ip, msg, sizeof(msg)) < 0 ? PN_EINTERNAL : PN_OK;
            close(nsfd);
        }
        if (code != PN_OK) {
            vm_peer_port_del(vm, c->lan, c->port);
            c->port = 0;
        }
        err = msg;
    }
    p->sub(vm, p, code, err);
}

void vm_ns_nic_in(vm_t *vm, vm_pend_t *p, vm_nic_t *c, vm_step_fn sub)
{
    char ns[64];
    vm_ns_name(vm, p->nd, ns, sizeof(ns));
    snprintf(c->host_if, sizeof(c->host_if), "%s", c->ifname);
    p->sub = sub;
    p->tap = c;
    char owner[96];
    snprintf(owner, sizeof(owner), "%s:%s", p->nd->name, c->ifname);
    vm_peer_tap_add(vm, c->lan, ns, c->mac, c->host_if, owner, s_tap_added, p);
}

/* What `ip netns del` does, without a fork: detach the bind mount that
 * keeps the namespace and remove its file. */
void vm_netns_del(const char *path)
{
    umount2(path, MNT_DETACH);
    unlink(path);
}

/* The namespace goes first: once nothing holds it, the kernel tears it
 * down with its links in the background, several namespaces in one batch.
 * Closing a tap whose link is still there (port.del) would unregister it
 * right away, waiting out RCU grace periods, one tap at a time. */
void vm_ns_teardown(vm_t *vm, vm_node_t *nd)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    vm_netns_del(path);
    for (unsigned i = 0; i < nd->nnics; i++) {
        vm_peer_port_del(vm, nd->nics[i].lan, nd->nics[i].port);
        nd->nics[i].port = 0;
        nd->nics[i].host_if[0] = 0;
    }
}

static void s_setup_tap(vm_t *vm, vm_pend_t *p, int code, const char *err);

static void s_setup_next(vm_t *vm, vm_pend_t *p)
{
    if (p->i < p->nnics) {
        vm_ns_nic_in(vm, p, &p->nics[p->i], s_setup_tap);
        return;
    }
    p->undo = NULL;
    p->then(vm, p, PN_OK, "");
}

static void s_setup_tap(vm_t *vm, vm_pend_t *p, int code, const char *err)
{
    if (code != PN_OK) {
        vm_ns_teardown(vm, p->nd);
        p->undo = NULL;
        p->then(vm, p, code, err);
        return;
    }
    p->i++;
    s_setup_next(vm, p);
}

void vm_ns_setup(vm_t *vm, vm_pend_t *p, vm_step_fn then)
{
    vm_node_t *nd = p->nd;
    char ns[64], err[512];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    /* A stale one from a node that ended while vmd was away. */
    if (access(path, F_OK) == 0)
        vm_netns_del(path);
    p->then = then;
    if (vm_netns_add(ns, err, sizeof(err)) < 0) {
        then(vm, p, PN_EINTERNAL, err);
        return;
    }
    /* An abort while the taps are made removes what is there. */
    p->undo = vm_ns_teardown;
    p->nics = nd->nics;
    p->nnics = nd->nnics;
    p->i = 0;
    s_setup_next(vm, p);
}

void vm_ns_nic_out(vm_t *vm, vm_node_t *nd, vm_nic_t *c)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    vm_peer_port_del(vm, c->lan, c->port);
    /* Closing the tap (port.del) removes it; this is for the rest. */
    char p[128];
    snprintf(p, sizeof(p), "/run/netns/%s", ns);
    int nsfd = open(p, O_RDONLY | O_CLOEXEC);
    if (nsfd >= 0) {
        (void)vm_link_del(nsfd, c->ifname);
        close(nsfd);
    }
    c->port = 0;
}
