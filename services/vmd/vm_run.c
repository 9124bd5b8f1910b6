/* vm_run: starting, supervising, stopping and adopting nodes; live NICs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"
#include "vm_ctl.h"
#include "vm_host.h"
#include "vm_net.h"

#define VM_CONSOLE_TAIL 20
/* After its guest is killed a monitor waits at most 10 s for the rest of
 * the guest's process group (s_group_wait); vmd gives it 5 s more. */
#define VM_MONITOR_GRACE_MS 15000

static void s_on_monitor_exit(pn_loop_t *loop, int fd, uint32_t events, void *arg);

void vm_ns_name(vm_t *vm, const vm_node_t *nd, char *out, size_t len)
{
    snprintf(out, len, "pn%s-%s", vm->tag, nd->name);
}

uint64_t vm_proc_start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* Field 22 (starttime), counted after the ")" that ends the comm. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    return strtoull(p, NULL, 10);
}

/* A child about to exec: default signal dispositions, nothing blocked
 * (vmd blocks the signals its signalfd reads). */
void vm_child_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
}

int vm_run_cmd(char *const argv[], const char *input, char *out, size_t outlen)
{
    int in[2] = { -1, -1 }, o[2];
    if (pipe2(o, O_CLOEXEC) < 0)
        return -errno;
    if (input && pipe2(in, O_CLOEXEC) < 0) {
        close(o[0]);
        close(o[1]);
        return -errno;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(o[0]);
        close(o[1]);
        if (input) {
            close(in[0]);
            close(in[1]);
        }
        return e;
    }
    if (pid == 0) {
        vm_child_signals();
        if (input)
            dup2(in[0], 0);
        else {
            int nul = open("/dev/null", O_RDONLY);
            dup2(nul, 0);
        }
        dup2(o[1], 1);
        dup2(o[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(o[1]);
    if (input) {
        close(in[0]);
        size_t n = strlen(input), off = 0;
        while (off < n) {
            ssize_t w = write(in[1], input + off, n - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        close(in[1]);
    }
    size_t have = 0;
    char sink[512];
    for (;;) {
        ssize_t r;
        if (out && have + 1 < outlen)
            r = read(o[0], out + have, outlen - 1 - have);
        else
            r = read(o[0], sink, sizeof(sink));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (out && have + 1 < outlen)
            have += (size_t)r;
    }
    if (out && outlen)
        out[have] = 0;
    close(o[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ------------------------------------------------------------ events */

void vm_set_state(vm_t *vm, vm_node_t *nd, vm_state_t st)
{
    vm_state_t from = nd->state;
    if (!vm_state_allowed(from, st))
        pn_warn("vmd: %s: unexpected state change %s -> %s", nd->name, vm_state_name(from), vm_state_name(st));
    nd->state = st;
    /* Transient states are not worth a save: adoption and a restart
     * only need to know whether a node was running and under which
     * monitor (saved at RUNNING), or that it ended.  Nor is any of this
     * worth an fsync: it is atomic against a crash of vmd, and after a
     * power cut no node runs whatever the file says (adoption checks the
     * monitor's pid and start time).  The spec itself is saved durably by
     * node.add and nic.add/del. */
    if (st != VM_STARTING && st != VM_STOPPING && !(st == VM_DEFINED && from == VM_DEFINED))
        vm_node_save_opt(vm, nd, false);
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "name", nd->name);
    pn_map_set_str(d, "kind", vm_kind_name(nd->kind));
    pn_map_set_str(d, "state", vm_state_name(st));
    pn_map_set_str(d, "from", vm_state_name(from));
    if ((st == VM_CRASHED || st == VM_STOPPED) && nd->have_exit)
        pn_map_set_int(d, "exit_status", nd->exit_status);
    if (st == VM_CRASHED && nd->console_tail)
        pn_map_set(d, "console_tail", pn_val_dup(nd->console_tail));
    if (st == VM_RUNNING && nd->guest_pid)
        pn_map_set_uint(d, "pid", (uint64_t)nd->guest_pid);
    pn_svc_publish(vm->svc, "node", "node.state", d);
}

/* --------------------------------------------------------- management */

/* The management LAN and the host's own tap on it (once per vmd). */
static int s_mgmt_ready(vm_t *vm, char *err, size_t errlen)
{
    if (vm->mgmt_ready)
        return PN_OK;
    int r = vm_peer_lan_ensure("mgmt", err, errlen);
    if (r != PN_OK)
        return r;
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/net/%s", vm->mgmt_if);
    if (access(path, F_OK) != 0) {
        char ifn[16];
        unsigned port;
        snprintf(ifn, sizeof(ifn), "%s", vm->mgmt_if);
        r = vm_peer_tap_add("mgmt", NULL, NULL, ifn, &port, err, errlen);
        if (r != PN_OK)
            return r;
        char addr[64];
        snprintf(addr, sizeof(addr), "%s.255.254/16", vm->mgmt_prefix);
        r = vm_host_link_addr_up(vm->mgmt_if, addr, err, errlen);
        if (r != PN_OK)
            return r;
    }
    vm->mgmt_ready = true;
    return PN_OK;
}

/* ---------------------------------------------------------------- ns */

/* The tap is born in the node's namespace with its final name and MAC
 * (switchd creates it there): no move, no rename. */
static int s_ns_nic_in(vm_t *vm, vm_node_t *nd, vm_nic_t *c, char *err, size_t errlen)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    snprintf(c->host_if, sizeof(c->host_if), "%s", c->ifname);
    int r = vm_peer_tap_add(c->lan, ns, c->mac, c->host_if, &c->port, err, errlen);
    if (r != PN_OK || !c->ip[0])
        return r;
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        r = PN_EINTERNAL;
    } else {
        r = vm_ns_addr_add(nsfd, c->ifname, c->ip, err, errlen);
        close(nsfd);
    }
    if (r != PN_OK) {
        vm_peer_port_del(c->lan, c->port);
        c->port = 0;
    }
    return r;
}

/* What `ip netns del` does, without a fork: detach the bind mount that
 * keeps the namespace and remove its file. */
void vm_netns_del(const char *path)
{
    umount2(path, MNT_DETACH);
    unlink(path);
}

/* The namespace goes first: once nothing holds it, the kernel tears it
 * down with its links in the background, several namespaces in one batch.
 * Closing a tap whose link is still there (port.del) would unregister it
 * right away, waiting out RCU grace periods, one tap at a time. */
void vm_ns_teardown(vm_t *vm, vm_node_t *nd)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    vm_netns_del(path);
    for (unsigned i = 0; i < nd->nnics; i++) {
        vm_peer_port_del(nd->nics[i].lan, nd->nics[i].port);
        nd->nics[i].port = 0;
        nd->nics[i].host_if[0] = 0;
    }
}

static int s_ns_setup(vm_t *vm, vm_node_t *nd, char *err, size_t errlen)
{
    char ns[64];
    vm_ns_name(vm, nd, ns, sizeof(ns));
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    /* A stale one from a node that ended while vmd was away. */
    if (access(path, F_OK) == 0)
        vm_netns_del(path);
    int r = vm_netns_add(ns, err, errlen);
    if (r != PN_OK)
        return r;
    for (unsigned i = 0; i < nd->nnics; i++) {
        r = s_ns_nic_in(vm, nd, &nd->nics[i], err, errlen);
        if (r != PN_OK) {
            vm_ns_teardown(vm, nd);
            return r;
        }
    }
    return PN_OK;
}

/* The idle init of an ns node without a command: reap what gets orphaned
 * under it, end on SIGTERM/SIGINT. */
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

/* For regular files (the console log, the exit file): blocking is fine. */
static void s_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
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
        s_write_all(m->log, buf, n);
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
                close(m->con);
                m->con = -1;
                q_clear(&m->to_con);
            }
            if (m->con >= 0 && q_flush(&m->to_con, m->con) < 0) {
                close(m->con);
                m->con = -1;
                q_clear(&m->to_con);
            }
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
            else if (n > 0 && m->con >= 0 && q_flush(&m->to_con, m->con) < 0) {
                close(m->con);
                m->con = -1;
                q_clear(&m->to_con);
            }
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
                s_write_all(m->log, buf, (size_t)n);
    }
    return status;
}

/* Does a process of group g still run (a zombie has closed its files)? */
static bool s_group_alive(pid_t g)
{
    DIR *d = opendir("/proc");
    if (!d)
        return false;
    bool alive = false;
    struct dirent *e;
    while (!alive && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        /* After the comm: " S ppid pgrp ..." */
        char *p = strrchr(buf, ')');
        char st = 0;
        int ppid = 0, pgrp = 0;
        if (p && sscanf(p + 1, " %c %d %d", &st, &ppid, &pgrp) == 3 && pgrp == g && st != 'Z' && st != 'X')
            alive = true;
    }
    closedir(d);
    return alive;
}

/* Bounded by the clock, not by a count of rounds: each round scans /proc,
 * which on a loaded host costs more than the 10 ms it sleeps. */
static void s_group_wait(pid_t g, int ms)
{
    uint64_t end = pn_mono_ms() + (uint64_t)ms;
    while (s_group_alive(g) && pn_mono_ms() < end) {
        kill(-g, SIGKILL);
        usleep(10000);
    }
}

/* In the monitor (a fresh child of vmd): start the guest and supervise it.
 * Never returns. */
static void s_monitor(vm_t *vm, vm_node_t *nd, char **argv, int report)
{
    setsid();
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
            if (vm_uml_xstate_workaround() < 0)
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
    kill(-g, SIGKILL);
    s_group_wait(g, 10000);
    if (agent_pid > 0) {
        kill(agent_pid, SIGKILL);
        waitpid(agent_pid, NULL, 0);
    }
    char line[32];
    int n = snprintf(line, sizeof(line), "%d\n", status);
    int fd = open("exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd >= 0) {
        s_write_all(fd, line, (size_t)n);
        close(fd);
        rename("exit.tmp", "exit");
    }
    unlink("console.sock");
    unlink("agent.sock");
    _exit(0);
}

static int s_qemu_overlay(vm_t *vm, vm_node_t *nd, char *err, size_t errlen)
{
    if (nd->persistent)
        return PN_OK;
    char path[4300];
    vm_node_dir(vm, nd, "disk.qcow2", path, sizeof(path));
    if (access(path, F_OK) == 0)
        return PN_OK;
    const char *img = nd->image[0] ? nd->image : vm->rootfs;
    char fmt[16] = "raw";
    {
        /* A qcow2 base image starts with "QFI\xfb". */
        int fd = open(img, O_RDONLY | O_CLOEXEC);
        unsigned char m[4] = { 0 };
        if (fd >= 0) {
            if (read(fd, m, 4) == 4 && m[0] == 'Q' && m[1] == 'F' && m[2] == 'I' && m[3] == 0xfb)
                snprintf(fmt, sizeof(fmt), "qcow2");
            close(fd);
        }
    }
    char *argv[] = { (char *)"qemu-img", (char *)"create", (char *)"-q", (char *)"-f", (char *)"qcow2", (char *)"-b",
                     (char *)img, (char *)"-F", fmt, path, NULL };
    char out[512];
    if (vm_run_cmd(argv, NULL, out, sizeof(out)) != 0) {
        out[strcspn(out, "\n")] = 0;
        snprintf(err, errlen, "cannot create the overlay %s: %s", path, out);
        return PN_EINTERNAL;
    }
    return PN_OK;
}

/* -------------------------------------------------------------- start */

static void s_watch(vm_t *vm, vm_node_t *nd)
{
    nd->pidfd = (int)syscall(SYS_pidfd_open, nd->mon_pid, 0);
    if (nd->pidfd >= 0) {
        fcntl(nd->pidfd, F_SETFD, FD_CLOEXEC);
        nd->watch = pn_loop_add_fd(pn_svc_loop(vm->svc), nd->pidfd, EPOLLIN, s_on_monitor_exit, nd);
    }
}

int vm_start(vm_t *vm, vm_node_t *nd, char *err, size_t errlen)
{
    char dir[4200], path[4300];
    vm_node_dir(vm, nd, NULL, dir, sizeof(dir));
    int r = pn_mkdirs(dir, 0750);
    if (r < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-r));
        return PN_EINTERNAL;
    }
    if (nd->kind != VM_NS && !nd->image[0] && !vm->rootfs[0] && vm_manifest_load(vm) < 0) {
        snprintf(err, errlen, "no default image: run 'make image' (no manifest at %s)", vm->manifest);
        return PN_ENOTFOUND;
    }
    for (unsigned i = 0; i < nd->nnics; i++) {
        if (strcmp(nd->nics[i].lan, "mgmt") == 0) {
            if ((r = s_mgmt_ready(vm, err, errlen)) != PN_OK)
                return r;
        } else if ((r = vm_peer_lan_exists(nd->nics[i].lan, err, errlen)) != PN_OK)
            return r;
    }
    vm_node_dir(vm, nd, "exit", path, sizeof(path));
    unlink(path);
    pn_val_destroy(&nd->console_tail);
    nd->have_exit = false;
    nd->stop_requested = false;
    nd->adopted = false;
    vm_argv_t *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return PN_EINTERNAL;
    }
    char **argv = NULL;
    if (nd->kind == VM_NS) {
        if (nd->cmd) {
            for (size_t i = 0; i < pn_len(nd->cmd); i++) {
                pn_val_t *s = pn_at(nd->cmd, i);
                vm_argv_add(a, "%s", s && s->type == PN_STR ? s->s.p : "");
            }
            argv = a->v;
        }
        if (a->overflow) {
            snprintf(err, errlen, "the command has more than %d arguments or %zu bytes", VM_ARGV_MAX - 1,
                     sizeof(a->store));
            r = PN_ETOOLARGE;
            goto fail;
        }
        if ((r = s_ns_setup(vm, nd, err, errlen)) != PN_OK)
            goto fail;
    } else {
        r = vm_peer_cfgdisk(vm, nd, nd->cfgdisk, sizeof(nd->cfgdisk), err, errlen);
        if (r != PN_OK)
            goto fail;
        if (nd->kind == VM_QEMU && (r = s_qemu_overlay(vm, nd, err, errlen)) != PN_OK)
            goto fail;
        r = nd->kind == VM_UML ? vm_uml_argv(vm, nd, a, err, errlen) : vm_qemu_argv(vm, nd, a, err, errlen);
        if (r == PN_OK && a->overflow) {
            snprintf(err, errlen, "the guest's command line is too long (more than %d arguments or %zu bytes)",
                     VM_ARGV_MAX - 1, sizeof(a->store));
            r = PN_ETOOLARGE;
        }
        if (r != PN_OK)
            goto fail;
        argv = a->v;
        /* Fresh sockets: a stale one would look alive to a client. */
        static const char *const stale[] = { "console.sock", "agent.sock", "qmp.sock", NULL };
        for (int i = 0; stale[i]; i++) {
            vm_node_dir(vm, nd, stale[i], path, sizeof(path));
            unlink(path);
        }
    }
    int rep[2];
    if (pipe2(rep, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        r = PN_EINTERNAL;
        goto fail;
    }
    pid_t mon = fork();
    if (mon < 0) {
        close(rep[0]);
        close(rep[1]);
        snprintf(err, errlen, "fork: %s", strerror(errno));
        r = PN_EINTERNAL;
        goto fail;
    }
    if (mon == 0) {
        close(rep[0]);
        /* Keep only the report pipe: the instance lock and the zmq sockets
         * must not outlive vmd in its monitors. */
        int keep = fcntl(rep[1], F_DUPFD, 100);
        for (int fd = 3; fd < 100; fd++)
            close(fd);
        syscall(SYS_close_range, 101, ~0u, 0);
        s_monitor(vm, nd, argv, keep);
    }
    close(rep[1]);
    int32_t gp = 0;
    struct pollfd pf = { .fd = rep[0], .events = POLLIN };
    ssize_t got = 0;
    if (poll(&pf, 1, 5000) > 0)
        got = read(rep[0], &gp, sizeof(gp));
    close(rep[0]);
    nd->mon_pid = mon;
    nd->mon_start = vm_proc_start_time(mon);
    nd->guest_pid = got == sizeof(gp) ? gp : 0;
    nd->started_ns = pn_now_ns();
    free(a);
    if (!nd->guest_pid) {
        kill(mon, SIGKILL);
        waitpid(mon, NULL, 0);
        if (nd->kind == VM_NS)
            vm_ns_teardown(vm, nd);
        snprintf(err, errlen, "the node's monitor did not start the guest");
        nd->mon_pid = 0;
        return PN_EINTERNAL;
    }
    s_watch(vm, nd);
    vm_set_state(vm, nd, VM_STARTING);
    vm_set_state(vm, nd, VM_RUNNING);
    vm_peer_agent_register(vm, nd);
    return PN_OK;
fail:
    free(a);
    return r;
}

/* --------------------------------------------------------- monitor end */

static pn_val_t *s_console_tail(vm_t *vm, vm_node_t *nd)
{
    char path[4300];
    vm_node_dir(vm, nd, "console.log", path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    pn_val_t *arr = pn_arr();
    if (fd < 0)
        return arr;
    char buf[4096];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
    close(fd);
    if (n <= 0)
        return arr;
    buf[n] = 0;
    /* Keep printable lines, the last VM_CONSOLE_TAIL of them. */
    char *lines[VM_CONSOLE_TAIL];
    int nl = 0;
    char *save = NULL;
    for (char *l = strtok_r(buf, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
        for (char *c = l; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
                *c = ' ';
        if (nl == VM_CONSOLE_TAIL) {
            memmove(lines, lines + 1, sizeof(lines[0]) * (VM_CONSOLE_TAIL - 1));
            nl--;
        }
        lines[nl++] = l;
    }
    for (int i = 0; i < nl; i++)
        pn_arr_push(arr, pn_str(lines[i]));
    return arr;
}

static void s_finish(vm_t *vm, vm_node_t *nd)
{
    if (nd->watch) {
        pn_loop_del(pn_svc_loop(vm->svc), nd->watch);
        nd->watch = NULL;
    }
    if (nd->pidfd >= 0) {
        close(nd->pidfd);
        nd->pidfd = -1;
    }
    if (nd->stop_timer) {
        pn_loop_del_timer(pn_svc_loop(vm->svc), nd->stop_timer);
        nd->stop_timer = NULL;
    }
    /* Reap it when it is our child (not after an adoption). */
    if (nd->mon_pid)
        waitpid(nd->mon_pid, NULL, WNOHANG);
    char path[4300], *buf = NULL;
    size_t len;
    vm_node_dir(vm, nd, "exit", path, sizeof(path));
    if (pn_file_read(path, 64, &buf, &len) == 0) {
        nd->exit_status = atoi(buf);
        nd->have_exit = true;
        free(buf);
    } else {
        nd->have_exit = false;
    }
    /* The guest's whole process group, in case the monitor was killed. */
    if (nd->guest_pid > 1)
        kill(-nd->guest_pid, SIGKILL);
    if (nd->kind == VM_NS)
        vm_ns_teardown(vm, nd);
    vm_peer_agent_unregister(nd);
    bool crashed = !nd->stop_requested;
    if (crashed) {
        pn_val_free(nd->console_tail);
        nd->console_tail = s_console_tail(vm, nd);
    }
    nd->mon_pid = 0;
    nd->guest_pid = 0;
    vm_set_state(vm, nd, crashed ? VM_CRASHED : VM_STOPPED);
    if (nd->pend)
        vm_pend_abort(vm, nd, PN_EUNAVAIL,
                      "node '%s' %s while %s was in progress: %s stays in its spec (on a stopped node nic del only "
                      "changes the spec)",
                      nd->name, crashed ? "crashed" : "stopped", nd->pend->what, nd->pend->ifname);
    if (nd->waiting) {
        pn_req_ok(nd->waiting, vm_node_to_val(vm, nd, true));
        nd->waiting = NULL;
    }
    if (nd->restart_after) {
        nd->restart_after = false;
        char err[512];
        if (vm_start(vm, nd, err, sizeof(err)) != PN_OK)
            pn_warn("vmd: %s: restart failed: %s", nd->name, err);
    }
}

static void s_on_monitor_exit(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    vm_node_t *nd = arg;
    (void)loop;
    (void)fd;
    (void)events;
    s_finish(vm_self, nd);
}

/* --------------------------------------------------------------- stop */

/* A node has stopped when its monitor ends (s_finish, from the monitor's
 * pidfd), and that is when node.stop and node.kill answer.  After the guest
 * is killed the monitor has VM_MONITOR_GRACE_MS to end; should it not
 * (stopped, starved, stuck), it is killed, or the request would wait for
 * it for ever (the CLI gives up after 120 s). */
static void s_monitor_timeout(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    vm_node_t *nd = arg;
    (void)loop;
    (void)t;
    nd->stop_timer = NULL;
    if (nd->mon_pid <= 1)
        return;
    char path[64], wchan[64] = "?";
    char st = '?';
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)nd->mon_pid);
    char *b = NULL;
    size_t len = 0;
    if (pn_file_read(path, 4096, &b, &len) == 0) {
        char *p = strrchr(b, ')');
        if (p)
            sscanf(p + 1, " %c", &st);
        free(b);
    }
    snprintf(path, sizeof(path), "/proc/%d/wchan", (int)nd->mon_pid);
    if (pn_file_read(path, 4096, &b, &len) == 0) {
        snprintf(wchan, sizeof(wchan), "%s", b);
        free(b);
    }
    pn_warn("vmd: %s: its monitor (pid %d, state %c, waiting in %s) has not ended %d s after its guest was "
            "killed: killing the monitor",
            nd->name, (int)nd->mon_pid, st, wchan[0] ? wchan : "?", VM_MONITOR_GRACE_MS / 1000);
    kill(nd->mon_pid, SIGKILL);
}

static void s_monitor_deadline(vm_t *vm, vm_node_t *nd)
{
    if (nd->stop_timer)
        pn_loop_del_timer(pn_svc_loop(vm->svc), nd->stop_timer);
    nd->stop_timer = pn_loop_add_timer(pn_svc_loop(vm->svc), VM_MONITOR_GRACE_MS, false, s_monitor_timeout, nd);
}

static void s_stop_timeout(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    vm_node_t *nd = arg;
    (void)loop;
    (void)t;
    nd->stop_timer = NULL;
    if (nd->guest_pid > 1)
        kill(-nd->guest_pid, SIGKILL);
    s_monitor_deadline(vm_self, nd);
}

void vm_kill(vm_t *vm, vm_node_t *nd)
{
    if (nd->pend)
        vm_pend_abort(vm, nd, PN_EUNAVAIL,
                      "node '%s' was killed while %s was in progress: %s stays in its spec (on a stopped node nic del "
                      "only changes the spec)",
                      nd->name, nd->pend->what, nd->pend->ifname);
    nd->stop_requested = true;
    if (nd->state == VM_RUNNING || nd->state == VM_STARTING)
        vm_set_state(vm, nd, VM_STOPPING);
    if (nd->guest_pid > 1)
        kill(-nd->guest_pid, SIGKILL);
    s_monitor_deadline(vm, nd);
}

void vm_stop(vm_t *vm, vm_node_t *nd, unsigned timeout_ms)
{
    nd->stop_requested = true;
    vm_set_state(vm, nd, VM_STOPPING);
    char path[4300], err[512];
    int r = -1;
    if (nd->kind == VM_QEMU) {
        vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
        r = vm_qmp(path, "{\"execute\":\"system_powerdown\"}", err, sizeof(err), 2000);
    } else if (nd->kind == VM_UML) {
        vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
        r = vm_mconsole(path, "halt", err, sizeof(err), 2000);
    } else if (nd->guest_pid > 1) {
        r = kill(nd->guest_pid, SIGTERM);
    }
    if (r < 0)
        timeout_ms = 0;
    nd->stop_timer = pn_loop_add_timer(pn_svc_loop(vm->svc), timeout_ms ? timeout_ms : 1, false, s_stop_timeout, nd);
}

/* -------------------------------------------------------------- adopt */

void vm_adopt(vm_t *vm, vm_node_t *nd)
{
    bool was_live = nd->state == VM_STARTING || nd->state == VM_RUNNING || nd->state == VM_STOPPING;
    if (!was_live) {
        /* Nodes that were not running come back as defined. */
        nd->state = VM_DEFINED;
        return;
    }
    if (nd->mon_pid > 1 && nd->mon_start && vm_proc_start_time(nd->mon_pid) == nd->mon_start) {
        s_watch(vm, nd);
        if (nd->pidfd >= 0) {
            nd->adopted = true;
            nd->state = VM_RUNNING;
            vm_node_save(vm, nd);
            pn_notice("vmd: adopted node %s (monitor %d, guest %d)", nd->name, (int)nd->mon_pid, (int)nd->guest_pid);
            vm_peer_agent_register(vm, nd);
            return;
        }
    }
    /* It ended while vmd was away. */
    nd->stop_requested = false;
    s_finish(vm, nd);
}

/* ---------------------------------------------------------- live NICs */

int vm_nic_plug(vm_t *vm, vm_node_t *nd, vm_nic_t *c, char *err, size_t errlen)
{
    int r;
    if (strcmp(c->lan, "mgmt") == 0)
        r = s_mgmt_ready(vm, err, errlen);
    else
        r = vm_peer_lan_exists(c->lan, err, errlen);
    if (r != PN_OK)
        return r;
    if (nd->state != VM_RUNNING)
        return PN_OK;
    char path[4300], cmd[8192];
    if (nd->kind == VM_NS)
        return s_ns_nic_in(vm, nd, c, err, errlen);
    if (nd->kind == VM_UML) {
        char nic[4400], reply[600];
        vm_uml_nic_arg(nic, sizeof(nic), c);
        snprintf(cmd, sizeof(cmd), "config %s", nic);
        vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
        if (vm_mconsole(path, cmd, reply, sizeof(reply), 5000) < 0) {
            snprintf(err, errlen, "UML refused %s: %s", c->ifname, reply);
            return PN_EINTERNAL;
        }
        return PN_OK;
    }
    char mac[18], lan[4200];
    pn_mac_format(c->mac, mac);
    vm_lan_dir(c->lan, lan, sizeof(lan));
    vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"vde\",\"id\":\"net-%s\",\"sock\":\"%s\"}}",
             c->ifname, lan);
    if (vm_qmp(path, cmd, err, errlen, 5000) < 0)
        return PN_EINTERNAL;
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"netdev\":\"net-%s\","
             "\"mac\":\"%s\",\"id\":\"dev-%s\"}}",
             c->ifname, mac, c->ifname);
    if (vm_qmp(path, cmd, err, errlen, 5000) < 0) {
        char e2[256];
        snprintf(cmd, sizeof(cmd), "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net-%s\"}}", c->ifname);
        vm_qmp(path, cmd, e2, sizeof(e2), 5000);
        return PN_EINTERNAL;
    }
    return PN_OK;
}

/* The plugnet CLI: $PLUGNET_CLI, else plugnet next to this binary, else
 * plugnet on PATH. */
static void s_cli_path(char *out, size_t len)
{
    const char *env = getenv("PLUGNET_CLI");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(out, len, "%s/plugnet", exe);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, len, "plugnet");
}

/* How long the take-down through the agent may take in all (the exec
 * itself gives up after 10 s when the agent does not come up):
 * $PLUGNET_VMD_IFDOWN_MS (1000..600000, tests shorten it), else 15 s. */
static unsigned s_ifdown_deadline_ms(void)
{
    const char *v = getenv("PLUGNET_VMD_IFDOWN_MS");
    char *end = NULL;
    unsigned long ms = v && *v ? strtoul(v, &end, 10) : 0;
    return end && !*end && ms >= 1000 && ms <= 600000 ? (unsigned)ms : 15000;
}

/* The refusal when an interface up in a UML guest could not be removed. */
static void s_uml_nic_refusal(char *err, size_t errlen, const char *ifname, int np, const char *why)
{
    snprintf(err, errlen,
             "%s is up in the guest and UML removes only an interface that is down; %s, but it could not be taken "
             "down through the node's agent (%s): run 'ip link set %s down' in the guest and repeat nic del",
             ifname,
             np > 0    ? "it is unplugged from its LAN (no traffic passes)"
             : np < 0  ? "which of the node's ports on its LAN it holds is unclear, so none was unplugged"
                       : "it holds no port on its LAN",
             why, ifname);
}

static void s_pend_free(vm_t *vm, vm_node_t *nd)
{
    (void)vm;
    if (!nd->pend)
        return;
    vm_job_cancel(&nd->pend->job);
    free(nd->pend);
    nd->pend = NULL;
}

void vm_pend_abort(vm_t *vm, vm_node_t *nd, int code, const char *fmt, ...)
{
    if (!nd->pend)
        return;
    pn_req_t *req = nd->pend->req;
    char what[32], msg[768];
    snprintf(what, sizeof(what), "%s", nd->pend->what);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s_pend_free(vm, nd);
    pn_notice("vmd: %s: %s ended: %s", nd->name, what, msg);
    if (req)
        pn_req_fail(req, code, "%s", msg);
}

/* The exec taking the interface down ended (from the loop). */
static void s_ifdown_done(vm_t *vm, int status, const char *out, void *arg)
{
    vm_node_t *nd = arg;
    vm_pend_t *p = nd->pend;
    if (!p)
        return;
    p->job = NULL; /* it is gone already */
    char path[4300], cmd[64], reply[600], why[400];
    snprintf(cmd, sizeof(cmd), "remove %s", p->ifname);
    vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
    int code = PN_OK;
    char err[1024] = "";
    if (status == 0) {
        /* The exec returned once ip(8) closed the device: UML sees it down. */
        bool removed = false;
        for (int i = 0; i < 3 && !removed; i++)
            removed = vm_mconsole(path, cmd, reply, sizeof(reply), 5000) == 0;
        if (!removed) {
            snprintf(why, sizeof(why), "UML still refuses: %s", reply);
            s_uml_nic_refusal(err, sizeof(err), p->ifname, p->np, why);
            code = PN_EBUSY;
        }
    } else {
        char line[512];
        snprintf(line, sizeof(line), "%s", out);
        line[strcspn(line, "\n")] = 0;
        const char *msg = strncmp(line, "plugnet: ", 9) == 0 ? line + 9 : line;
        if (status == VM_JOB_TIMEOUT)
            snprintf(why, sizeof(why), "the agent did not answer within %.1f s", s_ifdown_deadline_ms() / 1000.0);
        else
            snprintf(why, sizeof(why), "%s", msg[0] ? msg : "plugnet exec failed");
        s_uml_nic_refusal(err, sizeof(err), p->ifname, p->np, why);
        code = PN_EBUSY;
    }
    pn_req_t *req = p->req;
    char ifname[8];
    snprintf(ifname, sizeof(ifname), "%s", p->ifname);
    free(p);
    nd->pend = NULL;
    vm_nic_del_done(vm, nd, req, ifname, code, err);
}

/* Start taking the guest's interface with c's MAC down through the node's
 * agent (`plugnet exec`), without waiting: s_ifdown_done continues. */
static int s_agent_ifdown_start(vm_t *vm, vm_node_t *nd, const vm_nic_t *c, int np, char *why, size_t whylen)
{
    char cli[4200], mac[18], script[512];
    s_cli_path(cli, sizeof(cli));
    pn_mac_format(c->mac, mac);
    snprintf(script, sizeof(script),
             "for p in /sys/class/net/*; do if [ \"$(cat $p/address)\" = %s ]; then ip link set \"${p##*/}\" down; "
             "exit $?; fi; done; echo \"no interface has the MAC %s\" >&2; exit 1",
             mac, mac);
    /* --wait: an agent reconnecting (down for a moment) is waited for. */
    char *argv[] = { cli, (char *)"exec", nd->name, (char *)"--wait", (char *)"10", (char *)"--timeout", (char *)"10",
                     (char *)"--", (char *)"sh",
                     (char *)"-c", script, NULL };
    vm_pend_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(p->what, sizeof(p->what), "nic.del %s", c->ifname);
    snprintf(p->ifname, sizeof(p->ifname), "%s", c->ifname);
    p->np = np;
    p->since_ms = pn_mono_ms();
    p->job = vm_job_start(vm, argv, s_ifdown_deadline_ms(), s_ifdown_done, nd, why, whylen);
    if (!p->job) {
        free(p);
        return -1;
    }
    nd->pend = p;
    return 0;
}

/* UML removes (mconsole "remove ethN") only an interface that is down in
 * the guest.  When it is up: unplug its port at the switch (no frame passes
 * from now on), take it down through the node's agent, and remove it.  The
 * agent's part runs in the background (VM_PENDING). */
static int s_uml_nic_del(vm_t *vm, vm_node_t *nd, vm_nic_t *c, char *err, size_t errlen)
{
    char path[4300], cmd[64], reply[600];
    snprintf(cmd, sizeof(cmd), "remove %s", c->ifname);
    vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
    if (vm_mconsole(path, cmd, reply, sizeof(reply), 5000) == 0)
        return PN_OK;
    if (!strstr(reply, "open")) {
        snprintf(err, errlen, "UML refused to remove %s: %s", c->ifname, reply);
        return PN_EINTERNAL;
    }
    unsigned ports[4];
    int np = vm_peer_uml_ports(c->lan, c->mac, nd->guest_pid, ports, 4);
    for (int i = 0; i < np; i++)
        vm_peer_port_del(c->lan, ports[i]);
    char why[400];
    if (s_agent_ifdown_start(vm, nd, c, np, why, sizeof(why)) == 0)
        return VM_PENDING;
    s_uml_nic_refusal(err, errlen, c->ifname, np, why);
    return PN_EBUSY;
}

int vm_nic_unplug(vm_t *vm, vm_node_t *nd, vm_nic_t *c, char *err, size_t errlen)
{
    if (nd->state != VM_RUNNING)
        return PN_OK;
    char path[4300], cmd[512];
    if (nd->kind == VM_NS) {
        char ns[64];
        vm_ns_name(vm, nd, ns, sizeof(ns));
        vm_peer_port_del(c->lan, c->port);
        /* Closing the tap (port.del) removes it; this is for the rest. */
        char p[128];
        snprintf(p, sizeof(p), "/run/netns/%s", ns);
        int nsfd = open(p, O_RDONLY | O_CLOEXEC);
        if (nsfd >= 0) {
            (void)vm_link_del(nsfd, c->ifname);
            close(nsfd);
        }
        c->port = 0;
        return PN_OK;
    }
    if (nd->kind == VM_UML)
        return s_uml_nic_del(vm, nd, c, err, errlen);
    vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"dev-%s\"}}", c->ifname);
    if (vm_qmp(path, cmd, err, errlen, 5000) < 0)
        return PN_EINTERNAL;
    /* The netdev goes at once: traffic stops even before the guest
     * acknowledges the unplug. */
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net-%s\"}}", c->ifname);
    char e2[256];
    vm_qmp(path, cmd, e2, sizeof(e2), 5000);
    return PN_OK;
}

static int s_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Remove a stopped node's files (the base image is never touched). */
void vm_node_files_rm(vm_t *vm, vm_node_t *nd)
{
    char dir[4200];
    vm_node_dir(vm, nd, NULL, dir, sizeof(dir));
    /* Depth first, never following a symlink out of the directory. */
    (void)nftw(dir, s_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
