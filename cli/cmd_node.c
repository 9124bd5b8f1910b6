/* plugnet node | nic | console: the node lifecycle commands (vmd). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "boot_wait.h"
#include "cli.h"

/* Booting may take a while (the first qemu node probes the accelerator). */
#define NODE_SLOW_MS 120000

static int s_slow(void) { return cli_opts.timeout_ms > NODE_SLOW_MS ? cli_opts.timeout_ms : NODE_SLOW_MS; }

/* Boot waiting: --wait [S] waits until every started node is ready (its
 * config applied and its agent up: cli/boot_wait.h) whatever the output; on
 * a terminal (and without --json) the progress is shown anyway, and a
 * timeout is then no error. */
#define NODE_WAIT_DEFAULT_S 180

typedef struct {
    bool wait;      /* --wait given */
    int wait_ms;
} boot_opt_t;

/* Seconds for --wait: a positive number up to a day, or -1. */
static double s_wait_secs(const char *v)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (errno || end == v || *end || s <= 0 || s > 86400)
        return -1;
    return s;
}

/* --wait [S] or --wait=S at argv[*i]: true when it is one of them (bad set
 * when S is bad).  A bare --wait takes the next word when it is a number:
 * node names start with a letter, so that is never a name. */
static bool s_wait_opt(int argc, char **argv, int *i, boot_opt_t *o, bool *bad)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--wait") == 0) {
        o->wait = true;
        double s;
        if (*i + 1 < argc && (s = s_wait_secs(argv[*i + 1])) > 0) {
            o->wait_ms = (int)(s * 1000);
            ++*i;
        }
        return true;
    }
    if (strncmp(arg, "--wait=", 7) == 0) {
        double s = s_wait_secs(arg + 7);
        if (s < 0)
            *bad = true;
        o->wait = true;
        o->wait_ms = (int)(s * 1000);
        return true;
    }
    return false;
}

/* Follow the boot: with --wait, or on a terminal for a human. */
static bool s_follow_boot(const boot_opt_t *o) { return o->wait || (!cli_opts.json && !cli_opts.quiet && isatty(1)); }

/* What the waiter prints: the live progress on a terminal, one summary
 * line for --wait otherwise, nothing with --json or -q. */
static cli_boot_out_t s_boot_out(const boot_opt_t *o)
{
    if (cli_opts.json || cli_opts.quiet)
        return CLI_BOOT_QUIET;
    if (isatty(1))
        return CLI_BOOT_TTY;
    return o->wait ? CLI_BOOT_SUMMARY : CLI_BOOT_QUIET;
}

static void s_node_human(pn_val_t *n)
{
    printf("%s: %s %s node #%llu\n", pn_get_str(n, "name", "?"), pn_get_str(n, "state", "?"),
           pn_get_str(n, "kind", "?"), (unsigned long long)pn_get_uint(n, "number", 0));
    static const char *const keys[] = { "image", "mgmt_ip", "accel", "accel_reason", "dir", "console_log",
                                        "console_sock", "control_sock", "agent_sock", "netns", "cfgdisk", NULL };
    for (int i = 0; keys[i]; i++)
        if (pn_get_str(n, keys[i], NULL))
            printf("  %-13s %s\n", keys[i], pn_get_str(n, keys[i], ""));
    if (pn_get(n, "mem"))
        printf("  %-13s %llu MiB, %llu cpu%s\n", "memory", (unsigned long long)pn_get_uint(n, "mem", 0),
               (unsigned long long)pn_get_uint(n, "cpus", 1), cli_s(pn_get_uint(n, "cpus", 1)));
    if (pn_get(n, "pid"))
        printf("  %-13s %llu%s\n", "pid", (unsigned long long)pn_get_uint(n, "pid", 0),
               pn_get_bool(n, "adopted", false) ? " (adopted)" : "");
    if (pn_get(n, "exit_status"))
        printf("  %-13s %lld\n", "exit_status", (long long)pn_get_int(n, "exit_status", 0));
    pn_val_t *nics = pn_get(n, "nics");
    for (size_t i = 0; i < pn_len(nics); i++) {
        pn_val_t *c = pn_at(nics, i);
        printf("  %-5s lan %-15s mac %s%s%s\n", pn_get_str(c, "ifname", "?"), pn_get_str(c, "lan", "?"),
               pn_get_str(c, "mac", "?"), pn_get_str(c, "ip", NULL) ? " ip " : "", pn_get_str(c, "ip", ""));
    }
    pn_val_t *tail = pn_get(n, "console_tail");
    if (pn_len(tail)) {
        printf("  last console lines:\n");
        for (size_t i = 0; i < pn_len(tail); i++)
            printf("    | %s\n", pn_at(tail, i)->type == PN_STR ? pn_at(tail, i)->s.p : "");
    }
}

static int s_show(pn_val_t *d, void (*human)(pn_val_t *))
{
    if (cli_opts.json)
        cli_print_json(d);
    else if (human)
        human(d);
    pn_val_free(d);
    return CLI_OK;
}

static void s_ls_human(pn_val_t *d)
{
    cli_table_t *t = cli_table_new("NAME", "KIND", "NUM", "STATE", "MGMT", "NICS", NULL);
    pn_val_t *arr = pn_get(d, "nodes");
    for (size_t i = 0; i < pn_len(arr); i++) {
        pn_val_t *n = pn_at(arr, i);
        char num[16], nics[16];
        snprintf(num, sizeof(num), "%llu", (unsigned long long)pn_get_uint(n, "number", 0));
        snprintf(nics, sizeof(nics), "%zu", pn_len(pn_get(n, "nics")));
        cli_table_add(t, pn_get_str(n, "name", "?"), pn_get_str(n, "kind", "?"), num, pn_get_str(n, "state", "?"),
                      pn_get_str(n, "mgmt_ip", "-"), nics, NULL);
    }
    cli_table_print(t, stdout);
    cli_table_destroy(&t);
}

/* --nic LAN[,ip=A/P][,mac=M][,ifname=ethN] */
static pn_val_t *s_nic_spec(const char *spec)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", spec);
    pn_val_t *m = pn_map();
    char *save = NULL;
    int i = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
        if (i == 0 && !strchr(tok, '=')) {
            pn_map_set_str(m, "lan", tok);
            continue;
        }
        char *eq = strchr(tok, '=');
        if (!eq) {
            pn_val_free(m);
            return NULL;
        }
        *eq = 0;
        if (!strcmp(tok, "ip") || !strcmp(tok, "mac") || !strcmp(tok, "ifname") || !strcmp(tok, "lan"))
            pn_map_set_str(m, tok, eq + 1);
        else {
            pn_val_free(m);
            return NULL;
        }
    }
    return m;
}

static int s_read_file(const char *path, char **out)
{
    size_t len;
    int r = pn_file_read(path, 65536, out, &len);
    return r;
}

static int s_node_add(int argc, char **argv)
{
    if (argc < 3)
        return cli_usage("node", "add NAME --kind uml|qemu|ns [--image I] [--mem MB] [--cpus N] [--number N] "
                                 "[--nic LAN[,ip=A/P][,mac=M]]... [--mgmt-ip A/P] [--no-mgmt] [--persistent] [--start] [--wait [S]] "
                                 "[--script FILE] [-- CMD...]");
    pn_val_t *a = pn_map(), *nics = pn_arr();
    pn_map_set_str(a, "name", argv[2]);
    boot_opt_t bo = { .wait_ms = NODE_WAIT_DEFAULT_S * 1000 };
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long u;
        bool bad = false;
        if (s_wait_opt(argc, argv, &i, &bo, &bad)) {
            if (bad)
                goto usage;
            pn_map_set_bool(a, "start", true);
        } else if (!strcmp(o, "--")) {
            pn_val_t *cmd = pn_arr();
            for (i++; i < argc; i++)
                pn_arr_push(cmd, pn_str(argv[i]));
            pn_map_set(a, "cmd", cmd);
            break;
        } else if (!strcmp(o, "--persistent"))
            pn_map_set_bool(a, "persistent", true);
        else if (!strcmp(o, "--start"))
            pn_map_set_bool(a, "start", true);
        else if (!strcmp(o, "--no-mgmt"))
            pn_map_set_bool(a, "mgmt", false);
        else if (!v)
            goto usage;
        else if (!strcmp(o, "--kind"))
            pn_map_set_str(a, "kind", v), i++;
        else if (!strcmp(o, "--image"))
            pn_map_set_str(a, "image", v), i++;
        else if (!strcmp(o, "--mgmt-ip"))
            pn_map_set_str(a, "mgmt_ip", v), i++;
        else if (!strcmp(o, "--mem") && cli_parse_uint(v, 1u << 30, &u))
            pn_map_set_uint(a, "mem", u), i++;
        else if (!strcmp(o, "--cpus") && cli_parse_uint(v, 1024, &u))
            pn_map_set_uint(a, "cpus", u), i++;
        else if (!strcmp(o, "--number") && cli_parse_uint(v, 1u << 30, &u))
            pn_map_set_uint(a, "number", u), i++;
        else if (!strcmp(o, "--nic")) {
            pn_val_t *n = s_nic_spec(v);
            if (!n) {
                pn_val_free(a);
                pn_val_free(nics);
                return cli_usage("node", "--nic wants LAN[,ip=A/P][,mac=M], not '%s'", v);
            }
            pn_arr_push(nics, n);
            i++;
        } else if (!strcmp(o, "--script")) {
            char *s = NULL;
            if (s_read_file(v, &s) < 0) {
                pn_val_free(a);
                pn_val_free(nics);
                return cli_usage("node", "cannot read the script %s", v);
            }
            pn_map_set_str(a, "script", s);
            free(s);
            i++;
        } else
            goto usage;
    }
    if (!pn_get(a, "kind"))
        pn_map_set_str(a, "kind", "uml");
    pn_map_set(a, "nics", nics);
    pn_val_t *d = NULL;
    cli_boot_t *bw = NULL;
    if (pn_get_bool(a, "start", false) && s_follow_boot(&bo)) {
        bw = cli_boot_new(s_boot_out(&bo));
        cli_boot_prepare(bw, argv[2], NULL);
    }
    int r = cli_call_t(PN_OP_NODE_ADD, a, s_slow(), &d);
    if (r != CLI_OK || !bw) {
        cli_boot_destroy(&bw);
        return r == CLI_OK ? s_show(d, cli_opts.quiet ? NULL : s_node_human) : r;
    }
    cli_boot_follow(bw, argv[2], d);
    r = cli_boot_wait(bw, bo.wait_ms, !bo.wait);
    if (r == CLI_OK) {
        /* The node as it is now, with its boot facts. */
        pn_val_t *q = pn_map(), *d2 = NULL;
        pn_map_set_str(q, "name", argv[2]);
        if (cli_call(PN_OP_NODE_SHOW, q, &d2) == CLI_OK) {
            pn_val_free(d);
            d = d2;
        }
        cli_boot_annotate(bw, argv[2], d);
    }
    cli_boot_destroy(&bw);
    if (r != CLI_OK) {
        pn_val_free(d);
        return r;
    }
    return s_show(d, cli_opts.quiet ? NULL : s_node_human);
usage:
    pn_val_free(a);
    pn_val_free(nics);
    return cli_usage("node", "add: bad or incomplete option near '%s'", argv[argc - 1]);
}

/* start on a running node, stop on one that is not: nothing to do, said
 * so, exit 0 (like systemctl start).  Returns CLI_OK when that is the case,
 * -1 when the op must go to vmd: the node is missing (vmd says so), in the
 * middle of a start or stop, or busy with another op (vmd refuses with
 * busy, naming it). */
static int s_already(const char *name, bool start)
{
    char err[1200];
    pn_val_t *a = pn_map(), *d = NULL;
    pn_map_set_str(a, "name", name);
    if (cli_call_err(PN_OP_NODE_SHOW, a, cli_opts.timeout_ms, &d, err, sizeof err) != 0)
        return -1;
    const char *st = pn_get_str(d, "state", "");
    bool idle = !pn_get(d, "busy"), done;
    if (start)
        done = idle && !strcmp(st, "running");
    else
        done = idle && (!strcmp(st, "stopped") || !strcmp(st, "defined") || !strcmp(st, "crashed"));
    if (done && cli_opts.json)
        cli_print_json(d);
    else if (done && !cli_opts.quiet) {
        if (start || !strcmp(st, "stopped"))
            printf("node '%s' is already %s\n", name, st);
        else
            printf("node '%s' is not running (%s)\n", name, !strcmp(st, "crashed") ? "it crashed" : "never started");
    }
    pn_val_free(d);
    return done ? CLI_OK : -1;
}

int cmd_node(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: plugnet node add NAME --kind uml|qemu|ns [--image I] [--mem MB] [--cpus N] [--number N]\n"
               "                        [--nic LAN[,ip=A/P][,mac=M]]... [--mgmt-ip A/P] [--no-mgmt]\n"
               "                        [--persistent] [--start] [--wait [S]] [--script FILE] [-- CMD...]\n"
               "       plugnet node start [--wait [S]] NAME...\n"
               "       plugnet node stop|kill|reboot NAME...\n"
               "       plugnet node del [-f|--force] NAME...\n"
               "       plugnet node ls | show NAME   (--json for either)\n"
               "  --kind K       uml (default), qemu or ns\n"
               "  --image I      the disk image (default: the kind's)\n"
               "  --mem MB, --cpus N, --number N   memory, CPUs, node number (default: the lowest free)\n"
               "  --nic SPEC     a NIC on LAN (ifname=ethN to name it); repeat for more\n"
               "  --mgmt-ip A/P  eth0's management address; --no-mgmt: no eth0 at all\n"
               "  --persistent   write the image itself (locked to this node), not a COW overlay\n"
               "  --start        start it at once (--wait implies it)\n"
               "  --script FILE  run FILE in the guest after its configuration\n"
               "  -- CMD...      ns: the command the node runs\n"
               "  -f, --force    del: delete a running node too (it is killed first)\n"
               "start on a running node and stop on a stopped one do nothing, say so and\n"
               "exit 0; a node in the middle of another op is refused (busy).\n"
               "Starting on a terminal shows the boot live (state, elapsed time, the last\n"
               "console line) until the node is ready: its config done and its agent up,\n"
               "so that exec, cp and shell work at once.\n"
               "--wait (any output) waits for that, prints one line when not on a terminal,\n"
               "and fails, naming the node, why, and its last console lines, when the node\n"
               "crashes or S seconds (default %d) pass.\n", NODE_WAIT_DEFAULT_S);
        return 0;
    }
    static const char *const subs[] = { "add", "start", "stop", "kill", "reboot", "del", "ls", "show" };
    if (argc < 2)
        return cli_usage("node", "add|start|stop|kill|reboot|del|ls|show ...");
    const char *sub = argv[1];
    if (!strcmp(sub, "add"))
        return s_node_add(argc, argv);
    if (!strcmp(sub, "ls")) {
        pn_val_t *d = NULL;
        int r = cli_call(PN_OP_NODE_LS, NULL, &d);
        return r == CLI_OK ? s_show(d, s_ls_human) : r;
    }
    if (!strcmp(sub, "show")) {
        if (argc != 3)
            return cli_usage("node", "show NAME");
        pn_val_t *a = pn_map(), *d = NULL;
        pn_map_set_str(a, "name", argv[2]);
        int r = cli_call(PN_OP_NODE_SHOW, a, &d);
        return r == CLI_OK ? s_show(d, s_node_human) : r;
    }
    static const struct {
        const char *sub, *op;
    } many[] = {
        { "start", PN_OPNAME(NODE_START) }, { "stop", PN_OPNAME(NODE_STOP) }, { "kill", PN_OPNAME(NODE_KILL) },
        { "reboot", PN_OPNAME(NODE_REBOOT) }, { "del", PN_OPNAME(NODE_DEL) }, { NULL, NULL },
    };
    for (int k = 0; many[k].sub; k++) {
        if (strcmp(sub, many[k].sub))
            continue;
        bool force = false, start = !strcmp(sub, "start");
        boot_opt_t bo = { .wait_ms = NODE_WAIT_DEFAULT_S * 1000 };
        int rc = CLI_OK, names = 0;
        for (int i = 2; i < argc; i++) {
            bool bad = false;
            if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
                force = true;
            else if (start && s_wait_opt(argc, argv, &i, &bo, &bad)) {
                if (bad)
                    return cli_usage("node", "--wait=SECONDS wants a positive number, not '%s'", argv[i] + 7);
            } else if (argv[i][0] == '-')
                return cli_usage("node", "%s: unknown option '%s'", sub, argv[i]);
        }
        cli_boot_t *bw = start && s_follow_boot(&bo) ? cli_boot_new(s_boot_out(&bo)) : NULL;
        pn_val_t *started = pn_arr();
        for (int i = 2; i < argc; i++) {
            boot_opt_t skip = bo;
            bool ignored = false;
            if (start && s_wait_opt(argc, argv, &i, &skip, &ignored))
                continue; /* and its number, when it took one */
            if (argv[i][0] == '-')
                continue;
            names++;
            if ((start || !strcmp(sub, "stop")) && s_already(argv[i], start) == CLI_OK)
                continue;
            const char *op = many[k].op;
            pn_val_t *a = pn_map(), *d = NULL;
            pn_map_set_str(a, "name", argv[i]);
            if (force && !strcmp(sub, "del"))
                pn_map_set_bool(a, "force", true);
            if (bw) {
                /* Where its console log ends before this boot. */
                pn_val_t *q = pn_map(), *cur = NULL;
                pn_map_set_str(q, "name", argv[i]);
                if (cli_call(PN_OP_NODE_SHOW, q, &cur) == CLI_OK)
                    cli_boot_prepare(bw, argv[i], cur);
                pn_val_free(cur);
            }
            int r = cli_call_t("vmd", op, a, s_slow(), &d);
            if (r == CLI_OK && bw) {
                cli_boot_follow(bw, argv[i], d);
                pn_arr_push(started, pn_str(argv[i]));
            } else if (r == CLI_OK && cli_opts.json)
                cli_print_json(d);
            pn_val_free(d);
            if (r != CLI_OK)
                rc = r;
        }
        if (bw && pn_len(started)) {
            int r = cli_boot_wait(bw, bo.wait_ms, !bo.wait);
            if (r != CLI_OK && rc == CLI_OK)
                rc = r;
            for (size_t i = 0; cli_opts.json && i < pn_len(started); i++) {
                pn_val_t *q = pn_map(), *d = NULL;
                pn_map_set_str(q, "name", pn_at(started, i)->s.p);
                if (cli_call(PN_OP_NODE_SHOW, q, &d) == CLI_OK) {
                    cli_boot_annotate(bw, pn_at(started, i)->s.p, d);
                    cli_print_json(d);
                }
                pn_val_free(d);
            }
        }
        pn_val_free(started);
        cli_boot_destroy(&bw);
        if (!names)
            return cli_usage("node", "%s NAME...", sub);
        return rc;
    }
    const char *near = cli_suggest(sub, subs, sizeof subs / sizeof subs[0]);
    if (near)
        return cli_usage("node", "unknown subcommand '%s' (did you mean '%s'?)", sub, near);
    return cli_usage("node", "unknown subcommand '%s' (add, start, stop, kill, reboot, del, ls, show)", sub);
}

int cmd_nic(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: plugnet nic add NODE ethN LAN [--ip A/P] [--mac M]\n"
               "       plugnet nic del NODE ethN\n"
               "NICs are added and removed on running nodes without a reboot.\n");
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "add")) {
        pn_val_t *a = pn_map();
        pn_map_set_str(a, "node", argv[2]);
        pn_map_set_str(a, "ifname", argv[3]);
        pn_map_set_str(a, "lan", argv[4]);
        for (int i = 5; i < argc; i++) {
            if (i + 1 < argc && (!strcmp(argv[i], "--ip") || !strcmp(argv[i], "--mac"))) {
                pn_map_set_str(a, argv[i] + 2, argv[i + 1]);
                i++;
            } else {
                pn_val_free(a);
                return cli_usage("nic", "add NODE ethN LAN [--ip A/P] [--mac M]");
            }
        }
        pn_val_t *d = NULL;
        int r = cli_call_t(PN_OP_NIC_ADD, a, s_slow(), &d);
        return r == CLI_OK ? s_show(d, cli_opts.json ? NULL : NULL) : r;
    }
    if (argc == 4 && !strcmp(argv[1], "del")) {
        pn_val_t *a = pn_map(), *d = NULL;
        pn_map_set_str(a, "node", argv[2]);
        pn_map_set_str(a, "ifname", argv[3]);
        int r = cli_call_t(PN_OP_NIC_DEL, a, s_slow(), &d);
        return r == CLI_OK ? s_show(d, NULL) : r;
    }
    return cli_usage("nic", "add NODE ethN LAN [--ip A/P] [--mac M] | del NODE ethN");
}

/* ------------------------------------------------------------ console */

static struct termios s_saved;
static bool s_raw;

static void s_restore(void)
{
    if (s_raw)
        tcsetattr(0, TCSAFLUSH, &s_saved);
    s_raw = false;
}

int cmd_console(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: plugnet console NAME\nAttach to a node's console; Ctrl-] detaches.\n");
        return 0;
    }
    if (argc != 2)
        return cli_usage("console", "NAME   (detach with Ctrl-])");
    pn_val_t *a = pn_map(), *d = NULL;
    pn_map_set_str(a, "name", argv[1]);
    int r = cli_call(PN_OP_NODE_SHOW, a, &d);
    if (r != CLI_OK)
        return r;
    const char *sock = pn_get_str(d, "console_sock", NULL);
    if (!sock || strcmp(pn_get_str(d, "state", ""), "running")) {
        fprintf(stderr, "plugnet: node '%s' is %s%s\n", argv[1], pn_get_str(d, "state", "?"),
                sock ? "; start it first" : " and has no console socket (an ns node: use plugnet exec)");
        pn_val_free(d);
        return CLI_REFUSED;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    pn_val_free(d);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "plugnet: cannot connect to %s: %s\n", sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_UNREACHABLE;
    }
    bool tty = isatty(0);
    if (tty && tcgetattr(0, &s_saved) == 0) {
        struct termios t = s_saved;
        cfmakeraw(&t);
        if (tcsetattr(0, TCSAFLUSH, &t) == 0) {
            s_raw = true;
            atexit(s_restore);
        }
        fprintf(stderr, "plugnet: connected to %s's console; Ctrl-] detaches\r\n", argv[1]);
    }
    char buf[4096];
    bool in_open = true;
    for (;;) {
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0)
                break;
            if (write(1, buf, (size_t)n) < 0)
                break;
        }
        if (p[1].revents) {
            ssize_t n = read(0, buf, sizeof(buf));
            if (n <= 0) {
                in_open = false;
                shutdown(fd, SHUT_WR);
                continue;
            }
            if (tty) {
                void *k = memchr(buf, 0x1d, (size_t)n);
                if (k) {
                    if ((char *)k > buf && write(fd, buf, (size_t)((char *)k - buf)) < 0)
                        break;
                    break;
                }
            }
            if (write(fd, buf, (size_t)n) < 0)
                break;
        }
    }
    s_restore();
    if (tty)
        fprintf(stderr, "\nplugnet: detached\n");
    close(fd);
    return CLI_OK;
}
