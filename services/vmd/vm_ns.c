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
int vm_ns_nic_in(vm_t *vm, vm_node_t *nd, vm_nic_t *c, char *err, size_t errlen)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    snprintf(c->host_if, sizeof(c->host_if), "%s", c->ifname);
    int r = vm_peer_tap_add(c->lan, ns, c->mac, c->host_if, &c->port, err, errlen);
    if (r != PN_OK || !c->ip[0])
        return r;
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        r = PN_EINTERNAL;
    } else {
        r = vm_ns_addr_add(nsfd, c->ifname, c->ip, err, errlen);
        close(nsfd);
    }
    if (r != PN_OK) {
        vm_peer_port_del(c->lan, c->port);
        c->port = 0;
    }
    return r;
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
        vm_peer_port_del(nd->nics[i].lan, nd->nics[i].port);
        nd->nics[i].port = 0;
        nd->nics[i].host_if[0] = 0;
    }
}

int vm_ns_setup(vm_t *vm, vm_node_t *nd, char *err, size_t errlen)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    /* A stale one from a node that ended while vmd was away. */
    if (access(path, F_OK) == 0)
        vm_netns_del(path);
    int r = vm_netns_add(ns, err, errlen);
    if (r != PN_OK)
        return r;
    for (unsigned i = 0; i < nd->nnics; i++) {
        r = vm_ns_nic_in(vm, nd, &nd->nics[i], err, errlen);
        if (r != PN_OK) {
            vm_ns_teardown(vm, nd);
            return r;
        }
    }
    return PN_OK;
}

/* The idle init of an ns node without a command: reap what gets orphaned
 * under it, end on SIGTERM/SIGINT. */

void vm_ns_nic_out(vm_t *vm, vm_node_t *nd, vm_nic_t *c)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    vm_peer_port_del(c->lan, c->port);
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
