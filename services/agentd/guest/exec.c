/* plugnet-agent: a session's command.  An OPEN of kind exec names argv,
 * env, cwd, a pty (and its size) or pipes, a timeout; the command starts
 * with vfork in its own session (setsid), as root's login environment
 * plus what the host asked for.  No argv: root's login shell. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"

static char **s_env_add(char **env, size_t *n, const char *kv)
{
    size_t kl = strcspn(kv, "=");
    for (size_t i = 0; i < *n; i++)
        if (!strncmp(env[i], kv, kl) && env[i][kl] == '=') {
            env[i] = (char *)kv;
            return env;
        }
    char **e = realloc(env, (*n + 2) * sizeof *e);
    if (!e)
        return env;
    e[(*n)++] = (char *)kv;
    e[*n] = NULL;
    return e;
}

/* The child side of exec: never returns. */
static void s_child(const char *file, char **argv, char **env, const char *cwd, const char *home, int in,
                    int out, int err, const char *pts)
{
    /* Whatever the agent inherited (a background start ignores SIGINT
     * and SIGQUIT) or set for itself must not reach the command. */
    for (int i = 1; i < 65; i++)
        signal(i, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    setsid();
    if (pts) {
        int t = open(pts, O_RDWR);
        if (t < 0)
            _exit(126);
        ioctl(t, TIOCSCTTY, 0);
        in = out = err = t;
    }
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    if (cwd && chdir(cwd) < 0) {
        dprintf(2, "plugnet-agent: cannot change to directory %s: %s\n", cwd, strerror(errno));
        _exit(126);
    }
    if (!cwd && chdir(home) < 0 && chdir("/") < 0)
        _exit(126);
    execvpe(file, argv, env);
    int e = errno;
    dprintf(2, "plugnet-agent: cannot run %s: %s\n", file, strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}

/* vfork and run the child; in a function of its own so that no local of
 * the caller lives across the vfork. */
static __attribute__((noinline)) pid_t s_spawn(const char *file, char **argv, char **env, const char *cwd,
                                               const char *home, int in, int out, int err, const char *pts)
{
    pid_t pid = vfork();
    if (pid == 0)
        s_child(file, argv, env, cwd, home, in, out, err, pts);
    return pid;
}

const char *ga_exec_open(ga_sess_t *s, ag_tlv_iter_t it)
{
    static char err[256];
    char *argv[1025];
    size_t argc = 0;
    char *strs[2200];
    size_t nstrs = 0;
    char *cwd = NULL, *term = NULL;
    uint32_t pty = 0, timeout = 0;
    bool want_pty = false;
    size_t nenv = 0;
    char **env = NULL;
    const char *ret = NULL;
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    int r;

    struct passwd *pw = getpwuid(getuid());
    const char *home = pw && pw->pw_dir ? pw->pw_dir : "/root";
    const char *shell = pw && pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
    static char home_kv[300], shell_kv[300];
    snprintf(home_kv, sizeof home_kv, "HOME=%s", home);
    snprintf(shell_kv, sizeof shell_kv, "SHELL=%s", shell);
    env = s_env_add(env, &nenv, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env = s_env_add(env, &nenv, home_kv);
    env = s_env_add(env, &nenv, shell_kv);
    env = s_env_add(env, &nenv, "USER=root");
    env = s_env_add(env, &nenv, "LOGNAME=root");
    /* UML guests need this one to run at all (vmd puts it on the kernel
     * command line, so init and the agent have it): keep it. */
    static char tunables[512];
    const char *gt = getenv("GLIBC_TUNABLES");
    if (gt && strlen(gt) < sizeof tunables - 16) {
        snprintf(tunables, sizeof tunables, "GLIBC_TUNABLES=%s", gt);
        env = s_env_add(env, &nenv, tunables);
    }

    while ((r = ag_tlv_next(&it, &tag, &v, &len)) == 1) {
        char *str = NULL;
        switch (tag) {
        case AG_K_ARG:
        case AG_K_ENV:
        case AG_K_CWD:
        case AG_K_TERM:
            if (nstrs >= sizeof strs / sizeof *strs) {
                ret = "too many strings in the request";
                goto out;
            }
            str = ag_tlv_as_str(v, len);
            if (!str) {
                ret = "bad string in the request";
                goto out;
            }
            strs[nstrs++] = str;
            break;
        }
        switch (tag) {
        case AG_K_ARG:
            if (argc >= 1024) {
                ret = "more than 1024 arguments";
                goto out;
            }
            argv[argc++] = str;
            break;
        case AG_K_ENV:
            if (!strchr(str, '=') || str[0] == '=') {
                snprintf(err, sizeof err, "environment entry '%.100s' is not K=V", str);
                ret = err;
                goto out;
            }
            env = s_env_add(env, &nenv, str);
            break;
        case AG_K_CWD:
            cwd = str;
            break;
        case AG_K_TERM:
            term = str;
            break;
        case AG_K_PTY:
            want_pty = true;
            pty = ag_tlv_as_u32(v, len);
            break;
        case AG_K_TIMEOUT:
            timeout = ag_tlv_as_u32(v, len);
            break;
        }
    }
    if (r < 0) {
        ret = "malformed open request";
        goto out;
    }
    static char login0[64];
    const char *file = argv[0];
    if (argc == 0) {
        /* No command: the login shell, named "-sh" so it reads its profile. */
        const char *b = strrchr(shell, '/');
        snprintf(login0, sizeof login0, "-%s", b ? b + 1 : shell);
        argv[argc++] = login0;
        file = shell;
    }
    argv[argc] = NULL;
    static char term_kv[128];
    if (want_pty) {
        snprintf(term_kv, sizeof term_kv, "TERM=%.100s", term ? term : "xterm");
        env = s_env_add(env, &nenv, term_kv);
    }
    if (!env) {
        ret = "out of memory";
        goto out;
    }

    int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
    int master = -1;
    char pts[128] = "";
    if (want_pty) {
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, pts, sizeof pts)) {
            snprintf(err, sizeof err, "cannot allocate a pty: %s", strerror(errno));
            ga_close(&master);
            ret = err;
            goto out;
        }
        struct winsize ws = { .ws_row = (unsigned short)(pty >> 16), .ws_col = (unsigned short)(pty & 0xffff) };
        if (ws.ws_row && ws.ws_col)
            ioctl(master, TIOCSWINSZ, &ws);
    } else if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
        snprintf(err, sizeof err, "cannot make pipes: %s", strerror(errno));
        ret = err;
        for (int i = 0; i < 2; i++) {
            ga_close(&pin[i]);
            ga_close(&pout[i]);
            ga_close(&perr[i]);
        }
        goto out;
    }
    /* vfork: no copy of the agent's page tables, which is most of the cost
     * of an exec on UML.  Every signal stays blocked until the child has
     * reset its dispositions, so no agent handler runs on the shared
     * memory; the child only makes system calls until it execs. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = s_spawn(file, argv, env, cwd, home, pin[0], pout[1], perr[1], want_pty ? pts : NULL);
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        snprintf(err, sizeof err, "cannot fork: %s", strerror(fork_errno));
        ret = err;
        ga_close(&master);
        for (int i = 0; i < 2; i++) {
            ga_close(&pin[i]);
            ga_close(&pout[i]);
            ga_close(&perr[i]);
        }
        goto out;
    }
    s->pid = pid;
    if (want_pty) {
        s->pty = true;
        s->in_fd = s->out_fd = master;
        ga_nonblock(master);
    } else {
        close(pin[0]);
        close(pout[1]);
        close(perr[1]);
        s->in_fd = pin[1];
        s->out_fd = pout[0];
        s->err_fd = perr[0];
        ga_nonblock(s->in_fd);
        ga_nonblock(s->out_fd);
        ga_nonblock(s->err_fd);
    }
    if (timeout)
        s->deadline = ga_now_ms() + timeout;
out:
    for (size_t i = 0; i < nstrs; i++)
        free(strs[i]);
    free(env);
    return ret;
}
