/* The VDE v3 handshake parser; see vde.h for the wire format. */
#include "vde.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static uint32_t s_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* host order: the protocol is local-only */
    return v;
}

size_t sw_vde_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t n = 0;
    if (dstlen == 0)
        return 0;
    for (size_t i = 0; i < srclen && n + 1 < dstlen; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == 0)
            break;
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[n] = 0;
    return n;
}

int sw_vde_parse(const void *buf, size_t len, sw_vde_req_t *req, const char **why)
{
    const unsigned char *p = buf;
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;

    /* Judge the magic and version as soon as they arrive, so a hostile
     * client that sends garbage and then waits is refused at once. */
    if (len >= 4 && s_u32(p) != SW_VDE_MAGIC) {
        *why = "bad magic";
        return -EBADMSG;
    }
    if (len >= 8 && s_u32(p + 4) != SW_VDE_VERSION) {
        *why = "unsupported protocol version (only version 3 is spoken)";
        return -EPROTONOSUPPORT;
    }
    if (len > SW_VDE_REQ_MAX) {
        *why = "request too long";
        return -EMSGSIZE;
    }
    if (len < SW_VDE_HDR_LEN) {
        *why = "short request";
        return -EAGAIN;
    }

    memset(req, 0, sizeof(*req));
    req->type = s_u32(p + 8);
    unsigned kind = req->type & 0xffu;
    if (kind != SW_VDE_REQ_NEW_CONTROL && kind != SW_VDE_REQ_NEW_PORT0) {
        *why = "unknown request type";
        return -EINVAL;
    }
    req->port = kind == SW_VDE_REQ_NEW_PORT0 ? 0 : req->type >> 8;

    _Static_assert(sizeof(struct sockaddr_un) == 110, "sockaddr_un is 110 bytes on Linux");
    memcpy(&req->addr, p + 12, sizeof(req->addr));
    if (req->addr.sun_family != AF_UNIX) {
        *why = "client address is not AF_UNIX";
        return -EINVAL;
    }
    if (req->addr.sun_path[0] == 0) {
        /* Abstract: any bytes after the NUL, but not all empty. */
        int nonzero = 0;
        for (size_t i = 1; i < sizeof(req->addr.sun_path); i++)
            nonzero |= req->addr.sun_path[i];
        if (!nonzero) {
            *why = "empty client address";
            return -EINVAL;
        }
        req->abstract = 1;
    } else if (!memchr(req->addr.sun_path, 0, sizeof(req->addr.sun_path))) {
        *why = "client path is not NUL-terminated";
        return -EINVAL;
    }

    /* UML's 124-byte form carries two bytes of zero padding here, which
     * sanitize() reads as an empty description. */
    sw_vde_sanitize(req->descr, sizeof(req->descr), (const char *)p + SW_VDE_HDR_LEN,
                    len - SW_VDE_HDR_LEN);
    return 0;
}
