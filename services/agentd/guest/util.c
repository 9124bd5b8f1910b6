/* plugnet-agent: the clock, the rate-limited log and small fd helpers. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

uint64_t ga_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ga_log(const char *fmt, ...)
{
    /* At most 20 lines per 10 s: the peer can trigger these. */
    static uint64_t window;
    static int count;
    uint64_t now = ga_now_ms();
    if (now - window > 10000) {
        window = now;
        count = 0;
    }
    if (++count > 20)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dprintf(2, "plugnet-agent: %s\n", buf);
}

void ga_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void ga_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}
