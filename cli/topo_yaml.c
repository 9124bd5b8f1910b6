/* topo_yaml: typed access to a libyaml document, and the messages that
 * point into it (see topo_yaml.h). */
#include "topo_yaml.h"
#include "suggest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ty_init(ty_t *y, const char *fname, char *err, size_t errlen)
{
    memset(y, 0, sizeof *y);
    y->fname = fname;
    y->err = err;
    y->errlen = errlen;
}

int ty_load(ty_t *y, const char *text, size_t len)
{
    if (!yaml_parser_initialize(&y->parser)) {
        snprintf(y->err, y->errlen, "%s: cannot initialise the YAML parser", y->fname);
        return -ENOMEM;
    }
    y->have_parser = true;
    yaml_parser_set_input_string(&y->parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&y->parser, &y->doc)) {
        topo_pos_t p = { (int)y->parser.problem_mark.line + 1,
                         (int)y->parser.problem_mark.column + 1 };
        return ty_failp(y, p, "", "YAML syntax error: %s%s%s",
                        y->parser.problem ? y->parser.problem : "?", y->parser.context ? " " : "",
                        y->parser.context ? y->parser.context : "");
    }
    y->have_doc = true;
    return 0;
}

int ty_no_second_doc(ty_t *y)
{
    yaml_document_t d2;
    int r = 0;
    if (yaml_parser_load(&y->parser, &d2)) {
        yaml_node_t *r2 = yaml_document_get_root_node(&d2);
        if (r2)
            r = ty_fail(y, r2, "", "a second YAML document: a topology file holds one lab");
        yaml_document_delete(&d2);
    } else {
        topo_pos_t p = { (int)y->parser.problem_mark.line + 1,
                         (int)y->parser.problem_mark.column + 1 };
        r = ty_failp(y, p, "", "YAML syntax error: %s",
                     y->parser.problem ? y->parser.problem : "?");
    }
    return r;
}

void ty_close(ty_t *y)
{
    if (y->have_doc)
        yaml_document_delete(&y->doc);
    if (y->have_parser)
        yaml_parser_delete(&y->parser);
    y->have_doc = y->have_parser = false;
    for (size_t i = 0; i < y->n_warnings; i++)
        free(y->warnings[i]);
    free(y->warnings);
    y->warnings = NULL;
    y->n_warnings = 0;
}

topo_pos_t ty_pos(const yaml_node_t *n)
{
    topo_pos_t p = { 0, 0 };
    if (n) {
        p.line = (int)n->start_mark.line + 1;
        p.col = (int)n->start_mark.column + 1;
    }
    return p;
}

int ty_failp(ty_t *y, topo_pos_t p, const char *path, const char *fmt, ...)
{
    if (!y->failed && y->err && y->errlen) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (path && *path)
            snprintf(y->err, y->errlen, "%s:%d:%d: %s: %s", y->fname, p.line, p.col, path, msg);
        else
            snprintf(y->err, y->errlen, "%s:%d:%d: %s", y->fname, p.line, p.col, msg);
    }
    y->failed = true;
    return -EINVAL;
}

void ty_warn(ty_t *y, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char msg[512], *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    topo_pos_t p = ty_pos(n);
    if (asprintf(&line, "%s:%d:%d: %s: %s", y->fname, p.line, p.col, path, msg) < 0)
        return;
    char **w = realloc(y->warnings, (y->n_warnings + 1) * sizeof *w);
    if (!w) {
        free(line);
        return;
    }
    y->warnings = w;
    w[y->n_warnings++] = line;
}

void ty_warn_ignored(ty_t *y, const yaml_node_t *key, const char *path,
                     const char *const *clab_keys, const char *const *known)
{
    const char *k = ty_scalar(key);
    for (; k && *clab_keys; clab_keys++)
        if (strcmp(*clab_keys, k) == 0) {
            ty_warn(y, key, path, "containerlab key not supported by plugnet, ignored");
            return;
        }
    size_t n = 0;
    while (known && known[n])
        n++;
    const char *near = k ? cli_suggest(k, known, n) : NULL;
    if (near)
        ty_warn(y, key, path, "unknown key, ignored (did you mean '%s'?)", near);
    else
        ty_warn(y, key, path, "unknown key, ignored");
}

yaml_node_t *ty_root(ty_t *y)
{
    return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *ty_node(ty_t *y, int id)
{
    return yaml_document_get_node(&y->doc, id);
}

const char *ty_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool ty_is_null(const yaml_node_t *n)
{
    const char *s = ty_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

const char *ty_type_name(const yaml_node_t *n)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case YAML_SCALAR_NODE: return ty_is_null(n) ? "nothing" : "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

int ty_str(ty_t *y, yaml_node_t *n, const char *path, const char **out)
{
    if (!n || n->type != YAML_SCALAR_NODE || ty_is_null(n))
        return ty_fail(y, n, path, "expected a string, found %s", ty_type_name(n));
    *out = ty_scalar(n);
    return 0;
}

/* The key/value pairs of a mapping, with YAML merge keys ("<<: *base")
 * flattened in first so the mapping's own keys override them.  Duplicate
 * keys are an error: YAML forbids them and a silent "last one wins" hides
 * typos in node lists. */
static int s_pairs_rec(ty_t *y, yaml_node_t *map, const char *path, ty_pair_t **out, size_t *n,
                       size_t *cap, int depth)
{
    if (depth > 8)
        return ty_fail(y, map, path, "merge keys nested too deeply");
    if (!map || ty_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return ty_fail(y, map, path, "expected a mapping, found %s", ty_type_name(map));
    /* Merged mappings first, so the mapping's own keys come after them. */
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = ty_node(y, p->key), *v = ty_node(y, p->value);
        const char *ks = ty_scalar(k);
        if (!ks)
            return ty_fail(y, k, path, "keys must be strings, found %s", ty_type_name(k));
        if (strcmp(ks, "<<") != 0 || k->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
            continue;
        if (v && v->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++)
                if (s_pairs_rec(y, ty_node(y, *it), path, out, n, cap, depth + 1) < 0)
                    return -EINVAL;
        } else if (s_pairs_rec(y, v, path, out, n, cap, depth + 1) < 0) {
            return -EINVAL;
        }
    }
    size_t own_start = *n;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = ty_node(y, p->key), *v = ty_node(y, p->value);
        const char *ks = ty_scalar(k);
        if (!strcmp(ks, "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            continue;
        for (size_t i = own_start; i < *n; i++)
            if (!strcmp(ty_scalar((*out)[i].k), ks))
                return ty_fail(y, k, path, "duplicate key '%s' (first at line %d)", ks,
                               ty_pos((*out)[i].k).line);
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            ty_pair_t *np = realloc(*out, nc * sizeof *np);
            if (!np)
                return ty_fail(y, k, path, "out of memory");
            *out = np;
            *cap = nc;
        }
        (*out)[(*n)++] = (ty_pair_t){ k, v };
    }
    return 0;
}

int ty_pairs(ty_t *y, yaml_node_t *map, const char *path, ty_pair_t **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (s_pairs_rec(y, map, path, out, n, &cap, 0) < 0) {
        free(*out);
        *out = NULL;
        return -EINVAL;
    }
    /* Later keys override earlier ones (own keys come after merged ones):
     * drop the earlier duplicates. */
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        bool later = false;
        for (size_t j = i + 1; j < *n; j++)
            if (!strcmp(ty_scalar((*out)[i].k), ty_scalar((*out)[j].k)))
                later = true;
        if (!later)
            (*out)[w++] = (*out)[i];
    }
    *n = w;
    return 0;
}

yaml_node_t *ty_lookup(ty_pair_t *pairs, size_t n, const char *key, yaml_node_t **keynode)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ty_scalar(pairs[i].k), key)) {
            if (keynode)
                *keynode = pairs[i].k;
            return pairs[i].v;
        }
    return NULL;
}
