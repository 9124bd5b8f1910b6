/* vm_job: a helper command run without blocking vmd's loop.
 *
 * The child runs in its own process group with its output on a pipe; the
 * loop watches the pipe (so a chatty child never blocks on a full pipe)
 * and the child's pidfd (its end), and a timer bounds the whole run: at
 * the deadline the group is killed.  The callback runs once, from the
 * loop, after the child was reaped.  A job cancelled (its node stopped or
 * was deleted) kills the group and never calls back.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"

#define VM_JOB_OUT 1024

struct vm_job {
    vm_t *vm;
    pid_t pid;
    int pidfd, out;
    pn_watch_t *pid_watch, *out_watch;
    pn_timer_t *timer;
    bool timed_out;
    vm_job_fn fn;
    void *arg;
    char buf[VM_JOB_OUT];
    size_t have;
};

static void s_drain(vm_job_t *j)
{
    char sink[512];
    for (;;) {
        ssize_t r;
        if (j->have + 1 < sizeof(j->buf))
            r = read(j->out, j->buf + j->have, sizeof(j->buf) - 1 - j->have);
        else
            r = read(j->out, sink, sizeof(sink));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0 && j->out_watch) {
                /* EOF: nothing more to read; stop watching. */
                pn_loop_del(pn_svc_loop(j->vm->svc), j->out_watch);
                j->out_watch = NULL;
            }
            return;
        }
        if (j->have + 1 < sizeof(j->buf))
            j->have += (size_t)r;
    }
}

static void s_release(vm_job_t *j)
{
    pn_loop_t *loop = pn_svc_loop(j->vm->svc);
    if (j->pid_watch)
        pn_loop_del(loop, j->pid_watch);
    if (j->out_watch)
        pn_loop_del(loop, j->out_watch);
    if (j->timer)
        pn_loop_del_timer(loop, j->timer);
    if (j->pidfd >= 0)
        close(j->pidfd);
    if (j->out >= 0)
        close(j->out);
    free(j);
}

static void s_on_out(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    s_drain(arg);
}

static void s_on_exit(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    vm_job_t *j = arg;
    (void)loop;
    (void)fd;
    (void)events;
    int st = 0;
    pid_t w = waitpid(j->pid, &st, WNOHANG);
    if (w == 0 || (w < 0 && errno != ECHILD))
        return; /* not ended yet (a spurious wakeup) */
    int status = w < 0 ? 255 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    /* What the child wrote last; what a leftover grandchild writes later is not its. */
    s_drain(j);
    j->buf[j->have] = 0;
    if (j->timed_out)
        status = VM_JOB_TIMEOUT;
    /* Whatever else the command left in its group goes with it. */
    kill(-j->pid, SIGKILL);
    vm_job_fn fn = j->fn;
    void *farg = j->arg;
    char out[VM_JOB_OUT];
    memcpy(out, j->buf, j->have + 1);
    vm_t *vm = j->vm;
    s_release(j);
    fn(vm, status, out, farg);
}

static void s_on_deadline(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    vm_job_t *j = arg;
    (void)loop;
    (void)t;
    j->timer = NULL;
    j->timed_out = true;
    /* The pidfd reports the end; the callback runs from there. */
    kill(-j->pid, SIGKILL);
}

vm_job_t *vm_job_start(vm_t *vm, char *const argv[], unsigned deadline_ms, vm_job_fn fn, void *arg, char *err,
                       size_t errlen)
{
    vm_job_t *j = calloc(1, sizeof(*j));
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    j->vm = vm;
    j->fn = fn;
    j->arg = arg;
    j->pidfd = j->out = -1;
    int o[2];
    if (pipe2(o, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        free(j);
        return NULL;
    }
    pid_t me = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(o[0]);
        close(o[1]);
        free(j);
        return NULL;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* It must not outlive vmd (a vmd killed meanwhile never reaps it). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != me)
            _exit(126);
        vm_child_signals();
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        dup2(o[1], 1);
        dup2(o[1], 2);
        syscall(SYS_close_range, 3, ~0u, 0);
        execvp(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    /* Both sides set the group: no window where a kill(-pid) misses. */
    setpgid(pid, pid);
    close(o[1]);
    j->pid = pid;
    j->out = o[0];
    fcntl(j->out, F_SETFL, O_NONBLOCK);
    j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    pn_loop_t *loop = pn_svc_loop(vm->svc);
    if (j->pidfd >= 0) {
        fcntl(j->pidfd, F_SETFD, FD_CLOEXEC);
        j->pid_watch = pn_loop_add_fd(loop, j->pidfd, EPOLLIN, s_on_exit, j);
    }
    j->out_watch = pn_loop_add_fd(loop, j->out, EPOLLIN, s_on_out, j);
    j->timer = pn_loop_add_timer(loop, deadline_ms ? deadline_ms : 1, false, s_on_deadline, j);
    if (!j->pid_watch || !j->out_watch || !j->timer) {
        snprintf(err, errlen, "cannot watch %s (pid %d): %s", argv[0], (int)pid,
                 j->pidfd < 0 ? strerror(errno) : "out of memory");
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        s_release(j);
        return NULL;
    }
    return j;
}

void vm_job_cancel(vm_job_t **job_p)
{
    vm_job_t *j = job_p ? *job_p : NULL;
    if (!j)
        return;
    *job_p = NULL;
    kill(-j->pid, SIGKILL);
    kill(j->pid, SIGKILL);
    /* Killed: its end is immediate (nothing it runs can hold it). */
    waitpid(j->pid, NULL, 0);
    s_release(j);
}

pid_t vm_job_pid(const vm_job_t *j) { return j ? j->pid : 0; }
