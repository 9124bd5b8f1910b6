/* Tap interfaces: checking the names asked for, creating a tap (in a
 * node's network namespace when asked) with its offloads, MTU and MAC,
 * asking its current name, and closing it off the event loop when its
 * link lives in another namespace.  Knows nothing of LANs or ports. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sw.h"

static bool s_ifname_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= IFNAMSIZ)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return false;
    }
    return strcmp(s, ".") && strcmp(s, "..");
}

/* A file name in /run/netns. */
static bool s_netns_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

/* Create the tap in the calling thread's network namespace: its fd, its
 * name in name.  The fd, or a negative errno with err set. */
static int s_tap_create(const char *lan, unsigned mtu, const char *ifname, const uint8_t *mac, char name[IFNAMSIZ],
                        char *err, size_t errlen)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
        return errno == EACCES || errno == EPERM ? -EPERM : -ENODEV;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    /* Without a name from the caller, the kernel picks the first free
     * "pn<lan>-N": interface names are global to the host, and several
     * labs (or test runs) may each have a LAN of the same name. */
    if (ifname)
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    else
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "pn%.8s-%%d", lan);
    /* A name already in use by another device (or a persistent tap someone
     * else owns) must not be hijacked. */
    if (ifname && if_nametoindex(ifr.ifr_name) != 0) {
        snprintf(err, errlen, "interface %s already exists", ifr.ifr_name);
        close(fd);
        return -EEXIST;
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create tap %s: %s", ifr.ifr_name, strerror(e));
        close(fd);
        return e == EPERM ? -EPERM : e == EBUSY || e == EEXIST ? -EEXIST : -EIO;
    }
    snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
    int hdrsz = SW_HDR;
    ioctl(fd, TUNSETVNETHDRSZ, &hdrsz);
    /* Let the kernel hand us TCP super-frames and leave checksums to us:
     * between taps they then cross whole (see gso.h). */
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0)
        pn_warn("tap %s: no offloads (%s); frames will be switched one by one", name, strerror(errno));
    if (mac) {
        struct ifreq q;
        memset(&q, 0, sizeof(q));
        q.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(q.ifr_hwaddr.sa_data, mac, 6);
        if (ioctl(fd, SIOCSIFHWADDR, &q) < 0) {
            snprintf(err, errlen, "cannot set the MAC of %s: %s", name, strerror(errno));
            close(fd);
            return -EIO;
        }
    }
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sk >= 0) {
        struct ifreq q;
        memset(&q, 0, sizeof(q));
        snprintf(q.ifr_name, sizeof(q.ifr_name), "%s", name);
        q.ifr_mtu = (int)mtu;
        if (ioctl(sk, SIOCSIFMTU, &q) < 0)
            pn_warn("tap %s: cannot set mtu %u: %s", name, mtu, strerror(errno));
        if (ioctl(sk, SIOCGIFFLAGS, &q) == 0) {
            q.ifr_flags |= IFF_UP;
            ioctl(sk, SIOCSIFFLAGS, &q);
        }
        close(sk);
    }
    return fd;
}

int sw_tap_names_ok(const char *ifname, const char *netns, char *err, size_t errlen)
{
    if (ifname && !s_ifname_ok(ifname)) {
        snprintf(err, errlen, "ifname '%s' is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -)", ifname);
        return -EINVAL;
    }
    if (netns && !s_netns_ok(netns)) {
        snprintf(err, errlen, "netns '%s' is not a valid namespace name (a file name in /run/netns)", netns);
        return -EINVAL;
    }
    return 0;
}

int sw_tap_open(const char *lan, unsigned mtu, const char *ifname, const char *netns, const uint8_t *mac,
                char name[IFNAMSIZ], char *err, size_t errlen)
{
    if (!netns)
        return s_tap_create(lan, mtu, ifname, mac, name, err, errlen);
    /* Born in the namespace: moving a link there later costs the
     * kernel an RCU barrier (tens of ms on a busy host).  Only this
     * thread enters it, for the moment the tap takes to create. */
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", netns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? -ENOENT : -EIO;
    }
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
        snprintf(err, errlen, "cannot enter %s: %s", path, strerror(errno));
        if (self >= 0)
            close(self);
        close(nsfd);
        return -EIO;
    }
    close(nsfd);
    int fd = s_tap_create(lan, mtu, ifname, mac, name, err, errlen);
    if (setns(self, CLONE_NEWNET) < 0) {
        pn_err("switchd: cannot return to its own network namespace: %s", strerror(errno));
        abort();
    }
    close(self);
    return fd;
}

void sw_tap_ifname(int fd, char name[IFNAMSIZ])
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    if (ioctl(fd, TUNGETIFF, &ifr) == 0 && ifr.ifr_name[0])
        snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
}

/* Closing the last descriptor of a tap unregisters its link, and the
 * kernel then waits out RCU grace periods (tens of ms on a busy host)
 * before close() returns.  A tap made in a node's namespace (port.add_tap
 * with netns: vmd's ns nodes, which delete the namespace with the port)
 * is no one's business on the host once its port is gone, so that wait
 * happens on this thread, off the event loop: deleting 50 ns nodes no
 * longer queues 50 such waits behind each other.  Every other tap is
 * closed before the reply: when port.del returns, its link is gone. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fds[256];
    unsigned n;
    bool started;
} s_closer = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *s_closer_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fds[256];
        pthread_mutex_lock(&s_closer.mu);
        while (!s_closer.n)
            pthread_cond_wait(&s_closer.cv, &s_closer.mu);
        unsigned n = s_closer.n;
        memcpy(fds, s_closer.fds, n * sizeof(fds[0]));
        s_closer.n = 0;
        pthread_mutex_unlock(&s_closer.mu);
        for (unsigned i = 0; i < n; i++)
            close(fds[i]);
    }
    return NULL;
}

/* Whether the tap's link lives in another network namespace than ours. */
static bool s_tap_elsewhere(int fd)
{
    int nsfd = ioctl(fd, TUNGETDEVNETNS);
    if (nsfd < 0)
        return false;
    struct stat a, b;
    bool other = fstat(nsfd, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 && a.st_ino != b.st_ino;
    close(nsfd);
    return other;
}

void sw_tap_close(int fd, bool async)
{
    if (!async) {
        close(fd);
        return;
    }
    if (!s_tap_elsewhere(fd)) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&s_closer.mu);
    if (!s_closer.started) {
        pthread_t t;
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        s_closer.started = pthread_create(&t, NULL, s_closer_main, NULL) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (s_closer.started)
            pthread_detach(t);
    }
    if (!s_closer.started || s_closer.n == sizeof(s_closer.fds) / sizeof(s_closer.fds[0])) {
        pthread_mutex_unlock(&s_closer.mu);
        close(fd);
        return;
    }
    s_closer.fds[s_closer.n++] = fd;
    pthread_cond_signal(&s_closer.cv);
    pthread_mutex_unlock(&s_closer.mu);
}

int sw_tap_carrier(int fd, bool on)
{
    int v = on ? 1 : 0;
    return ioctl(fd, TUNSETCARRIER, &v) < 0 ? -errno : 0;
}
