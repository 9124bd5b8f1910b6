/* Logging to stderr with sd-daemon priority prefixes ("<3>..."), which
 * journald turns into priorities and a terminal simply shows. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pn_svc.h"

static int s_level = PN_LOG_INFO;

void pn_log_set_level(int level) { s_level = level; }

static void s_vlog(int prio, const char *fmt, va_list ap)
{
    if (prio > s_level)
        return;
    char buf[2048];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    /* One write per line so concurrent daemons sharing a log don't interleave. */
    size_t len = strlen(buf);
    while (len && buf[len - 1] == '\n')
        buf[--len] = 0;
    fprintf(stderr, "<%d>%s\n", prio, buf);
}

void pn_log(int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vlog(prio, fmt, ap);
    va_end(ap);
}

void pn_log_rl(pn_ratelimit_t *rl, int prio, const char *fmt, ...)
{
    uint64_t now = pn_mono_ms();
    if (rl->last_ms == 0)
        rl->last_ms = now;
    if (rl->interval_ms) {
        uint64_t refill = (now - rl->last_ms) / rl->interval_ms;
        if (refill) {
            uint64_t t = rl->tokens + refill;
            rl->tokens = t > rl->burst ? rl->burst : (unsigned)t;
            rl->last_ms += refill * rl->interval_ms;
        }
    }
    if (rl->tokens == 0) {
        rl->suppressed++;
        return;
    }
    rl->tokens--;
    if (rl->suppressed) {
        pn_log(prio, "(%llu similar messages suppressed)", (unsigned long long)rl->suppressed);
        rl->suppressed = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    s_vlog(prio, fmt, ap);
    va_end(ap);
}
