/* vmd's guest command lines: UML and qemu argv built from a node's spec,
 * the NIC transports, the accelerator, disks, and the overflow guard. */
#include <stdlib.h>
#include <string.h>

#include "../../services/vmd/vm.h"
#include "../../services/vmd/vm_host.h"
#include "tap.h"

static vm_t vm;

/* Index of the argument equal to s, -1 when absent. */
static int find(const vm_argv_t *a, const char *s)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->v[i], s) == 0)
            return i;
    return -1;
}

/* The argument after flag equals want (qemu's "-flag value" pairs). */
static int after(const vm_argv_t *a, const char *flag, const char *want)
{
    for (int i = 0; i + 1 < a->n; i++)
        if (strcmp(a->v[i], flag) == 0 && strcmp(a->v[i + 1], want) == 0)
            return 1;
    return 0;
}

static vm_node_t *node(const char *name, vm_kind_t kind, unsigned number)
{
    vm_node_t *nd = calloc(1, sizeof(*nd));
    snprintf(nd->name, sizeof(nd->name), "%s", name);
    nd->kind = kind;
    nd->number = number;
    nd->mem = kind == VM_QEMU ? 128 : 64;
    nd->cpus = 1;
    nd->pidfd = -1;
    const char *lans[] = { "mgmt", "lan1" };
    for (unsigned e = 0; e < 2; e++) {
        vm_nic_t *c = &nd->nics[nd->nnics++];
        snprintf(c->ifname, sizeof(c->ifname), "eth%u", e);
        snprintf(c->lan, sizeof(c->lan), "%s", lans[e]);
        vm_seed_mac(number, e, c->mac);
    }
    return nd;
}

static void uml(void)
{
    vm_node_t *nd = node("u1", VM_UML, 1234);
    vm_argv_t *a = calloc(1, sizeof(*a));
    char err[256] = "";
    ok(vm_uml_argv(&vm, nd, a, err, sizeof(err)) == PN_OK && !a->overflow, "uml: argv built");
    ok(a->n > 0 && strcmp(a->v[0], "/usr/bin/linux.uml") == 0 && a->v[a->n] == NULL,
       "uml: the kernel first, NULL-terminated");
    ok(find(a, "mem=64M") > 0, "uml: mem=64M");
    ok(find(a, "uml_dir=/st/nodes/u1") > 0 && find(a, "umid=uml") > 0, "uml: its mconsole under the node dir");
    ok(find(a, "ubd0=/st/nodes/u1/cow,/img/root.ext4") > 0, "uml: a COW file over the shared image");
    ok(find(a, "root=/dev/ubda") > 0 && find(a, "con0=fd:0,fd:1") > 0 && find(a, "ssl1=fd:3") > 0,
       "uml: root disk, console on fds 0/1, the agent line on fd 3");
    ok(find(a, "eth0=daemon,02:00:0c:22:00:00,unix,/rt/lan/mgmt/ctl") > 0, "uml: eth0 on mgmt by the seed MAC");
    ok(find(a, "eth1=daemon,02:00:0c:22:00:01,unix,/rt/lan/lan1/ctl") > 0,
       "uml: eth1 by the daemon transport on its LAN's ctl");
    ok(find(a, "ubd1r=/cd/disk.img") < 0, "uml: no config disk, no ubd1");
    ok(strcmp(a->v[a->n - 1], VM_UML_GLIBC_TUNABLES) == 0, "uml: the glibc tunables for init last");

    memset(a, 0, sizeof(*a));
    nd->persistent = true;
    snprintf(nd->image, sizeof(nd->image), "/img/own.img");
    snprintf(nd->cfgdisk, sizeof(nd->cfgdisk), "/cd/disk.img");
    vm_uml_argv(&vm, nd, a, err, sizeof(err));
    ok(find(a, "ubd0=/img/own.img") > 0, "uml: a persistent node writes its own image (no COW)");
    ok(find(a, "ubd1r=/cd/disk.img") > 0, "uml: the config disk read-only as ubd1");

    char nic[256];
    vm_uml_nic_arg(nic, sizeof(nic), &nd->nics[1]);
    ok(strcmp(nic, "eth1=daemon,02:00:0c:22:00:01,unix,/rt/lan/lan1/ctl") == 0, "uml: the hot-plug config string");

    memset(a, 0, sizeof(*a));
    char saved[1024];
    snprintf(saved, sizeof(saved), "%s", vm.uml_kernel);
    vm.uml_kernel[0] = 0;
    ok(vm_uml_argv(&vm, nd, a, err, sizeof(err)) == PN_ENOTFOUND && strstr(err, "make image"),
       "uml: no kernel in the manifest is not_found, naming 'make image' (%s)", err);
    snprintf(vm.uml_kernel, sizeof(vm.uml_kernel), "%s", saved);
    free(a);
    vm_node_free(nd);
}

static void qemu(void)
{
    vm_node_t *nd = node("q1", VM_QEMU, 7);
    nd->cpus = 2;
    vm_argv_t *a = calloc(1, sizeof(*a));
    char err[256] = "";
    vm.accel_known = 1; /* no probe in a unit test */
    vm.kvm = false;
    ok(vm_qemu_argv(&vm, nd, a, err, sizeof(err)) == PN_OK && !a->overflow, "qemu: argv built");
    ok(strcmp(a->v[0], "qemu-system-x86_64") == 0 && a->v[a->n] == NULL, "qemu: qemu-system-x86_64, NULL-terminated");
    ok(after(a, "-accel", "tcg") && find(a, "-cpu") < 0 && strcmp(nd->accel, "tcg") == 0,
       "qemu: TCG without -cpu host, recorded in the node");
    ok(after(a, "-m", "128") && after(a, "-smp", "2") && after(a, "-name", "q1"), "qemu: memory, cpus, name");
    ok(after(a, "-kernel", "/boot/vmlinuz") && after(a, "-initrd", "/img/initrd") && find(a, "-append") > 0,
       "qemu: the default image boots the manifest's kernel and initrd");
    ok(after(a, "-drive",
             "file=/st/nodes/q1/disk.qcow2,format=qcow2,if=virtio,file.locking=off,backing.file.locking=off"),
       "qemu: the node's qcow2 overlay, image locking off (vmd locks)");
    ok(after(a, "-qmp", "unix:/st/nodes/q1/qmp.sock,server=on,wait=off"), "qemu: a QMP socket in the node dir");
    ok(after(a, "-netdev", "vde,id=net-eth1,sock=/rt/lan/lan1") &&
           after(a, "-device", "virtio-net-pci,netdev=net-eth1,mac=02:00:00:07:00:01,id=dev-eth1"),
       "qemu: eth1 as virtio-net over -netdev vde on its LAN, by the seed MAC");
    ok(after(a, "-device", "virtserialport,bus=vser0.0,chardev=agent0,name=org.plugnet.agent.0"),
       "qemu: the agent's virtio-serial port");

    memset(a, 0, sizeof(*a));
    vm.kvm = true;
    nd->persistent = true;
    snprintf(nd->image, sizeof(nd->image), "/img/own.img");
    snprintf(nd->cfgdisk, sizeof(nd->cfgdisk), "/cd/disk.img");
    vm_qemu_argv(&vm, nd, a, err, sizeof(err));
    ok(after(a, "-accel", "kvm") && after(a, "-cpu", "host"), "qemu: KVM with -cpu host");
    ok(find(a, "-kernel") < 0, "qemu: a named image boots by itself (no -kernel)");
    ok(after(a, "-drive", "file=/img/own.img,format=raw,if=virtio,file.locking=off"),
       "qemu: a persistent node's own image, raw");
    ok(after(a, "-drive", "file=/cd/disk.img,format=raw,if=virtio,readonly=on,file.locking=off"),
       "qemu: the config disk read-only");

    memset(a, 0, sizeof(*a));
    nd->image[0] = 0;
    vm.qemu_kernel[0] = 0;
    ok(vm_qemu_argv(&vm, nd, a, err, sizeof(err)) == PN_ENOTFOUND && strstr(err, "make image"),
       "qemu: the default image without a kernel is not_found (%s)", err);
    snprintf(vm.qemu_kernel, sizeof(vm.qemu_kernel), "/boot/vmlinuz");
    free(a);
    vm_node_free(nd);
}

static void overflow(void)
{
    vm_argv_t *a = calloc(1, sizeof(*a));
    for (int i = 0; i < VM_ARGV_MAX - 1; i++)
        vm_argv_add(a, "a%d", i);
    ok(!a->overflow && a->n == VM_ARGV_MAX - 1 && a->v[a->n] == NULL, "argv: %d arguments fit", VM_ARGV_MAX - 1);
    vm_argv_add(a, "one-too-many");
    ok(a->overflow && a->n == VM_ARGV_MAX - 1 && a->v[a->n] == NULL, "argv: one more sets overflow, keeps NULL");
    memset(a, 0, sizeof(*a));
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    for (int i = 0; i < 10; i++)
        vm_argv_add(a, "%s", big);
    ok(a->overflow && a->n == 6 && a->used <= sizeof(a->store), "argv: 32 KiB of strings at most (%d fit)", a->n);
    free(a);
}

int main(void)
{
    setenv("PLUGNET_RUN_DIR", "/rt", 1);
    snprintf(vm.nodes_dir, sizeof(vm.nodes_dir), "/st/nodes");
    snprintf(vm.rootfs, sizeof(vm.rootfs), "/img/root.ext4");
    snprintf(vm.uml_kernel, sizeof(vm.uml_kernel), "/usr/bin/linux.uml");
    snprintf(vm.qemu_kernel, sizeof(vm.qemu_kernel), "/boot/vmlinuz");
    snprintf(vm.qemu_initrd, sizeof(vm.qemu_initrd), "/img/initrd");
    snprintf(vm.manifest, sizeof(vm.manifest), "/img/manifest");
    uml();
    qemu();
    overflow();
    return done();
}
