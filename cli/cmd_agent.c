/* plugnet exec | shell | cp: sessions through a node's agent.
 *
 * These stream, so they do not go through zmq request/reply: the CLI
 * connects to agentd's stream socket RUN/agentd.stream and speaks the
 * channel framing (docs/AGENT.md).  One connection is one session; closing
 * it ends the session and the agent kills the remote process group.
 *
 * A node that is still booting (its agent not up yet since the node
 * started) is waited for, up to AGENT_BOOT_WAIT_S by default: `plugnet node
 * start u1; plugnet exec u1 -- ...` works.  `--wait S` waits up to S seconds
 * in any case (an agent that is reconnecting too); `--wait 0` never waits.
 *
 * Exit codes: exec and shell exit with the remote status (128+N when a
 * signal N killed it, 124 when --timeout fired); 255 when plugnet itself
 * failed (like ssh): the message then says what the user can act on, "no
 * node 'wbe' (did you mean 'web'?)" or "node 'db' is stopped", from vmd,
 * rather than agentd's view of agents.  A closed stdout (| head) ends the
 * session quietly with 141.  cp exits 0, or 1 with a message. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "ag_chan.h"
#include "ag_tree.h"
#include "cli.h"

#define OUT_MAX (256u * 1024u)
#define EXIT_PLUGNET 255
/* Seconds a session waits, by default, for the agent of a node that is
 * still booting (UML boots in ~3 s, qemu under TCG in ~10 s; a loaded host
 * stretches both). */
#define AGENT_BOOT_WAIT_S 60

/* How long to wait for the node's agent: --wait S given (wait_set) or the
 * default wait while the node boots. */
typedef struct {
    bool set;
    uint32_t ms;
} agent_wait_t;

static void s_open_wait(ag_buf_t *open, const agent_wait_t *w)
{
    if (!w->set)
        ag_tlv_u32(open, AG_K_BOOTWAIT, AGENT_BOOT_WAIT_S * 1000);
    else if (w->ms)
        ag_tlv_u32(open, AG_K_WAIT, w->ms);
}

typedef struct {
    int fd;
    ag_dec_t dec;
    ag_buf_t out;
    bool stdin_open, pty;
    ag_tree_w_t *walker;
    ag_tree_r_t *reader;
    bool eof_sent;
    bool exited, timed_out;
    uint32_t status, sig;
    bool has_sig;
    bool out_gone; /* our stdout's reader went away (EPIPE) */
    char *error, *errcode;
    char local_err[600];
} sess_t;

static int s_winch_pipe[2] = { -1, -1 };
static struct termios s_saved_tio;
static bool s_raw;

static void s_restore_tty(void)
{
    if (s_raw) {
        tcsetattr(0, TCSADRAIN, &s_saved_tio);
        s_raw = false;
    }
}

static void s_on_winch(int sig)
{
    int e = errno;
    if (s_winch_pipe[1] >= 0)
        (void)!write(s_winch_pipe[1], "w", 1);
    errno = e;
}

static int s_connect(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/agentd.stream", pn_run_dir());
    if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
        fprintf(stderr, "plugnet: run dir path too long\n");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "plugnet: agentd is not running (cannot connect to %s: %s); start it with 'plugnet daemons start'\n",
                sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    ag_sock_buffers(fd, 1 << 20);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int s_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };
            poll(&pf, 1, -1);
            continue;
        }
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void s_on_exit(sess_t *s, const ag_frame_t *f)
{
    ag_tlv_iter_t it = { f->payload, f->payload + f->len };
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    s->exited = true;
    while (ag_tlv_next(&it, &tag, &v, &len) == 1) {
        switch (tag) {
        case AG_K_STATUS: s->status = ag_tlv_as_u32(v, len); break;
        case AG_K_SIGNAL: s->sig = ag_tlv_as_u32(v, len); s->has_sig = true; break;
        case AG_K_TIMEDOUT: s->timed_out = true; break;
        case AG_K_ERROR: free(s->error); s->error = ag_tlv_as_str(v, len); break;
        case AG_K_ERRCODE: free(s->errcode); s->errcode = ag_tlv_as_str(v, len); break;
        }
    }
}

static void s_frame(sess_t *s, const ag_frame_t *f)
{
    switch (f->type) {
    case AG_T_DATA:
        if (s->reader) {
            if (!s->local_err[0] && ag_tree_r_feed(s->reader, f->payload, f->len) < 0)
                snprintf(s->local_err, sizeof s->local_err, "%s", ag_tree_r_error(s->reader));
        } else if (s_write_all(f->flags == AG_STDERR ? 2 : 1, f->payload, f->len) < 0 && f->flags != AG_STDERR) {
            /* Our stdout is gone (e.g. `| head`): stop like a pipe would,
             * quietly when its reader left (EPIPE), as cat and grep do. */
            s->out_gone = errno == EPIPE;
            snprintf(s->local_err, sizeof s->local_err, "cannot write output: %s", strerror(errno));
        }
        break;
    case AG_T_EXIT:
        s_on_exit(s, f);
        break;
    default:
        break;
    }
}

static void s_send_winsize(sess_t *s)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
        return;
    uint8_t p[4];
    ag_put32(p, (uint32_t)ws.ws_row << 16 | ws.ws_col);
    ag_frame_put(&s->out, AG_T_RESIZE, 0, 1, p, 4);
}

/* Run the session until the agent reports its end. */
static int s_run(sess_t *s)
{
    while (!s->exited) {
        struct pollfd pf[3];
        int np = 0, timeout = -1;
        pf[np++] = (struct pollfd){ .fd = s->fd, .events = (short)(POLLIN | (ag_buf_used(&s->out) ? POLLOUT : 0)) };
        int in_i = -1, w_i = -1;
        if (s->stdin_open && ag_buf_used(&s->out) < OUT_MAX) {
            in_i = np;
            pf[np++] = (struct pollfd){ .fd = 0, .events = POLLIN };
        }
        if (s->pty && s_winch_pipe[0] >= 0) {
            w_i = np;
            pf[np++] = (struct pollfd){ .fd = s_winch_pipe[0], .events = POLLIN };
        }
        if (s->walker && !s->eof_sent && ag_buf_used(&s->out) < OUT_MAX)
            timeout = 0;
        int r = poll(pf, (nfds_t)np, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(s->local_err, sizeof s->local_err, "poll: %s", strerror(errno));
            return -1;
        }
        while (s->walker && !s->eof_sent && ag_buf_used(&s->out) < OUT_MAX) {
            size_t mark;
            if (ag_frame_begin(&s->out, &mark) < 0)
                return -1;
            uint32_t crc;
            long n = ag_tree_w_read_crc(s->walker, s->out.data + mark + AG_HDR, AG_CHUNK, &crc);
            if (n < 0) {
                s->out.len = mark;
                snprintf(s->local_err, sizeof s->local_err, "%s", ag_tree_w_error(s->walker));
                return -1;
            }
            if (n == 0) {
                s->out.len = mark;
                ag_frame_put(&s->out, AG_T_EOF, AG_STDIN, 1, NULL, 0);
                s->eof_sent = true;
                break;
            }
            s->out.len = mark + AG_HDR + (size_t)n;
            ag_frame_finish_crc(&s->out, mark, AG_T_DATA, AG_STDIN, 1, crc);
        }
        if (in_i >= 0 && pf[in_i].revents) {
            size_t mark;
            if (ag_frame_begin(&s->out, &mark) < 0)
                return -1;
            ssize_t n = read(0, s->out.data + mark + AG_HDR, AG_CHUNK);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                s->out.len = mark;
            } else if (n <= 0) {
                s->out.len = mark;
                s->stdin_open = false;
                ag_frame_put(&s->out, AG_T_EOF, AG_STDIN, 1, NULL, 0);
            } else {
                s->out.len = mark + AG_HDR + (size_t)n;
                ag_frame_finish(&s->out, mark, AG_T_DATA, AG_STDIN, 1);
            }
        }
        if (w_i >= 0 && pf[w_i].revents) {
            char b[64];
            (void)!read(s_winch_pipe[0], b, sizeof b);
            s_send_winsize(s);
        }
        if (ag_buf_used(&s->out)) {
            long w = ag_buf_flush(&s->out, s->fd);
            if (w < 0) {
                /* The session ended while we were still sending (the
                 * command did not read all its input): its exit status
                 * is waiting on the socket. */
                s->out.off = s->out.len = 0;
                s->stdin_open = false;
                s->eof_sent = true;
                ag_tree_w_free(&s->walker);
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            for (;;) {
                size_t room;
                long n = ag_dec_read(&s->dec, s->fd, &room);
                if (n == -EAGAIN)
                    break;
                if (n <= 0) {
                    snprintf(s->local_err, sizeof s->local_err, "agentd closed the session without an exit status");
                    return -1;
                }
                ag_frame_t f;
                int k;
                while (!s->exited && (k = ag_dec_next(&s->dec, &f)) != AG_DEC_MORE) {
                    if (k != AG_DEC_FRAME || f.lost) {
                        snprintf(s->local_err, sizeof s->local_err, "damaged data from agentd");
                        return -1;
                    }
                    s_frame(s, &f);
                    if (s->local_err[0])
                        return -1;
                }
                if (s->exited || (size_t)n < room)
                    break;
            }
        }
    }
    return 0;
}

static void s_sess_free(sess_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    ag_dec_free(&s->dec);
    ag_buf_free(&s->out);
    ag_tree_w_free(&s->walker);
    ag_tree_r_free(&s->reader);
    free(s->error);
    free(s->errcode);
}

static int s_open(sess_t *s, ag_buf_t *open)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    if (ag_buf_used(open) > AG_MAX_PAYLOAD) {
        fprintf(stderr, "plugnet: the command line and environment exceed %u bytes\n", AG_MAX_PAYLOAD);
        return -1;
    }
    if (ag_dec_init(&s->dec) < 0)
        return -1;
    s->dec.trusted = true; /* agentd checked what came over the channel */
    s->fd = s_connect();
    if (s->fd < 0)
        return -1;
    ag_frame_put(&s->out, AG_T_OPEN, 0, 1, ag_buf_head(open), ag_buf_used(open));
    return 0;
}

/* agentd knows agents, not nodes: when it has none for node (not_found) or
 * the agent is down (unavailable), ask vmd what the node is and say that
 * instead: "no node 'wbe' (did you mean 'web'?)", "node 'db' is stopped".
 * true with msg set; false (agentd's words stand) when vmd does not answer
 * or the node runs. */
static bool s_explain(const sess_t *s, const char *node, char *msg, size_t len)
{
    if (!s->errcode || (strcmp(s->errcode, "not_found") && strcmp(s->errcode, "unavailable")))
        return false;
    char state[32];
    char **names = cli_node_names(node, state, sizeof state);
    if (!names)
        return false;
    size_t n = 0;
    while (names[n])
        n++;
    bool said = true;
    if (!state[0]) {
        const char *near = cli_suggest(node, (const char *const *)names, n);
        if (near)
            snprintf(msg, len, "no node '%s' (did you mean '%s'?)", node, near);
        else
            snprintf(msg, len, "no node '%s' (plugnet node ls lists them)", node);
    } else if (!strcmp(state, "stopped") || !strcmp(state, "defined") || !strcmp(state, "crashed")) {
        snprintf(msg, len, "node '%s' is %s; start it with 'plugnet node start %s'", node,
                 !strcmp(state, "defined") ? "not started" : state, node);
    } else if (!strcmp(state, "stopping")) {
        snprintf(msg, len, "node '%s' is stopping", node);
    } else {
        said = false;
    }
    cli_names_free(&names);
    return said;
}

/* ----------------------------------------------------------------- exec */

/* The usage on f (stdout for --help); CLI_USAGE. */
static int s_exec_usage_to(FILE *f, const char *cmd)
{
    if (!strcmp(cmd, "shell"))
        fprintf(f, "usage: plugnet shell NODE [--wait S]\n"
                   "  --wait S     wait up to S seconds for the node's agent (default: %d s\n"
                   "               while the node boots; 0: never wait)\n", AGENT_BOOT_WAIT_S);
    else
        fprintf(f, "usage: plugnet exec NODE [-t] [-e K=V]... [--cwd DIR] [--timeout S] [--wait S] -- CMD [ARGS...]\n"
                        "  -t           run in a pty (interactive programs, Ctrl-C)\n"
                        "  -e K=V       set an environment variable\n"
                        "  --cwd DIR    working directory (default: root's home)\n"
                        "  --timeout S  kill the command after S seconds (exit 124)\n"
                        "  --wait S     wait up to S seconds for the node's agent to come up\n"
                        "               (default: %d s while the node still boots; 0: never wait)\n",
                AGENT_BOOT_WAIT_S);
    fprintf(f, "Exit status: the command's own (128+N when signal N killed it, 124 after\n"
               "--timeout); %d when plugnet could not run it (no such node, the node\n"
               "stopped, its agent down, agentd not running), the reason on stderr;\n"
               "2 for a usage error.  A reader of the output that goes away (| head)\n"
               "ends the command quietly, with %d as for a SIGPIPE.\n", EXIT_PLUGNET, 128 + SIGPIPE);
    return CLI_USAGE;
}

static int s_exec_usage(const char *cmd) { return s_exec_usage_to(stderr, cmd); }

static bool s_parse_secs(const char *s, uint32_t *ms)
{
    char *end;
    double d = strtod(s, &end);
    if (end == s || *end || d < 0 || d > 86400 * 7)
        return false;
    *ms = (uint32_t)(d * 1000);
    return true;
}

static int s_exec_main(int argc, char **argv, bool shell)
{
    const char *node = NULL, *cwd = NULL;
    bool pty = shell;
    uint32_t timeout = 0;
    agent_wait_t wait = { 0 };
    ag_buf_t open = { 0 }, env = { 0 };
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            s_exec_usage_to(stdout, argv[0]);
            return 0;
        }
        if (!strcmp(a, "-t") && !shell) {
            pty = true;
        } else if (!strcmp(a, "-e") && i + 1 < argc && !shell) {
            if (!strchr(argv[i + 1], '=') || argv[i + 1][0] == '=')
                return cli_usage(argv[0], "-e wants K=V, not '%s'", argv[i + 1]);
            ag_tlv_str(&env, AG_K_ENV, argv[++i]);
        } else if (!strcmp(a, "--cwd") && i + 1 < argc && !shell) {
            cwd = argv[++i];
        } else if (!strcmp(a, "--timeout") && i + 1 < argc && !shell) {
            if (!s_parse_secs(argv[++i], &timeout))
                return cli_usage(argv[0], "--timeout wants seconds, not '%s'", argv[i]);
        } else if (!strcmp(a, "--wait") && i + 1 < argc) {
            if (!s_parse_secs(argv[++i], &wait.ms))
                return cli_usage(argv[0], "--wait wants seconds, not '%s'", argv[i]);
            wait.set = true;
        } else if (a[0] == '-') {
            return s_exec_usage(argv[0]);
        } else if (!node) {
            node = a;
        } else {
            break; /* the command, without "--" */
        }
    }
    if (!node)
        return s_exec_usage(argv[0]);
    if (!pn_name_valid(node))
        return cli_usage(argv[0], "'%s' is not a node name", node);
    if (shell && i < argc)
        return s_exec_usage(argv[0]);
    if (!shell && i >= argc)
        return cli_usage(argv[0], "no command given (plugnet exec NODE -- CMD ...)");

    ag_tlv_str(&open, AG_K_NODE, node);
    ag_tlv_str(&open, AG_K_KIND, "exec");
    for (; i < argc; i++)
        if (ag_tlv_str(&open, AG_K_ARG, argv[i]) < 0)
            return cli_usage(argv[0], "an argument is longer than 64 KiB");
    ag_buf_append(&open, ag_buf_head(&env), ag_buf_used(&env));
    ag_buf_free(&env);
    if (cwd)
        ag_tlv_str(&open, AG_K_CWD, cwd);
    if (timeout)
        ag_tlv_u32(&open, AG_K_TIMEOUT, timeout);
    s_open_wait(&open, &wait);
    if (pty) {
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        if (ioctl(0, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col) {
            ws.ws_row = 24;
            ws.ws_col = 80;
        }
        ag_tlv_u32(&open, AG_K_PTY, (uint32_t)ws.ws_row << 16 | ws.ws_col);
        const char *term = getenv("TERM");
        if (term && *term && strlen(term) < 64)
            ag_tlv_str(&open, AG_K_TERM, term);
    }
    sess_t s;
    int rc = s_open(&s, &open);
    ag_buf_free(&open);
    if (rc < 0) {
        s_sess_free(&s);
        return EXIT_PLUGNET;
    }
    s.stdin_open = true;
    s.pty = pty;
    signal(SIGPIPE, SIG_IGN);
    if (pty && isatty(0) && tcgetattr(0, &s_saved_tio) == 0) {
        struct termios raw = s_saved_tio;
        cfmakeraw(&raw);
        if (tcsetattr(0, TCSADRAIN, &raw) == 0) {
            s_raw = true;
            atexit(s_restore_tty);
        }
        if (pipe2(s_winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
            struct sigaction sa = { .sa_handler = s_on_winch, .sa_flags = SA_RESTART };
            sigaction(SIGWINCH, &sa, NULL);
        }
    }
    rc = s_run(&s);
    s_restore_tty();
    int code;
    if (rc < 0 && s.out_gone) {
        code = 128 + SIGPIPE; /* what the shell reports for a writer killed by SIGPIPE */
    } else if (rc < 0) {
        fprintf(stderr, "plugnet: %s: %s\n", argv[0], s.local_err[0] ? s.local_err : "failed");
        code = EXIT_PLUGNET;
    } else if (s.error) {
        char why[300];
        if (s_explain(&s, node, why, sizeof why))
            fprintf(stderr, "plugnet: %s\n", why);
        else
            fprintf(stderr, "plugnet: %s: %s: %s\n", argv[0], node, s.error);
        code = EXIT_PLUGNET;
    } else if (s.timed_out) {
        fprintf(stderr, "plugnet: %s: %s: the command timed out after %.3g s and was killed\n", argv[0], node,
                timeout / 1000.0);
        code = 124;
    } else if (s.has_sig) {
        code = 128 + (int)s.sig;
    } else {
        code = (int)(s.status & 0xff);
    }
    s_sess_free(&s);
    return code;
}

int cmd_exec(int argc, char **argv)
{
    return s_exec_main(argc, argv, false);
}

int cmd_shell(int argc, char **argv)
{
    return s_exec_main(argc, argv, true);
}

/* ------------------------------------------------------------------- cp */

/* "node:/path" -> node, path; false for a local path. */
static bool s_remote(const char *arg, char *node, size_t nodelen, const char **path)
{
    const char *c = strchr(arg, ':');
    if (!c || (size_t)(c - arg) >= nodelen)
        return false;
    const char *slash = strchr(arg, '/');
    if (slash && slash < c)
        return false;
    memcpy(node, arg, (size_t)(c - arg));
    node[c - arg] = 0;
    if (!pn_name_valid(node))
        return false;
    *path = c + 1;
    return true;
}

int cmd_cp(int argc, char **argv)
{
    bool rec = false;
    agent_wait_t wait = { 0 };
    const char *args[2];
    int na = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "-R")) {
            rec = true;
        } else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
            if (!s_parse_secs(argv[++i], &wait.ms))
                return cli_usage("cp", "--wait wants seconds, not '%s'", argv[i]);
            wait.set = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: plugnet cp [-r] [--wait S] SRC DST   (one of them NODE:/path)\n"
                   "  -r, -R       copy a directory and what it holds\n"
                   "  --wait S     wait up to S seconds for the node's agent to come up\n"
                   "               (default: %d s while the node still boots; 0: never wait)\n",
                   AGENT_BOOT_WAIT_S);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage("cp", "unknown option %s", argv[i]);
        } else if (na < 2) {
            args[na++] = argv[i];
        } else {
            return cli_usage("cp", "one source and one destination, please");
        }
    }
    if (na != 2)
        return cli_usage("cp", "usage: plugnet cp [-r] [--wait S] SRC DST (one of them NODE:/path)");
    char snode[32], dnode[32];
    const char *spath, *dpath;
    bool sr = s_remote(args[0], snode, sizeof snode, &spath);
    bool dr = s_remote(args[1], dnode, sizeof dnode, &dpath);
    if (sr == dr)
        return cli_usage("cp", sr ? "copying between two nodes is not supported; copy through the host"
                                  : "one of SRC and DST must be NODE:/path");
    const char *rpath = sr ? spath : dpath;
    if (rpath[0] != '/')
        return cli_usage("cp", "the node's path must be absolute, not '%s'", rpath);

    sess_t s;
    ag_buf_t open = { 0 };
    ag_tlv_str(&open, AG_K_NODE, sr ? snode : dnode);
    ag_tlv_str(&open, AG_K_KIND, sr ? "get" : "put");
    ag_tlv_str(&open, AG_K_PATH, rpath);
    ag_tlv_u32(&open, AG_K_RECURSIVE, rec);
    s_open_wait(&open, &wait);
    char err[600];
    ag_tree_w_t *w = NULL;
    if (!sr) {
        w = ag_tree_w_new(args[0], rec, err, sizeof err);
        if (!w) {
            fprintf(stderr, "plugnet: cp: %s\n", err);
            ag_buf_free(&open);
            return CLI_REFUSED;
        }
    }
    int rc = s_open(&s, &open);
    ag_buf_free(&open);
    s.walker = w;
    if (rc < 0) {
        s_sess_free(&s);
        return CLI_UNREACHABLE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (sr)
        s.reader = ag_tree_r_new(args[1]);
    rc = s_run(&s);
    int code = 0;
    if (rc < 0 && !s.error) {
        fprintf(stderr, "plugnet: cp: %s\n", s.local_err);
        code = CLI_REFUSED;
    } else if (s.error) {
        char why[300];
        if (s_explain(&s, sr ? snode : dnode, why, sizeof why))
            fprintf(stderr, "plugnet: %s\n", why);
        else
            fprintf(stderr, "plugnet: cp: %s: %s\n", sr ? snode : dnode, s.error);
        code = CLI_REFUSED;
    } else if (s.reader && ag_tree_r_finish(s.reader) < 0) {
        fprintf(stderr, "plugnet: cp: %s\n", ag_tree_r_error(s.reader));
        code = CLI_REFUSED;
    } else if (s.status != 0) {
        fprintf(stderr, "plugnet: cp: the agent reported status %u\n", s.status);
        code = CLI_REFUSED;
    }
    s_sess_free(&s);
    return code;
}
