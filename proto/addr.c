/* IP addresses and prefixes.  See pn_addr.h. */
#include "pn_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool s_digits(const char *s, unsigned max, unsigned *out)
{
    if (!*s || strlen(s) > 3 || (s[0] == '0' && s[1]))
        return false;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

int pn_addr_parse(const char *s, bool want_prefix, pn_addr_t *a, const char **why)
{
    char buf[PN_ADDR_MAX];
    memset(a, 0, sizeof *a);
    if (strlen(s) >= sizeof buf) {
        *why = "is too long for an address";
        return -EINVAL;
    }
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (want_prefix && !slash) {
        *why = "needs a prefix length (ADDRESS/PREFIX, e.g. 10.0.0.1/24)";
        return -EINVAL;
    }
    if (!want_prefix && slash) {
        *why = "must be a plain address without a prefix length";
        return -EINVAL;
    }
    if (slash)
        *slash = '\0';
    a->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(a->family, buf, a->addr) != 1) {
        *why = a->family == AF_INET6 ? "is not an IPv6 address" : "is not an IPv4 address";
        return -EINVAL;
    }
    unsigned maxp = a->family == AF_INET ? 32 : 128;
    a->prefix = maxp;
    if (slash && !s_digits(slash + 1, maxp, &a->prefix)) {
        *why = a->family == AF_INET ? "has a bad prefix length (0..32)"
                                    : "has a bad prefix length (0..128)";
        return -EINVAL;
    }
    char t[INET6_ADDRSTRLEN];
    inet_ntop(a->family, a->addr, t, sizeof t);
    if (slash)
        snprintf(a->text, sizeof a->text, "%s/%u", t, a->prefix);
    else
        snprintf(a->text, sizeof a->text, "%s", t);
    return 0;
}

/* The bits of byte i that a prefix of length prefix covers. */
static uint8_t s_mask(unsigned prefix, unsigned i)
{
    unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
    return keep ? (uint8_t)(0xff << (8 - keep)) : 0;
}

static unsigned s_bytes(const pn_addr_t *a)
{
    return a->family == AF_INET ? 4 : 16;
}

bool pn_addr_is_network(const pn_addr_t *a)
{
    for (unsigned i = 0; i < s_bytes(a); i++)
        if (a->addr[i] & ~s_mask(a->prefix, i))
            return false;
    return true;
}

void pn_addr_network(const pn_addr_t *a, char *out, size_t len)
{
    pn_addr_t n = *a;
    for (unsigned i = 0; i < s_bytes(a); i++)
        n.addr[i] &= s_mask(a->prefix, i);
    char t[INET6_ADDRSTRLEN];
    inet_ntop(n.family, n.addr, t, sizeof t);
    snprintf(out, len, "%s/%u", t, n.prefix);
}

bool pn_addr_contains(const pn_addr_t *net, const pn_addr_t *a)
{
    if (net->family != a->family)
        return false;
    for (unsigned i = 0; i < s_bytes(net); i++)
        if ((net->addr[i] ^ a->addr[i]) & s_mask(net->prefix, i))
            return false;
    return true;
}
