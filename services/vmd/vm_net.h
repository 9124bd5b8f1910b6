/* vm_net: named network namespaces and their links over rtnetlink, without
 * forking ip(8) (each ip(8) costs several milliseconds; an ns node needed
 * four).
 *
 * A named namespace is what `ip netns add` makes, so `ip netns exec` and
 * friends keep working: /run/netns/NAME, a bind mount of the namespace, in a
 * /run/netns that is a shared mount point.  vmd's calling thread enters a
 * namespace only for a moment (unshare or setns are per thread for network
 * namespaces), to create it or to open a netlink socket in it; every other
 * step goes through that socket.
 */
#ifndef VM_NET_H
#define VM_NET_H

#include <stddef.h>

/* Create /run/netns/NAME (refused if it exists) with its lo up.  0, or
 * -errno with err set; nothing is left behind on failure. */
int vm_netns_add(const char *name, char *err, size_t errlen);

/* Add the address cidr ("A/P", IPv4 or IPv6) to ifname in the namespace
 * nsfd.  0, or -errno with err. */
int vm_ns_addr_add(int nsfd, const char *ifname, const char *cidr, char *err, size_t errlen);

/* Delete ifname in the namespace nsfd.  0 or -errno. */
int vm_link_del(int nsfd, const char *ifname);

/* The host's own interface: replace its address with cidr, bring it up.
 * 0, or -errno with err. */
int vm_host_link_addr_up(const char *ifname, const char *cidr, char *err, size_t errlen);

#endif
