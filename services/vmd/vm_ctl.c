/* vm_ctl: the guests' control channels, spoken synchronously with short
 * deadlines: qemu's QMP (JSON over a unix stream) and UML's mconsole
 * (datagrams on a unix socket). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vm_ctl.h"
#include "pn_svc.h"

static int s_connect(const char *path, int type)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/* Read until a complete line containing one of the keys arrives. */
static int s_qmp_wait(int fd, char *buf, size_t len, const char *want, int timeout_ms)
{
    size_t have = 0;
    uint64_t end = pn_mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        buf[have] = 0;
        char *line;
        while ((line = strchr(buf, '\n'))) {
            *line = 0;
            if (strstr(buf, "\"error\""))
                return -EPROTO; /* buf holds that line */
            if (strstr(buf, want))
                return 0;
            size_t rest = have - (size_t)(line + 1 - buf);
            memmove(buf, line + 1, rest);
            have = rest;
            buf[have] = 0;
        }
        uint64_t now = pn_mono_ms();
        if (now >= end)
            return -ETIMEDOUT;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, (int)(end - now));
        if (r <= 0)
            return r < 0 ? -errno : -ETIMEDOUT;
        if (have + 1 >= len)
            have = 0; /* an event larger than our buffer: drop it */
        ssize_t n = read(fd, buf + have, len - 1 - have);
        if (n <= 0)
            return n < 0 ? -errno : -ECONNRESET;
        have += (size_t)n;
    }
}

int vm_qmp(const char *path, const char *cmd_json, char *err, size_t errlen, int timeout_ms)
{
    int fd = s_connect(path, SOCK_STREAM);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to QMP %s: %s", path, strerror(-fd));
        return fd;
    }
    char buf[8192];
    int r = s_qmp_wait(fd, buf, sizeof(buf), "\"QMP\"", timeout_ms);
    static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";
    if (r == 0 && write(fd, caps, sizeof(caps) - 1) != (ssize_t)(sizeof(caps) - 1))
        r = -EIO;
    if (r == 0)
        r = s_qmp_wait(fd, buf, sizeof(buf), "\"return\"", timeout_ms);
    if (r == 0) {
        size_t n = strlen(cmd_json);
        if (write(fd, cmd_json, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
            r = -EIO;
    }
    if (r == 0)
        r = s_qmp_wait(fd, buf, sizeof(buf), "\"return\"", timeout_ms);
    if (r == -EPROTO)
        snprintf(err, errlen, "qemu refused: %.200s", buf);
    else if (r < 0)
        snprintf(err, errlen, "QMP %s: %s", path, strerror(-r));
    close(fd);
    return r;
}

/* UML mconsole: struct mc_request { u32 magic, version, len; char data[512]; }
 * answered by struct mc_reply { u32 err, more, len; char data[512]; }. */
#define MC_MAGIC 0xcafebabeu
#define MC_VERSION 2u
#define MC_LEN 512

int vm_mconsole(const char *path, const char *cmd, char *reply, size_t replylen, int timeout_ms)
{
    struct {
        uint32_t magic, version, len;
        char data[MC_LEN];
    } req = { .magic = MC_MAGIC, .version = MC_VERSION };
    size_t n = strlen(cmd);
    if (n >= MC_LEN) {
        snprintf(reply, replylen, "mconsole command too long");
        return -E2BIG;
    }
    memcpy(req.data, cmd, n);
    req.len = (uint32_t)n;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* mconsole answers to the sender's address: bind an abstract one. */
    struct sockaddr_un me = { .sun_family = AF_UNIX };
    snprintf(me.sun_path + 1, sizeof(me.sun_path) - 1, "plugnet-mc-%d-%llu", getpid(),
             (unsigned long long)pn_now_ns());
    socklen_t melen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(me.sun_path + 1));
    struct sockaddr_un to = { .sun_family = AF_UNIX };
    snprintf(to.sun_path, sizeof(to.sun_path), "%s", path);
    int r = 0;
    if (bind(fd, (struct sockaddr *)&me, melen) < 0 ||
        sendto(fd, &req, offsetof(__typeof__(req), data) + n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
        r = -errno;
        snprintf(reply, replylen, "mconsole %s: %s", path, strerror(-r));
        close(fd);
        return r;
    }
    reply[0] = 0;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int pr = poll(&p, 1, timeout_ms);
        if (pr <= 0) {
            r = -ETIMEDOUT;
            snprintf(reply, replylen, "mconsole %s: no answer", path);
            break;
        }
        struct {
            uint32_t err, more, len;
            char data[MC_LEN];
        } rep;
        ssize_t got = recv(fd, &rep, sizeof(rep), 0);
        if (got < (ssize_t)offsetof(__typeof__(rep), data)) {
            r = -EPROTO;
            break;
        }
        size_t dl = rep.len < MC_LEN ? rep.len : MC_LEN - 1;
        if ((size_t)got - offsetof(__typeof__(rep), data) < dl)
            dl = (size_t)got - offsetof(__typeof__(rep), data);
        rep.data[dl] = 0;
        size_t cur = strlen(reply);
        snprintf(reply + cur, replylen - cur, "%s", rep.data);
        if (rep.err)
            r = -EIO;
        if (!rep.more)
            break;
    }
    close(fd);
    return r;
}
