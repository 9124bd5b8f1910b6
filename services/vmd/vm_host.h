/* vm_host: host quirks and probes for running guests.
 *
 *  - UML 6.1 (Debian's user-mode-linux) saves a guest's FPU state with
 *    PTRACE_SETREGSET(NT_X86_XSTATE) into a buffer sized for pre-AVX-512
 *    hosts; on hosts with AVX-512/AMX the kernel refuses it (EFAULT) and init
 *    dies at once.  vm_uml_xstate_workaround() installs a seccomp filter
 *    (inherited by the exec'd UML) that makes that one ptrace request fail
 *    with EIO, so UML falls back to PTRACE_GETFPREGS (x87 + SSE).  Guests
 *    must then not keep AVX state across UML's context switches: the UML
 *    command line carries VM_UML_GLIBC_TUNABLES, which init and everything
 *    it starts inherit, so glibc never picks its AVX/AVX-512 routines.
 *  - The KVM probe: /dev/kvm may exist and still hang (nested KVM); only a
 *    guest that really runs within a deadline counts.
 */
#ifndef VM_HOST_H
#define VM_HOST_H

#include <stdbool.h>

#define VM_UML_GLIBC_TUNABLES \
    "GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX2,-AVX"

/* Call in the child just before exec'ing UML.  0 or -errno. */
int vm_uml_xstate_workaround(void);

/* Run a tiny KVM guest (a few instructions ending in HLT) with a deadline.
 * Returns true when KVM really works; *why gets a static reason. */
bool vm_kvm_probe(int timeout_ms, const char **why);

#endif
