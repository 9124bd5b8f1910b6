/* Checks of single values of a disk.build spec, for spec.c: each says
 * whether a value is acceptable and, when not, why (a phrase that follows
 * the quoted value: "'x' is not ..."). */
#ifndef CD_SPEC_VALID_H
#define CD_SPEC_VALID_H

#include <stdbool.h>
#include <stddef.h>

/* A host name of RFC 1123 (labels of a-z A-Z 0-9 -, 1..63 bytes, at most 253)? */
bool cd_hostname_valid(const char *s);
/* A known OpenSSH public key line ("type base64 [comment]", no options)? */
bool cd_key_valid(const char *line, size_t len, const char **why);
/* An absolute, normalised guest path? */
bool cd_path_valid(const char *p, size_t len, const char **why);

#endif
