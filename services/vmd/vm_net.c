/* vm_net: named network namespaces and links over rtnetlink (see vm_net.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pn_svc.h"
#include "vm_net.h"

#define VM_NETNS_DIR "/run/netns"

typedef struct {
    struct nlmsghdr h;
    union {
        struct ifinfomsg ifi;
        struct ifaddrmsg ifa;
    };
    char attrs[512];
} nl_req_t;

static void s_attr(nl_req_t *r, unsigned short type, const void *data, size_t len)
{
    size_t off = NLMSG_ALIGN(r->h.nlmsg_len);
    size_t alen = RTA_LENGTH(len);
    if (off + RTA_ALIGN(alen) > sizeof(*r))
        return; /* cannot happen: the callers' attributes are small */
    struct rtattr *a = (struct rtattr *)((char *)r + off);
    a->rta_type = type;
    a->rta_len = (unsigned short)alen;
    if (len)
        memcpy(RTA_DATA(a), data, len);
    r->h.nlmsg_len = (uint32_t)(off + RTA_ALIGN(alen));
}

static void s_req_init(nl_req_t *r, uint16_t type, uint16_t flags, size_t body)
{
    memset(r, 0, sizeof(*r));
    r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
    r->h.nlmsg_type = type;
    r->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
    r->h.nlmsg_seq = 1;
}

static int s_nl_socket(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    return fd < 0 ? -errno : fd;
}

/* Run fn in the namespace nsfd on this thread only, then come back.  A
 * thread that cannot come back would run vmd in a guest's namespace: that
 * must never go on. */
static int s_in_ns(int nsfd, int (*fn)(void *), void *arg)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -errno;
    if (setns(nsfd, CLONE_NEWNET) < 0) {
        int e = -errno;
        close(self);
        return e;
    }
    int r = fn(arg);
    if (setns(self, CLONE_NEWNET) < 0) {
        pn_err("vmd: cannot return to the host's network namespace: %s", strerror(errno));
        abort();
    }
    close(self);
    return r;
}

static int s_open_sock(void *arg)
{
    *(int *)arg = s_nl_socket();
    return *(int *)arg < 0 ? *(int *)arg : 0;
}

/* A netlink socket that lives in nsfd (the host's with nsfd < 0). */
static int s_nl_socket_in(int nsfd)
{
    if (nsfd < 0)
        return s_nl_socket();
    int fd = -1;
    int r = s_in_ns(nsfd, s_open_sock, &fd);
    return r < 0 ? r : fd;
}

/* Send one request; wait for its ack.  With ifindex, the reply to a
 * RTM_GETLINK gives the link's index.  0 or -errno. */
static int s_talk(int fd, nl_req_t *r, int *ifindex)
{
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
    if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -errno;
    char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_seq != r->h.nlmsg_seq)
                continue;
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error;
            }
            if (h->nlmsg_type == RTM_NEWLINK && ifindex) {
                struct ifinfomsg *ifi = NLMSG_DATA(h);
                *ifindex = ifi->ifi_index;
            }
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
        }
    }
}

/* The index of ifname as the namespace of fd sees it: 0 or -errno. */
static int s_ifindex(int fd, const char *ifname, int *ifindex)
{
    nl_req_t r;
    s_req_init(&r, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
    r.ifi.ifi_family = AF_UNSPEC;
    s_attr(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
    *ifindex = 0;
    int e = s_talk(fd, &r, ifindex);
    return e < 0 ? e : *ifindex > 0 ? 0 : -ENODEV;
}

static int s_link_up(int fd, int ifindex)
{
    nl_req_t r;
    s_req_init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
    r.ifi.ifi_family = AF_UNSPEC;
    r.ifi.ifi_index = ifindex;
    r.ifi.ifi_flags = IFF_UP;
    r.ifi.ifi_change = IFF_UP;
    return s_talk(fd, &r, NULL);
}

/* "A/P" -> family, address bytes, prefix: 0 or -EINVAL. */
static int s_parse_cidr(const char *cidr, int *family, unsigned char addr[16], unsigned *prefix)
{
    char a[64];
    snprintf(a, sizeof(a), "%s", cidr);
    char *slash = strchr(a, '/');
    if (slash)
        *slash = 0;
    if (inet_pton(AF_INET, a, addr) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, a, addr) == 1)
        *family = AF_INET6;
    else
        return -EINVAL;
    unsigned max = *family == AF_INET ? 32 : 128;
    *prefix = max;
    if (slash) {
        char *end;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (*end || end == slash + 1 || p > max)
            return -EINVAL;
        *prefix = (unsigned)p;
    }
    return 0;
}

static int s_addr_add(int fd, int ifindex, const char *cidr, bool replace)
{
    int family;
    unsigned char addr[16];
    unsigned prefix;
    if (s_parse_cidr(cidr, &family, addr, &prefix) < 0)
        return -EINVAL;
    nl_req_t r;
    s_req_init(&r, RTM_NEWADDR, (uint16_t)(NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL)),
               sizeof(struct ifaddrmsg));
    r.ifa.ifa_family = (unsigned char)family;
    r.ifa.ifa_prefixlen = (unsigned char)prefix;
    r.ifa.ifa_index = (unsigned)ifindex;
    r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    size_t alen = family == AF_INET ? 4 : 16;
    s_attr(&r, IFA_LOCAL, addr, alen);
    s_attr(&r, IFA_ADDRESS, addr, alen);
    return s_talk(fd, &r, NULL);
}

/* ------------------------------------------------------------ netns */

/* /run/netns must be a shared mount point, so that a namespace mounted
 * there shows in every mount namespace (as ip(8) makes it). */
static int s_netns_dir(void)
{
    static bool done;
    if (done)
        return 0;
    if (mkdir(VM_NETNS_DIR, 0755) < 0 && errno != EEXIST)
        return -errno;
    bool bound = false;
    while (mount("", VM_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
        if (errno != EINVAL || bound)
            return -errno;
        /* Not a mount point yet: make it one. */
        if (mount(VM_NETNS_DIR, VM_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
            return -errno;
        bound = true;
    }
    done = true;
    return 0;
}

typedef struct {
    const char *path;
    int sock;
    const char *step;
} ns_new_t;

/* On this thread only: a fresh namespace, bound to path, with a netlink
 * socket in it. */
static int s_ns_new(void *arg)
{
    ns_new_t *n = arg;
    if (unshare(CLONE_NEWNET) < 0) {
        n->step = "unshare";
        return -errno;
    }
    if (mount("/proc/thread-self/ns/net", n->path, "none", MS_BIND, NULL) < 0) {
        n->step = "bind mount";
        return -errno;
    }
    n->sock = s_nl_socket();
    if (n->sock < 0) {
        n->step = "netlink socket";
        return n->sock;
    }
    return 0;
}

int vm_netns_add(const char *name, char *err, size_t errlen)
{
    char path[128];
    snprintf(path, sizeof(path), VM_NETNS_DIR "/%s", name);
    int r = s_netns_dir();
    if (r < 0) {
        snprintf(err, errlen, "cannot prepare %s: %s", VM_NETNS_DIR, strerror(-r));
        return r;
    }
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(-r));
        return r;
    }
    close(fd);
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot open this thread's network namespace: %s", strerror(-r));
        unlink(path);
        return r;
    }
    ns_new_t n = { .path = path, .sock = -1, .step = "" };
    r = s_ns_new(&n);
    if (setns(self, CLONE_NEWNET) < 0) {
        pn_err("vmd: cannot return to the host's network namespace: %s", strerror(errno));
        abort();
    }
    close(self);
    if (r == 0) {
        int lo = 0;
        r = s_ifindex(n.sock, "lo", &lo);
        if (r == 0)
            r = s_link_up(n.sock, lo);
        n.step = "lo up";
    }
    if (n.sock >= 0)
        close(n.sock);
    if (r < 0) {
        snprintf(err, errlen, "cannot create the network namespace %s (%s): %s", name, n.step, strerror(-r));
        umount2(path, MNT_DETACH);
        unlink(path);
        return r;
    }
    return 0;
}

int vm_ns_addr_add(int nsfd, const char *ifname, const char *cidr, char *err, size_t errlen)
{
    int fd = s_nl_socket_in(nsfd);
    if (fd < 0) {
        snprintf(err, errlen, "netlink socket in the node's namespace: %s", strerror(-fd));
        return fd;
    }
    int idx = 0;
    int e = s_ifindex(fd, ifname, &idx);
    if (e == 0)
        e = s_addr_add(fd, idx, cidr, false);
    close(fd);
    if (e < 0) {
        snprintf(err, errlen, "cannot add %s to %s: %s", cidr, ifname, strerror(-e));
        return e;
    }
    return 0;
}

int vm_link_del(int nsfd, const char *ifname)
{
    int fd = s_nl_socket_in(nsfd);
    if (fd < 0)
        return fd;
    int idx = 0;
    int e = s_ifindex(fd, ifname, &idx);
    if (e == 0) {
        nl_req_t r;
        s_req_init(&r, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
        r.ifi.ifi_family = AF_UNSPEC;
        r.ifi.ifi_index = idx;
        e = s_talk(fd, &r, NULL);
    }
    close(fd);
    return e;
}

int vm_host_link_addr_up(const char *ifname, const char *cidr, char *err, size_t errlen)
{
    int fd = s_nl_socket();
    if (fd < 0) {
        snprintf(err, errlen, "netlink socket: %s", strerror(-fd));
        return fd;
    }
    int idx = 0;
    const char *step = "find";
    int e = s_ifindex(fd, ifname, &idx);
    if (e == 0) {
        step = "set the address of";
        e = s_addr_add(fd, idx, cidr, true);
    }
    if (e == 0) {
        step = "bring up";
        e = s_link_up(fd, idx);
    }
    close(fd);
    if (e < 0) {
        snprintf(err, errlen, "cannot %s %s: %s", step, ifname, strerror(-e));
        return e;
    }
    return 0;
}
