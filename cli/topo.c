/* topo: containerlab-shaped topology files, parsed with libyaml's document
 * API and resolved into nodes, NICs and LANs (see topo.h).  This file reads
 * the document's top (name, topology) and hands its parts down; it also
 * owns the lifetime of a topo_t and its nodes.
 *
 * The parser keeps the first error only: one precise message is worth more
 * than a cascade that follows from it.  Positions come from the yaml marks
 * of the node that is wrong (the value, or the key when the value is
 * missing), so the message points where the user has to look.
 */
#include "topo.h"
#include "topo_read.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ the file */

/* Keys that containerlab knows and plugnet does not use, at the top and in
 * topology: a warning that says so is more helpful than "unknown key". */
static const char *const s_clab_top_keys[] = { "prefix", "mgmt", "settings", NULL };
static const char *const s_clab_topology_keys[] = { "groups", NULL };
/* The keys plugnet reads there: what a misspelt key was probably meant to be. */
static const char *const s_top_keys[] = { "name", "topology", NULL };
static const char *const s_topology_keys[] = { "nodes", "links", "kinds", "defaults", NULL };

static bool s_lab_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !isalnum((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static int s_parse_doc(topo_read_t *c)
{
    yaml_node_t *root = ty_root(&c->y);
    if (!root)
        return ty_failp(&c->y, (topo_pos_t){ 1, 1 }, "",
                        "empty file: a lab needs a name and topology.nodes");
    if (root->type != YAML_MAPPING_NODE)
        return ty_fail(&c->y, root, "", "expected a mapping at the top (name, topology), found %s",
                       ty_type_name(root));
    ty_pair_t *top;
    size_t nt;
    if (ty_pairs(&c->y, root, "", &top, &nt) < 0)
        return -EINVAL;
    int r = -EINVAL;
    ty_pair_t *tp = NULL;
    size_t ntp = 0;
    yaml_node_t *name = NULL, *topology = NULL;
    for (size_t i = 0; i < nt; i++) {
        const char *k = ty_scalar(top[i].k);
        if (!strcmp(k, "name"))
            name = top[i].v;
        else if (!strcmp(k, "topology"))
            topology = top[i].v;
        else
            ty_warn_ignored(&c->y, top[i].k, k, s_clab_top_keys, s_top_keys);
    }
    const char *s;
    if (!name) {
        ty_failp(&c->y, ty_pos(root), "name", "missing: every lab has a name");
        goto out;
    }
    if (ty_str(&c->y, name, "name", &s) < 0)
        goto out;
    if (!s_lab_name_valid(s)) {
        ty_fail(&c->y, name, "name",
                "'%s' is not a valid lab name (letters, digits, '-', '_', "
                "'.'; up to 64)",
                s);
        goto out;
    }
    if (!(c->t->name = strdup(s)))
        goto out;
    if (!topology) {
        ty_failp(&c->y, ty_pos(root), "topology", "missing: a lab needs topology.nodes");
        goto out;
    }
    if (ty_pairs(&c->y, topology, "topology", &tp, &ntp) < 0)
        goto out;
    yaml_node_t *nodes = NULL, *links = NULL, *kinds = NULL, *defaults = NULL;
    for (size_t i = 0; i < ntp; i++) {
        const char *k = ty_scalar(tp[i].k);
        char kp[128];
        snprintf(kp, sizeof kp, "topology.%s", k);
        if (!strcmp(k, "nodes"))
            nodes = tp[i].v;
        else if (!strcmp(k, "links"))
            links = tp[i].v;
        else if (!strcmp(k, "kinds"))
            kinds = tp[i].v;
        else if (!strcmp(k, "defaults"))
            defaults = tp[i].v;
        else
            ty_warn_ignored(&c->y, tp[i].k, kp, s_clab_topology_keys, s_topology_keys);
    }
    if (topo_read_nodes(c, nodes, defaults, kinds) < 0 || topo_read_links(c, links) < 0 ||
        topo_read_unique(c) < 0)
        goto out;
    r = 0;
out:
    free(top);
    free(tp);
    return r;
}

int topo_parse(const char *text, size_t len, const char *fname, topo_t **out, char *err,
               size_t errlen)
{
    topo_read_t c = { .t = NULL };
    ty_init(&c.y, fname ? fname : "-", err, errlen);
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    c.t = calloc(1, sizeof *c.t);
    if (!c.t || !(c.t->file = strdup(c.y.fname))) {
        free(c.t);
        snprintf(err, errlen, "%s: out of memory", c.y.fname);
        return -ENOMEM;
    }
    int r;
    if (len > TOPO_MAX_FILE)
        r = ty_failp(&c.y, (topo_pos_t){ 1, 1 }, "", "file too large (%zu bytes, at most %u)", len,
                     TOPO_MAX_FILE);
    else if ((r = ty_load(&c.y, text, len)) == 0 && (r = s_parse_doc(&c)) == 0)
        r = ty_no_second_doc(&c.y);
    if (r == 0) {
        /* The warnings go with the lab. */
        c.t->warnings = c.y.warnings;
        c.t->n_warnings = c.y.n_warnings;
        c.y.warnings = NULL;
        c.y.n_warnings = 0;
    }
    else if (c.y.n_warnings && err && errlen) {
        /* A misspelt key is often why the file fails ("node:" for "nodes:",
         * then a link names a node that is not there): its warning goes
         * before the error, not lost with the lab. */
        char *e = strdup(err);
        size_t at = 0;
        for (size_t i = 0; e && i < c.y.n_warnings && at < errlen; i++) {
            int n = snprintf(err + at, errlen - at, "warning: %s\n", c.y.warnings[i]);
            at += n > 0 ? (size_t)n : 0;
        }
        if (e && at < errlen)
            snprintf(err + at, errlen - at, "%s", e);
        free(e);
    }
    ty_close(&c.y);
    free(c.bridges);
    if (r < 0) {
        topo_destroy(&c.t);
        return r;
    }
    *out = c.t;
    return 0;
}

int topo_load(const char *path, topo_t **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    int r = 0;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        r = -EINVAL;
    } else if (st.st_size > TOPO_MAX_FILE) {
        snprintf(err, errlen, "%s: file too large (%lld bytes, at most %u)", path,
                 (long long)st.st_size, TOPO_MAX_FILE);
        r = -EFBIG;
    }
    char *buf = r == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    if (r == 0 && !buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        r = -ENOMEM;
    }
    if (r < 0) {
        fclose(f);
        return r;
    }
    /* A regular file: fread reads it whole (or what there is of it). */
    size_t got = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[got] = 0;
    r = topo_parse(buf, got, path, out, err, errlen);
    free(buf);
    return r;
}

void topo_destroy(topo_t **t_p)
{
    if (!t_p || !*t_p)
        return;
    topo_t *t = *t_p;
    for (size_t i = 0; i < t->n_nodes; i++)
        topo_node_clear(&t->nodes[i]);
    free(t->nodes);
    for (size_t i = 0; i < t->n_lans; i++)
        free(t->lans[i].bridges);
    free(t->lans);
    for (size_t i = 0; i < t->n_warnings; i++)
        free(t->warnings[i]);
    free(t->warnings);
    free(t->file);
    free(t->name);
    free(t);
    *t_p = NULL;
}

const topo_node_t *topo_node_find(const topo_t *t, const char *name)
{
    for (size_t i = 0; t && i < t->n_nodes; i++)
        if (!strcmp(t->nodes[i].name, name))
            return &t->nodes[i];
    return NULL;
}

const topo_lan_t *topo_lan_find(const topo_t *t, const char *name)
{
    for (size_t i = 0; t && i < t->n_lans; i++)
        if (!strcmp(t->lans[i].name, name))
            return &t->lans[i];
    return NULL;
}

/* ------------------------------------------------------------ the model */

void topo_node_clear(topo_node_t *n)
{
    free(n->image);
    free(n->cmd);
    for (size_t i = 0; i < n->n_exec; i++)
        free(n->exec[i].text);
    free(n->exec);
    for (size_t i = 0; i < n->n_env; i++) {
        free(n->env[i].key);
        free(n->env[i].val);
    }
    free(n->env);
    free(n->nics);
    memset(n, 0, sizeof *n);
}

static char *s_dup(const char *s, bool *fail)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *fail = true;
    return d;
}

int topo_node_copy(topo_node_t *dst, const topo_node_t *src)
{
    bool fail = false;
    *dst = *src;
    dst->image = s_dup(src->image, &fail);
    dst->cmd = s_dup(src->cmd, &fail);
    dst->exec = NULL;
    dst->env = NULL;
    dst->nics = NULL;
    dst->n_exec = dst->n_env = dst->n_nics = 0;
    if (src->n_exec && (dst->exec = calloc(src->n_exec, sizeof *dst->exec))) {
        dst->n_exec = src->n_exec;
        for (size_t i = 0; i < src->n_exec; i++) {
            dst->exec[i].text = s_dup(src->exec[i].text, &fail);
            dst->exec[i].line = src->exec[i].line;
        }
    } else if (src->n_exec) {
        fail = true;
    }
    if (src->n_env && (dst->env = calloc(src->n_env, sizeof *dst->env))) {
        dst->n_env = src->n_env;
        for (size_t i = 0; i < src->n_env; i++) {
            dst->env[i].key = s_dup(src->env[i].key, &fail);
            dst->env[i].val = s_dup(src->env[i].val, &fail);
        }
    } else if (src->n_env) {
        fail = true;
    }
    if (src->n_nics && (dst->nics = malloc(src->n_nics * sizeof *dst->nics))) {
        memcpy(dst->nics, src->nics, src->n_nics * sizeof *dst->nics);
        dst->n_nics = src->n_nics;
    } else if (src->n_nics) {
        fail = true;
    }
    if (fail) {
        topo_node_clear(dst);
        return -ENOMEM;
    }
    return 0;
}

