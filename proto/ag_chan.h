/* ag_chan: the agent channel protocol (docs/AGENT.md), shared by the
 * in-guest agent, agentd and the CLI, so it lives in proto/.  No
 * dependency beyond libc (nor on the rest of proto/), so the
 * static guest binary can carry it.
 *
 * A frame is a 24-byte header and at most AG_MAX_PAYLOAD bytes:
 *
 *   0  magic  0xA7 0x9E
 *   2  type   u8  (AG_T_*)
 *   3  flags  u8  (stream number for DATA/EOF, AG_F_REPLY for HELLO)
 *   4  sid    u32 session (0 = the channel itself)
 *   8  len    u32 payload bytes, <= AG_MAX_PAYLOAD
 *  12  seq    u32 frame number in this direction (+1 per frame)
 *  16  pcrc   u32 CRC-32C of the payload
 *  20  hcrc   u32 CRC-32C of bytes 0..19
 *
 * Integers are little-endian.  The decoder skips bytes until a magic with
 * a valid header CRC, so noise on a console line costs only the frames it
 * hits; the sequence number tells the receiver that frames were lost (it
 * then ends the sessions, whose streams may have holes), a payload CRC
 * failure names the one session hit.  Structured payloads (OPEN, HELLO, EXIT) are TLV lists: u8 tag,
 * u16 length, value.
 */
#ifndef AG_CHAN_H
#define AG_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_PROTO_MIN 1
#define AG_PROTO_MAX 1
#define AG_AGENT_VERSION "0.1.0"

#define AG_MAGIC0 0xA7
#define AG_MAGIC1 0x9E
#define AG_HDR 24
#define AG_MAX_PAYLOAD 65536u
#define AG_CHUNK 65536u           /* data frames carry at most this */
#define AG_WINDOW (256u * 1024u)   /* per-session, per-direction credit window */
#define AG_MAX_SESSIONS 64         /* per channel */
#define AG_TTY_WINDOW 3072u        /* what an agent on a serial line lets the host have in
                                      flight, all sessions together: the tty's 4 KiB input
                                      buffer (less its 128-byte throttle margin) must hold it
                                      with its frame headers */

/* Frame types: one list, names derived from it. */
#define AG_TYPES(X)               \
    X(AG_T_HELLO, 0x01, "hello")  \
    X(AG_T_PING, 0x02, "ping")    \
    X(AG_T_PONG, 0x03, "pong")    \
    X(AG_T_OPEN, 0x10, "open")    \
    X(AG_T_DATA, 0x11, "data")    \
    X(AG_T_EOF, 0x12, "eof")      \
    X(AG_T_CREDIT, 0x13, "credit") \
    X(AG_T_RESIZE, 0x14, "resize") \
    X(AG_T_SIGNAL, 0x15, "signal") \
    X(AG_T_EXIT, 0x16, "exit")    \
    X(AG_T_CLOSE, 0x17, "close")

enum {
#define X(e, v, s) e = v,
    AG_TYPES(X)
#undef X
};
const char *ag_type_name(int type);

#define AG_F_REPLY 0x80 /* HELLO: an answer to the peer's HELLO */

/* Streams of DATA/EOF frames (in flags). */
enum { AG_STDIN = 0, AG_STDOUT = 1, AG_STDERR = 2 };

/* TLV tags. */
enum {
    /* HELLO */
    AG_K_VERSION = 1,   /* str: agent/agentd version */
    AG_K_PROTO_MIN = 2, /* u32 */
    AG_K_PROTO_MAX = 3, /* u32 */
    AG_K_INSTANCE = 4,  /* u64: random per agent process */
    AG_K_UPTIME_MS = 5, /* u64: CLOCK_BOOTTIME of the guest */
    AG_K_HOSTNAME = 6,  /* str */
    AG_K_WINDOW = 7,    /* u32: agent -> host, the credit each session starts with
                           (0 on a serial line: credit comes from a shared
                           budget, see docs/AGENT.md) */
    /* OPEN */
    AG_K_KIND = 16,     /* str: exec | put | get */
    AG_K_ARG = 17,      /* str, repeated: argv (exec) */
    AG_K_ENV = 18,      /* str, repeated: K=V */
    AG_K_CWD = 19,      /* str */
    AG_K_PTY = 20,      /* u32 rows<<16 | cols: allocate a pty */
    AG_K_TIMEOUT = 21,  /* u32 ms */
    AG_K_PATH = 22,     /* str: put destination / get source */
    AG_K_RECURSIVE = 23,/* u32 0/1 */
    AG_K_TERM = 24,     /* str: TERM for a pty */
    AG_K_NODE = 25,     /* str: CLI -> agentd only */
    AG_K_WAIT = 26,     /* u32 ms: CLI -> agentd, wait for the agent up */
    AG_K_BOOTWAIT = 27, /* u32 ms: CLI -> agentd, wait only while the node still
                           boots (its agent not up since it was registered) */
    /* EXIT */
    AG_K_STATUS = 32,   /* u32 exit code */
    AG_K_SIGNAL = 33,   /* u32 signal that killed it */
    AG_K_TIMEDOUT = 34, /* u32 1 */
    AG_K_ERROR = 35,    /* str: what failed (session never ran or broke) */
    AG_K_ERRCODE = 36,  /* str: plugnet error code (agentd) */
};

/* ------------------------------------------------------------ checksums */
uint32_t ag_crc32c(uint32_t crc, const void *p, size_t n);
/* The CRC of A|B from the CRCs of A and B (B is len_b bytes long): no pass
 * over the bytes, so one pass can serve two checksums over nested ranges. */
uint32_t ag_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* ------------------------------------------------------- little endian */
static inline void ag_put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void ag_put32(uint8_t *p, uint32_t v) { ag_put16(p, v); ag_put16(p + 2, v >> 16); }
static inline void ag_put64(uint8_t *p, uint64_t v) { ag_put32(p, (uint32_t)v); ag_put32(p + 4, v >> 32); }
static inline uint16_t ag_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ag_get32(const uint8_t *p) { return ag_get16(p) | (uint32_t)ag_get16(p + 2) << 16; }
static inline uint64_t ag_get64(const uint8_t *p) { return ag_get32(p) | (uint64_t)ag_get32(p + 4) << 32; }

/* -------------------------------------------------------------- buffers */
/* A byte queue: data[off..len) is pending. */
typedef struct {
    uint8_t *data;
    size_t off, len, cap;
    uint32_t seq; /* number of the next frame appended (ag_frame_*) */
} ag_buf_t;

static inline size_t ag_buf_used(const ag_buf_t *b) { return b->len - b->off; }
static inline const uint8_t *ag_buf_head(const ag_buf_t *b) { return b->data + b->off; }
int ag_buf_reserve(ag_buf_t *b, size_t n); /* room for n more bytes; 0 or -ENOMEM */
int ag_buf_append(ag_buf_t *b, const void *p, size_t n);
void ag_buf_consume(ag_buf_t *b, size_t n);
void ag_buf_free(ag_buf_t *b);
/* Ask for big socket buffers (fewer wakeups per MiB); best effort. */
void ag_sock_buffers(int fd, int bytes);
/* Write as much as the (non-blocking) fd takes.  Returns bytes written,
 * 0 when it would block, or -errno. */
long ag_buf_flush(ag_buf_t *b, int fd);

/* ------------------------------------------------------- two-lane output
 * A channel's output is two queues of whole frames: bulk (DATA, OPEN, EOF,
 * EXIT, CLOSE...) and urgent (HELLO, PING, PONG, CREDIT).  An urgent frame
 * is written at the next frame boundary of the bulk queue, so a keepalive
 * never waits behind megabytes of data.  The receiver checks `seq`, so the
 * writer stamps each frame's seq (and header CRC) when its first byte goes
 * out, in wire order; what the queues hold is renumbered then. */
typedef struct {
    size_t left;   /* bytes of the frame being written still to go (0: at a boundary) */
    bool in_urg;   /* that frame is the urgent queue's */
    uint32_t seq;  /* seq of the next frame to start */
    uint64_t sent; /* bytes written in all */
    uint64_t ctl;  /* their cost: all but DATA payloads (see ag_wire_flush) */
} ag_wire_t;
/* Is this frame type urgent (jumps the bulk queue)? */
bool ag_type_urgent(int type);
/* Write what fd takes, urgent frames first at every frame boundary.  A
 * frame starts only when its cost (the whole frame, but only the header of
 * a DATA frame, whose payload credit bounds already) fits in what the call
 * has left of max_bulk (bulk frames) or max_urg (urgent ones); SIZE_MAX:
 * no limit.  A frame begun is always finished.  Bytes written, 0 when it
 * would block or the limits say wait, or -errno. */
long ag_wire_flush(ag_wire_t *w, ag_buf_t *bulk, ag_buf_t *urg, int fd, size_t max_bulk, size_t max_urg);
/* A new connection: nothing half written. */
void ag_wire_reset(ag_wire_t *w);

/* ---------------------------------------------------------------- frames */
typedef struct {
    uint8_t type, flags;
    uint32_t sid;
    uint32_t len;
    uint32_t seq;
    uint32_t lost;          /* frames missing just before this one */
    uint32_t pcrc;          /* the payload's CRC as sent (to forward a frame unchanged) */
    bool checked;           /* pcrc was compared with the payload (and matched) */
    const uint8_t *payload; /* valid until the decoder is fed again */
} ag_frame_t;

/* Append one frame.  len <= AG_MAX_PAYLOAD (asserted: the caller's bug). */
int ag_frame_put(ag_buf_t *out, uint8_t type, uint8_t flags, uint32_t sid, const void *payload,
                 size_t len);
/* The same with the payload's CRC already known (a relay forwarding a
 * payload it received whole): saves a pass over the bytes. */
int ag_frame_put_crc(ag_buf_t *out, uint8_t type, uint8_t flags, uint32_t sid, const void *payload,
                     size_t len, uint32_t pcrc);
/* Header of a frame whose payload the caller appends right after: returns
 * 0 and leaves room; call ag_frame_finish() once the payload is there. */
int ag_frame_begin(ag_buf_t *out, size_t *mark);
void ag_frame_finish(ag_buf_t *out, size_t mark, uint8_t type, uint8_t flags, uint32_t sid);
/* The same when the payload's CRC is known (computed while producing it). */
void ag_frame_finish_crc(ag_buf_t *out, size_t mark, uint8_t type, uint8_t flags, uint32_t sid, uint32_t pcrc);

typedef struct {
    uint8_t *buf;
    size_t off, len, cap;
    uint32_t expect; /* next seq */
    bool synced;     /* false until the first frame (and after a reset) */
    bool trusted;    /* a local socket from a plugnet process: skip the payload
                        CRC (nothing on the way can damage bytes; the far end
                        checks what a relay forwards with its CRC unchanged) */
    /* counters */
    uint64_t frames, garbage, bad_header, bad_payload, lost;
} ag_dec_t;

int ag_dec_init(ag_dec_t *d);
void ag_dec_free(ag_dec_t *d);
void ag_dec_reset(ag_dec_t *d);
/* Where to read into, and how much fits (> 0). */
uint8_t *ag_dec_space(ag_dec_t *d, size_t *room);
void ag_dec_commit(ag_dec_t *d, size_t n);
/* Feed bytes (copying); returns how many were taken (all unless full). */
size_t ag_dec_feed(ag_dec_t *d, const void *p, size_t n);
/* Read what the (non-blocking) fd has into the decoder, once, retrying on
 * EINTR: the bytes read (> 0), 0 at end of file, -EAGAIN when nothing
 * waits, or another -errno.  *room (may be NULL) gets the space there
 * was: a shorter read means the fd is drained. */
long ag_dec_read(ag_dec_t *d, int fd, size_t *room);

enum { AG_DEC_MORE = 0, AG_DEC_FRAME = 1, AG_DEC_CORRUPT = 2 };
/* Next frame: AG_DEC_FRAME (f filled), AG_DEC_MORE (need bytes) or
 * AG_DEC_CORRUPT: a frame whose header was sound but whose payload failed
 * its CRC was dropped; f holds its header (type, sid) so the receiver can
 * end that session.  Garbage between frames is skipped and counted.
 * f->lost > 0 says that many frames vanished before this one (noise hit
 * their headers); a HELLO restarts the numbering and never counts. */
int ag_dec_next(ag_dec_t *d, ag_frame_t *f);

/* ------------------------------------------------------------------ TLV */
int ag_tlv_put(ag_buf_t *b, uint8_t tag, const void *v, size_t len);
int ag_tlv_str(ag_buf_t *b, uint8_t tag, const char *s);
int ag_tlv_u32(ag_buf_t *b, uint8_t tag, uint32_t v);
int ag_tlv_u64(ag_buf_t *b, uint8_t tag, uint64_t v);

typedef struct {
    const uint8_t *p, *end;
} ag_tlv_iter_t;
/* 1 with tag/v/len set, 0 at the end, -EBADMSG when malformed. */
int ag_tlv_next(ag_tlv_iter_t *it, uint8_t *tag, const uint8_t **v, size_t *len);
/* Value helpers: a u32/u64 of the wrong size reads as 0. */
uint32_t ag_tlv_as_u32(const uint8_t *v, size_t len);
uint64_t ag_tlv_as_u64(const uint8_t *v, size_t len);
/* Copy a string value (NUL-terminated, refusing embedded NULs); NULL on
 * a bad value or no memory. */
char *ag_tlv_as_str(const uint8_t *v, size_t len);

/* ----------------------------------------------------- credit accounting */
/* Receiver side of one direction of one session.  The peer may send
 * `allowed` more bytes; consumed bytes are owed back as CREDIT once the
 * local buffer is below the window. */
typedef struct {
    uint64_t allowed; /* what the peer may still send */
    uint64_t owed;    /* consumed, not yet granted back */
    uint32_t window;
} ag_rxwin_t;
static inline void ag_rxwin_init_n(ag_rxwin_t *w, uint32_t window)
{
    w->allowed = w->window = window;
    w->owed = 0;
}
static inline void ag_rxwin_init(ag_rxwin_t *w) { ag_rxwin_init_n(w, AG_WINDOW); }
/* A DATA frame of n bytes arrived: false when it overruns the window. */
bool ag_rxwin_take(ag_rxwin_t *w, size_t n);
/* How much to grant now, given the bytes still buffered locally (0 = none). */
uint32_t ag_rxwin_grant(ag_rxwin_t *w, size_t buffered);

#endif
