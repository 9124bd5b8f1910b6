/* Atomic state files: write a temp file, fsync it, rename it over the old
 * one, fsync the directory — a crash leaves the old or the new, never half. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pn_svc.h"

int pn_io_all(int fd, void *buf, size_t n, int64_t off, bool out)
{
    for (char *p = buf; n > 0;) {
        ssize_t r = off < 0 ? (out ? write(fd, p, n) : read(fd, p, n))
                            : (out ? pwrite(fd, p, n, (off_t)off) : pread(fd, p, n, (off_t)off));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        p += r;
        n -= (size_t)r;
        if (off >= 0)
            off += r;
    }
    return 0;
}

int pn_write_all(int fd, const void *buf, size_t n)
{
    return pn_io_all(fd, (void *)buf, n, -1, true);
}

int pn_file_commit(int fd, const char *tmp, const char *path, bool durable)
{
    int e = durable && fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && !e)
        e = -errno;
    if (!e && rename(tmp, path) < 0)
        e = -errno;
    if (e)
        unlink(tmp);
    return e;
}

static int s_write_atomic(const char *path, const void *data, size_t len, unsigned mode, bool durable)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    int e = pn_write_all(fd, data, len);
    if (e) {
        close(fd);
        unlink(tmp);
        return e;
    }
    if ((e = pn_file_commit(fd, tmp, path, durable)) < 0)
        return e;
    if (!durable)
        return 0;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int pn_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    return s_write_atomic(path, data, len, mode, true);
}

int pn_file_replace(const char *path, const void *data, size_t len, unsigned mode)
{
    return s_write_atomic(path, data, len, mode, false);
}

int pn_file_read(const char *path, size_t max, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    if (!b) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(b);
                close(fd);
                return -EFBIG;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(b, cap + 1);
            if (!nb) {
                free(b);
                close(fd);
                return -ENOMEM;
            }
            b = nb;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            free(b);
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = 0;
    *buf = b;
    if (len)
        *len = n;
    return 0;
}

int pn_state_save_opt(const char *path, const pn_val_t *v, bool durable)
{
    char *buf;
    size_t len;
    int r = pn_val_encode(v, &buf, &len);
    if (r)
        return r;
    r = s_write_atomic(path, buf, len, 0644, durable);
    free(buf);
    return r;
}

int pn_state_save(const char *path, const pn_val_t *v)
{
    char *buf;
    size_t len;
    int r = pn_val_encode(v, &buf, &len);
    if (r)
        return r;
    r = pn_file_write_atomic(path, buf, len, 0644);
    free(buf);
    return r;
}

int pn_state_load(const char *path, pn_val_t **v)
{
    char *buf;
    size_t len;
    int r = pn_file_read(path, 64u << 20, &buf, &len);
    if (r)
        return r;
    pn_limits_t lim = pn_default_limits;
    lim.max_msg = 64u << 20;
    lim.max_items = 1u << 20;
    char err[256];
    r = pn_val_decode(buf, len, &lim, v, err, sizeof(err));
    free(buf);
    return r == PN_OK ? 0 : -EINVAL;
}
