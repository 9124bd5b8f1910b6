/* vm_argv: the command lines of UML and qemu guests, built from a node's
 * spec alone (no process, no file is touched), so they are unit-tested. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vm.h"
#include "vm_host.h"

static void s_vadd(vm_argv_t *a, const char *fmt, va_list ap)
{
    if (a->overflow || a->n >= VM_ARGV_MAX - 1 || a->used >= sizeof(a->store)) {
        a->overflow = true;
        return;
    }
    int n = vsnprintf(a->store + a->used, sizeof(a->store) - a->used, fmt, ap);
    if (n < 0 || a->used + (size_t)n + 1 > sizeof(a->store)) {
        a->overflow = true;
        a->store[a->used] = 0;
        return;
    }
    a->v[a->n++] = a->store + a->used;
    a->v[a->n] = NULL;
    a->used += (size_t)n + 1;
}

void vm_argv_add(vm_argv_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vadd(a, fmt, ap);
    va_end(ap);
}

void vm_argv_opt(vm_argv_t *a, const char *flag, const char *fmt, ...)
{
    vm_argv_add(a, "%s", flag);
    va_list ap;
    va_start(ap, fmt);
    s_vadd(a, fmt, ap);
    va_end(ap);
}

void vm_uml_nic_arg(char *out, size_t len, const vm_nic_t *c)
{
    char mac[18], lan[4200];
    pn_mac_format(c->mac, mac);
    vm_lan_dir(c->lan, lan, sizeof(lan));
    snprintf(out, len, "%s=daemon,%s,unix,%s/ctl", c->ifname, mac, lan);
}

int vm_uml_argv(vm_t *vm, vm_node_t *nd, vm_argv_t *a, char *err, size_t errlen)
{
    char dir[4200];
    vm_node_dir(vm, nd, NULL, dir, sizeof(dir));
    const char *img = nd->image[0] ? nd->image : vm->rootfs;
    if (!vm->uml_kernel[0]) {
        snprintf(err, errlen, "no UML kernel in %s: run 'make image'", vm->manifest);
        return PN_ENOTFOUND;
    }
    vm_argv_add(a, "%s", vm->uml_kernel);
    vm_argv_add(a, "mem=%uM", nd->mem);
    vm_argv_add(a, "umid=uml");
    vm_argv_add(a, "uml_dir=%s", dir);
    if (nd->persistent)
        vm_argv_add(a, "ubd0=%s", img);
    else
        vm_argv_add(a, "ubd0=%s/cow,%s", dir, img);
    if (nd->cfgdisk[0])
        vm_argv_add(a, "ubd1r=%s", nd->cfgdisk);
    vm_argv_add(a, "root=/dev/ubda");
    vm_argv_add(a, "rw");
    vm_argv_add(a, "quiet");
    vm_argv_add(a, "con=null");
    vm_argv_add(a, "ssl=null");
    vm_argv_add(a, "con0=fd:0,fd:1");
    vm_argv_add(a, "ssl1=fd:3,fd:4"); /* the agent line: two pipes (vm_run.c) */
    for (unsigned i = 0; i < nd->nnics; i++) {
        char nic[4400];
        vm_uml_nic_arg(nic, sizeof(nic), &nd->nics[i]);
        vm_argv_add(a, "%s", nic);
    }
    vm_argv_add(a, "%s", VM_UML_GLIBC_TUNABLES);
    return PN_OK;
}

int vm_qemu_argv(vm_t *vm, vm_node_t *nd, vm_argv_t *a, char *err, size_t errlen)
{
    char dir[4200];
    vm_node_dir(vm, nd, NULL, dir, sizeof(dir));
    const char *img = nd->image[0] ? nd->image : vm->rootfs;
    vm_accel(vm);
    snprintf(nd->accel, sizeof(nd->accel), "%s", vm->kvm ? "kvm" : "tcg");
    vm_argv_add(a, "qemu-system-x86_64");
    vm_argv_opt(a, "-name", "%s", nd->name);
    vm_argv_opt(a, "-accel", "%s", nd->accel);
    if (vm->kvm)
        vm_argv_opt(a, "-cpu", "host");
    vm_argv_opt(a, "-m", "%u", nd->mem);
    vm_argv_opt(a, "-smp", "%u", nd->cpus);
    vm_argv_opt(a, "-display", "none");
    vm_argv_add(a, "-nodefaults");
    if (!nd->image[0]) {
        if (!vm->qemu_kernel[0]) {
            snprintf(err, errlen, "no qemu kernel in %s: run 'make image'", vm->manifest);
            return PN_ENOTFOUND;
        }
        vm_argv_opt(a, "-kernel", "%s", vm->qemu_kernel);
        vm_argv_opt(a, "-initrd", "%s", vm->qemu_initrd);
        /* cryptomgr.notests: the crypto self-tests were the costliest
         * initcalls under TCG (crypto_algapi_init and the KDF tests took
         * 0.8 s of the 3.7 s to /init, by initcall_debug). */
        vm_argv_opt(a, "-append", "console=ttyS0 quiet root=/dev/vda no_timer_check cryptomgr.notests");
    }
    /* Several nodes share the base image read-only and vmd keeps the
     * persistent lock itself: qemu's own image locking would refuse that. */
    vm_argv_add(a, "-drive");
    if (nd->persistent)
        vm_argv_add(a, "file=%s,format=raw,if=virtio,file.locking=off", img);
    else
        vm_argv_add(a, "file=%s/disk.qcow2,format=qcow2,if=virtio,file.locking=off,backing.file.locking=off", dir);
    if (nd->cfgdisk[0])
        vm_argv_opt(a, "-drive", "file=%s,format=raw,if=virtio,readonly=on,file.locking=off", nd->cfgdisk);
    /* Kernel messages go out on the 8250 serial into console.log; the
     * interactive console is a virtio console (hvc0) on con.qemu, which the
     * monitor holds open for good (a host-side hangup would hang up the
     * guest's shell) and serves as console.sock, logging to the same file. */
    vm_argv_opt(a, "-chardev", "file,id=ser0,path=%s/console.log,append=on", dir);
    vm_argv_opt(a, "-serial", "chardev:ser0");
    vm_argv_opt(a, "-device", "virtio-serial-pci,id=vser0");
    vm_argv_opt(a, "-chardev", "socket,id=con0,path=%s/con.qemu,server=on,wait=off", dir);
    vm_argv_opt(a, "-device", "virtconsole,bus=vser0.0,chardev=con0,name=console");
    vm_argv_opt(a, "-chardev", "socket,id=agent0,path=%s/agent.sock,server=on,wait=off", dir);
    vm_argv_opt(a, "-device", "virtserialport,bus=vser0.0,chardev=agent0,name=org.plugnet.agent.0");
    vm_argv_opt(a, "-qmp", "unix:%s/qmp.sock,server=on,wait=off", dir);
    for (unsigned i = 0; i < nd->nnics; i++) {
        char mac[18], lan[4200];
        pn_mac_format(nd->nics[i].mac, mac);
        vm_lan_dir(nd->nics[i].lan, lan, sizeof(lan));
        vm_argv_opt(a, "-netdev", "vde,id=net-%s,sock=%s", nd->nics[i].ifname, lan);
        vm_argv_opt(a, "-device", "virtio-net-pci,netdev=net-%s,mac=%s,id=dev-%s", nd->nics[i].ifname, mac, nd->nics[i].ifname);
    }
    return PN_OK;
}
