/* vm_image: the default image's manifest and the qemu accelerator probe. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"
#include "vm_host.h"

/* Where the manifest is: $PLUGNET_IMAGE_MANIFEST, else ../image/manifest
 * next to this binary (the build tree), else ../share/plugnet/image/manifest
 * (an installed tree); the first that exists, looked up again until one does. */
static void s_manifest_path(vm_t *vm)
{
    const char *env = getenv("PLUGNET_IMAGE_MANIFEST");
    if (env && *env) {
        snprintf(vm->manifest, sizeof(vm->manifest), "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (!slash) {
        snprintf(vm->manifest, sizeof(vm->manifest), "/usr/local/share/plugnet/image/manifest");
        return;
    }
    *slash = 0;
    char build[PATH_MAX + 32], inst[PATH_MAX + 48];
    snprintf(build, sizeof(build), "%s/../image/manifest", exe);
    snprintf(inst, sizeof(inst), "%s/../share/plugnet/image/manifest", exe);
    snprintf(vm->manifest, sizeof(vm->manifest), "%s", access(build, R_OK) != 0 && access(inst, R_OK) == 0 ? inst : build);
}

int vm_manifest_load(vm_t *vm)
{
    s_manifest_path(vm);
    FILE *f = fopen(vm->manifest, "re");
    if (!f)
        return -errno;
    char line[1200];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        char *eq = strchr(line, '=');
        if (!eq || line[0] == '#')
            continue;
        *eq = 0;
        const char *v = eq + 1;
        char *dst = NULL;
        if (!strcmp(line, "ROOTFS"))
            dst = vm->rootfs;
        else if (!strcmp(line, "UML_KERNEL"))
            dst = vm->uml_kernel;
        else if (!strcmp(line, "QEMU_KERNEL"))
            dst = vm->qemu_kernel;
        else if (!strcmp(line, "QEMU_INITRD"))
            dst = vm->qemu_initrd;
        if (dst)
            snprintf(dst, 1024, "%s", v);
    }
    fclose(f);
    return vm->rootfs[0] ? 0 : -ENOENT;
}

/* Run the default guest's kernel under KVM with plugnet.probe; it prints
 * "plugnet: probe ok" and powers off.  Only that counts as KVM working. */
static bool s_qemu_kvm_boots(vm_t *vm, int timeout_ms)
{
    if (!vm->qemu_kernel[0] && vm_manifest_load(vm) < 0)
        return false;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return false;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return false;
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(p[1], 1);
        dup2(p[1], 2);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execlp("qemu-system-x86_64", "qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "64",
               "-nographic", "-nodefaults", "-no-reboot", "-serial", "stdio", "-kernel", vm->qemu_kernel, "-initrd",
               vm->qemu_initrd, "-append", "console=ttyS0 quiet plugnet.probe panic=-1", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[8192];
    size_t have = 0;
    bool ok = false;
    uint64_t end = pn_mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = pn_mono_ms();
        if (now >= end)
            break;
        struct pollfd pf = { .fd = p[0], .events = POLLIN };
        int r = poll(&pf, 1, (int)(end - now));
        if (r <= 0)
            break;
        ssize_t n = read(p[0], buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        if (strstr(buf, "plugnet: probe ok")) {
            ok = true;
            break;
        }
        if (have > sizeof(buf) / 2) {
            memmove(buf, buf + have - 64, 64);
            have = 64;
        }
    }
    close(p[0]);
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return ok;
}

void vm_accel(vm_t *vm)
{
    if (vm->accel_known)
        return;
    vm->accel_known = 1;
    const char *env = getenv("PLUGNET_ACCEL");
    if (env && (!strcmp(env, "tcg") || !strcmp(env, "kvm"))) {
        vm->kvm = !strcmp(env, "kvm");
        snprintf(vm->accel_reason, sizeof(vm->accel_reason), "set by PLUGNET_ACCEL");
        return;
    }
    /* The result holds until the host reboots: cache it host-wide. */
    char boot[64] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (f) {
        if (!fgets(boot, sizeof(boot), f))
            boot[0] = 0;
        boot[strcspn(boot, "\n")] = 0;
        fclose(f);
    }
    const char *cache = "/run/plugnet-accel";
    char line[256];
    if (boot[0] && (f = fopen(cache, "re"))) {
        char b[64], acc[8], why[160];
        if (fgets(line, sizeof(line), f) && sscanf(line, "%63s %7s %159[^\n]", b, acc, why) == 3 &&
            !strcmp(b, boot)) {
            fclose(f);
            vm->kvm = !strcmp(acc, "kvm");
            snprintf(vm->accel_reason, sizeof(vm->accel_reason), "%s", why);
            return;
        }
        fclose(f);
    }
    const char *why;
    if (!vm_kvm_probe(2000, &why)) {
        vm->kvm = false;
        snprintf(vm->accel_reason, sizeof(vm->accel_reason), "%s", why);
    } else if (s_qemu_kvm_boots(vm, 15000)) {
        vm->kvm = true;
        snprintf(vm->accel_reason, sizeof(vm->accel_reason), "a test guest booted under KVM");
    } else {
        vm->kvm = false;
        snprintf(vm->accel_reason, sizeof(vm->accel_reason),
                 "/dev/kvm works but a test guest did not boot under it within 15 s (nested KVM hangs?): TCG");
    }
    pn_notice("vmd: qemu accelerator: %s (%s)", vm->kvm ? "kvm" : "tcg", vm->accel_reason);
    if (boot[0] && (f = fopen("/run/plugnet-accel.tmp", "we"))) {
        fprintf(f, "%s %s %s\n", boot, vm->kvm ? "kvm" : "tcg", vm->accel_reason);
        fclose(f);
        rename("/run/plugnet-accel.tmp", cache);
    }
}
