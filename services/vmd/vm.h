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
 */
#ifndef VM_H
#define VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

/* A held nic.del ended: code PN_OK when the NIC is gone from the guest
 * (the callee removes it from the spec and answers), else an error code
 * with err. */
typedef void (*vm_nic_done_fn)(vm_t *vm, vm_node_t *nd, pn_req_t *req, const char *ifname, int code,
                               const char *err, void *arg);

/* An op held while a helper runs without blocking the loop (a UML
 * nic.del taking an interface down through the node's agent).  Until it
 * ends, nic.add, nic.del and node.stop of the node answer busy naming it;
 * a node that stops or is deleted meanwhile ends it with an error. */
typedef struct {
    char what[32];          /* "nic.del eth2" */
    char ifname[8];
    pn_req_t *req;
    vm_nic_done_fn done;    /* how it ends (with done_arg) */
    void *done_arg;
    vm_job_t *job;
    uint64_t since_ms;
    int np;                 /* ports unplugged: n, 0 none, -1 unclear */
} vm_pend_t;

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
typedef struct {
    char *v[VM_ARGV_MAX];   /* NULL-terminated */
    int n;
    bool overflow;          /* an argument did not fit: the line is unusable */
    char store[32768];
    size_t used;
} vm_argv_t;
void vm_argv_add(vm_argv_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* UML's ethN=daemon,MAC,unix,RUN/lan/L/ctl */
void vm_uml_nic_arg(char *out, size_t len, const vm_nic_t *c);
/* The guest's command line (qemu: probes the accelerator once). PN_OK or
 * an error code with err set. */
int vm_uml_argv(vm_t *vm, vm_node_t *nd, vm_argv_t *a, char *err, size_t errlen);
int vm_qemu_argv(vm_t *vm, vm_node_t *nd, vm_argv_t *a, char *err, size_t errlen);

/* ------------------------------------------------------------- vm_run.c */
/* Start: returns PN_OK or an error code with err set (everything undone). */
int vm_start(vm_t *vm, vm_node_t *nd, char *err, size_t errlen);
/* Graceful stop request; the monitor's exit finishes it. */
void vm_stop(vm_t *vm, vm_node_t *nd, unsigned timeout_ms);
void vm_kill(vm_t *vm, vm_node_t *nd);
/* Called once per node at startup: adopt a running monitor. */
void vm_adopt(vm_t *vm, vm_node_t *nd);
void vm_set_state(vm_t *vm, vm_node_t *nd, vm_state_t st);
void vm_node_files_rm(vm_t *vm, vm_node_t *nd);

/* ------------------------------------------------------------- vm_nic.c */
/* The management LAN and the host's tap on it (once per vmd). */
int vm_mgmt_ready(vm_t *vm, char *err, size_t errlen);
int vm_nic_plug(vm_t *vm, vm_node_t *nd, vm_nic_t *nic, char *err, size_t errlen);
/* PN_OK, an error code with err set, or VM_PENDING: nd->pend was made and
 * the caller holds its request there (pn_req_hold); done(..., arg) ends it
 * from the loop. */
#define VM_PENDING 1000
int vm_nic_unplug(vm_t *vm, vm_node_t *nd, vm_nic_t *nic, vm_nic_done_fn done, void *arg, char *err,
                  size_t errlen);
/* End nd's op in progress (if any): cancel its helper, fail its request. */
void vm_pend_abort(vm_t *vm, vm_node_t *nd, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* -------------------------------------------------------------- vm_ns.c */
void vm_ns_name(vm_t *vm, const vm_node_t *nd, char *out, size_t len);
void vm_netns_del(const char *path);
/* The namespace with a tap per NIC in it (undone on failure). */
int vm_ns_setup(vm_t *vm, vm_node_t *nd, char *err, size_t errlen);
/* One NIC's tap, born in the node's namespace. */
int vm_ns_nic_in(vm_t *vm, vm_node_t *nd, vm_nic_t *c, char *err, size_t errlen);
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
/* Thin calls to switchd, cfgdiskd and agentd. */
/* Close the kept clients (before the zmq context ends). */
void vm_peer_close(void);
int vm_peer_lan_ensure(const char *lan, char *err, size_t errlen);
int vm_peer_lan_exists(const char *lan, char *err, size_t errlen);
/* A switchd tap on lan; with netns it is created in that namespace, with mac
 * it has that address.  ifname_out: in, the name wanted ("" = any); out, its
 * name. */
int vm_peer_tap_add(const char *lan, const char *netns, const uint8_t *mac, char *ifname_out, unsigned *port,
                    char *err, size_t errlen);
void vm_peer_port_del(const char *lan, unsigned port);
int vm_peer_cfgdisk(vm_t *vm, vm_node_t *nd, char *path, size_t pathlen, char *err, size_t errlen);
void vm_lan_dir(const char *lan, char *out, size_t len);
/* The pid in a UML daemon-transport client's data address as switchd shows
 * it ("@" + hex); false when it is not one. */
bool vm_uml_peer_pid(const char *peer, pid_t *pid);
/* The switchd ports on lan of the UML process pid's NIC with that MAC:
 * how many (up to max, in ports), -1 when several and none sent from the
 * MAC (ambiguous). */
int vm_peer_uml_ports(const char *lan, const uint8_t mac[6], pid_t pid, unsigned *ports, int max);

/* ---------------------------------------------------------- vm_agentd.c */
/* The link to agentd (see vm_agentd.c): open once the service started
 * (before adopting nodes), close before the service is destroyed. */
int vm_agentd_open(vm_t *vm);
void vm_agentd_close(void);
/* Register a running node's agent channel (waits at most 2 s for agentd's
 * answer; without agentd nothing: it is registered when agentd appears). */
void vm_peer_agent_register(vm_t *vm, vm_node_t *nd);
/* Unregister it (not waited for). */
void vm_peer_agent_unregister(vm_node_t *nd);

/* ----------------------------------------------------------- vm_image.c */
int vm_manifest_load(vm_t *vm);
/* The qemu accelerator: probe once (blocking, bounded). */
void vm_accel(vm_t *vm);

#endif
