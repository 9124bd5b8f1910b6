/* vm_nic: NICs plugged into and out of running nodes, and the management
 * LAN they may sit on. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"
#include "vm_ctl.h"
#include "vm_net.h"

/* The management LAN and the host's own tap on it (once per vmd). */
int vm_mgmt_ready(vm_t *vm, char *err, size_t errlen)
{
    if (vm->mgmt_ready)
        return PN_OK;
    int r = vm_peer_lan_ensure("mgmt", err, errlen);
    if (r != PN_OK)
        return r;
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/net/%s", vm->mgmt_if);
    if (access(path, F_OK) != 0) {
        char ifn[16];
        unsigned port;
        snprintf(ifn, sizeof(ifn), "%s", vm->mgmt_if);
        r = vm_peer_tap_add("mgmt", NULL, NULL, ifn, &port, err, errlen);
        if (r != PN_OK)
            return r;
        char addr[64];
        snprintf(addr, sizeof(addr), "%s.255.254/16", vm->mgmt_prefix);
        r = vm_host_link_addr_up(vm->mgmt_if, addr, err, errlen);
        if (r != PN_OK)
            return r;
    }
    vm->mgmt_ready = true;
    return PN_OK;
}


int vm_nic_plug(vm_t *vm, vm_node_t *nd, vm_nic_t *c, char *err, size_t errlen)
{
    int r;
    if (strcmp(c->lan, "mgmt") == 0)
        r = vm_mgmt_ready(vm, err, errlen);
    else
        r = vm_peer_lan_exists(c->lan, err, errlen);
    if (r != PN_OK)
        return r;
    if (nd->state != VM_RUNNING)
        return PN_OK;
    char path[4300], cmd[8192];
    if (nd->kind == VM_NS)
        return vm_ns_nic_in(vm, nd, c, err, errlen);
    if (nd->kind == VM_UML) {
        char nic[4400], reply[600];
        vm_uml_nic_arg(nic, sizeof(nic), c);
        snprintf(cmd, sizeof(cmd), "config %s", nic);
        vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
        if (vm_mconsole(path, cmd, reply, sizeof(reply), 5000) < 0) {
            snprintf(err, errlen, "UML refused %s: %s", c->ifname, reply);
            return PN_EINTERNAL;
        }
        return PN_OK;
    }
    char mac[18], lan[4200];
    pn_mac_format(c->mac, mac);
    vm_lan_dir(c->lan, lan, sizeof(lan));
    vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"vde\",\"id\":\"net-%s\",\"sock\":\"%s\"}}",
             c->ifname, lan);
    if (vm_qmp(path, cmd, err, errlen, 5000) < 0)
        return PN_EINTERNAL;
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"netdev\":\"net-%s\","
             "\"mac\":\"%s\",\"id\":\"dev-%s\"}}",
             c->ifname, mac, c->ifname);
    if (vm_qmp(path, cmd, err, errlen, 5000) < 0) {
        char e2[256];
        snprintf(cmd, sizeof(cmd), "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net-%s\"}}", c->ifname);
        vm_qmp(path, cmd, e2, sizeof(e2), 5000);
        return PN_EINTERNAL;
    }
    return PN_OK;
}

/* The plugnet CLI: $PLUGNET_CLI, else plugnet next to this binary, else
 * plugnet on PATH. */
static void s_cli_path(char *out, size_t len)
{
    const char *env = getenv("PLUGNET_CLI");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(out, len, "%s/plugnet", exe);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, len, "plugnet");
}

/* How long the take-down through the agent may take in all (the exec
 * itself gives up after 10 s when the agent does not come up):
 * $PLUGNET_VMD_IFDOWN_MS (1000..600000, tests shorten it), else 15 s. */
static unsigned s_ifdown_deadline_ms(void)
{
    const char *v = getenv("PLUGNET_VMD_IFDOWN_MS");
    char *end = NULL;
    unsigned long ms = v && *v ? strtoul(v, &end, 10) : 0;
    return end && !*end && ms >= 1000 && ms <= 600000 ? (unsigned)ms : 15000;
}

/* The refusal when an interface up in a UML guest could not be removed. */
static void s_uml_nic_refusal(char *err, size_t errlen, const char *ifname, int np, const char *why)
{
    snprintf(err, errlen,
             "%s is up in the guest and UML removes only an interface that is down; %s, but it could not be taken "
             "down through the node's agent (%s): run 'ip link set %s down' in the guest and repeat nic del",
             ifname,
             np > 0    ? "it is unplugged from its LAN (no traffic passes)"
             : np < 0  ? "which of the node's ports on its LAN it holds is unclear, so none was unplugged"
                       : "it holds no port on its LAN",
             why, ifname);
}

static void s_pend_free(vm_t *vm, vm_node_t *nd)
{
    (void)vm;
    if (!nd->pend)
        return;
    vm_job_cancel(&nd->pend->job);
    free(nd->pend);
    nd->pend = NULL;
}

void vm_pend_abort(vm_t *vm, vm_node_t *nd, int code, const char *fmt, ...)
{
    if (!nd->pend)
        return;
    pn_req_t *req = nd->pend->req;
    char what[32], msg[768];
    snprintf(what, sizeof(what), "%s", nd->pend->what);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s_pend_free(vm, nd);
    pn_notice("vmd: %s: %s ended: %s", nd->name, what, msg);
    if (req)
        pn_req_fail(req, code, "%s", msg);
}

/* The exec taking the interface down ended (from the loop). */
static void s_ifdown_done(vm_t *vm, int status, const char *out, void *arg)
{
    vm_node_t *nd = arg;
    vm_pend_t *p = nd->pend;
    if (!p)
        return;
    p->job = NULL; /* it is gone already */
    char path[4300], cmd[64], reply[600], why[400];
    snprintf(cmd, sizeof(cmd), "remove %s", p->ifname);
    vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
    int code = PN_OK;
    char err[1024] = "";
    if (status == 0) {
        /* The exec returned once ip(8) closed the device: UML sees it down. */
        bool removed = false;
        for (int i = 0; i < 3 && !removed; i++)
            removed = vm_mconsole(path, cmd, reply, sizeof(reply), 5000) == 0;
        if (!removed) {
            snprintf(why, sizeof(why), "UML still refuses: %s", reply);
            s_uml_nic_refusal(err, sizeof(err), p->ifname, p->np, why);
            code = PN_EBUSY;
        }
    } else {
        char line[512];
        snprintf(line, sizeof(line), "%s", out);
        line[strcspn(line, "\n")] = 0;
        const char *msg = strncmp(line, "plugnet: ", 9) == 0 ? line + 9 : line;
        if (status == VM_JOB_TIMEOUT)
            snprintf(why, sizeof(why), "the agent did not answer within %.1f s", s_ifdown_deadline_ms() / 1000.0);
        else
            snprintf(why, sizeof(why), "%s", msg[0] ? msg : "plugnet exec failed");
        s_uml_nic_refusal(err, sizeof(err), p->ifname, p->np, why);
        code = PN_EBUSY;
    }
    pn_req_t *req = p->req;
    vm_nic_done_fn done = p->done;
    void *done_arg = p->done_arg;
    char ifname[8];
    snprintf(ifname, sizeof(ifname), "%s", p->ifname);
    free(p);
    nd->pend = NULL;
    done(vm, nd, req, ifname, code, err, done_arg);
}

/* Start taking the guest's interface with c's MAC down through the node's
 * agent (`plugnet exec`), without waiting: s_ifdown_done continues. */
static int s_agent_ifdown_start(vm_t *vm, vm_node_t *nd, const vm_nic_t *c, int np, vm_nic_done_fn done, void *arg,
                                char *why, size_t whylen)
{
    char cli[4200], mac[18], script[512];
    s_cli_path(cli, sizeof(cli));
    pn_mac_format(c->mac, mac);
    snprintf(script, sizeof(script),
             "for p in /sys/class/net/*; do if [ \"$(cat $p/address)\" = %s ]; then ip link set \"${p##*/}\" down; "
             "exit $?; fi; done; echo \"no interface has the MAC %s\" >&2; exit 1",
             mac, mac);
    /* --wait: an agent reconnecting (down for a moment) is waited for. */
    char *argv[] = { cli, (char *)"exec", nd->name, (char *)"--wait", (char *)"10", (char *)"--timeout", (char *)"10",
                     (char *)"--", (char *)"sh",
                     (char *)"-c", script, NULL };
    vm_pend_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(p->what, sizeof(p->what), "nic.del %s", c->ifname);
    snprintf(p->ifname, sizeof(p->ifname), "%s", c->ifname);
    p->np = np;
    p->done = done;
    p->done_arg = arg;
    p->since_ms = pn_mono_ms();
    p->job = vm_job_start(vm, argv, s_ifdown_deadline_ms(), s_ifdown_done, nd, why, whylen);
    if (!p->job) {
        free(p);
        return -1;
    }
    nd->pend = p;
    return 0;
}

/* UML removes (mconsole "remove ethN") only an interface that is down in
 * the guest.  When it is up: unplug its port at the switch (no frame passes
 * from now on), take it down through the node's agent, and remove it.  The
 * agent's part runs in the background (VM_PENDING). */
static int s_uml_nic_del(vm_t *vm, vm_node_t *nd, vm_nic_t *c, vm_nic_done_fn done, void *arg, char *err,
                         size_t errlen)
{
    char path[4300], cmd[64], reply[600];
    snprintf(cmd, sizeof(cmd), "remove %s", c->ifname);
    vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
    if (vm_mconsole(path, cmd, reply, sizeof(reply), 5000) == 0)
        return PN_OK;
    if (!strstr(reply, "open")) {
        snprintf(err, errlen, "UML refused to remove %s: %s", c->ifname, reply);
        return PN_EINTERNAL;
    }
    unsigned ports[4];
    int np = vm_peer_uml_ports(c->lan, c->mac, nd->guest_pid, ports, 4);
    for (int i = 0; i < np; i++)
        vm_peer_port_del(c->lan, ports[i]);
    char why[400];
    if (s_agent_ifdown_start(vm, nd, c, np, done, arg, why, sizeof(why)) == 0)
        return VM_PENDING;
    s_uml_nic_refusal(err, errlen, c->ifname, np, why);
    return PN_EBUSY;
}

int vm_nic_unplug(vm_t *vm, vm_node_t *nd, vm_nic_t *c, vm_nic_done_fn done, void *arg, char *err, size_t errlen)
{
    if (nd->state != VM_RUNNING)
        return PN_OK;
    char path[4300], cmd[512];
    if (nd->kind == VM_NS) {
        vm_ns_nic_out(vm, nd, c);
        return PN_OK;
    }
    if (nd->kind == VM_UML)
        return s_uml_nic_del(vm, nd, c, done, arg, err, errlen);
    vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"dev-%s\"}}", c->ifname);
    if (vm_qmp(path, cmd, err, errlen, 5000) < 0)
        return PN_EINTERNAL;
    /* The netdev goes at once: traffic stops even before the guest
     * acknowledges the unplug. */
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net-%s\"}}", c->ifname);
    char e2[256];
    vm_qmp(path, cmd, e2, sizeof(e2), 5000);
    return PN_OK;
}
