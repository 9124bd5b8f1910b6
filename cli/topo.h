/* topo: a lab described by a containerlab-shaped topology file
 * (".clab.yml"), parsed with libyaml and resolved into nodes, NICs and LANs.
 *
 *   name: demo
 *   topology:
 *     defaults: {kind: uml}                 # defaults < kinds.<kind> < node
 *     kinds: {qemu: {memory: 256MiB}}
 *     nodes:
 *       r1: {kind: qemu, exec: ["sysctl -w net.ipv4.ip_forward=1"]}
 *       h1: {}
 *       sw: {kind: bridge}                  # a LAN, joined by "sw:any"
 *     links:
 *       - endpoints: ["h1:eth1", "r1:eth1"] # a point-to-point link = a two-port LAN
 *       - endpoints: ["r1:eth2", "sw:any"]
 *       - type: veth                        # the extended form
 *         endpoints:
 *           - {node: h1, interface: eth2, mac: "02:aa:00:00:00:01", ipv4: 10.0.2.1/24}
 *           - {node: sw, interface: any}
 *
 * Kinds: uml, qemu, ns; containerlab's linux is ns and generic_vm is qemu;
 * bridge nodes become LANs (bridges linked to each other are one LAN; a
 * cycle of bridges is refused).  Every error names file:line:column and
 * the key ("lab.yml:7:15: topology.nodes.r1.memory: ..."); unknown keys
 * are warnings of the same form.  The parser never asserts on the file.
 */
#ifndef PN_TOPO_H
#define PN_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOPO_MAX_NODES 1024
#define TOPO_MAX_LINKS 4096
#define TOPO_MAX_FILE (1u << 20)
#define TOPO_MEM_MIN_MB 16
#define TOPO_MEM_MAX_MB 65536
#define TOPO_CPUS_MAX 64
#define TOPO_NIC_MAX 31 /* eth1..eth31; eth0 is the management NIC */

typedef enum { TOPO_UML, TOPO_QEMU, TOPO_NS, TOPO_BRIDGE } topo_kind_t;

const char *topo_kind_name(topo_kind_t k);
/* "uml", "qemu", "ns", "bridge", "linux" (ns), "generic_vm" (qemu); -1 when unknown. */
int topo_kind_parse(const char *s);

typedef struct {
    int line, col; /* 1-based; 0 when not from the file */
} topo_pos_t;

typedef struct {
    char ifname[16]; /* eth1..eth31 */
    char lan[16];
    char mac[18];   /* lower-case; "" = vmd's default */
    char ipv4[24];  /* "10.0.0.1/24"; "" = none */
    topo_pos_t pos;
} topo_nic_t;

typedef struct {
    char *key, *val;
} topo_kv_t;

typedef struct {
    char *text;
    int line; /* line of the command in the file */
} topo_exec_t;

typedef struct {
    char name[16];
    topo_kind_t kind;
    char *image;         /* NULL = the default image */
    uint64_t memory_mb;  /* 0 = default */
    unsigned cpus;       /* 0 = default */
    char *cmd;           /* ns: the command the node runs; NULL = idle init */
    char mgmt_ipv4[24];  /* "" = the seed rule */
    topo_exec_t *exec;
    size_t n_exec;
    topo_kv_t *env;
    size_t n_env;
    topo_nic_t *nics;    /* sorted by interface number */
    size_t n_nics;
    topo_pos_t pos;
} topo_node_t;

typedef struct {
    char name[16];
    bool bridge;   /* from bridge node(s); else a point-to-point link */
    unsigned mtu;  /* 0 = default */
    char *bridges; /* "br1,br2" for merged bridges; NULL otherwise */
    topo_pos_t pos;
} topo_lan_t;

typedef struct {
    char *file;
    char *name;
    topo_node_t *nodes; /* bridges are not nodes: they are LANs */
    size_t n_nodes;
    topo_lan_t *lans;
    size_t n_lans;
    char **warnings;    /* "file:line:col: key: unknown key, ignored" */
    size_t n_warnings;
} topo_t;

/* Parse text (len bytes) read from a file named fname (used in messages).
 * Returns 0 and *out, or -EINVAL with err set to the first error.
 * Warnings are kept in (*out)->warnings; when the file fails, they come
 * first in err, one a line ("warning: f:3:3: topology.node: unknown key,
 * ignored (did you mean 'nodes'?)"), the error last. */
int topo_parse(const char *text, size_t len, const char *fname, topo_t **out, char *err,
               size_t errlen);
/* Read and parse a file.  -errno when it cannot be read (err says why). */
int topo_load(const char *path, topo_t **out, char *err, size_t errlen);
void topo_destroy(topo_t **t_p);

const topo_node_t *topo_node_find(const topo_t *t, const char *name);
const topo_lan_t *topo_lan_find(const topo_t *t, const char *name);

/* Deep copy of a node into dst (0 or -ENOMEM; dst is cleared on failure),
 * and the release of what a node holds (not the struct itself). */
int topo_node_copy(topo_node_t *dst, const topo_node_t *src);
void topo_node_clear(topo_node_t *n);

/* Helpers shared with the plan engine and the commands. */
bool topo_name_valid(const char *s);           /* ^[a-z][a-z0-9-]{0,14}$ */
bool topo_mac_valid(const char *s, char out[18]); /* unicast, normalised to lower case */
bool topo_ipv4_valid(const char *s, bool need_prefix);

#endif
