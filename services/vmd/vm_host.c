/* vm_host: host quirks and probes (see vm_host.h). */
#include "vm_host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The probe runs in a child so a hang in KVM_RUN costs only the child. */
static int s_kvm_child(void)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return 10;
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        return 11;
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return 12;
    /* Real mode: mov $42,%al; out %al,$0x10; hlt */
    static const uint8_t code[] = { 0xb0, 42, 0xe6, 0x10, 0xf4 };
    uint8_t *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return 13;
    memcpy(mem, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0x1000, .memory_size = 0x1000, .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return 14;
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        return 15;
    int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0)
        return 16;
    struct kvm_run *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return 17;
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return 18;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        return 19;
    struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return 20;
    bool saw_io = false;
    for (int i = 0; i < 16; i++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            return 21;
        if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x10 &&
            *((uint8_t *)run + run->io.data_offset) == 42)
            saw_io = true;
        else if (run->exit_reason == KVM_EXIT_HLT)
            return saw_io ? 0 : 22;
        else if (run->exit_reason != KVM_EXIT_IO)
            return 23;
    }
    return 24;
}

bool vm_kvm_probe(int timeout_ms, const char **why)
{
    if (access("/dev/kvm", R_OK | W_OK) < 0) {
        *why = "no usable /dev/kvm";
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *why = "cannot fork the KVM probe";
        return false;
    }
    if (pid == 0)
        _exit(s_kvm_child());
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int st = 0;
    bool done = false;
    if (pfd >= 0) {
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        int r;
        do
            r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        done = r > 0;
        close(pfd);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        *why = "a test guest did not finish under KVM in time (nested KVM hangs?): using TCG";
        return false;
    }
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        *why = "a test guest ran under KVM";
        return true;
    }
    *why = "a test guest failed under KVM: using TCG";
    return false;
}
