/* The content-addressed config disk cache.  See cache.h. */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "pn_proto.h"
#include "pn_svc.h"
#include "render.h"
#include "sha256.h"

#define AGENT_MAX (64u << 20)

struct cd_cache {
    char dir[4096];
    char tmp[4200];
    char agent[4096];        /* "" = no agent configured */
    pthread_mutex_t lock;    /* agent digest memo */
    struct stat agent_st;
    bool agent_known;
    bool agent_present;
    char agent_sha[65];
    unsigned seq;
};

static uint64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int s_mkdirs(const char *path)
{
    char p[4200];
    snprintf(p, sizeof p, "%s", path);
    for (char *q = p + 1;; q++) {
        if (*q == '/' || *q == '\0') {
            char c = *q;
            *q = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
            *q = c;
            if (!c)
                return 0;
        }
    }
}

/* Remove staging leftovers of builds that died (older than an hour, so a
 * build running in another process is left alone). */
static void s_sweep_tmp(cd_cache_t *c)
{
    DIR *d = opendir(c->tmp);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4500];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", c->tmp, e->d_name);
        if (lstat(p, &st) == 0 && now - st.st_mtime > 3600)
            cd_rmtree(p);
    }
    closedir(d);
}

void cd_cache_default_dir(char *out, size_t len)
{
    snprintf(out, len, "%s/cfgdisk", pn_state_dir());
}

char *cd_agent_path(void)
{
    const char *env = getenv("PLUGNET_AGENT");
    if (env && *env)
        return strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char *p = NULL;
    if (asprintf(&p, "%s/plugnet-agent", exe) < 0)
        return NULL;
    return p;
}

cd_cache_t *cd_cache_new(const char *dir, const char *agent, char *err, size_t errlen)
{
    cd_cache_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (strlen(dir) >= 3000 || dir[0] != '/') {
        snprintf(err, errlen, "cache directory '%s' must be an absolute path shorter than 3000 bytes", dir);
        free(c);
        return NULL;
    }
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    snprintf(c->tmp, sizeof c->tmp, "%s/tmp", dir);
    snprintf(c->agent, sizeof c->agent, "%s", agent ? agent : "");
    pthread_mutex_init(&c->lock, NULL);
    int r = s_mkdirs(c->tmp);
    if (r) {
        snprintf(err, errlen, "cannot create %s: %s", c->tmp, strerror(-r));
        cd_cache_destroy(&c);
        return NULL;
    }
    s_sweep_tmp(c);
    return c;
}

void cd_cache_destroy(cd_cache_t **c_p)
{
    if (!c_p || !*c_p)
        return;
    pthread_mutex_destroy(&(*c_p)->lock);
    free(*c_p);
    *c_p = NULL;
}

const char *cd_cache_dir(cd_cache_t *c)
{
    return c->dir;
}

/* The agent's digest, recomputed only when its file changed. */
static int s_agent(cd_cache_t *c, bool *present, char sha[65], char *err, size_t errlen)
{
    *present = false;
    sha[0] = '\0';
    if (!c->agent[0])
        return 0;
    struct stat st;
    if (stat(c->agent, &st) < 0) {
        if (errno == ENOENT)
            return 0; /* no agent built: the disk simply has none */
        snprintf(err, errlen, "cannot stat the agent %s: %s", c->agent, strerror(errno));
        return -errno;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)AGENT_MAX) {
        snprintf(err, errlen, "the agent %s is not a regular file of at most 64 MiB", c->agent);
        return -EINVAL;
    }
    pthread_mutex_lock(&c->lock);
    bool same = c->agent_known && c->agent_st.st_dev == st.st_dev && c->agent_st.st_ino == st.st_ino &&
                c->agent_st.st_size == st.st_size && c->agent_st.st_mtim.tv_sec == st.st_mtim.tv_sec &&
                c->agent_st.st_mtim.tv_nsec == st.st_mtim.tv_nsec;
    if (same) {
        memcpy(sha, c->agent_sha, 65);
        pthread_mutex_unlock(&c->lock);
        *present = true;
        return 0;
    }
    pthread_mutex_unlock(&c->lock);
    char hex[65];
    int r = cd_sha256_file(c->agent, hex, NULL);
    if (r) {
        snprintf(err, errlen, "cannot read the agent %s: %s", c->agent, strerror(-r));
        return r;
    }
    pthread_mutex_lock(&c->lock);
    c->agent_st = st;
    c->agent_known = true;
    memcpy(c->agent_sha, hex, 65);
    pthread_mutex_unlock(&c->lock);
    memcpy(sha, hex, 65);
    *present = true;
    return 0;
}

static int s_key(cd_cache_t *c, const cd_spec_t *sp, char key[65], bool *agent, char *err, size_t errlen)
{
    char asha[65];
    int r = s_agent(c, agent, asha, err, errlen);
    if (r)
        return r;
    uint8_t *canon;
    size_t len;
    if ((r = cd_spec_canon(sp, &canon, &len))) {
        snprintf(err, errlen, "out of memory");
        return r;
    }
    SHA2_CTX h;
    SHA256Init(&h);
    SHA256Update(&h, (const uint8_t *)CD_GEN_VERSION, sizeof CD_GEN_VERSION);
    /* A changed config script makes new disks without a version bump. */
    const char *cfg = cd_config_script();
    SHA256Update(&h, (const uint8_t *)cfg, strlen(cfg) + 1);
    SHA256Update(&h, (const uint8_t *)asha, strlen(asha) + 1);
    SHA256Update(&h, canon, len);
    free(canon);
    SHA256End(&h, key);
    return 0;
}

static void s_paths(cd_cache_t *c, const char *key, cd_format_t fmt, cd_result_t *res)
{
    snprintf(res->path, sizeof res->path, "%s/%s.%s.img", c->dir, key, cd_format_name(fmt));
    memcpy(res->key, key, 65);
    res->format = fmt;
}

/* Read <key>.meta into its fields.  0 or -errno. */
static int s_meta_read(cd_cache_t *c, const char *key, char name[16], char sha[65], uint64_t *size,
                       uint64_t *built)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s.meta", c->dir, key);
    FILE *f = fopen(p, "re");
    if (!f)
        return -errno;
    char line[256];
    int got = 0;
    name[0] = sha[0] = '\0';
    *size = *built = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "name=", 5) && strlen(line + 5) < 16)
            snprintf(name, 16, "%s", line + 5), got |= 1;
        else if (!strncmp(line, "sha256=", 7) && strlen(line + 7) == 64)
            snprintf(sha, 65, "%s", line + 7), got |= 2;
        else if (!strncmp(line, "size=", 5))
            *size = strtoull(line + 5, NULL, 10), got |= 4;
        else if (!strncmp(line, "built_ns=", 9))
            *built = strtoull(line + 9, NULL, 10);
    }
    fclose(f);
    return got == 7 ? 0 : -EINVAL;
}

static int s_meta_write(cd_cache_t *c, const cd_spec_t *sp, const cd_result_t *res)
{
    char p[4200], t[4300];
    snprintf(p, sizeof p, "%s/%s.meta", c->dir, res->key);
    snprintf(t, sizeof t, "%s/%s.meta.%d.%lu", c->tmp, res->key, (int)getpid(), (unsigned long)pthread_self());
    int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return -errno;
    if (dprintf(fd, "name=%s\nformat=%s\nsha256=%s\nsize=%llu\nbuilt_ns=%llu\n", sp->name,
                cd_format_name(res->format), res->sha256, (unsigned long long)res->size,
                (unsigned long long)s_now_ns()) < 0) {
        int e = -errno;
        close(fd);
        unlink(t);
        return e;
    }
    return pn_file_commit(fd, t, p, true);
}

static int s_hit(cd_cache_t *c, cd_result_t *res)
{
    struct stat st;
    if (stat(res->path, &st) < 0)
        return 0;
    char name[16];
    uint64_t size, built;
    if (s_meta_read(c, res->key, name, res->sha256, &size, &built) < 0 || size != (uint64_t)st.st_size)
        return 0; /* an image without its meta is rebuilt */
    res->size = (uint64_t)st.st_size;
    res->cached = true;
    res->build_ms = 0;
    return 1;
}

/* The key and paths of sp's disk into res (agent: the disk carries one).
 * 0 or -errno with err set. */
static int s_locate(cd_cache_t *c, const cd_spec_t *sp, cd_result_t *res, bool *agent, char *err,
                    size_t errlen)
{
    memset(res, 0, sizeof *res);
    char key[65];
    int r = s_key(c, sp, key, agent, err, errlen);
    if (r)
        return r;
    s_paths(c, key, sp->format, res);
    return 0;
}

int cd_cache_lookup(cd_cache_t *c, const cd_spec_t *sp, cd_result_t *res, char *err, size_t errlen)
{
    bool agent;
    int r = s_locate(c, sp, res, &agent, err, errlen);
    return r ? r : s_hit(c, res);
}

int cd_cache_build(cd_cache_t *c, const cd_spec_t *sp, cd_result_t *res, char *err, size_t errlen)
{
    uint64_t t0 = s_mono_ms();
    bool agent;
    int r = s_locate(c, sp, res, &agent, err, errlen);
    if (r)
        return r;
    if (s_hit(c, res))
        return 0;
    const char *key = res->key;

    /* One builder per key; the others wait here and then find it done. */
    char lockp[4200];
    snprintf(lockp, sizeof lockp, "%s/%s.lock", c->dir, key);
    int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot open %s: %s", lockp, strerror(errno));
        return r;
    }
    while (flock(lfd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            r = -errno;
            snprintf(err, errlen, "cannot lock %s: %s", lockp, strerror(errno));
            close(lfd);
            return r;
        }
    }
    if (s_hit(c, res)) {
        close(lfd);
        return 0;
    }

    char *abuf = NULL;
    size_t alen = 0;
    if (agent) {
        char *ap = c->agent;
        if ((r = pn_file_read(ap, AGENT_MAX + 1, &abuf, &alen))) {
            snprintf(err, errlen, "cannot read the agent %s: %s", ap, strerror(-r));
            close(lfd);
            return r;
        }
    }
    char tmpimg[4400];
    pthread_mutex_lock(&c->lock);
    unsigned seq = ++c->seq;
    pthread_mutex_unlock(&c->lock);
    snprintf(tmpimg, sizeof tmpimg, "%s/%s.%d.%u.img", c->tmp, key, (int)getpid(), seq);
    cd_image_in_t in = { .agent = (const uint8_t *)abuf, .agent_len = alen, .key = key, .tmpdir = c->tmp };
    r = cd_image_build(sp, &in, tmpimg, err, errlen);
    free(abuf);
    if (r)
        goto out;
    int fd = open(tmpimg, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot sync %s: %s", tmpimg, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    close(fd);
    if ((r = cd_sha256_file(tmpimg, res->sha256, &res->size))) {
        snprintf(err, errlen, "cannot read back %s: %s", tmpimg, strerror(-r));
        goto out;
    }
    if ((r = s_meta_write(c, sp, res))) {
        snprintf(err, errlen, "cannot write the meta data of %s: %s", key, strerror(-r));
        goto out;
    }
    if (rename(tmpimg, res->path) < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmpimg, res->path, strerror(errno));
        goto out;
    }
    int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    res->cached = false;
    res->build_ms = s_mono_ms() - t0;
out:
    if (r)
        unlink(tmpimg);
    close(lfd);
    return r;
}

/* ------------------------------------------------------------- ls / gc */

typedef struct {
    char key[65];
    char fmt[16];
    char path[4400];
    bool meta;     /* <key>.meta read: the fields below are from it */
    char name[16]; /* "?" without a meta */
    char sha[65];  /* "" without a meta */
    uint64_t built;
} entry_t;

typedef void entry_fn(cd_cache_t *c, entry_t *e, void *arg);

static int s_cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->path, ((const entry_t *)b)->path);
}

/* Every "<64 hex>.<fmt>.img" in the cache dir, sorted. */
static int s_scan(cd_cache_t *c, entry_t **out, size_t *n)
{
    DIR *d = opendir(c->dir);
    if (!d)
        return -errno;
    entry_t *v = NULL;
    size_t len = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        size_t l = strlen(nm);
        if (l < 64 + 5 || strcmp(nm + l - 4, ".img") || nm[64] != '.')
            continue;
        if (strspn(nm, "0123456789abcdef") != 64)
            continue;
        char fmt[16];
        if (l - 64 - 5 >= sizeof fmt)
            continue;
        memcpy(fmt, nm + 65, l - 64 - 5);
        fmt[l - 64 - 5] = '\0';
        if (strcmp(fmt, "plugnet") && strcmp(fmt, "cidata"))
            continue;
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            entry_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                closedir(d);
                return -ENOMEM;
            }
            v = nv;
        }
        memcpy(v[len].key, nm, 64);
        v[len].key[64] = '\0';
        snprintf(v[len].fmt, sizeof v[len].fmt, "%s", fmt);
        snprintf(v[len].path, sizeof v[len].path, "%s/%s", c->dir, nm);
        len++;
    }
    closedir(d);
    if (len)
        qsort(v, len, sizeof *v, s_cmp_entry);
    *out = v;
    *n = len;
    return 0;
}

/* Calls fn for every image of the cache in path order, its meta read just
 * before.  0 or -errno. */
static int s_each(cd_cache_t *c, entry_fn *fn, void *arg)
{
    entry_t *v = NULL;
    size_t n = 0;
    int r = s_scan(c, &v, &n);
    if (r)
        return r;
    for (size_t i = 0; i < n; i++) {
        entry_t *e = &v[i];
        uint64_t size;
        e->meta = s_meta_read(c, e->key, e->name, e->sha, &size, &e->built) == 0;
        if (!e->meta) {
            snprintf(e->name, sizeof e->name, "?");
            e->sha[0] = '\0';
        }
        fn(c, e, arg);
    }
    free(v);
    return 0;
}

pn_val_t *cd_result_val(const cd_result_t *res)
{
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "path", res->path);
    pn_map_set_str(m, "sha256", res->sha256);
    pn_map_set_uint(m, "size", res->size);
    pn_map_set_bool(m, "cached", res->cached);
    pn_map_set_str(m, "key", res->key);
    pn_map_set_str(m, "format", cd_format_name(res->format));
    return m;
}

int cd_cache_keep_check(const pn_val_t *keep, char *err, size_t errlen)
{
    if (keep && keep->type != PN_ARR && keep->type != PN_NIL) {
        snprintf(err, errlen, "keep: must be an array of paths, keys or sha256s");
        return -EINVAL;
    }
    for (size_t i = 0; keep && i < pn_len(keep); i++)
        if (pn_at(keep, i)->type != PN_STR) {
            snprintf(err, errlen, "keep[%zu]: must be a string (a path, key or sha256)", i);
            return -EINVAL;
        }
    return 0;
}

static void s_ls_one(cd_cache_t *c, entry_t *e, void *arg)
{
    struct stat st;
    if (stat(e->path, &st) < 0)
        return; /* removed meanwhile */
    if (!e->meta) {
        if (cd_sha256_file(e->path, e->sha, NULL) < 0)
            return;
        e->built = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    }
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "path", e->path);
    pn_map_set_str(m, "key", e->key);
    pn_map_set_str(m, "sha256", e->sha);
    pn_map_set_uint(m, "size", (uint64_t)st.st_size);
    pn_map_set_str(m, "format", e->fmt);
    pn_map_set_str(m, "name", e->name);
    pn_map_set_uint(m, "built_ns", e->built);
    pn_arr_push((pn_val_t *)arg, m);
}

int cd_cache_ls(cd_cache_t *c, pn_val_t **disks)
{
    pn_val_t *arr = pn_arr();
    int r = s_each(c, s_ls_one, arr);
    if (r) {
        pn_val_free(arr);
        return r;
    }
    *disks = arr;
    return 0;
}

static bool s_kept(const pn_val_t *keep, const entry_t *e, const char *sha, const char *real)
{
    for (size_t i = 0; keep && i < pn_len(keep); i++) {
        const pn_val_t *k = pn_at(keep, i);
        if (!k || k->type != PN_STR)
            continue;
        const char *s = k->s.p;
        if (!strcmp(s, e->key) || !strcmp(s, e->path) || (sha[0] && !strcmp(s, sha)))
            return true;
        if (real && s[0] == '/') {
            char *rs = realpath(s, NULL);
            bool same = rs && !strcmp(rs, real);
            free(rs);
            if (same)
                return true;
        }
    }
    return false;
}

/* Lock and meta files whose image is gone (a failed build, a crash). */
static void s_sweep_orphans(cd_cache_t *c)
{
    DIR *d = opendir(c->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        size_t l = strlen(nm);
        if (l != 64 + 5 || strspn(nm, "0123456789abcdef") != 64 ||
            (strcmp(nm + 64, ".lock") && strcmp(nm + 64, ".meta")))
            continue;
        char p[4400];
        struct stat st;
        bool image = false;
        for (int f = 0; f < 2 && !image; f++) {
            snprintf(p, sizeof p, "%s/%.64s.%s.img", c->dir, nm, cd_format_name((cd_format_t)f));
            image = stat(p, &st) == 0;
        }
        if (image)
            continue;
        /* Not while a builder holds the key's lock: it writes the meta
         * just before the image appears. */
        char lockp[4400], metap[4400];
        snprintf(lockp, sizeof lockp, "%s/%.64s.lock", c->dir, nm);
        snprintf(metap, sizeof metap, "%s/%.64s.meta", c->dir, nm);
        int lfd = open(lockp, O_RDWR | O_CLOEXEC);
        if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0) {
            close(lfd);
            continue;
        }
        unlink(metap);
        if (lfd >= 0) {
            unlink(lockp);
            close(lfd);
        }
    }
    closedir(d);
}

typedef struct {
    const pn_val_t *keep;
    pn_val_t *removed;
    uint64_t kept, freed;
} gc_t;

static void s_gc_one(cd_cache_t *c, entry_t *e, void *arg)
{
    gc_t *g = arg;
    char *real = realpath(e->path, NULL);
    bool k = s_kept(g->keep, e, e->sha, real);
    free(real);
    if (k) {
        g->kept++;
        return;
    }
    struct stat st;
    if (stat(e->path, &st) == 0 && unlink(e->path) == 0) {
        g->freed += (uint64_t)st.st_size;
        pn_arr_push(g->removed, pn_str(e->path));
    }
    char p[4300];
    snprintf(p, sizeof p, "%s/%s.meta", c->dir, e->key);
    unlink(p);
    /* The lock file goes too unless a builder holds it right now. */
    snprintf(p, sizeof p, "%s/%s.lock", c->dir, e->key);
    int lfd = open(p, O_RDWR | O_CLOEXEC);
    if (lfd >= 0) {
        if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
            unlink(p);
        close(lfd);
    }
}

int cd_cache_gc(cd_cache_t *c, const pn_val_t *keep, pn_val_t **reply)
{
    gc_t g = { .keep = keep, .removed = pn_arr() };
    int r = s_each(c, s_gc_one, &g);
    if (r) {
        pn_val_free(g.removed);
        return r;
    }
    s_sweep_orphans(c);
    pn_val_t *m = pn_map();
    pn_map_set(m, "removed", g.removed);
    pn_map_set_uint(m, "kept", g.kept);
    pn_map_set_uint(m, "freed", g.freed);
    *reply = m;
    return 0;
}
