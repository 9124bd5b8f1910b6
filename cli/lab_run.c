/* lab_run: a plan's steps run through the daemons, with a progress line
 * each; then the wait for the nodes up started, and their exec: lines run
 * through the agent (see lab.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"

static int s_timeout(void)
{
    return cli_opts.timeout_ms > LAB_CALL_MS ? cli_opts.timeout_ms : LAB_CALL_MS;
}

void lab_say(bool quiet, const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* ------------------------------------------------------------ steps */

static pn_val_t *s_node_add_args(const topo_node_t *n)
{
    pn_val_t *a = pn_map(), *nics = pn_arr();
    pn_map_set_str(a, "name", n->name);
    pn_map_set_str(a, "kind", topo_kind_name(n->kind));
    if (n->image && n->kind != TOPO_NS)
        pn_map_set_str(a, "image", n->image);
    if (n->memory_mb && n->kind != TOPO_NS)
        pn_map_set_uint(a, "mem", n->memory_mb);
    if (n->cpus && n->kind != TOPO_NS)
        pn_map_set_uint(a, "cpus", n->cpus);
    if (n->mgmt_ipv4[0])
        pn_map_set_str(a, "mgmt_ip", n->mgmt_ipv4);
    for (size_t i = 0; i < n->n_nics; i++)
        pn_arr_push(nics, lab_nic_val(&n->nics[i], true));
    pn_map_set(a, "nics", nics);
    if (n->cmd && n->kind == TOPO_NS) {
        pn_val_t *cmd = pn_arr();
        pn_arr_push(cmd, pn_str("/bin/sh"));
        pn_arr_push(cmd, pn_str("-c"));
        pn_arr_push(cmd, pn_str(n->cmd));
        pn_map_set(a, "cmd", cmd);
    }
    return a;
}

int lab_step(const topo_step_t *s, void *arg, char *err, size_t errlen)
{
    lab_run_t *run = arg;
    char desc[160];
    pn_val_t *a = pn_map();
    int r;
    topo_step_describe(s, desc, sizeof desc);
    if (!run->quiet) {
        if (!strcmp(s->why, "rollback"))
            printf("  undo: %s\n", desc);
        else
            printf("  [%zu/%zu] %s%s%s%s\n", ++run->done, run->total, desc,
                   s->why[0] ? " (" : "", s->why, s->why[0] ? ")" : "");
        fflush(stdout);
    }
    switch (s->kind) {
    case TOPO_LAN_ADD:
        pn_map_set_str(a, "name", s->lan);
        if (s->mtu)
            pn_map_set_uint(a, "mtu", s->mtu);
        return cli_call_err(PN_OP_LAN_ADD, a, s_timeout(), NULL, err, errlen);
    case TOPO_LAN_DEL:
        pn_map_set_str(a, "name", s->lan);
        pn_map_set_bool(a, "force", run->down);
        return cli_call_err(PN_OP_LAN_DEL, a, s_timeout(), NULL, err, errlen);
    case TOPO_NODE_ADD: {
        pn_val_t *d = NULL;
        pn_val_free(a);
        r = cli_call_err(PN_OP_NODE_ADD, s_node_add_args(s->spec), s_timeout(), &d, err, errlen);
        /* vmd may not take a management address: say so rather than
         * leave the file's mgmt-ipv4 silently unapplied. */
        const char *got = pn_get_str(d, "mgmt_ip", NULL);
        size_t wl = strcspn(s->spec->mgmt_ipv4, "/");
        if (r == 0 && s->spec->mgmt_ipv4[0] && (!got || strncmp(got, s->spec->mgmt_ipv4, wl) != 0 ||
                                                (got[wl] && got[wl] != '/')))
            fprintf(stderr, "plugnet: warning: node %s: mgmt-ipv4 %s not applied; its management "
                            "address is %s\n", s->node, s->spec->mgmt_ipv4, got ? got : "unknown");
        pn_val_free(d);
        return r;
    }
    case TOPO_NODE_START:
        if (run->bw && strcmp(s->why, "rollback") != 0) {
            /* Where its console log ends before this boot. */
            pn_val_t *q = pn_map(), *cur = NULL, *d = NULL;
            pn_map_set_str(q, "name", s->node);
            if (cli_call_err(PN_OP_NODE_SHOW, q, LAB_READ_MS, &cur, err, errlen) == 0)
                cli_boot_prepare(run->bw, s->node, cur);
            pn_val_free(cur);
            pn_map_set_str(a, "name", s->node);
            r = cli_call_err(PN_OP_NODE_START, a, s_timeout(), &d, err, errlen);
            if (r == 0)
                cli_boot_follow(run->bw, s->node, d);
            pn_val_free(d);
            return r;
        }
        /* fall through */
    case TOPO_NODE_STOP:
        pn_map_set_str(a, "name", s->node);
        return cli_call_err("vmd", topo_step_op(s->kind), a, s_timeout(), NULL, err, errlen);
    case TOPO_NODE_DEL:
        pn_map_set_str(a, "name", s->node);
        pn_map_set_bool(a, "force", true);
        r = cli_call_err(PN_OP_NODE_DEL, a, s_timeout(), NULL, err, errlen);
        if (r == PN_EBUSY) {
            /* Running: a lab going away does not wait for graceful shutdowns. */
            a = pn_map();
            pn_map_set_str(a, "name", s->node);
            if (cli_call_err(PN_OP_NODE_KILL, a, s_timeout(), NULL, err, errlen) == 0) {
                a = pn_map();
                pn_map_set_str(a, "name", s->node);
                r = cli_call_err(PN_OP_NODE_DEL, a, s_timeout(), NULL, err, errlen);
            }
        }
        return r;
    case TOPO_NIC_ADD:
        pn_val_free(a);
        a = lab_nic_val(&s->nic, true);
        pn_map_set_str(a, "node", s->node);
        return cli_call_err(PN_OP_NIC_ADD, a, s_timeout(), NULL, err, errlen);
    case TOPO_NIC_DEL:
        pn_map_set_str(a, "node", s->node);
        pn_map_set_str(a, "ifname", s->nic.ifname);
        return cli_call_err(PN_OP_NIC_DEL, a, s_timeout(), NULL, err, errlen);
    }
    pn_val_free(a);
    snprintf(err, errlen, "unknown step");
    return -EINVAL;
}

/* PLUGNET_UP_TIMEOUT (seconds, default 300): how long up waits for its
 * nodes, counted from its start. */
static uint64_t s_up_limit_ms(void)
{
    const char *to = getenv("PLUGNET_UP_TIMEOUT");
    return (to && atoi(to) > 0 ? (uint64_t)atoi(to) : 300) * 1000;
}

/* Wait until every node this up started is ready (its config done and its
 * agent up: cli/boot_wait.h), so that an exec right after up works.
 * Returns 0, or -EINTR / -EIO with err naming the node, why and where its console log
 * is (kept in STATE/failed/<lab>/<node>/ for the rollback deletes the
 * node). */
int lab_wait_nodes(lab_run_t *run, const topo_plan_t *p, uint64_t start, char *err,
                   size_t errlen)
{
    cli_boot_t *bw = run->bw;
    if (!p->n_booted || !bw)
        return 0;
    lab_say(run->quiet, "waiting for %zu node%s\n", p->n_booted, p->n_booted == 1 ? "" : "s");
    uint64_t limit = s_up_limit_ms(), spent = pn_mono_ms() - start;
    int r = cli_boot_wait(bw, spent < limit ? (int)(limit - spent) : 1, false);
    if (r == CLI_OK)
        r = cli_boot_check(bw);
    if (r == CLI_OK)
        return 0;
    if (r == 130) {
        snprintf(err, errlen, "interrupted while waiting for the nodes");
        return -EINTR;
    }
    snprintf(err, errlen, "%s",
             *cli_boot_failure(bw) ? cli_boot_failure(bw) : "a node did not boot");
    return -EIO;
}

/* --------------------------------------------------------------- exec */

/* Run one exec line through the agent: `plugnet exec NODE -e K=V -- sh -c LINE`,
 * its output prefixed with the node's name.  Returns the exit status. */
static int s_exec_line(const topo_node_t *n, const char *line, bool json)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        return -e;
    }
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            close(fd);
        }
        char **argv = calloc(2 * n->n_env + 10, sizeof *argv);
        size_t k = 0;
        argv[k++] = "plugnet";
        argv[k++] = "exec";
        /* up waited for the agent; should it be reconnecting now, wait
         * as long as up waits for nodes. */
        const char *to = getenv("PLUGNET_UP_TIMEOUT");
        argv[k++] = "--wait";
        argv[k++] = (char *)(to && atoi(to) > 0 ? to : "300");
        argv[k++] = (char *)n->name;
        for (size_t i = 0; i < n->n_env; i++) {
            argv[k++] = "-e";
            if (asprintf(&argv[k++], "%s=%s", n->env[i].key, n->env[i].val) < 0)
                _exit(127);
        }
        argv[k++] = "--";
        argv[k++] = "/bin/sh";
        argv[k++] = "-c";
        argv[k++] = (char *)line;
        argv[k] = NULL;
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    char *buf = NULL;
    size_t cap = 0;
    while (f && getline(&buf, &cap, f) > 0)
        if (!json)
            printf("  %s| %s%s", n->name, buf, buf[strlen(buf) - 1] == '\n' ? "" : "\n");
    free(buf);
    if (f)
        fclose(f);
    else
        close(pfd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    fflush(stdout);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Each booted node's exec lines, in order; a failing line stops that node's
 * list and is reported by node and line.  Returns the number of failures. */
int lab_exec_all(const lab_run_t *run, const topo_t *t, const topo_plan_t *p, pn_val_t *report)
{
    int failures = 0;
    for (size_t i = 0; i < p->n_booted; i++) {
        const topo_node_t *n = topo_node_find(t, p->booted[i]);
        for (size_t j = 0; n && j < n->n_exec; j++) {
            lab_say(run->quiet, "  %s$ %s\n", n->name, n->exec[j].text);
            int st = s_exec_line(n, n->exec[j].text, run->json);
            pn_val_t *e = pn_map();
            pn_map_set_str(e, "node", n->name);
            pn_map_set_uint(e, "line", (uint64_t)n->exec[j].line);
            pn_map_set_str(e, "cmd", n->exec[j].text);
            pn_map_set_int(e, "status", st);
            pn_arr_push(report, e);
            if (st != 0) {
                fprintf(stderr, "plugnet: node %s: exec at %s:%d failed with status %d: %s\n",
                        n->name, t->file, n->exec[j].line, st, n->exec[j].text);
                failures++;
                break;
            }
        }
    }
    return failures;
}
