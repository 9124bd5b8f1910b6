/* libpnsvc: the daemon runtime shared by every plugnet service.
 *
 *  - pn_loop: an epoll event loop watching plain fds, zmq sockets (through
 *    ZMQ_FD, drained on every wakeup), timers and signals (signalfd).  Cost
 *    per event is O(1) in the number of watched fds.  An entry removed from
 *    inside its own callback is freed after the callback returns.
 *  - pn_log: stderr logging with sd-daemon "<N>" priority prefixes and a
 *    rate limiter for anything a peer can trigger.
 *  - pn_svc: a daemon skeleton: lock file (one instance per RUN dir), the
 *    ctl ROUTER and pub PUB sockets, op dispatch through a table, ping and
 *    status, sd_notify READY/STATUS/WATCHDOG/STOPPING, SIGTERM/SIGINT.
 *  - pn_client: a blocking request with a deadline (the CLI, and daemons
 *    calling each other).
 *  - pn_file_write_atomic: temp + fsync + rename.
 */
#ifndef PN_SVC_H
#define PN_SVC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "pn_ops.h"
#include "pn_proto.h"

/* ------------------------------------------------------------------ log */

enum { PN_LOG_ERR = 3, PN_LOG_WARNING = 4, PN_LOG_NOTICE = 5, PN_LOG_INFO = 6, PN_LOG_DEBUG = 7 };

void pn_log_set_level(int level);
void pn_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pn_err(...) pn_log(PN_LOG_ERR, __VA_ARGS__)
#define pn_warn(...) pn_log(PN_LOG_WARNING, __VA_ARGS__)
#define pn_notice(...) pn_log(PN_LOG_NOTICE, __VA_ARGS__)
#define pn_info(...) pn_log(PN_LOG_INFO, __VA_ARGS__)
#define pn_debug(...) pn_log(PN_LOG_DEBUG, __VA_ARGS__)

/* A token bucket: at most `burst` messages, refilled at one per
 * `interval_ms`.  Messages suppressed are counted and reported with the
 * next one that passes.  Use one static limiter per call site. */
typedef struct {
    unsigned interval_ms, burst;
    unsigned tokens;
    uint64_t last_ms;
    uint64_t suppressed;
} pn_ratelimit_t;
#define PN_RATELIMIT_INIT(ms, burst) { (ms), (burst), (burst), 0, 0 }
void pn_log_rl(pn_ratelimit_t *rl, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ----------------------------------------------------------------- loop */

typedef struct pn_loop pn_loop_t;
typedef struct pn_watch pn_watch_t;
typedef struct pn_timer pn_timer_t;

/* events: EPOLLIN/EPOLLOUT/...; return value ignored. */
typedef void (*pn_fd_fn)(pn_loop_t *loop, int fd, uint32_t events, void *arg);
/* Called for each time the zmq socket is readable (the loop drains it:
 * the callback must consume at least one message per call, or remove itself). */
typedef void (*pn_zsock_fn)(pn_loop_t *loop, void *zsock, void *arg);
typedef void (*pn_timer_fn)(pn_loop_t *loop, pn_timer_t *t, void *arg);
typedef void (*pn_signal_fn)(pn_loop_t *loop, int signo, void *arg);

pn_loop_t *pn_loop_new(void);
void pn_loop_destroy(pn_loop_t **loop_p);
int pn_loop_run(pn_loop_t *loop);   /* until pn_loop_stop; 0 or -errno */
void pn_loop_stop(pn_loop_t *loop);
bool pn_loop_stopping(pn_loop_t *loop);

pn_watch_t *pn_loop_add_fd(pn_loop_t *loop, int fd, uint32_t events, pn_fd_fn fn, void *arg);
int pn_loop_mod_fd(pn_loop_t *loop, pn_watch_t *w, uint32_t events);
void pn_loop_del(pn_loop_t *loop, pn_watch_t *w); /* does not close the fd */
pn_watch_t *pn_loop_add_zsock(pn_loop_t *loop, void *zsock, pn_zsock_fn fn, void *arg);

/* ms from now; repeat re-arms with the same period. */
pn_timer_t *pn_loop_add_timer(pn_loop_t *loop, uint64_t ms, bool repeat, pn_timer_fn fn, void *arg);
void pn_loop_del_timer(pn_loop_t *loop, pn_timer_t *t);
int pn_loop_add_signal(pn_loop_t *loop, int signo, pn_signal_fn fn, void *arg);
/* Run fn once at the end of the current iteration (deferred frees). */
int pn_loop_defer(pn_loop_t *loop, void (*fn)(void *), void *arg);

/* ------------------------------------------------------------------ svc */

typedef struct pn_svc pn_svc_t;
typedef struct pn_req pn_req_t;

/* An op handler.  It either replies now (pn_req_ok / pn_req_fail) or keeps
 * the request with pn_req_hold() and replies later from the loop.  A
 * handler returning without replying and without holding gets an
 * "internal" reply. */
typedef void (*pn_op_fn)(pn_svc_t *svc, pn_req_t *req);
/* One entry per op, written with proto/pn_ops.h's names:
 * { PN_OP_LAN_ADD, op_lan_add } sets svc "switchd", op "lan.add". */
typedef struct {
    const char *svc;
    const char *op;
    pn_op_fn fn;
} pn_svc_op_t;

/* Does a daemon's table agree with the schema (proto/schema.c)?  Every
 * entry is an op of svc in the schema, none twice, none "ping"/"status"
 * (the runtime answers those), and every op of svc in the schema has an
 * entry.  0, or -EINVAL with err naming the first disagreement. */
int pn_svc_ops_check(const char *svc, const pn_svc_op_t *ops, char *err, size_t errlen);

/* ops ends with {NULL, NULL, NULL}.  "ping" and "status" are answered by
 * the runtime; status calls status_fn (may be NULL) to fill its data map.
 * NULL (after logging why) when ops and the schema disagree. */
pn_svc_t *pn_svc_new(const char *name, const pn_svc_op_t *ops, void *user);
void pn_svc_destroy(pn_svc_t **svc_p);
void *pn_svc_user(pn_svc_t *svc);
pn_loop_t *pn_svc_loop(pn_svc_t *svc);
const char *pn_svc_name(pn_svc_t *svc);
void pn_svc_set_status_fn(pn_svc_t *svc, void (*fn)(pn_svc_t *svc, pn_val_t *data));
/* Called when SIGTERM/SIGINT arrives, before the loop stops (may be NULL). */
void pn_svc_set_stop_fn(pn_svc_t *svc, void (*fn)(pn_svc_t *svc));

/* Parse common options (-v, --run-dir, --state-dir, --help, --version),
 * take the instance lock, bind the sockets.  Returns 0, or a negative errno
 * after logging why (e.g. a second instance: -EBUSY). */
int pn_svc_start(pn_svc_t *svc, int argc, char **argv);
/* READY=1, publish <svc>.daemon started, run the loop, publish stopping,
 * STOPPING=1.  Returns the process exit code. */
int pn_svc_run(pn_svc_t *svc);
void pn_svc_notify_status(pn_svc_t *svc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Publish an event on topic "<svc>.<topic>" (e.g. topic "port" gives
 * "switchd.port") of the given type; takes ownership of data (may be NULL). */
int pn_svc_publish(pn_svc_t *svc, const char *topic, const char *type, pn_val_t *data);

/* Requests. */
const char *pn_req_op(pn_req_t *req);
pn_val_t *pn_req_args(pn_req_t *req);    /* the validated args map, never NULL */
void pn_req_ok(pn_req_t *req, pn_val_t *data);   /* takes data (NULL = {}) and frees req if held */
void pn_req_fail(pn_req_t *req, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* obj, or (obj NULL) NULL after failing req with PN_ENOTFOUND
 * "<what> '<name>' does not exist". */
void *pn_req_found(pn_req_t *req, void *obj, const char *what, const char *name);
pn_req_t *pn_req_hold(pn_req_t *req);    /* keep it past the handler; reply later */
/* Reply with a one-key map {key: v} (takes v). */
void pn_req_ok_with(pn_req_t *req, const char *key, pn_val_t *v);

/* ---------------------------------------------------------------- client */

typedef struct pn_client pn_client_t;

/* A DEALER connected to ipc://RUN/<svc>.ctl.  NULL on failure. */
pn_client_t *pn_client_new(const char *svc);
void pn_client_destroy(pn_client_t **c_p);
/* Send a request and wait up to timeout_ms for its reply.  Returns:
 *  PN_OK with *data (caller frees) on success;
 *  the daemon's error code with errmsg set when it refused;
 *  -ETIMEDOUT / -ECONNREFUSED (no daemon) / other -errno on transport failure.
 * args ownership passes to the callee. */
int pn_client_call(pn_client_t *c, const char *op, pn_val_t *args, int timeout_ms,
                   pn_val_t **data, char *errmsg, size_t errlen);
/* One-shot helper creating a client per call. */
int pn_call(const char *svc, const char *op, pn_val_t *args, int timeout_ms,
            pn_val_t **data, char *errmsg, size_t errlen);
/* Is a daemon's ctl socket file present and accepting?  (cheap check) */
bool pn_svc_socket_present(const char *svc);
/* Knock at a daemon's ctl socket: connect() and hang up at once. */
typedef enum {
    PN_KNOCK_ABSENT,  /* no such socket, or it refused */
    PN_KNOCK_THERE,   /* it accepted (nowait: or its backlog is full) */
    PN_KNOCK_UNKNOWN, /* no socket of our own to knock with */
} pn_knock_t;
pn_knock_t pn_svc_knock(const char *svc, bool nowait);

/* ----------------------------------------------------------------- misc */

/* Unlink item from the singly linked list whose first element is head
 * (linked through ->next).  True when it was on the list. */
#define PN_SLIST_REMOVE(head, item)                                   \
    __extension__({                                                   \
        __typeof__(item) *pn_pp_ = &(head);                           \
        while (*pn_pp_ && *pn_pp_ != (item))                          \
            pn_pp_ = &(*pn_pp_)->next;                                \
        bool pn_found_ = *pn_pp_ != NULL;                             \
        if (pn_found_)                                                \
            *pn_pp_ = (item)->next;                                   \
        pn_found_;                                                    \
    })


/* Write data atomically: path.tmp, fsync, rename, fsync dir.  0 or -errno. */
int pn_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* The same without the fsyncs: atomic against a crash of the process (a
 * reader sees the old or the new file), not against a power cut.  For
 * facts that a reboot makes stale anyway (which process runs a node). */
int pn_file_replace(const char *path, const void *data, size_t len, unsigned mode);
/* Finish a file written to tmp through fd: fsync it (when durable), close
 * it, rename it over path.  fd is always closed; on any failure tmp is
 * removed.  0 or -errno. */
int pn_file_commit(int fd, const char *tmp, const char *path, bool durable);
/* All n bytes read into buf or written from it, on a blocking fd: at off
 * (pread/pwrite), or at the file position when off < 0; again after EINTR.
 * 0, or -errno (-EIO when a transfer made no progress: a short file, a
 * full disk). */
int pn_io_all(int fd, void *buf, size_t n, int64_t off, bool out);
/* pn_io_all writing at the file position (a file, a pipe). */
int pn_write_all(int fd, const void *buf, size_t n);
/* Read a whole file (at most max bytes).  0 or -errno; *buf malloc'd + NUL. */
int pn_file_read(const char *path, size_t max, char **buf, size_t *len);
/* Encode/decode a pn_val to/from a msgpack state file. */
int pn_state_save(const char *path, const pn_val_t *v);
/* durable=false: pn_file_replace rather than pn_file_write_atomic. */
int pn_state_save_opt(const char *path, const pn_val_t *v, bool durable);
int pn_state_load(const char *path, pn_val_t **v);

/* The shared zmq context of this process. */
void *pn_zctx(void);

#endif
