/* pn_base64: base64 of RFC 4648 (standard alphabet), plugnet's one codec:
 * JSON's {"$bin": ...}, cloud-init's b64 file contents, SSH key blobs. */
#ifndef PN_BASE64_H
#define PN_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Characters pn_base64_encode writes for n bytes, without the NUL. */
#define PN_BASE64_LEN(n) (((n) + 2) / 3 * 4)
/* Bytes pn_base64_decode may write for n characters, at most. */
#define PN_BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 3)

/* Padded base64 of p into out (PN_BASE64_LEN(n) + 1 bytes, NUL-terminated). */
void pn_base64_encode(const void *p, size_t n, char *out);
/* The same, malloc'd; NULL when out of memory. */
char *pn_base64(const void *p, size_t n);

/* Decode s (n characters) into out (cap bytes).  strict: the text is
 * non-empty, a multiple of 4 long, and '=' pads only its end; otherwise
 * padding is optional and decoding stops at the first '='.  Returns the
 * byte count, -EINVAL when s is not base64, -ENOBUFS when out is short. */
ssize_t pn_base64_decode(const char *s, size_t n, bool strict, uint8_t *out, size_t cap);

#endif
