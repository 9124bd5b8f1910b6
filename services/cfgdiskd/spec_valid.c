/* Checks of single values of a spec: host names, SSH key lines, guest
 * paths.  See spec_valid.h. */
#include "spec_valid.h"

#include <ctype.h>
#include <string.h>
#include <sys/types.h>

#include "pn_base64.h"

bool cd_hostname_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    const char *label = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t l = (size_t)(p - label);
            if (l == 0 || l > 63 || label[0] == '-' || p[-1] == '-')
                return false;
            if (*p == '\0')
                return true;
            label = p + 1;
        } else if (!isascii((unsigned char)*p) || !(isalnum((unsigned char)*p) || *p == '-')) {
            return false;
        }
    }
}

static const char *const key_types[] = {
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    NULL,
};

bool cd_key_valid(const char *line, size_t len, const char **why)
{
    if (len == 0) {
        *why = "is empty";
        return false;
    }
    if (len > 16384) {
        *why = "is longer than 16 KiB";
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f) {
            *why = "contains a control character (one key per line, no newlines)";
            return false;
        }
    }
    const char *sp = memchr(line, ' ', len);
    size_t tlen = sp ? (size_t)(sp - line) : len;
    const char *type = NULL;
    for (int i = 0; key_types[i]; i++)
        if (strlen(key_types[i]) == tlen && !memcmp(key_types[i], line, tlen))
            type = key_types[i];
    if (!type) {
        *why = "is not a public key of a known type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521, "
               "sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com; options are not allowed)";
        return false;
    }
    if (!sp) {
        *why = "has no key data after the key type";
        return false;
    }
    const char *b = sp + 1;
    const char *end = line + len;
    const char *bend = memchr(b, ' ', (size_t)(end - b));
    if (!bend)
        bend = end;
    uint8_t blob[12288];
    ssize_t n = pn_base64_decode(b, (size_t)(bend - b), true, blob, sizeof blob);
    if (n < 0) {
        *why = "has key data that is not valid base64";
        return false;
    }
    /* The blob starts with the key type as an SSH string. */
    size_t tl = strlen(type);
    if (n < 4 + (ssize_t)tl ||
        ((uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3]) != tl ||
        memcmp(blob + 4, type, tl) != 0) {
        *why = "has key data that does not match its key type";
        return false;
    }
    if ((size_t)n == 4 + tl) {
        *why = "has no key material";
        return false;
    }
    return true;
}

bool cd_path_valid(const char *p, size_t len, const char **why)
{
    if (len == 0 || p[0] != '/') {
        *why = "must be an absolute path";
        return false;
    }
    if (len > 1024) {
        *why = "is longer than 1024 bytes";
        return false;
    }
    if (len == 1) {
        *why = "must name a file, not /";
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f) {
            *why = "contains a control character";
            return false;
        }
    }
    if (p[len - 1] == '/') {
        *why = "must not end with /";
        return false;
    }
    if (p[len - 1] == ' ') {
        *why = "must not end with a space";
        return false;
    }
    /* Components between slashes: non-empty, not . or .., at most 255 bytes. */
    size_t i = 1;
    while (i <= len) {
        size_t j = i;
        while (j < len && p[j] != '/')
            j++;
        size_t cl = j - i;
        if (cl == 0) {
            *why = "is not normalised (empty component, '//')";
            return false;
        }
        if ((cl == 1 && p[i] == '.') || (cl == 2 && p[i] == '.' && p[i + 1] == '.')) {
            *why = "is not normalised (no '.' or '..' components)";
            return false;
        }
        if (cl > 255) {
            *why = "has a component longer than 255 bytes";
            return false;
        }
        i = j + 1;
    }
    return true;
}
