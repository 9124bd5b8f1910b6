/* vmd's reading of switchd's VDE client addresses: the UML pid in the
 * daemon transport's abstract data address, and everything that is not one. */
#include <string.h>

#include "../../services/vmd/vm.h"
#include "tap.h"

int main(void)
{
    pid_t pid = 0;
    /* As switchd showed a UML 6.1 client (pid 17088 = 0x42c0, usecs 0x0d5cdf). */
    const char *uml = "@000000c0420000df5c0d0000000000000000000000000000000000000000000000def26f";
    ok(vm_uml_peer_pid(uml, &pid) && pid == 17088, "a UML client's address gives its pid (%d)", (int)pid);
    ok(vm_uml_peer_pid("@000000ffffff7f", &pid) && pid == 0x7fffffff, "the largest pid");
    pid = 5;
    ok(!vm_uml_peer_pid("@00000000000000", &pid) && pid == 5, "pid 0: no");
    ok(!vm_uml_peer_pid("@000000ffffffff", &pid), "a negative pid: no");
    ok(!vm_uml_peer_pid("@000000c04200", &pid), "too short: no");
    ok(!vm_uml_peer_pid("@000000c0420g00", &pid), "not hex: no");
    ok(!vm_uml_peer_pid("@000000C0420000", &pid), "upper-case hex is not switchd's form: no");
    ok(!vm_uml_peer_pid("/run/plugnet/vde.sock.12345", &pid), "a path (vde_plug) is not UML: no");
    ok(!vm_uml_peer_pid("", &pid) && !vm_uml_peer_pid(NULL, &pid), "empty or absent: no");
    return done();
}
