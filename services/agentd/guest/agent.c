/* plugnet-agent: the in-guest end of a node's agent channel.
 *
 * One static binary, no runtime dependency.  It serves sessions (exec with
 * pipes or a pty, file put/get) multiplexed over one channel, framed by
 * ag_chan (docs/AGENT.md); agent.h says which file does what.  The
 * channel is, in order of preference:
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
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

static ga_t A = { .fd = -1, .lfd = -1, .sigfd = -1, .window = AG_WINDOW };

/* The channel is gone: so is every session on it. */
static void s_chan_lost(ga_t *a, const char *why)
{
    ga_chan_close(a, why);
    ga_sess_kill_all(a);
}

/* What the channel reads goes to the sessions. */
static void s_on_frame(void *arg, const ag_frame_t *f)
{
    ga_sess_frame(arg, f);
}

static void s_on_damaged(void *arg, const ag_frame_t *f)
{
    ga_sess_t *s = f->sid ? ga_sess_find(arg, f->sid) : NULL;
    if (s)
        ga_sess_exit(s, "a frame of this session was damaged on the channel");
}

static void s_on_lost(void *arg, unsigned nlost)
{
    ga_t *a = arg;
    /* Noise took whole frames: any session may have a hole. */
    ga_log("%u frames lost on the channel: ending every session", nlost);
    while (a->sessions)
        ga_sess_exit(a->sessions, "frames were lost on the channel");
}

static void s_on_batch(void *arg)
{
    ga_sess_grant_all(arg);
}

static void s_on_closed(void *arg, const char *why)
{
    s_chan_lost(arg, why);
}

static const ga_chan_cb_t s_chan_cb = {
    .frame = s_on_frame, .damaged = s_on_damaged, .lost = s_on_lost, .batch = s_on_batch, .closed = s_on_closed,
};

static void s_reap(ga_t *a)
{
    struct signalfd_siginfo si;
    while (read(a->sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            a->quit = true;
    }
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        ga_sess_reaped(a, pid, st);
}

/* Serve until SIGTERM or SIGINT: 0, or -errno when poll failed. */
static int s_loop(ga_t *a)
{
    enum { MAXP = 4 + 3 * AG_MAX_SESSIONS + 8 };
    struct pollfd pf[MAXP];
    while (!a->quit) {
        int np = 0;
        bool busy = false;
        uint64_t now = ga_now_ms();
        int timeout = -1;
        /* (Re)open the device first, so this very poll watches it. */
        if (a->fd < 0 && a->mode != 2 && a->mode != 3) {
            if (now >= a->reopen_at)
                ga_chan_open(a);
            if (a->fd < 0)
                timeout = (int)(a->reopen_at > now ? a->reopen_at - now : 10);
        }
        pf[np++] = (struct pollfd){ .fd = a->sigfd, .events = POLLIN };
        int chan_i = -1, lis_i = -1;
        if (a->fd >= 0) {
            chan_i = np;
            bool queued = ag_buf_used(&a->out) || ag_buf_used(&a->urg);
            pf[np++] = (struct pollfd){ .fd = a->fd, .events = (short)(POLLIN | (queued ? POLLOUT : 0)) };
        }
        if (a->lfd >= 0) {
            lis_i = np;
            pf[np++] = (struct pollfd){ .fd = a->lfd, .events = POLLIN };
        }
        bool room = ag_buf_used(&a->out) < GA_OUT_HIGH;
        /* Session fds; index i of pf maps back through these arrays. */
        ga_sess_t *who[MAXP];
        int what[MAXP];
        for (ga_sess_t *s = a->sessions; s && np < MAXP - 3; s = s->next) {
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
            if (s->kind == GA_GET && room && s->credit > 0)
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
            int e = -errno;
            ga_log("poll: %s", strerror(-e));
            return e;
        }
        if (r < 0)
            continue;
        if (pf[0].revents)
            s_reap(a);
        if (lis_i >= 0 && pf[lis_i].revents & POLLIN) {
            int c = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (c >= 0) {
                ag_sock_buffers(c, 1 << 20);
                if (a->fd >= 0)
                    s_chan_lost(a, "a new host connected");
                a->fd = c;
                a->is_sock = true;
                ga_hello(a, 0);
            }
        }
        /* Session I/O first: the channel read may free sessions. */
        for (int i = 0; i < np; i++) {
            if (i == 0 || i == chan_i || i == lis_i || !pf[i].revents)
                continue;
            ga_sess_t *s = who[i]; /* nothing below frees a session */
            if (what[i] == AG_STDIN) {
                if (s->in_fd >= 0)
                    ga_sess_pump_in(s);
            } else if (what[i] == AG_STDOUT) {
                if (s->out_fd >= 0 && s->credit > 0)
                    ga_sess_pump_out(s, &s->out_fd, AG_STDOUT);
            } else if (s->err_fd >= 0 && s->credit > 0) {
                ga_sess_pump_out(s, &s->err_fd, AG_STDERR);
            }
        }
        if (busy)
            for (ga_sess_t *s = a->sessions, *nx; s; s = nx) {
                nx = s->next;
                if (s->kind == GA_GET && s->credit > 0 && ag_buf_used(&a->out) < GA_OUT_HIGH)
                    ga_sess_pump_get(s);
            }
        if (chan_i >= 0 && a->fd >= 0) {
            short re = pf[chan_i].revents;
            if (re & POLLIN)
                ga_chan_read(a, &s_chan_cb, a);
            else if (re & (POLLHUP | POLLERR))
                s_chan_lost(a, "hang-up");
        }
        ga_sess_settle(a);
        int w = ga_chan_flush(a);
        if (w < 0)
            s_chan_lost(a, strerror(-w));
    }
    return 0;
}

static void s_daemonize(void)
{
    pid_t p = fork();
    if (p < 0) {
        ga_log("cannot fork: %s", strerror(errno));
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
            ga_log("--fd %s: not an open descriptor", A.path);
            return 2;
        }
        A.fd = (int)fd;
        fcntl(A.fd, F_SETFD, FD_CLOEXEC);
        ga_nonblock(A.fd);
    }
    if (A.mode == 2) {
        A.lfd = ga_chan_listen(A.path);
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
            ga_log("another agent is running");
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
        ga_log("cannot set up: %s", strerror(errno));
        return 1;
    }
    int rfd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (rfd < 0 || read(rfd, &A.instance, sizeof A.instance) != sizeof A.instance)
        A.instance = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
    if (rfd >= 0)
        close(rfd);
    if (A.mode == 3)
        ga_hello(&A, 0); /* unsolicited: a host already connected learns a new agent is there */
    else if (A.mode != 2)
        ga_chan_open(&A);

    if (s_loop(&A) < 0)
        return 1;
    ga_sess_kill_all(&A);
    if (A.mode == 2)
        unlink(A.path);
    return 0;
}
