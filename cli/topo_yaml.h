/* topo_yaml: the YAML side of the topology parser.  libyaml's document API
 * loads the file; this module gives typed access to its nodes (strings,
 * mappings with merge keys flattened) and writes the messages, which name
 * file:line:column and the key path ("lab.yml:7:15: topology.nodes.r1.memory:
 * ...").  Only the first error is kept: one precise message is worth more
 * than a cascade that follows from it.  Warnings are collected in order. */
#ifndef PN_TOPO_YAML_H
#define PN_TOPO_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "topo.h"

typedef struct {
    yaml_node_t *k, *v;
} ty_pair_t;

typedef struct {
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser, have_doc;
    const char *fname;  /* in messages */
    char *err;          /* the first error */
    size_t errlen;
    bool failed;
    char **warnings;    /* "file:line:col: key: message" */
    size_t n_warnings;
} ty_t;

/* Set up y for a file named fname (borrowed), errors into err. */
void ty_init(ty_t *y, const char *fname, char *err, size_t errlen);
/* Load the first document of text.  0, -EINVAL (a syntax error, in err)
 * or -ENOMEM (err says why). */
int ty_load(ty_t *y, const char *text, size_t len);
/* After the first document was read: a second one is an error (it would be
 * silently ignored otherwise).  0 or -EINVAL. */
int ty_no_second_doc(ty_t *y);
/* Free the document, the parser and the warnings not taken. */
void ty_close(ty_t *y);

/* 1-based position of a node; 0:0 for NULL. */
topo_pos_t ty_pos(const yaml_node_t *n);
/* Record an error at p for the key path (the first one wins); -EINVAL. */
int ty_failp(ty_t *y, topo_pos_t p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define ty_fail(y, n, path, ...) ty_failp((y), ty_pos(n), (path), __VA_ARGS__)
void ty_warn(ty_t *y, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A key the parser does not use, at key (a scalar): "containerlab key not
 * supported by plugnet, ignored" when it is in clab_keys (NULL-terminated),
 * else "unknown key, ignored", with "(did you mean 'nodes'?)" when one of
 * the known keys (NULL-terminated) is a likely typo of it. */
void ty_warn_ignored(ty_t *y, const yaml_node_t *key, const char *path,
                     const char *const *clab_keys, const char *const *known);

yaml_node_t *ty_root(ty_t *y);
yaml_node_t *ty_node(ty_t *y, int id);
const char *ty_scalar(const yaml_node_t *n);   /* NULL unless a scalar */
/* An empty plain scalar, "~" or "null": "h1:" with nothing after it. */
bool ty_is_null(const yaml_node_t *n);
const char *ty_type_name(const yaml_node_t *n); /* "a list", "a mapping", ... */
/* A string value: any non-null scalar; else an error. */
int ty_str(ty_t *y, yaml_node_t *n, const char *path, const char **out);
/* The key/value pairs of a mapping (or nothing for null), merge keys
 * flattened, later keys overriding; *out is the caller's.  0 or -EINVAL. */
int ty_pairs(ty_t *y, yaml_node_t *map, const char *path, ty_pair_t **out, size_t *n);
yaml_node_t *ty_lookup(ty_pair_t *pairs, size_t n, const char *key, yaml_node_t **keynode);

#endif
