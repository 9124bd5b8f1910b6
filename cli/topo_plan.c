/* topo_plan: the diff from the live lab to a topology file, and the engine
 * that applies it with rollback (see topo_plan.h). */
#include "topo_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static const struct {
    const char *op, *verb;
} s_steps[] = {
#define X(e, op, verb) { op, verb },
    TOPO_STEPS(X)
#undef X
};

const char *topo_step_op(topo_step_kind_t k)
{
    return s_steps[k].op;
}

void topo_step_describe(const topo_step_t *s, char *buf, size_t len)
{
    switch (s->kind) {
    case TOPO_LAN_ADD:
    case TOPO_LAN_DEL:
        snprintf(buf, len, "%s %s", s_steps[s->kind].verb, s->lan);
        break;
    case TOPO_NODE_ADD:
        snprintf(buf, len, "add node %s (%s)", s->node,
                 s->spec ? topo_kind_name(s->spec->kind) : "?");
        break;
    case TOPO_NIC_ADD:
        snprintf(buf, len, "plug %s %s into %s", s->node, s->nic.ifname, s->nic.lan);
        break;
    case TOPO_NIC_DEL:
        snprintf(buf, len, "unplug %s %s from %s", s->node, s->nic.ifname, s->nic.lan);
        break;
    default:
        snprintf(buf, len, "%s %s", s_steps[s->kind].verb, s->node);
        break;
    }
}

/* ------------------------------------------------------- live, record */

void topo_live_clear(topo_live_t *l)
{
    for (size_t i = 0; i < l->n_nodes; i++)
        topo_node_clear(&l->nodes[i]);
    free(l->nodes);
    free(l->states);
    free(l->lans);
    memset(l, 0, sizeof *l);
}

int topo_live_add_node(topo_live_t *l, const topo_node_t *n, const char *state)
{
    topo_node_t *nn = realloc(l->nodes, (l->n_nodes + 1) * sizeof *nn);
    if (!nn)
        return -ENOMEM;
    l->nodes = nn;
    char(*st)[16] = realloc(l->states, (l->n_nodes + 1) * sizeof *st);
    if (!st)
        return -ENOMEM;
    l->states = st;
    if (topo_node_copy(&l->nodes[l->n_nodes], n) < 0)
        return -ENOMEM;
    snprintf(l->states[l->n_nodes], sizeof l->states[0], "%s", state ? state : "");
    l->n_nodes++;
    return 0;
}

static int s_names_add(char (**v)[16], size_t *n, const char *name)
{
    char(*nv)[16] = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    snprintf(nv[*n], sizeof nv[0], "%s", name);
    (*n)++;
    return 0;
}

static bool s_names_has(char (*v)[16], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], name))
            return true;
    return false;
}

int topo_live_add_lan(topo_live_t *l, const char *name)
{
    return s_names_add(&l->lans, &l->n_lans, name);
}

void topo_record_clear(topo_record_t *r)
{
    free(r->nodes);
    free(r->lans);
    memset(r, 0, sizeof *r);
}

int topo_record_add(topo_record_t *r, bool lan, const char *name)
{
    if (topo_record_has(r, lan, name))
        return 0;
    return lan ? s_names_add(&r->lans, &r->n_lans, name) : s_names_add(&r->nodes, &r->n_nodes, name);
}

bool topo_record_has(const topo_record_t *r, bool lan, const char *name)
{
    if (!r)
        return false;
    return lan ? s_names_has(r->lans, r->n_lans, name) : s_names_has(r->nodes, r->n_nodes, name);
}

/* --------------------------------------------------------------- plan */

typedef struct {
    topo_plan_t *p;
    bool oom;
} build_t;

static topo_step_t *s_push(build_t *b, topo_step_kind_t kind, const char *node, const char *why)
{
    topo_plan_t *p = b->p;
    topo_step_t *ns = realloc(p->steps, (p->n + 1) * sizeof *ns);
    if (!ns) {
        b->oom = true;
        return NULL;
    }
    p->steps = ns;
    topo_step_t *s = &ns[p->n++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (node)
        snprintf(s->node, sizeof s->node, "%s", node);
    snprintf(s->why, sizeof s->why, "%s", why ? why : "");
    return s;
}

static const topo_node_t *s_live_node(const topo_live_t *l, const char *name, const char **state)
{
    for (size_t i = 0; l && i < l->n_nodes; i++)
        if (!strcmp(l->nodes[i].name, name)) {
            if (state)
                *state = l->states ? l->states[i] : "";
            return &l->nodes[i];
        }
    return NULL;
}

static bool s_live_lan(const topo_live_t *l, const char *name)
{
    return l && s_names_has(l->lans, l->n_lans, name);
}

static const topo_nic_t *s_nic(const topo_node_t *n, const char *ifname)
{
    for (size_t i = 0; i < n->n_nics; i++)
        if (!strcmp(n->nics[i].ifname, ifname))
            return &n->nics[i];
    return NULL;
}

/* Why a live node must be recreated to match the file, or NULL.  Only what
 * the daemons report is compared: an unreported value never forces it. */
static const char *s_recreate_why(const topo_node_t *w, const topo_node_t *l, char *buf, size_t len)
{
    if (w->kind != l->kind)
        snprintf(buf, len, "kind %s -> %s", topo_kind_name(l->kind), topo_kind_name(w->kind));
    else if (w->image && l->image && strcmp(w->image, l->image) != 0)
        snprintf(buf, len, "image %s -> %s", l->image, w->image);
    else if (w->memory_mb && l->memory_mb && w->memory_mb != l->memory_mb)
        snprintf(buf, len, "memory %llu -> %llu MiB", (unsigned long long)l->memory_mb,
                 (unsigned long long)w->memory_mb);
    else if (w->cpus && l->cpus && w->cpus != l->cpus)
        snprintf(buf, len, "cpus %u -> %u", l->cpus, w->cpus);
    else
        return NULL;
    return buf;
}

/* A NIC of the file differs from the live one on the same interface. */
static bool s_nic_differs(const topo_nic_t *w, const topo_nic_t *l)
{
    if (strcmp(w->lan, l->lan) != 0)
        return true;
    if (w->mac[0] && l->mac[0] && strcasecmp(w->mac, l->mac) != 0)
        return true;
    if (strcmp(w->ipv4, l->ipv4) != 0 && (w->ipv4[0] || l->ipv4[0]))
        return true;
    return false;
}

/* A step KIND on NODE for each NIC of from that other lacks ("missing") or
 * has otherwise ("changed"); the step carries from's NIC.  Unplugging runs
 * it over the live node against the file, plugging the other way round
 * (s_nic_differs does not care which side is which). */
static void s_push_nics(build_t *b, topo_step_kind_t kind, const char *node, const topo_node_t *from,
                        const topo_node_t *other, const char *missing)
{
    for (size_t j = 0; j < from->n_nics; j++) {
        const topo_nic_t *on = s_nic(other, from->nics[j].ifname);
        if (on && !s_nic_differs(&from->nics[j], on))
            continue;
        topo_step_t *s = s_push(b, kind, node, on ? "changed" : missing);
        if (s)
            s->nic = from->nics[j];
    }
}

static bool s_running(const char *state)
{
    return state && (!strcmp(state, "running") || !strcmp(state, "starting"));
}

static int s_booted(build_t *b, const char *name)
{
    if (s_names_add(&b->p->booted, &b->p->n_booted, name) < 0)
        b->oom = true;
    return 0;
}

static bool s_in_file(const topo_t *want, bool lan, const char *name)
{
    return want && (lan ? topo_lan_find(want, name) != NULL : topo_node_find(want, name) != NULL);
}

/* Steps deleting the live nodes, or the live LANs (never mgmt), that the
 * lab owns: those of its record (by_record), else those of the file.  With
 * spare_wanted, the ones the file still has stay.  A deleted node is kept
 * in its step, to be recreated by a rollback. */
static void s_delete_owned(build_t *b, const topo_t *want, const topo_live_t *live,
                           const topo_record_t *rec, bool by_record, bool spare_wanted, bool lans,
                           const char *why)
{
    size_t n = !live ? 0 : lans ? live->n_lans : live->n_nodes;
    for (size_t i = 0; i < n; i++) {
        const char *name = lans ? live->lans[i] : live->nodes[i].name;
        if (lans && !strcmp(name, "mgmt"))
            continue;
        if (by_record ? !topo_record_has(rec, lans, name) : !s_in_file(want, lans, name))
            continue;
        if (spare_wanted && s_in_file(want, lans, name))
            continue;
        topo_step_t *s = s_push(b, lans ? TOPO_LAN_DEL : TOPO_NODE_DEL, lans ? NULL : name, why);
        if (s && lans) {
            snprintf(s->lan, sizeof s->lan, "%s", name);
        } else if (s) {
            s->was = &live->nodes[i];
            s->was_running = s_running(live->states ? live->states[i] : NULL);
        }
    }
}

static int s_finish(build_t *b, topo_plan_t **out, char *err, size_t errlen)
{
    if (b->oom) {
        topo_plan_destroy(&b->p);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *out = b->p;
    return 0;
}

int topo_plan_up(const topo_t *want, const topo_live_t *live, const topo_record_t *rec,
                 topo_plan_t **out, char *err, size_t errlen)
{
    build_t b = { .p = calloc(1, sizeof(topo_plan_t)) };
    char why[96];
    *out = NULL;
    if (!b.p) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    /* A node of the file that is live with another kind and not this lab's
     * is somebody else's: refuse rather than recreate it. */
    for (size_t i = 0; i < want->n_nodes; i++) {
        const topo_node_t *w = &want->nodes[i];
        const topo_node_t *l = s_live_node(live, w->name, NULL);
        if (l && l->kind != w->kind && !topo_record_has(rec, false, w->name)) {
            snprintf(err, errlen, "node '%s' exists as a %s node and is not part of lab '%s'; "
                     "delete it or rename the node in %s", w->name, topo_kind_name(l->kind),
                     want->name, want->file);
            topo_plan_destroy(&b.p);
            return -EINVAL;
        }
    }

    /* 1. LANs the file needs. */
    for (size_t i = 0; i < want->n_lans; i++) {
        const topo_lan_t *lan = &want->lans[i];
        if (!strcmp(lan->name, "mgmt") || s_live_lan(live, lan->name))
            continue;
        topo_step_t *s = s_push(&b, TOPO_LAN_ADD, NULL, "new");
        if (s) {
            snprintf(s->lan, sizeof s->lan, "%s", lan->name);
            s->mtu = lan->mtu;
        }
    }

    /* 2. Nodes of this lab that left the file. */
    s_delete_owned(&b, want, live, rec, true, true, false, "left the file");

    /* 3. Nodes that stay: recreate the changed ones; unplug NICs that went
     * away or changed. */
    bool *recreate = calloc(want->n_nodes + 1, sizeof *recreate);
    if (!recreate)
        b.oom = true;
    for (size_t i = 0; recreate && i < want->n_nodes; i++) {
        const topo_node_t *w = &want->nodes[i];
        const char *state = NULL;
        const topo_node_t *l = s_live_node(live, w->name, &state);
        if (!l)
            continue;
        if (s_recreate_why(w, l, why, sizeof why)) {
            recreate[i] = true;
            topo_step_t *s = s_push(&b, TOPO_NODE_DEL, w->name, why);
            if (s) {
                s->was = l;
                s->was_running = s_running(state);
            }
            continue;
        }
        s_push_nics(&b, TOPO_NIC_DEL, w->name, l, w, "left the file");
    }

    /* 4. New and recreated nodes. */
    for (size_t i = 0; recreate && i < want->n_nodes; i++) {
        const topo_node_t *w = &want->nodes[i];
        const topo_node_t *l = s_live_node(live, w->name, NULL);
        if (l && !recreate[i])
            continue;
        topo_step_t *s = s_push(&b, TOPO_NODE_ADD, w->name, l ? "recreated" : "new");
        if (s)
            s->spec = w;
    }

    /* 5. NICs that are new or changed on nodes that stay. */
    for (size_t i = 0; recreate && i < want->n_nodes; i++) {
        const topo_node_t *w = &want->nodes[i];
        const topo_node_t *l = s_live_node(live, w->name, NULL);
        if (!l || recreate[i])
            continue;
        s_push_nics(&b, TOPO_NIC_ADD, w->name, w, l, "new");
    }

    /* 6. Start what is new, recreated or not running. */
    for (size_t i = 0; recreate && i < want->n_nodes; i++) {
        const topo_node_t *w = &want->nodes[i];
        const char *state = NULL;
        const topo_node_t *l = s_live_node(live, w->name, &state);
        if (l && !recreate[i] && s_running(state))
            continue;
        s_push(&b, TOPO_NODE_START, w->name, !l ? "new" : recreate[i] ? "recreated" : state);
        s_booted(&b, w->name);
    }
    free(recreate);

    /* 7. LANs of this lab that left the file, once nothing of ours uses them. */
    s_delete_owned(&b, want, live, rec, true, true, true, "left the file");
    return s_finish(&b, out, err, errlen);
}

int topo_plan_down(const topo_t *want, const topo_live_t *live, const topo_record_t *rec,
                   topo_plan_t **out, char *err, size_t errlen)
{
    build_t b = { .p = calloc(1, sizeof(topo_plan_t)) };
    *out = NULL;
    if (!b.p) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    /* With a record, it says what the lab owns (a LAN it joined but did not
     * create stays); without one, the file does. */
    bool by_record = rec && (rec->n_nodes || rec->n_lans);
    s_delete_owned(&b, want, live, rec, by_record, false, false, "down");
    s_delete_owned(&b, want, live, rec, by_record, false, true, "down");
    return s_finish(&b, out, err, errlen);
}

void topo_plan_destroy(topo_plan_t **p_p)
{
    if (!p_p || !*p_p)
        return;
    free((*p_p)->steps);
    free((*p_p)->booted);
    free(*p_p);
    *p_p = NULL;
}

/* ------------------------------------------------------------- apply */

/* The steps that undo s (at most two), in the order to run them. */
static size_t s_inverse(const topo_step_t *s, topo_step_t inv[2])
{
    memset(inv, 0, 2 * sizeof *inv);
    inv[0] = *s;
    snprintf(inv[0].why, sizeof inv[0].why, "rollback");
    switch (s->kind) {
    case TOPO_LAN_ADD: inv[0].kind = TOPO_LAN_DEL; return 1;
    case TOPO_LAN_DEL: inv[0].kind = TOPO_LAN_ADD; return 1;
    case TOPO_NODE_ADD: inv[0].kind = TOPO_NODE_DEL; inv[0].was = s->spec; return 1;
    case TOPO_NODE_START: inv[0].kind = TOPO_NODE_STOP; return 1;
    case TOPO_NODE_STOP: inv[0].kind = TOPO_NODE_START; return 1;
    case TOPO_NIC_ADD: inv[0].kind = TOPO_NIC_DEL; return 1;
    case TOPO_NIC_DEL: inv[0].kind = TOPO_NIC_ADD; return 1;
    case TOPO_NODE_DEL:
        if (!s->was)
            return 0;
        inv[0].kind = TOPO_NODE_ADD;
        inv[0].spec = s->was;
        if (!s->was_running)
            return 1;
        inv[1] = inv[0];
        inv[1].kind = TOPO_NODE_START;
        inv[1].spec = NULL;
        return 2;
    }
    return 0;
}

int topo_plan_apply(const topo_plan_t *p, topo_step_fn fn, void *arg, bool rollback,
                    char *err, size_t errlen)
{
    char msg[512], desc[160];
    int first = 0;
    size_t failed_at = 0;
    if (err && errlen)
        err[0] = 0;
    for (size_t i = 0; i < p->n; i++) {
        msg[0] = 0;
        int r = fn(&p->steps[i], arg, msg, sizeof msg);
        if (r == 0)
            continue;
        topo_step_describe(&p->steps[i], desc, sizeof desc);
        if (!first) {
            first = r;
            failed_at = i;
            snprintf(err, errlen, "step %zu/%zu (%s): %s", i + 1, p->n, desc,
                     msg[0] ? msg : strerror(-r));
        }
        if (rollback)
            break;
    }
    if (!first || !rollback)
        return first;

    topo_plan_undo(p, failed_at, fn, arg, err, errlen);
    return first;
}

int topo_plan_undo(const topo_plan_t *p, size_t done, topo_step_fn fn, void *arg, char *err,
                   size_t errlen)
{
    char msg[512], desc[160];
    /* Undo in reverse order.  An undo that fails is reported, and the rest
     * goes on: leaving less behind is better than stopping half-way. */
    size_t undone = 0, undo_failed = 0;
    char undo_err[256] = "";
    for (size_t i = done; i-- > 0;) {
        topo_step_t inv[2];
        size_t n = s_inverse(&p->steps[i], inv);
        bool ok = true;
        for (size_t j = 0; j < n; j++) {
            msg[0] = 0;
            if (fn(&inv[j], arg, msg, sizeof msg) != 0) {
                ok = false;
                if (!undo_err[0]) {
                    topo_step_describe(&inv[j], desc, sizeof desc);
                    snprintf(undo_err, sizeof undo_err, "%s: %s", desc, msg);
                }
                break;
            }
        }
        if (ok)
            undone++;
        else
            undo_failed++;
    }
    size_t l = strlen(err);
    if (undo_failed)
        snprintf(err + l, errlen - l, "; rolled back %zu step%s, %zu could not be undone (%s)",
                 undone, undone == 1 ? "" : "s", undo_failed, undo_err);
    else
        snprintf(err + l, errlen - l, "; rolled back %zu step%s", undone, undone == 1 ? "" : "s");
    return undo_failed ? -EIO : 0;
}
