# Helpers of the lab tests (t5xxx), on top of lib.sh.

test_must_be_empty() { if test -s "$1"; then echo "$1 is not empty:"; cat "$1"; return 1; fi; }
# test_expect_code N CMD...: CMD exits with status N.
test_expect_code() {
    _want=$1; shift
    "$@"; _got=$?
    [ "$_got" = "$_want" ] || { echo "$* exited $_got, not $_want" >&2; return 1; }
}

_pyjson() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); $1" "$@"; }
# node_field NODE KEY: a field of `plugnet --json node show NODE`.
node_field() {
    plugnet --json node show "$1" |
        _pyjson 'v=d.get(sys.argv[2]); print("" if v is None else v)' "$2"
}
node_pid() { node_field "$1" pid; }
# The names of the live nodes / LANs, one a line, sorted.
nodes() { plugnet --json node ls | _pyjson 'print("\n".join(sorted(n["name"] for n in d["nodes"])))'; }
lans() { plugnet --json lan ls | _pyjson 'print("\n".join(sorted(l["name"] for l in d["lans"])))'; }
# The node / LAN names of a topology file.
lab_nodes() { plugnet --json inspect "$1" | _pyjson 'print("\n".join(sorted(n["name"] for n in d["nodes"])))'; }
lab_lans() { plugnet --json inspect "$1" | _pyjson 'print("\n".join(sorted(l["name"] for l in d["lans"])))'; }

# every_node_running FILE: each node of the lab is running.
every_node_running() {
    for _n in $(lab_nodes "$1"); do
        [ "$(node_field "$_n" state)" = running ] || { echo "$_n is not running" >&2; return 1; }
    done
}

# lab_is_gone FILE: none of the lab's nodes or LANs is left.
lab_is_gone() {
    nodes >"$TEST_DIR/.nodes" && lans >"$TEST_DIR/.lans" &&
    for _n in $(lab_nodes "$1"); do
        ! grep -qx "$_n" "$TEST_DIR/.nodes" || { echo "node $_n is left" >&2; return 1; }
    done &&
    for _l in $(lab_lans "$1"); do
        ! grep -qx "$_l" "$TEST_DIR/.lans" || { echo "LAN $_l is left" >&2; return 1; }
    done
}

# The tiny guest image (make image) for UML and qemu nodes.
test_lazy_prereq IMAGE "no guest image: run 'make image'" \
    'test -r "$PLUGNET_BUILD/image/manifest"'
