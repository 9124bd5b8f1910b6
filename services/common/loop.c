/* pn_loop: a small epoll event loop.
 *
 * Plain fds cost O(1) per event.  zmq sockets are watched through their
 * ZMQ_FD, which only signals that ZMQ_EVENTS may have changed (it is edge
 * triggered and is not re-signalled for messages that were already queued
 * when another operation ran on the socket), so after every iteration the
 * loop re-reads ZMQ_EVENTS of each zmq watch and drains what is readable.
 * There are a handful of zmq sockets per daemon, so that pass is cheap.
 *
 * Removal from inside a callback only marks the entry dead; it is freed at
 * the end of the iteration, after every callback of that batch has run. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <zmq.h>

#include "pn_svc.h"

struct pn_watch {
    int fd;
    bool dead;
    void *zsock;        /* zmq watch when non-NULL */
    pn_fd_fn fd_fn;
    pn_zsock_fn z_fn;
    void *arg;
    pn_watch_t *next;   /* all watches (for freeing) */
    pn_watch_t *znext;  /* zmq watches only (for the per-iteration pass) */
};

struct pn_timer {
    uint64_t due_ms, period_ms;
    bool repeat, dead;
    pn_timer_fn fn;
    void *arg;
    pn_timer_t *next;
};

typedef struct defer {
    void (*fn)(void *);
    void *arg;
    struct defer *next;
} defer_t;

typedef struct sigh {
    int signo;
    pn_signal_fn fn;
    void *arg;
} sigh_t;

struct pn_loop {
    int epfd;
    bool stop;
    pn_watch_t *watches;
    pn_watch_t *zwatches;  /* the few zmq sockets, re-checked every iteration */
    size_t ndead;          /* entries waiting to be freed: reap only then */
    pn_timer_t *timers;
    defer_t *defers;
    int sigfd;
    pn_watch_t *sigwatch;
    sigset_t sigmask;
    sigh_t sigs[16];
    int nsigs;
};

pn_loop_t *pn_loop_new(void)
{
    pn_loop_t *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->sigfd = -1;
    sigemptyset(&l->sigmask);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    return l;
}

/* Unlink every dead entry of a singly linked list (through its `link`
 * member), freeing it when `release` says so. */
#define S_UNLINK_DEAD(head, type, link, release)      \
    for (type **pp = &(head); *pp;) {                  \
        type *e_ = *pp;                                \
        if (e_->dead) {                                \
            *pp = e_->link;                            \
            if (release)                               \
                free(e_);                              \
        } else                                         \
            pp = &e_->link;                            \
    }

static void s_reap(pn_loop_t *l)
{
    /* Walking every watch is O(n), so it happens only when something died,
     * never per frame.  A zmq watch sits on both lists: freed once. */
    if (l->ndead == 0)
        return;
    l->ndead = 0;
    S_UNLINK_DEAD(l->zwatches, pn_watch_t, znext, false);
    S_UNLINK_DEAD(l->watches, pn_watch_t, next, true);
    S_UNLINK_DEAD(l->timers, pn_timer_t, next, true);
}

static void s_run_defers(pn_loop_t *l)
{
    while (l->defers) {
        defer_t *d = l->defers;
        l->defers = d->next;
        d->fn(d->arg);
        free(d);
    }
}

void pn_loop_destroy(pn_loop_t **lp)
{
    if (!lp || !*lp)
        return;
    pn_loop_t *l = *lp;
    s_run_defers(l);
    for (pn_watch_t *w = l->watches; w; w = w->next)
        w->dead = true;
    for (pn_timer_t *t = l->timers; t; t = t->next)
        t->dead = true;
    l->ndead++;
    s_reap(l);
    if (l->sigfd >= 0) {
        close(l->sigfd);
        sigprocmask(SIG_UNBLOCK, &l->sigmask, NULL);
    }
    close(l->epfd);
    free(l);
    *lp = NULL;
}

void pn_loop_stop(pn_loop_t *l) { l->stop = true; }
bool pn_loop_stopping(pn_loop_t *l) { return l->stop; }

pn_watch_t *pn_loop_add_fd(pn_loop_t *l, int fd, uint32_t events, pn_fd_fn fn, void *arg)
{
    pn_watch_t *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->fd = fd;
    w->fd_fn = fn;
    w->arg = arg;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(w);
        return NULL;
    }
    w->next = l->watches;
    l->watches = w;
    return w;
}

int pn_loop_mod_fd(pn_loop_t *l, pn_watch_t *w, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = w };
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

void pn_loop_del(pn_loop_t *l, pn_watch_t *w)
{
    if (!w || w->dead)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->dead = true;
    l->ndead++;
}

pn_watch_t *pn_loop_add_zsock(pn_loop_t *l, void *zsock, pn_zsock_fn fn, void *arg)
{
    int fd;
    size_t sz = sizeof(fd);
    if (zmq_getsockopt(zsock, ZMQ_FD, &fd, &sz) < 0)
        return NULL;
    pn_watch_t *w = pn_loop_add_fd(l, fd, EPOLLIN, NULL, arg);
    if (!w)
        return NULL;
    w->zsock = zsock;
    w->z_fn = fn;
    w->znext = l->zwatches;
    l->zwatches = w;
    return w;
}

/* Drain a zmq socket: call its callback while ZMQ_EVENTS says readable.
 * A bound on the rounds keeps one busy socket from starving the others.
 * Returns how many messages it handled. */
static int s_drain_zsock(pn_loop_t *l, pn_watch_t *w)
{
    int round = 0;
    for (; round < 256 && !w->dead; round++) {
        int ev = 0;
        size_t sz = sizeof(ev);
        if (zmq_getsockopt(w->zsock, ZMQ_EVENTS, &ev, &sz) < 0 || !(ev & ZMQ_POLLIN))
            break;
        w->z_fn(l, w->zsock, w->arg);
    }
    return round;
}

pn_timer_t *pn_loop_add_timer(pn_loop_t *l, uint64_t ms, bool repeat, pn_timer_fn fn, void *arg)
{
    pn_timer_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->due_ms = pn_mono_ms() + ms;
    t->period_ms = ms ? ms : 1;
    t->repeat = repeat;
    t->fn = fn;
    t->arg = arg;
    t->next = l->timers;
    l->timers = t;
    return t;
}

void pn_loop_del_timer(pn_loop_t *l, pn_timer_t *t)
{
    if (t && !t->dead) {
        t->dead = true;
        l->ndead++;
    }
}

static void s_on_signal(pn_loop_t *l, int fd, uint32_t events, void *arg)
{
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == sizeof(si)) {
        for (int i = 0; i < l->nsigs; i++)
            if (l->sigs[i].signo == (int)si.ssi_signo)
                l->sigs[i].fn(l, (int)si.ssi_signo, l->sigs[i].arg);
    }
}

int pn_loop_add_signal(pn_loop_t *l, int signo, pn_signal_fn fn, void *arg)
{
    if (l->nsigs >= (int)(sizeof(l->sigs) / sizeof(l->sigs[0])))
        return -ENOSPC;
    sigaddset(&l->sigmask, signo);
    if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
        return -errno;
    int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (l->sigfd < 0) {
        l->sigfd = fd;
        l->sigwatch = pn_loop_add_fd(l, fd, EPOLLIN, s_on_signal, NULL);
        if (!l->sigwatch)
            return -ENOMEM;
    }
    l->sigs[l->nsigs++] = (sigh_t){ signo, fn, arg };
    return 0;
}

int pn_loop_defer(pn_loop_t *l, void (*fn)(void *), void *arg)
{
    defer_t *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->fn = fn;
    d->arg = arg;
    /* Append so defers run in the order they were asked for. */
    defer_t **pp = &l->defers;
    while (*pp)
        pp = &(*pp)->next;
    *pp = d;
    return 0;
}

static int s_next_timeout(pn_loop_t *l)
{
    uint64_t now = pn_mono_ms(), best = UINT64_MAX;
    for (pn_timer_t *t = l->timers; t; t = t->next)
        if (!t->dead && t->due_ms < best)
            best = t->due_ms;
    if (best == UINT64_MAX)
        return -1;
    return best <= now ? 0 : (int)(best - now > 60000 ? 60000 : best - now);
}

static void s_run_timers(pn_loop_t *l)
{
    uint64_t now = pn_mono_ms();
    for (pn_timer_t *t = l->timers; t; t = t->next) {
        if (t->dead || t->due_ms > now)
            continue;
        if (t->repeat)
            t->due_ms = now + t->period_ms;
        else {
            t->dead = true;
            l->ndead++;
        }
        t->fn(l, t, t->arg);
    }
}

int pn_loop_run(pn_loop_t *l)
{
    struct epoll_event evs[256];
    bool pending = false;
    while (!l->stop) {
        int timeout = pending || l->defers ? 0 : s_next_timeout(l);
        int n = epoll_wait(l->epfd, evs, 256, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (int i = 0; i < n && !l->stop; i++) {
            pn_watch_t *w = evs[i].data.ptr;
            if (w->dead)
                continue;
            if (w->zsock)
                s_drain_zsock(l, w);
            else
                w->fd_fn(l, w->fd, evs[i].events, w->arg);
        }
        s_run_timers(l);
        s_run_defers(l);
        /* Last before sleeping: a zmq socket that any callback above sent
         * or received on may hold messages its ZMQ_FD will not announce
         * again, so each is asked once (ZMQ_EVENTS) and drained.  When that
         * ran callbacks (which may have touched a socket asked before),
         * the next round polls without sleeping and asks again. */
        pending = false;
        for (pn_watch_t *w = l->zwatches; w && !l->stop; w = w->znext)
            if (!w->dead && s_drain_zsock(l, w) > 0)
                pending = true;
        s_reap(l);
    }
    s_run_defers(l);
    s_reap(l);
    return 0;
}
