/* vm_pend: an op in progress on a node (see vm_pend_t in vm.h): made, run,
 * ended once, by its own last step or by an abort from outside. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

vm_pend_t *vm_pend_new(vm_node_t *nd, const char *what, vm_done_fn done, void *arg)
{
    vm_pend_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    snprintf(p->what, sizeof(p->what), "%s", what);
    p->nd = nd;
    p->since_ms = pn_mono_ms();
    p->done = done;
    p->done_arg = arg;
    nd->pend = p;
    return p;
}

int vm_pend_run(vm_t *vm, vm_node_t *nd, const char *what, const vm_nic_t *nic, void (*first)(vm_t *vm, vm_pend_t *p),
                vm_done_fn done, void *arg)
{
    char w[32];
    snprintf(w, sizeof(w), nic ? "%s %s" : "%s", what, nic ? nic->ifname : "");
    if (nd->pend) {
        char err[96];
        snprintf(err, sizeof(err), "%s is in progress", nd->pend->what);
        done(vm, nd, PN_EBUSY, err, false, arg);
        return 0;
    }
    vm_pend_t *p = vm_pend_new(nd, w, done, arg);
    if (!p) {
        done(vm, nd, PN_EINTERNAL, "out of memory", false, arg);
        return 0;
    }
    if (nic) {
        p->nic = *nic;
        snprintf(p->ifname, sizeof(p->ifname), "%s", nic->ifname);
    }
    return vm_pend_go(vm, p, first);
}

int vm_pend_go(vm_t *vm, vm_pend_t *p, void (*first)(vm_t *vm, vm_pend_t *p))
{
    bool ended = false;
    p->ended = &ended;
    first(vm, p);
    if (ended)
        return 0;
    p->ended = NULL;
    return VM_PENDING;
}

static void s_end(vm_t *vm, vm_pend_t *p, int code, const char *err, bool aborted)
{
    vm_node_t *nd = p->nd;
    if (nd->pend == p)
        nd->pend = NULL;
    vm_peer_cancel(vm, p);
    vm_agentd_cancel(p);
    vm_job_cancel(&p->job);
    if (p->ended)
        *p->ended = true;
    vm_done_fn done = p->done;
    void *arg = p->done_arg;
    free(p->argv);
    free(p);
    if (done)
        done(vm, nd, code, err ? err : "", aborted, arg);
}

void vm_pend_end(vm_t *vm, vm_pend_t *p, int code, const char *err)
{
    s_end(vm, p, code, err, false);
}

void vm_pend_abort(vm_t *vm, vm_node_t *nd, int code, const char *fmt, ...)
{
    vm_pend_t *p = nd->pend;
    if (!p || !vm_pend_busy(vm, nd))
        return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->undo)
        p->undo(vm, nd);
    pn_notice("vmd: %s: %s ended: %s", nd->name, p->what, msg);
    s_end(vm, p, code, msg, true);
}

bool vm_pend_busy(vm_t *vm, vm_node_t *nd)
{
    if (nd->pend && nd->pend->only_ack)
        s_end(vm, nd->pend, PN_OK, "", false);
    return nd->pend != NULL;
}
