/* pn-fdstore-run: the part of systemd that a restart without loss depends
 * on, small enough for `make check` (which has no systemd): run a daemon
 * with NOTIFY_SOCKET and FDSTORE set, keep the descriptors it hands over
 * with FDSTORE=1 (and drop them on FDSTOREREMOVE=1), and when it fails
 * (a signal, a non-zero exit) restart it with the stored descriptors
 * passed the systemd way (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, from fd
 * 3).  A clean exit ends the run and closes the store, like a stopped unit.
 *
 *   pn-fdstore-run [--list FILE] -- COMMAND [ARGS...]
 *
 * Prints one line per event on stdout (line-buffered), for tests to wait
 * on: "READY <pid>", "EXIT <pid> status N" or "EXIT <pid> signal N",
 * "STORE <count>" after each change of the store.  --list FILE is rewritten
 * with the names in the store, one per line, after each change.  SIGTERM
 * is passed on to the daemon, and then its exit ends the run. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_STORE 4096
#define MAX_NAME 256
#define MAX_RESTARTS 20

static int s_fds[MAX_STORE];
static char s_names[MAX_STORE][MAX_NAME];
static int s_n;
static const char *s_list;

static void s_list_write(void)
{
    printf("STORE %d\n", s_n);
    if (!s_list)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", s_list);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    for (int i = 0; i < s_n; i++)
        fprintf(f, "%s\n", s_names[i]);
    fclose(f);
    rename(tmp, s_list);
}

/* Already in the store?  systemd keeps one copy of each open file. */
static bool s_have(int fd)
{
    pid_t me = getpid();
    for (int i = 0; i < s_n; i++)
        if (syscall(SYS_kcmp, me, me, KCMP_FILE, s_fds[i], fd) == 0)
            return true;
    return false;
}

static void s_remove(const char *name)
{
    for (int i = 0; i < s_n;) {
        if (strcmp(s_names[i], name) == 0) {
            close(s_fds[i]);
            s_fds[i] = s_fds[s_n - 1];
            memcpy(s_names[i], s_names[s_n - 1], MAX_NAME);
            s_n--;
        } else {
            i++;
        }
    }
}

/* One notify datagram: its lines, and the descriptors that came with it.
 * False when there was none to read. */
static bool s_on_notify(int ns, pid_t child)
{
    char buf[4096], cbuf[CMSG_SPACE(sizeof(int) * 253)];
    struct iovec iov = { buf, sizeof(buf) - 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
    ssize_t n = recvmsg(ns, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return false;
    buf[n] = 0;
    int fds[253], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k && nfds < 253; i++)
                memcpy(&fds[nfds++], CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
        }
    bool store = false, remove = false, ready = false;
    char name[MAX_NAME] = "stored";
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strcmp(line, "FDSTORE=1") == 0)
            store = true;
        else if (strcmp(line, "FDSTOREREMOVE=1") == 0)
            remove = true;
        else if (strcmp(line, "READY=1") == 0)
            ready = true;
        else if (strncmp(line, "FDNAME=", 7) == 0)
            snprintf(name, sizeof(name), "%s", line + 7);
    }
    if (ready)
        printf("READY %d\n", (int)child);
    if (store) {
        for (int i = 0; i < nfds; i++) {
            if (s_have(fds[i])) {
                close(fds[i]);
            } else if (s_n < MAX_STORE) {
                s_fds[s_n] = fds[i];
                snprintf(s_names[s_n], MAX_NAME, "%s", name);
                s_n++;
            } else {
                close(fds[i]);
            }
        }
        s_list_write();
    } else {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
    }
    if (remove) {
        s_remove(name);
        s_list_write();
    }
    return true;
}

static pid_t s_spawn(char **argv, const char *notify)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Move the store out of the way, then into 3..3+n-1 (dup2 clears
     * close-on-exec on the copies). */
    static int tmp[MAX_STORE];
    for (int i = 0; i < s_n; i++)
        if ((tmp[i] = fcntl(s_fds[i], F_DUPFD_CLOEXEC, 3 + s_n + 16)) < 0)
            _exit(126);
    for (int i = 0; i < s_n; i++)
        if (dup2(tmp[i], 3 + i) < 0)
            _exit(126);
    static char names[MAX_STORE * 16];
    char num[32];
    size_t o = 0;
    for (int i = 0; i < s_n && o + MAX_NAME + 2 < sizeof(names); i++)
        o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? ":" : "", s_names[i]);
    setenv("NOTIFY_SOCKET", notify, 1);
    setenv("FDSTORE", "4096", 1);
    if (s_n > 0) {
        snprintf(num, sizeof(num), "%d", s_n);
        setenv("LISTEN_FDS", num, 1);
        snprintf(num, sizeof(num), "%d", (int)getpid());
        setenv("LISTEN_PID", num, 1);
        setenv("LISTEN_FDNAMES", names, 1);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "pn-fdstore-run: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int main(int argc, char **argv)
{
    int a = 1;
    for (; a < argc; a++) {
        if (strcmp(argv[a], "--list") == 0 && a + 1 < argc) {
            s_list = argv[++a];
        } else {
            if (strcmp(argv[a], "--") == 0)
                a++;
            break;
        }
    }
    if (a >= argc) {
        fprintf(stderr, "usage: pn-fdstore-run [--list FILE] -- COMMAND [ARGS...]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char name[64];
    int nl = snprintf(name, sizeof(name), "pn-fdstore-run-%d", (int)getpid());
    memcpy(sa.sun_path + 1, name, (size_t)nl);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)nl);
    if (ns < 0 || bind(ns, (struct sockaddr *)&sa, salen) < 0) {
        perror("pn-fdstore-run: notify socket");
        return 1;
    }
    int sz = 4 << 20;
    setsockopt(ns, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    char notify[80];
    snprintf(notify, sizeof(notify), "@%s", name);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) {
        perror("pn-fdstore-run: signalfd");
        return 1;
    }

    pid_t child = s_spawn(argv + a, notify);
    if (child < 0)
        return 1;
    bool stopping = false;
    int restarts = 0;
    for (;;) {
        struct pollfd p[2] = { { .fd = ns, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return 1;
        /* Notifications first: a daemon's last messages count. */
        if (p[0].revents & POLLIN) {
            s_on_notify(ns, child);
            continue;
        }
        if (!(p[1].revents & POLLIN))
            continue;
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) != sizeof(si))
            continue;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            stopping = true;
            kill(child, SIGTERM);
            continue;
        }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            if (w != child)
                continue;
            while (s_on_notify(ns, child))
                ;
            bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
            if (WIFSIGNALED(st))
                printf("EXIT %d signal %d\n", (int)w, WTERMSIG(st));
            else
                printf("EXIT %d status %d\n", (int)w, WEXITSTATUS(st));
            /* A clean stop ends the run and the store goes with us; a
             * failure restarts the daemon (Restart=on-failure), a bounded
             * number of times. */
            if (clean || stopping)
                return 0;
            if (++restarts > MAX_RESTARTS) {
                fprintf(stderr, "pn-fdstore-run: %s failed %d times; giving up\n", argv[a], restarts);
                return 1;
            }
            child = s_spawn(argv + a, notify);
            if (child < 0)
                return 1;
        }
    }
}
