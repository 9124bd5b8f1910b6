/* Every op of plugnet-vmd, in one table at the end. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"

static vm_t *s_vm(pn_svc_t *svc) { return pn_svc_user(svc); }

static vm_node_t *s_need(pn_svc_t *svc, pn_req_t *req, const char *key)
{
    const char *name = pn_get_str(pn_req_args(req), key, "");
    return pn_req_found(req, vm_node_find(s_vm(svc), name), "node", name);
}

static bool s_live(const vm_node_t *nd) { return vm_state_live(nd->state); }

/* An op in progress on the node (a held nic.del): refuse changes that
 * would race it, naming it. */
static bool s_busy(pn_req_t *req, vm_node_t *nd)
{
    if (!vm_pend_busy(nd->vm, nd))
        return false;
    uint64_t ms = pn_mono_ms() - nd->pend->since_ms;
    pn_req_fail(req, PN_EBUSY, "node '%s' is busy: %s is in progress (for %llu.%llu s); try again when it ends",
                nd->name, nd->pend->what, (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
    return true;
}

/* The node named by key, when it exists and no op is in progress on it. */
static vm_node_t *s_need_free(pn_svc_t *svc, pn_req_t *req, const char *key)
{
    vm_node_t *nd = s_need(svc, req, key);
    return nd && !s_busy(req, nd) ? nd : NULL;
}

/* NICs change on a running or a stopped node, not in between. */
static bool s_in_between(pn_req_t *req, const vm_node_t *nd)
{
    if (nd->state != VM_STARTING && nd->state != VM_STOPPING)
        return false;
    pn_req_fail(req, PN_EBUSY, "node '%s' is %s; try again when it is running or stopped", nd->name,
                vm_state_name(nd->state));
    return true;
}

/* An op that waited failed: err as it is when something else ended it
 * (it says so), else after what failed ("cannot start node 'x'"). */
static void s_fail(pn_req_t *req, int code, const char *err, bool aborted, const char *what)
{
    if (aborted)
        pn_req_fail(req, code, "%s", err);
    else
        pn_req_fail(req, code, "%s: %s", what, err);
}

/* An op that may wait: its request is held only when it does (replying
 * to a held request frees it, so a request answered at once must not be
 * held). */
static void s_maybe_hold(pn_req_t *req, int r)
{
    if (r == VM_PENDING)
        pn_req_hold(req);
}

/* node.start (or node.add --start) ended. */
static void s_started(vm_t *vm, vm_node_t *nd, int code, const char *err, bool aborted, void *arg)
{
    pn_req_t *req = arg;
    char what[64];
    snprintf(what, sizeof(what), "cannot start node '%s'", nd->name);
    if (code == PN_OK)
        pn_req_ok(req, vm_node_to_val(vm, nd, true));
    else
        s_fail(req, code, err, aborted, what);
}

static void s_added_started(vm_t *vm, vm_node_t *nd, int code, const char *err, bool aborted, void *arg)
{
    pn_req_t *req = arg;
    if (code == PN_OK)
        pn_req_ok(req, vm_node_to_val(vm, nd, true));
    else
        pn_req_fail(req, code, "node '%s' was defined but did not start: %s", nd->name, err);
}

/* node.add's LANs were checked (the node is not in vmd's list yet). */
static void s_added(vm_t *vm, vm_node_t *nd, int code, const char *err, bool aborted, void *arg)
{
    pn_req_t *req = arg;
    char msg[512];
    if (code == PN_OK && (vm_node_find(vm, nd->name) || vm_node_by_number(vm, nd->number))) {
        /* Another node.add took the name or number while this one waited. */
        snprintf(msg, sizeof(msg), "node '%s' or node number %u was added meanwhile", nd->name, nd->number);
        code = PN_EEXIST;
        err = msg;
    }
    if (code != PN_OK) {
        pn_req_fail(req, code, "%s", err);
        vm_node_free(nd);
        return;
    }
    int r = vm_node_save(vm, nd);
    if (r < 0) {
        pn_req_fail(req, PN_EINTERNAL, "cannot save node '%s' under %s: %s", nd->name, vm->nodes_dir, strerror(-r));
        vm_node_files_rm(vm, nd);
        vm_node_free(nd);
        return;
    }
    nd->next = vm->nodes;
    vm->nodes = nd;
    vm->nnodes++;
    pn_val_t *ev = pn_map();
    pn_map_set_str(ev, "name", nd->name);
    pn_svc_publish(vm->svc, "node", "node.added", ev);
    vm_set_state(vm, nd, VM_DEFINED);
    if (pn_get_bool(pn_req_args(req), "start", false))
        s_maybe_hold(req, vm_start(vm, nd, s_added_started, req));
    else
        pn_req_ok(req, vm_node_to_val(vm, nd, true));
}

/* Unknown LANs are refused now, not at the first start. */
static void s_add_checked(vm_t *vm, vm_pend_t *p, int code, const char *err)
{
    char msg[1024];
    if (code != PN_OK) {
        snprintf(msg, sizeof(msg), "%s: %s", p->nics[p->i].ifname, err);
        err = msg;
    }
    vm_pend_end(vm, p, code, err);
}

static void s_add_first(vm_t *vm, vm_pend_t *p)
{
    p->nics = p->nd->nics;
    p->nnics = p->nd->nnics;
    vm_lans_ready(vm, p, false, s_add_checked);
}

static void op_node_add(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    char err[512];
    int code;
    vm_node_t *nd = vm_node_from_args(vm, pn_req_args(req), &code, err, sizeof(err));
    if (!nd) {
        pn_req_fail(req, code, "%s", err);
        return;
    }
    s_maybe_hold(req, vm_pend_run(vm, nd, PN_OPNAME(NODE_ADD), NULL, s_add_first, s_added, req));
}

static void op_node_start(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need_free(svc, req, "name");
    if (!nd)
        return;
    if (s_live(nd)) {
        pn_req_fail(req, PN_EBUSY, "node '%s' is %s already", nd->name, vm_state_name(nd->state));
        return;
    }
    s_maybe_hold(req, vm_start(vm, nd, s_started, req));
}

static void op_node_stop(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need_free(svc, req, "name");
    if (!nd)
        return;
    if (!s_live(nd)) {
        pn_req_ok(req, vm_node_to_val(vm, nd, true));
        return;
    }
    if (nd->waiting) {
        pn_req_fail(req, PN_EBUSY, "node '%s' is being stopped already", nd->name);
        return;
    }
    unsigned t = (unsigned)pn_get_uint(pn_req_args(req), "timeout_ms", 5000);
    nd->waiting = pn_req_hold(req);
    if (nd->state != VM_STOPPING)
        vm_stop(vm, nd, t);
}

static void op_node_kill(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need(svc, req, "name");
    if (!nd)
        return;
    if (!s_live(nd)) {
        vm_pend_abort(vm, nd, PN_EUNAVAIL, "node '%s' was killed while %s was in progress", nd->name,
                      nd->pend ? nd->pend->what : "");
        pn_req_ok(req, vm_node_to_val(vm, nd, true));
        return;
    }
    vm_kill(vm, nd);
    if (nd->waiting)
        pn_req_fail(req, PN_EBUSY, "node '%s' is being stopped already; it was killed", nd->name);
    else
        nd->waiting = pn_req_hold(req);
}

static void op_node_reboot(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need(svc, req, "name");
    if (!nd)
        return;
    if (!s_live(nd)) { /* a start (a kill ends what is in progress on a live node) */
        if (!s_busy(req, nd))
            s_maybe_hold(req, vm_start(vm, nd, s_started, req));
        return;
    }
    nd->restart_after = true;
    vm_kill(vm, nd);
    pn_req_ok(req, vm_node_to_val(vm, nd, true));
}

static void s_unlink_node(vm_t *vm, vm_node_t *nd)
{
    if (PN_SLIST_REMOVE(vm->nodes, nd))
        vm->nnodes--;
}

static void op_node_del(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need(svc, req, "name");
    if (!nd)
        return;
    if (s_live(nd) && !pn_get_bool(pn_req_args(req), "force", false)) {
        pn_req_fail(req, PN_EBUSY, "node '%s' is %s: stop it first, or use force", nd->name, vm_state_name(nd->state));
        return;
    }
    if (nd->pend)
        vm_pend_abort(vm, nd, PN_ENOTFOUND, "node '%s' was deleted while %s was in progress", nd->name,
                      nd->pend->what);
    if (s_live(nd)) {
        /* Kill it and wait for the monitor here: deletion is final. */
        vm_kill(vm, nd);
        if (nd->mon_pid > 1 && nd->pidfd >= 0) {
            /* The monitor ends as soon as its guest has (bounded wait). */
            struct pollfd pf = { .fd = nd->pidfd, .events = POLLIN };
            (void)poll(&pf, 1, 2000);
            waitpid(nd->mon_pid, NULL, WNOHANG);
        }
        if (nd->watch)
            pn_loop_del(pn_svc_loop(vm->svc), nd->watch);
        if (nd->pidfd >= 0)
            close(nd->pidfd);
        if (nd->stop_timer)
            pn_loop_del_timer(pn_svc_loop(vm->svc), nd->stop_timer);
        if (nd->waiting)
            pn_req_fail(nd->waiting, PN_ENOTFOUND, "node '%s' was deleted", nd->name);
        nd->watch = NULL;
        nd->pidfd = -1;
        nd->stop_timer = NULL;
        nd->waiting = NULL;
        if (nd->kind == VM_NS)
            vm_ns_teardown(vm, nd);
        else
            for (unsigned i = 0; i < nd->nnics; i++)
                vm_peer_port_del(vm, nd->nics[i].lan, nd->nics[i].port);
        vm_agentd_unregister(nd);
    }
    if (nd->kind == VM_NS) {
        char ns[64], path[128];
        vm_ns_name(vm, nd, ns, sizeof(ns));
        snprintf(path, sizeof(path), "/run/netns/%s", ns);
        vm_netns_del(path);
    }
    s_unlink_node(vm, nd);
    vm_node_files_rm(vm, nd);
    pn_val_t *ev = pn_map();
    pn_map_set_str(ev, "name", nd->name);
    pn_svc_publish(svc, "node", "node.removed", ev);
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "name", nd->name);
    vm_node_free(nd);
    pn_req_ok(req, d);
}

static void op_node_ls(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    /* By node number: stable and readable. */
    vm_node_t **v = calloc(vm->nnodes + 1, sizeof(*v));
    unsigned n = 0;
    for (vm_node_t *nd = vm->nodes; nd && v; nd = nd->next)
        v[n++] = nd;
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1]->number > v[j]->number; j--) {
            vm_node_t *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    pn_val_t *arr = pn_arr();
    for (unsigned i = 0; i < n; i++)
        pn_arr_push(arr, vm_node_to_val(vm, v[i], false));
    free(v);
    pn_req_ok_with(req, "nodes", arr);
}

static void op_node_show(pn_svc_t *svc, pn_req_t *req)
{
    vm_node_t *nd = s_need(svc, req, "name");
    if (nd)
        pn_req_ok(req, vm_node_to_val(s_vm(svc), nd, true));
}

static void s_nic_event(vm_t *vm, vm_node_t *nd, const vm_nic_t *c, const char *type)
{
    char mac[18];
    pn_mac_format(c->mac, mac);
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "node", nd->name);
    pn_map_set_str(d, "ifname", c->ifname);
    pn_map_set_str(d, "lan", c->lan);
    pn_map_set_str(d, "mac", mac);
    pn_svc_publish(vm->svc, "nic", type, d);
}

/* A NIC op failed: "cannot VERB ethN PREP node 'x': err" (true), or not. */
static bool s_nic_failed(pn_req_t *req, const vm_node_t *nd, int code, const char *err, bool aborted, const char *verb,
                         const char *prep)
{
    if (code == PN_OK)
        return false;
    char what[96];
    snprintf(what, sizeof(what), "cannot %s %s %s node '%s'", verb, pn_get_str(pn_req_args(req), "ifname", "?"), prep,
             nd->name);
    s_fail(req, code, err, aborted, what);
    return true;
}

static void s_nic_added(vm_t *vm, vm_node_t *nd, int code, const char *err, bool aborted, void *arg)
{
    pn_req_t *req = arg;
    /* Plugged but not configured in the guest: the NIC is in the spec
     * (its next boot configures it), and the reply is an error saying
     * what was not applied. */
    int i = vm_nic_index(nd, pn_get_str(pn_req_args(req), "ifname", ""));
    if (i < 0) {
        if (!s_nic_failed(req, nd, code, err, aborted, "add", "to"))
            pn_req_ok(req, vm_node_to_val(vm, nd, true));
        return;
    }
    vm_node_save(vm, nd);
    s_nic_event(vm, nd, &nd->nics[i], "nic.added");
    if (code != PN_OK && aborted)
        pn_req_fail(req, code, "%s", err);
    else if (code != PN_OK)
        pn_req_fail(req, code, "node '%s': %s", nd->name, err);
    else
        pn_req_ok(req, vm_node_to_val(vm, nd, true));
}

static void op_nic_add(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need(svc, req, "node");
    if (!nd)
        return;
    if (s_in_between(req, nd) || s_busy(req, nd))
        return;
    vm_nic_t c;
    char err[1024];
    int r = vm_nic_from_args(vm, nd, pn_req_args(req), &c, err, sizeof(err));
    if (!s_nic_failed(req, nd, r, err, false, "add", "to"))
        s_maybe_hold(req, vm_nic_plug(vm, nd, &c, s_nic_added, req));
}

/* A nic.del ended (at once, or later once the guest's part ran). */
static void s_nic_deleted(vm_t *vm, vm_node_t *nd, int code, const char *err, bool aborted, void *arg)
{
    pn_req_t *req = arg;
    const char *ifname = pn_get_str(pn_req_args(req), "ifname", "");
    if (s_nic_failed(req, nd, code, err, aborted, "remove", "from"))
        return;
    int i = vm_nic_index(nd, ifname);
    if (i >= 0) {
        vm_nic_t c = nd->nics[i];
        memmove(&nd->nics[i], &nd->nics[i + 1], sizeof(nd->nics[0]) * (nd->nnics - (unsigned)i - 1));
        nd->nnics--;
        vm_node_save(vm, nd);
        s_nic_event(vm, nd, &c, "nic.removed");
    }
    pn_req_ok(req, vm_node_to_val(vm, nd, true));
}

static void op_nic_del(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need(svc, req, "node");
    if (!nd)
        return;
    const char *ifn = pn_get_str(pn_req_args(req), "ifname", "");
    int i = vm_nic_index(nd, ifn);
    if (i < 0) {
        pn_req_fail(req, PN_ENOTFOUND, "node '%s' has no %s", nd->name, ifn);
        return;
    }
    if (s_in_between(req, nd) || s_busy(req, nd))
        return;
    s_maybe_hold(req, vm_nic_unplug(vm, nd, &nd->nics[i], s_nic_deleted, req));
}

static void s_link_done(vm_t *vm, int code, const char *err, pn_val_t *data, void *arg)
{
    pn_req_t *req = arg;
    pn_val_t *a = pn_req_args(req);
    if (code == PN_OK)
        pn_req_ok(req, data);
    else
        pn_req_fail(req, code, "cannot set link %s:%s %s: %s", pn_get_str(a, "node", "?"), pn_get_str(a, "ifname", "?"),
                    pn_get_str(a, "state", "?"), err);
}

static void op_link_set(pn_svc_t *svc, pn_req_t *req)
{
    vm_t *vm = s_vm(svc);
    vm_node_t *nd = s_need(svc, req, "node");
    if (!nd)
        return;
    pn_val_t *a = pn_req_args(req);
    const char *ifn = pn_get_str(a, "ifname", "");
    int i = vm_nic_index(nd, ifn);
    if (i < 0) {
        pn_req_fail(req, PN_ENOTFOUND, "node '%s' has no %s", nd->name, ifn);
        return;
    }
    char err[1024];
    bool up = strcmp(pn_get_str(a, "state", "up"), "up") == 0;
    int r = vm_link_set(vm, nd, &nd->nics[i], up, s_link_done, req, err, sizeof(err));
    if (r == VM_PENDING)
        pn_req_hold(req);
    else
        pn_req_fail(req, r, "cannot set link %s:%s: %s", nd->name, ifn, err);
}

const pn_svc_op_t vm_ops[] = {
    { PN_OP_NODE_ADD, op_node_add },
    { PN_OP_NODE_START, op_node_start },
    { PN_OP_NODE_STOP, op_node_stop },
    { PN_OP_NODE_KILL, op_node_kill },
    { PN_OP_NODE_REBOOT, op_node_reboot },
    { PN_OP_NODE_DEL, op_node_del },
    { PN_OP_NODE_LS, op_node_ls },
    { PN_OP_NODE_SHOW, op_node_show },
    { PN_OP_NIC_ADD, op_nic_add },
    { PN_OP_NIC_DEL, op_nic_del },
    { PN_OP_LINK_SET, op_link_set },
    { NULL, NULL, NULL },
};
