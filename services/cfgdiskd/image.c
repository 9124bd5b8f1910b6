/* Building config disk images with e2fsprogs and dosfstools/mtools.  See image.h. */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ext2pin.h"
#include "render.h"

extern char **environ;

/* --------------------------------------------------------------- tools */

static pthread_mutex_t tool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char name[16];
    char path[256];
} tools[8];

const char *cd_tool(const char *name)
{
    const char *found = NULL;
    pthread_mutex_lock(&tool_lock);
    size_t i;
    for (i = 0; i < 8 && tools[i].name[0]; i++)
        if (!strcmp(tools[i].name, name)) {
            found = tools[i].path;
            break;
        }
    if (!found && i < 8 && strlen(name) < sizeof tools[i].name) {
        const char *path = getenv("PATH");
        char *dirs = NULL;
        if (asprintf(&dirs, "%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "") > 0) {
            char *save = NULL;
            for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char p[256];
                if (d[0] != '/' || snprintf(p, sizeof p, "%s/%s", d, name) >= (int)sizeof p)
                    continue;
                if (access(p, X_OK) == 0) {
                    snprintf(tools[i].name, sizeof tools[i].name, "%s", name);
                    snprintf(tools[i].path, sizeof tools[i].path, "%s", p);
                    found = tools[i].path;
                    break;
                }
            }
            free(dirs);
        }
    }
    pthread_mutex_unlock(&tool_lock);
    return found;
}

/* Run argv with a fixed environment, output into logpath.  0, or -EIO with
 * err holding the tool's last output line. */
static int s_run(char *const argv[], const char *logpath, char *err, size_t errlen)
{
    const char *tool = cd_tool(argv[0]);
    if (!tool) {
        snprintf(err, errlen, "%s not found (install e2fsprogs, dosfstools and mtools)", argv[0]);
        return -ENOENT;
    }
    /* Everything that could make two builds differ is pinned here. */
    char *const envp[] = {
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "E2FSPROGS_FAKE_TIME=946684800",
        "SOURCE_DATE_EPOCH=946684800",
        "MKE2FS_CONFIG=/dev/null",
        "MTOOLS_SKIP_CHECK=1",
        "MTOOLSRC=/dev/null",
        "TZ=UTC",
        "LC_ALL=C",
        "HOME=/nonexistent",
        NULL,
    };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    /* The daemon blocks the signals its loop reads through signalfd; the
     * tools get a clean mask. */
    posix_spawnattr_t at;
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int r = posix_spawn(&pid, tool, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (r) {
        snprintf(err, errlen, "cannot run %s: %s", tool, strerror(r));
        return -r;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno == EINTR)
            continue;
        snprintf(err, errlen, "cannot wait for %s: %s", argv[0], strerror(errno));
        return -errno;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    /* The tool's last non-empty line says why. */
    char last[256] = "";
    FILE *f = fopen(logpath, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            if (line[0])
                snprintf(last, sizeof last, "%s", line);
        }
        fclose(f);
    }
    if (WIFEXITED(st))
        snprintf(err, errlen, "%s failed (exit %d)%s%s", argv[0], WEXITSTATUS(st), last[0] ? ": " : "",
                 last);
    else
        snprintf(err, errlen, "%s killed by signal %d", argv[0], WTERMSIG(st));
    return -EIO;
}

/* ------------------------------------------------------------- staging */

static int s_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(p) < 0 && errno != ENOENT ? -1 : 0;
    return unlink(p) < 0 && errno != ENOENT ? -1 : 0;
}

int cd_rmtree(const char *path)
{
    if (nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        return errno ? -errno : -EIO;
    return 0;
}

typedef struct {
    char root[4096];
    size_t entries;   /* files and directories below root */
    uint64_t kbytes;  /* data blocks (1 KiB) they need, with indirect blocks */
    char *err;
    size_t errlen;
} stage_t;

/* mkdir -p of the directories of rel (relative to the stage root). */
static int s_mkparents(stage_t *s, const char *rel)
{
    char p[8192];
    int n = snprintf(p, sizeof p, "%s/%s", s->root, rel);
    if (n < 0 || (size_t)n >= sizeof p)
        return -ENAMETOOLONG;
    size_t base = strlen(s->root) + 1;
    for (char *q = p + base; (q = strchr(q, '/')); q++) {
        *q = '\0';
        if (mkdir(p, 0755) == 0) {
            s->entries++;
            s->kbytes += 1;
        } else if (errno != EEXIST) {
            int e = -errno;
            snprintf(s->err, s->errlen, "cannot create %s: %s", p, strerror(errno));
            return e;
        }
        *q = '/';
    }
    return 0;
}

static int s_put(stage_t *s, const char *rel, const void *data, size_t len, unsigned mode)
{
    int r = s_mkparents(s, rel);
    if (r)
        return r;
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", s->root, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
        snprintf(s->err, s->errlen, "cannot create %s: %s", p, strerror(errno));
        return r;
    }
    const char *c = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, c, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            r = w < 0 ? -errno : -EIO;
            snprintf(s->err, s->errlen, "cannot write %s: %s", p, strerror(-r));
            close(fd);
            return r;
        }
        c += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, mode & 07777) < 0) {
        r = -errno;
        snprintf(s->err, s->errlen, "cannot chmod %s: %s", p, strerror(errno));
        close(fd);
        return r;
    }
    close(fd);
    uint64_t blocks = (len + 1023) / 1024;
    s->entries++;
    s->kbytes += blocks + blocks / 256 + (blocks > 12 ? 2 : 0);
    return 0;
}

/* Stage a rendered text (NULL: the rendering ran out of memory), and free it. */
static int s_put_text(stage_t *s, const char *rel, char *text, unsigned mode)
{
    if (!text) {
        snprintf(s->err, s->errlen, "out of memory rendering %s", rel);
        return -ENOMEM;
    }
    int r = s_put(s, rel, text, strlen(text), mode);
    free(text);
    return r;
}

/* --------------------------------------------------------------- ext2 */

/* A UUID string from 16 bytes of the key (RFC 4122 variant, version 4 bits). */
static void s_uuid(const char *hex, int off, char out[37])
{
    uint8_t b[16];
    for (int i = 0; i < 16; i++) {
        char h[3] = { hex[off + 2 * i], hex[off + 2 * i + 1], 0 };
        b[i] = (uint8_t)strtoul(h, NULL, 16);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int s_create(const char *out, uint64_t bytes, char *err, size_t errlen)
{
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = -errno;
        snprintf(err, errlen, "cannot create %s: %s", out, strerror(errno));
        return e;
    }
    if (ftruncate(fd, (off_t)bytes) < 0) {
        int e = -errno;
        snprintf(err, errlen, "cannot size %s: %s", out, strerror(errno));
        close(fd);
        return e;
    }
    close(fd);
    return 0;
}

static int s_build_plugnet(const cd_spec_t *sp, const cd_image_in_t *in, stage_t *s, const char *out,
                           char *err, size_t errlen)
{
    int r;
    const char *stage = s->root;
    const char *cfg = cd_config_script();
    if ((r = s_put_text(s, "tree/plugnet.conf", cd_render_conf(sp, in->key, in->agent != NULL), 0644)) ||
        (r = s_put_text(s, "tree/hosts", cd_render_hosts(sp), 0644)) ||
        (sp->nkeys && (r = s_put_text(s, "tree/authorized_keys", cd_render_keys(sp), 0600))) ||
        (r = s_put(s, "tree/config", cfg, strlen(cfg), 0755)))
        return r;
    if (sp->has_script && (r = s_put(s, "tree/script", sp->script, sp->script_len, 0755)))
        return r;
    if (in->agent && (r = s_put(s, "tree/plugnet-agent", in->agent, in->agent_len, 0755)))
        return r;
    for (size_t i = 0; i < sp->nfiles; i++) {
        char rel[1100];
        snprintf(rel, sizeof rel, "tree/files%s", sp->files[i].path);
        if ((r = s_put(s, rel, sp->files[i].data, sp->files[i].len, sp->files[i].mode)))
            return r;
    }
    /* The staging root itself ("tree") was counted as an entry: it is the fs root. */
    size_t entries = s->entries - 1;

    /* Room for the data, the inode table and the bitmaps, with slack;
     * 1 KiB blocks keep small disks small. */
    uint64_t need = entries + 11 + 16; /* inodes 1..11 are reserved or lost+found */
    uint64_t kb = s->kbytes + need / 4 + 256;
    kb = kb + kb / 8 + 512;
    kb = (kb + 255) / 256 * 256;
    /* mke2fs rounds the inodes of each block group (8192 blocks) down to a
     * multiple of 8: ask for a count that survives the rounding. */
    uint64_t groups = (kb + 8191) / 8192;
    uint64_t per_group = (need + groups - 1) / groups;
    per_group = (per_group + 7) / 8 * 8;
    uint64_t inodes = per_group * groups;
    kb += inodes / 4; /* the inode tables, 256 bytes an inode */
    kb = (kb + 255) / 256 * 256;
    if ((r = s_create(out, kb * 1024, err, errlen)))
        return r;

    char uuid[37], seed[37], nin[24], log[4300], opts[128], tdir[4210];
    s_uuid(in->key, 0, uuid);
    s_uuid(in->key, 32, seed);
    snprintf(nin, sizeof nin, "%llu", (unsigned long long)inodes);
    snprintf(opts, sizeof opts, "root_owner=0:0,hash_seed=%s", seed);
    snprintf(log, sizeof log, "%s/log", stage);
    snprintf(tdir, sizeof tdir, "%s/tree", stage);
    char *mke2fs[] = { "mke2fs", "-q", "-F", "-t", "ext2", "-O", "none,filetype,sparse_super,large_file,dir_index",
                       "-b", "1024", "-I", "256", "-m", "0", "-N", nin, "-L", "PLUGNET", "-U", uuid, "-E",
                       opts, "-d", tdir, (char *)out, NULL };
    if ((r = s_run(mke2fs, log, err, errlen)))
        return r;

    /* mke2fs -d copies each source file's owner, atime and ctime: pin them
     * in every inode in use (see ext2pin.c). */
    size_t pinned = 0;
    if ((r = cd_ext2_pin(out, CD_EPOCH, &pinned, err, errlen)))
        return r;
    /* lost+found and one inode per staged file and directory, besides the root. */
    if (pinned != entries + 2) {
        snprintf(err, errlen, "the image has %zu inodes in use, %zu were expected", pinned, entries + 2);
        return -EIO;
    }
    return 0;
}

/* -------------------------------------------------------------- cidata */

static int s_build_cidata(const cd_spec_t *sp, const cd_image_in_t *in, stage_t *s, const char *out,
                          char *err, size_t errlen)
{
    int r;
    if ((r = s_put_text(s, "meta-data", cd_render_meta_data(sp, in->key), 0644)) ||
        (r = s_put_text(s, "user-data", cd_render_user_data(sp, in->agent, in->agent_len), 0644)) ||
        (r = s_put_text(s, "network-config", cd_render_network_config(sp), 0644)))
        return r;

    uint64_t kb = s->kbytes + s->kbytes / 8 + 512;
    if (kb < 1024)
        kb = 1024;
    kb = (kb + 255) / 256 * 256;
    if ((r = s_create(out, kb * 1024, err, errlen)))
        return r;
    char volid[9], log[4300];
    snprintf(volid, sizeof volid, "%.8s", in->key);
    snprintf(log, sizeof log, "%s/log", s->root);
    char *mkfs[] = { "mkfs.vfat", "--invariant", "-i", volid, "-n", "cidata", (char *)out, NULL };
    if ((r = s_run(mkfs, log, err, errlen)))
        return r;
    static const char *const names[] = { "meta-data", "user-data", "network-config" };
    char src[3][4300];
    for (size_t i = 0; i < 3; i++) {
        snprintf(src[i], sizeof src[i], "%s/%s", s->root, names[i]);
        struct timespec ts[2] = { { CD_EPOCH, 0 }, { CD_EPOCH, 0 } };
        if (utimensat(AT_FDCWD, src[i], ts, 0) < 0) {
            r = -errno;
            snprintf(err, errlen, "cannot set the time of %s: %s", src[i], strerror(errno));
            return r;
        }
    }
    /* One mcopy for the three files; -m keeps their (fixed) times. */
    char *mcopy[] = { "mcopy", "-m", "-o", "-i", (char *)out, src[0], src[1], src[2], "::", NULL };
    if ((r = s_run(mcopy, log, err, errlen)))
        return r;
    return 0;
}

int cd_image_build(const cd_spec_t *sp, const cd_image_in_t *in, const char *out, char *err, size_t errlen)
{
    stage_t s = { .err = err, .errlen = errlen };
    err[0] = '\0';
    if (snprintf(s.root, sizeof s.root, "%s/stage.XXXXXX", in->tmpdir) >= (int)sizeof s.root)
        return -ENAMETOOLONG;
    if (!mkdtemp(s.root)) {
        int e = -errno;
        snprintf(err, errlen, "cannot create a staging directory in %s: %s", in->tmpdir, strerror(errno));
        return e;
    }
    int r;
    if (sp->format == CD_FMT_CIDATA) {
        r = s_build_cidata(sp, in, &s, out, err, errlen);
    } else {
        char tree[4200];
        snprintf(tree, sizeof tree, "%s/tree", s.root);
        r = mkdir(tree, 0755) < 0 ? -errno : 0;
        s.entries = 1; /* the tree itself: the file system's root */
        if (r)
            snprintf(err, errlen, "cannot create the staging tree: %s", strerror(-r));
        else
            r = s_build_plugnet(sp, in, &s, out, err, errlen);
    }
    if (r)
        unlink(out);
    cd_rmtree(s.root);
    return r;
}
