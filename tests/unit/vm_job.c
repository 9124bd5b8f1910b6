/* vm_job: helper commands run from vmd's loop without blocking it: exit
 * status and output, a child that writes more than a pipe holds, the
 * deadline (the whole process group killed), cancel, a missing program. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../services/vmd/vm.h"
#include "tap.h"

extern const pn_svc_op_t vm_ops[]; /* the real table: pn_svc_new checks it against the schema */

static struct {
    int calls, status;
    char out[1100];
} s_got;

static void s_done(vm_t *vm, int status, const char *out, void *arg)
{
    (void)arg;
    s_got.calls++;
    s_got.status = status;
    snprintf(s_got.out, sizeof(s_got.out), "%s", out);
    pn_loop_stop(pn_svc_loop(vm->svc));
}

static void s_guard(pn_loop_t *loop, pn_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    pn_loop_stop(loop);
}

/* Run argv as a job in a fresh loop (a stopped loop stays stopped);
 * returns the ms it took (the loop stops at its end). */
static uint64_t s_run(vm_t *vm, char *const argv[], unsigned deadline_ms)
{
    pn_svc_destroy(&vm->svc);
    vm->svc = pn_svc_new("vmd", vm_ops, vm);
    memset(&s_got, 0, sizeof(s_got));
    char err[256] = "";
    uint64_t t0 = pn_mono_ms();
    vm_job_t *j = vm_job_start(vm, argv, deadline_ms, s_done, NULL, err, sizeof(err));
    if (!j) {
        diag("vm_job_start: %s", err);
        return 0;
    }
    pn_loop_t *loop = pn_svc_loop(vm->svc);
    pn_timer_t *g = pn_loop_add_timer(loop, 20000, false, s_guard, NULL);
    pn_loop_run(loop);
    pn_loop_del_timer(loop, g);
    return pn_mono_ms() - t0;
}

static bool s_gone(pid_t pid)
{
    /* Orphaned grandchildren are reaped by init: gone or a zombie. */
    for (int i = 0; i < 200; i++) {
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == 'Z')
            return true;
        usleep(10000);
    }
    return false;
}

int main(void)
{
    static vm_t vm;
    vm.svc = pn_svc_new("vmd", vm_ops, &vm);
    if (!vm.svc) {
        ok(false, "pn_svc_new");
        return done();
    }

    char *a1[] = { (char *)"sh", (char *)"-c", (char *)"echo out; echo err >&2; exit 3", NULL };
    s_run(&vm, a1, 5000);
    ok(s_got.calls == 1 && s_got.status == 3, "exit status 3 (%d, %d calls)", s_got.status, s_got.calls);
    ok(strstr(s_got.out, "out\n") && strstr(s_got.out, "err\n"), "stdout and stderr are its output");

    char *a2[] = { (char *)"sh", (char *)"-c", (char *)"head -c 1000000 /dev/zero | tr '\\0' x; exit 0", NULL };
    s_run(&vm, a2, 10000);
    ok(s_got.calls == 1 && s_got.status == 0, "a child writing 1 MB (more than a pipe holds) ends: %d", s_got.status);
    ok(strlen(s_got.out) == 1023, "its output is cut at 1023 bytes (%zu)", strlen(s_got.out));

    char *a3[] = { (char *)"sh", (char *)"-c", (char *)"sleep 30 & echo $!; exec sleep 30", NULL };
    uint64_t ms = s_run(&vm, a3, 300);
    ok(s_got.calls == 1 && s_got.status == VM_JOB_TIMEOUT, "killed at the deadline: VM_JOB_TIMEOUT (%d)",
       s_got.status);
    ok(ms >= 300 && ms < 5000, "after the deadline, not the command's 30 s (%llu ms)", (unsigned long long)ms);
    pid_t bg = (pid_t)atoi(s_got.out);
    ok(bg > 1 && s_gone(bg), "what it left in its process group (pid %d) is killed too", (int)bg);

    char *a4[] = { (char *)"/nonexistent/plugnet-helper", NULL };
    s_run(&vm, a4, 5000);
    ok(s_got.calls == 1 && s_got.status == 127 && strstr(s_got.out, "cannot run /nonexistent/plugnet-helper"),
       "a missing program: 127 and why (%d: %s)", s_got.status, s_got.out);

    pn_svc_destroy(&vm.svc);
    vm.svc = pn_svc_new("vmd", vm_ops, &vm);
    memset(&s_got, 0, sizeof(s_got));
    char err[256];
    char *a5[] = { (char *)"sleep", (char *)"30", NULL };
    vm_job_t *j = vm_job_start(&vm, a5, 5000, s_done, NULL, err, sizeof(err));
    pid_t pid = vm_job_pid(j);
    vm_job_cancel(&j);
    ok(j == NULL && pid > 1 && kill(pid, 0) < 0, "cancel kills and reaps it (pid %d)", (int)pid);
    /* The loop has nothing of it left: a guard timer is all that ends it. */
    pn_loop_t *loop = pn_svc_loop(vm.svc);
    pn_timer_t *g = pn_loop_add_timer(loop, 300, false, s_guard, NULL);
    pn_loop_run(loop);
    (void)g;
    ok(s_got.calls == 0, "a cancelled job never calls back");
    /* In a child, so a crash is a failed check rather than a lost plan. */
    pid_t c = fork();
    if (c == 0) {
        vm_job_t *none = NULL;
        vm_job_cancel(&none);
        vm_job_cancel(NULL);
        _exit(none == NULL ? 0 : 1);
    }
    int st = -1;
    bool reaped = c > 0 && waitpid(c, &st, 0) == c;
    ok(reaped && WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "cancel of a NULL job (and of NULL) is a no-op (child status %#x)", st);

    pn_svc_destroy(&vm.svc);
    return done();
}
