/* topo_read: the parser's state while it turns a YAML document into a
 * topo_t, shared by its parts, which call top-down:
 *   topo.c       the document (name, topology); reads the nodes, then the links
 *   topo_link.c  topology.links: NICs, LANs, unique addresses (it looks the
 *                endpoints up in what topo_node.c read)
 *   topo_node.c  topology.nodes with defaults and kinds; bridges
 *   topo_yaml.c, topo_value.c   YAML access and messages; single values
 * Private to those files. */
#ifndef PN_TOPO_READ_H
#define PN_TOPO_READ_H

#include "topo.h"
#include "topo_yaml.h"

/* A bridge node: not a node but a LAN.  Bridges linked to each other are
 * one LAN, found by union-find. */
typedef struct {
    char name[16];
    topo_pos_t pos;
    int parent;
    int order; /* in the file; the first one names the merged LAN */
} topo_bridge_t;

typedef struct {
    ty_t y;
    topo_t *t;
    topo_bridge_t *bridges;
    size_t n_bridges;
} topo_read_t;

/* topology.nodes (with topology.defaults and topology.kinds) into t->nodes
 * and c->bridges.  0 or -EINVAL with the error in c->y. */
int topo_read_nodes(topo_read_t *c, yaml_node_t *nodes, yaml_node_t *defaults,
                    yaml_node_t *kinds);
/* Index of a bridge / a node by name, or -1. */
int topo_read_bridge_find(topo_read_t *c, const char *name);
int topo_read_node_index(topo_read_t *c, const char *name);
/* The bridge that names the LAN bridge i belongs to. */
int topo_read_bridge_root(topo_read_t *c, int i);

/* topology.links into the nodes' NICs and t->lans (after the nodes). */
int topo_read_links(topo_read_t *c, yaml_node_t *links);
/* Explicit MACs and addresses are unique across the lab (after the links). */
int topo_read_unique(topo_read_t *c);

#endif
