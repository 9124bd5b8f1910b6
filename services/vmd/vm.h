/* plugnet-vmd: node lifecycle for three kinds of machine (uml, qemu, ns).
 *
 * A node is defined by its spec (saved in STATE/nodes/<name>/node.mp) and,
 * while it runs, by a monitor process: a child of vmd, in its own session,
 * that starts the guest, serves its console and agent sockets where the
 * guest cannot (UML), writes console.log, reaps the guest and records its
 * exit status in STATE/nodes/<name>/exit.  vmd watches the monitor through
 * a pidfd, so a vmd killed and started again adopts running nodes by the
 * monitor's pid and process start time; nothing about a running guest
 * lives only in vmd's memory.
 *
 * vmd never waits on another daemon: an op that needs one is held as an op
 * in progress on its node (vm_pend_t) and continues from the loop.
 *
 * Errors: the I/O below the domain (vm_net, vm_ctl, vm_host, vm_proc,
 * vm_job, files) returns 0 or a negative errno.  What becomes a reply
 * carries a reply code (PN_E*) with a sentence: the checks of an op's
 * arguments (vm_node_from_args, vm_nic_from_args), the guests' command
 * lines, and the end of an op in progress, whose code may be a peer's.
 */
#ifndef VM_H
#define VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pn_acall.h"
#include "pn_svc.h"

#define VM_MAX_NICS 32
#define VM_MAX_NODES 4096

#define VM_KINDS(X) X(VM_UML, "uml") X(VM_QEMU, "qemu") X(VM_NS, "ns")
typedef enum {
#define X(e, s) e,
    VM_KINDS(X)
#undef X
} vm_kind_t;

#define VM_STATES(X)                 \
    X(VM_DEFINED, "defined")         \
    X(VM_STARTING, "starting")       \
    X(VM_RUNNING, "running")         \
    X(VM_STOPPING, "stopping")       \
    X(VM_STOPPED, "stopped")         \
    X(VM_CRASHED, "crashed")
typedef enum {
#define X(e, s) e,
    VM_STATES(X)
#undef X
} vm_state_t;

const char *vm_kind_name(vm_kind_t k);
int vm_kind_parse(const char *s);
const char *vm_state_name(vm_state_t s);
int vm_state_parse(const char *s);
/* starting, running or stopping: a monitor (and a guest) exists. */
bool vm_state_live(vm_state_t s);
/* The state machine: defined -> starting -> running -> stopping ->
 * stopped | crashed, a start again from stopped or crashed, and crashed
 * from any live state. */
bool vm_state_allowed(vm_state_t from, vm_state_t to);

typedef struct {
    char ifname[8];     /* eth0..eth31 */
    char lan[16];
    uint8_t mac[6];
    char ip[64];        /* "" = none */
    char host_if[16];   /* ns: the switchd tap (born in the node's namespace as ifname) */
    unsigned port;      /* ns: its switchd port, 0 = none */
} vm_nic_t;

typedef struct vm_job vm_job_t;
typedef struct vm vm_t;
typedef struct vm_node vm_node_t;
typedef struct vm_pend vm_pend_t;
typedef struct vm_argv vm_argv_t;

/* How an op that may wait ends: code PN_OK, or an error code with err (a
 * sentence; aborted: the op was ended by something else, e.g. a kill of
 * the node, and err says so). */
typedef void (*vm_done_fn)(vm_t *vm, vm_node_t *nd, int code, const char *err, bool aborted, void *arg);
/* A step of an op in progress, continued from the loop. */
typedef void (*vm_step_fn)(vm_t *vm, vm_pend_t *p, int code, const char *err);

/* An op in progress on a node that waits without blocking the loop: on a
 * peer daemon (node.start, nic.add, nic.del, node.add) or on a helper
 * through the node's agent (a UML nic.del taking an interface down, a
 * nic.add configuring the new NIC in a UML or qemu guest, a qemu nic.del
 * checking the guest let the device go).  Until
 * it ends, changes of the node answer busy naming it; a node that stops or
 * is deleted meanwhile aborts it.  It is the arg of every call it makes,
 * so its calls are forgotten with it. */
struct vm_pend {
    char what[32];          /* "nic.del eth2" */
    char ifname[8];
    vm_node_t *nd;
    uint64_t since_ms;
    vm_done_fn done;        /* how it ends (with done_arg) */
    void *done_arg;
    bool *ended;            /* set when it ends (vm_pend_go) */
    vm_job_t *job;
    int np;                 /* nic.del: ports unplugged: n, 0 none, -1 unclear */
    /* NICs walked one after the other (LAN checks, ns taps). */
    vm_nic_t *nics;
    unsigned nnics, i;
    bool with_mgmt;         /* the walk makes the mgmt LAN ready */
    vm_step_fn then, sub;   /* where a walk continues (then), a step within it (sub) */
    void (*undo)(vm_t *vm, vm_node_t *nd); /* an abort undoes what is half made */
    vm_nic_t *tap;          /* the NIC whose tap is being made */
    vm_nic_t nic;           /* nic.add: the NIC plugged */
    vm_argv_t *argv;        /* node.start: the guest's command line */
    bool only_ack;          /* its work is done, only agentd's acknowledgement is awaited */
};

struct vm_node {
    vm_t *vm;               /* the daemon holding it (for loop callbacks) */
    char name[16];
    vm_kind_t kind;
    unsigned number;
    vm_state_t state;
    char image[1024];       /* "" = the default image */
    unsigned mem, cpus;
    bool persistent, mgmt;
    pn_val_t *cmd;          /* ns: array of strings, or NULL */
    char *script;           /* uml/qemu: startup script, or NULL */
    vm_nic_t nics[VM_MAX_NICS];
    unsigned nnics;

    /* While running. */
    pid_t mon_pid, guest_pid;
    uint64_t mon_start;     /* /proc/PID/stat start time of the monitor */
    uint64_t started_ns;
    int pidfd;
    pn_watch_t *watch;
    pn_timer_t *stop_timer;
    bool stop_requested, restart_after;
    bool adopted;
    char cfgdisk[1024];
    char accel[8];
    int exit_status;        /* exit code, or -signal */
    bool have_exit;
    pn_val_t *console_tail; /* crashed */
    pn_req_t *waiting;      /* a held node.stop waiting for the end */
    vm_pend_t *pend;        /* an op in progress, or NULL */
    uint64_t agent_reg;     /* when agentd took its registration (vm_agentd's count), 0 = not registered */

    vm_node_t *next;
};

struct vm {
    pn_svc_t *svc;
    vm_node_t *nodes;
    unsigned nnodes;
    char nodes_dir[4096];     /* STATE/nodes */
    char mgmt_prefix[16];     /* "172.30" */
    char tag[8];              /* short hash of STATE: unique host names */
    char mgmt_if[16];         /* the host's tap on mgmt */
    bool mgmt_ready;
    struct vm_peers *peers;   /* vm_peer.c's clients and calls */
    /* The default image (build/image/manifest). */
    char rootfs[1024], uml_kernel[1024], qemu_kernel[1024], qemu_initrd[1024];
    char manifest[1024];
    /* qemu accelerator, probed once. */
    int accel_known;          /* 0 unknown, 1 known */
    bool kvm;
    char accel_reason[160];
};

/* ------------------------------------------------------------ vm_node.c */
vm_node_t *vm_node_find(vm_t *vm, const char *name);
vm_node_t *vm_node_by_number(vm_t *vm, unsigned n);
/* Seed rule: MAC of ethE of node n. */
void vm_seed_mac(unsigned n, unsigned e, uint8_t mac[6]);
/* Seed rule: management address "<prefix>.<n/100>.<n%100>/16". */
void vm_seed_mgmt_ip(const char *prefix, unsigned n, char *out, size_t len);
void vm_node_dir(vm_t *vm, const vm_node_t *nd, const char *file, char *out, size_t len);
pn_val_t *vm_node_to_val(vm_t *vm, const vm_node_t *nd, bool full);
/* Persist the spec and runtime facts (atomic). */
int vm_node_save(vm_t *vm, vm_node_t *nd);
/* durable=false skips the fsyncs: for runtime facts (which monitor runs
 * the node, its state), which no node outlives a power cut to need. */
int vm_node_save_opt(vm_t *vm, vm_node_t *nd, bool durable);
/* Build a node from node.add args (validated by the schema); on failure
 * returns NULL with code/err set. */
vm_node_t *vm_node_from_args(vm_t *vm, pn_val_t *a, int *code, char *err, size_t errlen);
vm_node_t *vm_node_from_val(vm_t *vm, pn_val_t *v);
void vm_node_free(vm_node_t *nd);
int vm_nic_index(const vm_node_t *nd, const char *ifname);
int vm_nic_from_args(vm_t *vm, vm_node_t *nd, pn_val_t *a, vm_nic_t *c, char *err, size_t errlen);
void vm_load_all(vm_t *vm);
int vm_parse_ip(const char *s, char *norm, size_t len); /* "A/P" -> 0 or -EINVAL */

/* ------------------------------------------------------------ vm_argv.c */
#define VM_ARGV_MAX 160
struct vm_argv {
    char *v[VM_ARGV_MAX];   /* NULL-terminated */
    int n;
    bool overflow;          /* an argument did not fit: the line is unusable */
    char store[32768];
    size_t used;
};
void vm_argv_add(vm_argv_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Two arguments: flag, then the formatted value (qemu's "-m 512"). */
void vm_argv_opt(vm_argv_t *a, const char *flag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* UML's ethN=daemon,MAC,unix,RUN/lan/L/ctl */
void vm_uml_nic_arg(char *out, size_t len, const vm_nic_t *c);
/* The guest's command line (qemu: probes the accelerator once). PN_OK or
 * an error code with err set. */
int vm_uml_argv(vm_t *vm, vm_node_t *nd, vm_argv_t *a, char *err, size_t errlen);
int vm_qemu_argv(vm_t *vm, vm_node_t *nd, vm_argv_t *a, char *err, size_t errlen);

/* ------------------------------------------------------------- vm_run.c */
/* Start nd; done(..., arg) tells how it went (everything undone on
 * failure).  VM_PENDING when it waits (done comes from the loop), else 0
 * after done was called. */
#define VM_PENDING 1000
int vm_start(vm_t *vm, vm_node_t *nd, vm_done_fn done, void *arg);
/* Graceful stop request; the monitor's exit finishes it. */
void vm_stop(vm_t *vm, vm_node_t *nd, unsigned timeout_ms);
void vm_kill(vm_t *vm, vm_node_t *nd);
/* Called once per node at startup: adopt a running monitor. */
void vm_adopt(vm_t *vm, vm_node_t *nd);
void vm_set_state(vm_t *vm, vm_node_t *nd, vm_state_t st);
void vm_node_files_rm(vm_t *vm, vm_node_t *nd);

/* ------------------------------------------------------------- vm_nic.c */
/* Walk p->nics from p->i: the mgmt LAN made ready (with_mgmt; else
 * skipped), every other LAN checked to exist; then p->then(code, err),
 * p->i naming the NIC that failed. */
void vm_lans_ready(vm_t *vm, vm_pend_t *p, bool with_mgmt, vm_step_fn then);
/* Plug nic into nd (running or not: its LAN is checked) and, when it
 * runs, configure it in the guest (up, its address); done as for
 * vm_start, same return.  A NIC plugged but not configured (no agent,
 * the guest's ip failing) ends with an error while the NIC is in nd's
 * spec: the caller keeps it and says what was not applied. */
int vm_nic_plug(vm_t *vm, vm_node_t *nd, const vm_nic_t *nic, vm_done_fn done, void *arg);
/* Unplug nic from nd (the caller removes it from the spec on PN_OK);
 * done as for vm_start, same return. */
int vm_nic_unplug(vm_t *vm, vm_node_t *nd, const vm_nic_t *nic, vm_done_fn done, void *arg);
/* link.set ended: PN_OK with data (the caller's: node, ifname, lan, kind,
 * state, carrier, note, ports), else code and err. */
typedef void (*vm_link_fn)(vm_t *vm, int code, const char *err, pn_val_t *data, void *arg);
/* Take nic of the running node nd down or up: its switch ports (ns: the
 * tap, whose carrier follows; uml, qemu: the VDE ports switchd named
 * "node:ifname") set admin down/up, and a qemu NIC's link status (QMP
 * set_link), so the guest sees the carrier go.  VM_PENDING (done comes
 * later), or a PN_E* code with err. */
int vm_link_set(vm_t *vm, vm_node_t *nd, const vm_nic_t *nic, bool up, vm_link_fn done, void *arg, char *err,
                size_t errlen);

/* ------------------------------------------------------------ vm_pend.c */
/* nd's op in progress (nd->pend), ended by done(..., arg). */
vm_pend_t *vm_pend_new(vm_node_t *nd, const char *what, vm_done_fn done, void *arg);
/* Run the op's first step: VM_PENDING when it waits, 0 when it ended
 * (done was called); p is gone unless pending. */
int vm_pend_go(vm_t *vm, vm_pend_t *p, void (*first)(vm_t *vm, vm_pend_t *p));
/* Both in one: the op "what" (with nic: "what ethN", the NIC copied to
 * p->nic) on nd, done at once with busy when another op is in progress. */
int vm_pend_run(vm_t *vm, vm_node_t *nd, const char *what, const vm_nic_t *nic, void (*first)(vm_t *vm, vm_pend_t *p),
                vm_done_fn done, void *arg);
/* End the op: forget its calls and helper, call its done. */
void vm_pend_end(vm_t *vm, vm_pend_t *p, int code, const char *err);
/* Is an op in progress on nd?  One that has done its work and only waits
 * for agentd's acknowledgement is ended now, successfully, instead. */
bool vm_pend_busy(vm_t *vm, vm_node_t *nd);
/* End nd's op in progress (if any) from outside: undo what it half made,
 * end it with the error (one that has done its work ends well). */
void vm_pend_abort(vm_t *vm, vm_node_t *nd, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* -------------------------------------------------------------- vm_ns.c */
void vm_ns_name(vm_t *vm, const vm_node_t *nd, char *out, size_t len);
void vm_netns_del(const char *path);
/* The namespace with a tap per NIC in it (undone on failure), then
 * p->then(code, err). */
void vm_ns_setup(vm_t *vm, vm_pend_t *p, vm_step_fn then);
/* One NIC's tap, born in the node's namespace, then p->sub(code, err). */
void vm_ns_nic_in(vm_t *vm, vm_pend_t *p, vm_nic_t *c, vm_step_fn sub);
/* Unplug one NIC of a running ns node. */
void vm_ns_nic_out(vm_t *vm, vm_node_t *nd, vm_nic_t *c);
/* ns: remove the namespace, then the node's switchd ports. */
void vm_ns_teardown(vm_t *vm, vm_node_t *nd);

/* ---------------------------------------------------------- vm_monitor.c */
/* The monitor process's entry, in a fresh child of vmd (never returns):
 * start the guest with argv and write its pid to the report fd. */
void vm_monitor_main(vm_t *vm, vm_node_t *nd, char **argv, int report) __attribute__((noreturn));

/* ------------------------------------------------------------ vm_proc.c */
uint64_t vm_proc_start_time(pid_t pid);
int vm_run_cmd(char *const argv[], const char *input, char *out, size_t outlen);
/* In a child about to exec: default signal dispositions, nothing blocked. */
void vm_child_signals(void);

/* ------------------------------------------------------------- vm_job.c */
/* status: the exit code, 128 + signal, or VM_JOB_TIMEOUT when the job was
 * killed at its deadline; out: the start of its stdout + stderr. */
#define VM_JOB_TIMEOUT (-1)
typedef void (*vm_job_fn)(vm_t *vm, int status, const char *out, void *arg);
vm_job_t *vm_job_start(vm_t *vm, char *const argv[], unsigned deadline_ms, vm_job_fn fn, void *arg, char *err,
                       size_t errlen);
/* Kill it (its whole process group) and reap it; fn is never called. */
void vm_job_cancel(vm_job_t **job_p);
pid_t vm_job_pid(const vm_job_t *j);

/* ------------------------------------------------------------ vm_peer.c */
/* vmd's calls to switchd and cfgdiskd, never waited for: fn(vm, code,
 * data, err, arg) from the loop with PN_OK and the reply's data
 * (borrowed), the peer's error code, or PN_EUNAVAIL naming the peer when
 * it is away or did not answer in time. */
typedef void (*vm_peer_fn)(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg);
int vm_peer_open(vm_t *vm);
/* Close the clients (before the zmq context ends). */
void vm_peer_close(vm_t *vm);
/* Forget the calls made for arg: their fn is not called. */
void vm_peer_cancel(vm_t *vm, void *arg);
void vm_peer_lan_show(vm_t *vm, const char *lan, vm_peer_fn fn, void *arg);
/* lan.add; a LAN that exists is success. */
void vm_peer_lan_ensure(vm_t *vm, const char *lan, vm_peer_fn fn, void *arg);
/* A switchd tap on lan; with netns it is created in that namespace, with
 * mac it has that address, with ifname that name; owner ("node:ifname",
 * or NULL) is what switchd shows with the port.  data: ifname, port. */
void vm_peer_tap_add(vm_t *vm, const char *lan, const char *netns, const uint8_t *mac, const char *ifname,
                     const char *owner, vm_peer_fn fn, void *arg);
/* Not waited for by anyone (a failure is logged). */
void vm_peer_port_del(vm_t *vm, const char *lan, unsigned port);
/* port.set: admin state up or down. */
void vm_peer_port_set(vm_t *vm, const char *lan, unsigned port, bool up, vm_peer_fn fn, void *arg);
/* Tell switchd that the VDE ports of guest process pid on nic's LAN are
 * "node:ifname" (pid 0: forget it).  Not waited for (a failure is logged). */
void vm_peer_port_claim(vm_t *vm, const vm_node_t *nd, const vm_nic_t *nic, pid_t pid);
/* cfgdiskd's disk.build for nd.  data: path. */
void vm_peer_cfgdisk(vm_t *vm, vm_node_t *nd, vm_peer_fn fn, void *arg);
void vm_lan_dir(const char *lan, char *out, size_t len);
/* The pid in a UML daemon-transport client's data address as switchd shows
 * it ("@" + hex); false when it is not one. */
bool vm_uml_peer_pid(const char *peer, pid_t *pid);
/* From a lan.show: the switchd ports of the UML process pid's NIC with
 * that MAC: how many (up to max, in ports), -1 when several and none sent
 * from the MAC (ambiguous). */
int vm_uml_ports(pn_val_t *lan_show, const uint8_t mac[6], pid_t pid, unsigned *ports, int max);

/* ---------------------------------------------------------- vm_agentd.c */
/* The link to agentd (see vm_agentd.c): open once the service started
 * (before adopting nodes), close before the service is destroyed. */
int vm_agentd_open(vm_t *vm);
void vm_agentd_close(void);
/* Register a running node's agent channel; fn(vm, arg) (may be NULL) once
 * agentd took it or refused it, 2 s passed, or at once without agentd
 * (it is registered when agentd appears).  Never waits. */
void vm_agentd_register(vm_t *vm, vm_node_t *nd, void (*fn)(vm_t *vm, void *arg), void *arg);
/* Forget the registrations waited for by arg. */
void vm_agentd_cancel(void *arg);
/* Unregister it (not waited for). */
void vm_agentd_unregister(vm_node_t *nd);

/* ----------------------------------------------------------- vm_image.c */
int vm_manifest_load(vm_t *vm);
/* The qemu accelerator: probe once (blocking, bounded). */
void vm_accel(vm_t *vm);

#endif
