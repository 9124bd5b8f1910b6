/* plugnet-agent internals: the agent's state and its sessions.
 *
 * The files read top-down: agent.c (options, the poll loop) -> sess.c (the
 * sessions multiplexed on the channel and their frames), exec.c (running a
 * command) and cp.c (file put/get) -> chan.c (the channel device, frames in
 * and out); util.c has the clock and the log.  A lower file reports up
 * through callbacks passed in (ga_chan_cb_t), never by name.
 */
#ifndef GA_AGENT_H
#define GA_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ag_chan.h"
#include "ag_tree.h"

#define GA_OUT_HIGH (512u * 1024u) /* stop reading sessions above this channel queue */

enum { GA_EXEC, GA_PUT, GA_GET };

typedef struct ga ga_t;

typedef struct ga_sess {
    ga_t *a;
    uint32_t sid;
    int kind;
    pid_t pid;
    bool reaped, timed_out, pty;
    int wstatus;
    int in_fd, out_fd, err_fd; /* pty: in_fd == out_fd == master */
    ag_buf_t in;
    bool in_eof, in_closed;
    ag_rxwin_t rx;
    uint64_t credit;
    uint64_t deadline;
    ag_tree_r_t *reader;
    ag_tree_w_t *walker;
    struct ga_sess *next;
} ga_sess_t;

struct ga {
    int mode; /* 0 auto, 1 dev, 2 listen, 3 fd */
    const char *path;
    int fd;        /* channel */
    int lfd;       /* listening socket */
    bool is_sock;
    ag_dec_t dec;
    ag_buf_t out;   /* bulk frames */
    ag_buf_t urg;   /* HELLO, PONG, CREDIT: written at the next frame boundary */
    ag_wire_t wire;
    ga_sess_t *sessions;
    int nsess;
    uint64_t instance;
    uint32_t window; /* what each session may have in flight toward us */
    uint32_t budget; /* on a serial line: what all sessions together may (0: no limit) */
    uint64_t reopen_at;
    int sigfd;
    bool daemon;
    bool quit;
};

/* util.c */
uint64_t ga_now_ms(void);
/* A line on stderr, at most 20 per 10 s: the peer can trigger these. */
void ga_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ga_nonblock(int fd);
void ga_close(int *fd);

/* chan.c: the channel.  What the frames read mean is the caller's: it
 * passes these in to ga_chan_read. */
typedef struct ga_chan_cb {
    void (*frame)(void *arg, const ag_frame_t *f);
    /* A frame arrived damaged (its header is good: type, sid). */
    void (*damaged)(void *arg, const ag_frame_t *f);
    /* Noise took whole frames before the next one. */
    void (*lost)(void *arg, unsigned nlost);
    /* A batch of bytes was decoded. */
    void (*batch)(void *arg);
    /* The channel closed or failed (why): it must be reset. */
    void (*closed)(void *arg, const char *why);
} ga_chan_cb_t;

void ga_send(ga_t *a, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n);
void ga_hello(ga_t *a, uint8_t flags);
void ga_chan_open(ga_t *a);
/* Forget the channel (closing its fd) and try it again in a while. */
void ga_chan_close(ga_t *a, const char *why);
void ga_chan_read(ga_t *a, const ga_chan_cb_t *cb, void *arg);
/* Write what is queued: 0, or a negative errno when the channel failed. */
int ga_chan_flush(ga_t *a);
/* A unix socket at path to serve the channel on: the fd, or a negative errno. */
int ga_chan_listen(const char *path);

/* exec.c: start the command an OPEN asks for (pipes or a pty): NULL, or
 * why it could not. */
const char *ga_exec_open(ga_sess_t *s, ag_tlv_iter_t it);

/* cp.c: file put/get.  Each returns NULL, or why the copy failed. */
const char *ga_cp_open(ga_sess_t *s, const char *kind, const char *path, bool recursive, char *ebuf,
                       size_t elen);
const char *ga_cp_put(ga_sess_t *s, const ag_frame_t *f);
const char *ga_cp_put_end(ga_sess_t *s);
/* The next block of a get into the channel queue: 1 sent, 0 the end
 * (EOF sent), or a negative errno (ag_tree_w_error says why). */
int ga_cp_get(ga_sess_t *s);

/* sess.c */
ga_sess_t *ga_sess_find(ga_t *a, uint32_t sid);
void ga_sess_free(ga_sess_t *s);
/* Report the end of a session (error NULL: its status) and forget it. */
void ga_sess_exit(ga_sess_t *s, const char *error);
void ga_sess_kill_all(ga_t *a);
/* A frame from the host (HELLO, PING, OPEN, or one of a session). */
void ga_sess_frame(ga_t *a, const ag_frame_t *f);
/* The budget freed up (bytes arrived): sessions still owed credit get it. */
void ga_sess_grant_all(ga_t *a);
/* Move a session's bytes: program output (fd *fdp, stream) to the host,
 * stdin to the program, the next block of a get. */
void ga_sess_pump_out(ga_sess_t *s, int *fdp, int stream);
void ga_sess_pump_in(ga_sess_t *s);
void ga_sess_pump_get(ga_sess_t *s);
/* A child ended with wait status st. */
void ga_sess_reaped(ga_t *a, pid_t pid, int st);
/* Sessions whose program ended and whose output is all sent exit;
 * stdin that reached its end is closed. */
void ga_sess_settle(ga_t *a);

#endif
