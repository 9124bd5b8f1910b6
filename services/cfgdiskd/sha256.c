/* The SHA-256 of a file, with libmd.  See sha256.h. */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int cd_sha256_file(const char *path, char hex[SHA256_DIGEST_STRING_LENGTH], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    SHA2_CTX s;
    SHA256Init(&s);
    uint64_t total = 0;
    uint8_t buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        SHA256Update(&s, buf, (size_t)r);
        total += (uint64_t)r;
    }
    close(fd);
    if (size)
        *size = total;
    SHA256End(&s, hex);
    return 0;
}
