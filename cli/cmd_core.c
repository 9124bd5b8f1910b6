/* plugnet status | events | daemons */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bus.h"
#include "cli.h"

/* Start order: vmd calls the other three, so it comes last. */
static const char *const s_order[4] = { "cfgdiskd", "switchd", "agentd", "vmd" };

/* ---------------------------------------------------------------- status */

int cmd_status(int argc, char **argv)
{
    if (cli_help(argc, argv, "usage: plugnet status [--json]\n"
                             "Show each daemon: up or down, version, pid, uptime. Exit 3 when "
                             "any is down."))
        return 0;
    if (argc > 1)
        return cli_usage("status", "unexpected argument '%s'", argv[1]);
    cli_table_t *t = cli_table_new("DAEMON", "STATE", "VERSION", "PID", "UPTIME", NULL);
    pn_val_t *all = pn_arr();
    int down = 0;
    for (int i = 0; i < 4; i++) {
        const char *svc = pn_services[i];
        pn_val_t *d = NULL;
        char err[512];
        int r = cli_call_err(svc, "ping", NULL, cli_opts.timeout_ms, &d, err, sizeof(err));
        pn_val_t *row = pn_map();
        pn_map_set_str(row, "daemon", svc);
        if (r == 0) {
            char pid[32], up[32];
            snprintf(pid, sizeof(pid), "%llu", (unsigned long long)pn_get_uint(d, "pid", 0));
            cli_fmt_duration(pn_get_uint(d, "uptime_ms", 0), up, sizeof(up));
            cli_table_add(t, svc, "up", pn_get_str(d, "version", "?"), pid, up, NULL);
            pn_map_set_str(row, "state", "up");
            pn_map_set_str(row, "version", pn_get_str(d, "version", "?"));
            pn_map_set_uint(row, "pid", pn_get_uint(d, "pid", 0));
            pn_map_set_uint(row, "uptime_ms", pn_get_uint(d, "uptime_ms", 0));
        } else {
            down++;
            cli_table_add(t, svc, "down", "-", "-", "-", NULL);
            pn_map_set_str(row, "state", "down");
            pn_map_set_str(row, "error", err);
        }
        pn_arr_push(all, row);
        pn_val_free(d);
    }
    if (cli_opts.json)
        cli_print_json(all);
    else
        cli_table_print(t, stdout);
    cli_table_destroy(&t);
    pn_val_free(all);
    if (down) {
        fprintf(stderr, "plugnet: %d daemon%s down; start them with 'plugnet daemons start' "
                        "(or 'systemctl start plugnet.target')\n", down, down > 1 ? "s are" : " is");
        return CLI_UNREACHABLE;
    }
    return CLI_OK;
}

/* ---------------------------------------------------------------- events */

/* The containerlab event shape; cli/events_json.c may provide a richer one. */
void cli_event_clab_json(const pn_msg_t *ev, const char *topic, FILE *f) __attribute__((weak));

static void s_event_json(const pn_msg_t *ev, const char *topic, FILE *f)
{
    if (cli_event_clab_json) {
        cli_event_clab_json(ev, topic, f);
        return;
    }
    /* type: the object kind (before the dot), action: what happened. */
    const char *dot = strchr(ev->type, '.');
    pn_val_t *o = pn_map();
    time_t sec = (time_t)(ev->ts / 1000000000ull);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char ts[64], full[96];
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(full, sizeof(full), "%s.%09lluZ", ts, (unsigned long long)(ev->ts % 1000000000ull));
    pn_map_set_str(o, "timestamp", full);
    pn_val_t *type = dot ? pn_strn(ev->type, (size_t)(dot - ev->type)) : pn_str(ev->type);
    pn_map_set(o, "type", type);
    pn_map_set_str(o, "action", dot ? dot + 1 : ev->type);
    const char *id = pn_get_str(ev->data, "name", NULL);
    if (!id)
        id = pn_get_str(ev->data, "node", NULL);
    if (!id)
        id = pn_get_str(ev->data, "lan", NULL);
    pn_val_t *actor = pn_map();
    pn_map_set_str(actor, "id", id ? id : ev->src);
    pn_val_t *attrs = pn_val_dup(ev->data);
    pn_map_set_str(attrs, "src", ev->src);
    pn_map_set_str(attrs, "topic", topic);
    pn_map_set_uint(attrs, "seq", ev->seq);
    pn_map_set(actor, "attributes", pn_val_dup(attrs));
    pn_map_set(o, "actor", actor);
    pn_map_set(o, "attributes", attrs);
    pn_val_json(o, f);
    fputc('\n', f);
    pn_val_free(o);
}

static volatile sig_atomic_t s_interrupted;
static void s_on_sigint(int sig) { s_interrupted = 1; }

int cmd_events(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "count", required_argument, NULL, 'n' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long count = -1;
    double timeout = 0;
    int c;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': cli_opts.json = true; break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 't': timeout = strtod(optarg, NULL); break;
        case 'h':
            printf("usage: plugnet events [--json] [-n|--count COUNT] [--timeout S] [TOPIC...]\n"
                   "Stream events from the four daemons. TOPIC is a prefix such as 'vmd' or\n"
                   "'switchd.port'. '# subscribed' goes to stderr once connected to every\n"
                   "running daemon. Exits after COUNT events or S seconds when given.\n");
            return 0;
        default: return CLI_USAGE;
        }
    }
    /* "# subscribed" means no event of interest can be missed from now on
     * (the daemons answered our hello: see bus.h). */
    static const char *const all[] = { "" };
    bool some = optind < argc;
    cli_bus_t *bus = cli_bus_new(pn_services, 4, some ? (const char *const *)argv + optind : all,
                                 some ? (size_t)(argc - optind) : 1);
    if (!bus) {
        fprintf(stderr, "plugnet: cannot subscribe to the events: out of memory\n");
        return 1;
    }
    int expect = cli_bus_expected(bus);
    struct sigaction sa = { .sa_handler = s_on_sigint };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int acked = 0;
    bool announced = expect == 0;
    if (announced)
        fprintf(stderr, "# subscribed\n");
    uint64_t deadline = timeout > 0 ? pn_mono_ms() + (uint64_t)(timeout * 1000) : 0;
    long seen = 0;
    int rc = 0;
    while (!s_interrupted && (count < 0 || seen < count)) {
        zmq_pollitem_t pi[1] = { { .socket = cli_bus_socket(bus), .events = ZMQ_POLLIN } };
        long wait = 1000;
        if (deadline) {
            uint64_t now = pn_mono_ms();
            if (now >= deadline)
                break;
            wait = (long)(deadline - now);
        }
        int n = zmq_poll(pi, 1, wait);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = 1;
            break;
        }
        if (!(pi[0].revents & ZMQ_POLLIN))
            continue;
        char topic[256] = "", err[256];
        pn_msg_t ev;
        int r = cli_bus_recv(bus, topic, sizeof(topic), &ev, err, sizeof(err));
        if (r == -EAGAIN)
            continue;
        if (r == 1) {
            if (!announced && ++acked >= expect) {
                announced = true;
                fprintf(stderr, "# subscribed\n");
            }
            continue;
        }
        if (r < 0) {
            fprintf(stderr, "plugnet: bad event on %s: %s\n", topic, err);
            continue;
        }
        if (cli_opts.json) {
            s_event_json(&ev, topic, stdout);
        } else {
            time_t sec = (time_t)(ev.ts / 1000000000ull);
            struct tm tm;
            localtime_r(&sec, &tm);
            char ts[32];
            strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
            printf("%s.%03llu %-16s %-18s ", ts, (unsigned long long)(ev.ts / 1000000ull % 1000), topic, ev.type);
            pn_val_json(ev.data, stdout);
            putchar('\n');
        }
        fflush(stdout);
        pn_msg_clear(&ev);
        seen++;
    }
    cli_bus_destroy(&bus);
    return rc;
}

/* --------------------------------------------------------------- daemons */

static int s_daemon_path(const char *svc, char *out, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = 0;
        snprintf(out, len, "%s/plugnet-%s", dirname(self), svc);
        if (access(out, X_OK) == 0)
            return 0;
    }
    snprintf(out, len, "plugnet-%s", svc); /* from PATH */
    return 0;
}

static int s_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* The pid of a running daemon: 0, or -ECONNREFUSED when it does not answer. */
static int s_ping_pid(const char *svc, pid_t *pid)
{
    pn_val_t *d = NULL;
    char err[256];
    if (cli_call_err(svc, "ping", NULL, cli_opts.timeout_ms, &d, err, sizeof(err)) != 0)
        return -ECONNREFUSED;
    *pid = (pid_t)pn_get_uint(d, "pid", 0);
    pn_val_free(d);
    return 0;
}

static void s_tail_log(const char *path)
{
    char *buf;
    size_t len;
    if (pn_file_read(path, 1 << 20, &buf, &len) < 0)
        return;
    size_t lines = 0, i = len;
    while (i > 0 && lines < 10)
        if (buf[--i] == '\n' && i + 1 < len)
            lines++;
    fprintf(stderr, "--- last lines of %s\n%s", path, buf + (i ? i + 1 : 0));
    free(buf);
}

static int s_start_one(const char *svc, bool verbose)
{
    pid_t running;
    if (s_ping_pid(svc, &running) == 0) {
        if (verbose)
            printf("%-9s already running (pid %d)\n", svc, (int)running);
        return 0;
    }
    char bin[4200], logdir[4200], logpath[4300];
    s_daemon_path(svc, bin, sizeof(bin));
    snprintf(logdir, sizeof(logdir), "%s/log", pn_state_dir());
    if (pn_mkdirs(logdir, 0755) < 0 || pn_mkdirs(pn_run_dir(), 0755) < 0) {
        fprintf(stderr, "plugnet: cannot create %s or %s: %s\n", logdir, pn_run_dir(), strerror(errno));
        return CLI_REFUSED;
    }
    snprintf(logpath, sizeof(logpath), "%s/%s.log", logdir, svc);

    /* An abstract notify socket: no path to clean up, no length trouble. */
    int ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char name[100];
    int nl = snprintf(name, sizeof(name), "plugnet-notify-%d-%s-%llu", (int)getpid(), svc,
                      (unsigned long long)pn_mono_ms());
    memcpy(sa.sun_path + 1, name, (size_t)nl);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)nl);
    if (ns < 0 || bind(ns, (struct sockaddr *)&sa, salen) < 0) {
        fprintf(stderr, "plugnet: cannot create a notify socket: %s\n", strerror(errno));
        return CLI_REFUSED;
    }
    int one = 1;
    setsockopt(ns, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
    char env[160];
    snprintf(env, sizeof(env), "@%s", name);

    pid_t pid = fork();
    if (pid < 0) {
        close(ns);
        return CLI_REFUSED;
    }
    if (pid == 0) {
        setsid();
        int in = open("/dev/null", O_RDONLY);
        int out = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        setenv("NOTIFY_SOCKET", env, 1);
        setenv("PLUGNET_RUN_DIR", pn_run_dir(), 1);
        setenv("PLUGNET_STATE_DIR", pn_state_dir(), 1);
        execlp(bin, bin, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    int pfd = s_pidfd_open(pid);
    uint64_t deadline = pn_mono_ms() + 20000;
    int rc = CLI_REFUSED;
    bool exited = false;
    for (;;) {
        uint64_t now = pn_mono_ms();
        if (now >= deadline) {
            fprintf(stderr, "plugnet: %s did not report ready within 20 s\n", svc);
            kill(pid, SIGTERM);
            break;
        }
        struct pollfd p[2] = { { .fd = ns, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
        int n = poll(p, pfd >= 0 ? 2 : 1, (int)(deadline - now));
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && (p[0].revents & POLLIN)) {
            char buf[4096];
            ssize_t l = recv(ns, buf, sizeof(buf) - 1, 0);
            if (l > 0) {
                buf[l] = 0;
                if (strstr(buf, "READY=1")) {
                    rc = CLI_OK;
                    break;
                }
            }
        }
        if (n > 0 && pfd >= 0 && (p[1].revents & POLLIN)) {
            exited = true;
            break;
        }
    }
    if (exited || rc != CLI_OK) {
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid && exited)
            fprintf(stderr, "plugnet: %s exited during start (%s %d)\n", svc,
                    WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        s_tail_log(logpath);
        rc = CLI_REFUSED;
    } else if (verbose) {
        printf("%-9s started (pid %d), log %s\n", svc, (int)pid, logpath);
    }
    if (pfd >= 0)
        close(pfd);
    close(ns);
    return rc;
}

static int s_stop_one(const char *svc, bool verbose)
{
    pid_t pid;
    if (s_ping_pid(svc, &pid) != 0 || pid <= 1) {
        if (verbose)
            printf("%-9s not running\n", svc);
        return 0;
    }
    int pfd = s_pidfd_open(pid);
    if (kill(pid, SIGTERM) < 0) {
        if (pfd >= 0)
            close(pfd);
        return errno == ESRCH ? 0 : CLI_REFUSED;
    }
    bool gone = false;
    if (pfd >= 0) {
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        gone = poll(&p, 1, 10000) > 0;
        if (!gone) {
            fprintf(stderr, "plugnet: %s (pid %d) did not stop within 10 s; killing it\n", svc, (int)pid);
            kill(pid, SIGKILL);
            gone = poll(&p, 1, 5000) > 0;
        }
        close(pfd);
    }
    if (verbose)
        printf("%-9s stopped (pid %d)\n", svc, (int)pid);
    return gone ? 0 : CLI_REFUSED;
}

int cmd_daemons(int argc, char **argv)
{
    if (argc < 2 || cli_help(argc, argv, NULL)) {
        printf("usage: plugnet daemons start|stop|restart [DAEMON...]\n"
               "Run the daemons without systemd (development, demo). Logs go to STATE/log/.\n"
               "start waits for each daemon's READY notification.\n");
        return argc < 2 ? CLI_USAGE : 0;
    }
    const char *verb = argv[1];
    const char *want[4];
    int nwant = 0;
    for (int i = 2; i < argc; i++) {
        bool ok = false;
        for (int j = 0; j < 4; j++)
            if (strcmp(argv[i], pn_services[j]) == 0)
                ok = true;
        if (!ok)
            return cli_usage("daemons", "unknown daemon '%s' (switchd, vmd, cfgdiskd, agentd)", argv[i]);
        if (nwant < 4)
            want[nwant++] = argv[i];
    }
    bool verbose = !cli_opts.quiet;
    bool start = strcmp(verb, "start") == 0, stop = strcmp(verb, "stop") == 0;
    if (strcmp(verb, "restart") == 0)
        start = stop = true;
    if (!start && !stop)
        return cli_usage("daemons", "unknown action '%s' (start, stop, restart)", verb);
    int rc = 0;
    if (stop)
        for (int i = 3; i >= 0; i--) {
            bool sel = nwant == 0;
            for (int j = 0; j < nwant; j++)
                sel |= strcmp(want[j], s_order[i]) == 0;
            if (sel && s_stop_one(s_order[i], verbose))
                rc = CLI_REFUSED;
        }
    if (start)
        for (int i = 0; i < 4; i++) {
            bool sel = nwant == 0;
            for (int j = 0; j < nwant; j++)
                sel |= strcmp(want[j], s_order[i]) == 0;
            if (sel && s_start_one(s_order[i], verbose)) {
                rc = CLI_REFUSED;
                break;
            }
        }
    return rc;
}

/* ------------------------------------------------------------------ call */

int cmd_call(int argc, char **argv)
{
    if (argc < 3 || cli_help(argc, argv, NULL)) {
        printf("usage: plugnet call SVC OP [KEY=STRING | KEY:=NUMBER|true|false]...\n"
               "Send one request and print the reply data as JSON (for scripts and debugging).\n");
        return argc < 3 ? CLI_USAGE : 0;
    }
    const char *svc = argv[1], *op = argv[2];
    bool known = false;
    for (int i = 0; i < 4; i++)
        known |= strcmp(svc, pn_services[i]) == 0;
    if (!known)
        return cli_usage("call", "unknown daemon '%s' (switchd, vmd, cfgdiskd, agentd)", svc);
    pn_val_t *args = pn_map();
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            pn_val_free(args);
            return cli_usage("call", "argument '%s' is not KEY=VALUE", argv[i]);
        }
        bool typed = eq[-1] == ':';
        char key[256];
        size_t kl = (size_t)(eq - argv[i]) - (typed ? 1 : 0);
        if (kl == 0 || kl >= sizeof(key)) {
            pn_val_free(args);
            return cli_usage("call", "argument '%s' has a bad key", argv[i]);
        }
        memcpy(key, argv[i], kl);
        key[kl] = 0;
        const char *v = eq + 1;
        if (!typed) {
            pn_map_set_str(args, key, v);
        } else if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
            pn_map_set_bool(args, key, v[0] == 't');
        } else {
            char *end;
            errno = 0;
            long long n = strtoll(v, &end, 10);
            if (*v == 0 || *end || errno) {
                pn_val_free(args);
                return cli_usage("call", "'%s' is not a number or boolean", v);
            }
            pn_map_set_int(args, key, n);
        }
    }
    pn_val_t *data = NULL;
    cli_call_unchecked = true; /* the daemon judges what the user typed */
    int rc = cli_call(svc, op, args, &data);
    if (rc == CLI_OK)
        cli_print_json(data);
    pn_val_free(data);
    return rc;
}
