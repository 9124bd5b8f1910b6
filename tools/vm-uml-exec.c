/* vm-uml-exec UML-KERNEL ARGS...: exec UML the way vmd does (with the host
 * xstate workaround of pn_seccomp.h), for tests and benchmarks that boot a
 * guest without vmd.  The caller adds PN_UML_GLIBC_TUNABLES itself, or
 * passes --tunables as the first argument to have it appended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pn_seccomp.h"

int main(int argc, char **argv)
{
    int a = 1;
    int tun = 0;
    if (a < argc && strcmp(argv[a], "--tunables") == 0) {
        tun = 1;
        a++;
    }
    if (a >= argc) {
        fprintf(stderr, "usage: vm-uml-exec [--tunables] UML-KERNEL ARGS...\n");
        return 2;
    }
    char **av = calloc((size_t)(argc - a + 2), sizeof *av);
    if (!av)
        return 1;
    int n = 0;
    for (int i = a; i < argc; i++)
        av[n++] = argv[i];
    if (tun)
        av[n++] = (char *)PN_UML_GLIBC_TUNABLES;
    av[n] = NULL;
    /* UML leaves helper processes behind when its main process is
     * killed: make our pid the process group id so `kill -- -PID` ends them
     * all (setsid fails harmlessly when we lead a group already). */
    (void)setsid();
    if (tun)
        putenv((char *)PN_UML_GLIBC_TUNABLES);
    int r = pn_seccomp_uml_xstate();
    if (r < 0)
        fprintf(stderr, "vm-uml-exec: seccomp: %s (continuing)\n", strerror(-r));
    execv(av[0], av);
    perror(av[0]);
    return 127;
}
