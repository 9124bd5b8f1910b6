/* Names, MAC addresses, directories, endpoints, clocks. */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pn_proto.h"

bool pn_name_valid(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return false;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return n >= 1 && n <= 15;
}

int pn_ifname_index(const char *s)
{
    if (!s || strncmp(s, "eth", 3) != 0)
        return -1;
    const char *d = s + 3;
    if (!*d || strlen(d) > 2 || (d[0] == '0' && d[1]))
        return -1;
    int n = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        n = n * 10 + (*d - '0');
    }
    return n <= 31 ? n : -1;
}

static int s_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool pn_mac_parse(const char *s, uint8_t mac[6])
{
    if (!s || strlen(s) != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        int h = s_hex(s[i * 3]), l = s_hex(s[i * 3 + 1]);
        if (h < 0 || l < 0)
            return false;
        if (i < 5 && s[i * 3 + 2] != ':')
            return false;
        mac[i] = (uint8_t)(h << 4 | l);
    }
    return true;
}

void pn_mac_format(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static char s_run[4096], s_state[4096];
static pthread_once_t s_dirs_once = PTHREAD_ONCE_INIT;

static void s_dirs_init(void)
{
    const char *e = getenv("PLUGNET_RUN_DIR");
    if (e && *e)
        snprintf(s_run, sizeof(s_run), "%s", e);
    else if (geteuid() == 0)
        snprintf(s_run, sizeof(s_run), "/run/plugnet");
    else if ((e = getenv("XDG_RUNTIME_DIR")) && *e)
        snprintf(s_run, sizeof(s_run), "%s/plugnet", e);
    else
        snprintf(s_run, sizeof(s_run), "/tmp/plugnet-%u", (unsigned)geteuid());

    e = getenv("PLUGNET_STATE_DIR");
    if (e && *e)
        snprintf(s_state, sizeof(s_state), "%s", e);
    else if (geteuid() == 0)
        snprintf(s_state, sizeof(s_state), "/var/lib/plugnet");
    else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(geteuid());
            home = pw ? pw->pw_dir : "/tmp";
        }
        snprintf(s_state, sizeof(s_state), "%s/.local/state/plugnet", home);
    }
}

const char *pn_run_dir(void)
{
    pthread_once(&s_dirs_once, s_dirs_init);
    return s_run;
}

const char *pn_state_dir(void)
{
    pthread_once(&s_dirs_once, s_dirs_init);
    return s_state;
}

int pn_endpoint(const char *svc, const char *kind, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "ipc://%s/%s.%s", pn_run_dir(), svc, kind);
    if (n < 0 || (size_t)n >= outlen)
        return -ENAMETOOLONG;
    /* ipc paths must fit a sockaddr_un. */
    if (strlen(out) - 6 >= 108)
        return -ENAMETOOLONG;
    return 0;
}

int pn_mkdirs(const char *path, unsigned mode)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

uint64_t pn_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t pn_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}
