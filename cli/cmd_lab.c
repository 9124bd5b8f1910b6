/* plugnet up / down / inspect: labs described by topology files.
 *
 *   plugnet up FILE        create the lab, or apply the file's changes live
 *   plugnet down FILE      remove what the lab created
 *   plugnet inspect [FILE] the resolved lab (or the labs that are up)
 *
 * The diff and the rollback live in topo_plan.c, the steps' calls in
 * lab_run.c, the record and the live lab in lab_state.c (see lab.h);
 * plugnet graph is in cmd_graph.c.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"

static bool s_json, s_quiet;

static volatile sig_atomic_t s_interrupted;
static void s_on_sigint(int sig)
{
    (void)sig;
    s_interrupted = 1;
}

/* ----------------------------------------------------------- up, down */

/* The options and the FILE of up, down and inspect: 0, 1 when help was
 * printed, or -EINVAL after a usage error (printed). */
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
            printf("\n  -j, --json   machine-readable output\n  -q, --quiet  quiet\n");
            return 1;
        default: return cli_usage(cmd, "unknown option"), -EINVAL;
        }
    }
    s_quiet |= s_json; /* --json prints one object, no progress */
    *file = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc)
        return cli_usage(cmd, "one topology file, please"), -EINVAL;
    if (file_required && !*file)
        return cli_usage(cmd, "which topology file? (plugnet %s FILE.clab.yml)", cmd), -EINVAL;
    return 0;
}

/* What up and down work on. */
typedef struct {
    topo_t *t;
    topo_record_t rec;
    topo_live_t live;
    topo_plan_t *p;
    lab_run_t run; /* how its steps run */
    char err[2048];
} job_t;

static void s_job_clear(job_t *j)
{
    cli_boot_destroy(&j->run.bw);
    topo_plan_destroy(&j->p);
    topo_live_clear(&j->live);
    topo_record_clear(&j->rec);
    topo_destroy(&j->t);
}

/* The lab file named on the command line of VERB, loaded, its record, the
 * live lab, and the plan from there to the file (up) or to nothing (down;
 * without a record, the file's names).  CLI_OK with j->p set; else the
 * exit code (help printed, a usage error, a broken file, the daemons
 * unreachable, a plan refused) with nothing held. */
static int s_job_open(int argc, char **argv, const char *verb, bool down, job_t *j)
{
    const char *file;
    char *err = j->err;
    memset(j, 0, sizeof *j);
    int r = s_lab_args(argc, argv, verb, &file, true);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    if (lab_load(file, &j->t) < 0)
        return CLI_USAGE;
    bool have_rec = lab_record_load(j->t->name, &j->rec, NULL) == 0;
    r = lab_live_fetch(&j->live, j->t, &j->rec, err, sizeof j->err);
    if (r != 0) {
        s_job_clear(j);
        return r < 0 ? lab_unreachable(err) : (fprintf(stderr, "plugnet: %s\n", err), CLI_REFUSED);
    }
    /* up builds on the record even when there is none yet (it is empty);
     * down without a record removes what the file names. */
    if ((down ? topo_plan_down(j->t, &j->live, have_rec ? &j->rec : NULL, &j->p, err,
                               sizeof j->err)
              : topo_plan_up(j->t, &j->live, &j->rec, &j->p, err, sizeof j->err)) < 0) {
        fprintf(stderr, "plugnet: %s\n", err);
        s_job_clear(j);
        return CLI_REFUSED;
    }
    j->run = (lab_run_t){ .quiet = s_quiet, .json = s_json, .down = down, .total = j->p->n };
    lab_say(s_quiet, "lab %s: %zu step%s\n", j->t->name, j->p->n, j->p->n == 1 ? "" : "s");
    return CLI_OK;
}

/* Open the job of VERB and run fn on it. */
static int s_job_run(int argc, char **argv, const char *verb, bool down, int (*fn)(job_t *))
{
    job_t job;
    int rc = s_job_open(argc, argv, verb, down, &job);
    if (job.p)
        rc = fn(&job);
    s_job_clear(&job);
    return rc;
}

static int s_up(job_t *job)
{
    topo_t *t = job->t;
    topo_plan_t *p = job->p;
    char *err = job->err;
    lab_run_t *ctx = &job->run;
    uint64_t t0 = pn_mono_ms();
    int r;
    struct sigaction sa = { .sa_handler = s_on_sigint }, old;
    sigaction(SIGINT, &sa, &old);
    if (p->n_booted) {
        /* Subscribed before the first start, so no boot event is missed. */
        ctx->bw = cli_boot_new(s_quiet                 ? CLI_BOOT_QUIET
                               : isatty(STDOUT_FILENO) ? CLI_BOOT_TTY
                                                       : CLI_BOOT_SUMMARY);
        char keep[4200];
        snprintf(keep, sizeof keep, "%s/failed/%s", pn_state_dir(), t->name);
        cli_boot_keep(ctx->bw, keep);
    }
    int rc = CLI_OK;
    r = topo_plan_apply(p, lab_step, ctx, true, err, sizeof job->err);
    if (r == 0 && lab_wait_nodes(ctx, p, t0, err, sizeof job->err) < 0) {
        /* A node that does not boot fails the whole up: undo it all. */
        r = -1;
        lab_say(s_quiet, "rolling back\n");
        topo_plan_undo(p, p->n, lab_step, ctx, err, sizeof job->err);
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
            if (topo_record_has(&job->rec, false, t->nodes[i].name) ||
                !lab_live_state(&job->live, t->nodes[i].name))
                topo_record_add(&nrec, false, t->nodes[i].name);
        for (size_t i = 0; i < t->n_lans; i++) {
            bool was_live = false;
            for (size_t j = 0; j < job->live.n_lans; j++)
                was_live |= !strcmp(job->live.lans[j], t->lans[i].name);
            if (strcmp(t->lans[i].name, "mgmt") != 0 &&
                (topo_record_has(&job->rec, true, t->lans[i].name) || !was_live))
                topo_record_add(&nrec, true, t->lans[i].name);
        }
        int sr = lab_record_save(t, &nrec);
        if (sr < 0)
            fprintf(stderr, "plugnet: warning: cannot save the lab record: %s\n", strerror(-sr));
        topo_record_clear(&nrec);
        int failures = lab_exec_all(ctx, t, p, report);
        if (failures)
            rc = CLI_REFUSED;
        if (cli_boot_check(ctx->bw) != CLI_OK) {
            /* A node died after it was ready (its exec lines may say why):
             * the lab is not up. */
            snprintf(err, sizeof job->err, "%s", cli_boot_failure(ctx->bw));
            fprintf(stderr, "plugnet: up %s: %s\n", t->name, err);
            r = -1;
            rc = CLI_REFUSED;
        } else {
            char d[32];
            cli_fmt_duration(pn_mono_ms() - t0, d, sizeof d);
            lab_say(s_quiet, "lab %s is up (%zu node%s, %zu LAN%s) in %s%s\n", t->name, t->n_nodes,
                  t->n_nodes == 1 ? "" : "s", t->n_lans, t->n_lans == 1 ? "" : "s", d,
                  failures ? ", with exec failures" : "");
            if (!p->n)
                lab_say(s_quiet, "nothing to change\n");
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
    return rc;
}

static int s_down(job_t *job)
{
    topo_t *t = job->t;
    int rc = CLI_OK;
    if (topo_plan_apply(job->p, lab_step, &job->run, false, job->err, sizeof job->err) != 0) {
        fprintf(stderr, "plugnet: down %s: %s\n", t->name, job->err);
        rc = CLI_REFUSED;
    } else {
        char path[4200];
        lab_record_path(t->name, path, sizeof path);
        unlink(path);
        lab_say(s_quiet, "lab %s is down\n", t->name);
    }
    if (s_json) {
        pn_val_t *o = pn_map();
        pn_map_set_str(o, "lab", t->name);
        pn_map_set_bool(o, "ok", rc == CLI_OK);
        pn_map_set_uint(o, "steps", job->p->n);
        if (rc != CLI_OK)
            pn_map_set_str(o, "error", job->err);
        cli_print_json(o);
        pn_val_free(o);
    }
    return rc;
}

int cmd_up(int argc, char **argv)
{
    return s_job_run(argc, argv, "up", false, s_up);
}

int cmd_down(int argc, char **argv)
{
    return s_job_run(argc, argv, "down", true, s_down);
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
        pn_val_t *x = lab_nic_val(&n->nics[i], true);
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
        if (lab_record_load(line, &rec, &file) < 0)
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
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    if (!file)
        return s_inspect_labs();
    topo_t *t = NULL;
    if (lab_load(file, &t) < 0)
        return CLI_USAGE;
    /* With the daemons up, the live state of each node is shown too. */
    topo_live_t live = { 0 };
    bool have_live = false;
    if (pn_svc_socket_present("vmd") && pn_svc_socket_present("switchd")) {
        char err[512];
        have_live = lab_live_fetch(&live, t, NULL, err, sizeof err) == 0;
    }
    if (s_json) {
        pn_val_t *o = pn_map(), *nodes = pn_arr(), *lans = pn_arr(), *warn = pn_arr();
        pn_map_set_str(o, "name", t->name);
        pn_map_set_str(o, "file", t->file);
        for (size_t i = 0; i < t->n_nodes; i++) {
            const char *st = have_live ? lab_live_state(&live, t->nodes[i].name) : NULL;
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
                const char *st = lab_live_state(&live, n->name);
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
