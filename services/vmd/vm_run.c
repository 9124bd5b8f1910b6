/* vm_run: the lifecycle of a node: start, supervise (the monitor's pidfd),
 * stop, kill, adopt after a restart of vmd. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"
#include "vm_ctl.h"

#define VM_CONSOLE_TAIL 20
/* After its guest is killed a monitor waits at most 10 s for the rest of
 * the guest's process group (s_group_wait); vmd gives it 5 s more. */
#define VM_MONITOR_GRACE_MS 15000

static void s_on_monitor_exit(pn_loop_t *loop, int fd, uint32_t events, void *arg);

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
/* 0, or -errno with err. */
static int s_qemu_overlay(vm_t *vm, vm_node_t *nd, char *err, size_t errlen)
{
    if (nd->persistent)
        return 0;
    char path[4300];
    vm_node_dir(vm, nd, "disk.qcow2", path, sizeof(path));
    if (access(path, F_OK) == 0)
        return 0;
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
        return -EIO;
    }
    return 0;
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

/* ---- node.start, step by step: the LANs of its NICs, the namespace and
 * taps (ns) or the config disk (uml, qemu), the monitor, the agent's
 * registration.  Each step that asks a peer continues from the loop. */

static void s_start_registered(vm_t *vm, void *arg)
{
    vm_pend_t *p = arg;
    vm_pend_end(vm, p, PN_OK, "");
}

/* Everything is ready: fork the monitor and wait (bounded) for its report
 * that the guest runs. */
static void s_start_monitor(vm_t *vm, vm_pend_t *p)
{
    vm_node_t *nd = p->nd;
    char **argv = nd->kind == VM_NS && !nd->cmd ? NULL : p->argv->v;
    char err[512];
    int rep[2];
    if (pipe2(rep, O_CLOEXEC) < 0) {
        snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
        goto fail;
    }
    pid_t mon = fork();
    if (mon < 0) {
        close(rep[0]);
        close(rep[1]);
        snprintf(err, sizeof(err), "fork: %s", strerror(errno));
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
        vm_monitor_main(vm, nd, argv, keep);
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
    if (!nd->guest_pid) {
        kill(mon, SIGKILL);
        waitpid(mon, NULL, 0);
        snprintf(err, sizeof(err), "the node's monitor did not start the guest");
        nd->mon_pid = 0;
        goto fail;
    }
    s_watch(vm, nd);
    /* switchd names the guest's VDE ports after its NICs by this pid. */
    if (nd->kind != VM_NS)
        for (unsigned i = 0; i < nd->nnics; i++)
            vm_peer_port_claim(vm, nd, &nd->nics[i], nd->guest_pid);
    vm_set_state(vm, nd, VM_STARTING);
    vm_set_state(vm, nd, VM_RUNNING);
    /* Registered before the answer, so that `plugnet exec` right after
     * `node start` finds the node (agentd gets at most 2 s). */
    p->only_ack = true;
    vm_agentd_register(vm, nd, s_start_registered, p);
    return;
fail:
    if (nd->kind == VM_NS)
        vm_ns_teardown(vm, nd);
    vm_pend_end(vm, p, PN_EINTERNAL, err);
}

static void s_start_ns_ready(vm_t *vm, vm_pend_t *p, int code, const char *err)
{
    if (code != PN_OK) {
        vm_pend_end(vm, p, code, err);
        return;
    }
    s_start_monitor(vm, p);
}

static void s_start_disk_ready(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    vm_pend_t *p = arg;
    vm_node_t *nd = p->nd;
    char msg[1024];
    if (code == PN_OK) {
        snprintf(nd->cfgdisk, sizeof(nd->cfgdisk), "%s", pn_get_str(data, "path", ""));
        if (!nd->cfgdisk[0]) {
            snprintf(msg, sizeof(msg), "cfgdiskd answered disk.build without a path");
            code = PN_EINTERNAL;
            err = msg;
        }
    }
    if (code == PN_OK && nd->kind == VM_QEMU && s_qemu_overlay(vm, nd, msg, sizeof(msg)) < 0) {
        code = PN_EINTERNAL;
        err = msg;
    }
    if (code == PN_OK) {
        vm_argv_t *a = p->argv;
        code = nd->kind == VM_UML ? vm_uml_argv(vm, nd, a, msg, sizeof(msg)) : vm_qemu_argv(vm, nd, a, msg, sizeof(msg));
        if (code == PN_OK && a->overflow) {
            snprintf(msg, sizeof(msg), "the guest's command line is too long (more than %d arguments or %zu bytes)",
                     VM_ARGV_MAX - 1, sizeof(a->store));
            code = PN_ETOOLARGE;
        }
        err = msg;
    }
    if (code != PN_OK) {
        vm_pend_end(vm, p, code, err);
        return;
    }
    /* Fresh sockets: a stale one would look alive to a client. */
    static const char *const stale[] = { "console.sock", "agent.sock", "qmp.sock", NULL };
    for (int i = 0; stale[i]; i++) {
        char path[4300];
        vm_node_dir(vm, nd, stale[i], path, sizeof(path));
        unlink(path);
    }
    s_start_monitor(vm, p);
}

static void s_start_lans_ready(vm_t *vm, vm_pend_t *p, int code, const char *err)
{
    vm_node_t *nd = p->nd;
    if (code != PN_OK) {
        vm_pend_end(vm, p, code, err);
        return;
    }
    char path[4300], msg[512];
    vm_node_dir(vm, nd, "exit", path, sizeof(path));
    unlink(path);
    pn_val_destroy(&nd->console_tail);
    nd->have_exit = false;
    nd->stop_requested = false;
    nd->adopted = false;
    p->argv = calloc(1, sizeof(*p->argv));
    if (!p->argv) {
        vm_pend_end(vm, p, PN_EINTERNAL, "out of memory");
        return;
    }
    if (nd->kind != VM_NS) {
        vm_peer_cfgdisk(vm, nd, s_start_disk_ready, p);
        return;
    }
    for (size_t i = 0; nd->cmd && i < pn_len(nd->cmd); i++) {
        pn_val_t *s = pn_at(nd->cmd, i);
        vm_argv_add(p->argv, "%s", s && s->type == PN_STR ? s->s.p : "");
    }
    if (p->argv->overflow) {
        snprintf(msg, sizeof(msg), "the command has more than %d arguments or %zu bytes", VM_ARGV_MAX - 1,
                 sizeof(p->argv->store));
        vm_pend_end(vm, p, PN_ETOOLARGE, msg);
        return;
    }
    vm_ns_setup(vm, p, s_start_ns_ready);
}

static void s_start_first(vm_t *vm, vm_pend_t *p)
{
    vm_node_t *nd = p->nd;
    char dir[4200], err[4400];
    vm_node_dir(vm, nd, NULL, dir, sizeof(dir));
    int r = pn_mkdirs(dir, 0750);
    if (r < 0) {
        snprintf(err, sizeof(err), "cannot create %s: %s", dir, strerror(-r));
        vm_pend_end(vm, p, PN_EINTERNAL, err);
        return;
    }
    if (nd->kind != VM_NS && !nd->image[0] && !vm->rootfs[0] && vm_manifest_load(vm) < 0) {
        snprintf(err, sizeof(err), "no default image: run 'make image' (no manifest at %s)", vm->manifest);
        vm_pend_end(vm, p, PN_ENOTFOUND, err);
        return;
    }
    p->nics = nd->nics;
    p->nnics = nd->nnics;
    vm_lans_ready(vm, p, true, s_start_lans_ready);
}

int vm_start(vm_t *vm, vm_node_t *nd, vm_done_fn done, void *arg)
{
    return vm_pend_run(vm, nd, PN_OPNAME(NODE_START), NULL, s_start_first, done, arg);
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

static void s_restarted(vm_t *vm, vm_node_t *nd, int code, const char *err, bool aborted, void *arg)
{
    (void)arg;
    (void)aborted;
    if (code != PN_OK)
        pn_warn("vmd: %s: restart failed: %s", nd->name, err);
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
    else
        for (unsigned i = 0; i < nd->nnics; i++)
            vm_peer_port_claim(vm, nd, &nd->nics[i], 0);
    vm_agentd_unregister(nd);
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
        vm_start(vm, nd, s_restarted, NULL);
    }
}

static void s_on_monitor_exit(pn_loop_t *loop, int fd, uint32_t events, void *arg)
{
    vm_node_t *nd = arg;
    (void)loop;
    (void)fd;
    (void)events;
    s_finish(nd->vm, nd);
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
    s_monitor_deadline(nd->vm, nd);
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
            vm_agentd_register(vm, nd, NULL, NULL);
            return;
        }
    }
    /* It ended while vmd was away. */
    nd->stop_requested = false;
    s_finish(vm, nd);
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
