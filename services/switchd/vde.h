/* sw_vde: the VDE / uml_switch version 3 control handshake.
 *
 * A client connects a SOCK_STREAM to RUN/lan/<lan>/ctl and sends one
 * struct request_v3 (packed on the wire):
 *
 *     uint32 magic (0xfeedface) | uint32 version (3) | uint32 type |
 *     struct sockaddr_un sock (110 bytes) | char description[]
 *
 * VDE's libvdeplug sends 122 + strlen(description) bytes; UML's daemon
 * transport sends its unpacked struct, 124 bytes (two bytes of padding).
 * type & 0xff is REQ_NEW_CONTROL (0) or REQ_NEW_PORT0 (1); type >> 8 is
 * the port number the client asks for (0 = any).  The switch answers with
 * one struct sockaddr_un naming its data socket for that port; frames then
 * travel as one datagram each, and the port lives as long as the stream.
 *
 * This module only parses; it never touches a socket, so the fuzzer and
 * the unit test drive it directly.
 */
#ifndef SW_VDE_H
#define SW_VDE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#define SW_VDE_MAGIC 0xfeedfaceu
#define SW_VDE_VERSION 3u
#define SW_VDE_HDR_LEN 122u      /* magic + version + type + sockaddr_un */
#define SW_VDE_DESCR_MAX 128u    /* bytes of description kept (sanitised) */
#define SW_VDE_REQ_MAX 1024u     /* longest request we read; longer is refused */

enum { SW_VDE_REQ_NEW_CONTROL = 0, SW_VDE_REQ_NEW_PORT0 = 1 };

typedef struct {
    uint32_t type;                       /* raw type field */
    unsigned port;                       /* requested port, 0 = any */
    struct sockaddr_un addr;             /* the client's data socket */
    int abstract;                        /* addr is in the abstract namespace */
    char descr[SW_VDE_DESCR_MAX + 1];    /* printable ASCII, NUL-terminated */
} sw_vde_req_t;

/* Parse the bytes received so far on a control stream.
 * Returns 0 with *req filled, -EAGAIN when more bytes are needed,
 * -EBADMSG bad magic, -EPROTONOSUPPORT version other than 3,
 * -EINVAL a bad type or client address, -EMSGSIZE request too long.
 * why (may be NULL) receives a static phrase naming the problem. */
int sw_vde_parse(const void *buf, size_t len, sw_vde_req_t *req, const char **why);

/* Copy src to dst (dstlen > 0) keeping printable ASCII and turning
 * everything else into '?', stopping at NUL; returns strlen(dst). */
size_t sw_vde_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
