/* plugnet-agent: the sessions multiplexed on the channel.  Each is an
 * exec (exec.c) or a file put/get (cp.c), opened by the host's OPEN and
 * ended by an EXIT we send (or the host's CLOSE).  A session's process
 * group is killed when it closes, so a CLI that dies leaves no orphan.
 * Flow control both ways: the host's credit bounds what we read from a
 * program, our grants bound what the host sends (on a serial line out of
 * one budget shared by every session). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"

ga_sess_t *ga_sess_find(ga_t *a, uint32_t sid)
{
    for (ga_sess_t *s = a->sessions; s; s = s->next)
        if (s->sid == sid)
            return s;
    return NULL;
}

void ga_sess_free(ga_sess_t *s)
{
    ga_t *a = s->a;
    for (ga_sess_t **pp = &a->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    a->nsess--;
    /* No orphans: the whole process group goes with the session. */
    if (s->pid > 0 && !s->reaped) {
        kill(-s->pid, SIGKILL);
        kill(s->pid, SIGKILL); /* in case it has not reached setsid() yet */
    }
    if (s->pty) {
        ga_close(&s->out_fd);
        s->in_fd = -1;
    }
    ga_close(&s->in_fd);
    ga_close(&s->out_fd);
    ga_close(&s->err_fd);
    ag_buf_free(&s->in);
    ag_tree_r_free(&s->reader);
    ag_tree_w_free(&s->walker);
    free(s);
}

void ga_sess_exit(ga_sess_t *s, const char *error)
{
    ag_buf_t p = { 0 };
    if (error) {
        ag_tlv_str(&p, AG_K_ERROR, error);
        ag_tlv_u32(&p, AG_K_STATUS, 255);
    } else if (s->kind != GA_EXEC) {
        ag_tlv_u32(&p, AG_K_STATUS, 0);
    } else if (WIFSIGNALED(s->wstatus)) {
        ag_tlv_u32(&p, AG_K_SIGNAL, (uint32_t)WTERMSIG(s->wstatus));
    } else {
        ag_tlv_u32(&p, AG_K_STATUS, (uint32_t)WEXITSTATUS(s->wstatus));
    }
    if (s->timed_out)
        ag_tlv_u32(&p, AG_K_TIMEDOUT, 1);
    ga_send(s->a, AG_T_EXIT, 0, s->sid, ag_buf_head(&p), ag_buf_used(&p));
    ag_buf_free(&p);
    ga_sess_free(s);
}

void ga_sess_kill_all(ga_t *a)
{
    while (a->sessions)
        ga_sess_free(a->sessions);
}

static void s_open(ga_t *a, const ag_frame_t *f)
{
    if (ga_sess_find(a, f->sid) || f->sid == 0) {
        ga_log("open of session %u which exists", f->sid);
        return;
    }
    ga_sess_t *s = calloc(1, sizeof *s);
    if (!s)
        return;
    s->a = a;
    s->sid = f->sid;
    s->in_fd = s->out_fd = s->err_fd = -1;
    ag_rxwin_init_n(&s->rx, a->window);
    if (a->budget) {
        /* The host starts with no credit (HELLO said window 0): the first
         * window is granted from the shared budget. */
        s->rx.owed = s->rx.allowed;
        s->rx.allowed = 0;
    }
    s->credit = AG_WINDOW;
    s->next = a->sessions;
    a->sessions = s;
    a->nsess++;
    if (a->nsess > AG_MAX_SESSIONS) {
        ga_sess_exit(s, "too many sessions on this node");
        return;
    }
    ag_tlv_iter_t it = { f->payload, f->payload + f->len };
    char *kind = NULL, *path = NULL;
    bool rec = false;
    uint8_t tag;
    const uint8_t *v;
    size_t len;
    ag_tlv_iter_t it2 = it;
    while (ag_tlv_next(&it2, &tag, &v, &len) == 1) {
        if (tag == AG_K_KIND && !kind)
            kind = ag_tlv_as_str(v, len);
        else if (tag == AG_K_PATH && !path)
            path = ag_tlv_as_str(v, len);
        else if (tag == AG_K_RECURSIVE)
            rec = ag_tlv_as_u32(v, len) != 0;
    }
    const char *err = NULL;
    char ebuf[600];
    if (!kind || !strcmp(kind, "exec")) {
        s->kind = GA_EXEC;
        err = ga_exec_open(s, it);
    } else if (!strcmp(kind, "put") || !strcmp(kind, "get")) {
        err = ga_cp_open(s, kind, path, rec, ebuf, sizeof ebuf);
    } else {
        err = "unknown session kind";
    }
    if (err)
        ga_sess_exit(s, err);
    free(kind);
    free(path);
}

/* Give the host credit back for what this session took in.  On a serial
 * line all sessions share one budget: what the host may have in flight
 * toward us, all sessions together, must fit in the tty's input buffer
 * (see ga_chan_open), so a grant is cut to what the budget has left and
 * the rest stays owed until other sessions' bytes arrive. */
static void s_grant(ga_sess_t *s)
{
    ga_t *a = s->a;
    uint32_t g = ag_rxwin_grant(&s->rx, ag_buf_used(&s->in));
    if (g && a->budget) {
        uint64_t out = 0;
        for (ga_sess_t *o = a->sessions; o; o = o->next)
            out += o->rx.allowed;
        out -= g; /* ag_rxwin_grant counted it already */
        uint32_t ok = out >= a->budget ? 0 : a->budget - out < g ? (uint32_t)(a->budget - out) : g;
        s->rx.allowed -= g - ok;
        s->rx.owed += g - ok;
        g = ok;
    }
    if (g) {
        uint8_t p[4];
        ag_put32(p, g);
        ga_send(s->a, AG_T_CREDIT, 0, s->sid, p, 4);
    }
}

/* The budget freed up (bytes arrived): sessions still owed credit get it. */
void ga_sess_grant_all(ga_t *a)
{
    if (!a->budget)
        return;
    for (ga_sess_t *s = a->sessions; s; s = s->next)
        if (s->rx.owed)
            s_grant(s);
}

static void s_stdin_data(ga_sess_t *s, const ag_frame_t *f)
{
    if (!ag_rxwin_take(&s->rx, f->len)) {
        ga_log("session %u: host overran its window", s->sid);
        ga_sess_exit(s, "flow control violated by the host");
        return;
    }
    if (s->kind == GA_PUT) {
        const char *err = ga_cp_put(s, f);
        if (err) {
            ga_sess_exit(s, err);
            return;
        }
    } else if (s->kind == GA_EXEC && !s->in_closed && !s->in_eof) {
        if (ag_buf_append(&s->in, f->payload, f->len) < 0) {
            ga_sess_exit(s, "out of memory");
            return;
        }
    }
    s_grant(s);
}

void ga_sess_frame(ga_t *a, const ag_frame_t *f)
{
    ga_sess_t *s = f->sid ? ga_sess_find(a, f->sid) : NULL;
    switch (f->type) {
    case AG_T_HELLO:
        if (f->flags & AG_F_REPLY)
            return;
        /* A host (re)starting the channel: whatever ran before is gone. */
        ga_sess_kill_all(a);
        ga_hello(a, AG_F_REPLY);
        return;
    case AG_T_PING:
        ga_send(a, AG_T_PONG, 0, 0, f->payload, f->len);
        return;
    case AG_T_PONG:
        return;
    case AG_T_OPEN:
        s_open(a, f);
        return;
    }
    if (!s) {
        if (f->type != AG_T_CLOSE && f->type != AG_T_CREDIT && f->type != AG_T_DATA)
            ga_log("%s frame for unknown session %u", ag_type_name(f->type), f->sid);
        return;
    }
    switch (f->type) {
    case AG_T_DATA:
        s_stdin_data(s, f);
        break;
    case AG_T_EOF:
        s->in_eof = true;
        if (s->kind == GA_PUT)
            ga_sess_exit(s, ga_cp_put_end(s));
        break;
    case AG_T_CREDIT:
        if (f->len == 4)
            s->credit += ag_get32(f->payload);
        break;
    case AG_T_RESIZE:
        if (f->len == 4 && s->pty) {
            uint32_t rc = ag_get32(f->payload);
            struct winsize ws = { .ws_row = (unsigned short)(rc >> 16), .ws_col = (unsigned short)(rc & 0xffff) };
            ioctl(s->out_fd, TIOCSWINSZ, &ws);
        }
        break;
    case AG_T_SIGNAL:
        if (f->len == 4 && s->pid > 0 && !s->reaped) {
            uint32_t sig = ag_get32(f->payload);
            if (sig >= 1 && sig < 65)
                kill(-s->pid, (int)sig);
        }
        break;
    case AG_T_CLOSE:
        ga_sess_free(s);
        break;
    default:
        ga_log("unexpected %s frame on session %u", ag_type_name(f->type), f->sid);
        break;
    }
}

void ga_sess_pump_out(ga_sess_t *s, int *fdp, int stream)
{
    ga_t *a = s->a;
    size_t want = s->credit < AG_CHUNK ? (size_t)s->credit : AG_CHUNK;
    size_t mark;
    if (ag_frame_begin(&a->out, &mark) < 0)
        return;
    ssize_t n = read(*fdp, a->out.data + mark + AG_HDR, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        a->out.len = mark;
        return;
    }
    if (n <= 0) { /* EOF; a pty's master says EIO once the slave is gone */
        a->out.len = mark;
        ga_send(s->a, AG_T_EOF, (uint8_t)stream, s->sid, NULL, 0);
        if (s->pty) {
            close(*fdp);
            s->out_fd = s->in_fd = -1;
        } else {
            ga_close(fdp);
        }
        return;
    }
    a->out.len = mark + AG_HDR + (size_t)n;
    ag_frame_finish(&a->out, mark, AG_T_DATA, (uint8_t)stream, s->sid);
    s->credit -= (uint64_t)n;
}

void ga_sess_pump_in(ga_sess_t *s)
{
    long w = ag_buf_flush(&s->in, s->in_fd);
    if (w < 0) {
        /* The program stopped reading: drop what it will never read. */
        s->in.off = s->in.len = 0;
        s->in_closed = true;
        if (!s->pty)
            ga_close(&s->in_fd);
    }
    s_grant(s);
}

void ga_sess_pump_get(ga_sess_t *s)
{
    int r = ga_cp_get(s);
    if (r <= 0)
        ga_sess_exit(s, r < 0 ? ag_tree_w_error(s->walker) : NULL);
}

void ga_sess_reaped(ga_t *a, pid_t pid, int st)
{
    for (ga_sess_t *s = a->sessions; s; s = s->next)
        if (s->pid == pid) {
            s->reaped = true;
            s->wstatus = st;
        }
}

void ga_sess_settle(ga_t *a)
{
    for (ga_sess_t *s = a->sessions, *nx; s; s = nx) {
        nx = s->next;
        if (s->kind == GA_EXEC && s->reaped && s->out_fd < 0 && s->err_fd < 0)
            ga_sess_exit(s, NULL);
        else if (s->kind == GA_EXEC && s->in_eof && !ag_buf_used(&s->in) && !s->in_closed) {
            s->in_closed = true;
            if (s->pty) {
                if (s->in_fd >= 0)
                    (void)!write(s->in_fd, "\x04", 1);
            } else {
                ga_close(&s->in_fd);
            }
        }
    }
}
