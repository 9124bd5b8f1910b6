/* vm_node: the node model, the seed addressing rule, persistence. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm.h"

static const char *const s_kinds[] = {
#define X(e, s) s,
    VM_KINDS(X)
#undef X
};
static const char *const s_states[] = {
#define X(e, s) s,
    VM_STATES(X)
#undef X
};

const char *vm_kind_name(vm_kind_t k) { return (unsigned)k < 3 ? s_kinds[k] : "?"; }
const char *vm_state_name(vm_state_t s) { return (unsigned)s < 6 ? s_states[s] : "?"; }
int vm_kind_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, s_kinds[i]) == 0)
            return i;
    return -1;
}
int vm_state_parse(const char *s)
{
    for (int i = 0; i < 6; i++)
        if (s && strcmp(s, s_states[i]) == 0)
            return i;
    return -1;
}

bool vm_state_live(vm_state_t s) { return s == VM_STARTING || s == VM_RUNNING || s == VM_STOPPING; }

bool vm_state_allowed(vm_state_t from, vm_state_t to)
{
    switch (to) {
    case VM_DEFINED: return from == VM_DEFINED; /* the node.add event */
    case VM_STARTING: return from == VM_DEFINED || from == VM_STOPPED || from == VM_CRASHED;
    case VM_RUNNING: return from == VM_STARTING;
    case VM_STOPPING: return from == VM_STARTING || from == VM_RUNNING;
    case VM_STOPPED: return from == VM_STOPPING;
    case VM_CRASHED: return vm_state_live(from);
    }
    return false;
}

vm_node_t *vm_node_find(vm_t *vm, const char *name)
{
    for (vm_node_t *n = vm->nodes; n; n = n->next)
        if (strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

vm_node_t *vm_node_by_number(vm_t *vm, unsigned num)
{
    for (vm_node_t *n = vm->nodes; n; n = n->next)
        if (n->number == num)
            return n;
    return NULL;
}

void vm_seed_mac(unsigned n, unsigned e, uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x00;
    mac[2] = (uint8_t)(n / 100);
    mac[3] = (uint8_t)(n % 100);
    mac[4] = 0x00;
    mac[5] = (uint8_t)e;
}

void vm_seed_mgmt_ip(const char *prefix, unsigned n, char *out, size_t len)
{
    snprintf(out, len, "%s.%u.%u/16", prefix, n / 100, n % 100);
}

void vm_node_dir(vm_t *vm, const vm_node_t *nd, const char *file, char *out, size_t len)
{
    if (file)
        snprintf(out, len, "%s/%s/%s", vm->nodes_dir, nd->name, file);
    else
        snprintf(out, len, "%s/%s", vm->nodes_dir, nd->name);
}

int vm_nic_index(const vm_node_t *nd, const char *ifname)
{
    for (unsigned i = 0; i < nd->nnics; i++)
        if (strcmp(nd->nics[i].ifname, ifname) == 0)
            return (int)i;
    return -1;
}

/* "10.0.0.1/24" or "fd00::1/64": a valid address with a prefix. */
int vm_parse_ip(const char *s, char *norm, size_t len)
{
    char a[64];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof(a))
        return -EINVAL;
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = 0;
    char *end;
    errno = 0;
    long p = strtol(slash + 1, &end, 10);
    if (errno || *end || end == slash + 1)
        return -EINVAL;
    unsigned char buf[16];
    if (inet_pton(AF_INET, a, buf) == 1) {
        if (p < 1 || p > 32)
            return -EINVAL;
    } else if (inet_pton(AF_INET6, a, buf) == 1) {
        if (p < 1 || p > 128)
            return -EINVAL;
    } else
        return -EINVAL;
    snprintf(norm, len, "%s/%ld", a, p);
    return 0;
}

static pn_val_t *s_nic_val(const vm_nic_t *c)
{
    char mac[18];
    pn_mac_format(c->mac, mac);
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "ifname", c->ifname);
    pn_map_set_str(m, "lan", c->lan);
    pn_map_set_str(m, "mac", mac);
    if (c->ip[0])
        pn_map_set_str(m, "ip", c->ip);
    if (c->host_if[0])
        pn_map_set_str(m, "host_if", c->host_if);
    if (c->port)
        pn_map_set_uint(m, "port", c->port);
    return m;
}

pn_val_t *vm_node_to_val(vm_t *vm, const vm_node_t *nd, bool full)
{
    char p[4200];
    pn_val_t *m = pn_map();
    pn_map_set_str(m, "name", nd->name);
    pn_map_set_str(m, "kind", vm_kind_name(nd->kind));
    pn_map_set_uint(m, "number", nd->number);
    pn_map_set_str(m, "state", vm_state_name(nd->state));
    if (nd->kind != VM_NS) {
        pn_map_set_str(m, "image", nd->image[0] ? nd->image : vm->rootfs);
        pn_map_set_uint(m, "mem", nd->mem);
        pn_map_set_uint(m, "cpus", nd->cpus);
        pn_map_set_bool(m, "persistent", nd->persistent);
    }
    for (unsigned i = 0; i < nd->nnics; i++)
        if (strcmp(nd->nics[i].ifname, "eth0") == 0 && nd->mgmt && nd->nics[i].ip[0])
            pn_map_set_str(m, "mgmt_ip", nd->nics[i].ip);
    pn_val_t *nics = pn_arr();
    for (unsigned i = 0; i < nd->nnics; i++)
        pn_arr_push(nics, s_nic_val(&nd->nics[i]));
    pn_map_set(m, "nics", nics);
    bool live = nd->state == VM_STARTING || nd->state == VM_RUNNING || nd->state == VM_STOPPING;
    if (live && nd->guest_pid)
        pn_map_set_uint(m, "pid", (uint64_t)nd->guest_pid);
    if (live && nd->mon_pid)
        pn_map_set_uint(m, "monitor_pid", (uint64_t)nd->mon_pid);
    if (nd->kind == VM_QEMU && nd->accel[0]) {
        pn_map_set_str(m, "accel", nd->accel);
        pn_map_set_str(m, "accel_reason", vm->accel_reason);
    }
    if (nd->pend)
        pn_map_set_str(m, "busy", nd->pend->what);
    if (!full)
        return m;
    vm_node_dir(vm, nd, NULL, p, sizeof(p));
    pn_map_set_str(m, "dir", p);
    vm_node_dir(vm, nd, "console.log", p, sizeof(p));
    pn_map_set_str(m, "console_log", p);
    if (nd->kind != VM_NS) {
        vm_node_dir(vm, nd, "console.sock", p, sizeof(p));
        pn_map_set_str(m, "console_sock", p);
        vm_node_dir(vm, nd, nd->kind == VM_QEMU ? "qmp.sock" : "uml/mconsole", p, sizeof(p));
        pn_map_set_str(m, "control_sock", p);
    } else {
        vm_ns_name(vm, nd, p, sizeof(p));
        pn_map_set_str(m, "netns", p);
    }
    vm_node_dir(vm, nd, "agent.sock", p, sizeof(p));
    pn_map_set_str(m, "agent_sock", p);
    if (nd->cfgdisk[0])
        pn_map_set_str(m, "cfgdisk", nd->cfgdisk);
    if (nd->have_exit && (nd->state == VM_CRASHED || nd->state == VM_STOPPED))
        pn_map_set_int(m, "exit_status", nd->exit_status);
    if (nd->console_tail && nd->state == VM_CRASHED)
        pn_map_set(m, "console_tail", pn_val_dup(nd->console_tail));
    if (nd->started_ns && live)
        pn_map_set_uint(m, "started_ns", nd->started_ns);
    if (live)
        pn_map_set_bool(m, "adopted", nd->adopted);
    return m;
}

int vm_node_save(vm_t *vm, vm_node_t *nd)
{
    return vm_node_save_opt(vm, nd, true);
}

int vm_node_save_opt(vm_t *vm, vm_node_t *nd, bool durable)
{
    char dir[4200], path[4300];
    vm_node_dir(vm, nd, NULL, dir, sizeof(dir));
    int r = pn_mkdirs(dir, 0750);
    if (r < 0)
        return r;
    pn_val_t *m = vm_node_to_val(vm, nd, false);
    pn_map_set_str(m, "image", nd->image);
    pn_map_set_bool(m, "mgmt", nd->mgmt);
    if (nd->cmd)
        pn_map_set(m, "cmd", pn_val_dup(nd->cmd));
    if (nd->script)
        pn_map_set_str(m, "script", nd->script);
    pn_map_set_uint(m, "mon_pid", (uint64_t)nd->mon_pid);
    pn_map_set_uint(m, "mon_start", nd->mon_start);
    pn_map_set_uint(m, "guest_pid", (uint64_t)nd->guest_pid);
    pn_map_set_uint(m, "started_ns", nd->started_ns);
    pn_map_set_str(m, "cfgdisk", nd->cfgdisk);
    pn_map_set_str(m, "accel", nd->accel);
    snprintf(path, sizeof(path), "%s/node.mp", dir);
    r = pn_state_save_opt(path, m, durable);
    pn_val_free(m);
    return r;
}

void vm_node_free(vm_node_t *nd)
{
    if (!nd)
        return;
    pn_val_free(nd->cmd);
    pn_val_free(nd->console_tail);
    free(nd->script);
    free(nd);
}

static unsigned s_free_number(vm_t *vm)
{
    for (unsigned n = 1; n <= 25599; n++)
        if (!vm_node_by_number(vm, n))
            return n;
    return 0;
}

/* Fill a NIC from a spec map; E is its index for the seed MAC. */
static int s_nic_from(vm_t *vm, vm_node_t *nd, pn_val_t *spec, const char *ifname, vm_nic_t *c, char *err,
                      size_t errlen)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
    snprintf(c->lan, sizeof(c->lan), "%s", pn_get_str(spec, "lan", ""));
    const char *mac = pn_get_str(spec, "mac", NULL);
    if (mac) {
        if (!pn_mac_parse(mac, c->mac) || (c->mac[0] & 1)) {
            snprintf(err, errlen, "%s: '%s' is not a unicast MAC address", ifname, mac);
            return PN_EINVAL;
        }
    } else
        vm_seed_mac(nd->number, (unsigned)pn_ifname_index(ifname), c->mac);
    const char *ip = pn_get_str(spec, "ip", NULL);
    if (ip && vm_parse_ip(ip, c->ip, sizeof(c->ip)) < 0) {
        snprintf(err, errlen, "%s: '%s' is not an address with a prefix (like 10.0.0.1/24)", ifname, ip);
        return PN_EINVAL;
    }
    (void)vm;
    return PN_OK;
}

/* Is this MAC used by another node (or twice in this one)? */
static const vm_node_t *s_mac_user(vm_t *vm, const vm_node_t *self, const uint8_t mac[6], unsigned skip)
{
    for (vm_node_t *n = vm->nodes; n; n = n->next)
        for (unsigned i = 0; i < n->nnics; i++)
            if (memcmp(n->nics[i].mac, mac, 6) == 0)
                return n;
    for (unsigned i = 0; i < self->nnics; i++)
        if (i != skip && memcmp(self->nics[i].mac, mac, 6) == 0)
            return self;
    return NULL;
}

vm_node_t *vm_node_from_args(vm_t *vm, pn_val_t *a, int *code, char *err, size_t errlen)
{
    const char *name = pn_get_str(a, "name", "");
    if (vm_node_find(vm, name)) {
        *code = PN_EEXIST;
        snprintf(err, errlen, "node '%s' already exists", name);
        return NULL;
    }
    if (vm->nnodes >= VM_MAX_NODES) {
        *code = PN_ETOOLARGE;
        snprintf(err, errlen, "vmd holds %u nodes already (the limit)", vm->nnodes);
        return NULL;
    }
    vm_node_t *nd = calloc(1, sizeof(*nd));
    if (!nd) {
        *code = PN_EINTERNAL;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    nd->pidfd = -1;
    nd->vm = vm;
    snprintf(nd->name, sizeof(nd->name), "%s", name);
    nd->kind = (vm_kind_t)vm_kind_parse(pn_get_str(a, "kind", ""));
    nd->state = VM_DEFINED;
    *code = PN_EINVAL;
    unsigned num = (unsigned)pn_get_uint(a, "number", 0);
    if (num) {
        vm_node_t *o = vm_node_by_number(vm, num);
        if (o) {
            *code = PN_EEXIST;
            snprintf(err, errlen, "node number %u is in use by node '%s'", num, o->name);
            goto fail;
        }
    } else if (!(num = s_free_number(vm))) {
        *code = PN_ETOOLARGE;
        snprintf(err, errlen, "every node number is in use");
        goto fail;
    }
    nd->number = num;
    const char *img = pn_get_str(a, "image", NULL);
    if (img && nd->kind == VM_NS) {
        snprintf(err, errlen, "an ns node has no image");
        goto fail;
    }
    if (img) {
        if (img[0] != '/') {
            snprintf(err, errlen, "image '%s': give an absolute path to a raw or qcow2 image", img);
            goto fail;
        }
        struct stat st;
        if (stat(img, &st) < 0 || !S_ISREG(st.st_mode)) {
            *code = PN_ENOTFOUND;
            snprintf(err, errlen, "image '%s' does not exist (or is not a regular file)", img);
            goto fail;
        }
        snprintf(nd->image, sizeof(nd->image), "%s", img);
    } else if (nd->kind != VM_NS && !vm->rootfs[0] && vm_manifest_load(vm) < 0) {
        *code = PN_ENOTFOUND;
        snprintf(err, errlen, "no default image: run 'make image' (no manifest at %s)", vm->manifest);
        goto fail;
    }
    nd->mem = (unsigned)pn_get_uint(a, "mem", 128);
    if (nd->kind != VM_NS) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        uint64_t host_mb = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz >> 20 : 0;
        if (host_mb && nd->mem > host_mb / 2) {
            snprintf(err, errlen, "mem %u MiB is more than half of this host's %llu MiB", nd->mem,
                     (unsigned long long)host_mb);
            goto fail;
        }
    }
    nd->cpus = (unsigned)pn_get_uint(a, "cpus", 1);
    nd->persistent = pn_get_bool(a, "persistent", false);
    if (nd->persistent && nd->kind == VM_NS) {
        snprintf(err, errlen, "an ns node has no disk to persist");
        goto fail;
    }
    if (nd->persistent) {
        const char *want = nd->image[0] ? nd->image : vm->rootfs;
        for (vm_node_t *o = vm->nodes; o; o = o->next) {
            const char *oi = o->image[0] ? o->image : vm->rootfs;
            if (o->kind != VM_NS && strcmp(oi, want) == 0) {
                *code = PN_EBUSY;
                snprintf(err, errlen, "image '%s' is in use by node '%s'; a persistent node needs it alone", want,
                         o->name);
                goto fail;
            }
        }
    } else if (nd->kind != VM_NS) {
        const char *want = nd->image[0] ? nd->image : vm->rootfs;
        for (vm_node_t *o = vm->nodes; o; o = o->next) {
            const char *oi = o->image[0] ? o->image : vm->rootfs;
            if (o->persistent && strcmp(oi, want) == 0) {
                *code = PN_EBUSY;
                snprintf(err, errlen, "image '%s' is locked by persistent node '%s'", want, o->name);
                goto fail;
            }
        }
    }
    nd->mgmt = pn_get_bool(a, "mgmt", true);
    pn_val_t *cmd = pn_get(a, "cmd");
    if (cmd && pn_len(cmd) > 0) {
        if (nd->kind != VM_NS) {
            snprintf(err, errlen, "cmd is for ns nodes; a %s node boots its image", vm_kind_name(nd->kind));
            goto fail;
        }
        nd->cmd = pn_val_dup(cmd);
    }
    const char *script = pn_get_str(a, "script", NULL);
    if (script)
        nd->script = strdup(script);
    char mgmt_ip[64];
    vm_seed_mgmt_ip(vm->mgmt_prefix, nd->number, mgmt_ip, sizeof(mgmt_ip));
    /* An explicit management address overrides the seed rule's. */
    const char *want_mgmt = pn_get_str(a, "mgmt_ip", NULL);
    if (want_mgmt) {
        if (!nd->mgmt) {
            snprintf(err, errlen, "mgmt_ip '%s' needs eth0 on the management LAN (mgmt: true)", want_mgmt);
            goto fail;
        }
        if (vm_parse_ip(want_mgmt, mgmt_ip, sizeof(mgmt_ip)) < 0) {
            snprintf(err, errlen, "mgmt_ip: '%s' is not an address with a prefix (like 172.30.0.10/16)", want_mgmt);
            goto fail;
        }
    }
    if (nd->mgmt) {
        vm_nic_t *c = &nd->nics[nd->nnics++];
        memset(c, 0, sizeof(*c));
        snprintf(c->ifname, sizeof(c->ifname), "eth0");
        snprintf(c->lan, sizeof(c->lan), "mgmt");
        vm_seed_mac(nd->number, 0, c->mac);
        snprintf(c->ip, sizeof(c->ip), "%s", mgmt_ip);
    }
    pn_val_t *nics = pn_get(a, "nics");
    for (size_t i = 0; i < pn_len(nics); i++) {
        pn_val_t *spec = pn_at(nics, i);
        const char *ifn = pn_get_str(spec, "ifname", NULL);
        char auto_if[8];
        if (!ifn) {
            unsigned e = 0;
            for (; e < VM_MAX_NICS; e++) {
                snprintf(auto_if, sizeof(auto_if), "eth%u", e);
                if (vm_nic_index(nd, auto_if) < 0)
                    break;
            }
            if (e == VM_MAX_NICS) {
                snprintf(err, errlen, "nics[%zu]: at most 32 NICs, eth0..eth31", i);
                goto fail;
            }
            ifn = auto_if;
        }
        if (vm_nic_index(nd, ifn) >= 0) {
            snprintf(err, errlen, "nics[%zu]: %s is given twice", i, ifn);
            goto fail;
        }
        if (nd->nnics >= VM_MAX_NICS || pn_ifname_index(ifn) < 0) {
            snprintf(err, errlen, "nics[%zu]: at most 32 NICs, eth0..eth31", i);
            goto fail;
        }
        if (strcmp(pn_get_str(spec, "lan", ""), "mgmt") == 0 && nd->mgmt) {
            snprintf(err, errlen, "nics[%zu]: eth0 is on mgmt already", i);
            goto fail;
        }
        if ((*code = s_nic_from(vm, nd, spec, ifn, &nd->nics[nd->nnics], err, errlen)) != PN_OK)
            goto fail;
        nd->nnics++;
        *code = PN_EINVAL;
    }
    for (unsigned i = 0; i < nd->nnics; i++) {
        const vm_node_t *o = s_mac_user(vm, nd, nd->nics[i].mac, i);
        if (o) {
            char mac[18];
            pn_mac_format(nd->nics[i].mac, mac);
            *code = PN_EEXIST;
            snprintf(err, errlen, "MAC %s (%s) is in use by node '%s'", mac, nd->nics[i].ifname, o->name);
            goto fail;
        }
    }
    *code = PN_OK;
    return nd;
fail:
    vm_node_free(nd);
    return NULL;
}

/* A NIC added live: the same rules as at node.add. */
int vm_nic_from_args(vm_t *vm, vm_node_t *nd, pn_val_t *a, vm_nic_t *c, char *err, size_t errlen)
{
    const char *ifn = pn_get_str(a, "ifname", "");
    if (vm_nic_index(nd, ifn) >= 0) {
        snprintf(err, errlen, "node '%s' has %s already", nd->name, ifn);
        return PN_EEXIST;
    }
    if (nd->nnics >= VM_MAX_NICS) {
        snprintf(err, errlen, "node '%s' has 32 NICs already", nd->name);
        return PN_ETOOLARGE;
    }
    int r = s_nic_from(vm, nd, a, ifn, c, err, errlen);
    if (r != PN_OK)
        return r;
    const vm_node_t *o = s_mac_user(vm, nd, c->mac, (unsigned)-1);
    if (o) {
        char mac[18];
        pn_mac_format(c->mac, mac);
        snprintf(err, errlen, "MAC %s is in use by node '%s'", mac, o->name);
        return PN_EEXIST;
    }
    return PN_OK;
}

vm_node_t *vm_node_from_val(vm_t *vm, pn_val_t *v)
{
    vm_node_t *nd = calloc(1, sizeof(*nd));
    if (!nd)
        return NULL;
    nd->pidfd = -1;
    nd->vm = vm;
    const char *name = pn_get_str(v, "name", "");
    int kind = vm_kind_parse(pn_get_str(v, "kind", ""));
    int st = vm_state_parse(pn_get_str(v, "state", ""));
    unsigned num = (unsigned)pn_get_uint(v, "number", 0);
    /* A damaged or hand-edited file must not give two nodes one name or
     * one number (their MACs and addresses would collide). */
    if (!pn_name_valid(name) || kind < 0 || st < 0 || num < 1 || num > 25599 || vm_node_find(vm, name) ||
        vm_node_by_number(vm, num)) {
        free(nd);
        return NULL;
    }
    snprintf(nd->name, sizeof(nd->name), "%s", name);
    nd->kind = (vm_kind_t)kind;
    nd->state = (vm_state_t)st;
    nd->number = num;
    snprintf(nd->image, sizeof(nd->image), "%s", pn_get_str(v, "image", ""));
    nd->mem = (unsigned)pn_get_uint(v, "mem", 0);
    if (!nd->mem)
        nd->mem = 128;
    nd->cpus = (unsigned)pn_get_uint(v, "cpus", 1);
    if (!nd->cpus)
        nd->cpus = 1;
    nd->persistent = pn_get_bool(v, "persistent", false);
    nd->mgmt = pn_get_bool(v, "mgmt", true);
    pn_val_t *cmd = pn_get(v, "cmd");
    if (cmd && cmd->type == PN_ARR)
        nd->cmd = pn_val_dup(cmd);
    const char *script = pn_get_str(v, "script", NULL);
    if (script)
        nd->script = strdup(script);
    nd->mon_pid = (pid_t)pn_get_uint(v, "mon_pid", 0);
    nd->mon_start = pn_get_uint(v, "mon_start", 0);
    nd->guest_pid = (pid_t)pn_get_uint(v, "guest_pid", 0);
    nd->started_ns = pn_get_uint(v, "started_ns", 0);
    snprintf(nd->cfgdisk, sizeof(nd->cfgdisk), "%s", pn_get_str(v, "cfgdisk", ""));
    snprintf(nd->accel, sizeof(nd->accel), "%s", pn_get_str(v, "accel", ""));
    pn_val_t *nics = pn_get(v, "nics");
    for (size_t i = 0; i < pn_len(nics) && nd->nnics < VM_MAX_NICS; i++) {
        pn_val_t *c = pn_at(nics, i);
        vm_nic_t *n = &nd->nics[nd->nnics];
        memset(n, 0, sizeof(*n));
        const char *ifn = pn_get_str(c, "ifname", "");
        const char *lan = pn_get_str(c, "lan", "");
        if (pn_ifname_index(ifn) < 0 || !pn_name_valid(lan) || !pn_mac_parse(pn_get_str(c, "mac", ""), n->mac))
            continue;
        snprintf(n->ifname, sizeof(n->ifname), "%s", ifn);
        snprintf(n->lan, sizeof(n->lan), "%s", lan);
        const char *ip = pn_get_str(c, "ip", NULL);
        if (ip && vm_parse_ip(ip, n->ip, sizeof(n->ip)) < 0)
            n->ip[0] = 0;
        if (vm_nic_index(nd, ifn) >= 0)
            continue;
        snprintf(n->host_if, sizeof(n->host_if), "%s", pn_get_str(c, "host_if", ""));
        n->port = (unsigned)pn_get_uint(c, "port", 0);
        nd->nnics++;
    }
    return nd;
}

/* In name order, so that when damaged files claim one number twice the
 * same node wins every time. */
void vm_load_all(vm_t *vm)
{
    struct dirent **list = NULL;
    int n = scandir(vm->nodes_dir, &list, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        struct dirent *e = list[i];
        if (!pn_name_valid(e->d_name))
            continue;
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s/node.mp", vm->nodes_dir, e->d_name);
        pn_val_t *v = NULL;
        if (pn_state_load(path, &v) < 0 || !v) {
            pn_warn("vmd: cannot load %s; ignoring that node", path);
            continue;
        }
        vm_node_t *nd = vm_node_from_val(vm, v);
        pn_val_free(v);
        if (nd && strcmp(nd->name, e->d_name) != 0) {
            pn_warn("vmd: %s names node '%s', not '%s'; ignoring it", path, nd->name, e->d_name);
            vm_node_free(nd);
            continue;
        }
        if (!nd) {
            pn_warn("vmd: %s is not a valid node; ignoring it", path);
            continue;
        }
        nd->next = vm->nodes;
        vm->nodes = nd;
        vm->nnodes++;
    }
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}
