/* agentd internals: nodes (one agent channel each) and streams (one CLI
 * session each, relayed to a session on a node's channel). */
#ifndef AGENTD_H
#define AGENTD_H

#include <stdbool.h>
#include <stdint.h>

#include "ag_chan.h"
#include "pn_svc.h"

#define AGD_MAX_NODES 4096
#define AGD_MAX_STREAMS 1024
#define AGD_OUT_HIGH (1024u * 1024u) /* channel queue above which streams stop reading */
/* Toward an agent on a serial line (UML), what may be written before the
 * agent shows it read it: the tty's 4 KiB input buffer must never fill
 * (UML's line driver stops reading for good once it throttles).  The
 * agent's 3 KiB credit budget bounds DATA payloads; everything else (frame
 * headers, OPEN, CLOSE, keepalives...) is counted here: bulk frames up to
 * AGD_LINE_BULK unacknowledged, keepalives and credit up to AGD_LINE_MAX,
 * so at most 3072 + 768 bytes ever wait for the agent.  See docs/AGENT.md,
 * "Liveness". */
#define AGD_LINE_BULK 640u
#define AGD_LINE_MAX 768u
#define AGD_RTT_K 4u           /* deadline >= K x smoothed RTT + 4 x its variation */
#define AGD_DEADLINE_CAP 60000u /* ... but at most this (or the floor if larger) */
#define AGD_HIST 6             /* frames remembered per direction, for the down log */

typedef struct agd agd_t;
typedef struct agd_node agd_node_t;
typedef struct agd_stream agd_stream_t;

/* What the nodes report to the layer above them (the streams relayed over
 * their channels, the held agent.wait requests).  main.c passes these in
 * with agentd's state; node.c calls up only through them. */
typedef struct agd_node_cb {
    /* The node's agent came up (waiting sessions may start). */
    void (*up)(void *arg, agd_node_t *n);
    /* The node's sessions ended: the agent went down, restarted or lost frames. */
    void (*down)(void *arg, agd_node_t *n, const char *reason);
    /* The node is being unregistered: nothing may keep using it. */
    void (*gone)(void *arg, agd_node_t *n);
    /* A frame for session f->sid; -ENOENT when there is no such session. */
    int (*frame)(void *arg, agd_node_t *n, const ag_frame_t *f);
    /* A frame of session sid arrived damaged. */
    void (*damaged)(void *arg, agd_node_t *n, uint32_t sid);
    /* The channel's bulk queue drained below AGD_OUT_HIGH. */
    void (*drained)(void *arg, agd_node_t *n);
    /* The node's open sessions, their credit toward the agent and the
     * stdin bytes waiting for credit (for the log of a down agent). */
    int (*load)(void *arg, const agd_node_t *n, uint64_t *credit, uint64_t *pend);
} agd_node_cb_t;

struct agd {
    pn_svc_t *svc;
    pn_loop_t *loop;
    agd_node_t *nodes;
    int nnodes;
    agd_stream_t *streams;
    int nstreams;
    int lfd;
    pn_watch_t *lw;
    char stream_path[4200];
    unsigned keepalive_ms, misses;
    unsigned knock_ms; /* down this long with a console: knock (0 = never) */
    pn_timer_t *tick;
    /* held agent.wait requests */
    struct agd_wait *waits;
    /* set by main.c before the first node registers */
    agd_node_cb_t node_cb;
    void *node_arg;
};

struct agd_node {
    agd_t *agd;
    char name[32];
    char kind[8];
    char *path;
    uint64_t started_ns;
    int fd;
    pn_watch_t *w;
    uint32_t wmask;
    bool connected, up;
    bool booted;     /* the agent was up since this registration (the node's start) */
    ag_dec_t dec;
    ag_buf_t out; /* bulk frames */
    ag_buf_t urg; /* HELLO, PING, PONG, CREDIT: written at the next frame boundary */
    ag_wire_t wire;
    bool serial;       /* a serial line (uml): bytes unanswered are bounded */
    uint64_t acked;    /* wire.ctl the agent has shown it read (a PONG, a HELLO reply) */
    uint64_t acked_ms; /* when acked last moved */
    uint64_t hello_pos;/* wire.ctl when our last HELLO was queued */
    uint64_t ping_at;  /* a PING is out since then (0: none) */
    uint32_t srtt, rttvar; /* ms, from PING/PONG */
    struct agd_hist { uint8_t type; uint32_t len; uint64_t ms; } hin[AGD_HIST], hout[AGD_HIST];
    unsigned nin, nout;
    uint64_t last_rx, since, next_try, last_hello;
    unsigned backoff;
    char version[64], hostname[64], reason[160];
    uint64_t instance;
    uint32_t proto;
    uint32_t window; /* initial credit per session, from the agent's hello */
    uint32_t next_sid;
    int nsess;
    uint64_t rx_bytes, tx_bytes, bad_frames;
    /* The knock: start the agent through a root console. */
    char *console;
    int kfd;
    pn_watch_t *kw;
    int kphase;            /* 0 idle, 1 waiting for a prompt, 2 command sent, 3 it ran */
    unsigned kretries;     /* the command typed again (phase 2) */
    unsigned kpokes;       /* the shell woken again (phase 1) */
    uint64_t kdeadline, knext;
    unsigned knocks;
    int64_t knock_ms;      /* this node's delay, -1 = agentd's */
    char ktail[64];        /* the end of what the console said */
    agd_node_t *next;
};

struct agd_stream {
    agd_t *agd;
    int fd;
    pn_watch_t *w;
    uint32_t wmask;
    ag_dec_t dec;
    ag_buf_t out;
    agd_node_t *node; /* set once opened or waiting */
    uint32_t sid;     /* on the node's channel, once opened */
    bool opened, waiting, closing;
    uint64_t wait_until;
    ag_buf_t open; /* the OPEN payload, kept while waiting */
    uint64_t credit; /* what we may send the agent (stdin) */
    ag_buf_t pend;   /* stdin bytes of a CLI frame beyond the credit */
    ag_rxwin_t rx;   /* what the agent may send us */
    agd_stream_t *next;
};

/* ops.c: the op table, the status, and the held agent.wait requests,
 * answered when their node is up or gone or their time ran out. */
extern const pn_svc_op_t agd_ops[];
void agd_status(pn_svc_t *svc, pn_val_t *data);
void agd_waits_check(agd_t *a);

/* persist.c: the registrations in STATE/agentd/agents */
void agd_persist_save(agd_t *a);
void agd_persist_restore(agd_t *a);

/* stream.c */
int agd_stream_listen(agd_t *a);
/* A frame from the agent for session f->sid of node n; -ENOENT: none. */
int agd_streams_from_agent(agd_t *a, agd_node_t *n, const ag_frame_t *f);
/* A frame of session sid was damaged: close the session, fail its stream. */
void agd_streams_damaged(agd_t *a, agd_node_t *n, uint32_t sid);
/* The node went up (start waiting sessions), down (end its sessions) or
 * away (fail the streams still waiting on it). */
void agd_streams_node_up(agd_t *a, agd_node_t *n);
void agd_streams_node_down(agd_t *a, agd_node_t *n, const char *reason);
void agd_streams_node_gone(agd_t *a, agd_node_t *n);
/* The sessions open on node n, their credit and pending stdin. */
int agd_streams_load(agd_t *a, const agd_node_t *n, uint64_t *credit, uint64_t *pend);
void agd_streams_tick(agd_t *a);
/* The node channel drained: streams paused on it may read again. */
void agd_streams_resume(agd_t *a, agd_node_t *n);

/* node.c: registration (0 or -errno), the channel, liveness, the knock */
agd_node_t *agd_node_find(agd_t *a, const char *name);
int agd_node_register(agd_t *a, const char *name, const char *kind, const char *path, uint64_t started_ns,
                      const char *console, int64_t knock_ms);
void agd_node_unregister(agd_node_t *n, const char *reason);
/* Queue a frame toward the agent (urgent types jump the bulk queue). */
void agd_node_send(agd_node_t *n, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t len);
void agd_node_send_crc(agd_node_t *n, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t len,
                       uint32_t pcrc);
/* Every keepalive period: reconnect, judge liveness, ping, knock. */
void agd_nodes_tick(agd_t *a);
pn_val_t *agd_node_info(agd_node_t *n);

#endif
