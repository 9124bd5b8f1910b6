/* cd_json: a small strict JSON reader into pn_val trees, for spec files
 * (`plugnet disk build --spec FILE`) and the tests.  Integers become
 * PN_UINT / PN_INT, other numbers PN_FLOAT; {"$bin": "base64"} becomes
 * PN_BIN (the form pn_val_json writes).  Depth is bounded. */
#ifndef CD_JSON_H
#define CD_JSON_H

#include <stddef.h>

#include "pn_val.h"

/* NULL on error, with err saying where and why. */
pn_val_t *cd_json_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
