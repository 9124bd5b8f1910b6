/* plugnet-switchd internals shared by its modules: the daemon, LANs, ports
 * and sniffers.  The parsing and table modules (vde.h, fdb.h, pcap.h) know
 * nothing of these.
 *
 * Calls run one way: ops.c -> lan.c -> vde_srv.c -> port.c -> fwd.c,
 * sniff.c, tap.c, fdstore.c -> fdb.c, gso.c, pcap.c, vde.c.  Functions
 * return 0 or a negative errno (with a message in err where they take
 * one); ops.c alone turns those into reply codes. */
#ifndef SW_H
#define SW_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdb.h"
#include "pcap.h"
#include "pn_svc.h"
#include "vde.h"

#define SW_BATCH 32                 /* frames per recvmmsg/sendmmsg */
#define SW_ROUNDS 4                 /* batches per wakeup: fairness between ports */
#define SW_HDR 10                   /* struct virtio_net_hdr in front of tap frames */
#define SW_FRAME_MAX 65600          /* largest frame a slot holds: a 64 KiB GSO super-frame */
#define SW_SLOT (SW_HDR + SW_FRAME_MAX + 62)
#define SW_TXQ 128                  /* frames queued per egress port before a flush */
#define SW_ARENA (1u << 20)         /* software-segmented frames of one batch */
#define SW_BACKLOG 512              /* frames a VDE port keeps while its client is busy */
#define SW_BACKLOG_BYTES (1u << 20)
#define SW_BACKLOG_TOTAL (32u << 20) /* all ports together */
#define SW_SOFT_SEGS 64             /* segments of one super-frame (64 KiB / 1 KiB mss) */
#define SW_ETH_OVERHEAD 18          /* Ethernet header + one VLAN tag */
#define SW_MAX_LANS 1024
#define SW_MAX_PORTS 1024           /* per LAN */
#define SW_MAX_PENDING 64           /* VDE handshakes in progress per LAN */
#define SW_HANDSHAKE_MS 5000
#define SW_MAX_SNIFFERS 16          /* per LAN */
#define SW_OWNER_MAX 80             /* "node:ifname" of a port, as vmd names it */

typedef struct sw sw_t;
typedef struct sw_lan sw_lan_t;
typedef struct sw_port sw_port_t;
typedef struct sw_hs sw_hs_t;
typedef struct sw_sniffer sw_sniffer_t;

/* vmd's word that the VDE client with process id pid on a LAN is the NIC
 * owner ("node:ifname"): a guest's handshake carries no name we can set
 * (qemu sends "QEMU user=... pid=...", UML's daemon transport nothing). */
typedef struct {
    int pid;
    char owner[SW_OWNER_MAX + 1];
} sw_claim_t;

#define SW_PORT_KINDS(X) X(SW_PORT_VDE, "vde") X(SW_PORT_TAP, "tap")
typedef enum {
#define X(e, s) e,
    SW_PORT_KINDS(X)
#undef X
} sw_port_kind_t;

static inline const char *sw_port_kind_name(sw_port_kind_t k)
{
    static const char *const names[] = {
#define X(e, s) [e] = s,
        SW_PORT_KINDS(X)
#undef X
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

struct sw_port {
    sw_lan_t *lan;
    unsigned id;
    sw_port_kind_t kind;
    int fd;                          /* VDE data socket or tap fd */
    int ctl_fd;                      /* VDE control stream, else -1 */
    pn_watch_t *w, *wctl;
    bool admin_up;
    bool dead;
    int pid;                         /* VDE: the client's pid (SO_PEERCRED), else 0 */
    bool dirty;                      /* on the flush list */
    unsigned live_idx;               /* index in lan->live */
    unsigned nsniff;                 /* sniffers filtering on this port */
    char descr[SW_VDE_DESCR_MAX + 1];
    char ifname[IFNAMSIZ];
    char owner[SW_OWNER_MAX + 1];    /* "node:ifname" (port.add_tap owner), else "" */
    bool close_async;       /* tap made in a node's namespace (port.add_tap netns) */
    char data_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char peer[2 * sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t d_runt, d_oversize, d_admin, d_queue;
    unsigned ntx;
    struct iovec txiov[SW_TXQ];
    sw_port_t *next_dirty;
    /* Frames a VDE client could not take yet (its socket queue was full):
     * copies, sent in order when the socket turns writable.  Bounded; past
     * the bound frames are dropped as queue_full. */
    struct iovec *bl;
    unsigned bl_head, bl_n;
    size_t bl_bytes;
    bool want_out;
};

struct sw_hs {                       /* a VDE handshake in progress */
    sw_lan_t *lan;
    int fd;
    pn_watch_t *w;
    uint64_t started_ms;
    size_t len;
    bool dead;
    sw_hs_t *next;
    unsigned char buf[SW_VDE_REQ_MAX + 1];
};

struct sw_sniffer {
    sw_lan_t *lan;
    unsigned id, port;               /* port 0 = whole LAN */
    char path[1025];
    sw_pcap_t *pcap;
    pn_watch_t *w;                   /* POLLOUT while bytes are pending */
    sw_sniffer_t *next;
};

struct sw_lan {
    sw_t *sw;
    char name[16];
    unsigned mtu, maxframe;
    char dir[108], ctl_path[108];
    int lfd;
    pn_watch_t *lw;
    sw_port_t **ports;               /* by id, SW_MAX_PORTS + 1 entries */
    sw_port_t **live;                /* dense list of attached ports */
    unsigned nlive;
    sw_fdb_t *fdb;
    uint64_t flooded;
    unsigned npending;
    sw_hs_t *pending;
    sw_sniffer_t *sniffers;
    unsigned nsniffers;
    sw_claim_t *claims;              /* port.claim, at most SW_MAX_PORTS */
    unsigned nclaims;
    sw_lan_t *next;
};

struct sw {
    pn_svc_t *svc;
    pn_loop_t *loop;
    sw_lan_t *lans;
    unsigned nlans;
    unsigned sniff_next;
    pn_timer_t *tick;
    /* stats.watch */
    pn_timer_t *watch_timer;
    uint64_t watch_until_ms;
    unsigned watch_interval_ms;
    char watch_lan[16];
    /* The batch: shared by every port, since one loop runs them all. */
    unsigned char *slots;
    struct mmsghdr rxmsg[SW_BATCH];
    struct iovec rxiov[SW_BATCH];
    sw_port_t *dirty;
    struct mmsghdr txmsg[SW_TXQ];   /* scratch of one port's flush */
    /* Super-frames segmented (or checksummed) for ports without offloads:
     * the segments of the frame in hand, reused when it is flooded. */
    size_t bl_total;                /* bytes held in all backlogs */
    unsigned char *arena;
    size_t arena_used;
    const unsigned char *soft_src;
    int soft_n;
    struct iovec soft_iov[SW_SOFT_SEGS];
};

/* lan.c */
/* -EEXIST, -ENOSPC (too many LANs), -ENAMETOOLONG (RUN too long), -ENOMEM,
 * -EIO (directory or listener). */
int sw_lan_add(sw_t *sw, const char *name, unsigned mtu, unsigned fdb_cap, bool persist,
               sw_lan_t **out, char *err, size_t errlen);
/* -EBUSY when ports are attached and not force. */
int sw_lan_del(sw_t *sw, sw_lan_t *lan, bool force, unsigned *closed);
sw_lan_t *sw_lan_find(sw_t *sw, const char *name);
int sw_lans_save(sw_t *sw);
int sw_lans_restore(sw_t *sw);
void sw_lans_free(sw_t *sw);
/* Re-adopt the ports a previous switchd left in the systemd fd store
 * (after sw_lans_restore), then let go of what nobody claimed. */
void sw_lans_adopt(sw_t *sw);
/* switchd stopping: end every port, handshake and sniffer. */
void sw_lans_stop(sw_t *sw);
pn_val_t *sw_lan_summary(sw_lan_t *lan);
pn_val_t *sw_lan_stats(sw_lan_t *lan);
void sw_tick(pn_loop_t *loop, pn_timer_t *t, void *arg);

/* vde_srv.c: the VDE control-socket server of a LAN */
void sw_vde_on_accept(pn_loop_t *loop, int fd, uint32_t events, void *arg);
void sw_hs_close(sw_hs_t *hs, const char *why);
void sw_hs_sweep(sw_lan_t *lan, uint64_t now_ms);

/* port.c */
/* The lowest free port number, or want when it is free; 0 when full. */
unsigned sw_port_free_id(sw_lan_t *lan, unsigned want);
/* A port not yet on the loop nor in its LAN (free() it if it never gets
 * there); NULL when out of memory. */
sw_port_t *sw_port_new(sw_lan_t *lan, unsigned id, sw_port_kind_t kind);
/* Put p->fd (and p->ctl_fd when >= 0) on the loop: 0 or -ENOMEM. */
int sw_port_watch(sw_port_t *p);
/* Enter p in its LAN and announce it (port.up). */
void sw_port_attach(sw_port_t *p);
/* A tap port; with netns (a name in /run/netns) the tap is created in that
 * namespace; with mac it gets that station address.  -EINVAL (bad name),
 * -ENOSPC (no free port), -ENOENT (no such netns), -EEXIST (name taken),
 * -EPERM, -ENODEV (no /dev/net/tun), -ENOMEM, -EIO. */
int sw_port_add_tap(sw_lan_t *lan, const char *ifname, const char *netns, const uint8_t *mac, const char *owner,
                    sw_port_t **out, char *err, size_t errlen);
void sw_port_remove(sw_port_t *p, const char *reason);
/* Admin state; a tap's carrier follows it (TUNSETCARRIER), so the
 * interface on the other side sees NO-CARRIER while the port is down. */
void sw_port_set_admin(sw_port_t *p, bool up);
/* A port of lan as a previous switchd left it: its entry in the fd store's
 * state (entry) and its descriptors, taken from the store.  NULL when
 * the entry is bad or its descriptors are gone (logged). */
sw_port_t *sw_port_adopt(sw_lan_t *lan, pn_val_t *entry);
pn_val_t *sw_port_info(sw_port_t *p);
/* Record (pid > 0) or forget (pid 0) the claim of owner on lan, and name
 * the VDE ports it matches (port.owner): -ENOSPC when the LAN has too many
 * claims, -ENOMEM. */
int sw_port_claim(sw_lan_t *lan, const char *owner, int pid);
/* A new VDE port's owner from the claims (before sw_port_attach): the one
 * claim of its pid, none when several NICs of one process share the LAN. */
void sw_port_claimed(sw_port_t *p);

/* tap.c: tap interfaces (no LANs, no ports) */
/* 0, or -EINVAL with err set when ifname or netns (either may be NULL)
 * is not a name we take. */
int sw_tap_names_ok(const char *ifname, const char *netns, char *err, size_t errlen);
/* Create a tap with the offloads, mtu, up, with mac when not NULL, in
 * /run/netns/<netns> when netns is not NULL, named ifname or else
 * "pn<lan>-N".  The fd with the name in name, or a negative errno with err
 * set: -ENOENT (no such netns), -EEXIST, -EPERM, -ENODEV, -EIO. */
int sw_tap_open(const char *lan, unsigned mtu, const char *ifname, const char *netns, const uint8_t *mac,
                char name[IFNAMSIZ], char *err, size_t errlen);
/* The tap's current name into name (unchanged when the kernel will not say). */
void sw_tap_ifname(int fd, char name[IFNAMSIZ]);
/* Close a tap; with async and its link in another namespace, on a helper
 * thread, so the kernel's wait for the link to go is not the loop's. */
void sw_tap_close(int fd, bool async);
/* Carrier on or off as the tap's peer sees it: 0 or a negative errno
 * (-EINVAL before Linux 5.0). */
int sw_tap_carrier(int fd, bool on);

/* fdstore.c: restart without loss under systemd (no-ops otherwise) */
int sw_fdstore_load(sw_t *sw);
/* The descriptor kept as "<kind>.<lan>[.<port>]" (port 0: none), or -1. */
int sw_fdstore_take(char kind, const char *lan, unsigned port);
/* RUN/switchd.fds as the previous switchd left it (borrowed), or NULL. */
pn_val_t *sw_fdstore_saved(void);
/* Whether systemd passed any descriptors at start. */
bool sw_fdstore_passed(void);
/* Close and unstore the descriptors nobody took, forget the saved state:
 * how many were dropped. */
unsigned sw_fdstore_release(sw_t *sw);
void sw_fdstore_tick(sw_t *sw);
void sw_fdstore_dirty(sw_t *sw);
void sw_fdstore_lan_added(sw_lan_t *lan);
void sw_fdstore_lan_removed(sw_lan_t *lan);
void sw_fdstore_port_added(sw_port_t *p);
void sw_fdstore_port_removed(sw_port_t *p);

/* fwd.c: the data path */
/* Serve a port's wakeup (events from epoll): read, switch, flush.  NULL,
 * or why the port is gone (its tap interface was destroyed). */
const char *sw_fwd_input(sw_port_t *in, uint32_t events);
/* Free the frames a VDE port still held for its client. */
void sw_fwd_backlog_free(sw_port_t *p);

/* sniff.c */
/* -ENOENT (no such port, or path's directory), -ENOTDIR, -ENOSPC (too
 * many sniffers), -EPERM/-EACCES, -EINVAL (path cannot be opened). */
int sw_sniff_start(sw_lan_t *lan, unsigned port, const char *path, sw_sniffer_t **out,
                   char *err, size_t errlen);
void sw_sniff_stop(sw_sniffer_t *s, const char *reason);
sw_sniffer_t *sw_sniff_find(sw_t *sw, unsigned id);
pn_val_t *sw_sniff_info(sw_sniffer_t *s);
/* A frame seen on port (0: on the LAN) goes to the sniffers of that port. */
void sw_sniff_write(sw_lan_t *lan, unsigned port, const void *frame, size_t len, uint64_t ts);
/* After a batch: push out what the sniffers queued. */
void sw_sniff_flush(sw_lan_t *lan);

/* ops.c */
extern const pn_svc_op_t sw_ops[];

#endif
