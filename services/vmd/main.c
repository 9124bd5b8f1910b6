/* plugnet-vmd: node lifecycle (uml, qemu, ns).  See vm.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"

extern const pn_svc_op_t vm_ops[];

static void s_status(pn_svc_t *svc, pn_val_t *d)
{
    vm_t *vm = pn_svc_user(svc);
    unsigned by[6] = { 0 };
    for (vm_node_t *n = vm->nodes; n; n = n->next)
        if ((unsigned)n->state < 6)
            by[n->state]++;
    pn_map_set_uint(d, "nodes", vm->nnodes);
    pn_val_t *m = pn_map();
    for (int s = 0; s < 6; s++)
        pn_map_set_uint(m, vm_state_name((vm_state_t)s), by[s]);
    pn_map_set(d, "by_state", m);
    pn_map_set_str(d, "mgmt_prefix", vm->mgmt_prefix);
    pn_map_set_str(d, "image_manifest", vm->manifest);
}

/* SIGTERM: stop every node (a kill; vmd killed with SIGKILL leaves them
 * running for the next vmd to adopt). */
static void s_on_stop(pn_svc_t *svc)
{
    vm_t *vm = pn_svc_user(svc);
    for (vm_node_t *n = vm->nodes; n; n = n->next)
        if (n->pend)
            vm_pend_abort(vm, n, PN_EUNAVAIL, "vmd is stopping (with its nodes) while %s of node '%s' was in progress",
                          n->pend->what, n->name);
    for (vm_node_t *n = vm->nodes; n; n = n->next)
        if (n->state == VM_STARTING || n->state == VM_RUNNING || n->state == VM_STOPPING) {
            n->stop_requested = true;
            if (n->guest_pid > 1)
                kill(-n->guest_pid, SIGKILL);
        }
    for (vm_node_t *n = vm->nodes; n; n = n->next) {
        if (!(n->state == VM_STARTING || n->state == VM_RUNNING || n->state == VM_STOPPING))
            continue;
        for (int i = 0; i < 100 && n->mon_pid > 1; i++) {
            if (waitpid(n->mon_pid, NULL, WNOHANG) == n->mon_pid || kill(n->mon_pid, 0) < 0)
                break;
            usleep(20000);
        }
        n->mon_pid = 0;
        if (n->kind == VM_NS)
            vm_ns_teardown(vm, n);
        else
            for (unsigned i = 0; i < n->nnics; i++)
                vm_peer_port_del(vm, n->nics[i].lan, n->nics[i].port);
        vm_set_state(vm, n, VM_STOPPED);
    }
}

int main(int argc, char **argv)
{
    static vm_t vm;
    pn_svc_t *svc = pn_svc_new("vmd", vm_ops, &vm);
    if (!svc)
        return 1;
    vm.svc = svc;
    pn_svc_set_status_fn(svc, s_status);
    pn_svc_set_stop_fn(svc, s_on_stop);
    if (pn_svc_start(svc, argc, argv) < 0) {
        pn_svc_destroy(&svc);
        return 1;
    }
    snprintf(vm.nodes_dir, sizeof(vm.nodes_dir), "%s/nodes", pn_state_dir());
    pn_mkdirs(vm.nodes_dir, 0750);
    const char *pfx = getenv("PLUGNET_MGMT_PREFIX");
    snprintf(vm.mgmt_prefix, sizeof(vm.mgmt_prefix), "%s", pfx && *pfx ? pfx : "172.30");
    /* A short tag of the STATE dir names this instance's host objects
     * (netns, the mgmt tap), so labs with their own dirs never collide. */
    uint32_t h = 2166136261u;
    for (const char *p = pn_state_dir(); *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    snprintf(vm.tag, sizeof(vm.tag), "%05x", h & 0xfffff);
    snprintf(vm.mgmt_if, sizeof(vm.mgmt_if), "pnm%s", vm.tag);
    vm_manifest_load(&vm);
    vm_load_all(&vm);
    if (vm_peer_open(&vm) < 0) {
        pn_err("vmd: cannot make the clients of switchd and cfgdiskd");
        pn_svc_destroy(&svc);
        return 1;
    }
    vm_agentd_open(&vm);
    for (vm_node_t *n = vm.nodes; n; n = n->next)
        vm_adopt(&vm, n);
    int rc = pn_svc_run(svc);
    vm_agentd_close();
    vm_peer_close(&vm);
    pn_svc_destroy(&svc);
    return rc;
}
