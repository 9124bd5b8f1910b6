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

static void s_lan_ready(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg);

/* The management LAN and the host's own tap on it (once per vmd).  Two
 * nodes may make it ready at once: switchd answers in order, so the first
 * tap.add's answer (and the address) comes before the second's refusal,
 * which then finds the tap there. */
static void s_mgmt_tap_added(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    char path[128], msg[512];
    snprintf(path, sizeof(path), "/sys/class/net/%s", vm->mgmt_if);
    if (code != PN_OK && access(path, F_OK) == 0)
        code = PN_OK; /* made by a start that went first */
    else if (code == PN_OK) {
        char addr[64];
        snprintf(addr, sizeof(addr), "%s.255.254/16", vm->mgmt_prefix);
        code = vm_host_link_addr_up(vm->mgmt_if, addr, msg, sizeof(msg)) < 0 ? PN_EINTERNAL : PN_OK;
        err = msg;
    }
    if (code == PN_OK)
        vm->mgmt_ready = true;
    s_lan_ready(vm, code, NULL, err, arg);
}

static void s_mgmt_lan_added(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/net/%s", vm->mgmt_if);
    if (code != PN_OK || access(path, F_OK) == 0) {
        if (code == PN_OK)
            vm->mgmt_ready = true;
        s_lan_ready(vm, code, NULL, err, arg);
        return;
    }
    vm_peer_tap_add(vm, "mgmt", NULL, NULL, vm->mgmt_if, NULL, s_mgmt_tap_added, arg);
}

static void s_lans_next(vm_t *vm, vm_pend_t *p)
{
    for (; p->i < p->nnics; p->i++) {
        const vm_nic_t *c = &p->nics[p->i];
        if (strcmp(c->lan, "mgmt") != 0) {
            vm_peer_lan_show(vm, c->lan, s_lan_ready, p);
            return;
        }
        if (p->with_mgmt && !vm->mgmt_ready) {
            vm_peer_lan_ensure(vm, "mgmt", s_mgmt_lan_added, p);
            return;
        }
    }
    p->then(vm, p, PN_OK, "");
}

static void s_lan_ready(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    vm_pend_t *p = arg;
    if (code != PN_OK) {
        p->then(vm, p, code, err);
        return;
    }
    p->i++;
    s_lans_next(vm, p);
}

void vm_lans_ready(vm_t *vm, vm_pend_t *p, bool with_mgmt, vm_step_fn then)
{
    p->with_mgmt = with_mgmt;
    p->then = then;
    p->i = 0;
    s_lans_next(vm, p);
}

/* ------------------------------------------------------------- nic.add */

static void s_plugged(vm_t *vm, vm_pend_t *p, int code, const char *err)
{
    vm_node_t *nd = p->nd;
    if (code == PN_OK)
        nd->nics[nd->nnics++] = p->nic;
    vm_pend_end(vm, p, code, err);
}

static void s_guest_config(vm_t *vm, vm_pend_t *p);

/* Into the running guest: a tap in an ns node's namespace, a hot-plugged
 * NIC in a UML (mconsole) or qemu (QMP) guest. */
static void s_plug_in(vm_t *vm, vm_pend_t *p, int code, const char *err)
{
    vm_node_t *nd = p->nd;
    vm_nic_t *c = &p->nic;
    if (code != PN_OK || nd->state != VM_RUNNING) {
        s_plugged(vm, p, code, err);
        return;
    }
    if (nd->kind == VM_NS) {
        vm_ns_nic_in(vm, p, c, s_plugged);
        return;
    }
    char path[4300], cmd[8192], msg[1024] = "";
    vm_peer_port_claim(vm, nd, c, nd->guest_pid);
    if (nd->kind == VM_UML) {
        char nic[4400], reply[600];
        vm_uml_nic_arg(nic, sizeof(nic), c);
        snprintf(cmd, sizeof(cmd), "config %s", nic);
        vm_node_dir(vm, nd, "uml/mconsole", path, sizeof(path));
        if (vm_mconsole(path, cmd, reply, sizeof(reply), 5000) < 0) {
            snprintf(msg, sizeof(msg), "UML refused %s: %s", c->ifname, reply);
            s_plugged(vm, p, PN_EINTERNAL, msg);
            return;
        }
        s_guest_config(vm, p);
        return;
    }
    char mac[18], lan[4200];
    pn_mac_format(c->mac, mac);
    vm_lan_dir(c->lan, lan, sizeof(lan));
    vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"vde\",\"id\":\"net-%s\",\"sock\":\"%s\"}}",
             c->ifname, lan);
    if (vm_qmp(path, cmd, msg, sizeof(msg), 5000) < 0) {
        s_plugged(vm, p, PN_EINTERNAL, msg);
        return;
    }
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"netdev\":\"net-%s\","
             "\"mac\":\"%s\",\"id\":\"dev-%s\"}}",
             c->ifname, mac, c->ifname);
    if (vm_qmp(path, cmd, msg, sizeof(msg), 5000) < 0) {
        char e2[256];
        snprintf(cmd, sizeof(cmd), "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net-%s\"}}", c->ifname);
        vm_qmp(path, cmd, e2, sizeof(e2), 5000);
        s_plugged(vm, p, PN_EINTERNAL, msg);
        return;
    }
    s_guest_config(vm, p);
}

static void s_plug_first(vm_t *vm, vm_pend_t *p)
{
    p->nics = &p->nic;
    p->nnics = 1;
    vm_lans_ready(vm, p, true, s_plug_in);
}

int vm_nic_plug(vm_t *vm, vm_node_t *nd, const vm_nic_t *nic, vm_done_fn done, void *arg)
{
    return vm_pend_run(vm, nd, PN_OPNAME(NIC_ADD), nic, s_plug_first, done, arg);
}

/* -------------------------------------------- the guest's part, by agent */

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

/* How long configuring a hot-plugged NIC through the agent may take in all
 * (the exec waits up to 60 s for the agent of a node still booting):
 * $PLUGNET_VMD_IFUP_MS (1000..600000), else 90 s. */
static unsigned s_ifup_deadline_ms(void)
{
    const char *v = getenv("PLUGNET_VMD_IFUP_MS");
    char *end = NULL;
    unsigned long ms = v && *v ? strtoul(v, &end, 10) : 0;
    return end && !*end && ms >= 1000 && ms <= 600000 ? (unsigned)ms : 90000;
}

/* Why a job failed, in one line: what it said (its lines joined, the
 * CLI's "plugnet: " prefix dropped), or its deadline. */
static void s_job_why(char *why, size_t len, int status, const char *out, unsigned deadline_ms)
{
    if (status == VM_JOB_TIMEOUT) {
        snprintf(why, len, "the agent did not answer within %.1f s", deadline_ms / 1000.0);
        return;
    }
    size_t n = 0;
    why[0] = 0;
    while (*out && n + 1 < len) {
        size_t l = strcspn(out, "\n");
        const char *line = strncmp(out, "plugnet: ", 9) == 0 && l >= 9 ? out + 9 : out;
        size_t ll = l - (size_t)(line - out);
        if (ll) {
            int w = snprintf(why + n, len - n, "%s%.*s", n ? "; " : "", (int)ll, line);
            n = w < 0 ? len : n + (size_t)w;
        }
        out += l + (out[l] == '\n');
    }
    if (!why[0])
        snprintf(why, len, "plugnet exec failed with status %d", status);
}

/* The guest's part of nic.add ended (from the loop).  The NIC stays
 * plugged and in the spec whatever happened: its next boot configures it
 * from the config disk.  A failure says so, and what was not applied. */
static void s_ifup_done(vm_t *vm, int status, const char *out, void *arg)
{
    vm_pend_t *p = arg;
    vm_nic_t *c = &p->nic;
    p->job = NULL; /* it is gone already */
    if (status == 0) {
        vm_pend_end(vm, p, PN_OK, "");
        return;
    }
    char why[600], err[1400];
    s_job_why(why, sizeof(why), status, out, s_ifup_deadline_ms());
    snprintf(err, sizeof(err),
             "%s is plugged into LAN '%s' but not configured in the guest (%s%s%snot up): %s; the NIC stays and the "
             "node's next boot configures it",
             c->ifname, c->lan, c->ip[0] ? "address " : "", c->ip, c->ip[0] ? " not applied, link " : "link ", why);
    /* 255: plugnet exec could not reach the agent (none up, no agentd). */
    vm_pend_end(vm, p, status == 255 || status == VM_JOB_TIMEOUT ? PN_EUNAVAIL : PN_EINTERNAL, err);
}

/* A NIC just hot-plugged into a UML or qemu guest joins the spec, then is
 * configured in the guest through the node's agent (`plugnet exec`, a
 * job: the loop never waits): found by its MAC (a qemu guest needs a
 * moment to see the device: the wait is in the guest, bounded), named as
 * the spec says when that name is free, brought up, given its address. */
static void s_guest_config(vm_t *vm, vm_pend_t *p)
{
    vm_node_t *nd = p->nd;
    vm_nic_t *c = &p->nic;
    nd->nics[nd->nnics++] = *c;
    char cli[4200], mac[18], script[2048], why[400];
    s_cli_path(cli, sizeof(cli));
    pn_mac_format(c->mac, mac);
    snprintf(script, sizeof(script),
             "m=%s; want=%s; a=%s\n"
             "command -v ip >/dev/null 2>&1 || { echo \"the guest has no ip(8)\"; exit 5; }\n"
             "i=0; d=\n"
             "while :; do\n"
             "  for p in /sys/class/net/*; do [ \"$(cat $p/address 2>/dev/null)\" = $m ] && d=${p##*/}; done\n"
             "  [ -n \"$d\" ] && break\n"
             "  [ $i -ge 300 ] && { echo \"no interface with MAC $m appeared in the guest within 30 s\"; exit 3; }\n"
             "  i=$((i+1)); sleep 0.1 2>/dev/null || usleep 100000 2>/dev/null || sleep 1\n"
             "done\n"
             "if [ \"$d\" != \"$want\" ] && [ ! -e /sys/class/net/$want ] && ip link set dev $d name $want "
             "2>/dev/null; then d=$want; fi\n"
             "ip link set dev $d up || { echo \"cannot bring $d up\"; exit 4; }\n"
             "[ -z \"$a\" ] && exit 0\n"
             "ip addr show dev $d | grep -q \" $a \" && exit 0\n"
             "case $a in\n"
             "*:*) ip -6 addr add $a dev $d nodad 2>/dev/null || ip -6 addr add $a dev $d ;;\n"
             "*) ip -4 addr add $a dev $d ;;\n"
             "esac || { echo \"cannot add $a to $d\"; exit 4; }\n",
             mac, c->ifname, c->ip);
    char *argv[] = { cli, (char *)"exec", nd->name, (char *)"--timeout", (char *)"30", (char *)"--", (char *)"sh",
                     (char *)"-c", script, NULL };
    p->job = vm_job_start(vm, argv, s_ifup_deadline_ms(), s_ifup_done, p, why, sizeof(why));
    if (!p->job)
        s_ifup_done(vm, 255, why, p);
}

/* ------------------------------------------------------------- nic.del */

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

/* The exec taking the interface down ended (from the loop). */
static void s_ifdown_done(vm_t *vm, int status, const char *out, void *arg)
{
    vm_pend_t *p = arg;
    vm_node_t *nd = p->nd;
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
    vm_pend_end(vm, p, code, err);
}

/* Start taking the guest's interface with c's MAC down through the node's
 * agent (`plugnet exec`), without waiting: s_ifdown_done continues.  0, or
 * -1 with why set. */
static int s_agent_ifdown_start(vm_t *vm, vm_pend_t *p, char *why, size_t whylen)
{
    char cli[4200], mac[18], script[512];
    s_cli_path(cli, sizeof(cli));
    pn_mac_format(p->nic.mac, mac);
    snprintf(script, sizeof(script),
             "for p in /sys/class/net/*; do if [ \"$(cat $p/address)\" = %s ]; then ip link set \"${p##*/}\" down; "
             "exit $?; fi; done; echo \"no interface has the MAC %s\" >&2; exit 1",
             mac, mac);
    /* --wait: an agent reconnecting (down for a moment) is waited for. */
    char *argv[] = { cli, (char *)"exec", p->nd->name, (char *)"--wait", (char *)"10", (char *)"--timeout",
                     (char *)"10", (char *)"--", (char *)"sh", (char *)"-c", script, NULL };
    p->job = vm_job_start(vm, argv, s_ifdown_deadline_ms(), s_ifdown_done, p, why, whylen);
    return p->job ? 0 : -1;
}

/* switchd's view of the NIC's LAN came: unplug the NIC's port(s) there,
 * then take it down in the guest. */
static void s_uml_ports_got(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    vm_pend_t *p = arg;
    vm_nic_t *c = &p->nic;
    unsigned ports[4];
    int np = code == PN_OK ? vm_uml_ports(data, c->mac, p->nd->guest_pid, ports, 4) : 0;
    for (int i = 0; i < np; i++)
        vm_peer_port_del(vm, c->lan, ports[i]);
    p->np = np;
    char why[400], msg[1024];
    if (s_agent_ifdown_start(vm, p, why, sizeof(why)) == 0)
        return;
    s_uml_nic_refusal(msg, sizeof(msg), c->ifname, np, why);
    vm_pend_end(vm, p, PN_EBUSY, msg);
}

/* UML removes (mconsole "remove ethN") only an interface that is down in
 * the guest.  When it is up: unplug its port at the switch (no frame passes
 * from now on), take it down through the node's agent, and remove it.  The
 * switch's and the agent's parts run in the background. */
static void s_uml_nic_del(vm_t *vm, vm_pend_t *p)
{
    vm_nic_t *c = &p->nic;
    char path[4300], cmd[64], reply[600], msg[1024];
    snprintf(cmd, sizeof(cmd), "remove %s", c->ifname);
    vm_node_dir(vm, p->nd, "uml/mconsole", path, sizeof(path));
    if (vm_mconsole(path, cmd, reply, sizeof(reply), 5000) == 0) {
        vm_pend_end(vm, p, PN_OK, "");
        return;
    }
    if (!strstr(reply, "open")) {
        snprintf(msg, sizeof(msg), "UML refused to remove %s: %s", c->ifname, reply);
        vm_pend_end(vm, p, PN_EINTERNAL, msg);
        return;
    }
    vm_peer_lan_show(vm, c->lan, s_uml_ports_got, p);
}

/* The guest's check after a qemu device_del ended.  The NIC is gone from
 * the host's side either way (no frame passes), so the op succeeds; what
 * the guest kept is logged. */
static void s_qemu_gone_done(vm_t *vm, int status, const char *out, void *arg)
{
    vm_pend_t *p = arg;
    p->job = NULL;
    char why[600];
    if (status != 0 || out[0]) {
        s_job_why(why, sizeof(why), status, out, s_ifdown_deadline_ms());
        pn_notice("vmd: %s: nic.del %s: %s%s", p->nd->name, p->ifname,
                  status ? "the guest could not be checked for a leftover interface: " : "", why);
    }
    vm_pend_end(vm, p, PN_OK, "");
}

/* A qemu guest releases an unplugged device when it acknowledges the
 * unplug (ACPI), a moment later: the op waits for that through the agent
 * (bounded, in the guest), and when the guest keeps the device, its
 * addresses are flushed and it is taken down, so no stale address stays. */
static void s_qemu_gone_start(vm_t *vm, vm_pend_t *p)
{
    char cli[4200], mac[18], script[1024], why[400];
    s_cli_path(cli, sizeof(cli));
    pn_mac_format(p->nic.mac, mac);
    snprintf(script, sizeof(script),
             "m=%s; i=0\n"
             "while :; do\n"
             "  d=; for p in /sys/class/net/*; do [ \"$(cat $p/address 2>/dev/null)\" = $m ] && d=${p##*/}; done\n"
             "  [ -z \"$d\" ] && exit 0\n"
             "  [ $i -ge 50 ] && break\n"
             "  i=$((i+1)); sleep 0.1 2>/dev/null || usleep 100000 2>/dev/null || sleep 1\n"
             "done\n"
             "ip addr flush dev $d; ip link set dev $d down\n"
             "echo \"the guest kept $d (MAC $m) 5 s after the unplug: its addresses were flushed and it is down\"\n",
             mac);
    char *argv[] = { cli, (char *)"exec", p->nd->name, (char *)"--wait", (char *)"10", (char *)"--timeout",
                     (char *)"10", (char *)"--", (char *)"sh", (char *)"-c", script, NULL };
    p->job = vm_job_start(vm, argv, s_ifdown_deadline_ms(), s_qemu_gone_done, p, why, sizeof(why));
    if (!p->job)
        s_qemu_gone_done(vm, 255, why, p);
}

static void s_unplug_first(vm_t *vm, vm_pend_t *p)
{
    vm_node_t *nd = p->nd;
    vm_nic_t *c = &p->nic;
    if (nd->state != VM_RUNNING) {
        vm_pend_end(vm, p, PN_OK, "");
        return;
    }
    if (nd->kind == VM_NS) {
        vm_ns_nic_out(vm, nd, c);
        vm_pend_end(vm, p, PN_OK, "");
        return;
    }
    vm_peer_port_claim(vm, nd, c, 0);
    if (nd->kind == VM_UML) {
        s_uml_nic_del(vm, p);
        return;
    }
    char path[4300], cmd[512], msg[1024];
    vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"dev-%s\"}}", c->ifname);
    if (vm_qmp(path, cmd, msg, sizeof(msg), 5000) < 0) {
        vm_pend_end(vm, p, PN_EINTERNAL, msg);
        return;
    }
    /* The netdev goes at once: traffic stops even before the guest
     * acknowledges the unplug. */
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net-%s\"}}", c->ifname);
    char e2[256];
    vm_qmp(path, cmd, e2, sizeof(e2), 5000);
    s_qemu_gone_start(vm, p);
}

int vm_nic_unplug(vm_t *vm, vm_node_t *nd, const vm_nic_t *nic, vm_done_fn done, void *arg)
{
    return vm_pend_run(vm, nd, PN_OPNAME(NIC_DEL), nic, s_unplug_first, done, arg);
}

/* ------------------------------------------------------------ link.set */

typedef struct {
    vm_link_fn done;
    void *arg;
    char owner[96];
    char lan[16];
    unsigned tap_port;  /* ns: the NIC's tap port */
    bool up;
    unsigned left, nports;
    int code;
    char err[512];
    pn_val_t *data;
} link_ctx_t;

static void s_link_end(vm_t *vm, link_ctx_t *k)
{
    if (k->code == PN_OK) {
        pn_map_set_uint(k->data, "ports", k->nports);
        k->done(vm, PN_OK, "", k->data, k->arg);
    } else {
        pn_val_free(k->data);
        k->done(vm, k->code, k->err, NULL, k->arg);
    }
    free(k);
}

static void s_link_port_set(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    link_ctx_t *k = arg;
    if (code != PN_OK && k->code == PN_OK) {
        k->code = code;
        snprintf(k->err, sizeof(k->err), "switchd: %s", err);
    }
    if (--k->left == 0)
        s_link_end(vm, k);
}

static void s_link_ports(vm_t *vm, int code, pn_val_t *data, const char *err, void *arg)
{
    link_ctx_t *k = arg;
    if (code != PN_OK) {
        k->code = code;
        snprintf(k->err, sizeof(k->err), "switchd: %s", err);
        s_link_end(vm, k);
        return;
    }
    unsigned ids[8];
    pn_val_t *pv = pn_get(data, "ports");
    for (size_t i = 0; i < pn_len(pv) && k->nports < 8; i++) {
        pn_val_t *p = pn_at(pv, i);
        unsigned id = (unsigned)pn_get_uint(p, "port", 0);
        if ((k->tap_port && id == k->tap_port) || strcmp(pn_get_str(p, "owner", ""), k->owner) == 0)
            ids[k->nports++] = id;
    }
    if (!k->nports) {
        k->code = PN_ENOTFOUND;
        snprintf(k->err, sizeof(k->err),
                 "LAN '%s' has no port named %s (is the guest connected? see plugnet port ls %s)", k->lan,
                 k->owner, k->lan);
        s_link_end(vm, k);
        return;
    }
    k->left = k->nports;
    for (unsigned i = 0; i < k->nports; i++)
        vm_peer_port_set(vm, k->lan, ids[i], k->up, s_link_port_set, k);
}

int vm_link_set(vm_t *vm, vm_node_t *nd, const vm_nic_t *nic, bool up, vm_link_fn done, void *arg, char *err,
                size_t errlen)
{
    if (nd->state != VM_RUNNING) {
        snprintf(err, errlen, "node '%s' is %s; a link is set on a running node", nd->name, vm_state_name(nd->state));
        return PN_EBUSY;
    }
    const char *carrier = "follows", *note = "";
    if (nd->kind == VM_QEMU) {
        /* The NIC's link status: virtio-net tells the guest, which drops
         * the carrier (NO-CARRIER, LOWER_UP gone). */
        char path[4300], cmd[256];
        vm_node_dir(vm, nd, "qmp.sock", path, sizeof(path));
        snprintf(cmd, sizeof(cmd), "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"dev-%s\",\"up\":%s}}",
                 nic->ifname, up ? "true" : "false");
        char msg[512];
        if (vm_qmp(path, cmd, msg, sizeof(msg), 5000) < 0) {
            snprintf(err, errlen, "qemu refused set_link on %s: %s", nic->ifname, msg);
            return PN_EINTERNAL;
        }
    } else if (nd->kind == VM_UML) {
        /* UML's network drivers have no link state to change: the port
         * drops the frames, the guest's interface stays LOWER_UP. */
        carrier = "kept";
        note = "uml: the guest keeps its carrier; frames are dropped";
    }
    link_ctx_t *k = malloc(sizeof(*k));
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return PN_EINTERNAL;
    }
    *k = (link_ctx_t){ .done = done, .arg = arg, .up = up, .tap_port = nd->kind == VM_NS ? nic->port : 0 };
    snprintf(k->owner, sizeof(k->owner), "%s:%s", nd->name, nic->ifname);
    snprintf(k->lan, sizeof(k->lan), "%s", nic->lan);
    k->data = pn_map();
    pn_map_set_str(k->data, "node", nd->name);
    pn_map_set_str(k->data, "ifname", nic->ifname);
    pn_map_set_str(k->data, "lan", nic->lan);
    pn_map_set_str(k->data, "kind", vm_kind_name(nd->kind));
    pn_map_set_str(k->data, "state", up ? "up" : "down");
    pn_map_set_str(k->data, "carrier", carrier);
    if (note[0])
        pn_map_set_str(k->data, "note", note);
    vm_peer_lan_show(vm, nic->lan, s_link_ports, k);
    return VM_PENDING;
}
