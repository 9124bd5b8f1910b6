# Helpers for the switchd tests (t1xxx); source after lib.sh.

# sw_ns NAME: a network namespace with IPv6 off (so only the traffic a test
# makes crosses the switch), deleted at the end of the script.
sw_ns() {
    ip netns add "$1" || return 1
    test_atexit "ip netns del $1 2>/dev/null"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null &&
    ip -n "$1" link set lo up
}

# sw_tap_into LAN IFNAME NS ADDR/LEN: a switchd tap port moved into NS
# and configured.  Prints the port number.
sw_tap_into() {
    _sw_out=$(plugnet --json port add-tap "$1" "$2") || return 1
    ip link set "$2" netns "$3" &&
    ip -n "$3" addr add "$4" dev "$2" &&
    ip -n "$3" link set "$2" up &&
    printf "%s\n" "$_sw_out" | jq -r .port
}

# sw_stat LAN PORT FIELD: one counter (FIELD like rx_frames or drops.runt).
sw_stat() {
    plugnet --json stats "$1" | jq -r ".ports[] | select(.port == $2) | .$3"
}

# sw_ping NS ADDR [COUNT]: a quick ping that succeeds when every reply came.
sw_ping() {
    ip netns exec "$1" ping -n -q -c "${3:-1}" -i 0.2 -W 1 "$2" >/dev/null 2>&1
}

# Scratch files of the tests go to the test's own directory.
cd "$TEST_DIR" || exit 1
