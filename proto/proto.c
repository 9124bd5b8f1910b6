/* Error names, schema validation and documentation, the envelope. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pn_proto.h"

static const char *const s_err_names[] = {
#define X(e, s) s,
    PN_ERRORS(X)
#undef X
};

const char *pn_err_name(int code)
{
    if (code < 0 || code >= PN_ERR__COUNT)
        return "internal";
    return s_err_names[code];
}

int pn_err_from_name(const char *name)
{
    for (int i = 0; name && i < PN_ERR__COUNT; i++)
        if (strcmp(s_err_names[i], name) == 0)
            return i;
    return -1;
}

int pn_err_from_errno(int neg_errno)
{
    switch (-neg_errno) {
    case 0: return PN_OK;
    case EINVAL: case ERANGE: case ENAMETOOLONG: return PN_EINVAL;
    case ENOENT: case ESRCH: case ENODEV: case ENXIO: return PN_ENOTFOUND;
    case EEXIST: case EADDRINUSE: return PN_EEXIST;
    case EBUSY: case EALREADY: case EINPROGRESS: return PN_EBUSY;
    case ETIMEDOUT: case ECONNREFUSED: case EHOSTUNREACH: case EAGAIN: case ENOTCONN: case ECONNRESET:
    case EPIPE: return PN_EUNAVAIL;
    case EPERM: case EACCES: case EROFS: return PN_EPERM;
    case ENOTSUP: case ENOSYS: case EPROTONOSUPPORT: return PN_EUNSUP;
    case E2BIG: case EFBIG: case EMSGSIZE: case ENOSPC: case EOVERFLOW: return PN_ETOOLARGE;
    default: return PN_EINTERNAL;
    }
}

const pn_opdef_t *pn_op_find(const char *svc, const char *op)
{
    for (const pn_opdef_t *d = pn_ops; d->svc; d++)
        if ((!svc || strcmp(d->svc, svc) == 0) && strcmp(d->op, op) == 0)
            return d;
    return NULL;
}

const pn_evdef_t *pn_event_find(const char *svc, const char *type)
{
    for (const pn_evdef_t *d = pn_events; d->svc; d++)
        if (strcmp(d->svc, svc) == 0 && strcmp(d->type, type) == 0)
            return d;
    return NULL;
}

/* ------------------------------------------------------------ validation */

#define PN_DEFAULT_MAX_STR 4096

static const char *const s_ftype_names[] = {
    [PN_F_ANY] = "any", [PN_F_STR] = "string", [PN_F_UINT] = "unsigned integer",
    [PN_F_INT] = "integer", [PN_F_BOOL] = "boolean", [PN_F_FLOAT] = "number",
    [PN_F_BIN] = "binary", [PN_F_MAP] = "map", [PN_F_ARR] = "array",
};

static const char *s_vtype_name(const pn_val_t *v)
{
    switch (v->type) {
    case PN_NIL: return "nil";
    case PN_BOOL: return "boolean";
    case PN_INT: return "negative integer";
    case PN_UINT: return "unsigned integer";
    case PN_FLOAT: return "number";
    case PN_STR: return "string";
    case PN_BIN: return "binary";
    case PN_ARR: return "array";
    case PN_MAP: return "map";
    }
    return "?";
}

static const char *s_article(const char *noun)
{
    return strchr("aeiou", noun[0]) ? "an" : "a";
}

static bool s_type_ok(pn_ftype_t t, const pn_val_t *v)
{
    switch (t) {
    case PN_F_ANY: return true;
    case PN_F_STR: return v->type == PN_STR;
    case PN_F_UINT: return v->type == PN_UINT;
    case PN_F_INT: return v->type == PN_UINT || v->type == PN_INT;
    case PN_F_BOOL: return v->type == PN_BOOL;
    case PN_F_FLOAT: return v->type == PN_FLOAT || v->type == PN_UINT || v->type == PN_INT;
    case PN_F_BIN: return v->type == PN_BIN || v->type == PN_STR;
    case PN_F_MAP: return v->type == PN_MAP;
    case PN_F_ARR: return v->type == PN_ARR;
    }
    return false;
}

static bool s_enum_ok(const char *enums, const char *s)
{
    size_t n = strlen(s);
    const char *p = enums;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static int s_errf(char *errmsg, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_errf(char *errmsg, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errmsg && errlen)
        vsnprintf(errmsg, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* Strings that no schema describes still obey the default 4 KiB limit. */
static int s_check_free(const pn_val_t *v, const char *key, char *errmsg, size_t errlen)
{
    if (v->type == PN_STR && v->s.len > PN_DEFAULT_MAX_STR)
        return s_errf(errmsg, errlen, PN_ETOOLARGE, "'%s' is %zu bytes, over the limit of %d",
                      key, v->s.len, PN_DEFAULT_MAX_STR);
    if (v->type == PN_ARR)
        for (size_t i = 0; i < v->a.n; i++) {
            char k[300];
            snprintf(k, sizeof(k), "%s[%zu]", key, i);
            int r = s_check_free(v->a.v[i], k, errmsg, errlen);
            if (r)
                return r;
        }
    if (v->type == PN_MAP)
        for (size_t i = 0; i < v->m.n; i++) {
            char k[300];
            snprintf(k, sizeof(k), "%s.%s", key, v->m.k[i]);
            int r = s_check_free(v->m.v[i], k, errmsg, errlen);
            if (r)
                return r;
        }
    return PN_OK;
}

static int s_check_value(const pn_field_t *f, pn_ftype_t type, const pn_val_t *v, const char *key,
                         char *errmsg, size_t errlen);

static int s_check_value(const pn_field_t *f, pn_ftype_t type, const pn_val_t *v, const char *key,
                         char *errmsg, size_t errlen)
{
    if (!s_type_ok(type, v))
        return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be %s %s, not %s %s", key,
                      s_article(s_ftype_names[type]), s_ftype_names[type], s_article(s_vtype_name(v)),
                      s_vtype_name(v));
    switch (type) {
    case PN_F_STR:
    case PN_F_BIN: {
        uint64_t max = f->max ? f->max : PN_DEFAULT_MAX_STR;
        if (v->s.len > max)
            return s_errf(errmsg, errlen, PN_ETOOLARGE, "'%s' is %zu bytes, over the limit of %llu",
                          key, v->s.len, (unsigned long long)max);
        if (type == PN_F_BIN)
            break;
        if (f->min && v->s.len < f->min)
            return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be at least %llu bytes", key,
                          (unsigned long long)f->min);
        if (strlen(v->s.p) != v->s.len)
            return s_errf(errmsg, errlen, PN_EINVAL, "'%s' contains a NUL byte", key);
        switch (f->check) {
        case PN_CHK_NAME:
            if (!pn_name_valid(v->s.p))
                return s_errf(errmsg, errlen, PN_EINVAL,
                              "'%s' is not a valid name: use 1-15 characters a-z, 0-9 and '-', starting with a letter",
                              key);
            break;
        case PN_CHK_IFNAME:
            if (pn_ifname_index(v->s.p) < 0)
                return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be an interface name eth0..eth31", key);
            break;
        case PN_CHK_ENUM:
            if (!s_enum_ok(f->enums, v->s.p))
                return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be one of %s", key, f->enums);
            break;
        case PN_CHK_PATH:
            if (v->s.p[0] != '/')
                return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be an absolute path", key);
            break;
        case PN_CHK_NONE:
            break;
        }
        break;
    }
    case PN_F_UINT:
    case PN_F_INT:
    case PN_F_FLOAT: {
        if (type == PN_F_FLOAT || !(f->min || f->max))
            break;
        if (v->type == PN_INT)
            return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be between %llu and %llu", key,
                          (unsigned long long)f->min, (unsigned long long)f->max);
        if (v->u < f->min || (f->max && v->u > f->max))
            return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be between %llu and %llu, not %llu",
                          key, (unsigned long long)f->min, (unsigned long long)f->max,
                          (unsigned long long)v->u);
        break;
    }
    case PN_F_MAP:
        if (f->sub)
            return pn_schema_check(f->sub, v, key, errmsg, errlen);
        return s_check_free(v, key, errmsg, errlen);
    case PN_F_ARR:
        if (f->max && v->a.n > f->max)
            return s_errf(errmsg, errlen, PN_ETOOLARGE, "'%s' has %zu items, over the limit of %llu",
                          key, v->a.n, (unsigned long long)f->max);
        for (size_t i = 0; i < v->a.n; i++) {
            char k[300];
            snprintf(k, sizeof(k), "%s[%zu]", key, i);
            /* Elements inherit the field's checks but not its item limit. */
            pn_field_t ef = *f;
            ef.max = 0;
            ef.type = f->elem;
            int r = s_check_value(&ef, f->elem, v->a.v[i], k, errmsg, errlen);
            if (r)
                return r;
        }
        break;
    case PN_F_ANY:
        return s_check_free(v, key, errmsg, errlen);
    case PN_F_BOOL:
        break;
    }
    return PN_OK;
}

int pn_schema_check(const pn_field_t *fields, const pn_val_t *v, const char *prefix,
                    char *errmsg, size_t errlen)
{
    if (!v || v->type != PN_MAP)
        return s_errf(errmsg, errlen, PN_EINVAL, "'%s' must be a map", prefix ? prefix : "(message)");
    for (const pn_field_t *f = fields; f && f->key; f++) {
        char key[300];
        if (prefix && *prefix)
            snprintf(key, sizeof(key), "%s.%s", prefix, f->key);
        else
            snprintf(key, sizeof(key), "%s", f->key);
        pn_val_t *x = pn_get(v, f->key);
        if (!x || x->type == PN_NIL) {
            if (f->flags & PN_REQ)
                return s_errf(errmsg, errlen, PN_EINVAL, "'%s' is required", key);
            continue;
        }
        int r = s_check_value(f, f->type, x, key, errmsg, errlen);
        if (r)
            return r;
    }
    /* Unknown keys are ignored (additive versioning) but still bounded. */
    for (size_t i = 0; i < v->m.n; i++) {
        bool known = false;
        for (const pn_field_t *f = fields; f && f->key; f++)
            if (strcmp(f->key, v->m.k[i]) == 0) {
                known = true;
                break;
            }
        if (!known) {
            char key[300];
            snprintf(key, sizeof(key), "%s%s%s", prefix && *prefix ? prefix : "",
                     prefix && *prefix ? "." : "", v->m.k[i]);
            int r = s_check_free(v->m.v[i], key, errmsg, errlen);
            if (r)
                return r;
        }
    }
    return PN_OK;
}

/* ---------------------------------------------------------- markdown doc */

static void s_md_fields(FILE *f, const pn_field_t *fields, const char *prefix)
{
    for (const pn_field_t *x = fields; x && x->key; x++) {
        char key[200];
        snprintf(key, sizeof(key), "%s%s", prefix, x->key);
        char type[200];
        if (x->type == PN_F_ARR)
            snprintf(type, sizeof(type), "array of %s", s_ftype_names[x->elem]);
        else
            snprintf(type, sizeof(type), "%s", s_ftype_names[x->type]);
        char extra[300] = "";
        switch (x->check) {
        case PN_CHK_NAME: snprintf(extra, sizeof(extra), " name `^[a-z][a-z0-9-]{0,14}$`."); break;
        case PN_CHK_IFNAME: snprintf(extra, sizeof(extra), " `eth0`..`eth31`."); break;
        case PN_CHK_ENUM: snprintf(extra, sizeof(extra), " one of `%s`.", x->enums); break;
        case PN_CHK_PATH: snprintf(extra, sizeof(extra), " absolute path."); break;
        case PN_CHK_NONE: break;
        }
        char range[120] = "";
        if ((x->type == PN_F_UINT || x->type == PN_F_INT) && (x->min || x->max))
            snprintf(range, sizeof(range), " Range %llu..%llu.", (unsigned long long)x->min,
                     (unsigned long long)x->max);
        else if ((x->type == PN_F_STR || x->type == PN_F_BIN) && x->max)
            snprintf(range, sizeof(range), " At most %llu bytes.", (unsigned long long)x->max);
        else if (x->type == PN_F_ARR && x->max)
            snprintf(range, sizeof(range), " At most %llu items.", (unsigned long long)x->max);
        fprintf(f, "| `%s` | %s | %s | %s%s%s |\n", key, type, (x->flags & PN_REQ) ? "yes" : "no",
                x->doc ? x->doc : "", extra, range);
        if (x->sub) {
            char p[220];
            snprintf(p, sizeof(p), "%s%s", key, x->type == PN_F_ARR ? "[]." : ".");
            s_md_fields(f, x->sub, p);
        }
    }
}

static void s_md_table(FILE *f, const char *title, const pn_field_t *fields)
{
    fprintf(f, "%s:\n\n", title);
    if (!fields || !fields->key) {
        fprintf(f, "(none)\n\n");
        return;
    }
    fprintf(f, "| key | type | required | meaning |\n| --- | --- | --- | --- |\n");
    s_md_fields(f, fields, "");
    fprintf(f, "\n");
}

void pn_schema_markdown(FILE *f)
{
    fprintf(f, "# plugnet control protocol\n\n");
    fprintf(f, "<!-- Generated by pn-gendoc from proto/schema.c: do not edit; run `make docs`. -->\n\n");
    fprintf(f, "Protocol version %d. Every message is one msgpack map with string keys "
               "(see `../shared/DESIGN.md` for the envelope):\n\n", PN_PROTO_VERSION);
    fprintf(f, "```\nrequest  {\"v\":1, \"id\":<uint>, \"op\":\"lan.add\", \"args\":{...}}\n"
               "reply    {\"v\":1, \"id\":<same>, \"ok\":true,  \"data\":{...}}\n"
               "         {\"v\":1, \"id\":<same>, \"ok\":false, \"err\":{\"code\":\"not_found\", \"msg\":\"...\"}}\n"
               "event    frame 1: topic \"switchd.port\"   frame 2: {\"v\":1, \"seq\":<uint>, \"ts\":<unix ns>, "
               "\"src\":\"switchd\", \"type\":\"port.up\", \"data\":{...}}\n```\n\n");
    fprintf(f, "Endpoints: `ipc://RUN/<svc>.ctl` (ROUTER; requests) and `ipc://RUN/<svc>.pub` (XPUB; events).\n\n");
    fprintf(f, "Readiness handshake: a subscriber that must not miss an event subscribes to its topics, then to "
               "`pn.hello.<token>`; the daemon answers on that topic (frame 2: the daemon's name, not msgpack) once "
               "every earlier subscription is in effect. A subscriber to everything sees other subscribers' "
               "`pn.hello.*` answers too and skips them.\n\n");
    fprintf(f, "Limits, checked when decoding: message at most 1 MiB, nesting at most 16, arrays and maps at "
               "most 4096 items, strings at most 4 KiB unless a field says otherwise. Unknown keys are "
               "ignored. A bad type, a missing required key or a bad value is `invalid_argument` naming the key; "
               "a value over a limit is `too_large`.\n\n");
    fprintf(f, "## Error codes\n\n");
    for (int i = 1; i < PN_ERR__COUNT; i++)
        fprintf(f, "- `%s`\n", s_err_names[i]);
    fprintf(f, "\n");
    for (int s = 0; s < 4; s++) {
        const char *svc = pn_services[s];
        fprintf(f, "## %s\n\n### Ops\n\n", svc);
        for (const pn_opdef_t *d = pn_ops; d->svc; d++) {
            if (strcmp(d->svc, svc))
                continue;
            fprintf(f, "#### `%s`\n\n%s\n\n", d->op, d->doc ? d->doc : "");
            s_md_table(f, "Args", d->args);
            s_md_table(f, "Reply data", d->reply);
        }
        fprintf(f, "### Events\n\n");
        for (const pn_evdef_t *d = pn_events; d->svc; d++) {
            if (strcmp(d->svc, svc))
                continue;
            fprintf(f, "#### `%s` on topic `%s`\n\n%s\n\n", d->type, d->topic, d->doc ? d->doc : "");
            s_md_table(f, "Data", d->data);
        }
    }
}

/* -------------------------------------------------------------- envelope */

void pn_msg_clear(pn_msg_t *m)
{
    if (!m)
        return;
    pn_val_free(m->root);
    memset(m, 0, sizeof(*m));
}

static int s_encode_free(pn_val_t *root, char **buf, size_t *len)
{
    if (!root)
        return -ENOMEM;
    int r = pn_val_encode(root, buf, len);
    pn_val_free(root);
    return r;
}

static pn_val_t *s_env(uint64_t id)
{
    pn_val_t *m = pn_map();
    pn_map_set_uint(m, "v", PN_PROTO_VERSION);
    pn_map_set_uint(m, "id", id);
    return m;
}

int pn_msg_request(uint64_t id, const char *op, pn_val_t *args, char **buf, size_t *len)
{
    pn_val_t *m = s_env(id);
    pn_map_set_str(m, "op", op);
    pn_map_set(m, "args", args ? args : pn_map());
    return s_encode_free(m, buf, len);
}

int pn_msg_reply_ok(uint64_t id, pn_val_t *data, char **buf, size_t *len)
{
    pn_val_t *m = s_env(id);
    pn_map_set_bool(m, "ok", true);
    pn_map_set(m, "data", data ? data : pn_map());
    return s_encode_free(m, buf, len);
}

int pn_msg_reply_err(uint64_t id, int code, const char *msg, char **buf, size_t *len)
{
    pn_val_t *m = s_env(id);
    pn_map_set_bool(m, "ok", false);
    pn_val_t *e = pn_map();
    pn_map_set_str(e, "code", pn_err_name(code));
    pn_map_set_str(e, "msg", msg ? msg : "");
    pn_map_set(m, "err", e);
    return s_encode_free(m, buf, len);
}

int pn_msg_event(uint64_t seq, uint64_t ts, const char *src, const char *type, pn_val_t *data,
                 char **buf, size_t *len)
{
    pn_val_t *m = pn_map();
    pn_map_set_uint(m, "v", PN_PROTO_VERSION);
    pn_map_set_uint(m, "seq", seq);
    pn_map_set_uint(m, "ts", ts);
    pn_map_set_str(m, "src", src);
    pn_map_set_str(m, "type", type);
    pn_map_set(m, "data", data ? data : pn_map());
    return s_encode_free(m, buf, len);
}

/* The envelope every message shares: a map, "v" this protocol's version.
 * m->kind is set; m->id too when the message has an unsigned "id". */
static int s_decode_env(const void *buf, size_t len, pn_msgkind_t kind, pn_msg_t *m, char *errmsg,
                        size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    int r = pn_val_decode(buf, len, NULL, &m->root, errmsg, errlen);
    if (r)
        return r;
    if (m->root->type != PN_MAP) {
        pn_msg_clear(m);
        return s_errf(errmsg, errlen, PN_EINVAL, "message must be a map");
    }
    pn_val_t *v = pn_get(m->root, "v");
    if (!v || v->type != PN_UINT) {
        pn_msg_clear(m);
        return s_errf(errmsg, errlen, PN_EINVAL, "'v' is required and must be an unsigned integer");
    }
    if (v->u != PN_PROTO_VERSION) {
        unsigned long long got = v->u;
        pn_msg_clear(m);
        return s_errf(errmsg, errlen, PN_EUNSUP, "protocol version %llu is not supported (this is %d)",
                      got, PN_PROTO_VERSION);
    }
    pn_val_t *id = pn_get(m->root, "id");
    if (id && id->type == PN_UINT)
        m->id = id->u; /* so even a refused request can be answered by id */
    return PN_OK;
}

static const pn_field_t s_req_env[] = {
    { .key = "id", .type = PN_F_UINT, .flags = PN_REQ },
    { .key = "op", .type = PN_F_STR, .flags = PN_REQ, .max = 64 },
    { .key = "args", .type = PN_F_MAP, .flags = 0, .sub = NULL },
    { .key = NULL },
};

int pn_msg_decode_request(const void *buf, size_t len, const char *svc, pn_msg_t *m,
                          char *errmsg, size_t errlen)
{
    int r = s_decode_env(buf, len, PN_MSG_REQUEST, m, errmsg, errlen);
    if (r)
        return r;
    /* Check the envelope keys only; args are checked against the op below. */
    pn_val_t *args = pn_map_del(m->root, "args");
    r = pn_schema_check(s_req_env, m->root, "", errmsg, errlen);
    if (args)
        pn_map_set(m->root, "args", args);
    if (r)
        return r;
    if (args && args->type != PN_MAP)
        return s_errf(errmsg, errlen, PN_EINVAL, "'args' must be a map");
    if (!args) {
        pn_map_set(m->root, "args", pn_map());
        args = pn_get(m->root, "args");
    }
    m->op = pn_get_str(m->root, "op", NULL);
    m->args = args;
    const pn_opdef_t *d = svc ? pn_op_find(svc, m->op) : NULL;
    if (d)
        return pn_schema_check(d->args, m->args, "args", errmsg, errlen);
    return s_check_free(m->args, "args", errmsg, errlen);
}

int pn_msg_decode_reply(const void *buf, size_t len, const char *svc, const char *op, pn_msg_t *m,
                        char *errmsg, size_t errlen)
{
    int r = s_decode_env(buf, len, PN_MSG_REPLY, m, errmsg, errlen);
    if (r)
        return r;
    pn_val_t *id = pn_get(m->root, "id");
    pn_val_t *ok = pn_get(m->root, "ok");
    if (!id || id->type != PN_UINT)
        return s_errf(errmsg, errlen, PN_EINVAL, "reply 'id' is required and must be an unsigned integer");
    if (!ok || ok->type != PN_BOOL)
        return s_errf(errmsg, errlen, PN_EINVAL, "reply 'ok' is required and must be a boolean");
    m->id = id->u;
    m->ok = ok->b;
    if (m->ok) {
        m->data = pn_get(m->root, "data");
        if (!m->data) {
            pn_map_set(m->root, "data", pn_map());
            m->data = pn_get(m->root, "data");
        }
        if (m->data->type != PN_MAP)
            return s_errf(errmsg, errlen, PN_EINVAL, "reply 'data' must be a map");
        const pn_opdef_t *d = (svc && op) ? pn_op_find(svc, op) : NULL;
        if (d)
            return pn_schema_check(d->reply, m->data, "data", errmsg, errlen);
        return PN_OK;
    }
    pn_val_t *e = pn_get(m->root, "err");
    const char *code = pn_get_str(e, "code", NULL);
    const char *msg = pn_get_str(e, "msg", NULL);
    if (!code || !msg)
        return s_errf(errmsg, errlen, PN_EINVAL, "reply 'err' must carry 'code' and 'msg' strings");
    m->err = pn_err_from_name(code);
    if (m->err <= 0)
        return s_errf(errmsg, errlen, PN_EINVAL, "reply 'err.code' '%s' is not a known error code", code);
    m->errmsg = msg;
    return PN_OK;
}

static const pn_field_t s_ev_env[] = {
    { .key = "seq", .type = PN_F_UINT, .flags = PN_REQ },
    { .key = "ts", .type = PN_F_UINT, .flags = PN_REQ },
    { .key = "src", .type = PN_F_STR, .flags = PN_REQ, .max = 64 },
    { .key = "type", .type = PN_F_STR, .flags = PN_REQ, .max = 64 },
    { .key = "data", .type = PN_F_MAP, .flags = PN_REQ, .max = 0 },
    { .key = NULL },
};

int pn_msg_decode_event(const void *buf, size_t len, pn_msg_t *m, char *errmsg, size_t errlen)
{
    int r = s_decode_env(buf, len, PN_MSG_EVENT, m, errmsg, errlen);
    if (r)
        return r;
    r = pn_schema_check(s_ev_env, m->root, "", errmsg, errlen);
    if (r)
        return r;
    m->seq = pn_get_uint(m->root, "seq", 0);
    m->ts = pn_get_uint(m->root, "ts", 0);
    m->src = pn_get_str(m->root, "src", "");
    m->type = pn_get_str(m->root, "type", "");
    m->data = pn_get(m->root, "data");
    const pn_evdef_t *d = pn_event_find(m->src, m->type);
    if (d)
        return pn_schema_check(d->data, m->data, "data", errmsg, errlen);
    return PN_OK;
}
