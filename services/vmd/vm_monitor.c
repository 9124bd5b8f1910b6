/* vm_monitor: the monitor process of a running node.  A child of vmd in its
 * own session: it starts the guest, relays the UML console and agent line
 * (and qemu's console) through bounded queues, writes console.log, reaps the
 * guest and its process group and records the exit status in the node's
 * exit file.  It shares no memory with vmd after the fork. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"
#include "pn_seccomp.h"
#include "vm_host.h"

static void s_idle_init(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGCHLD)
            _exit(0);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
}

/* ------------------------------------------------------------ monitor */

/* The guest agent binary: $PLUGNET_AGENT, else plugnet-agent next to this
 * binary; "" when there is none (ns nodes then have no agent). */
static void s_agent_path(char *out, size_t len)
{
    const char *env = getenv("PLUGNET_AGENT");
    out[0] = 0;
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = 0;
    snprintf(out, len, "%s/plugnet-agent", exe);
    if (access(out, X_OK) != 0)
        out[0] = 0;
}

/* ns: the agent serves agent.sock from inside the node's namespaces, in
 * the guest's process group (so a kill of the group ends it too).  That
 * group can be gone already (a node whose command exits at once, reaped
 * by the time the agent runs): the agent then never joins it, so the
 * monitor ends the agent itself by its pid, returned here (0: none). */
static pid_t s_ns_agent(const char *dir, pid_t g, int netns)
{
    char agent[4096];
    s_agent_path(agent, sizeof(agent));
    if (!agent[0])
        return 0;
    char uts[64];
    snprintf(uts, sizeof(uts), "/proc/%d/ns/uts", (int)g);
    int utsfd = open(uts, O_RDONLY | O_CLOEXEC);
    pid_t a = fork();
    if (a != 0) {
        if (utsfd >= 0)
            close(utsfd);
        return a > 0 ? a : 0;
    }
    /* No group to join: the node has ended, and so does its agent. */
    if (setpgid(0, g) < 0)
        _exit(125);
    if (setns(netns, CLONE_NEWNET) < 0 || (utsfd >= 0 && setns(utsfd, CLONE_NEWUTS) < 0))
        _exit(125);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int nul = open("/dev/null", O_RDWR);
    dup2(nul, 0);
    char sock[4200];
    snprintf(sock, sizeof(sock), "%s/agent.sock", dir);
    unlink(sock);
    syscall(SYS_close_range, 3, ~0u, 0);
    execl(agent, "plugnet-agent", "--listen", sock, (char *)NULL);
    _exit(127);
}

#define MON_MAX_CLIENTS 8
#define MON_Q (256 * 1024)           /* bytes queued per direction */
#define MON_Q_CLIENT (4 * 1024 * 1024) /* console output queued per console client */

/* A bounded byte queue: the relay never blocks on a write.  A side is read
 * only while the queue toward its peer has room, so a peer that stops
 * reading holds back its own direction and nothing else.  The buffer grows
 * (doubling) up to max bytes as it is needed. */
typedef struct {
    char *b;
    size_t off, len, cap, max;
} mon_q_t;

typedef struct {
    int con;        /* UML console socketpair end (qemu: its console socket), -1 otherwise */
    int agent;      /* UML agent line: what the guest writes, -1 otherwise */
    int agent_w;    /* UML agent line: where the guest reads (-1: agent, both ways) */
    int con_ls, agent_ls;
    int clients[MON_MAX_CLIENTS];
    mon_q_t to_client[MON_MAX_CLIENTS]; /* console output each client has yet to take */
    mon_q_t to_con;                     /* clients' keystrokes for the guest */
    mon_q_t to_agent, from_agent;       /* the agent line, both ways */
    int agent_client;
    int log;
} mon_t;

static int s_listen_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        close(fd);
        return -1;
    }
    chmod(path, 0600);
    return fd;
}


static void s_nonblock(int fd)
{
    int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static size_t q_room(const mon_q_t *q)
{
    return (q->max ? q->max : MON_Q) - q->len;
}

/* Where to append: contiguous space of at least `want` bytes (want <=
 * q_room()), moving the pending bytes to the front when the end is short
 * and growing the buffer when that is not enough; *space says how much
 * there is. */
static char *q_tail(mon_q_t *q, size_t want, size_t *space)
{
    if (!q->len)
        q->off = 0;
    if (q->cap - q->off - q->len < want && q->off) {
        memmove(q->b, q->b + q->off, q->len);
        q->off = 0;
    }
    if (q->cap - q->len < want) {
        size_t cap = q->cap ? q->cap : 65536;
        while (cap - q->len < want)
            cap *= 2;
        char *b = realloc(q->b, cap);
        if (!b)
            return NULL;
        q->b = b;
        q->cap = cap;
    }
    *space = q->cap - q->off - q->len;
    return q->b + q->off + q->len;
}

static bool q_put(mon_q_t *q, const char *p, size_t n)
{
    size_t space;
    char *t = n <= q_room(q) ? q_tail(q, n, &space) : NULL;
    if (!t)
        return false;
    memcpy(t, p, n);
    q->len += n;
    return true;
}

/* Read what fits from fd into q: bytes read, 0 at EOF, -1 would block,
 * -2 on an error. */
static ssize_t q_read(mon_q_t *q, int fd)
{
    size_t room = q_room(q), space;
    char *t = room ? q_tail(q, room < 16384 ? room : 16384, &space) : NULL;
    if (!t)
        return -1;
    ssize_t n = read(fd, t, space);
    if (n > 0)
        q->len += (size_t)n;
    else if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -1 : -2;
    return n;
}

/* Write what the fd takes: 0, or -1 when the fd is broken. */
static int q_flush(mon_q_t *q, int fd)
{
    while (q->len) {
        ssize_t w = send(fd, q->b + q->off, q->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(fd, q->b + q->off, q->len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno == EAGAIN ? 0 : -1;
        q->off += (size_t)w;
        q->len -= (size_t)w;
    }
    q->off = 0;
    return 0;
}

static void q_clear(mon_q_t *q)
{
    q->off = q->len = 0;
    if (q->cap > MON_Q) { /* give back what a burst grew */
        free(q->b);
        q->b = NULL;
        q->cap = 0;
    }
}

/* The guest's console went (or would not take bytes): close it and drop
 * what was queued for it. */
static void s_drop_con(mon_t *m)
{
    close(m->con);
    m->con = -1;
    q_clear(&m->to_con);
}

static void s_drop_client(mon_t *m, int c)
{
    close(m->clients[c]);
    m->clients[c] = -1;
    q_clear(&m->to_client[c]);
}

static void s_drop_agent_client(mon_t *m)
{
    close(m->agent_client);
    m->agent_client = -1;
    /* Half frames meant for the old connection: the agent resyncs on the
     * next magic, but a new agentd should not see the old one's bytes. */
    q_clear(&m->from_agent);
    q_clear(&m->to_agent);
}

static void s_agent_line_gone(mon_t *m)
{
    if (m->agent >= 0)
        close(m->agent);
    if (m->agent_w >= 0)
        close(m->agent_w);
    m->agent = m->agent_w = -1;
    q_clear(&m->to_agent);
}

/* Console output: the log gets all of it; every client gets it through its
 * own queue.  A client that lets MON_Q_CLIENT bytes pile up (it stopped
 * reading) is disconnected rather than allowed to hold up the guest or the
 * others; the guest's console is never left unread, because UML's line
 * driver stalls for good when a write to its host fd would block. */
static void s_console_out(mon_t *m, const char *buf, size_t n)
{
    if (m->log >= 0)
        (void)pn_write_all(m->log, buf, n);
    for (int c = 0; c < MON_MAX_CLIENTS; c++) {
        if (m->clients[c] < 0)
            continue;
        if (!q_put(&m->to_client[c], buf, n) || q_flush(&m->to_client[c], m->clients[c]) < 0)
            s_drop_client(m, c);
    }
}

/* The monitor's loop: relay consoles/agent (UML), wait for the guest.
 * Every relayed fd is non-blocking and every direction has a bounded
 * queue: the guest's console is always read (so the log is complete and
 * the guest never waits on its console), the agent line is read while
 * agentd takes it, and a stalled reader anywhere stops only its own
 * direction. */
static int s_monitor_loop(mon_t *m, pid_t guest, int gpidfd)
{
    char buf[16384];
    s_nonblock(m->con);
    s_nonblock(m->agent);
    s_nonblock(m->agent_w);
    for (;;) {
        /* pidfd, con, con_ls, agent, agent_w, agent_ls, agent_client, then the clients. */
        struct pollfd p[7 + MON_MAX_CLIENTS];
        int aw = m->agent_w >= 0 ? m->agent_w : m->agent; /* toward the guest's line */
        int np = 0;
        p[np++] = (struct pollfd){ .fd = gpidfd, .events = POLLIN };
        int i_con = -1, i_cls = -1, i_ag = -1, i_agw = -1, i_als = -1, i_ac = -1, i_cl0 = -1;
        if (m->con >= 0) {
            i_con = np;
            p[np++] = (struct pollfd){ .fd = m->con, .events = (short)(POLLIN | (m->to_con.len ? POLLOUT : 0)) };
        }
        if (m->con_ls >= 0) {
            i_cls = np;
            p[np++] = (struct pollfd){ .fd = m->con_ls, .events = POLLIN };
        }
        if (m->agent >= 0) {
            i_ag = np;
            /* Read the guest's line only while someone takes it. */
            short ev = (short)((m->agent_client >= 0 && q_room(&m->from_agent) ? POLLIN : 0) |
                               (m->to_agent.len && aw == m->agent ? POLLOUT : 0));
            p[np++] = (struct pollfd){ .fd = m->agent, .events = ev };
        }
        if (m->agent_w >= 0) {
            i_agw = np;
            p[np++] = (struct pollfd){ .fd = m->agent_w, .events = m->to_agent.len ? POLLOUT : 0 };
        }
        if (m->agent_ls >= 0) {
            i_als = np;
            p[np++] = (struct pollfd){ .fd = m->agent_ls, .events = POLLIN };
        }
        if (m->agent_client >= 0) {
            i_ac = np;
            short ev = (short)((q_room(&m->to_agent) ? POLLIN : 0) | (m->from_agent.len ? POLLOUT : 0));
            p[np++] = (struct pollfd){ .fd = m->agent_client, .events = ev };
        }
        i_cl0 = np;
        for (int c = 0; c < MON_MAX_CLIENTS; c++) {
            short ev = (short)((q_room(&m->to_con) && m->con >= 0 ? POLLIN : 0) | (m->to_client[c].len ? POLLOUT : 0));
            p[np++] = (struct pollfd){ .fd = m->clients[c], .events = ev };
        }
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (p[0].revents)
            break;
        if (i_con >= 0 && p[i_con].revents) {
            ssize_t n = read(m->con, buf, sizeof(buf));
            if (n > 0) {
                s_console_out(m, buf, (size_t)n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                s_drop_con(m);
            }
            if (m->con >= 0 && q_flush(&m->to_con, m->con) < 0)
                s_drop_con(m);
        }
        if (i_cls >= 0 && (p[i_cls].revents & POLLIN)) {
            int fd = accept4(m->con_ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                int c = 0;
                while (c < MON_MAX_CLIENTS && m->clients[c] >= 0)
                    c++;
                if (c == MON_MAX_CLIENTS)
                    close(fd);
                else
                    m->clients[c] = fd;
            }
        }
        for (int c = 0; c < MON_MAX_CLIENTS; c++) {
            if (p[i_cl0 + c].fd < 0 || !p[i_cl0 + c].revents || m->clients[c] != p[i_cl0 + c].fd)
                continue;
            if (m->to_client[c].len && q_flush(&m->to_client[c], m->clients[c]) < 0) {
                s_drop_client(m, c);
                continue;
            }
            if (!(p[i_cl0 + c].events & POLLIN)) {
                /* Not read now (the guest's console is full): a client
                 * that hung up meanwhile goes, or poll would spin. */
                if (p[i_cl0 + c].revents & (POLLHUP | POLLERR))
                    s_drop_client(m, c);
                continue;
            }
            if (!(p[i_cl0 + c].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = q_read(&m->to_con, m->clients[c]);
            if (n == 0 || n == -2)
                s_drop_client(m, c);
            else if (n > 0 && m->con >= 0 && q_flush(&m->to_con, m->con) < 0)
                s_drop_con(m);
        }
        if (i_als >= 0 && (p[i_als].revents & POLLIN)) {
            int fd = accept4(m->agent_ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                /* The newest connection wins: agentd reconnects. */
                if (m->agent_client >= 0)
                    s_drop_agent_client(m);
                m->agent_client = fd;
                i_ac = -1; /* its poll slot was the old connection's */
            }
        }
        if (i_ag >= 0 && p[i_ag].revents && m->agent >= 0) {
            ssize_t n = -1;
            if ((p[i_ag].events & POLLIN) && m->agent_client >= 0) {
                n = q_read(&m->from_agent, m->agent);
                if (n > 0 && q_flush(&m->from_agent, m->agent_client) < 0)
                    s_drop_agent_client(m);
            }
            if (n == 0 || n == -2 || (aw == m->agent && m->to_agent.len && q_flush(&m->to_agent, aw) < 0) ||
                (!(p[i_ag].events & POLLIN) && (p[i_ag].revents & (POLLHUP | POLLERR)))) {
                /* The guest's line is gone. */
                s_agent_line_gone(m);
            }
        }
        if (i_agw >= 0 && p[i_agw].revents && m->agent_w >= 0 &&
            ((p[i_agw].revents & (POLLERR | POLLHUP)) || (m->to_agent.len && q_flush(&m->to_agent, m->agent_w) < 0)))
            s_agent_line_gone(m); /* the guest closed its end: poll would report it forever */
        aw = m->agent_w >= 0 ? m->agent_w : m->agent; /* the line may be gone now */
        if (i_ac >= 0 && p[i_ac].revents && m->agent_client >= 0) {
            if (m->from_agent.len && q_flush(&m->from_agent, m->agent_client) < 0) {
                s_drop_agent_client(m);
                continue;
            }
            if (!(p[i_ac].events & POLLIN) && (p[i_ac].revents & (POLLHUP | POLLERR))) {
                s_drop_agent_client(m);
                continue;
            }
            if ((p[i_ac].events & POLLIN) && (p[i_ac].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t n = q_read(&m->to_agent, m->agent_client);
                if (n == 0 || n == -2)
                    s_drop_agent_client(m);
                else if (n > 0 && aw >= 0 && q_flush(&m->to_agent, aw) < 0)
                    s_agent_line_gone(m);
                else if (aw < 0)
                    q_clear(&m->to_agent);
            }
        }
    }
    siginfo_t si = { 0 };
    int status = 0;
    if (waitid(P_PID, (id_t)guest, &si, WEXITED) == 0)
        status = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
    /* Drain what the guest wrote last. */
    if (m->con >= 0) {
        ssize_t n;
        while ((n = recv(m->con, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
            if (m->log >= 0)
                (void)pn_write_all(m->log, buf, (size_t)n);
    }
    return status;
}

/* Kill group g and wait (bounded) until none of it is left.  The monitor
 * is a child subreaper (set before the guest starts): whatever of the
 * group is orphaned becomes its child before the orphaning parent can be
 * reaped, so "no child left in group g" (ECHILD) means the group is gone.
 * Each end is reported by SIGCHLD: no scan of /proc, no polling. */
static void s_group_wait(pid_t g, int ms)
{
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    uint64_t end = pn_mono_ms() + (uint64_t)ms;
    for (;;) {
        kill(-g, SIGKILL); /* again: a member may have forked meanwhile */
        siginfo_t si;
        int r;
        do {
            memset(&si, 0, sizeof(si));
            r = waitid(P_PGID, (id_t)g, &si, WEXITED | WNOHANG);
        } while (r == 0 && si.si_pid != 0);
        if (r < 0 && errno != EINTR)
            break; /* ECHILD: none left */
        uint64_t now = pn_mono_ms();
        if (now >= end)
            break;
        struct timespec ts = { .tv_sec = (time_t)((end - now) / 1000), .tv_nsec = (long)((end - now) % 1000) * 1000000 };
        sigtimedwait(&chld, NULL, &ts);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* In the monitor (a fresh child of vmd): start the guest and supervise it.
 * Never returns. */
void vm_monitor_main(vm_t *vm, vm_node_t *nd, char **argv, int report)
{
    setsid();
    /* The guest's orphans become the monitor's children (s_group_wait). */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    vm_child_signals();
    {
        char comm[16];
        snprintf(comm, sizeof(comm), "pnmon-%s", nd->name);
        prctl(PR_SET_NAME, comm);
    }
    /* A terminal's ^C or a hangup must not end the node. */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    char dir[4200];
    vm_node_dir(vm, nd, NULL, dir, sizeof(dir));
    if (chdir(dir) < 0)
        _exit(120);
    mon_t m = { .con = -1, .agent = -1, .agent_w = -1, .con_ls = -1, .agent_ls = -1, .agent_client = -1, .log = -1 };
    for (int c = 0; c < MON_MAX_CLIENTS; c++)
        m.clients[c] = -1;
    m.log = open("console.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    for (int c = 0; c < MON_MAX_CLIENTS; c++)
        m.to_client[c].max = MON_Q_CLIENT;
    int gcon = -1, gagent = -1, gagent_out = -1;
    if (nd->kind == VM_UML) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0) {
            m.con = sp[0];
            gcon = sp[1];
        }
        /* The agent line is two pipes, ssl1=fd:3,fd:4: UML's line driver
         * reads its host fd one byte per read(), and a pipe's read costs
         * about 60% of a socket's, which is what uploads run at.  UML
         * stalls for good when a write to its host fd would block: the
         * guest's output pipe gets room for what agentd's credit lets the
         * agent send. */
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) == 0) {
            if (pipe2(out, O_CLOEXEC) == 0) {
                m.agent_w = in[1];
                gagent = in[0];
                m.agent = out[0];
                gagent_out = out[1];
                if (fcntl(out[1], F_SETPIPE_SZ, 8 << 20) < 0)
                    fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
                fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
            } else {
                close(in[0]);
                close(in[1]);
            }
        }
        m.con_ls = s_listen_unix("console.sock");
        m.agent_ls = s_listen_unix("agent.sock");
    }
    if (nd->kind == VM_QEMU) {
        unlink("con.qemu");
        m.con_ls = s_listen_unix("console.sock");
    }
    int netns = -1;
    if (nd->kind == VM_NS) {
        char ns[64], path[128];
        vm_ns_name(vm, nd, ns, sizeof(ns));
        snprintf(path, sizeof(path), "/run/netns/%s", ns);
        netns = open(path, O_RDONLY | O_CLOEXEC);
        if (netns < 0)
            _exit(121);
    }
    /* ns: the child closes its end (close_range) once it is in its
     * namespaces, before the exec; the agent joins them only then. */
    int nsync[2] = { -1, -1 };
    pid_t agent_pid = 0;
    if (nd->kind == VM_NS && pipe2(nsync, O_CLOEXEC) < 0)
        _exit(122);
    pid_t g = fork();
    if (g < 0)
        _exit(122);
    if (g == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        int nul = open("/dev/null", O_RDWR);
        if (nd->kind == VM_UML) {
            dup2(gcon, 0);
            dup2(gcon, 1);
            dup2(m.log >= 0 ? m.log : nul, 2);
            /* Through high numbers first: a pipe end may be 3 or 4 already
             * (dup2 onto itself would leave it close-on-exec). */
            int r = fcntl(gagent, F_DUPFD_CLOEXEC, 10), w = fcntl(gagent_out, F_DUPFD_CLOEXEC, 10);
            dup2(r, 3);
            dup2(w, 4);
            syscall(SYS_close_range, 5, ~0u, 0);
            /* UML's own glibc too: keep AVX state out of its threads. */
            putenv((char *)VM_UML_GLIBC_TUNABLES);
            if (pn_seccomp_uml_xstate() < 0)
                dprintf(2, "plugnet: cannot install the UML xstate workaround\n");
        } else {
            dup2(nul, 0);
            dup2(m.log >= 0 ? m.log : nul, 1);
            dup2(m.log >= 0 ? m.log : nul, 2);
            if (nd->kind == VM_NS) {
                if (setns(netns, CLONE_NEWNET) < 0 || unshare(CLONE_NEWUTS) < 0) {
                    dprintf(2, "plugnet: cannot enter the node's namespaces: %s\n", strerror(errno));
                    _exit(123);
                }
                sethostname(nd->name, strlen(nd->name));
            }
            syscall(SYS_close_range, 3, ~0u, 0);
        }
        if (nd->kind == VM_NS && !argv)
            s_idle_init();
        execvp(argv[0], argv);
        dprintf(2, "plugnet: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (gcon >= 0)
        close(gcon);
    if (gagent >= 0)
        close(gagent);
    if (gagent_out >= 0)
        close(gagent_out);
    if (netns >= 0) {
        char c;
        close(nsync[1]);
        while (read(nsync[0], &c, 1) < 0 && errno == EINTR)
            ;
        close(nsync[0]);
        agent_pid = s_ns_agent(dir, g, netns);
        close(netns);
    }
    int gpidfd = (int)syscall(SYS_pidfd_open, g, 0);
    int32_t gp = g;
    if (write(report, &gp, sizeof(gp)) != sizeof(gp))
        _exit(124);
    close(report);
    if (nd->kind == VM_QEMU) {
        /* qemu creates con.qemu early in its start-up: connect (bounded). */
        for (int i = 0; i < 1500 && m.con < 0; i++) {
            struct sockaddr_un sa = { .sun_family = AF_UNIX };
            snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/con.qemu", dir);
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                m.con = fd;
                break;
            }
            if (fd >= 0)
                close(fd);
            struct pollfd pf = { .fd = gpidfd, .events = POLLIN };
            if (poll(&pf, 1, 20) > 0)
                break; /* qemu ended already */
        }
    }
    int status = gpidfd >= 0 ? s_monitor_loop(&m, g, gpidfd) : 0;
    if (gpidfd < 0) {
        int st;
        waitpid(g, &st, 0);
        status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    }
    /* UML leaves helper processes: end the guest's whole group, and wait
     * (bounded) until none of it runs any more.  A dying UML process still
     * holds its lock on the COW file; a start right after the stop would
     * find it locked and panic ("Unable to mount root fs"). */
    s_group_wait(g, 10000);
    if (agent_pid > 0) {
        kill(agent_pid, SIGKILL);
        waitpid(agent_pid, NULL, 0);
    }
    char line[32];
    int n = snprintf(line, sizeof(line), "%d\n", status);
    int fd = open("exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd >= 0) {
        (void)pn_write_all(fd, line, (size_t)n);
        close(fd);
        rename("exit.tmp", "exit");
    }
    unlink("console.sock");
    unlink("agent.sock");
    _exit(0);
}
