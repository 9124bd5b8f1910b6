/* plugnet-agent: the in-guest end of a node's agent channel.
 *
 * One static binary, no runtime dependency.  It serves sessions (exec with
 * pipes or a pty, file put/get) multiplexed over one channel, framed by
 * ag_chan (docs/AGENT.md).  The channel is, in order of preference:
 *   --listen PATH   a unix socket it serves (ns nodes; agentd connects)
 *   --dev PATH      a character device (a serial line is put in raw mode)
 *   --fd N          an inherited descriptor
 *   (none)          found by itself: the virtio port org.plugnet.agent.0,
 *                   else on UML the serial line /dev/ttyS1.
 * -d daemonises.  A session's process group is killed when its session
 * closes, so a CLI that dies leaves no orphan behind.
 *
 * Single-threaded; poll() over the channel, the session fds and a
 * signalfd for SIGCHLD.  The poll set is rebuilt from the state every
 * iteration, which keeps flow control plain: a fd is read only while the
 * host has granted credit and the channel queue is short.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ag_chan.h"
#include "ag_tree.h"

#define OUT_HIGH (512u * 1024u) /* stop reading sessions above this channel queue */
#define VPORT_NAME "org.plugnet.agent.0"

enum { K_EXEC, K_PUT, K_GET };

typedef struct sess {
    uint32_t sid;
    int kind;
    pid_t pid;
    bool reaped, timed_out, pty;
    int wstatus;
    int in_fd, out_fd, err_fd; /* pty: in_fd == out_fd == master */
    ag_buf_t in;
    bool in_eof, in_closed;
    ag_rxwin_t rx;
    uint64_t credit;
    uint64_t deadline;
    ag_tree_r_t *reader;
    ag_tree_w_t *walker;
    struct sess *next;
} sess_t;

static struct {
    int mode; /* 0 auto, 1 dev, 2 listen, 3 fd */
    const char *path;
    int fd;        /* channel */
    int lfd;       /* listening socket */
    bool is_sock;
    ag_dec_t dec;
    ag_buf_t out;   /* bulk frames */
    ag_buf_t urg;   /* HELLO, PONG, CREDIT: written at the next frame boundary */
    ag_wire_t wire;
    sess_t *sessions;
    int nsess;
    uint64_t instance;
    uint32_t window; /* what each session may have in flight toward us */
    uint32_t budget; /* on a serial line: what all sessions together may (0: no limit) */
    uint64_t reopen_at;
    int sigfd;
    bool daemon;
    bool quit;
} A = { .fd = -1, .lfd = -1, .sigfd = -1, .window = AG_WINDOW };

/* ---------------------------------------------------------------- utils */

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void s_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_log(const char *fmt, ...)
{
    /* At most 20 lines per 10 s: the peer can trigger these. */
    static uint64_t window;
    static int count;
    uint64_t now = s_now_ms();
    if (now - window > 10000) {
        window = now;
        count = 0;
    }
    if (++count > 20)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dprintf(2, "plugnet-agent: %s\n", buf);
}

static void s_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void s_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void s_send(uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
    if (A.fd < 0)
        return;
    /* A PONG or a CREDIT jumps the queued bulk data: the host's keepalive
     * is answered at once however much output waits (ag_wire_flush). */
    if (ag_frame_put(ag_type_urgent(type) ? &A.urg : &A.out, type, flags, sid, p, n) < 0)
        s_log("out of memory queueing a %s frame", ag_type_name(type));
}

/* ------------------------------------------------------------- sessions */

static sess_t *s_find(uint32_t sid)
{
    for (sess_t *s = A.sessions; s; s = s->next)
        if (s->sid == sid)
            return s;
    return NULL;
}

static void s_free(sess_t *s)
{
    for (sess_t **pp = &A.sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    A.nsess--;
    /* No orphans: the whole process group goes with the session. */
    if (s->pid > 0 && !s->reaped) {
        kill(-s->pid, SIGKILL);
        kill(s->pid, SIGKILL); /* in case it has not reached setsid() yet */
    }
    if (s->pty) {
        s_close(&s->out_fd);
        s->in_fd = -1;
    }
    s_close(&s->in_fd);
    s_close(&s->out_fd);
    s_close(&s->err_fd);
    ag_buf_free(&s->in);
    ag_tree_r_free(&s->reader);
    ag_tree_w_free(&s->walker);
    free(s);
}

/* Report the end of a session and forget it. */
static void s_exit(sess_t *s, const char *error)
{
    ag_buf_t p = { 0 };
    if (error) {
        ag_tlv_str(&p, AG_K_ERROR, error);
        ag_tlv_u32(&p, AG_K_STATUS, 255);
    } else if (s->kind != K_EXEC) {
        ag_tlv_u32(&p, AG_K_STATUS, 0);
    } else if (WIFSIGNALED(s->wstatus)) {
        ag_tlv_u32(&p, AG_K_SIGNAL, (uint32_t)WTERMSIG(s->wstatus));
    } else {
        ag_tlv_u32(&p, AG_K_STATUS, (uint32_t)WEXITSTATUS(s->wstatus));
    }
    if (s->timed_out)
        ag_tlv_u32(&p, AG_K_TIMEDOUT, 1);
    s_send(AG_T_EXIT, 0, s->sid, ag_buf_head(&p), ag_buf_used(&p));
    ag_buf_free(&p);
    s_free(s);
}

static void s_kill_all(void)
{
    while (A.sessions)
        s_free(A.sessions);
}

static char **s_env_add(char **env, size_t *n, const char *kv)
{
    size_t kl = strcspn(kv, "=");
    for (size_t i = 0; i < *n; i++)
        if (!strncmp(env[i], kv, kl) && env[i][kl] == '=') {
            env[i] = (char *)kv;
            return env;
        }
    char **e = realloc(env, (*n + 2) * sizeof *e);
    if (!e)
        return env;
    e[(*n)++] = (char *)kv;
    e[*n] = NULL;
    return e;
}

/* The child side of exec: never returns. */
static void s_child(const char *file, char **argv, char **env, const char *cwd, const char *home, int in,
                    int out, int err, const char *pts)
{
    /* Whatever the agent inherited (a background start ignores SIGINT
     * and SIGQUIT) or set for itself must not reach the command. */
    for (int i = 1; i < 65; i++)
        signal(i, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    setsid();
    if (pts) {
        int t = open(pts, O_RDWR);
        if (t < 0)
            _exit(126);
        ioctl(t, TIOCSCTTY, 0);
        in = out = err = t;
    }
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    if (cwd && chdir(cwd) < 0) {
        dprintf(2, "plugnet-agent: cannot change to directory %s: %s\n", cwd, strerror(errno));
        _exit(126);
    }
    if (!cwd && chdir(home) < 0 && chdir("/") < 0)
        _exit(126);
    execvpe(file, argv, env);
    int e = errno;
    dprintf(2, "plugnet-agent: cannot run %s: %s\n", file, strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}

/* vfork and run the child; in a function of its own so that no local of
 * the caller lives across the vfork. */
static __attribute__((noinline)) pid_t s_spawn(const char *file, char **argv, char **env, const char *cwd,
                                               const char *home, int in, int out, int err, const char *pts)
{
    pid_t pid = vfork();
    if (pid == 0)
        s_child(file, argv, env, cwd, home, in, out, err, pts);
    return pid;
}

static const char *s_open_exec(sess_t *s, ag_tlv_iter_t it)
{
    static char err[256];
    char *argv[1025];
    size_t argc = 0;
    char *strs[2200];
    size_t nstrs = 0;
    char *cwd = NULL, *term = NULL;
    uint32_t pty = 0, timeout = 0;
    bool want_pty = false;
    size_t nenv = 0;
    char **env = NULL;
    const char *ret = NULL;
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    int r;

    struct passwd *pw = getpwuid(getuid());
    const char *home = pw && pw->pw_dir ? pw->pw_dir : "/root";
    const char *shell = pw && pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
    static char home_kv[300], shell_kv[300];
    snprintf(home_kv, sizeof home_kv, "HOME=%s", home);
    snprintf(shell_kv, sizeof shell_kv, "SHELL=%s", shell);
    env = s_env_add(env, &nenv, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env = s_env_add(env, &nenv, home_kv);
    env = s_env_add(env, &nenv, shell_kv);
    env = s_env_add(env, &nenv, "USER=root");
    env = s_env_add(env, &nenv, "LOGNAME=root");
    /* UML guests need this one to run at all (vmd puts it on the kernel
     * command line, so init and the agent have it): keep it. */
    static char tunables[512];
    const char *gt = getenv("GLIBC_TUNABLES");
    if (gt && strlen(gt) < sizeof tunables - 16) {
        snprintf(tunables, sizeof tunables, "GLIBC_TUNABLES=%s", gt);
        env = s_env_add(env, &nenv, tunables);
    }

    while ((r = ag_tlv_next(&it, &tag, &v, &len)) == 1) {
        char *str = NULL;
        switch (tag) {
        case AG_K_ARG:
        case AG_K_ENV:
        case AG_K_CWD:
        case AG_K_TERM:
            if (nstrs >= sizeof strs / sizeof *strs) {
                ret = "too many strings in the request";
                goto out;
            }
            str = ag_tlv_as_str(v, len);
            if (!str) {
                ret = "bad string in the request";
                goto out;
            }
            strs[nstrs++] = str;
            break;
        }
        switch (tag) {
        case AG_K_ARG:
            if (argc >= 1024) {
                ret = "more than 1024 arguments";
                goto out;
            }
            argv[argc++] = str;
            break;
        case AG_K_ENV:
            if (!strchr(str, '=') || str[0] == '=') {
                snprintf(err, sizeof err, "environment entry '%.100s' is not K=V", str);
                ret = err;
                goto out;
            }
            env = s_env_add(env, &nenv, str);
            break;
        case AG_K_CWD:
            cwd = str;
            break;
        case AG_K_TERM:
            term = str;
            break;
        case AG_K_PTY:
            want_pty = true;
            pty = ag_tlv_as_u32(v, len);
            break;
        case AG_K_TIMEOUT:
            timeout = ag_tlv_as_u32(v, len);
            break;
        }
    }
    if (r < 0) {
        ret = "malformed open request";
        goto out;
    }
    static char login0[64];
    const char *file = argv[0];
    if (argc == 0) {
        /* No command: the login shell, named "-sh" so it reads its profile. */
        const char *b = strrchr(shell, '/');
        snprintf(login0, sizeof login0, "-%s", b ? b + 1 : shell);
        argv[argc++] = login0;
        file = shell;
    }
    argv[argc] = NULL;
    static char term_kv[128];
    if (want_pty) {
        snprintf(term_kv, sizeof term_kv, "TERM=%.100s", term ? term : "xterm");
        env = s_env_add(env, &nenv, term_kv);
    }
    if (!env) {
        ret = "out of memory";
        goto out;
    }

    int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
    int master = -1;
    char pts[128] = "";
    if (want_pty) {
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, pts, sizeof pts)) {
            snprintf(err, sizeof err, "cannot allocate a pty: %s", strerror(errno));
            s_close(&master);
            ret = err;
            goto out;
        }
        struct winsize ws = { .ws_row = (unsigned short)(pty >> 16), .ws_col = (unsigned short)(pty & 0xffff) };
        if (ws.ws_row && ws.ws_col)
            ioctl(master, TIOCSWINSZ, &ws);
    } else if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
        snprintf(err, sizeof err, "cannot make pipes: %s", strerror(errno));
        ret = err;
        for (int i = 0; i < 2; i++) {
            s_close(&pin[i]);
            s_close(&pout[i]);
            s_close(&perr[i]);
        }
        goto out;
    }
    /* vfork: no copy of the agent's page tables, which is most of the cost
     * of an exec on UML.  Every signal stays blocked until the child has
     * reset its dispositions, so no agent handler runs on the shared
     * memory; the child only makes system calls until it execs. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = s_spawn(file, argv, env, cwd, home, pin[0], pout[1], perr[1], want_pty ? pts : NULL);
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        snprintf(err, sizeof err, "cannot fork: %s", strerror(fork_errno));
        ret = err;
        s_close(&master);
        for (int i = 0; i < 2; i++) {
            s_close(&pin[i]);
            s_close(&pout[i]);
            s_close(&perr[i]);
        }
        goto out;
    }
    s->pid = pid;
    if (want_pty) {
        s->pty = true;
        s->in_fd = s->out_fd = master;
        s_nonblock(master);
    } else {
        close(pin[0]);
        close(pout[1]);
        close(perr[1]);
        s->in_fd = pin[1];
        s->out_fd = pout[0];
        s->err_fd = perr[0];
        s_nonblock(s->in_fd);
        s_nonblock(s->out_fd);
        s_nonblock(s->err_fd);
    }
    if (timeout)
        s->deadline = s_now_ms() + timeout;
out:
    for (size_t i = 0; i < nstrs; i++)
        free(strs[i]);
    free(env);
    return ret;
}

static void s_open(const ag_frame_t *f)
{
    if (s_find(f->sid) || f->sid == 0) {
        s_log("open of session %u which exists", f->sid);
        return;
    }
    sess_t *s = calloc(1, sizeof *s);
    if (!s)
        return;
    s->sid = f->sid;
    s->in_fd = s->out_fd = s->err_fd = -1;
    ag_rxwin_init_n(&s->rx, A.window);
    if (A.budget) {
        /* The host starts with no credit (HELLO said window 0): the first
         * window is granted from the shared budget. */
        s->rx.owed = s->rx.allowed;
        s->rx.allowed = 0;
    }
    s->credit = AG_WINDOW;
    s->next = A.sessions;
    A.sessions = s;
    A.nsess++;
    if (A.nsess > AG_MAX_SESSIONS) {
        s_exit(s, "too many sessions on this node");
        return;
    }
    ag_tlv_iter_t it = { f->payload, f->payload + f->len };
    char *kind = NULL, *path = NULL;
    bool rec = false;
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    ag_tlv_iter_t it2 = it;
    while (ag_tlv_next(&it2, &tag, &v, &len) == 1) {
        if (tag == AG_K_KIND && !kind)
            kind = ag_tlv_as_str(v, len);
        else if (tag == AG_K_PATH && !path)
            path = ag_tlv_as_str(v, len);
        else if (tag == AG_K_RECURSIVE)
            rec = ag_tlv_as_u32(v, len) != 0;
    }
    const char *err = NULL;
    char ebuf[600];
    if (!kind || !strcmp(kind, "exec")) {
        s->kind = K_EXEC;
        err = s_open_exec(s, it);
    } else if (!strcmp(kind, "put") || !strcmp(kind, "get")) {
        if (!path || path[0] != '/') {
            err = "the path must be absolute";
        } else if (!strcmp(kind, "put")) {
            s->kind = K_PUT;
            s->reader = ag_tree_r_new(path);
            if (!s->reader)
                err = "out of memory";
        } else {
            s->kind = K_GET;
            s->walker = ag_tree_w_new(path, rec, ebuf, sizeof ebuf);
            if (!s->walker)
                err = ebuf;
        }
    } else {
        err = "unknown session kind";
    }
    if (err)
        s_exit(s, err);
    free(kind);
    free(path);
}

/* Give the host credit back for what this session took in.  On a serial
 * line all sessions share one budget: what the host may have in flight
 * toward us, all sessions together, must fit in the tty's input buffer
 * (see s_chan_open), so a grant is cut to what the budget has left and
 * the rest stays owed until other sessions' bytes arrive. */
static void s_grant(sess_t *s)
{
    uint32_t g = ag_rxwin_grant(&s->rx, ag_buf_used(&s->in));
    if (g && A.budget) {
        uint64_t out = 0;
        for (sess_t *o = A.sessions; o; o = o->next)
            out += o->rx.allowed;
        out -= g; /* ag_rxwin_grant counted it already */
        uint32_t ok = out >= A.budget ? 0 : A.budget - out < g ? (uint32_t)(A.budget - out) : g;
        s->rx.allowed -= g - ok;
        s->rx.owed += g - ok;
        g = ok;
    }
    if (g) {
        uint8_t p[4];
        ag_put32(p, g);
        s_send(AG_T_CREDIT, 0, s->sid, p, 4);
    }
}

/* The budget freed up (bytes arrived): sessions still owed credit get it. */
static void s_grant_all(void)
{
    if (!A.budget)
        return;
    for (sess_t *s = A.sessions; s; s = s->next)
        if (s->rx.owed)
            s_grant(s);
}

static void s_stdin_data(sess_t *s, const ag_frame_t *f)
{
    if (!ag_rxwin_take(&s->rx, f->len)) {
        s_log("session %u: host overran its window", s->sid);
        s_exit(s, "flow control violated by the host");
        return;
    }
    if (s->kind == K_PUT) {
        /* A checked frame's pcrc is its payload's CRC: the file's CRC
         * needs no second pass over the bytes. */
        if ((f->checked ? ag_tree_r_feed_content(s->reader, f->payload, f->len, f->pcrc)
                        : ag_tree_r_feed(s->reader, f->payload, f->len)) < 0) {
            s_exit(s, ag_tree_r_error(s->reader));
            return;
        }
    } else if (s->kind == K_EXEC && !s->in_closed && !s->in_eof) {
        if (ag_buf_append(&s->in, f->payload, f->len) < 0) {
            s_exit(s, "out of memory");
            return;
        }
    }
    s_grant(s);
}

static void s_hello(uint8_t flags)
{
    ag_buf_t p = { 0 };
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    ag_tlv_str(&p, AG_K_VERSION, AG_AGENT_VERSION);
    ag_tlv_u32(&p, AG_K_PROTO_MIN, AG_PROTO_MIN);
    ag_tlv_u32(&p, AG_K_PROTO_MAX, AG_PROTO_MAX);
    ag_tlv_u64(&p, AG_K_INSTANCE, A.instance);
    ag_tlv_u64(&p, AG_K_UPTIME_MS, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
    ag_tlv_str(&p, AG_K_HOSTNAME, host);
    ag_tlv_u32(&p, AG_K_WINDOW, A.budget ? 0 : A.window);
    s_send(AG_T_HELLO, flags, 0, ag_buf_head(&p), ag_buf_used(&p));
    ag_buf_free(&p);
}

static void s_frame(const ag_frame_t *f)
{
    sess_t *s = f->sid ? s_find(f->sid) : NULL;
    switch (f->type) {
    case AG_T_HELLO:
        if (f->flags & AG_F_REPLY)
            return;
        /* A host (re)starting the channel: whatever ran before is gone. */
        s_kill_all();
        s_hello(AG_F_REPLY);
        return;
    case AG_T_PING:
        s_send(AG_T_PONG, 0, 0, f->payload, f->len);
        return;
    case AG_T_PONG:
        return;
    case AG_T_OPEN:
        s_open(f);
        return;
    }
    if (!s) {
        if (f->type != AG_T_CLOSE && f->type != AG_T_CREDIT && f->type != AG_T_DATA)
            s_log("%s frame for unknown session %u", ag_type_name(f->type), f->sid);
        return;
    }
    switch (f->type) {
    case AG_T_DATA:
        s_stdin_data(s, f);
        break;
    case AG_T_EOF:
        s->in_eof = true;
        if (s->kind == K_PUT) {
            if (ag_tree_r_finish(s->reader) < 0)
                s_exit(s, ag_tree_r_error(s->reader));
            else
                s_exit(s, NULL);
        }
        break;
    case AG_T_CREDIT:
        if (f->len == 4)
            s->credit += ag_get32(f->payload);
        break;
    case AG_T_RESIZE:
        if (f->len == 4 && s->pty) {
            uint32_t rc = ag_get32(f->payload);
            struct winsize ws = { .ws_row = (unsigned short)(rc >> 16), .ws_col = (unsigned short)(rc & 0xffff) };
            ioctl(s->out_fd, TIOCSWINSZ, &ws);
        }
        break;
    case AG_T_SIGNAL:
        if (f->len == 4 && s->pid > 0 && !s->reaped) {
            uint32_t sig = ag_get32(f->payload);
            if (sig >= 1 && sig < 65)
                kill(-s->pid, (int)sig);
        }
        break;
    case AG_T_CLOSE:
        s_free(s);
        break;
    default:
        s_log("unexpected %s frame on session %u", ag_type_name(f->type), f->sid);
        break;
    }
}

/* -------------------------------------------------------------- channel */

static void s_chan_lost(const char *why)
{
    if (A.fd >= 0)
        s_log("channel closed: %s", why);
    s_close(&A.fd);
    s_kill_all();
    ag_dec_reset(&A.dec);
    A.out.off = A.out.len = 0;
    A.urg.off = A.urg.len = 0;
    ag_wire_reset(&A.wire);
    A.reopen_at = s_now_ms() + 500;
}

/* An unsolicited HELLO: a host already connected learns that a new agent
 * (after a reboot) is there. */
static void s_announce(void)
{
    s_hello(0);
}

static int s_mknod_from_sys(const char *sysdev, const char *dev)
{
    char b[64];
    int fd = open(sysdev, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0)
        return -1;
    b[n] = 0;
    unsigned ma, mi;
    if (sscanf(b, "%u:%u", &ma, &mi) != 2)
        return -1;
    return mknod(dev, S_IFCHR | 0600, makedev(ma, mi));
}

/* Find the channel device of this guest. */
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
    return -1;
}

static void s_chan_open(void)
{
    char dev[300];
    const char *path = A.path;
    if (A.mode == 0) {
        if (s_find_dev(dev, sizeof dev) < 0) {
            A.reopen_at = s_now_ms() + 2000;
            return;
        }
        path = dev;
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        s_log("cannot open %s: %s", path, strerror(errno));
        A.reopen_at = s_now_ms() + 1000;
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
    A.fd = fd;
    A.reopen_at = 0;
    /* A serial line must never fill the tty's 4 KiB input buffer: UML's
     * line driver stops reading for good once the tty throttles it, and it
     * pushes all the line holds into the tty before we get to read.  So
     * the host keeps at most AG_TTY_WINDOW bytes in flight toward us, all
     * sessions together (a budget, s_grant), and starts each session
     * with none (window 0 in HELLO). */
    A.window = isatty(fd) ? AG_TTY_WINDOW : AG_WINDOW;
    A.budget = isatty(fd) ? AG_TTY_WINDOW : 0;
    s_announce();
}

static void s_chan_read(void)
{
    for (int i = 0; i < 16; i++) {
        size_t room;
        uint8_t *p = ag_dec_space(&A.dec, &room);
        ssize_t n = read(A.fd, p, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            s_chan_lost(n == 0 ? "end of file" : strerror(errno));
            return;
        }
        ag_dec_commit(&A.dec, (size_t)n);
        ag_frame_t f;
        int r;
        while ((r = ag_dec_next(&A.dec, &f)) != AG_DEC_MORE) {
            if (r == AG_DEC_CORRUPT) {
                s_log("damaged %s frame on session %u", ag_type_name(f.type), f.sid);
                sess_t *s = f.sid ? s_find(f.sid) : NULL;
                if (s)
                    s_exit(s, "a frame of this session was damaged on the channel");
                continue;
            }
            if (f.lost) {
                /* Noise took whole frames: any session may have a hole. */
                s_log("%u frames lost on the channel: ending every session", f.lost);
                while (A.sessions)
                    s_exit(A.sessions, "frames were lost on the channel");
            }
            s_frame(&f);
            if (A.fd < 0)
                return;
        }
        s_grant_all();
        if ((size_t)n < room)
            return;
    }
}

/* --------------------------------------------------------------- output */

static void s_pump_out(sess_t *s, int *fdp, int stream)
{
    size_t want = s->credit < AG_CHUNK ? (size_t)s->credit : AG_CHUNK;
    size_t mark;
    if (ag_frame_begin(&A.out, &mark) < 0)
        return;
    ssize_t n = read(*fdp, A.out.data + mark + AG_HDR, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        A.out.len = mark;
        return;
    }
    if (n <= 0) { /* EOF; a pty's master says EIO once the slave is gone */
        A.out.len = mark;
        s_send(AG_T_EOF, (uint8_t)stream, s->sid, NULL, 0);
        if (s->pty) {
            close(*fdp);
            s->out_fd = s->in_fd = -1;
        } else {
            s_close(fdp);
        }
        return;
    }
    A.out.len = mark + AG_HDR + (size_t)n;
    ag_frame_finish(&A.out, mark, AG_T_DATA, (uint8_t)stream, s->sid);
    s->credit -= (uint64_t)n;
}

static void s_pump_walker(sess_t *s)
{
    size_t want = s->credit < AG_CHUNK ? (size_t)s->credit : AG_CHUNK;
    size_t mark;
    if (ag_frame_begin(&A.out, &mark) < 0)
        return;
    uint32_t crc;
    long n = ag_tree_w_read_crc(s->walker, A.out.data + mark + AG_HDR, want, &crc);
    if (n <= 0) {
        A.out.len = mark;
        if (n < 0) {
            s_exit(s, ag_tree_w_error(s->walker));
        } else {
            s_send(AG_T_EOF, AG_STDOUT, s->sid, NULL, 0);
            s_exit(s, NULL);
        }
        return;
    }
    A.out.len = mark + AG_HDR + (size_t)n;
    ag_frame_finish_crc(&A.out, mark, AG_T_DATA, AG_STDOUT, s->sid, crc);
    s->credit -= (uint64_t)n;
}

static void s_pump_in(sess_t *s)
{
    long w = ag_buf_flush(&s->in, s->in_fd);
    if (w < 0) {
        /* The program stopped reading: drop what it will never read. */
        s->in.off = s->in.len = 0;
        s->in_closed = true;
        if (!s->pty)
            s_close(&s->in_fd);
    }
    s_grant(s);
}

static void s_reap(void)
{
    struct signalfd_siginfo si;
    while (read(A.sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            A.quit = true;
    }
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        for (sess_t *s = A.sessions; s; s = s->next)
            if (s->pid == pid) {
                s->reaped = true;
                s->wstatus = st;
            }
}

/* ----------------------------------------------------------------- main */

static int s_listen(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        s_log("socket path too long: %s", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
        s_log("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void s_daemonize(void)
{
    pid_t p = fork();
    if (p < 0) {
        s_log("cannot fork: %s", strerror(errno));
        exit(1);
    }
    if (p > 0)
        _exit(0);
    setsid();
    p = fork();
    if (p > 0)
        _exit(0);
    if (chdir("/") < 0)
        _exit(1);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        if (!getenv("PLUGNET_AGENT_LOG"))
            dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

static void s_usage(FILE *f)
{
    fprintf(f, "usage: plugnet-agent [-d] [--dev PATH | --listen PATH | --fd N]\n"
               "  -d             daemonise (and find the channel by itself unless told)\n"
               "  --dev PATH     use this device (a tty is put in raw mode)\n"
               "  --listen PATH  serve a unix socket (one host at a time)\n"
               "  --fd N         use an inherited descriptor\n"
               "  --version      print the version\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-d")) {
            A.daemon = true;
        } else if ((!strcmp(a, "--dev") || !strcmp(a, "--listen") || !strcmp(a, "--fd")) && i + 1 < argc) {
            A.mode = a[2] == 'd' ? 1 : a[2] == 'l' ? 2 : 3;
            A.path = argv[++i];
        } else if (!strcmp(a, "--version")) {
            printf("plugnet-agent %s (protocol %d..%d)\n", AG_AGENT_VERSION, AG_PROTO_MIN, AG_PROTO_MAX);
            return 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            s_usage(stdout);
            return 0;
        } else {
            s_usage(stderr);
            return 2;
        }
    }
    if (A.mode == 3) {
        char *end;
        long fd = strtol(A.path, &end, 10);
        if (*end || fd < 0 || fcntl((int)fd, F_GETFD) < 0) {
            s_log("--fd %s: not an open descriptor", A.path);
            return 2;
        }
        A.fd = (int)fd;
        fcntl(A.fd, F_SETFD, FD_CLOEXEC);
        s_nonblock(A.fd);
    }
    if (A.mode == 2) {
        A.lfd = s_listen(A.path);
        if (A.lfd < 0)
            return 1;
    }
    if (A.daemon)
        s_daemonize();
    if (A.mode == 0) {
        /* One agent per guest: a second start (e.g. the knock racing the
         * config script) leaves quietly. */
        int lk = open("/run/plugnet-agent.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lk < 0)
            lk = open("/tmp/plugnet-agent.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lk >= 0 && flock(lk, LOCK_EX | LOCK_NB) < 0) {
            s_log("another agent is running");
            return 0;
        }
    }
    /* Orphaned grandchildren come back to us to be reaped (an ns node has
     * no init of its own). */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGCHLD);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    A.sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    if (A.sigfd < 0 || ag_dec_init(&A.dec) < 0) {
        s_log("cannot set up: %s", strerror(errno));
        return 1;
    }
    int rfd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (rfd < 0 || read(rfd, &A.instance, sizeof A.instance) != sizeof A.instance)
        A.instance = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
    if (rfd >= 0)
        close(rfd);
    if (A.mode == 3)
        s_announce();
    else if (A.mode != 2)
        s_chan_open();

    enum { MAXP = 4 + 3 * AG_MAX_SESSIONS + 8 };
    struct pollfd pf[MAXP];
    while (!A.quit) {
        int np = 0;
        bool busy = false;
        uint64_t now = s_now_ms();
        int timeout = -1;
        /* (Re)open the device first, so this very poll watches it. */
        if (A.fd < 0 && A.mode != 2 && A.mode != 3) {
            if (now >= A.reopen_at)
                s_chan_open();
            if (A.fd < 0)
                timeout = (int)(A.reopen_at > now ? A.reopen_at - now : 10);
        }
        pf[np++] = (struct pollfd){ .fd = A.sigfd, .events = POLLIN };
        int chan_i = -1, lis_i = -1;
        if (A.fd >= 0) {
            chan_i = np;
            pf[np++] = (struct pollfd){ .fd = A.fd, .events = (short)(POLLIN | (ag_buf_used(&A.out) || ag_buf_used(&A.urg) ? POLLOUT : 0)) };
        }
        if (A.lfd >= 0) {
            lis_i = np;
            pf[np++] = (struct pollfd){ .fd = A.lfd, .events = POLLIN };
        }
        bool room = ag_buf_used(&A.out) < OUT_HIGH;
        /* Session fds; index i of pf maps back through these arrays. */
        sess_t *who[MAXP];
        int what[MAXP];
        for (sess_t *s = A.sessions; s && np < MAXP - 3; s = s->next) {
            if (s->deadline && !s->reaped) {
                if (now >= s->deadline) {
                    kill(-s->pid, SIGKILL);
                    s->timed_out = true;
                    s->deadline = 0;
                } else {
                    int t = (int)(s->deadline - now);
                    if (timeout < 0 || t < timeout)
                        timeout = t;
                }
            }
            if (s->kind == K_GET && room && s->credit > 0)
                busy = true;
            if (s->out_fd >= 0 && room && s->credit > 0) {
                who[np] = s;
                what[np] = AG_STDOUT;
                pf[np++] = (struct pollfd){ .fd = s->out_fd, .events = POLLIN };
            }
            if (s->err_fd >= 0 && room && s->credit > 0) {
                who[np] = s;
                what[np] = AG_STDERR;
                pf[np++] = (struct pollfd){ .fd = s->err_fd, .events = POLLIN };
            }
            if (s->in_fd >= 0 && ag_buf_used(&s->in)) {
                who[np] = s;
                what[np] = AG_STDIN;
                pf[np++] = (struct pollfd){ .fd = s->in_fd, .events = POLLOUT };
            }
        }
        int r = poll(pf, (nfds_t)np, busy ? 0 : timeout);
        if (r < 0 && errno != EINTR) {
            s_log("poll: %s", strerror(errno));
            return 1;
        }
        if (r < 0)
            continue;
        if (pf[0].revents)
            s_reap();
        if (lis_i >= 0 && pf[lis_i].revents & POLLIN) {
            int c = accept4(A.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (c >= 0) {
                ag_sock_buffers(c, 1 << 20);
                if (A.fd >= 0)
                    s_chan_lost("a new host connected");
                A.fd = c;
                A.is_sock = true;
                s_announce();
            }
        }
        /* Session I/O first: the channel read may free sessions. */
        for (int i = 0; i < np; i++) {
            if (i == 0 || i == chan_i || i == lis_i || !pf[i].revents)
                continue;
            sess_t *s = who[i]; /* nothing below frees a session */
            if (what[i] == AG_STDIN) {
                if (s->in_fd >= 0)
                    s_pump_in(s);
            } else if (what[i] == AG_STDOUT) {
                if (s->out_fd >= 0 && s->credit > 0)
                    s_pump_out(s, &s->out_fd, AG_STDOUT);
            } else if (s->err_fd >= 0 && s->credit > 0) {
                s_pump_out(s, &s->err_fd, AG_STDERR);
            }
        }
        if (busy)
            for (sess_t *s = A.sessions, *nx; s; s = nx) {
                nx = s->next;
                if (s->kind == K_GET && s->credit > 0 && ag_buf_used(&A.out) < OUT_HIGH)
                    s_pump_walker(s);
            }
        if (chan_i >= 0 && A.fd >= 0) {
            short re = pf[chan_i].revents;
            if (re & POLLIN)
                s_chan_read();
            else if (re & (POLLHUP | POLLERR))
                s_chan_lost("hang-up");
        }
        /* Sessions whose program ended and whose output is all sent. */
        for (sess_t *s = A.sessions, *nx; s; s = nx) {
            nx = s->next;
            if (s->kind == K_EXEC && s->reaped && s->out_fd < 0 && s->err_fd < 0)
                s_exit(s, NULL);
            else if (s->kind == K_EXEC && s->in_eof && !ag_buf_used(&s->in) && !s->in_closed) {
                s->in_closed = true;
                if (s->pty) {
                    if (s->in_fd >= 0)
                        (void)!write(s->in_fd, "\x04", 1);
                } else {
                    s_close(&s->in_fd);
                }
            }
        }
        if (A.fd >= 0 && (ag_buf_used(&A.out) || ag_buf_used(&A.urg))) {
            long w = ag_wire_flush(&A.wire, &A.out, &A.urg, A.fd, SIZE_MAX, SIZE_MAX);
            if (w < 0)
                s_chan_lost(strerror((int)-w));
        }
    }
    s_kill_all();
    if (A.mode == 2)
        unlink(A.path);
    return 0;
}
