/* pn_val: a small dynamic value tree (nil, bool, int, uint, float, str, bin,
 * array, map) that every plugnet message is decoded into and built from.
 *
 * Ownership: a container owns what is put into it.  pn_map_set() and
 * pn_arr_push() take ownership of the value passed in.  Getters return
 * borrowed pointers.  pn_val_free() accepts NULL.
 */
#ifndef PN_VAL_H
#define PN_VAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    PN_NIL,
    PN_BOOL,
    PN_INT,   /* negative integers */
    PN_UINT,  /* non-negative integers */
    PN_FLOAT,
    PN_STR,
    PN_BIN,
    PN_ARR,
    PN_MAP,
} pn_type_t;

typedef struct pn_val pn_val_t;

struct pn_val {
    pn_type_t type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        struct { char *p; size_t len; } s;          /* STR (NUL-terminated too) and BIN */
        struct { pn_val_t **v; size_t n, cap; } a;   /* ARR */
        struct { char **k; pn_val_t **v; size_t n, cap; } m; /* MAP */
    };
};

/* Constructors: return NULL only on allocation failure. */
pn_val_t *pn_nil(void);
pn_val_t *pn_bool(bool b);
pn_val_t *pn_int(int64_t i);
pn_val_t *pn_uint(uint64_t u);
pn_val_t *pn_float(double f);
pn_val_t *pn_str(const char *s);
pn_val_t *pn_strn(const char *s, size_t len);
pn_val_t *pn_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
pn_val_t *pn_bin(const void *p, size_t len);
pn_val_t *pn_arr(void);
pn_val_t *pn_map(void);
pn_val_t *pn_val_dup(const pn_val_t *v);
void pn_val_free(pn_val_t *v);
void pn_val_destroy(pn_val_t **v_p);

/* Containers.  Setting an existing key replaces its value. */
pn_val_t *pn_map_set(pn_val_t *map, const char *key, pn_val_t *val);
pn_val_t *pn_map_set_str(pn_val_t *map, const char *key, const char *s);
pn_val_t *pn_map_set_uint(pn_val_t *map, const char *key, uint64_t u);
pn_val_t *pn_map_set_int(pn_val_t *map, const char *key, int64_t i);
pn_val_t *pn_map_set_bool(pn_val_t *map, const char *key, bool b);
pn_val_t *pn_map_set_float(pn_val_t *map, const char *key, double f);
pn_val_t *pn_map_del(pn_val_t *map, const char *key); /* returns the removed value, caller frees */
pn_val_t *pn_arr_push(pn_val_t *arr, pn_val_t *val);
size_t pn_len(const pn_val_t *v); /* items of ARR/MAP, bytes of STR/BIN, else 0 */
pn_val_t *pn_at(const pn_val_t *arr, size_t i);

/* Getters: NULL/default when missing or of another type. */
pn_val_t *pn_get(const pn_val_t *map, const char *key);
const char *pn_get_str(const pn_val_t *map, const char *key, const char *def);
uint64_t pn_get_uint(const pn_val_t *map, const char *key, uint64_t def);
int64_t pn_get_int(const pn_val_t *map, const char *key, int64_t def);
bool pn_get_bool(const pn_val_t *map, const char *key, bool def);
double pn_get_float(const pn_val_t *map, const char *key, double def);
/* Dotted path lookup ("data.ports"). */
pn_val_t *pn_path(const pn_val_t *v, const char *dotted);

bool pn_val_equal(const pn_val_t *a, const pn_val_t *b);

/* msgpack encoding.  Returns 0 or -ENOMEM; *buf is malloc'd. */
int pn_val_encode(const pn_val_t *v, char **buf, size_t *len);

/* Decoding with limits.  Returns a pn_err code (PN_OK on success); on
 * failure errmsg holds one sentence naming the offending key. */
typedef struct {
    size_t max_msg;    /* whole message */
    size_t max_depth;  /* nesting of arrays/maps */
    size_t max_items;  /* items of one array or map */
    size_t max_str;    /* bytes of one string or bin */
} pn_limits_t;
extern const pn_limits_t pn_default_limits;
int pn_val_decode(const void *buf, size_t len, const pn_limits_t *lim,
                  pn_val_t **out, char *errmsg, size_t errlen);

#endif

/* JSON output of a value (pn_val_json, pn_val_json_str) and the JSON
 * reader live in the JSON module. */
#include "pn_json.h"
