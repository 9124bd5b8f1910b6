#!/bin/sh
# The house rules of docs/ARCHITECTURE.md hold: no file includes another
# room's private header, no C file is over 1,000 lines, and inside a room
# calls between files run one way (no circle in the graph nm reads off the
# objects).  The checker is shown to catch each breach on a small tree
# first, so a pass on the real tree means something.
. "$(dirname "$0")/lib.sh"

CHECK="/usr/bin/python3 $PLUGNET_SRC/scripts/check-rooms.py"
CC=${CC:-cc}

test_lazy_prereq NM "nm (binutils) is missing" 'command -v nm'

# A tiny tree: vmd and switchd, proto, common.
T=$TEST_DIR/tree
mkdir -p "$T/proto" "$T/services/common" "$T/services/vmd" "$T/services/switchd" "$T/cli" "$T/obj/services/vmd"
echo 'int pn_x(void);' >"$T/proto/pn_x.h"
echo 'int sw_y(void);' >"$T/services/switchd/sw.h"
echo 'int vm_a(void); int vm_b(void);' >"$T/services/vmd/vm.h"
printf '%s\n' '#include "vm.h"' '#include "pn_x.h"' 'int vm_a(void) { return vm_b(); }' >"$T/services/vmd/a.c"
printf '%s\n' '#include "vm.h"' 'int vm_b(void) { return 1; }' >"$T/services/vmd/b.c"
printf '%s\n' '#include "pn_x.h"' 'int main(void) { return 0; }' >"$T/cli/main.c"

objs() {
    for f in a b; do
        $CC -I"$T/services/vmd" -I"$T/proto" -c "$T/services/vmd/$f.c" -o "$T/obj/services/vmd/$f.o" || return 1
    done
}

test_expect_success NM 'a tree that keeps the rules passes' '
    objs && $CHECK "$T" "$T/obj"
'

test_expect_success NM 'including another room'"'"'s header is found' '
    cp "$T/cli/main.c" "$T/main.keep" &&
    test_when_finished "cp \"$T/main.keep\" \"$T/cli/main.c\"" &&
    sed -i "1i #include \"sw.h\"" "$T/cli/main.c" &&
    test_expect_code 1 $CHECK "$T" >out &&
    grep "cli/main.c:1: includes \"sw.h\" of room services/switchd" out &&
    sed -i "1s|.*|#include \"../services/vmd/vm.h\"|" "$T/cli/main.c" &&
    test_expect_code 1 $CHECK "$T" >out &&
    grep "cli/main.c:1: includes \"../services/vmd/vm.h\": a path out of its room" out
'

test_expect_success NM 'a file over 1,000 lines is found' '
    cp "$T/services/vmd/b.c" "$T/b.keep" &&
    test_when_finished "cp \"$T/b.keep\" \"$T/services/vmd/b.c\"" &&
    seq 1001 | sed "s|.*|/* & */|" >>"$T/services/vmd/b.c" &&
    test_expect_code 1 $CHECK "$T" >out &&
    grep "services/vmd/b.c: 1003 lines" out
'

test_expect_success NM 'a circle of calls between two files of a room is found' '
    cp "$T/services/vmd/b.c" "$T/b.keep" &&
    test_when_finished "cp \"$T/b.keep\" \"$T/services/vmd/b.c\" && objs" &&
    printf "%s\n" "#include \"vm.h\"" "int vm_b(void) { return vm_a() - 1; }" >"$T/services/vmd/b.c" &&
    objs &&
    test_expect_code 1 $CHECK "$T" "$T/obj" >out &&
    grep "services/vmd: calls go round in a circle between services/vmd/a.c, services/vmd/b.c" out
'

test_expect_success NM 'plugnet keeps the rules' '
    $CHECK "$PLUGNET_SRC" "$PLUGNET_BUILD/obj" >out || { cat out; false; }
'

test_done
