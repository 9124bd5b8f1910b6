/* The VDE v3 handshake parser against the request forms real clients send
 * and the ones hostile clients send. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "../../services/switchd/vde.h"
#include "tap.h"

/* Build a request the way libvdeplug does: packed, 122 + strlen(descr). */
static size_t mk(unsigned char *buf, uint32_t magic, uint32_t version, uint32_t type,
                 const char *path, int abstract, const char *descr, size_t pad)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (abstract)
        memcpy(sa.sun_path + 1, path, strlen(path));
    else
        strcpy(sa.sun_path, path);
    memcpy(buf, &magic, 4);
    memcpy(buf + 4, &version, 4);
    memcpy(buf + 8, &type, 4);
    memcpy(buf + 12, &sa, sizeof(sa));
    size_t n = 122;
    if (descr) {
        memcpy(buf + n, descr, strlen(descr));
        n += strlen(descr);
    }
    memset(buf + n, 0, pad);
    return n + pad;
}

int main(void)
{
    unsigned char buf[8192];
    sw_vde_req_t r;
    const char *why;
    size_t n;

    n = mk(buf, SW_VDE_MAGIC, 3, 0, "/tmp/x/.01234-00000", 0, "vde_plug: user=root", 0);
    ok(n == 122 + 19, "libvdeplug form is 122 + n bytes");
    ok(sw_vde_parse(buf, n, &r, &why) == 0, "libvdeplug request parses");
    ok(strcmp(r.addr.sun_path, "/tmp/x/.01234-00000") == 0, "named client address kept");
    ok(!r.abstract, "named address is not abstract");
    ok(strcmp(r.descr, "vde_plug: user=root") == 0, "description kept");
    ok(r.port == 0, "no port requested");

    n = mk(buf, SW_VDE_MAGIC, 3, 0, "\x01\x02\x03\x04umlpid", 1, NULL, 2);
    ok(n == 124, "UML form is 124 bytes");
    ok(sw_vde_parse(buf, n, &r, &why) == 0, "UML request with padding parses");
    ok(r.abstract && r.addr.sun_path[0] == 0 && r.addr.sun_path[1] == 1, "abstract address kept");
    ok(r.descr[0] == 0, "padding reads as an empty description");

    n = mk(buf, SW_VDE_MAGIC, 3, 0 + (7u << 8), "/a", 0, "p", 0);
    ok(sw_vde_parse(buf, n, &r, &why) == 0 && r.port == 7, "port number taken from type >> 8");
    n = mk(buf, SW_VDE_MAGIC, 3, SW_VDE_REQ_NEW_PORT0, "/a", 0, "", 0);
    ok(sw_vde_parse(buf, n, &r, &why) == 0 && r.port == 0, "REQ_NEW_PORT0 asks for any port");

    n = mk(buf, 0xdeadbeef, 3, 0, "/a", 0, "", 0);
    ok(sw_vde_parse(buf, n, &r, &why) == -EBADMSG && why, "bad magic refused: %s", why);
    ok(sw_vde_parse(buf, 4, &r, &why) == -EBADMSG, "bad magic refused from 4 bytes on");
    n = mk(buf, SW_VDE_MAGIC, 2, 0, "/a", 0, "", 0);
    ok(sw_vde_parse(buf, n, &r, &why) == -EPROTONOSUPPORT, "version 2 refused: %s", why);
    ok(sw_vde_parse(buf, 8, &r, &why) == -EPROTONOSUPPORT, "version judged from 8 bytes on");
    n = mk(buf, SW_VDE_MAGIC, 3, 0, "/a", 0, "", 0);
    ok(sw_vde_parse(buf, 0, &r, &why) == -EAGAIN, "empty input wants more");
    ok(sw_vde_parse(buf, 60, &r, &why) == -EAGAIN, "short request wants more");
    ok(sw_vde_parse(buf, 121, &r, &why) == -EAGAIN, "121 bytes want more");

    memset(buf + 122, 'A', 4096);
    ok(sw_vde_parse(buf, 122 + 4096, &r, &why) == -EMSGSIZE, "4 KiB description refused");
    ok(sw_vde_parse(buf, 122 + 500, &r, &why) == 0 && strlen(r.descr) == SW_VDE_DESCR_MAX,
       "long description truncated to %u bytes", SW_VDE_DESCR_MAX);

    n = mk(buf, SW_VDE_MAGIC, 3, 0, "/a", 0, "bad\x1b[31m\x7f\xff!", 0);
    ok(sw_vde_parse(buf, n, &r, &why) == 0 && strcmp(r.descr, "bad?[31m?" "?!") == 0,
       "control bytes in the description sanitised (%s)", r.descr);

    n = mk(buf, SW_VDE_MAGIC, 3, 0, "", 1, "", 0);
    ok(sw_vde_parse(buf, n, &r, &why) == -EINVAL, "empty abstract address refused");
    n = mk(buf, SW_VDE_MAGIC, 3, 0, "/a", 0, "", 0);
    buf[12] = 2; buf[13] = 0; /* AF_INET */
    ok(sw_vde_parse(buf, n, &r, &why) == -EINVAL, "non-AF_UNIX address refused");
    n = mk(buf, SW_VDE_MAGIC, 3, 0, "/a", 0, "", 0);
    memset(buf + 14, 'x', 108);
    ok(sw_vde_parse(buf, n, &r, &why) == -EINVAL, "unterminated path refused");
    n = mk(buf, SW_VDE_MAGIC, 3, 5, "/a", 0, "", 0);
    ok(sw_vde_parse(buf, n, &r, &why) == -EINVAL, "unknown request type refused");
    return done();
}
