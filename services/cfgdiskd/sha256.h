/* SHA-256 for the cache keys and the image and agent digests: libmd's
 * <sha2.h> (SHA256Init / SHA256Update / SHA256End give lowercase hex),
 * plus the digest of a whole file. */
#ifndef CD_SHA256_H
#define CD_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <sha2.h>

/* Digest of a whole file as lowercase hex, and its size.  0 or -errno. */
int cd_sha256_file(const char *path, char hex[SHA256_DIGEST_STRING_LENGTH], uint64_t *size);

#endif
