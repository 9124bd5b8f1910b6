/* plugnet lan | port | stats | sniff: the switch's commands. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "cli.h"

/* Print the reply as JSON, or run the human printer. */
static int s_show(pn_val_t *d, void (*human)(pn_val_t *))
{
    if (cli_opts.json)
        cli_print_json(d);
    else
        human(d);
    pn_val_free(d);
    return CLI_OK;
}

/* ------------------------------------------------------------------ lan */

static void s_lan_table(pn_val_t *d)
{
    cli_table_t *t = cli_table_new("NAME", "MTU", "PORTS", "MACS", "CTL", NULL);
    pn_val_t *arr = pn_get(d, "lans");
    for (size_t i = 0; i < pn_len(arr); i++) {
        pn_val_t *l = pn_at(arr, i);
        char mtu[24], ports[24], macs[48];
        snprintf(mtu, sizeof(mtu), "%llu", (unsigned long long)pn_get_uint(l, "mtu", 0));
        snprintf(ports, sizeof(ports), "%llu", (unsigned long long)pn_get_uint(l, "ports", 0));
        snprintf(macs, sizeof(macs), "%llu/%llu", (unsigned long long)pn_get_uint(l, "fdb_entries", 0),
                 (unsigned long long)pn_get_uint(l, "fdb_cap", 0));
        cli_table_add(t, pn_get_str(l, "name", "?"), mtu, ports, macs, pn_get_str(l, "ctl", ""), NULL);
    }
    cli_table_print(t, stdout);
    cli_table_destroy(&t);
}

static void s_port_table(pn_val_t *ports)
{
    cli_table_t *t = cli_table_new("PORT", "KIND", "ADMIN", "ATTACHED", "NODE:IFACE", NULL);
    for (size_t i = 0; i < pn_len(ports); i++) {
        pn_val_t *p = pn_at(ports, i);
        char id[24];
        snprintf(id, sizeof(id), "%llu", (unsigned long long)pn_get_uint(p, "port", 0));
        const char *what = pn_get_str(p, "ifname", NULL);
        if (!what)
            what = pn_get_str(p, "descr", "");
        cli_table_add(t, id, pn_get_str(p, "kind", "?"), pn_get_str(p, "admin", "?"), what, pn_get_str(p, "owner", "-"),
                      NULL);
    }
    cli_table_print(t, stdout);
    cli_table_destroy(&t);
}

static void s_lan_one(pn_val_t *d)
{
    printf("lan %s  mtu %llu  ctl %s\n", pn_get_str(d, "name", "?"),
           (unsigned long long)pn_get_uint(d, "mtu", 0), pn_get_str(d, "ctl", ""));
    if (pn_get(d, "ports")) {
        printf("\n");
        s_port_table(pn_get(d, "ports"));
    }
    pn_val_t *fdb = pn_get(d, "fdb");
    if (fdb) {
        printf("\nMAC table: %llu of %llu entries, %llu evicted\n",
               (unsigned long long)pn_get_uint(d, "fdb_entries", 0),
               (unsigned long long)pn_get_uint(d, "fdb_cap", 0),
               (unsigned long long)pn_get_uint(d, "fdb_evictions", 0));
        cli_table_t *t = cli_table_new("MAC", "PORT", "AGE", NULL);
        for (size_t i = 0; i < pn_len(fdb); i++) {
            pn_val_t *e = pn_at(fdb, i);
            char port[24], age[32];
            snprintf(port, sizeof(port), "%llu", (unsigned long long)pn_get_uint(e, "port", 0));
            cli_fmt_duration(pn_get_uint(e, "age_ms", 0), age, sizeof(age));
            cli_table_add(t, pn_get_str(e, "mac", "?"), port, age, NULL);
        }
        cli_table_print(t, stdout);
        cli_table_destroy(&t);
    }
}

static void s_lan_del_human(pn_val_t *d)
{
    unsigned long long n = pn_get_uint(d, "ports_closed", 0);
    if (!cli_opts.quiet && n)
        printf("lan %s deleted (%llu port%s closed)\n", pn_get_str(d, "name", "?"), n, n == 1 ? "" : "s");
}

static void s_nothing(pn_val_t *d) { (void)d; }

/* Call svc.op with a (ownership passes) and show the reply. */
static int s_call_show(const char *svc, const char *op, pn_val_t *a, void (*human)(pn_val_t *))
{
    pn_val_t *d = NULL;
    int r = cli_call(svc, op, a, &d);
    return r != CLI_OK ? r : s_show(d, human);
}

/* A command with subcommands: one entry a subcommand, run with the whole
 * argv (argv[1] is its name) and the command's usage; the entry without a
 * name answers any other subcommand. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv, const char *usage);
} sub_t;

/* The usage when asked for (-h: stdout, CLI_OK) or when the subcommand is
 * missing (stderr, CLI_USAGE); else the subcommand's answer. */
static int s_subcommand(int argc, char **argv, const char *usage, const sub_t *subs)
{
    if (argc < 2 || cli_help(argc, argv, NULL)) {
        fprintf(argc < 2 ? stderr : stdout, "%s\n", usage);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const sub_t *sub = subs;
    while (sub->name && strcmp(sub->name, argv[1]) != 0)
        sub++;
    return sub->run(argc, argv, usage);
}

/* ------------------------------------------------------------------ lan */

static int s_lan_ls(int argc, char **argv, const char *usage)
{
    if (argc != 2)
        return cli_usage("lan", "ls takes no arguments");
    return s_call_show(PN_OP_LAN_LS, NULL, s_lan_table);
}

/* The args of a subcommand on one LAN ({"name": argv[2]}), or NULL after
 * the usage error when the name is missing. */
static pn_val_t *s_lan_named(int argc, char **argv, const char *usage)
{
    if (argc < 3) {
        cli_usage("lan", "%s needs a LAN name\n%s", argv[1], usage);
        return NULL;
    }
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "name", argv[2]);
    return a;
}

static int s_lan_add(int argc, char **argv, const char *usage)
{
    pn_val_t *a = s_lan_named(argc, argv, usage);
    if (!a)
        return CLI_USAGE;
    for (int i = 3; i < argc; i++) {
        unsigned long v;
        const char *key = strcmp(argv[i], "--mtu") == 0 ? "mtu" : strcmp(argv[i], "--fdb-cap") == 0 ? "fdb_cap" : NULL;
        if (!key || i + 1 >= argc || !cli_parse_uint(argv[i + 1], UINT_MAX, &v)) {
            pn_val_free(a);
            return cli_usage("lan", "bad option '%s'\n%s", argv[i], usage);
        }
        pn_map_set_uint(a, key, v);
        i++;
    }
    return s_call_show(PN_OP_LAN_ADD, a, s_nothing);
}

static int s_lan_del(int argc, char **argv, const char *usage)
{
    pn_val_t *a = s_lan_named(argc, argv, usage);
    if (!a)
        return CLI_USAGE;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            pn_map_set_bool(a, "force", true);
        } else {
            pn_val_free(a);
            return cli_usage("lan", "bad option '%s'\n%s", argv[i], usage);
        }
    }
    return s_call_show(PN_OP_LAN_DEL, a, s_lan_del_human);
}

static int s_lan_show(int argc, char **argv, const char *usage)
{
    pn_val_t *a = s_lan_named(argc, argv, usage);
    if (!a)
        return CLI_USAGE;
    if (argc != 3) {
        pn_val_free(a);
        return cli_usage("lan", "show takes one LAN name");
    }
    return s_call_show(PN_OP_LAN_SHOW, a, s_lan_one);
}

static int s_lan_unknown(int argc, char **argv, const char *usage)
{
    pn_val_t *a = s_lan_named(argc, argv, usage);
    if (!a)
        return CLI_USAGE;
    pn_val_free(a);
    return cli_usage("lan", "unknown subcommand '%s'\n%s", argv[1], usage);
}

int cmd_lan(int argc, char **argv)
{
    static const sub_t subs[] = {
        { "ls", s_lan_ls }, { "add", s_lan_add }, { "del", s_lan_del }, { "show", s_lan_show },
        { NULL, s_lan_unknown },
    };
    return s_subcommand(argc, argv, "usage: plugnet lan add NAME [--mtu N] [--fdb-cap N] | del NAME [--force] | ls | show NAME", subs);
}

/* ----------------------------------------------------------------- port */

static void s_port_ls_human(pn_val_t *d) { s_port_table(pn_get(d, "ports")); }

static int s_port_bad(int argc, char **argv, const char *usage)
{
    return cli_usage("port", "bad arguments\n%s", usage);
}

/* {"lan": argv[2]} */
static pn_val_t *s_port_args(char **argv)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "lan", argv[2]);
    return a;
}

static int s_port_ls(int argc, char **argv, const char *usage)
{
    if (argc != 3)
        return s_port_bad(argc, argv, usage);
    return s_call_show(PN_OP_PORT_LS, s_port_args(argv), s_port_ls_human);
}

static int s_port_set(int argc, char **argv, const char *usage)
{
    unsigned long port;
    if (argc != 5 || !cli_parse_uint(argv[3], 1u << 20, &port) ||
        (strcmp(argv[4], "up") != 0 && strcmp(argv[4], "down") != 0))
        return s_port_bad(argc, argv, usage);
    pn_val_t *a = s_port_args(argv);
    pn_map_set_uint(a, "port", port);
    pn_map_set_str(a, "state", argv[4]);
    return s_call_show(PN_OP_PORT_SET, a, s_nothing);
}

static void s_port_added_human(pn_val_t *d)
{
    printf("port %llu %s\n", (unsigned long long)pn_get_uint(d, "port", 0), pn_get_str(d, "ifname", ""));
}

static int s_port_add_tap(int argc, char **argv, const char *usage)
{
    if (argc != 3 && argc != 4)
        return s_port_bad(argc, argv, usage);
    pn_val_t *a = s_port_args(argv);
    if (argc == 4)
        pn_map_set_str(a, "ifname", argv[3]);
    return s_call_show(PN_OP_PORT_ADD_TAP, a, s_port_added_human);
}

static int s_port_del(int argc, char **argv, const char *usage)
{
    unsigned long port;
    if (argc != 4 || !cli_parse_uint(argv[3], 1u << 20, &port))
        return s_port_bad(argc, argv, usage);
    pn_val_t *a = s_port_args(argv);
    pn_map_set_uint(a, "port", port);
    return s_call_show(PN_OP_PORT_DEL, a, s_nothing);
}

int cmd_port(int argc, char **argv)
{
    static const sub_t subs[] = {
        { "ls", s_port_ls }, { "set", s_port_set }, { "add-tap", s_port_add_tap }, { "del", s_port_del },
        { NULL, s_port_bad },
    };
    return s_subcommand(argc, argv, "usage: plugnet port ls LAN | set LAN PORT up|down | add-tap LAN [IFNAME] | del LAN PORT", subs);
}

/* ---------------------------------------------------------------- stats */

static void s_stats_human(pn_val_t *d)
{
    unsigned long long macs = pn_get_uint(d, "fdb_entries", 0), flooded = pn_get_uint(d, "flooded", 0);
    printf("lan %s: %llu MAC%s (cap %llu, %llu evicted), %llu frame%s flooded\n", pn_get_str(d, "lan", "?"), macs,
           cli_s(macs), (unsigned long long)pn_get_uint(d, "fdb_cap", 0),
           (unsigned long long)pn_get_uint(d, "fdb_evictions", 0), flooded, cli_s(flooded));
    cli_table_t *t = cli_table_new("PORT", "KIND", "ADMIN", "RX_FRAMES", "RX_BYTES", "TX_FRAMES", "TX_BYTES",
                                   "DROP_RUNT", "DROP_BIG", "DROP_DOWN", "DROP_FULL", "NODE:IFACE", NULL);
    pn_val_t *ports = pn_get(d, "ports");
    for (size_t i = 0; i < pn_len(ports); i++) {
        pn_val_t *p = pn_at(ports, i), *dr = pn_get(p, "drops");
        char c[9][24];
        snprintf(c[0], 24, "%llu", (unsigned long long)pn_get_uint(p, "port", 0));
        snprintf(c[1], 24, "%llu", (unsigned long long)pn_get_uint(p, "rx_frames", 0));
        snprintf(c[2], 24, "%llu", (unsigned long long)pn_get_uint(p, "rx_bytes", 0));
        snprintf(c[3], 24, "%llu", (unsigned long long)pn_get_uint(p, "tx_frames", 0));
        snprintf(c[4], 24, "%llu", (unsigned long long)pn_get_uint(p, "tx_bytes", 0));
        snprintf(c[5], 24, "%llu", (unsigned long long)pn_get_uint(dr, "runt", 0));
        snprintf(c[6], 24, "%llu", (unsigned long long)pn_get_uint(dr, "oversize", 0));
        snprintf(c[7], 24, "%llu", (unsigned long long)pn_get_uint(dr, "admin_down", 0));
        snprintf(c[8], 24, "%llu", (unsigned long long)pn_get_uint(dr, "queue_full", 0));
        cli_table_add(t, c[0], pn_get_str(p, "kind", "?"), pn_get_str(p, "admin", "?"), c[1], c[2], c[3], c[4], c[5],
                      c[6], c[7], c[8], pn_get_str(p, "owner", "-"), NULL);
    }
    cli_table_print(t, stdout);
    cli_table_destroy(&t);
    pn_val_t *sn = pn_get(d, "sniffers");
    for (size_t i = 0; i < pn_len(sn); i++) {
        pn_val_t *s = pn_at(sn, i);
        unsigned long long frames = pn_get_uint(s, "frames", 0);
        printf("sniffer %llu: port %llu -> %s: %llu frame%s, %llu dropped\n",
               (unsigned long long)pn_get_uint(s, "id", 0), (unsigned long long)pn_get_uint(s, "port", 0),
               pn_get_str(s, "path", ""), frames, cli_s(frames), (unsigned long long)pn_get_uint(s, "drops", 0));
    }
}

static int s_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int s_stats_watch(const char *lan, unsigned interval_ms)
{
    int sfd = s_block_signals();
    static const char *const svcs[] = { "switchd" }, *const topics[] = { "switchd.stats" };
    cli_bus_t *bus = cli_bus_new(svcs, 1, topics, 1);
    if (!bus) {
        fprintf(stderr, "plugnet stats: cannot subscribe to switchd's events: %s\n",
                zmq_strerror(zmq_errno()));
        if (sfd >= 0)
            close(sfd);
        return CLI_UNREACHABLE;
    }
    int rc = CLI_OK;
    uint64_t renew = 0;
    for (;;) {
        uint64_t now = pn_mono_ms();
        if (now >= renew) {
            pn_val_t *a = pn_map();
            pn_map_set_str(a, "lan", lan);
            pn_map_set_uint(a, "interval_ms", interval_ms);
            pn_map_set_uint(a, "ttl_ms", 3 * interval_ms + 3000);
            if ((rc = cli_call(PN_OP_STATS_WATCH, a, NULL)) != CLI_OK)
                break;
            renew = now + interval_ms + 1000;
        }
        zmq_pollitem_t it[2] = { { cli_bus_socket(bus), 0, ZMQ_POLLIN, 0 },
                                 { NULL, sfd, ZMQ_POLLIN, 0 } };
        if (zmq_poll(it, 2, 500) < 0 && zmq_errno() != EINTR)
            break;
        if (it[1].revents)
            break;
        if (!(it[0].revents & ZMQ_POLLIN))
            continue;
        char topic[64], err[256];
        pn_msg_t m;
        if (cli_bus_recv(bus, topic, sizeof(topic), &m, err, sizeof(err)) == 0) {
            pn_val_t *lans = pn_get(m.data, "lans");
            for (size_t i = 0; i < pn_len(lans); i++) {
                pn_val_t *l = pn_at(lans, i);
                if (strcmp(pn_get_str(l, "lan", ""), lan) != 0)
                    continue;
                if (cli_opts.json) {
                    cli_print_json(l);
                } else {
                    s_stats_human(l);
                    printf("\n");
                }
                fflush(stdout);
            }
            pn_msg_clear(&m);
        }
        if (ferror(stdout))
            break;
    }
    cli_bus_destroy(&bus);
    close(sfd);
    return rc;
}

/* stats without a LAN: a usage error that names the LANs to choose from
 * (quietly without them when switchd does not answer). */
static int s_which_lan(const char *usage)
{
    char err[1200], names[512] = "";
    pn_val_t *d = NULL;
    if (cli_call_err(PN_OP_LAN_LS, NULL, cli_opts.timeout_ms, &d, err, sizeof err) == 0) {
        pn_val_t *arr = pn_get(d, "lans");
        size_t used = 0, n = pn_len(arr);
        for (size_t i = 0; i < n && used < sizeof names - 64; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     pn_get_str(pn_at(arr, i), "name", "?"));
        if (used >= sizeof names - 64 && n)
            snprintf(names + used, sizeof names - used, ", ...");
        pn_val_free(d);
        if (!n)
            return cli_usage("stats", "which LAN? there are none yet (plugnet lan add NAME)\n%s", usage);
        return cli_usage("stats", "which LAN? (%s)\n%s", names, usage);
    }
    return cli_usage("stats", "which LAN?\n%s", usage);
}

int cmd_stats(int argc, char **argv)
{
    const char *usage = "usage: plugnet stats LAN [-w|--watch [--interval MS]]";
    if (cli_help(argc, argv, usage))
        return CLI_OK;
    const char *lan = NULL;
    bool watch = false;
    unsigned long interval = 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--watch") == 0 || strcmp(argv[i], "-w") == 0)
            watch = true;
        else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc && cli_parse_uint(argv[i + 1], 3600000, &interval) &&
                 interval >= 100)
            i++;
        else if (!lan && argv[i][0] != '-')
            lan = argv[i];
        else
            return cli_usage("stats", "bad argument '%s'\n%s", argv[i], usage);
    }
    if (!lan)
        return s_which_lan(usage);
    if (watch)
        return s_stats_watch(lan, (unsigned)interval);
    pn_val_t *a = pn_map(), *d = NULL;
    pn_map_set_str(a, "lan", lan);
    int r = cli_call(PN_OP_STATS, a, &d);
    if (r != CLI_OK)
        return r;
    return s_show(d, s_stats_human);
}

/* ---------------------------------------------------------------- sniff */

static int s_sniff_stop(unsigned long long id, bool report)
{
    pn_val_t *a = pn_map(), *d = NULL;
    pn_map_set_uint(a, "id", id);
    int r = cli_call(PN_OP_SNIFF_STOP, a, &d);
    if (r == CLI_OK && report && !cli_opts.quiet)
        fprintf(stderr, "plugnet sniff: %llu frame%s captured, %llu dropped\n",
                (unsigned long long)pn_get_uint(d, "frames", 0), cli_s(pn_get_uint(d, "frames", 0)),
                (unsigned long long)pn_get_uint(d, "drops", 0));
    pn_val_free(d);
    return r;
}

static bool s_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = { fd, POLLOUT, 0 };
                poll(&pf, 1, 1000);
                continue;
            }
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

int cmd_sniff(int argc, char **argv)
{
    const char *usage = "usage: plugnet sniff LAN[:PORT] -w FILE|-   (Ctrl-C stops)";
    if (cli_help(argc, argv, usage))
        return CLI_OK;
    const char *target = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (!target && (argv[i][0] != '-' || argv[i][1] == 0))
            target = argv[i];
        else
            return cli_usage("sniff", "bad argument '%s'\n%s", argv[i], usage);
    }
    if (!target || !out)
        return cli_usage("sniff", "need a LAN and -w FILE|-\n%s", usage);
    char lan[64];
    unsigned long port = 0;
    snprintf(lan, sizeof(lan), "%s", target);
    char *colon = strchr(lan, ':');
    if (colon) {
        *colon = 0;
        if (!cli_parse_uint(colon + 1, 1u << 20, &port) || port == 0)
            return cli_usage("sniff", "bad port in '%s'", target);
    }
    bool to_stdout = strcmp(out, "-") == 0;
    char path[2 * PATH_MAX + 2], tmpdir[64] = "";
    int ffd = -1;
    if (to_stdout) {
        if (isatty(1))
            return cli_usage("sniff", "refusing to write pcap to a terminal; pipe it (| tcpdump -nr -)");
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/plugnet-sniff.XXXXXX");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "plugnet sniff: cannot make a temporary directory: %s\n", strerror(errno));
            return CLI_REFUSED;
        }
        /* switchd may run as another user: let it reach the FIFO. */
        chmod(tmpdir, 0711);
        snprintf(path, sizeof(path), "%s/pcap", tmpdir);
        if (mkfifo(path, 0622) < 0 || (ffd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
            fprintf(stderr, "plugnet sniff: cannot make a FIFO %s: %s\n", path, strerror(errno));
            rmdir(tmpdir);
            return CLI_REFUSED;
        }
    } else if (out[0] == '/') {
        snprintf(path, sizeof(path), "%s", out);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            return cli_usage("sniff", "cannot resolve '%s'", out);
        snprintf(path, sizeof(path), "%s/%s", cwd, out);
    }
    int sfd = s_block_signals();
    pn_val_t *a = pn_map(), *d = NULL;
    pn_map_set_str(a, "lan", lan);
    if (port)
        pn_map_set_uint(a, "port", port);
    pn_map_set_str(a, "path", path);
    int r = cli_call(PN_OP_SNIFF_START, a, &d);
    if (r != CLI_OK) {
        if (ffd >= 0) {
            close(ffd);
            unlink(path);
            rmdir(tmpdir);
        }
        return r;
    }
    unsigned long long id = pn_get_uint(d, "id", 0);
    pn_val_free(d);
    if (!cli_opts.quiet)
        fprintf(stderr, "plugnet sniff: capturing %s to %s (sniffer %llu); Ctrl-C stops\n", target,
                to_stdout ? "stdout" : path, id);
    char buf[65536];
    bool out_ok = true;
    for (;;) {
        /* With -w -, also watch stdout: a reader that went away (tcpdump -c)
         * shows as POLLERR on our end of the pipe, even with nothing to write. */
        struct pollfd pf[3] = { { sfd, POLLIN, 0 }, { ffd, POLLIN, 0 }, { 1, 0, 0 } };
        int n = poll(pf, ffd >= 0 ? 3 : 1, -1);
        if (n < 0 && errno != EINTR)
            break;
        if (pf[0].revents)
            break;
        if (ffd >= 0 && (pf[2].revents & (POLLERR | POLLHUP | POLLNVAL))) {
            out_ok = false;
            break;
        }
        if (ffd >= 0 && (pf[1].revents & POLLIN)) {
            ssize_t k = read(ffd, buf, sizeof(buf));
            if (k > 0 && !s_write_all(1, buf, (size_t)k)) {
                out_ok = false; /* the reader of our stdout went away */
                break;
            }
        }
    }
    r = s_sniff_stop(id, true);
    if (ffd >= 0) {
        /* sniff.stop answered after switchd closed its end: what is left
         * in the pipe is the tail of the capture. */
        ssize_t k;
        while (out_ok && (k = read(ffd, buf, sizeof(buf))) > 0)
            out_ok = s_write_all(1, buf, (size_t)k);
        close(ffd);
        unlink(path);
        rmdir(tmpdir);
    }
    close(sfd);
    return r;
}
