/* cd_sha256: SHA-256 (FIPS 180-4), for the cache keys and image digests. */
#ifndef CD_SHA256_H
#define CD_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;        /* bytes hashed so far */
    uint8_t buf[64];
    size_t fill;
} cd_sha256_t;

void cd_sha256_init(cd_sha256_t *s);
void cd_sha256_update(cd_sha256_t *s, const void *p, size_t n);
void cd_sha256_final(cd_sha256_t *s, uint8_t out[32]);
/* One shot, and lowercase hex (65 bytes with the NUL). */
void cd_sha256(const void *p, size_t n, uint8_t out[32]);
void cd_hex(const uint8_t *p, size_t n, char *out);
/* Digest of a whole file as hex.  0 or -errno. */
int cd_sha256_file(const char *path, char hex[65], uint64_t *size);

#endif
