/* pn_addr: IPv4 and IPv6 addresses and prefixes as specs write them
 * ("10.0.0.1", "fd00::1/64"), parsed into bytes and a canonical text.
 * Shared by cfgdiskd's spec validation and the CLI's flag handling. */
#ifndef PN_ADDR_H
#define PN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PN_ADDR_MAX 64 /* "ffff:...:ffff/128" fits easily */

typedef struct {
    int family;              /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;         /* for plain addresses: 32 or 128 */
    char text[PN_ADDR_MAX];  /* canonical: "10.0.0.1/24", "fd00::1" */
} pn_addr_t;

/* "A/P" (want_prefix) or "A" into a.  0, or -EINVAL with why saying how
 * the text is malformed. */
int pn_addr_parse(const char *s, bool want_prefix, pn_addr_t *a, const char **why);
/* Is a a network, no host bits set beyond its prefix? */
bool pn_addr_is_network(const pn_addr_t *a);
/* The network a lies in, as text ("10.0.0.0/24"). */
void pn_addr_network(const pn_addr_t *a, char *out, size_t len);
/* Does the prefix net hold the address a (same family, same leading bits)? */
bool pn_addr_contains(const pn_addr_t *net, const pn_addr_t *a);

#endif
