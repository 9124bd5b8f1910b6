/* topo_value: kinds and the single values of a topology file (names, MACs,
 * addresses, interfaces, memory sizes), checked and normalised. */
#include "topo.h"
#include "topo_value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ kinds */

static const struct {
    const char *name;
    topo_kind_t kind;
} s_kinds[] = {
    { "uml", TOPO_UML },   { "qemu", TOPO_QEMU },         { "ns", TOPO_NS },
    { "bridge", TOPO_BRIDGE }, { "linux", TOPO_NS }, { "generic_vm", TOPO_QEMU },
};

const char *topo_kind_name(topo_kind_t k)
{
    switch (k) {
    case TOPO_UML: return "uml";
    case TOPO_QEMU: return "qemu";
    case TOPO_NS: return "ns";
    case TOPO_BRIDGE: return "bridge";
    }
    return "?";
}

int topo_kind_parse(const char *s)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s && strcmp(s, s_kinds[i].name) == 0)
            return (int)s_kinds[i].kind;
    return -1;
}

/* -------------------------------------------------------- validators */

bool topo_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 15 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static int s_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool topo_mac_valid(const char *s, char out[18])
{
    uint8_t b[6];
    if (!s || strlen(s) != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        int h = s_hexval(s[3 * i]), l = s_hexval(s[3 * i + 1]);
        if (h < 0 || l < 0 || (i < 5 && s[3 * i + 2] != ':'))
            return false;
        b[i] = (uint8_t)(h << 4 | l);
    }
    if (out)
        snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return true;
}

bool topo_mac_multicast(const char mac[18])
{
    return s_hexval(mac[1]) & 1;
}

bool topo_ipv4_valid(const char *s, bool need_prefix)
{
    char buf[32];
    struct in_addr a;
    if (!s || strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = 0;
        char *end;
        const char *p = slash + 1;
        if (!isdigit((unsigned char)*p))
            return false;
        long pl = strtol(p, &end, 10);
        if (*end || pl < 0 || pl > 32 || end - p > 2)
            return false;
    } else if (need_prefix) {
        return false;
    }
    return inet_pton(AF_INET, buf, &a) == 1;
}

bool topo_env_name_valid(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

bool topo_port_label_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 15)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

int topo_ifindex(const char *s)
{
    if (strncmp(s, "eth", 3) != 0 || !isdigit((unsigned char)s[3]))
        return -1;
    if (s[3] == '0' && s[4])
        return -1;
    char *end;
    long v = strtol(s + 3, &end, 10);
    if (*end || v < 0 || v > TOPO_NIC_MAX)
        return -1;
    return (int)v;
}

bool topo_parse_mem(const char *s, uint64_t *mb)
{
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (errno || end == p)
        return false;
    while (*end == ' ')
        end++;
    char unit[8] = "";
    size_t n = strlen(end);
    while (n && end[n - 1] == ' ')
        n--;
    if (n >= sizeof unit)
        return false;
    for (size_t i = 0; i < n; i++)
        unit[i] = (char)tolower((unsigned char)end[i]);
    unit[n] = 0;
    double mult;
    if (!*unit || !strcmp(unit, "m") || !strcmp(unit, "mb") || !strcmp(unit, "mib"))
        mult = 1;
    else if (!strcmp(unit, "g") || !strcmp(unit, "gb") || !strcmp(unit, "gib"))
        mult = 1024;
    else if (!strcmp(unit, "k") || !strcmp(unit, "kb") || !strcmp(unit, "kib"))
        mult = 1.0 / 1024;
    else if (!strcmp(unit, "t") || !strcmp(unit, "tb") || !strcmp(unit, "tib"))
        mult = 1024.0 * 1024;
    else if (!strcmp(unit, "b"))
        mult = 1.0 / (1024 * 1024);
    else
        return false;
    double r = v * mult;
    if (r > 1e12)
        r = 1e12;
    *mb = (uint64_t)r;
    return true;
}
