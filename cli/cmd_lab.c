/* plugnet up / down / inspect / graph: labs described by topology files.
 *
 *   plugnet up FILE        create the lab, or apply the file's changes live
 *   plugnet down FILE      remove what the lab created
 *   plugnet inspect [FILE] the resolved lab (or the labs that are up)
 *   plugnet graph [FILE] [--format dot|svg|png] [-o OUT]
 *
 * A lab's record, STATE/labs/<name>.state, lists the nodes and LANs it
 * created, so `up` can delete what left the file and `down` removes only
 * what is the lab's.  The diff and the rollback live in topo_plan.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boot_wait.h"
#include "cli.h"
#include "topo.h"
#include "topo_plan.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define LAB_CALL_MS 120000   /* node.add builds a disk; node.start may probe KVM */
#define LAB_READ_MS 10000

static bool s_json, s_quiet;

static int s_timeout(void)
{
    return cli_opts.timeout_ms > LAB_CALL_MS ? cli_opts.timeout_ms : LAB_CALL_MS;
}

/* One call: 0, a daemon's error code (> 0) or -errno; err says why. */
static int s_call(const char *svc, const char *op, pn_val_t *args, int timeout_ms, pn_val_t **data,
                  char *err, size_t errlen)
{
    char msg[512] = "";
    pn_val_t *d = NULL;
    if (data)
        *data = NULL;
    int r = pn_call(svc, op, args, timeout_ms, &d, msg, sizeof msg);
    if (r == PN_OK) {
        if (data)
            *data = d;
        else
            pn_val_free(d);
        return 0;
    }
    pn_val_free(d);
    if (r < 0)
        snprintf(err, errlen, "%s", msg);
    else
        snprintf(err, errlen, "%s: %s: %s", svc, pn_err_name(r), msg);
    return r;
}

static void s_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_say(const char *fmt, ...)
{
    if (s_quiet || s_json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static int s_load(const char *path, topo_t **t)
{
    char err[1024];
    int r = topo_load(path, t, err, sizeof err);
    if (r < 0) {
        fprintf(stderr, "plugnet: %s\n", err);
        return r;
    }
    for (size_t i = 0; i < (*t)->n_warnings; i++)
        fprintf(stderr, "plugnet: warning: %s\n", (*t)->warnings[i]);
    return 0;
}

/* ------------------------------------------------------------ records */

static void s_record_path(const char *lab, char *out, size_t len)
{
    snprintf(out, len, "%s/labs/%s.state", pn_state_dir(), lab);
}

static void s_names_from(const pn_val_t *arr, topo_record_t *rec, bool lan)
{
    for (size_t i = 0; arr && arr->type == PN_ARR && i < pn_len(arr); i++) {
        const pn_val_t *v = pn_at(arr, i);
        if (v && v->type == PN_STR && topo_name_valid(v->s.p))
            topo_record_add(rec, lan, v->s.p);
    }
}

static int s_record_load(const char *lab, topo_record_t *rec, char **file)
{
    char path[4200];
    pn_val_t *v = NULL;
    memset(rec, 0, sizeof *rec);
    if (file)
        *file = NULL;
    s_record_path(lab, path, sizeof path);
    if (pn_state_load(path, &v) < 0 || !v || v->type != PN_MAP) {
        pn_val_free(v);
        return -ENOENT;
    }
    s_names_from(pn_get(v, "nodes"), rec, false);
    s_names_from(pn_get(v, "lans"), rec, true);
    if (file && pn_get_str(v, "file", NULL))
        *file = strdup(pn_get_str(v, "file", ""));
    pn_val_free(v);
    return 0;
}

static int s_record_save(const topo_t *t, const topo_record_t *rec)
{
    char path[4200], dir[4200];
    snprintf(dir, sizeof dir, "%s/labs", pn_state_dir());
    int r = pn_mkdirs(dir, 0755);
    if (r < 0)
        return r;
    s_record_path(t->name, path, sizeof path);
    char *abs = realpath(t->file, NULL);
    pn_val_t *v = pn_map(), *nodes = pn_arr(), *lans = pn_arr();
    pn_map_set_str(v, "name", t->name);
    pn_map_set_str(v, "file", abs ? abs : t->file);
    free(abs);
    pn_map_set_uint(v, "updated_ns", pn_now_ns());
    for (size_t i = 0; i < rec->n_nodes; i++)
        pn_arr_push(nodes, pn_str(rec->nodes[i]));
    for (size_t i = 0; i < rec->n_lans; i++)
        pn_arr_push(lans, pn_str(rec->lans[i]));
    pn_map_set(v, "nodes", nodes);
    pn_map_set(v, "lans", lans);
    r = pn_state_save(path, v);
    pn_val_free(v);
    return r;
}

/* --------------------------------------------------------- live state */

static bool s_has_nics(const pn_val_t *m)
{
    const pn_val_t *n = pn_get(m, "nics");
    return n && n->type == PN_ARR;
}

/* A node as vmd reports it (node.ls item or node.show), tolerant of the
 * keys' spelling; NICs other than eth0. */
static int s_node_from_val(const pn_val_t *m, topo_node_t *n, char state[16])
{
    memset(n, 0, sizeof *n);
    const char *name = pn_get_str(m, "name", NULL);
    int kind = topo_kind_parse(pn_get_str(m, "kind", ""));
    if (!name || !topo_name_valid(name) || kind < 0 || kind == TOPO_BRIDGE)
        return -EINVAL;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->kind = (topo_kind_t)kind;
    snprintf(state, 16, "%s", pn_get_str(m, "state", ""));
    const char *img = pn_get_str(m, "image", NULL);
    if (img && *img)
        n->image = strdup(img);
    n->memory_mb = pn_get_uint(m, "mem", pn_get_uint(m, "mem_mb", pn_get_uint(m, "memory_mb", 0)));
    n->cpus = (unsigned)pn_get_uint(m, "cpus", 0);
    const pn_val_t *nics = pn_get(m, "nics");
    size_t cnt = nics && nics->type == PN_ARR ? pn_len(nics) : 0;
    if (cnt)
        n->nics = calloc(cnt, sizeof *n->nics);
    for (size_t i = 0; n->nics && i < cnt; i++) {
        const pn_val_t *x = pn_at(nics, i);
        const char *ifn = pn_get_str(x, "ifname", NULL), *lan = pn_get_str(x, "lan", "");
        if (!ifn || pn_ifname_index(ifn) < 1)
            continue;
        topo_nic_t *nic = &n->nics[n->n_nics++];
        snprintf(nic->ifname, sizeof nic->ifname, "%s", ifn);
        snprintf(nic->lan, sizeof nic->lan, "%s", lan);
        const char *mac = pn_get_str(x, "mac", NULL);
        if (mac)
            topo_mac_valid(mac, nic->mac);
        const char *ip = pn_get_str(x, "ip", pn_get_str(x, "ipv4", NULL));
        const pn_val_t *ips = pn_get(x, "addrs");
        if (!ip && ips && ips->type == PN_ARR && pn_len(ips) && pn_at(ips, 0)->type == PN_STR)
            ip = pn_at(ips, 0)->s.p;
        if (ip && topo_ipv4_valid(ip, true))
            snprintf(nic->ipv4, sizeof nic->ipv4, "%s", ip);
    }
    return 0;
}

static bool s_interesting(const char *name, const topo_t *t, const topo_record_t *rec)
{
    return !t || topo_node_find(t, name) || topo_record_has(rec, false, name);
}

/* The live lab from vmd and switchd.  Nodes outside the file and record
 * are listed too (the plan leaves them alone), without their NICs. */
static int s_live_fetch(topo_live_t *live, const topo_t *t, const topo_record_t *rec, char *err,
                        size_t errlen)
{
    pn_val_t *d = NULL;
    memset(live, 0, sizeof *live);
    /* A lab of LANs only (bridges) needs no vmd. */
    bool need_vmd = !t || t->n_nodes || (rec && rec->n_nodes) || pn_svc_socket_present("vmd");
    int r = need_vmd ? s_call(PN_OP_NODE_LS, NULL, LAB_READ_MS, &d, err, errlen) : 0;
    if (r != 0)
        return r;
    const pn_val_t *nodes = pn_get(d, "nodes");
    for (size_t i = 0; nodes && nodes->type == PN_ARR && i < pn_len(nodes); i++) {
        const pn_val_t *m = pn_at(nodes, i);
        pn_val_t *show = NULL;
        const char *name = pn_get_str(m, "name", "");
        if (!s_has_nics(m) && s_interesting(name, t, rec) && topo_name_valid(name)) {
            pn_val_t *a = pn_map();
            pn_map_set_str(a, "name", name);
            char e2[512];
            if (s_call(PN_OP_NODE_SHOW, a, LAB_READ_MS, &show, e2, sizeof e2) == 0)
                m = show;
        }
        topo_node_t n;
        char state[16];
        if (s_node_from_val(m, &n, state) == 0) {
            topo_live_add_node(live, &n, state);
            topo_node_clear(&n);
        }
        pn_val_free(show);
    }
    pn_val_free(d);
    r = s_call(PN_OP_LAN_LS, NULL, LAB_READ_MS, &d, err, errlen);
    if (r != 0) {
        topo_live_clear(live);
        return r;
    }
    const pn_val_t *lans = pn_get(d, "lans");
    for (size_t i = 0; lans && lans->type == PN_ARR && i < pn_len(lans); i++) {
        const char *name = pn_get_str(pn_at(lans, i), "name", NULL);
        if (name && topo_name_valid(name))
            topo_live_add_lan(live, name);
    }
    pn_val_free(d);
    return 0;
}

static const char *s_live_state(const topo_live_t *l, const char *name)
{
    for (size_t i = 0; l && i < l->n_nodes; i++)
        if (!strcmp(l->nodes[i].name, name))
            return l->states[i];
    return NULL;
}

/* ------------------------------------------------------------ steps */

static pn_val_t *s_nic_val(const topo_nic_t *nic, bool with_ifname)
{
    pn_val_t *v = pn_map();
    if (with_ifname)
        pn_map_set_str(v, "ifname", nic->ifname);
    pn_map_set_str(v, "lan", nic->lan);
    if (nic->mac[0])
        pn_map_set_str(v, "mac", nic->mac);
    if (nic->ipv4[0])
        pn_map_set_str(v, "ip", nic->ipv4);
    return v;
}

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
        pn_arr_push(nics, s_nic_val(&n->nics[i], true));
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

typedef struct {
    bool down;
    size_t done, total;
    cli_boot_t *bw; /* follows the nodes this up starts */
} run_t;

static int s_step(const topo_step_t *s, void *arg, char *err, size_t errlen)
{
    run_t *ctx = arg;
    char desc[160];
    pn_val_t *a = pn_map();
    int r;
    topo_step_describe(s, desc, sizeof desc);
    if (!s_quiet && !s_json) {
        if (!strcmp(s->why, "rollback"))
            printf("  undo: %s\n", desc);
        else
            printf("  [%zu/%zu] %s%s%s%s\n", ++ctx->done, ctx->total, desc,
                   s->why[0] ? " (" : "", s->why, s->why[0] ? ")" : "");
        fflush(stdout);
    }
    switch (s->kind) {
    case TOPO_LAN_ADD:
        pn_map_set_str(a, "name", s->lan);
        if (s->mtu)
            pn_map_set_uint(a, "mtu", s->mtu);
        return s_call(PN_OP_LAN_ADD, a, s_timeout(), NULL, err, errlen);
    case TOPO_LAN_DEL:
        pn_map_set_str(a, "name", s->lan);
        pn_map_set_bool(a, "force", ctx->down);
        return s_call(PN_OP_LAN_DEL, a, s_timeout(), NULL, err, errlen);
    case TOPO_NODE_ADD: {
        pn_val_t *d = NULL;
        pn_val_free(a);
        r = s_call(PN_OP_NODE_ADD, s_node_add_args(s->spec), s_timeout(), &d, err, errlen);
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
        if (ctx->bw && strcmp(s->why, "rollback") != 0) {
            /* Where its console log ends before this boot. */
            pn_val_t *q = pn_map(), *cur = NULL, *d = NULL;
            pn_map_set_str(q, "name", s->node);
            if (s_call(PN_OP_NODE_SHOW, q, LAB_READ_MS, &cur, err, errlen) == 0)
                cli_boot_prepare(ctx->bw, s->node, cur);
            pn_val_free(cur);
            pn_map_set_str(a, "name", s->node);
            r = s_call(PN_OP_NODE_START, a, s_timeout(), &d, err, errlen);
            if (r == 0)
                cli_boot_follow(ctx->bw, s->node, d);
            pn_val_free(d);
            return r;
        }
        /* fall through */
    case TOPO_NODE_STOP:
        pn_map_set_str(a, "name", s->node);
        return s_call("vmd", topo_step_op(s->kind), a, s_timeout(), NULL, err, errlen);
    case TOPO_NODE_DEL:
        pn_map_set_str(a, "name", s->node);
        pn_map_set_bool(a, "force", true);
        r = s_call(PN_OP_NODE_DEL, a, s_timeout(), NULL, err, errlen);
        if (r == PN_EBUSY) {
            /* Running: a lab going away does not wait for graceful shutdowns. */
            a = pn_map();
            pn_map_set_str(a, "name", s->node);
            if (s_call(PN_OP_NODE_KILL, a, s_timeout(), NULL, err, errlen) == 0) {
                a = pn_map();
                pn_map_set_str(a, "name", s->node);
                r = s_call(PN_OP_NODE_DEL, a, s_timeout(), NULL, err, errlen);
            }
        }
        return r;
    case TOPO_NIC_ADD:
        pn_val_free(a);
        a = s_nic_val(&s->nic, true);
        pn_map_set_str(a, "node", s->node);
        return s_call(PN_OP_NIC_ADD, a, s_timeout(), NULL, err, errlen);
    case TOPO_NIC_DEL:
        pn_map_set_str(a, "node", s->node);
        pn_map_set_str(a, "ifname", s->nic.ifname);
        return s_call(PN_OP_NIC_DEL, a, s_timeout(), NULL, err, errlen);
    }
    pn_val_free(a);
    snprintf(err, errlen, "unknown step");
    return -EINVAL;
}

/* ------------------------------------------------------------ booting */

static volatile sig_atomic_t s_interrupted;
static void s_on_sigint(int sig)
{
    (void)sig;
    s_interrupted = 1;
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
 * Returns 0, or -1 with err naming the node, why and where its console log
 * is (kept in STATE/failed/<lab>/<node>/ for the rollback deletes the
 * node). */
static int s_wait_nodes(cli_boot_t *bw, const topo_plan_t *p, uint64_t start, char *err, size_t errlen)
{
    if (!p->n_booted || !bw)
        return 0;
    s_say("waiting for %zu node%s\n", p->n_booted, p->n_booted == 1 ? "" : "s");
    uint64_t limit = s_up_limit_ms(), spent = pn_mono_ms() - start;
    int r = cli_boot_wait(bw, spent < limit ? (int)(limit - spent) : 1, false);
    if (r == CLI_OK)
        r = cli_boot_check(bw);
    if (r == CLI_OK)
        return 0;
    if (r == 130)
        snprintf(err, errlen, "interrupted while waiting for the nodes");
    else
        snprintf(err, errlen, "%s", *cli_boot_failure(bw) ? cli_boot_failure(bw) : "a node did not boot");
    return -1;
}

/* --------------------------------------------------------------- exec */

/* Run one exec line through the agent: `plugnet exec NODE -e K=V -- sh -c LINE`,
 * its output prefixed with the node's name.  Returns the exit status. */
static int s_exec_line(const topo_node_t *n, const char *line)
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
        if (!s_json)
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
static int s_exec_all(const topo_t *t, const topo_plan_t *p, pn_val_t *report)
{
    int failures = 0;
    for (size_t i = 0; i < p->n_booted; i++) {
        const topo_node_t *n = topo_node_find(t, p->booted[i]);
        for (size_t j = 0; n && j < n->n_exec; j++) {
            s_say("  %s$ %s\n", n->name, n->exec[j].text);
            int st = s_exec_line(n, n->exec[j].text);
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

/* ----------------------------------------------------------- up, down */

static int s_lab_args(int argc, char **argv, const char *cmd, const char **file, bool file_required)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 0; /* 0: a full re-initialisation of GNU getopt (main.c used it) */
    s_json = cli_opts.json;
    s_quiet = cli_opts.quiet;
    while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': s_json = true; break;
        case 'q': s_quiet = true; break;
        case 'h':
            printf("usage: plugnet %s [--json] [-q]%s\n\n%s", cmd, file_required ? " FILE" : " [FILE]",
                   !strcmp(cmd, "up")
                       ? "Create the lab a containerlab-shaped topology FILE (.clab.yml) describes, or\n"
                         "apply its changes to the running lab: new nodes and links are added, removed\n"
                         "ones deleted, changed NICs re-plugged live; untouched nodes keep running.\n"
                         "Each node's exec: lines run through its agent once it is up, in order.\n"
                         "A step that fails rolls back what this up did, and the error names it.\n"
                   : !strcmp(cmd, "down")
                       ? "Delete the nodes and LANs the lab of FILE created (its record in\n"
                         "STATE/labs/), or, without a record, those FILE names.\n"
                       : "Show the lab FILE describes, resolved: nodes with kind, image, memory,\n"
                         "CPUs and NICs, and LANs with their members; with the daemons up, each\n"
                         "node's state.  Without FILE: the labs that are up.\n");
            printf("\n  --json     machine-readable output\n  -q         quiet\n");
            return -1;
        default: return cli_usage(cmd, "unknown option"), -2;
        }
    }
    *file = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc)
        return cli_usage(cmd, "one topology file, please"), -2;
    if (file_required && !*file)
        return cli_usage(cmd, "which topology file? (plugnet %s FILE.clab.yml)", cmd), -2;
    return 0;
}

static int s_unreachable(const char *err)
{
    fprintf(stderr, "plugnet: %s\nplugnet: start the daemons first: plugnet daemons start\n", err);
    return CLI_UNREACHABLE;
}

/* The lab file named on the command line of VERB, loaded: NULL with *rc
 * set (help printed, a usage error, or a broken file) otherwise. */
static topo_t *s_open_lab(int argc, char **argv, const char *verb, int *rc)
{
    const char *file;
    int r = s_lab_args(argc, argv, verb, &file, true);
    if (r < 0) {
        *rc = r == -1 ? CLI_OK : CLI_USAGE;
        return NULL;
    }
    topo_t *t = NULL;
    if (s_load(file, &t) < 0) {
        *rc = CLI_USAGE;
        return NULL;
    }
    return t;
}

int cmd_up(int argc, char **argv)
{
    int r;
    topo_t *t = s_open_lab(argc, argv, "up", &r);
    if (!t)
        return r;
    topo_record_t rec;
    s_record_load(t->name, &rec, NULL);
    topo_live_t live;
    char err[2048];
    r = s_live_fetch(&live, t, &rec, err, sizeof err);
    if (r != 0) {
        topo_record_clear(&rec);
        topo_destroy(&t);
        return r < 0 ? s_unreachable(err) : (fprintf(stderr, "plugnet: %s\n", err), CLI_REFUSED);
    }
    topo_plan_t *p = NULL;
    if (topo_plan_up(t, &live, &rec, &p, err, sizeof err) < 0) {
        fprintf(stderr, "plugnet: %s\n", err);
        topo_live_clear(&live);
        topo_record_clear(&rec);
        topo_destroy(&t);
        return CLI_REFUSED;
    }
    uint64_t t0 = pn_mono_ms();
    s_say("lab %s: %zu step%s\n", t->name, p->n, p->n == 1 ? "" : "s");
    struct sigaction sa = { .sa_handler = s_on_sigint }, old;
    sigaction(SIGINT, &sa, &old);
    run_t ctx = { .total = p->n };
    if (p->n_booted) {
        /* Subscribed before the first start, so no boot event is missed. */
        ctx.bw = cli_boot_new(s_quiet || s_json ? CLI_BOOT_QUIET
                              : isatty(STDOUT_FILENO) ? CLI_BOOT_TTY : CLI_BOOT_SUMMARY);
        char keep[4200];
        snprintf(keep, sizeof keep, "%s/failed/%s", pn_state_dir(), t->name);
        cli_boot_keep(ctx.bw, keep);
    }
    int rc = CLI_OK;
    r = topo_plan_apply(p, s_step, &ctx, true, err, sizeof err);
    if (r == 0 && s_wait_nodes(ctx.bw, p, t0, err, sizeof err) < 0) {
        /* A node that does not boot fails the whole up: undo it all. */
        r = -1;
        s_say("rolling back\n");
        topo_plan_undo(p, p->n, s_step, &ctx, err, sizeof err);
    }
    sigaction(SIGINT, &old, NULL);
    pn_val_t *report = pn_arr();
    if (r != 0) {
        fprintf(stderr, "plugnet: up %s: %s\n", t->name, err);
        rc = CLI_REFUSED;
    } else {
        /* The record: what the lab owned and still wants, plus what it made. */
        topo_record_t nrec = { 0 };
        for (size_t i = 0; i < t->n_nodes; i++)
            if (topo_record_has(&rec, false, t->nodes[i].name) ||
                !s_live_state(&live, t->nodes[i].name))
                topo_record_add(&nrec, false, t->nodes[i].name);
        for (size_t i = 0; i < t->n_lans; i++) {
            bool was_live = false;
            for (size_t j = 0; j < live.n_lans; j++)
                was_live |= !strcmp(live.lans[j], t->lans[i].name);
            if (strcmp(t->lans[i].name, "mgmt") != 0 &&
                (topo_record_has(&rec, true, t->lans[i].name) || !was_live))
                topo_record_add(&nrec, true, t->lans[i].name);
        }
        int sr = s_record_save(t, &nrec);
        if (sr < 0)
            fprintf(stderr, "plugnet: warning: cannot save the lab record: %s\n", strerror(-sr));
        topo_record_clear(&nrec);
        int failures = s_exec_all(t, p, report);
        if (failures)
            rc = CLI_REFUSED;
        if (cli_boot_check(ctx.bw) != CLI_OK) {
            /* A node died after it was ready (its exec lines may say why):
             * the lab is not up. */
            snprintf(err, sizeof err, "%s", cli_boot_failure(ctx.bw));
            fprintf(stderr, "plugnet: up %s: %s\n", t->name, err);
            r = -1;
            rc = CLI_REFUSED;
        } else {
            char d[32];
            cli_fmt_duration(pn_mono_ms() - t0, d, sizeof d);
            s_say("lab %s is up (%zu node%s, %zu LAN%s) in %s%s\n", t->name, t->n_nodes,
                  t->n_nodes == 1 ? "" : "s", t->n_lans, t->n_lans == 1 ? "" : "s", d,
                  failures ? ", with exec failures" : "");
            if (!p->n)
                s_say("nothing to change\n");
        }
    }
    if (s_json) {
        pn_val_t *o = pn_map(), *steps = pn_arr();
        for (size_t i = 0; i < p->n; i++) {
            char desc[160];
            pn_val_t *s = pn_map();
            topo_step_describe(&p->steps[i], desc, sizeof desc);
            pn_map_set_str(s, "op", topo_step_op(p->steps[i].kind));
            pn_map_set_str(s, "step", desc);
            pn_map_set_str(s, "why", p->steps[i].why);
            pn_arr_push(steps, s);
        }
        pn_map_set_str(o, "lab", t->name);
        pn_map_set_bool(o, "ok", rc == CLI_OK);
        pn_map_set(o, "steps", steps);
        pn_map_set(o, "exec", report);
        report = NULL;
        if (rc != CLI_OK && r != 0)
            pn_map_set_str(o, "error", err);
        pn_map_set_uint(o, "ms", pn_mono_ms() - t0);
        cli_print_json(o);
        pn_val_free(o);
    }
    pn_val_free(report);
    cli_boot_destroy(&ctx.bw);
    topo_plan_destroy(&p);
    topo_live_clear(&live);
    topo_record_clear(&rec);
    topo_destroy(&t);
    return rc;
}

int cmd_down(int argc, char **argv)
{
    int r;
    topo_t *t = s_open_lab(argc, argv, "down", &r);
    if (!t)
        return r;
    topo_record_t rec;
    bool have_rec = s_record_load(t->name, &rec, NULL) == 0;
    topo_live_t live;
    char err[2048];
    r = s_live_fetch(&live, t, &rec, err, sizeof err);
    if (r != 0) {
        topo_record_clear(&rec);
        topo_destroy(&t);
        return r < 0 ? s_unreachable(err) : (fprintf(stderr, "plugnet: %s\n", err), CLI_REFUSED);
    }
    topo_plan_t *p = NULL;
    int rc = CLI_OK;
    if (topo_plan_down(t, &live, have_rec ? &rec : NULL, &p, err, sizeof err) < 0) {
        fprintf(stderr, "plugnet: %s\n", err);
        rc = CLI_REFUSED;
    } else {
        run_t ctx = { .down = true, .total = p->n };
        s_say("lab %s: %zu step%s\n", t->name, p->n, p->n == 1 ? "" : "s");
        if (topo_plan_apply(p, s_step, &ctx, false, err, sizeof err) != 0) {
            fprintf(stderr, "plugnet: down %s: %s\n", t->name, err);
            rc = CLI_REFUSED;
        } else {
            char path[4200];
            s_record_path(t->name, path, sizeof path);
            unlink(path);
            s_say("lab %s is down\n", t->name);
        }
        if (s_json) {
            pn_val_t *o = pn_map();
            pn_map_set_str(o, "lab", t->name);
            pn_map_set_bool(o, "ok", rc == CLI_OK);
            pn_map_set_uint(o, "steps", p->n);
            if (rc != CLI_OK)
                pn_map_set_str(o, "error", err);
            cli_print_json(o);
            pn_val_free(o);
        }
    }
    topo_plan_destroy(&p);
    topo_live_clear(&live);
    topo_record_clear(&rec);
    topo_destroy(&t);
    return rc;
}

/* ------------------------------------------------------------ inspect */

static pn_val_t *s_node_json(const topo_node_t *n, const char *state)
{
    pn_val_t *o = pn_map(), *nics = pn_arr(), *exec = pn_arr(), *env = pn_map();
    pn_map_set_str(o, "name", n->name);
    pn_map_set_str(o, "kind", topo_kind_name(n->kind));
    if (n->image)
        pn_map_set_str(o, "image", n->image);
    if (n->memory_mb)
        pn_map_set_uint(o, "memory_mb", n->memory_mb);
    if (n->cpus)
        pn_map_set_uint(o, "cpus", n->cpus);
    if (n->mgmt_ipv4[0])
        pn_map_set_str(o, "mgmt_ipv4", n->mgmt_ipv4);
    if (n->cmd)
        pn_map_set_str(o, "cmd", n->cmd);
    if (state)
        pn_map_set_str(o, "state", state);
    for (size_t i = 0; i < n->n_nics; i++) {
        pn_val_t *x = s_nic_val(&n->nics[i], true);
        pn_arr_push(nics, x);
    }
    for (size_t i = 0; i < n->n_exec; i++) {
        pn_val_t *x = pn_map();
        pn_map_set_str(x, "cmd", n->exec[i].text);
        pn_map_set_uint(x, "line", (uint64_t)n->exec[i].line);
        pn_arr_push(exec, x);
    }
    for (size_t i = 0; i < n->n_env; i++)
        pn_map_set_str(env, n->env[i].key, n->env[i].val);
    pn_map_set(o, "nics", nics);
    pn_map_set(o, "exec", exec);
    pn_map_set(o, "env", env);
    return o;
}

/* "h1:eth1 r1:eth2" for a LAN */
static void s_lan_members(const topo_t *t, const char *lan, char *out, size_t len)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t j = 0; j < t->nodes[i].n_nics; j++)
            if (!strcmp(t->nodes[i].nics[j].lan, lan) && o < len)
                o += (size_t)snprintf(out + o, len - o, "%s%s:%s", o ? " " : "", t->nodes[i].name,
                                      t->nodes[i].nics[j].ifname);
}

static int s_inspect_labs(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/labs", pn_state_dir());
    pn_val_t *arr = pn_arr();
    cli_table_t *tb = cli_table_new("LAB", "NODES", "LANS", "FILE", NULL);
    DIR *dh = opendir(dir);
    struct dirent *de;
    char line[512];
    while (dh && (de = readdir(dh))) {
        snprintf(line, sizeof line, "%s", de->d_name);
        size_t l = strlen(line);
        if (l < 7 || strcmp(line + l - 6, ".state") != 0)
            continue;
        line[l - 6] = 0;
        topo_record_t rec;
        char *file = NULL;
        if (s_record_load(line, &rec, &file) < 0)
            continue;
        char nn[16], nl[16];
        snprintf(nn, sizeof nn, "%zu", rec.n_nodes);
        snprintf(nl, sizeof nl, "%zu", rec.n_lans);
        cli_table_add(tb, line, nn, nl, file ? file : "-", NULL);
        pn_val_t *o = pn_map(), *nodes = pn_arr(), *lans = pn_arr();
        pn_map_set_str(o, "name", line);
        pn_map_set_str(o, "file", file ? file : "");
        for (size_t i = 0; i < rec.n_nodes; i++)
            pn_arr_push(nodes, pn_str(rec.nodes[i]));
        for (size_t i = 0; i < rec.n_lans; i++)
            pn_arr_push(lans, pn_str(rec.lans[i]));
        pn_map_set(o, "nodes", nodes);
        pn_map_set(o, "lans", lans);
        pn_arr_push(arr, o);
        free(file);
        topo_record_clear(&rec);
    }
    if (dh)
        closedir(dh);
    if (s_json) {
        pn_val_t *o = pn_map();
        pn_map_set(o, "labs", arr);
        cli_print_json(o);
        pn_val_free(o);
    } else {
        cli_table_print(tb, stdout);
        pn_val_free(arr);
    }
    cli_table_destroy(&tb);
    return CLI_OK;
}

int cmd_inspect(int argc, char **argv)
{
    const char *file;
    int r = s_lab_args(argc, argv, "inspect", &file, false);
    if (r < 0)
        return r == -1 ? CLI_OK : CLI_USAGE;
    if (!file)
        return s_inspect_labs();
    topo_t *t = NULL;
    if (s_load(file, &t) < 0)
        return CLI_USAGE;
    /* With the daemons up, the live state of each node is shown too. */
    topo_live_t live = { 0 };
    bool have_live = false;
    if (pn_svc_socket_present("vmd") && pn_svc_socket_present("switchd")) {
        char err[512];
        have_live = s_live_fetch(&live, t, NULL, err, sizeof err) == 0;
    }
    if (s_json) {
        pn_val_t *o = pn_map(), *nodes = pn_arr(), *lans = pn_arr(), *warn = pn_arr();
        pn_map_set_str(o, "name", t->name);
        pn_map_set_str(o, "file", t->file);
        for (size_t i = 0; i < t->n_nodes; i++) {
            const char *st = have_live ? s_live_state(&live, t->nodes[i].name) : NULL;
            pn_arr_push(nodes, s_node_json(&t->nodes[i], have_live ? (st ? st : "absent") : NULL));
        }
        for (size_t i = 0; i < t->n_lans; i++) {
            const topo_lan_t *l = &t->lans[i];
            pn_val_t *x = pn_map(), *mem = pn_arr();
            pn_map_set_str(x, "name", l->name);
            pn_map_set_str(x, "kind", l->bridge ? "bridge" : "link");
            if (l->mtu)
                pn_map_set_uint(x, "mtu", l->mtu);
            if (l->bridges)
                pn_map_set_str(x, "bridges", l->bridges);
            for (size_t a = 0; a < t->n_nodes; a++)
                for (size_t b = 0; b < t->nodes[a].n_nics; b++)
                    if (!strcmp(t->nodes[a].nics[b].lan, l->name)) {
                        pn_val_t *m = pn_map();
                        pn_map_set_str(m, "node", t->nodes[a].name);
                        pn_map_set_str(m, "ifname", t->nodes[a].nics[b].ifname);
                        pn_arr_push(mem, m);
                    }
            pn_map_set(x, "members", mem);
            if (have_live) {
                bool up = false;
                for (size_t j = 0; j < live.n_lans; j++)
                    up |= !strcmp(live.lans[j], l->name);
                pn_map_set_str(x, "state", up ? "up" : "absent");
            }
            pn_arr_push(lans, x);
        }
        for (size_t i = 0; i < t->n_warnings; i++)
            pn_arr_push(warn, pn_str(t->warnings[i]));
        pn_map_set(o, "nodes", nodes);
        pn_map_set(o, "lans", lans);
        pn_map_set(o, "warnings", warn);
        cli_print_json(o);
        pn_val_free(o);
    } else {
        printf("lab %s (%s): %zu node%s, %zu LAN%s\n\n", t->name, t->file, t->n_nodes,
               t->n_nodes == 1 ? "" : "s", t->n_lans, t->n_lans == 1 ? "" : "s");
        cli_table_t *tb = have_live ? cli_table_new("NODE", "KIND", "STATE", "IMAGE", "MEMORY",
                                                    "CPUS", "NICS", NULL)
                                    : cli_table_new("NODE", "KIND", "IMAGE", "MEMORY", "CPUS",
                                                    "NICS", NULL);
        for (size_t i = 0; i < t->n_nodes; i++) {
            const topo_node_t *n = &t->nodes[i];
            char mem[32] = "-", cpus[16] = "-", nics[1024] = "";
            size_t o = 0;
            if (n->memory_mb)
                snprintf(mem, sizeof mem, "%lluM", (unsigned long long)n->memory_mb);
            if (n->cpus)
                snprintf(cpus, sizeof cpus, "%u", n->cpus);
            for (size_t j = 0; j < n->n_nics && o < sizeof nics; j++)
                o += (size_t)snprintf(nics + o, sizeof nics - o, "%s%s:%s%s%s", o ? " " : "",
                                      n->nics[j].ifname, n->nics[j].lan,
                                      n->nics[j].ipv4[0] ? "=" : "", n->nics[j].ipv4);
            const char *img = n->kind == TOPO_NS ? "-" : n->image ? n->image : "default";
            if (have_live) {
                const char *st = s_live_state(&live, n->name);
                cli_table_add(tb, n->name, topo_kind_name(n->kind), st ? st : "absent", img, mem,
                              cpus, o ? nics : "-", NULL);
            } else {
                cli_table_add(tb, n->name, topo_kind_name(n->kind), img, mem, cpus, o ? nics : "-",
                              NULL);
            }
        }
        cli_table_print(tb, stdout);
        cli_table_destroy(&tb);
        printf("\n");
        tb = cli_table_new("LAN", "KIND", "MEMBERS", NULL);
        for (size_t i = 0; i < t->n_lans; i++) {
            char mem[1024], kind[64];
            s_lan_members(t, t->lans[i].name, mem, sizeof mem);
            snprintf(kind, sizeof kind, "%s%s%s", t->lans[i].bridge ? "bridge" : "link",
                     t->lans[i].bridges ? " " : "", t->lans[i].bridges ? t->lans[i].bridges : "");
            cli_table_add(tb, t->lans[i].name, kind, mem[0] ? mem : "-", NULL);
        }
        cli_table_print(tb, stdout);
        cli_table_destroy(&tb);
    }
    topo_live_clear(&live);
    topo_destroy(&t);
    return CLI_OK;
}

/* -------------------------------------------------------------- graph */

static const char *s_state_colour(const char *st)
{
    if (!st)
        return "white";
    if (!strcmp(st, "running"))
        return "palegreen";
    if (!strcmp(st, "starting") || !strcmp(st, "stopping"))
        return "khaki";
    if (!strcmp(st, "crashed"))
        return "salmon";
    if (!strcmp(st, "absent"))
        return "white";
    return "lightgrey";
}

/* The DOT text of a lab: nodes as boxes coloured by state, two-port LANs
 * as edges labelled with both interfaces, other LANs as ellipses. */
static void s_dot(FILE *f, const char *title, const topo_node_t *nodes, size_t n_nodes,
                  const char *(*state_of)(const void *, size_t), const void *arg, const topo_t *t)
{
    fprintf(f, "graph \"%s\" {\n", title);
    fprintf(f, "  graph [label=\"%s\", labelloc=t, fontname=\"Helvetica\", overlap=false];\n", title);
    fprintf(f, "  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", "
               "fontsize=9];\n");
    for (size_t i = 0; i < n_nodes; i++) {
        const char *st = state_of(arg, i);
        fprintf(f, "  \"n:%s\" [label=\"%s\\n%s%s%s\", shape=box, style=\"rounded,filled%s\", "
                   "fillcolor=%s];\n",
                nodes[i].name, nodes[i].name, topo_kind_name(nodes[i].kind), st ? " · " : "",
                st ? st : "", st && !strcmp(st, "absent") ? ",dashed" : "", s_state_colour(st));
    }
    /* LANs: collect the members of each. */
    for (size_t i = 0; i < n_nodes; i++) {
        for (size_t j = 0; j < nodes[i].n_nics; j++) {
            const topo_nic_t *x = &nodes[i].nics[j];
            /* Draw each LAN once, from its first member. */
            bool seen = false;
            for (size_t a = 0; a <= i && !seen; a++)
                for (size_t b = 0; b < nodes[a].n_nics && !seen; b++) {
                    if (a == i && b >= j)
                        break;
                    seen = !strcmp(nodes[a].nics[b].lan, x->lan);
                }
            if (seen)
                continue;
            size_t members = 0;
            const topo_node_t *other = NULL;
            const topo_nic_t *onic = NULL;
            for (size_t a = 0; a < n_nodes; a++)
                for (size_t b = 0; b < nodes[a].n_nics; b++)
                    if (!strcmp(nodes[a].nics[b].lan, x->lan)) {
                        members++;
                        if (&nodes[a].nics[b] != x) {
                            other = &nodes[a];
                            onic = &nodes[a].nics[b];
                        }
                    }
            const topo_lan_t *tl = t ? topo_lan_find(t, x->lan) : NULL;
            if (members == 2 && other && !(tl && tl->bridge)) {
                fprintf(f, "  \"n:%s\" -- \"n:%s\" [label=\"%s\", taillabel=\"%s%s%s\", "
                           "headlabel=\"%s%s%s\"];\n",
                        nodes[i].name, other->name, x->lan, x->ifname, x->ipv4[0] ? "\\n" : "",
                        x->ipv4, onic->ifname, onic->ipv4[0] ? "\\n" : "", onic->ipv4);
                continue;
            }
            fprintf(f, "  \"l:%s\" [label=\"%s\", shape=ellipse, style=filled, "
                       "fillcolor=lightblue];\n",
                    x->lan, x->lan);
            for (size_t a = 0; a < n_nodes; a++)
                for (size_t b = 0; b < nodes[a].n_nics; b++)
                    if (!strcmp(nodes[a].nics[b].lan, x->lan))
                        fprintf(f, "  \"n:%s\" -- \"l:%s\" [label=\"%s%s%s\"];\n", nodes[a].name,
                                x->lan, nodes[a].nics[b].ifname, nodes[a].nics[b].ipv4[0] ? "\\n" : "",
                                nodes[a].nics[b].ipv4);
        }
    }
    fprintf(f, "}\n");
}

typedef struct {
    const topo_t *t;
    const topo_live_t *live;
    bool have_live;
} graph_arg_t;

static const char *s_graph_file_state(const void *arg, size_t i)
{
    const graph_arg_t *g = arg;
    if (!g->have_live)
        return NULL;
    const char *st = s_live_state(g->live, g->t->nodes[i].name);
    return st ? st : "absent";
}

static const char *s_graph_live_state(const void *arg, size_t i)
{
    const graph_arg_t *g = arg;
    return g->live->states[i];
}

int cmd_graph(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *format = "dot", *out = NULL;
    int c;
    optind = 0; /* 0: a full re-initialisation of GNU getopt (main.c used it) */
    while ((c = getopt_long(argc, argv, "f:o:hT:", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
        case 'T': format = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: plugnet graph [FILE] [--format dot|svg|png] [-o OUT]\n\n"
                   "Draw the live lab with Graphviz: nodes coloured by state (green running,\n"
                   "yellow starting, red crashed, grey stopped, white absent), LANs as\n"
                   "ellipses, point-to-point links as edges labelled with interfaces.\n"
                   "With FILE, that lab (drawn from the file when the daemons are down).\n\n"
                   "  -f, --format F   dot (default), svg or png (through dot)\n"
                   "  -o, --output F   write to F instead of stdout\n");
            return CLI_OK;
        default: return cli_usage("graph", "unknown option");
        }
    }
    if (strcmp(format, "dot") && strcmp(format, "svg") && strcmp(format, "png"))
        return cli_usage("graph", "format '%s' is not dot, svg or png", format);
    if (strcmp(format, "dot") && !out && isatty(STDOUT_FILENO))
        return cli_usage("graph", "%s to a terminal? use -o FILE", format);
    const char *file = optind < argc ? argv[optind] : NULL;
    topo_t *t = NULL;
    if (file && s_load(file, &t) < 0)
        return CLI_USAGE;
    topo_live_t live = { 0 };
    char err[1024];
    bool have_live = false;
    if (pn_svc_socket_present("vmd") && pn_svc_socket_present("switchd"))
        have_live = s_live_fetch(&live, t, NULL, err, sizeof err) == 0;
    if (!t && !have_live) {
        topo_destroy(&t);
        return s_unreachable("no topology file given and the daemons are not running");
    }
    /* Without a file, every live node; its NICs come from node.show. */
    if (!t) {
        for (size_t i = 0; i < live.n_nodes; i++) {
            if (live.nodes[i].n_nics)
                continue;
            pn_val_t *a = pn_map(), *d = NULL;
            pn_map_set_str(a, "name", live.nodes[i].name);
            char e[256], st[16];
            topo_node_t n;
            if (s_call(PN_OP_NODE_SHOW, a, LAB_READ_MS, &d, e, sizeof e) == 0 &&
                s_node_from_val(d, &n, st) == 0) {
                topo_node_clear(&live.nodes[i]);
                live.nodes[i] = n;
            }
            pn_val_free(d);
        }
    }
    FILE *f = stdout;
    char cmd[4300];
    if (strcmp(format, "dot") != 0) {
        if (system("command -v dot >/dev/null 2>&1") != 0) {
            fprintf(stderr, "plugnet: Graphviz's dot is not installed (apt-get install graphviz)\n");
            topo_live_clear(&live);
            topo_destroy(&t);
            return CLI_REFUSED;
        }
        snprintf(cmd, sizeof cmd, "dot -T%s%s%s%s", format, out ? " -o '" : "", out ? out : "",
                 out ? "'" : "");
        f = popen(cmd, "w");
    } else if (out) {
        f = fopen(out, "w");
    }
    if (!f) {
        fprintf(stderr, "plugnet: cannot write %s: %s\n", out ? out : "the graph", strerror(errno));
        topo_live_clear(&live);
        topo_destroy(&t);
        return CLI_REFUSED;
    }
    graph_arg_t g = { t, &live, have_live };
    if (t)
        s_dot(f, t->name, t->nodes, t->n_nodes, s_graph_file_state, &g, t);
    else
        s_dot(f, "plugnet", live.nodes, live.n_nodes, s_graph_live_state, &g, NULL);
    int rc = CLI_OK;
    if (strcmp(format, "dot") != 0) {
        if (pclose(f) != 0) {
            fprintf(stderr, "plugnet: dot failed to draw the graph\n");
            rc = CLI_REFUSED;
        }
    } else if (out) {
        if (fclose(f) != 0)
            rc = CLI_REFUSED;
    } else {
        fflush(stdout);
    }
    topo_live_clear(&live);
    topo_destroy(&t);
    return rc;
}
