/* cd_spec: a node's config-disk spec (the args of disk.build), parsed and
 * validated.  Every refusal names the offending field ("nics[1].mac: ...")
 * so a user can fix it; nothing from the request is trusted.
 *
 * cd_spec_parse() normalises what it accepts (MACs in lowercase, IPv6
 * addresses in their canonical form, modes as numbers), and
 * cd_spec_canon() serialises the normalised spec so that two requests
 * meaning the same thing hash to the same cache key.
 */
#ifndef CD_SPEC_H
#define CD_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pn_addr.h"
#include "pn_val.h"

typedef enum { CD_FMT_PLUGNET, CD_FMT_CIDATA } cd_format_t;
const char *cd_format_name(cd_format_t f);

/* Caps on what one spec may ask for. */
typedef struct {
    size_t max_bytes;   /* file contents + script + keys (64 MiB) */
    size_t max_nics;    /* 32 (eth0..eth31) */
    size_t max_addrs;   /* per NIC */
    size_t max_routes;  /* per NIC */
    size_t max_keys;
    size_t max_hosts;
    size_t max_names;   /* names per hosts entry */
    size_t max_files;
} cd_limits_t;
extern const cd_limits_t cd_default_limits;

typedef struct {
    bool is_default;         /* dst "default" (family from via) */
    pn_addr_t dst;           /* a network: no host bits set */
    bool has_via;
    pn_addr_t via;
} cd_route_t;

typedef struct {
    char ifname[8];
    uint8_t mac[6];
    char mac_text[18];
    pn_addr_t *addrs;
    size_t naddrs;
    cd_route_t *routes;
    size_t nroutes;
    bool has_gateway;
    pn_addr_t gateway;
} cd_nic_t;

typedef struct {
    pn_addr_t ip;
    char **names;
    size_t nnames;
} cd_host_t;

typedef struct {
    char *path;        /* absolute, normalised */
    uint8_t *data;
    size_t len;
    unsigned mode;     /* 0..07777 */
} cd_file_t;

typedef struct {
    char name[16];
    char hostname[254];
    unsigned number;
    cd_format_t format;
    cd_nic_t *nics;
    size_t nnics;
    bool has_mgmt;
    pn_addr_t mgmt;
    char **keys;       /* one authorized_keys line each, without newline */
    size_t nkeys;
    cd_host_t *hosts;
    size_t nhosts;
    cd_file_t *files;
    size_t nfiles;
    bool has_script;
    uint8_t *script;
    size_t script_len;
    size_t total_bytes;
} cd_spec_t;

/* Parse and validate args (a map).  Returns 0 with *out set, or with err
 * naming the field: -EINVAL (a bad value), -E2BIG (over a cap of lim; NULL
 * = cd_default_limits), -ENOMEM. */
int cd_spec_parse(const pn_val_t *args, const cd_limits_t *lim, cd_spec_t **out, char *err,
                  size_t errlen);
void cd_spec_destroy(cd_spec_t **spec_p);

/* A deterministic byte serialisation of the normalised spec (malloc'd;
 * spec_canon.c).  0 or -ENOMEM. */
int cd_spec_canon(const cd_spec_t *spec, uint8_t **buf, size_t *len);

#endif
