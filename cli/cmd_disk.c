/* plugnet disk build | ls | gc: config disks, usable on their own with a
 * user's own qemu.  Each asks plugnet-cfgdiskd when it runs; otherwise (and
 * for `disk build --local`) the daemon's binary runs the op once in a child,
 * plugnet-cfgdiskd --local OP, into the same cache (same code, same bytes). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pn_addr.h"
#include "pn_json.h"

#define MAX_INPUT (64u << 20)

static void s_build_usage(FILE *f)
{
    fprintf(f,
            "usage: plugnet disk build NAME [options] [-o OUT]\n"
            "Build a node's config disk (the PLUGNET ext2 disk, or with --cloud-init a NoCloud\n"
            "seed labelled cidata) and copy it to OUT; without -o, print the cached image's path.\n"
            "  --hostname H                     host name (default NAME)\n"
            "  --number N                       node number 1..25599 (default 1): default MACs\n"
            "  --nic ethN[,mac=M][,ip=A/P]...[,gw=G]  a NIC; MAC defaults to 02:00:N/100:N%%100:00:E\n"
            "  --route DST[,via=GW][,nic=ethN]  a route (DST may be 'default'); the NIC defaults to\n"
            "                                   the one whose subnet holds GW\n"
            "  --mgmt A/P                       management address (PLUGNET_MGMT_IP)\n"
            "  --host IP=NAME[,NAME]...         an /etc/hosts entry\n"
            "  --key FILE                       SSH public keys for root (one per line)\n"
            "  --file SRC:DST[:MODE]            copy SRC into the guest at DST (mode: SRC's)\n"
            "  --script FILE                    run FILE in the guest after configuration\n"
            "  --cloud-init                     build a cloud-init NoCloud seed instead\n"
            "  --spec FILE.json                 start from a disk.build spec in JSON\n"
            "  --local                          build without the daemon (plugnet-cfgdiskd --local)\n"
            "  -o, --output OUT                 write the image to OUT\n");
}

static int s_read(const char *path, size_t max, char **buf, size_t *len, const char *what)
{
    int r = pn_file_read(path, max, buf, len);
    if (r == -EFBIG || r == -E2BIG) {
        fprintf(stderr, "plugnet disk: %s %s is larger than the %zu MiB a disk may carry\n", what, path,
                max >> 20);
        return -1;
    }
    if (r < 0) {
        fprintf(stderr, "plugnet disk: cannot read %s %s: %s\n", what, path, strerror(-r));
        return -1;
    }
    return 0;
}

static pn_val_t *s_arr_of(pn_val_t *spec, const char *key)
{
    pn_val_t *a = pn_get(spec, key);
    if (!a || a->type != PN_ARR) {
        a = pn_arr();
        pn_map_set(spec, key, a);
    }
    return a;
}

static pn_val_t *s_find_nic(pn_val_t *spec, const char *ifname)
{
    pn_val_t *nics = pn_get(spec, "nics");
    for (size_t i = 0; nics && i < pn_len(nics); i++) {
        const char *n = pn_get_str(pn_at(nics, i), "ifname", "");
        if (!strcmp(n, ifname))
            return pn_at(nics, i);
    }
    return NULL;
}

/* --nic ethN[,mac=M][,ip=A/P]...[,gw=G] */
static int s_opt_nic(pn_val_t *spec, const char *arg)
{
    char *s = strdup(arg), *save = NULL;
    char *tok = strtok_r(s, ",", &save);
    if (!tok || pn_ifname_index(tok) < 0) {
        free(s);
        return cli_usage("disk build", "--nic '%s': start with the NIC's name, eth0..eth31", arg);
    }
    if (s_find_nic(spec, tok)) {
        int r = cli_usage("disk build", "--nic '%s': %s is given twice", arg, tok);
        free(s);
        return r;
    }
    pn_val_t *nic = pn_map();
    pn_map_set_str(nic, "ifname", tok);
    pn_arr_push(s_arr_of(spec, "nics"), nic);
    pn_val_t *addrs = pn_arr();
    pn_map_set(nic, "addrs", addrs);
    while ((tok = strtok_r(NULL, ",", &save))) {
        if (!strncmp(tok, "mac=", 4))
            pn_map_set_str(nic, "mac", tok + 4);
        else if (!strncmp(tok, "ip=", 3))
            pn_arr_push(addrs, pn_str(tok + 3));
        else if (!strncmp(tok, "gw=", 3))
            pn_map_set_str(nic, "gateway", tok + 3);
        else {
            int r = cli_usage("disk build", "--nic '%s': unknown part '%s' (mac=, ip=, gw=)", arg, tok);
            free(s);
            return r;
        }
    }
    free(s);
    return 0;
}

/* Does prefix text ("10.0.0.1/24") hold address a? */
static bool s_holds(const char *prefix, const pn_addr_t *a)
{
    pn_addr_t p;
    const char *why;
    return pn_addr_parse(prefix, true, &p, &why) == 0 && pn_addr_contains(&p, a);
}

/* --route DST[,via=GW][,nic=ethN]; NICs must be given first. */
static int s_opt_route(pn_val_t *spec, const char *arg)
{
    char *s = strdup(arg), *save = NULL;
    char *dst = strtok_r(s, ",", &save);
    const char *via = NULL, *nicname = NULL;
    char *tok;
    while ((tok = strtok_r(NULL, ",", &save))) {
        if (!strncmp(tok, "via=", 4))
            via = tok + 4;
        else if (!strncmp(tok, "nic=", 4))
            nicname = tok + 4;
        else {
            int r = cli_usage("disk build", "--route '%s': unknown part '%s' (via=, nic=)", arg, tok);
            free(s);
            return r;
        }
    }
    pn_val_t *nic = NULL;
    if (!dst || !*dst) {
        free(s);
        return cli_usage("disk build", "--route '%s': start with the destination (A/P or default)", arg);
    }
    if (nicname) {
        nic = s_find_nic(spec, nicname);
    } else if (via) {
        pn_addr_t gw;
        const char *why;
        pn_val_t *nics = pn_get(spec, "nics");
        if (pn_addr_parse(via, false, &gw, &why) == 0)
            for (size_t i = 0; !nic && nics && i < pn_len(nics); i++) {
                pn_val_t *addrs = pn_get(pn_at(nics, i), "addrs");
                for (size_t j = 0; addrs && j < pn_len(addrs); j++)
                    if (pn_at(addrs, j)->type == PN_STR && s_holds(pn_at(addrs, j)->s.p, &gw))
                        nic = pn_at(nics, i);
            }
    }
    if (!nic && !nicname && pn_len(pn_get(spec, "nics")) == 1)
        nic = pn_at(pn_get(spec, "nics"), 0);
    if (!nic) {
        int r = cli_usage("disk build", "--route '%s': no NIC to put it on; give the NIC first with --nic, "
                          "and say which one with nic=ethN", arg);
        free(s);
        return r;
    }
    pn_val_t *rt = pn_map();
    pn_map_set_str(rt, "dst", dst);
    if (via)
        pn_map_set_str(rt, "via", via);
    pn_arr_push(s_arr_of(nic, "routes"), rt);
    free(s);
    return 0;
}

static int s_opt_host(pn_val_t *spec, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return cli_usage("disk build", "--host '%s': write IP=NAME[,NAME...]", arg);
    pn_val_t *h = pn_map();
    char *ip = strndup(arg, (size_t)(eq - arg));
    pn_map_set_str(h, "ip", ip);
    free(ip);
    pn_val_t *names = pn_arr();
    char *s = strdup(eq + 1), *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save))
        pn_arr_push(names, pn_str(t));
    free(s);
    pn_map_set(h, "names", names);
    pn_arr_push(s_arr_of(spec, "hosts"), h);
    return 0;
}

static int s_opt_key(pn_val_t *spec, const char *path)
{
    char *buf;
    size_t len;
    if (s_read(path, 1u << 20, &buf, &len, "key file") < 0)
        return CLI_USAGE;
    pn_val_t *keys = s_arr_of(spec, "keys");
    size_t before = pn_len(keys);
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (!l || line[0] == '#')
            continue;
        pn_arr_push(keys, pn_str(line));
    }
    free(buf);
    if (pn_len(keys) == before)
        return cli_usage("disk build", "--key %s: the file holds no key", path);
    return 0;
}

/* --file SRC:DST[:MODE]: DST starts at the first ":/". */
static int s_opt_file(pn_val_t *spec, const char *arg)
{
    const char *sep = strstr(arg, ":/");
    if (!sep || sep == arg)
        return cli_usage("disk build", "--file '%s': write SRC:DST[:MODE] with an absolute DST", arg);
    char *src = strndup(arg, (size_t)(sep - arg));
    char *dst = strdup(sep + 1);
    char *mode = NULL;
    char *colon = strrchr(dst, ':');
    if (colon && colon[1] && strspn(colon + 1, "01234567") == strlen(colon + 1) && strlen(colon + 1) <= 5) {
        *colon = '\0';
        mode = colon + 1;
    }
    char *buf;
    size_t len;
    struct stat st;
    if (stat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "plugnet disk: --file %s: not a regular file\n", src);
        free(src);
        free(dst);
        return CLI_USAGE;
    }
    if (s_read(src, MAX_INPUT, &buf, &len, "file") < 0) {
        free(src);
        free(dst);
        return CLI_USAGE;
    }
    pn_val_t *f = pn_map();
    pn_map_set_str(f, "path", dst);
    pn_map_set(f, "content", pn_bin(buf, len));
    if (mode)
        pn_map_set_str(f, "mode", mode);
    else
        pn_map_set_uint(f, "mode", st.st_mode & 07777);
    pn_arr_push(s_arr_of(spec, "files"), f);
    free(buf);
    free(src);
    free(dst);
    return 0;
}

/* Copy src to out atomically (out.tmp + rename). */
static int s_copy(const char *src, const char *out)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, (int)getpid());
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int o = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o < 0) {
        int e = -errno;
        close(in);
        return e;
    }
    char buf[65536];
    int r = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(o, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                r = w < 0 ? -errno : -EIO;
                break;
            }
            off += w;
        }
        if (r)
            break;
    }
    close(in);
    if (r) {
        close(o);
        unlink(tmp);
        return r;
    }
    return pn_file_commit(o, tmp, out, true);
}

/* plugnet-cfgdiskd next to this executable, else from PATH. */
static void s_cfgdiskd_path(char *out, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        snprintf(out, len, "%s/plugnet-cfgdiskd", self);
        if (access(out, X_OK) == 0)
            return;
    }
    snprintf(out, len, "plugnet-cfgdiskd");
}

/* Write all of p to fd.  0 or -errno. */
static int s_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* exe --local op with in on its stdin; *out its stdout (malloc'd).  0, or
 * -errno, or -ECHILD when it did not exit 0. */
static int s_spawn(const char *exe, const char *op, const char *in, char **out, size_t *outlen)
{
    int pin[2], pout[2];
    if (pipe2(pin, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(pout, O_CLOEXEC) < 0) {
        int e = -errno;
        close(pin[0]);
        close(pin[1]);
        return e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pout[1], STDOUT_FILENO);
    char *argv[] = { (char *)exe, "--local", (char *)op, NULL };
    pid_t pid;
    int r = -posix_spawnp(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pin[0]);
    close(pout[1]);
    if (r == 0) {
        /* A child that stops reading early says why on stderr and in its
         * exit status, not by killing us with SIGPIPE. */
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        sigaction(SIGPIPE, &ign, &old);
        int w = s_write_all(pin[1], in, strlen(in));
        sigaction(SIGPIPE, &old, NULL);
        close(pin[1]);
        char fdpath[32];
        snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", pout[0]);
        r = pn_file_read(fdpath, 64u << 20, out, outlen);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!r && (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
            free(*out);
            r = w < 0 && w != -EPIPE ? w : -ECHILD;
        }
    } else {
        close(pin[1]);
    }
    close(pout[0]);
    return r;
}

/* Run op without the daemon: plugnet-cfgdiskd --local OP, args (ownership
 * passes) as JSON on its stdin, the reply as JSON from its stdout.  Like
 * cli_call: CLI_OK with *data, or CLI_REFUSED after saying why on stderr
 * after prefix ("plugnet disk ls"). */
static int s_local(const char *op, pn_val_t *args, pn_val_t **data, const char *prefix)
{
    char exe[4200], err[256];
    s_cfgdiskd_path(exe, sizeof exe);
    char *in = pn_val_json_str(args), *out = NULL;
    size_t outlen = 0;
    pn_val_free(args);
    int r = in ? s_spawn(exe, op, in, &out, &outlen) : -ENOMEM;
    free(in);
    pn_val_t *reply = r == 0 ? pn_json_parse(out, outlen, err, sizeof err) : NULL;
    if (r == 0)
        free(out);
    if (!reply || reply->type != PN_MAP) {
        fprintf(stderr, "%s: %s --local %s failed%s%s\n", prefix, exe, op, r && r != -ECHILD ? ": " : "",
                r && r != -ECHILD ? strerror(-r) : "");
        pn_val_free(reply);
        return CLI_REFUSED;
    }
    if (!pn_get_bool(reply, "ok", false)) {
        /* An internal failure's message is a whole sentence; a refusal
         * names its code, as the daemon's replies do. */
        pn_val_t *e = pn_get(reply, "err");
        const char *code = pn_get_str(e, "code", "internal");
        bool internal = !strcmp(code, "internal");
        fprintf(stderr, "%s: %s%s%s\n", prefix, internal ? "" : code, internal ? "" : ": ",
                pn_get_str(e, "msg", "failed"));
        pn_val_free(reply);
        return CLI_REFUSED;
    }
    *data = pn_map_del(reply, "data");
    pn_val_free(reply);
    if (!*data)
        *data = pn_map();
    return CLI_OK;
}

static int s_disk_build(int argc, char **argv)
{
    enum { O_HOSTNAME = 256, O_NUMBER, O_NIC, O_ROUTE, O_MGMT, O_HOST, O_KEY, O_FILE, O_SCRIPT,
           O_CLOUD, O_SPEC, O_LOCAL };
    static const struct option opts[] = {
        { "hostname", required_argument, NULL, O_HOSTNAME },
        { "number", required_argument, NULL, O_NUMBER },
        { "nic", required_argument, NULL, O_NIC },
        { "route", required_argument, NULL, O_ROUTE },
        { "mgmt", required_argument, NULL, O_MGMT },
        { "host", required_argument, NULL, O_HOST },
        { "key", required_argument, NULL, O_KEY },
        { "file", required_argument, NULL, O_FILE },
        { "script", required_argument, NULL, O_SCRIPT },
        { "cloud-init", no_argument, NULL, O_CLOUD },
        { "spec", required_argument, NULL, O_SPEC },
        { "local", no_argument, NULL, O_LOCAL },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    /* Options are applied in order, so --spec goes first and flags extend it;
     * NICs must come before the routes that use them. */
    pn_val_t *spec = pn_map();
    const char *out = NULL;
    bool local = false;
    int c, r = 0;
    optind = 0; /* glibc: re-initialise getopt for this argv */
    while (r == 0 && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case O_HOSTNAME: pn_map_set_str(spec, "hostname", optarg); break;
        case O_NUMBER: {
            char *e;
            unsigned long n = strtoul(optarg, &e, 10);
            if (*e || !*optarg)
                r = cli_usage("disk build", "--number wants a number, not '%s'", optarg);
            else
                pn_map_set_uint(spec, "number", n);
            break;
        }
        case O_NIC: r = s_opt_nic(spec, optarg); break;
        case O_ROUTE: r = s_opt_route(spec, optarg); break;
        case O_MGMT: pn_map_set_str(spec, "mgmt_ip", optarg); break;
        case O_HOST: r = s_opt_host(spec, optarg); break;
        case O_KEY: r = s_opt_key(spec, optarg); break;
        case O_FILE: r = s_opt_file(spec, optarg); break;
        case O_SCRIPT: {
            char *buf;
            size_t len;
            if (s_read(optarg, MAX_INPUT, &buf, &len, "script") < 0) {
                r = CLI_USAGE;
                break;
            }
            pn_map_set(spec, "script", pn_bin(buf, len));
            free(buf);
            break;
        }
        case O_CLOUD: pn_map_set_str(spec, "format", "cidata"); break;
        case O_SPEC: {
            char *buf, err[256];
            size_t len;
            if (s_read(optarg, 256u << 20, &buf, &len, "spec") < 0) {
                r = CLI_USAGE;
                break;
            }
            pn_val_t *v = pn_json_parse(buf, len, err, sizeof err);
            free(buf);
            if (!v || v->type != PN_MAP) {
                r = cli_usage("disk build", "--spec %s: %s", optarg, v ? "not a JSON object" : err);
                pn_val_free(v);
                break;
            }
            /* Keys given so far win over the file's. */
            for (size_t i = 0; i < v->m.n; i++)
                if (!pn_get(spec, v->m.k[i]))
                    pn_map_set(spec, v->m.k[i], pn_val_dup(v->m.v[i]));
            pn_val_free(v);
            break;
        }
        case O_LOCAL: local = true; break;
        case 'o': out = optarg; break;
        case 'h': s_build_usage(stdout); pn_val_free(spec); return 0;
        default: r = CLI_USAGE; break;
        }
    }
    if (r) {
        pn_val_free(spec);
        return r;
    }
    if (optind < argc)
        pn_map_set_str(spec, "name", argv[optind++]);
    if (optind < argc) {
        pn_val_free(spec);
        return cli_usage("disk build", "unexpected argument '%s'", argv[optind]);
    }
    if (!pn_get(spec, "name")) {
        pn_val_free(spec);
        return cli_usage("disk build", "give the node's NAME");
    }
    if (!pn_get(spec, "number"))
        pn_map_set_uint(spec, "number", 1);
    /* Default MACs from the node number (DESIGN.md's seed rule). */
    uint64_t n = pn_get_uint(spec, "number", 1);
    pn_val_t *nics = pn_get(spec, "nics");
    for (size_t i = 0; nics && i < pn_len(nics); i++) {
        pn_val_t *nic = pn_at(nics, i);
        if (!pn_get(nic, "mac") && n <= 25599) {
            int e = pn_ifname_index(pn_get_str(nic, "ifname", ""));
            pn_map_set(nic, "mac", pn_strf("02:00:%02x:%02x:00:%02x", (unsigned)(n / 100),
                                           (unsigned)(n % 100), (unsigned)(e < 0 ? 0 : e)));
        }
    }

    pn_val_t *data = NULL;
    if (!local && pn_svc_socket_present("cfgdiskd")) {
        /* A large disk may take a while: allow at least a minute. */
        int t = cli_opts.timeout_ms > 60000 ? cli_opts.timeout_ms : 60000;
        r = cli_call_t(PN_OP_DISK_BUILD, spec, t, &data);
    } else {
        r = s_local(PN_OPNAME(DISK_BUILD), spec, &data, "plugnet: disk build");
    }
    if (r != CLI_OK)
        return r;
    const char *path = pn_get_str(data, "path", "");
    if (out) {
        int e = s_copy(path, out);
        if (e < 0) {
            fprintf(stderr, "plugnet disk: cannot write %s: %s\n", out, strerror(-e));
            pn_val_free(data);
            return CLI_REFUSED;
        }
        pn_map_set_str(data, "out", out);
    }
    if (cli_opts.json) {
        cli_print_json(data);
    } else if (!cli_opts.quiet) {
        char sz[32];
        cli_fmt_bytes(pn_get_uint(data, "size", 0), sz, sizeof sz);
        printf("%s disk %s (%s, sha256 %.16s, %s)%s%s\n", pn_get_str(data, "format", "?"),
               out ? out : path, sz, pn_get_str(data, "sha256", ""),
               pn_get_bool(data, "cached", false) ? "from the cache" : "built", out ? "\n  cached as " : "",
               out ? path : "");
    }
    pn_val_free(data);
    return CLI_OK;
}

static int s_disk_ls(int argc, char **argv)
{
    if (argc > 1)
        return cli_usage("disk ls", "unexpected argument '%s'", argv[1]);
    pn_val_t *data = NULL;
    int r = pn_svc_socket_present("cfgdiskd") ? cli_call(PN_OP_DISK_LS, NULL, &data)
                                              : s_local(PN_OPNAME(DISK_LS), pn_map(), &data, "plugnet disk ls");
    if (r != CLI_OK)
        return r;
    pn_val_t *disks = pn_get(data, "disks");
    if (cli_opts.json) {
        cli_print_json(data);
    } else {
        cli_table_t *t = cli_table_new("NAME", "FORMAT", "SIZE", "BUILT", "SHA256", "PATH", NULL);
        for (size_t i = 0; disks && i < pn_len(disks); i++) {
            pn_val_t *d = pn_at(disks, i);
            char sz[32], built[32], sha[17];
            cli_fmt_bytes(pn_get_uint(d, "size", 0), sz, sizeof sz);
            time_t ts = (time_t)(pn_get_uint(d, "built_ns", 0) / 1000000000u);
            struct tm tm;
            strftime(built, sizeof built, "%Y-%m-%d %H:%M", localtime_r(&ts, &tm));
            snprintf(sha, sizeof sha, "%.16s", pn_get_str(d, "sha256", ""));
            cli_table_add(t, pn_get_str(d, "name", "?"), pn_get_str(d, "format", "?"), sz, built, sha,
                          pn_get_str(d, "path", ""), NULL);
        }
        cli_table_print(t, stdout);
        cli_table_destroy(&t);
    }
    pn_val_free(data);
    return CLI_OK;
}

static int s_disk_gc(int argc, char **argv)
{
    static const struct option opts[] = {
        { "keep", required_argument, NULL, 'k' },
        { "all", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    pn_val_t *keep = pn_arr();
    bool all = false;
    int c;
    optind = 0; /* glibc: re-initialise getopt for this argv */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': pn_arr_push(keep, pn_str(optarg)); break;
        case 'a': all = true; break;
        case 'h':
            printf("usage: plugnet disk gc --keep PATH|KEY|SHA256... | --all\n"
                   "Remove every cached config disk not kept.  Pass the disks your nodes use with\n"
                   "--keep (or --all to empty the cache).\n");
            pn_val_free(keep);
            return 0;
        default: pn_val_free(keep); return CLI_USAGE;
        }
    }
    if (optind < argc || (!all && pn_len(keep) == 0)) {
        pn_val_free(keep);
        return cli_usage("disk gc", "name the disks to keep with --keep, or remove them all with --all");
    }
    pn_val_t *args = pn_map();
    pn_map_set(args, "keep", keep);
    pn_val_t *data = NULL;
    int r = pn_svc_socket_present("cfgdiskd") ? cli_call(PN_OP_DISK_GC, args, &data)
                                              : s_local(PN_OPNAME(DISK_GC), args, &data, "plugnet disk gc");
    if (r != CLI_OK)
        return r;
    if (cli_opts.json) {
        cli_print_json(data);
    } else if (!cli_opts.quiet) {
        char sz[32];
        cli_fmt_bytes(pn_get_uint(data, "freed", 0), sz, sizeof sz);
        printf("removed %zu disk%s (%s), kept %llu\n", pn_len(pn_get(data, "removed")),
               pn_len(pn_get(data, "removed")) == 1 ? "" : "s", sz,
               (unsigned long long)pn_get_uint(data, "kept", 0));
    }
    pn_val_free(data);
    return CLI_OK;
}

int cmd_disk(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: plugnet disk build NAME [options] [-o OUT] | ls | gc --keep X... | --all\n\n");
        s_build_usage(f);
        return argc < 2 ? CLI_USAGE : 0;
    }
    if (!strcmp(argv[1], "build"))
        return s_disk_build(argc - 1, argv + 1);
    if (!strcmp(argv[1], "ls"))
        return s_disk_ls(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gc"))
        return s_disk_gc(argc - 1, argv + 1);
    return cli_usage("disk", "no subcommand '%s' (build, ls, gc)", argv[1]);
}
