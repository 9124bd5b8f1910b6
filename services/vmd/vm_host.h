/* vm_host: host quirks and probes for running guests.
 *
 *  - UML 6.1 (Debian's user-mode-linux) cannot save AVX-512 state on hosts
 *    that have it: the child about to exec UML installs pn_seccomp.h's
 *    filter, so UML falls back to PTRACE_GETFPREGS (x87 + SSE).  Guests
 *    must then not keep AVX state across UML's context switches: the UML
 *    command line carries PN_UML_GLIBC_TUNABLES (pn_seccomp.h).
 *  - The KVM probe: /dev/kvm may exist and still hang (nested KVM); only a
 *    guest that really runs within a deadline counts.
 */
#ifndef VM_HOST_H
#define VM_HOST_H

#include <stdbool.h>

#include "pn_seccomp.h"

#define VM_UML_GLIBC_TUNABLES PN_UML_GLIBC_TUNABLES

/* Run a tiny KVM guest (a few instructions ending in HLT) with a deadline.
 * Returns true when KVM really works; *why gets a static reason. */
bool vm_kvm_probe(int timeout_ms, const char **why);

#endif
