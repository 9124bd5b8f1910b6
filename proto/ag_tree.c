/* ag_tree: walker and reader of the cp stream.  See ag_tree.h. */
#include "ag_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_chan.h"

/* ---------------------------------------------------------------- walker */

struct ag_tree_w {
    char fs[PATH_MAX + 1]; /* the local path of the current entry */
    size_t relstart;       /* where the stream path starts in fs */
    bool recursive, started, done;
    int failed; /* 0, or the negative errno it failed with */
    DIR *stack[AG_TREE_MAX_DEPTH];
    size_t stack_len[AG_TREE_MAX_DEPTH]; /* strlen(fs) of each open dir */
    int depth;
    int fd;             /* file whose content is being sent */
    uint64_t remaining; /* of that file */
    uint32_t crc;
    ag_buf_t out;       /* headers and trailers not yet returned */
    uint64_t bytes;
    char err[512];
};

/* The walker failed with err (a negative errno), for the reason fmt says. */
static int s_werr(ag_tree_w_t *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int s_werr(ag_tree_w_t *w, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    w->failed = err;
    return err;
}

static int s_emit(ag_tree_w_t *w, int type, uint32_t mode, uint64_t size, const void *extra, size_t elen)
{
    const char *rel = w->fs + w->relstart;
    size_t plen = type == AG_TR_END ? 0 : strlen(rel);
    uint8_t h[AG_TREE_HDR] = { 0 };
    ag_put32(h, AG_TREE_MAGIC);
    h[4] = (uint8_t)type;
    ag_put16(h + 6, (uint16_t)plen);
    ag_put32(h + 8, mode & 07777);
    ag_put64(h + 12, size);
    if (ag_buf_append(&w->out, h, sizeof h) < 0 || ag_buf_append(&w->out, rel, plen) < 0 ||
        ag_buf_append(&w->out, extra, elen) < 0) {
        return s_werr(w, -ENOMEM, "out of memory");
    }
    return 0;
}

/* Emit the record of w->fs (already lstat'ed into st). */
static int s_entry(ag_tree_w_t *w, const struct stat *st)
{
    if (strlen(w->fs + w->relstart) > AG_TREE_MAX_PATH)
        return s_werr(w, -ENAMETOOLONG, "%s: path too long", w->fs);
    if (S_ISREG(st->st_mode)) {
        int fd = open(w->fs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return s_werr(w, -errno, "cannot open %s: %s", w->fs, strerror(errno));
        w->fd = fd;
        w->remaining = (uint64_t)st->st_size;
        w->crc = 0;
        return s_emit(w, AG_TR_FILE, st->st_mode, (uint64_t)st->st_size, NULL, 0);
    }
    if (S_ISDIR(st->st_mode)) {
        if (!w->recursive)
            return s_werr(w, -EISDIR, "%s is a directory (use -r)", w->fs);
        if (w->depth >= AG_TREE_MAX_DEPTH)
            return s_werr(w, -ELOOP, "%s: directories nest deeper than %d", w->fs, AG_TREE_MAX_DEPTH);
        DIR *d = opendir(w->fs);
        if (!d)
            return s_werr(w, -errno, "cannot open directory %s: %s", w->fs, strerror(errno));
        w->stack[w->depth] = d;
        w->stack_len[w->depth] = strlen(w->fs);
        w->depth++;
        return s_emit(w, AG_TR_DIR, st->st_mode, 0, NULL, 0);
    }
    if (S_ISLNK(st->st_mode)) {
        char target[AG_TREE_MAX_PATH + 1];
        ssize_t n = readlink(w->fs, target, sizeof target);
        if (n < 0 || n > AG_TREE_MAX_PATH)
            return s_werr(w, n < 0 ? -errno : -ENAMETOOLONG, "cannot read link %s: %s", w->fs,
                          n < 0 ? strerror(errno) : "too long");
        return s_emit(w, AG_TR_LINK, 0777, (uint64_t)n, target, (size_t)n);
    }
    return 0; /* devices, fifos, sockets: not copied */
}

ag_tree_w_t *ag_tree_w_new(const char *src, bool recursive, char *err, size_t errlen)
{
    ag_tree_w_t *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->fd = -1;
    w->recursive = recursive;
    /* Resolve the parent, keep the last component as is (a symlink given
     * by name is copied as a symlink only when it is not the root). */
    if (!realpath(src, w->fs)) {
        snprintf(err, errlen, "cannot access %s: %s", src, strerror(errno));
        free(w);
        return NULL;
    }
    char *slash = strrchr(w->fs, '/');
    if (!slash || !slash[1]) {
        snprintf(err, errlen, "cannot copy %s: it names no file", src);
        free(w);
        return NULL;
    }
    w->relstart = (size_t)(slash + 1 - w->fs);
    return w;
}

static int s_step(ag_tree_w_t *w)
{
    struct stat st;
    if (!w->started) {
        w->started = true;
        if (lstat(w->fs, &st) < 0)
            return s_werr(w, -errno, "cannot access %s: %s", w->fs, strerror(errno));
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
            return s_werr(w, -EINVAL, "%s is not a file or directory", w->fs);
        return s_entry(w, &st);
    }
    while (w->depth > 0) {
        DIR *d = w->stack[w->depth - 1];
        size_t base = w->stack_len[w->depth - 1];
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                w->fs[base] = 0;
                return s_werr(w, -errno, "cannot read directory %s: %s", w->fs, strerror(errno));
            }
            closedir(d);
            w->depth--;
            continue;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        size_t nl = strlen(de->d_name);
        if (base + 1 + nl > PATH_MAX)
            return s_werr(w, -ENAMETOOLONG, "%s/%s: path too long", w->fs, de->d_name);
        w->fs[base] = '/';
        memcpy(w->fs + base + 1, de->d_name, nl + 1);
        if (lstat(w->fs, &st) < 0) {
            if (errno == ENOENT)
                continue; /* vanished meanwhile */
            return s_werr(w, -errno, "cannot access %s: %s", w->fs, strerror(errno));
        }
        return s_entry(w, &st);
    }
    w->done = true;
    return s_emit(w, AG_TR_END, 0, 0, NULL, 0);
}

long ag_tree_w_read(ag_tree_w_t *w, uint8_t *buf, size_t cap)
{
    return ag_tree_w_read_crc(w, buf, cap, NULL);
}

long ag_tree_w_read_crc(ag_tree_w_t *w, uint8_t *buf, size_t cap, uint32_t *crc)
{
    size_t n = 0;
    uint32_t pc = 0; /* CRC of buf[0..n) */
    while (n < cap) {
        if (w->failed)
            return w->failed;
        size_t pend = ag_buf_used(&w->out);
        if (pend) {
            size_t k = pend < cap - n ? pend : cap - n;
            memcpy(buf + n, ag_buf_head(&w->out), k);
            if (crc)
                pc = ag_crc32c(pc, buf + n, k);
            ag_buf_consume(&w->out, k);
            n += k;
            continue;
        }
        if (w->fd >= 0) {
            if (w->remaining) {
                size_t want = cap - n;
                if (want > w->remaining)
                    want = (size_t)w->remaining;
                ssize_t r = read(w->fd, buf + n, want);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    return s_werr(w, r < 0 ? -errno : -EIO, "cannot read %s: %s", w->fs,
                                  r < 0 ? strerror(errno) : "file shrank while copying");
                if (crc) {
                    /* One pass for both: the file's CRC and the caller's. */
                    uint32_t c = ag_crc32c(0, buf + n, (size_t)r);
                    w->crc = ag_crc32c_combine(w->crc, c, (uint64_t)r);
                    pc = ag_crc32c_combine(pc, c, (uint64_t)r);
                } else {
                    w->crc = ag_crc32c(w->crc, buf + n, (size_t)r);
                }
                w->remaining -= (uint64_t)r;
                w->bytes += (uint64_t)r;
                n += (size_t)r;
                continue;
            }
            uint8_t t[4];
            ag_put32(t, w->crc);
            close(w->fd);
            w->fd = -1;
            if (ag_buf_append(&w->out, t, 4) < 0)
                return s_werr(w, -ENOMEM, "out of memory");
            continue;
        }
        if (w->done)
            break;
        int e = s_step(w);
        if (e < 0)
            return e;
    }
    if (crc)
        *crc = pc;
    return (long)n;
}

const char *ag_tree_w_error(const ag_tree_w_t *w)
{
    return w->err;
}

uint64_t ag_tree_w_bytes(const ag_tree_w_t *w)
{
    return w->bytes;
}

void ag_tree_w_free(ag_tree_w_t **w_p)
{
    ag_tree_w_t *w = *w_p;
    if (!w)
        return;
    for (int i = 0; i < w->depth; i++)
        closedir(w->stack[i]);
    if (w->fd >= 0)
        close(w->fd);
    ag_buf_free(&w->out);
    free(w);
    *w_p = NULL;
}

/* ---------------------------------------------------------------- reader */

enum { R_HDR, R_PATH, R_DATA, R_CRC, R_LINK, R_DONE, R_FAILED };

typedef struct {
    char *path;
    uint32_t mode;
} s_dirmode_t;

#define MAX_DIRMODES 65536

struct ag_tree_r {
    char *dst;
    int state;
    uint8_t hdr[AG_TREE_HDR];
    size_t have;                 /* bytes of the current piece */
    int type;
    uint32_t mode;
    uint64_t size, remaining;
    size_t pathlen;
    char path[AG_TREE_MAX_PATH + 1];
    char link[AG_TREE_MAX_PATH + 1];
    uint8_t crcbuf[4];
    uint32_t crc;
    char root[AG_TREE_MAX_PATH + 1]; /* name of the first record */
    char base[PATH_MAX + 1];         /* where the root lands */
    char target[PATH_MAX + 1];       /* current entry */
    int fd;
    s_dirmode_t *dirs;
    size_t ndirs;
    uint64_t bytes;
    int failed; /* the negative errno it failed with (state R_FAILED) */
    char err[512];
};

/* The reader failed with err (a negative errno), for the reason fmt says. */
static int s_rerr(ag_tree_r_t *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int s_rerr(ag_tree_r_t *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    r->state = R_FAILED;
    r->failed = err;
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    return err;
}

ag_tree_r_t *ag_tree_r_new(const char *dst)
{
    ag_tree_r_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->dst = strdup(dst);
    if (!r->dst) {
        free(r);
        return NULL;
    }
    r->fd = -1;
    return r;
}

static bool s_path_ok(const char *p)
{
    if (!*p || *p == '/')
        return false;
    for (const char *c = p;;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        if (!e)
            return true;
        c = e + 1;
    }
}

/* out = a b c; the caller checked that it fits in PATH_MAX. */
static void s_join(char *out, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    memmove(out, a, la);
    memcpy(out + la, b, lb);
    memcpy(out + la + lb, c, lc + 1);
}

/* Every directory between base and the entry must be a real directory. */
static int s_parents_ok(ag_tree_r_t *r)
{
    size_t bl = strlen(r->base);
    char tmp[PATH_MAX + 1];
    memcpy(tmp, r->target, strlen(r->target) + 1);
    for (char *s = tmp + bl + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        struct stat st;
        if (lstat(tmp, &st) < 0 || !S_ISDIR(st.st_mode))
            return s_rerr(r, -ENOTDIR, "%s is not a directory", tmp);
        *s = '/';
    }
    return 0;
}

static int s_begin_entry(ag_tree_r_t *r)
{
    r->path[r->pathlen] = 0;
    if (r->type == AG_TR_END) {
        r->state = R_DONE;
        return 0;
    }
    if (memchr(r->path, 0, r->pathlen) || !s_path_ok(r->path))
        return s_rerr(r, -EPROTO, "refusing path '%.200s' in the stream", r->path);
    if (!r->root[0]) {
        if (strchr(r->path, '/'))
            return s_rerr(r, -EPROTO, "the stream does not start with its root");
        strcpy(r->root, r->path);
        struct stat st;
        size_t dl = strlen(r->dst);
        if (stat(r->dst, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (dl + 1 + strlen(r->root) > PATH_MAX)
                return s_rerr(r, -ENAMETOOLONG, "%s: path too long", r->dst);
            s_join(r->base, r->dst, r->dst[dl - 1] == '/' ? "" : "/", r->root);
        } else {
            if (dl && r->dst[dl - 1] == '/')
                return s_rerr(r, -ENOENT, "directory %s does not exist", r->dst);
            if (dl > PATH_MAX)
                return s_rerr(r, -ENAMETOOLONG, "%s: path too long", r->dst);
            strcpy(r->base, r->dst);
        }
        strcpy(r->target, r->base);
    } else {
        size_t rl = strlen(r->root);
        if (strncmp(r->path, r->root, rl) || r->path[rl] != '/')
            return s_rerr(r, -EPROTO, "path '%.200s' lies outside the copied tree", r->path);
        if (strlen(r->base) + strlen(r->path + rl) > PATH_MAX)
            return s_rerr(r, -ENAMETOOLONG, "%s%s: path too long", r->base, r->path + rl);
        s_join(r->target, r->base, "", r->path + rl);
        int e = s_parents_ok(r);
        if (e < 0)
            return e;
    }
    switch (r->type) {
    case AG_TR_FILE: {
        struct stat st;
        if (lstat(r->target, &st) == 0 && !S_ISREG(st.st_mode) && unlink(r->target) < 0)
            return s_rerr(r, -errno, "cannot replace %s: %s", r->target, strerror(errno));
        r->fd = open(r->target, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (r->fd < 0)
            return s_rerr(r, -errno, "cannot create %s: %s", r->target, strerror(errno));
        r->remaining = r->size;
        r->crc = 0;
        r->state = R_DATA;
        return 0;
    }
    case AG_TR_DIR: {
        struct stat st;
        if (lstat(r->target, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return s_rerr(r, -EEXIST, "cannot create directory %s: a file is in the way", r->target);
        } else if (mkdir(r->target, 0700) < 0)
            return s_rerr(r, -errno, "cannot create directory %s: %s", r->target, strerror(errno));
        if (r->ndirs < MAX_DIRMODES) {
            if (r->ndirs % 64 == 0) {
                s_dirmode_t *d = realloc(r->dirs, (r->ndirs + 64) * sizeof *d);
                if (!d)
                    return s_rerr(r, -ENOMEM, "out of memory");
                r->dirs = d;
            }
            r->dirs[r->ndirs].path = strdup(r->target);
            if (!r->dirs[r->ndirs].path)
                return s_rerr(r, -ENOMEM, "out of memory");
            r->dirs[r->ndirs++].mode = r->mode;
        } else {
            chmod(r->target, r->mode);
        }
        r->state = R_HDR;
        return 0;
    }
    case AG_TR_LINK:
        if (r->size == 0 || r->size > AG_TREE_MAX_PATH)
            return s_rerr(r, -EPROTO, "bad symlink target length in the stream");
        r->remaining = r->size;
        r->state = R_LINK;
        return 0;
    }
    return s_rerr(r, -EPROTO, "unknown record type %d in the stream", r->type);
}

static int s_end_file(ag_tree_r_t *r)
{
    if (ag_get32(r->crcbuf) != r->crc)
        return s_rerr(r, -EBADMSG, "%s: checksum mismatch, the copy is damaged", r->target);
    if (fchmod(r->fd, r->mode) < 0)
        return s_rerr(r, -errno, "cannot chmod %s: %s", r->target, strerror(errno));
    if (close(r->fd) < 0) {
        r->fd = -1;
        return s_rerr(r, -errno, "cannot write %s: %s", r->target, strerror(errno));
    }
    r->fd = -1;
    r->state = R_HDR;
    return 0;
}

/* n bytes of the current file's content; crc: the file's CRC after them. */
static int s_write_content(ag_tree_r_t *r, const uint8_t *p, size_t n, uint32_t crc)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = write(r->fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return s_rerr(r, -errno, "cannot write %s: %s", r->target, strerror(errno));
        done += (size_t)w;
    }
    r->crc = crc;
    r->bytes += n;
    r->remaining -= n;
    if (r->remaining == 0)
        r->state = R_CRC;
    return 0;
}

bool ag_tree_r_in_content(const ag_tree_r_t *r, size_t n)
{
    return r->state == R_DATA && n > 0 && n <= r->remaining;
}

int ag_tree_r_feed_content(ag_tree_r_t *r, const uint8_t *p, size_t n, uint32_t crc)
{
    if (!ag_tree_r_in_content(r, n))
        return ag_tree_r_feed(r, p, n);
    return s_write_content(r, p, n, ag_crc32c_combine(r->crc, crc, n));
}

int ag_tree_r_feed(ag_tree_r_t *r, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t k;
        int e;
        switch (r->state) {
        case R_FAILED:
            return r->failed;
        case R_DONE:
            return s_rerr(r, -EPROTO, "bytes after the end of the stream");
        case R_HDR:
            k = AG_TREE_HDR - r->have;
            k = k < n ? k : n;
            memcpy(r->hdr + r->have, p, k);
            r->have += k;
            p += k;
            n -= k;
            if (r->have < AG_TREE_HDR)
                break;
            r->have = 0;
            if (ag_get32(r->hdr) != AG_TREE_MAGIC)
                return s_rerr(r, -EPROTO, "the copy stream is corrupt (bad record magic)");
            r->type = r->hdr[4];
            r->pathlen = ag_get16(r->hdr + 6);
            r->mode = ag_get32(r->hdr + 8) & 07777;
            r->size = ag_get64(r->hdr + 12);
            if (r->pathlen > AG_TREE_MAX_PATH)
                return s_rerr(r, -EPROTO, "path too long in the stream");
            r->state = R_PATH;
            e = r->pathlen == 0 ? s_begin_entry(r) : 0;
            if (e < 0)
                return e;
            break;
        case R_PATH:
            k = r->pathlen - r->have;
            k = k < n ? k : n;
            memcpy(r->path + r->have, p, k);
            r->have += k;
            p += k;
            n -= k;
            if (r->have == r->pathlen) {
                r->have = 0;
                e = s_begin_entry(r);
                if (e < 0)
                    return e;
                if (r->state == R_DATA && r->remaining == 0)
                    r->state = R_CRC;
            }
            break;
        case R_DATA:
            k = n < r->remaining ? n : (size_t)r->remaining;
            e = s_write_content(r, p, k, ag_crc32c(r->crc, p, k));
            if (e < 0)
                return e;
            p += k;
            n -= k;
            break;
        case R_CRC:
            k = 4 - r->have;
            k = k < n ? k : n;
            memcpy(r->crcbuf + r->have, p, k);
            r->have += k;
            p += k;
            n -= k;
            if (r->have == 4) {
                r->have = 0;
                e = s_end_file(r);
                if (e < 0)
                    return e;
            }
            break;
        case R_LINK:
            k = n < r->remaining ? n : (size_t)r->remaining;
            memcpy(r->link + r->have, p, k);
            r->have += k;
            r->remaining -= k;
            p += k;
            n -= k;
            if (r->remaining == 0) {
                r->link[r->have] = 0;
                r->have = 0;
                if (memchr(r->link, 0, r->size))
                    return s_rerr(r, -EPROTO, "bad symlink target in the stream");
                unlink(r->target);
                if (symlink(r->link, r->target) < 0)
                    return s_rerr(r, -errno, "cannot create symlink %s: %s", r->target, strerror(errno));
                r->state = R_HDR;
            }
            break;
        }
    }
    return 0;
}

int ag_tree_r_finish(ag_tree_r_t *r)
{
    if (r->state == R_FAILED)
        return r->failed;
    if (r->state != R_DONE)
        return s_rerr(r, -EPROTO, "the copy stream ended early");
    for (size_t i = r->ndirs; i-- > 0;)
        if (chmod(r->dirs[i].path, r->dirs[i].mode) < 0)
            return s_rerr(r, -errno, "cannot chmod %s: %s", r->dirs[i].path, strerror(errno));
    return 0;
}

const char *ag_tree_r_error(const ag_tree_r_t *r)
{
    return r->err;
}

uint64_t ag_tree_r_bytes(const ag_tree_r_t *r)
{
    return r->bytes;
}

void ag_tree_r_free(ag_tree_r_t **r_p)
{
    ag_tree_r_t *r = *r_p;
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (size_t i = 0; i < r->ndirs; i++)
        free(r->dirs[i].path);
    free(r->dirs);
    free(r->dst);
    free(r);
    *r_p = NULL;
}
