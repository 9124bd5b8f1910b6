/* plugnet-agent: the channel to the host (docs/AGENT.md).  Finds and
 * opens the device (the virtio port org.plugnet.agent.0, else on UML the
 * serial line /dev/ttyS1; a tty in raw mode), or serves a unix socket;
 * queues frames (urgent ones jump the bulk queue), writes them, reads and
 * decodes what the host sends and hands it to the caller's callbacks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define VPORT_NAME "org.plugnet.agent.0"

void ga_send(ga_t *a, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
    if (a->fd < 0)
        return;
    /* A PONG or a CREDIT jumps the queued bulk data: the host's keepalive
     * is answered at once however much output waits (ag_wire_flush). */
    if (ag_frame_put(ag_type_urgent(type) ? &a->urg : &a->out, type, flags, sid, p, n) < 0)
        ga_log("out of memory queueing a %s frame", ag_type_name(type));
}

void ga_hello(ga_t *a, uint8_t flags)
{
    ag_buf_t p = { 0 };
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    ag_tlv_str(&p, AG_K_VERSION, AG_AGENT_VERSION);
    ag_tlv_u32(&p, AG_K_PROTO_MIN, AG_PROTO_MIN);
    ag_tlv_u32(&p, AG_K_PROTO_MAX, AG_PROTO_MAX);
    ag_tlv_u64(&p, AG_K_INSTANCE, a->instance);
    ag_tlv_u64(&p, AG_K_UPTIME_MS, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
    ag_tlv_str(&p, AG_K_HOSTNAME, host);
    ag_tlv_u32(&p, AG_K_WINDOW, a->budget ? 0 : a->window);
    ga_send(a, AG_T_HELLO, flags, 0, ag_buf_head(&p), ag_buf_used(&p));
    ag_buf_free(&p);
}

void ga_chan_close(ga_t *a, const char *why)
{
    if (a->fd >= 0)
        ga_log("channel closed: %s", why);
    ga_close(&a->fd);
    ag_dec_reset(&a->dec);
    a->out.off = a->out.len = 0;
    a->urg.off = a->urg.len = 0;
    ag_wire_reset(&a->wire);
    a->reopen_at = ga_now_ms() + 500;
}

/* Make the device node dev from sysfs' "major:minor" at sysdev: 0 or -errno. */
static int s_mknod_from_sys(const char *sysdev, const char *dev)
{
    char b[64];
    int fd = open(sysdev, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, b, sizeof b - 1);
    int e = errno;
    close(fd);
    if (n <= 0)
        return n < 0 ? -e : -EINVAL;
    b[n] = 0;
    unsigned ma, mi;
    if (sscanf(b, "%u:%u", &ma, &mi) != 2)
        return -EINVAL;
    return mknod(dev, S_IFCHR | 0600, makedev(ma, mi)) < 0 ? -errno : 0;
}

/* Find the channel device of this guest: 0 (its path in out) or -ENODEV. */
static int s_find_dev(char *out, size_t outlen)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            char p[300], name[128] = "";
            snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", de->d_name);
            int fd = open(p, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            ssize_t n = read(fd, name, sizeof name - 1);
            close(fd);
            if (n <= 0)
                continue;
            name[n] = 0;
            name[strcspn(name, "\n")] = 0;
            if (strcmp(name, VPORT_NAME))
                continue;
            snprintf(out, outlen, "/dev/%s", de->d_name);
            if (access(out, F_OK) < 0) {
                snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/dev", de->d_name);
                s_mknod_from_sys(p, out);
            }
            closedir(d);
            return 0;
        }
        closedir(d);
    }
    /* UML: the second serial line, wired by vmd to the host's relay. */
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char b[4096];
        ssize_t n = read(fd, b, sizeof b - 1);
        close(fd);
        if (n > 0) {
            b[n] = 0;
            if (strstr(b, "User Mode Linux") || strstr(b, "model name\t: UML")) {
                snprintf(out, outlen, "/dev/ttyS1");
                if (access(out, F_OK) < 0)
                    s_mknod_from_sys("/sys/class/tty/ttyS1/dev", out);
                return 0;
            }
        }
    }
    return -ENODEV;
}

void ga_chan_open(ga_t *a)
{
    char dev[300];
    const char *path = a->path;
    if (a->mode == 0) {
        if (s_find_dev(dev, sizeof dev) < 0) {
            a->reopen_at = ga_now_ms() + 2000;
            return;
        }
        path = dev;
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        ga_log("cannot open %s: %s", path, strerror(errno));
        a->reopen_at = ga_now_ms() + 1000;
        return;
    }
    if (isatty(fd)) {
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {
            cfmakeraw(&t);
            /* No software or hardware flow control: every byte is data. */
            t.c_iflag &= ~(IXON | IXOFF | IXANY);
            t.c_cflag &= ~CRTSCTS;
            t.c_cflag |= CLOCAL | CREAD;
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
            cfsetispeed(&t, B115200);
            cfsetospeed(&t, B115200);
            tcsetattr(fd, TCSANOW, &t);
        }
    }
    a->fd = fd;
    a->reopen_at = 0;
    /* A serial line must never fill the tty's 4 KiB input buffer: UML's
     * line driver stops reading for good once the tty throttles it, and it
     * pushes all the line holds into the tty before we get to read.  So
     * the host keeps at most AG_TTY_WINDOW bytes in flight toward us, all
     * sessions together (a budget, s_grant), and starts each session
     * with none (window 0 in HELLO). */
    a->window = isatty(fd) ? AG_TTY_WINDOW : AG_WINDOW;
    a->budget = isatty(fd) ? AG_TTY_WINDOW : 0;
    ga_hello(a, 0); /* unsolicited: a host already connected learns a new agent is there */
}

void ga_chan_read(ga_t *a, const ga_chan_cb_t *cb, void *arg)
{
    for (int i = 0; i < 16; i++) {
        size_t room;
        long n = ag_dec_read(&a->dec, a->fd, &room);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            cb->closed(arg, n == 0 ? "end of file" : strerror((int)-n));
            return;
        }
        ag_frame_t f;
        int r;
        while ((r = ag_dec_next(&a->dec, &f)) != AG_DEC_MORE) {
            if (r == AG_DEC_CORRUPT) {
                ga_log("damaged %s frame on session %u", ag_type_name(f.type), f.sid);
                cb->damaged(arg, &f);
                continue;
            }
            if (f.lost)
                cb->lost(arg, f.lost);
            cb->frame(arg, &f);
            if (a->fd < 0)
                return;
        }
        cb->batch(arg);
        if ((size_t)n < room)
            return;
    }
}

int ga_chan_flush(ga_t *a)
{
    if (a->fd < 0 || (!ag_buf_used(&a->out) && !ag_buf_used(&a->urg)))
        return 0;
    long w = ag_wire_flush(&a->wire, &a->out, &a->urg, a->fd, SIZE_MAX, SIZE_MAX);
    return w < 0 ? (int)w : 0;
}

int ga_chan_listen(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        ga_log("socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
        int r = -errno;
        ga_log("cannot listen on %s: %s", path, strerror(-r));
        close(fd);
        return r;
    }
    return fd;
}
