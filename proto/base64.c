/* base64 (RFC 4648).  See pn_base64.h. */
#include "pn_base64.h"

#include <errno.h>
#include <stdlib.h>

static const char s_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void pn_base64_encode(const void *p, size_t n, char *out)
{
    const uint8_t *b = p;
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)b[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < n)
            w |= b[i + 2];
        out[j++] = s_alphabet[w >> 18 & 63];
        out[j++] = s_alphabet[w >> 12 & 63];
        out[j++] = i + 1 < n ? s_alphabet[w >> 6 & 63] : '=';
        out[j++] = i + 2 < n ? s_alphabet[w & 63] : '=';
    }
    out[j] = '\0';
}

char *pn_base64(const void *p, size_t n)
{
    char *o = malloc(PN_BASE64_LEN(n) + 1);
    if (o)
        pn_base64_encode(p, n, o);
    return o;
}

static int s_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ssize_t pn_base64_decode(const char *s, size_t n, bool strict, uint8_t *out, size_t cap)
{
    if (strict && (n == 0 || n % 4))
        return -EINVAL;
    size_t k = 0, i;
    uint32_t acc = 0;
    int bits = 0;
    for (i = 0; i < n && s[i] != '='; i++) {
        int v = s_value((unsigned char)s[i]);
        if (v < 0)
            return -EINVAL;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k >= cap)
                return -ENOBUFS;
            out[k++] = (uint8_t)(acc >> bits);
        }
    }
    /* Strict: one or two '=' end the last group of four, nothing follows. */
    if (strict && i < n) {
        if (n - i > 2 || i % 4 < 2)
            return -EINVAL;
        for (; i < n; i++)
            if (s[i] != '=')
                return -EINVAL;
    }
    return (ssize_t)k;
}
