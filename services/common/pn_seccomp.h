/* pn_seccomp: the one seccomp filter plugnet installs.
 *
 * Debian's UML 6.1 saves a guest's FPU state with
 * PTRACE_SETREGSET(NT_X86_XSTATE) into a buffer sized for pre-AVX-512
 * hosts; on hosts with AVX-512/AMX the kernel refuses it (EFAULT) and the
 * guest's init dies at once.  pn_seccomp_uml_xstate() makes that one
 * ptrace request (and its GETREGSET twin) fail with EIO, so UML falls back
 * to PTRACE_GETFPREGS (x87 + SSE); everything else is allowed.  Installed
 * in the child just before it execs UML (vmd's monitor, and the tools that
 * boot UML without vmd), it is inherited by UML and everything it starts.
 */
#ifndef PN_SECCOMP_H
#define PN_SECCOMP_H

/* The other half of the workaround: guests must not keep AVX state across
 * UML's context switches, so the UML command line (and UML's own
 * environment) carries these tunables, which init and everything it starts
 * inherit: glibc never picks its AVX/AVX-512 routines. */
#define PN_UML_GLIBC_TUNABLES \
    "GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX2,-AVX"

/* Set no_new_privs and install the filter on the calling thread.  0 or
 * -errno. */
int pn_seccomp_uml_xstate(void);

#endif
