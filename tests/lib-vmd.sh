# tests/lib-vmd.sh — helpers for the vmd tests (t2xxx); source after lib.sh.

# The tiny guest image: built (quickly, when up to date) into $PLUGNET_BUILD/image.
pn_image() {
    [ -f "$PLUGNET_BUILD/image/manifest" ] && "$PLUGNET_SRC/images/tiny/build.sh" "$PLUGNET_BUILD/image" >/dev/null 2>&1 \
        && return 0
    "$PLUGNET_SRC/images/tiny/build.sh" "$PLUGNET_BUILD/image" >/dev/null
}

# wait_for_line SECONDS FILE PATTERN: block (on inotify through tail -F, not
# by sleeping) until FILE holds a line matching the extended regex PATTERN.
wait_for_line() {
    timeout "$1" bash -c 'grep -E -q -m1 -- "$2" <(tail -n +1 -F "$1" 2>/dev/null)' _ "$2" "$3"
}

# Kill a process group (started with setsid, so its leader's pid is the
# group id: UML leaves helper processes behind otherwise) and reap it.
kill_wait() { kill -9 -- "-$1" 2>/dev/null; kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 0; }

test_lazy_prereq UML "user-mode-linux is not installed" 'command -v linux || [ -x /usr/bin/linux.uml ]'
test_lazy_prereq QEMU "qemu-system-x86_64 is not installed" 'command -v qemu-system-x86_64'
