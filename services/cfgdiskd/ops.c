/* cfgdiskd's ops: disk.build, disk.ls, disk.gc.
 *
 * disk.build validates the spec in the loop thread (cheap) and answers a
 * cache hit at once.  A miss becomes a job for one of a few worker
 * threads, so a large build never stalls the loop; the worker hands the
 * result back through an eventfd and the loop replies and publishes
 * cfgdiskd.disk disk.built. */
#include "ops.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cache.h"
#include "spec.h"

#define CD_WORKERS 2
#define CD_QUEUE_MAX 64 /* a spec is at most 1 MiB on the wire: bounded memory */

typedef struct job job_t;
struct job {
    job_t *next;
    pn_req_t *req;
    cd_spec_t *spec;
    cd_result_t res;
    int rc;
    char err[512];
};

struct cd_daemon {
    pn_svc_t *svc;
    cd_cache_t *cache;
    cd_limits_t limits;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job_t *todo, **todo_tail;
    job_t *done;
    size_t queued, running;
    bool stopping;
    int efd;
    pn_watch_t *ewatch;
    pthread_t workers[CD_WORKERS];
    int nworkers;
    uint64_t builds, hits, failures, refused;
};

int cd_err_code(int r)
{
    switch (r) {
    case 0: return PN_OK;
    case -EINVAL: return PN_EINVAL;
    case -E2BIG: return PN_ETOOLARGE;
    default: return PN_EINTERNAL;
    }
}

static cd_daemon_t *s_d(pn_svc_t *svc)
{
    return pn_svc_user(svc);
}

static void *s_worker(void *arg)
{
    cd_daemon_t *d = arg;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (!d->todo && !d->stopping)
            pthread_cond_wait(&d->cond, &d->lock);
        if (d->stopping)
            break;
        job_t *j = d->todo;
        d->todo = j->next;
        if (!d->todo)
            d->todo_tail = &d->todo;
        d->queued--;
        d->running++;
        pthread_mutex_unlock(&d->lock);

        j->rc = cd_cache_build(d->cache, j->spec, &j->res, j->err, sizeof j->err);

        pthread_mutex_lock(&d->lock);
        d->running--;
        j->next = d->done;
        d->done = j;
        uint64_t one = 1;
        if (write(d->efd, &one, sizeof one) < 0) {
            /* The counter cannot overflow in practice; the loop drains it. */
        }
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static void s_job_free(job_t *j)
{
    cd_spec_destroy(&j->spec);
    free(j);
}

/* Loop thread: reply to finished jobs. */
static void s_on_done(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    cd_daemon_t *d = arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0) {
        /* EAGAIN: nothing new; the list below is still checked. */
    }
    pthread_mutex_lock(&d->lock);
    job_t *j = d->done;
    d->done = NULL;
    pthread_mutex_unlock(&d->lock);
    while (j) {
        job_t *next = j->next;
        if (j->rc) {
            static pn_ratelimit_t rl = PN_RATELIMIT_INIT(1000, 5);
            d->failures++;
            pn_log_rl(&rl, PN_LOG_ERR, "cfgdiskd: building the disk of %s failed: %s", j->spec->name, j->err);
            pn_req_fail(j->req, PN_EINTERNAL, "cannot build the disk of %s: %s", j->spec->name, j->err);
        } else {
            if (j->res.cached) {
                d->hits++;
            } else {
                d->builds++;
                pn_val_t *ev = pn_map();
                pn_map_set_str(ev, "name", j->spec->name);
                pn_map_set_str(ev, "path", j->res.path);
                pn_map_set_str(ev, "sha256", j->res.sha256);
                pn_map_set_uint(ev, "size", j->res.size);
                pn_map_set_str(ev, "format", cd_format_name(j->res.format));
                pn_map_set_str(ev, "key", j->res.key);
                pn_map_set_uint(ev, "build_ms", j->res.build_ms);
                pn_info("cfgdiskd: built the %s disk of %s in %llu ms: %s", cd_format_name(j->res.format),
                        j->spec->name, (unsigned long long)j->res.build_ms, j->res.path);
                pn_svc_publish(d->svc, "disk", "disk.built", ev);
            }
            pn_req_ok(j->req, cd_result_val(&j->res));
        }
        s_job_free(j);
        j = next;
    }
}

static void s_build(pn_svc_t *svc, pn_req_t *req)
{
    cd_daemon_t *d = s_d(svc);
    cd_spec_t *sp = NULL;
    char err[512];
    int r = cd_spec_parse(pn_req_args(req), &d->limits, &sp, err, sizeof err);
    if (r < 0) {
        d->refused++;
        pn_req_fail(req, cd_err_code(r), "%s", err);
        return;
    }
    /* A hit costs a stat: answer it here. */
    cd_result_t res;
    r = cd_cache_lookup(d->cache, sp, &res, err, sizeof err);
    if (r < 0) {
        d->failures++;
        pn_req_fail(req, PN_EINTERNAL, "cannot build the disk of %s: %s", sp->name, err);
        cd_spec_destroy(&sp);
        return;
    }
    if (r == 1) {
        d->hits++;
        pn_req_ok(req, cd_result_val(&res));
        cd_spec_destroy(&sp);
        return;
    }
    pthread_mutex_lock(&d->lock);
    if (d->queued >= CD_QUEUE_MAX) {
        pthread_mutex_unlock(&d->lock);
        pn_req_fail(req, PN_EBUSY, "%zu disk builds are already queued; retry later", (size_t)CD_QUEUE_MAX);
        cd_spec_destroy(&sp);
        return;
    }
    job_t *j = calloc(1, sizeof *j);
    if (!j) {
        pthread_mutex_unlock(&d->lock);
        pn_req_fail(req, PN_EINTERNAL, "out of memory");
        cd_spec_destroy(&sp);
        return;
    }
    j->req = pn_req_hold(req);
    j->spec = sp;
    *d->todo_tail = j;
    d->todo_tail = &j->next;
    d->queued++;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void s_ls(pn_svc_t *svc, pn_req_t *req)
{
    cd_daemon_t *d = s_d(svc);
    pn_val_t *disks;
    int r = cd_cache_ls(d->cache, &disks);
    if (r) {
        pn_req_fail(req, PN_EINTERNAL, "cannot list %s: %s", cd_cache_dir(d->cache), strerror(-r));
        return;
    }
    pn_val_t *m = pn_map();
    pn_map_set(m, "disks", disks);
    pn_req_ok(req, m);
}

static void s_gc(pn_svc_t *svc, pn_req_t *req)
{
    cd_daemon_t *d = s_d(svc);
    pn_val_t *keep = pn_get(pn_req_args(req), "keep");
    char err[128];
    if (cd_cache_keep_check(keep, err, sizeof err) < 0) {
        pn_req_fail(req, PN_EINVAL, "%s", err);
        return;
    }
    pn_val_t *reply;
    int r = cd_cache_gc(d->cache, keep, &reply);
    if (r) {
        pn_req_fail(req, PN_EINTERNAL, "cannot clean %s: %s", cd_cache_dir(d->cache), strerror(-r));
        return;
    }
    uint64_t removed = pn_len(pn_get(reply, "removed"));
    if (removed) {
        pn_val_t *ev = pn_map();
        pn_map_set_uint(ev, "removed", removed);
        pn_map_set_uint(ev, "kept", pn_get_uint(reply, "kept", 0));
        pn_map_set_uint(ev, "freed", pn_get_uint(reply, "freed", 0));
        pn_svc_publish(svc, "disk", "disk.gc", ev);
    }
    pn_req_ok(req, reply);
}

static void s_status(pn_svc_t *svc, pn_val_t *data)
{
    cd_daemon_t *d = s_d(svc);
    pthread_mutex_lock(&d->lock);
    pn_map_set_uint(data, "queued", d->queued);
    pn_map_set_uint(data, "building", d->running);
    pthread_mutex_unlock(&d->lock);
    pn_map_set_uint(data, "builds", d->builds);
    pn_map_set_uint(data, "cache_hits", d->hits);
    pn_map_set_uint(data, "failures", d->failures);
    pn_map_set_uint(data, "refused", d->refused);
    pn_map_set_str(data, "cache_dir", cd_cache_dir(d->cache));
    pn_val_t *disks;
    if (cd_cache_ls(d->cache, &disks) == 0) {
        pn_map_set_uint(data, "disks", pn_len(disks));
        pn_val_free(disks);
    }
}

const pn_svc_op_t cd_ops[] = {
    { PN_OP_DISK_BUILD, s_build },
    { PN_OP_DISK_LS, s_ls },
    { PN_OP_DISK_GC, s_gc },
    { NULL, NULL, NULL },
};

cd_daemon_t *cd_daemon_new(void)
{
    cd_daemon_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->limits = cd_default_limits;
    d->todo_tail = &d->todo;
    d->efd = -1;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    return d;
}

int cd_daemon_start(cd_daemon_t *d, pn_svc_t *svc)
{
    d->svc = svc;
    char dir[4200], err[512];
    cd_cache_default_dir(dir, sizeof dir);
    char *agent = cd_agent_path();
    d->cache = cd_cache_new(dir, agent, err, sizeof err);
    if (!d->cache) {
        pn_err("cfgdiskd: %s", err);
        free(agent);
        return -EIO;
    }
    pn_info("cfgdiskd: cache %s, agent %s", dir, agent ? agent : "(none)");
    free(agent);
    d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->efd < 0) {
        int e = -errno;
        pn_err("cfgdiskd: eventfd: %s", strerror(errno));
        return e;
    }
    d->ewatch = pn_loop_add_fd(pn_svc_loop(svc), d->efd, EPOLLIN, s_on_done, d);
    if (!d->ewatch)
        return -ENOMEM;
    for (int i = 0; i < CD_WORKERS; i++) {
        int r = pthread_create(&d->workers[i], NULL, s_worker, d);
        if (r) {
            pn_err("cfgdiskd: cannot start a worker thread: %s", strerror(r));
            return -r;
        }
        d->nworkers++;
    }
    pn_svc_set_status_fn(svc, s_status);
    return 0;
}

void cd_daemon_destroy(cd_daemon_t **d_p)
{
    if (!d_p || !*d_p)
        return;
    cd_daemon_t *d = *d_p;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < d->nworkers; i++)
        pthread_join(d->workers[i], NULL);
    /* Requests still queued or just finished get no reply: the daemon is
     * going away and their clients time out.  Their memory is released. */
    for (job_t *j = d->todo, *n; j; j = n) {
        n = j->next;
        s_job_free(j);
    }
    for (job_t *j = d->done, *n; j; j = n) {
        n = j->next;
        s_job_free(j);
    }
    if (d->ewatch && d->svc)
        pn_loop_del(pn_svc_loop(d->svc), d->ewatch);
    if (d->efd >= 0)
        close(d->efd);
    cd_cache_destroy(&d->cache);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d);
    *d_p = NULL;
}
