/* ag-relay: run a UML guest with its agent line and console on unix
 * sockets, the way vmd wires them, for the agent tests (t4006) without vmd.
 *
 *   ag-relay AGENT_SOCK CONSOLE_SOCK LOG -- linux.uml ARGS... ssl1=fd:3,fd:4 con0=fd:0,fd:1
 *
 * The child gets the agent's serial line as two pipes, fd 3 to read and
 * fd 4 to write (UML reads its line a byte per read(): a pipe's read is
 * cheaper than a socket's), and one end of a socketpair as fds 0 and 1
 * (the console).  AGENT_SOCK and CONSOLE_SOCK
 * are served (the newest connection wins); console output is also appended
 * to LOG.  ag-relay exits with the child.
 *
 * Debian's UML 6.1 cannot save AVX-512 state on this kind of host (see
 * pn_seccomp.h): like vmd, the child gets the seccomp filter that makes
 * PTRACE_{GET,SET}REGSET(NT_X86_XSTATE) fail with EIO, so UML falls back to
 * the plain FP registers, and the caller passes GLIBC_TUNABLES keeping the
 * guest's glibc off AVX. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pn_seccomp.h"
#include "pn_svc.h"

static volatile sig_atomic_t s_stop;
static void s_on_term(int sig) { s_stop = 1; }

static int s_listen(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path)
        return -1;
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4) < 0)
        return -1;
    return fd;
}


int main(int argc, char **argv)
{
    if (argc < 6 || strcmp(argv[4], "--")) {
        fprintf(stderr, "usage: ag-relay AGENT_SOCK CONSOLE_SOCK LOG -- CMD ARGS...\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Stopping the relay stops the guest with it. */
    struct sigaction sa = { .sa_handler = s_on_term };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int agin[2], agout[2], con[2];
    if (pipe2(agin, O_CLOEXEC) < 0 || pipe2(agout, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
        return 1;
    /* UML's line driver stalls for good when a write to its host fd
     * would block (it misses the wakeup): give the guest's output room
     * for everything agentd's credit lets it send. */
    if (fcntl(agout[1], F_SETPIPE_SZ, 8 << 20) < 0)
        fcntl(agout[1], F_SETPIPE_SZ, 1 << 20);
    fcntl(agin[1], F_SETPIPE_SZ, 1 << 20);
    int als = s_listen(argv[1]), cls = s_listen(argv[2]);
    int log = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (als < 0 || cls < 0) {
        perror("ag-relay: listen");
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(con[1], 0);
        dup2(con[1], 1);
        /* Through high numbers first: a pipe end may already be 3 or 4
         * (dup2 onto itself would leave it close-on-exec). */
        int r = fcntl(agin[0], F_DUPFD_CLOEXEC, 10), w = fcntl(agout[1], F_DUPFD_CLOEXEC, 10);
        dup2(r, 3);
        dup2(w, 4);
        int e = pn_seccomp_uml_xstate();
        if (e < 0)
            fprintf(stderr, "ag-relay: seccomp: %s\n", strerror(-e));
        execvp(argv[5], argv + 5);
        perror("ag-relay: exec");
        _exit(127);
    }
    close(agin[0]);
    close(agout[1]);
    close(con[1]);
    /* Four one-way pipes with bounded buffers and no blocking write, so a
     * side that stops reading holds back only its own direction. */
    enum { TO_GUEST_AG, FROM_GUEST_AG, TO_GUEST_CON, FROM_GUEST_CON, NDIR };
    struct {
        int *src, *dst;
        char buf[262144];
        size_t len;
    } *d = calloc(NDIR, sizeof *d);
    if (!d)
        return 1;
    int ac = -1, cc = -1, gag_w = agin[1], gag_r = agout[0], gcon = con[0];
    d[TO_GUEST_AG].src = &ac;
    d[TO_GUEST_AG].dst = &gag_w;
    d[FROM_GUEST_AG].src = &gag_r;
    d[FROM_GUEST_AG].dst = &ac;
    d[TO_GUEST_CON].src = &cc;
    d[TO_GUEST_CON].dst = &gcon;
    d[FROM_GUEST_CON].src = &gcon;
    d[FROM_GUEST_CON].dst = &cc;
    fcntl(gag_w, F_SETFL, O_NONBLOCK);
    fcntl(gag_r, F_SETFL, O_NONBLOCK);
    fcntl(gcon, F_SETFL, O_NONBLOCK);
    for (;;) {
        struct pollfd p[2 + 2 * NDIR];
        int np = 0;
        p[np++] = (struct pollfd){ .fd = als, .events = POLLIN };
        p[np++] = (struct pollfd){ .fd = cls, .events = POLLIN };
        for (int i = 0; i < NDIR; i++) {
            /* Guest output flows on without a client (the log); agent
             * output waits for one. */
            bool dst_ok = *d[i].dst >= 0 || i == FROM_GUEST_CON;
            p[np++] = (struct pollfd){ .fd = *d[i].src >= 0 && d[i].len < sizeof d[i].buf && dst_ok ? *d[i].src : -1,
                                       .events = POLLIN };
            p[np++] = (struct pollfd){ .fd = *d[i].dst >= 0 && d[i].len ? *d[i].dst : -1, .events = POLLOUT };
        }
        if (poll(p, (nfds_t)np, 500) < 0 && errno != EINTR)
            break;
        if (s_stop)
            break;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            free(d);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
        }
        for (int k = 0; k < 2; k++) {
            if (!p[k].revents)
                continue;
            int c = accept4(k ? cls : als, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (c < 0)
                continue;
            int *slot = k ? &cc : &ac;
            if (*slot >= 0)
                close(*slot);
            *slot = c;
            d[k ? TO_GUEST_CON : TO_GUEST_AG].len = 0;
        }
        for (int i = 0; i < NDIR; i++) {
            struct pollfd *in = &p[2 + 2 * i], *out = &p[3 + 2 * i];
            if (in->fd >= 0 && in->revents) {
                ssize_t n = read(in->fd, d[i].buf + d[i].len, sizeof d[i].buf - d[i].len);
                if (n > 0) {
                    if (i == FROM_GUEST_CON && log >= 0)
                        (void)pn_write_all(log, d[i].buf + d[i].len, (size_t)n);
                    d[i].len += (size_t)n;
                    if (i == FROM_GUEST_CON && cc < 0)
                        d[i].len = 0;
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    if (d[i].src == &ac || d[i].src == &cc) {
                        close(*d[i].src);
                        *d[i].src = -1;
                        d[i == TO_GUEST_AG ? FROM_GUEST_AG : FROM_GUEST_CON].len = 0;
                    }
                }
            }
            if (out->fd >= 0 && out->revents && *d[i].dst >= 0 && d[i].len) {
                ssize_t n = write(*d[i].dst, d[i].buf, d[i].len);
                if (n > 0) {
                    memmove(d[i].buf, d[i].buf + n, d[i].len - (size_t)n);
                    d[i].len -= (size_t)n;
                } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    /* A client went away, or the guest closed its line:
                     * either way poll would report it forever. */
                    close(*d[i].dst);
                    *d[i].dst = -1;
                    d[i].len = 0;
                }
            }
        }
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    free(d);
    return 1;
}
