/* pn_json: JSON text to and from pn_val trees, plugnet's one JSON module.
 *
 * The writer prints any value: strings escaped, non-finite floats as null,
 * bin as {"$bin": "<base64>"}.  The reader is strict (RFC 8259: no
 * trailing commas, no leading zeros, no lone surrogates) and reads back
 * what the writer wrote: integers become PN_UINT / PN_INT, other numbers
 * PN_FLOAT, {"$bin": "base64"} becomes PN_BIN.  Its depth is bounded.
 */
#ifndef PN_JSON_H
#define PN_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "pn_val.h"

/* NULL on error, with err saying where (line, column) and why. */
pn_val_t *pn_json_parse(const char *text, size_t len, char *err, size_t errlen);

/* JSON text of v (NULL prints null) to f, or as a malloc'd string. */
void pn_val_json(const pn_val_t *v, FILE *f);
char *pn_val_json_str(const pn_val_t *v);

#endif
