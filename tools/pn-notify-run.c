/* pn-notify-run OUT CMD [ARGS...]: run CMD with NOTIFY_SOCKET pointing at a
 * socket of ours and write every sd_notify message it sends to OUT (a file
 * or FIFO), one line per message (fields joined by spaces), then "EXIT n"
 * when CMD ends.  Tests read OUT to wait for READY=1 and STOPPING=1. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void s_drain(int fd, FILE *out)
{
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
        buf[n] = 0;
        for (char *p = buf; *p; p++)
            if (*p == '\n')
                *p = ' ';
        fprintf(out, "%s\n", buf);
        fflush(out);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pn-notify-run OUT CMD [ARGS...]\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 2;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char name[64];
    int nl = snprintf(name, sizeof(name), "pn-notify-run-%d", (int)getpid());
    memcpy(sa.sun_path + 1, name, (size_t)nl);
    if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)nl)) < 0) {
        perror("bind");
        return 2;
    }
    char env[80];
    snprintf(env, sizeof(env), "@%s", name);
    setenv("NOTIFY_SOCKET", env, 1);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    signal(SIGTERM, SIG_IGN); /* the test signals the daemon, not us */
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN)
            s_drain(fd, out);
        if (p[1].revents & POLLIN)
            break;
    }
    s_drain(fd, out);
    int st = 0;
    waitpid(pid, &st, 0);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fprintf(out, "EXIT %d\n", rc);
    fclose(out);
    return rc;
}
