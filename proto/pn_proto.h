/* pn_proto: the plugnet control protocol.  Error codes, the schema of every
 * op and event (defined once, in schema.c), the message envelope, endpoint
 * names, directories and name validation. */
#ifndef PN_PROTO_H
#define PN_PROTO_H

#include "pn_val.h"

#define PN_PROTO_VERSION 1
#define PN_VERSION "0.1.0"

/* The closed set of error codes; one list, names derived from it. */
#define PN_ERRORS(X)                        \
    X(PN_OK, "ok")                          \
    X(PN_EINVAL, "invalid_argument")        \
    X(PN_ENOTFOUND, "not_found")            \
    X(PN_EEXIST, "already_exists")          \
    X(PN_EBUSY, "busy")                     \
    X(PN_EUNAVAIL, "unavailable")           \
    X(PN_EPERM, "permission_denied")        \
    X(PN_EUNSUP, "unsupported")             \
    X(PN_ETOOLARGE, "too_large")            \
    X(PN_EINTERNAL, "internal")

typedef enum {
#define X(e, s) e,
    PN_ERRORS(X)
#undef X
    PN_ERR__COUNT
} pn_err_t;

const char *pn_err_name(int code);
int pn_err_from_name(const char *name); /* -1 when unknown */
/* The reply code for a negative errno (0 gives PN_OK), where an op handler
 * turns the code's -errno into a reply (docs/STYLE.md, "Errors"). */
int pn_err_from_errno(int neg_errno);

/* ---------------------------------------------------------------- schema */

typedef enum {
    PN_F_ANY,
    PN_F_STR,
    PN_F_UINT,
    PN_F_INT,
    PN_F_BOOL,
    PN_F_FLOAT,
    PN_F_BIN,
    PN_F_MAP,
    PN_F_ARR,
} pn_ftype_t;

/* Extra checks applied to a string field. */
typedef enum {
    PN_CHK_NONE,
    PN_CHK_NAME,    /* ^[a-z][a-z0-9-]{0,14}$ (LAN and node names) */
    PN_CHK_IFNAME,  /* eth0..eth31 */
    PN_CHK_ENUM,    /* one of the '|'-separated words in .enums */
    PN_CHK_PATH,    /* absolute path */
} pn_check_t;

#define PN_REQ 0x1u /* required key */

typedef struct pn_field pn_field_t;
struct pn_field {
    const char *key;
    pn_ftype_t type;
    unsigned flags;
    pn_check_t check;
    const char *enums;        /* PN_CHK_ENUM */
    uint64_t min, max;        /* numbers: range (max 0 = none); strings: max bytes (0 = default) */
    pn_ftype_t elem;          /* PN_F_ARR: type of the elements */
    const pn_field_t *sub;    /* PN_F_MAP, or PN_F_ARR of maps: the fields; NULL = free-form */
    const char *doc;
};

typedef struct {
    const char *svc;
    const char *op;
    const pn_field_t *args;
    const pn_field_t *reply;
    const char *doc;
} pn_opdef_t;

typedef struct {
    const char *svc;
    const char *topic;  /* "switchd.port" */
    const char *type;   /* "port.up" */
    const pn_field_t *data;
    const char *doc;
} pn_evdef_t;

extern const char *const pn_services[4]; /* switchd, vmd, cfgdiskd, agentd */
extern const pn_opdef_t pn_ops[];        /* terminated by svc == NULL */
extern const pn_evdef_t pn_events[];     /* terminated by svc == NULL */

const pn_opdef_t *pn_op_find(const char *svc, const char *op);
const pn_evdef_t *pn_event_find(const char *svc, const char *type);

/* Validate v (a map) against fields; prefix names the enclosing key in
 * messages ("args").  Returns PN_OK or an error code with errmsg set. */
int pn_schema_check(const pn_field_t *fields, const pn_val_t *v, const char *prefix,
                    char *errmsg, size_t errlen);

/* Write docs/PROTOCOL.md. */
void pn_schema_markdown(FILE *f);

/* -------------------------------------------------------------- envelope */

typedef enum { PN_MSG_REQUEST, PN_MSG_REPLY, PN_MSG_EVENT } pn_msgkind_t;

typedef struct {
    pn_msgkind_t kind;
    uint64_t id;
    const char *op;       /* request */
    pn_val_t *args;       /* request, borrowed from root */
    bool ok;              /* reply */
    pn_val_t *data;       /* reply ok / event data */
    int err;              /* reply !ok: pn_err_t */
    const char *errmsg;   /* reply !ok */
    uint64_t seq, ts;     /* event */
    const char *src, *type; /* event */
    pn_val_t *root;       /* owns everything */
} pn_msg_t;

void pn_msg_clear(pn_msg_t *m);

/* Build messages (encoded msgpack, malloc'd). args/data may be NULL (empty map);
 * ownership of args/data passes to the callee. */
int pn_msg_request(uint64_t id, const char *op, pn_val_t *args, char **buf, size_t *len);
int pn_msg_reply_ok(uint64_t id, pn_val_t *data, char **buf, size_t *len);
int pn_msg_reply_err(uint64_t id, int code, const char *msg, char **buf, size_t *len);
int pn_msg_event(uint64_t seq, uint64_t ts, const char *src, const char *type,
                 pn_val_t *data, char **buf, size_t *len);

/* Decode and check the envelope.  For a request, svc (may be NULL) selects
 * the schema the args are validated against when the op is known there;
 * an unknown op is not an error here (the daemon answers "unsupported").
 * Returns PN_OK or an error code; errmsg names the key. */
int pn_msg_decode_request(const void *buf, size_t len, const char *svc, pn_msg_t *m,
                          char *errmsg, size_t errlen);
/* Decode a reply; when svc and op are given the data is checked against the schema. */
int pn_msg_decode_reply(const void *buf, size_t len, const char *svc, const char *op,
                        pn_msg_t *m, char *errmsg, size_t errlen);
int pn_msg_decode_event(const void *buf, size_t len, pn_msg_t *m, char *errmsg, size_t errlen);

/* ---------------------------------------------------------- names, dirs */

bool pn_name_valid(const char *s);      /* LAN and node names */
int pn_ifname_index(const char *s);     /* eth0..eth31 -> 0..31, else -1 */
bool pn_mac_parse(const char *s, uint8_t mac[6]);
void pn_mac_format(const uint8_t mac[6], char out[18]);

/* RUN and STATE directories (DESIGN.md).  Returned strings are static
 * per process (computed once). */
const char *pn_run_dir(void);
const char *pn_state_dir(void);
/* "ipc://RUN/<svc>.<kind>" into out. */
int pn_endpoint(const char *svc, const char *kind, char *out, size_t outlen);
/* mkdir -p with mode. 0 or -errno. */
int pn_mkdirs(const char *path, unsigned mode);

uint64_t pn_now_ns(void);   /* CLOCK_REALTIME */
uint64_t pn_mono_ms(void);  /* CLOCK_MONOTONIC */

#endif
