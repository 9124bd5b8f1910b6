/* vm_proc: small process helpers (a process's start time, a child's
 * signals, a blocking command with its output). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"

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
