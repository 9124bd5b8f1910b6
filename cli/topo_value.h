/* topo_value: the checks and conversions of single values in a topology
 * file that topo.h does not export: variable names, bridge port labels,
 * interface numbers, memory sizes.  Pure functions, no file in sight. */
#ifndef PN_TOPO_VALUE_H
#define PN_TOPO_VALUE_H

#include <stdbool.h>
#include <stdint.h>

bool topo_env_name_valid(const char *s);   /* a shell variable name */
/* A bridge's side of a link: containerlab wants a host interface name there;
 * plugnet's LANs have no named ports, so any short label will do. */
bool topo_port_label_valid(const char *s);
/* "eth1".."eth31" -> 1..31; 0 for eth0; -1 otherwise. */
int topo_ifindex(const char *s);
/* "512", "512M", "512MiB", "1GB", "1.5 GiB", "262144KiB" -> MiB. */
bool topo_parse_mem(const char *s, uint64_t *mb);
/* A MAC already checked by topo_mac_valid is a multicast (group) address. */
bool topo_mac_multicast(const char mac[18]);

#endif
