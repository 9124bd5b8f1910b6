#!/bin/sh
# scripts/check-strays.sh RUN: after a test run (make check), fail when a
# process that the run started is still alive, listing it, then kill it so
# the machine is clean.  tests/lib.sh gives every process a test starts
# PLUGNET_TEST_RUN=RUN in its environment and, where cgroup2 is writable,
# a cgroup under plugnet-test/RUN/; this looks in both (a UML guest's
# processes have no readable environment, the cgroup still holds them).
# Processes of other runs (another checkout's make check beside this one)
# are not looked at.
set -u
run=${1:?usage: check-strays.sh RUN}
case $run in */*|.*|"") echo "check-strays: bad run id '$run'" >&2; exit 2 ;; esac

cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts 2>/dev/null)
cg=${cg_root:+$cg_root/plugnet-test/$run}

# strays: the pids of the run, one a line, zombies and this script left out.
strays() {
    {
        if [ -n "$cg" ] && [ -d "$cg" ]; then
            find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
        fi
        for d in /proc/[0-9]*; do
            { tr '\0' '\n' <"$d/environ"; } 2>/dev/null | grep -qxF "PLUGNET_TEST_RUN=$run" && echo "${d#/proc/}"
        done
    } | sort -un | while read -r p; do
        [ "$p" != $$ ] && [ -r "/proc/$p/stat" ] &&
            ! grep -q '^[0-9]* (.*) Z ' "/proc/$p/stat" 2>/dev/null && echo "$p"
    done
}

# What a stray is: pid, name, the test it came from, its command line.
describe() {
    for p in "$@"; do
        t=$({ tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | sed -n 's/^PLUGNET_TEST_DIR=//p')
        [ -n "$t" ] || t=$(sed -n 's|^0::.*/plugnet-test/[^/]*/||p' "/proc/$p/cgroup" 2>/dev/null)
        printf '  %s %s (test %s): %s\n' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)" "${t:-?}" \
            "$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | cut -c1-200)"
    done
}

left=$(strays)
rc=0
if [ -n "$left" ]; then
    rc=1
    echo "check-strays: the test run $run left these processes running:" >&2
    describe $left >&2
    i=0
    while [ -n "$left" ] && [ $i -lt 50 ]; do
        if [ -n "$cg" ] && [ -e "$cg/cgroup.kill" ]; then
            for k in $(find "$cg" -name cgroup.kill); do echo 1 >"$k"; done 2>/dev/null
        fi
        kill -9 $left 2>/dev/null
        timeout 0.2 tail -f /dev/null 2>/dev/null
        left=$(strays)
        i=$((i + 1))
    done
    [ -z "$left" ] && echo "check-strays: killed them" >&2 ||
        { echo "check-strays: could not kill:" >&2; describe $left >&2; }
fi
if [ -n "$cg" ] && [ -d "$cg" ]; then
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
fi
exit $rc
