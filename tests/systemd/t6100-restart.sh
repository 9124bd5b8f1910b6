#!/bin/bash
# make check-systemd: plugnet under a real systemd.  A minimal Debian
# bookworm with systemd (debootstrapped once, cached in
# $PLUGNET_BUILD/nspawn-root) gets plugnet installed by `make install-files`
# and boots under systemd-nspawn, on a throw-away overlay so the cache stays
# clean.  Inside: `systemctl enable --now plugnet.target`, a LAN with two ns
# nodes, a UML node (on a VDE port) and a real VDE client (vde_plug,
# plugging a tap in a namespace), and a ping from node n1 to each of the
# others; then every daemon is killed with SIGKILL in
# turn and switchd is stopped with SIGSTOP (the watchdog must abort it).
# Each must come back by itself with the lab intact (nodes, LANs, ports,
# counters); the outage the ping saw is measured and printed per daemon.
#
# The container is driven from outside with nsenter into its PID 1's
# namespaces: it is not registered with machined (--register=no), so
# `systemd-run --machine` and `machinectl shell` cannot reach it.
. "$(dirname "$0")/../lib.sh"
cd "$TEST_DIR" || exit 1

root=${PLUGNET_NSPAWN_ROOT:-$PLUGNET_BUILD/nspawn-root}
share="$TEST_DIR/share"            # /plugnet-share inside: the ping log
mkdir -p "$share"
# Runtime libraries plugnet links, and what the test uses inside.
pkgs="systemd systemd-sysv iproute2 iputils-ping procps jq e2fsprogs vdeplug user-mode-linux
      libzmq5 libczmq4 libmsgpackc2 libyaml-0-2 libpcap0.8 libsystemd0"
PING_INTERVAL=0.02
PINGS="tap uml vde"
# "At most about a second" for a crash; the SIGSTOP case waits for the
# watchdog (WatchdogSec=3s in plugnet-switchd.service) first.
MAX_OUTAGE_KILL=${PLUGNET_MAX_OUTAGE:-1.5}
MAX_OUTAGE_STOP=7

test_lazy_prereq NSPAWN "systemd-nspawn or debootstrap is not installed" \
    'command -v systemd-nspawn && command -v debootstrap && command -v nsenter'

# The Debian mirror this host uses.
s_mirror() {
    m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1)
    echo "${m:-http://deb.debian.org/debian}"
}

# ct CMD...: run CMD inside the container (all its namespaces), with a
# clean environment so the host's PLUGNET_* variables stay outside.
ct() {
    nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LC_ALL=C.UTF-8 "$@"
}

s_find_leader() {
    for c in $(pgrep -P "$nspawn_pid"); do
        for g in $(pgrep -P "$c") $c; do
            [ "$(cat /proc/$g/comm 2>/dev/null)" = systemd ] && { leader=$g; return 0; }
        done
    done
    return 1
}

# Each daemon's main pid, as systemd sees it.
main_pid() { ct systemctl show -P MainPID "plugnet-$1.service"; }

# The daemon is back: a new main pid, active, answering ping.
s_back() {
    p=$(main_pid "$1") && [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$2" ] &&
    [ "$(ct systemctl is-active "plugnet-$1.service")" = active ] &&
    ct plugnet call "$1" ping >/dev/null 2>&1
}

# A ping reply arrived after time $1 (seconds since the epoch) in every log.
s_reply_after() {
    for log in "$share"/ping.*.log; do
        awk -v t="$1" -F'[][]' '/bytes from/ && $2 + 0 > t + 0 { f = 1 } END { exit !f }' "$log" || return 1
    done
}

# The longest gap between two ping replies in log $2, the later one after
# $1: the outage that ping saw, in seconds.
s_outage() {
    awk -v t="$1" -F'[][]' '/bytes from/ {
            ts = $2 + 0
            if (prev && ts > t + 0 && ts - prev > gap) gap = ts - prev
            prev = ts
        } END { printf "%.3f\n", gap }' "$2"
}

# What must survive a restart: nodes (and their pids), LANs, ports.
s_lab() {
    ct plugnet --json node ls | jq -c '[.nodes[] | {name, state, pid, nics: [.nics[] | {lan, port, host_if}]}]' &&
    ct plugnet --json lan ls | jq -c '[.lans[] | {name, mtu, ports}] | sort_by(.name)' &&
    ct plugnet --json port ls lan1 | jq -c '.ports'
}

# Counters of lan1's ports: "port rx_frames tx_frames" lines.
s_counters() { ct plugnet --json stats lan1 | jq -r '.ports[] | "\(.port) \(.rx_frames) \(.tx_frames)"'; }

# No counter went back: every port of $1 is in $2 with counts at least as high.
s_counters_kept() {
    while read -r port rx tx; do
        read -r _ rx2 tx2 <<<"$(grep "^$port " "$2")" || { echo "port $port lost"; return 1; }
        [ "$rx2" -ge "$rx" ] && [ "$tx2" -ge "$tx" ] ||
            { echo "port $port counters went back: rx $rx -> $rx2, tx $tx -> $tx2"; return 1; }
    done <"$1"
}

# agentd has the UML node's agent up (it runs in the guest, over the
# UML console relay vmd serves; the ns nodes have no agent yet).
s_agent_up() {
    ct plugnet --json call agentd agent.ls | jq -e '.agents[] | select(.node == "u1" and .state == "up")' >/dev/null
}

# Counters came back where they were (switchd saves them every second, so
# a crash may cost the last second of counting; the ping makes up for it).
s_counters_ok() { s_counters >cnt.after && s_counters_kept cnt.before cnt.after; }

# s_disrupt SVC SIGNAL MAX: signal the daemon's main process, wait for
# systemd to bring it back, check the lab, measure the ping's outage.
s_disrupt() {
    svc=$1 sig=$2 max=$3
    s_lab >lab.before && s_counters >cnt.before &&
    old=$(main_pid "$svc") && [ "$old" != 0 ] &&
    t0=$(date +%s.%N) &&
    ct kill -"$sig" "$old" &&
    retry_until 30 s_back "$svc" "$old" &&
    t1=$(date +%s.%N) &&
    retry_until 10 s_reply_after "$t1" &&
    # Half a second of replies after the recovery, so the gap is closed.
    retry_until 10 s_reply_after "$(awk -v t="$t1" "BEGIN { printf \"%.3f\", t + 0.5 }")" &&
    for p in $PINGS; do s_outage "$t0" "$share/ping.$p.log" >"$share/outage.$svc.$sig.$p" || return 1; done &&
    sort -n "$share"/outage.$svc.$sig.* | tail -n1 >"$share/outage.$svc.$sig" &&
    s_lab >lab.after && test_cmp lab.before lab.after &&
    [ "$(ct systemctl show -P MainPID pn-vde.service)" = "$vde_pid" ] &&
    retry_until 5 s_counters_ok &&
    retry_until 30 s_agent_up &&
    echo "outage $(cat "$share/outage.$svc.$sig") s, limit $max" &&
    awk -v o="$(cat "$share/outage.$svc.$sig")" -v m="$max" "BEGIN { exit !(o + 0 <= m + 0) }"
}

# What to look at when a disruption test fails.
s_diagnose() {
    for p in $PINGS; do echo "== ping.$p.log"; tail -n 3 "$share/ping.$p.log"; done
    ct systemctl --no-pager status "pn-ping-*" "plugnet-*" 2>&1 | tail -n 60
}

s_say_outage() {
    [ -f "$share/outage.$1.$2" ] &&
        say "outage seen by the pings: $1 SIG$2: $(cat "$share/outage.$1.$2.tap") s to the ns node (tap)," \
            "$(cat "$share/outage.$1.$2.uml") s to the UML node (VDE), $(cat "$share/outage.$1.$2.vde") s to vde_plug"
}

test_expect_success NSPAWN 'a Debian bookworm tree with systemd (debootstrapped once, cached)' '
    exec 9>"$root.lock" && flock -w 600 9 &&
    if [ ! -x "$root/lib/systemd/systemd" ]; then
        rm -rf "$root.tmp" &&
        debootstrap --variant=minbase --include="$(echo $pkgs | tr " " ,)" bookworm "$root.tmp" "$(s_mirror)" \
            >debootstrap.log 2>&1 || { tail -n 30 debootstrap.log; false; } &&
        mv "$root.tmp" "$root"
    fi &&
    missing=$(for p in $pkgs; do chroot "$root" dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done) &&
    if [ -n "$missing" ]; then chroot "$root" apt-get install -y -q $missing; fi
'

test_expect_success NSPAWN 'make install-files PREFIX=/usr DESTDIR=the tree' '
    make -s -C "$PLUGNET_SRC" install-files BUILD="$PLUGNET_BUILD" DESTDIR="$root" PREFIX=/usr &&
    [ -x "$root/usr/bin/plugnet-switchd" ] && [ -f "$root/usr/lib/systemd/system/plugnet.target" ]
'

test_expect_success NSPAWN 'the tiny guest image (for the UML node)' '
    "$PLUGNET_SRC/images/tiny/build.sh" "$PLUGNET_BUILD/image" >image.log 2>&1 ||
        { tail -n 20 image.log; false; }
'

test_expect_success NSPAWN 'the tree boots under systemd-nspawn with a running systemd' '
    systemd-nspawn --register=no --keep-unit --quiet -D "$root" --volatile=overlay -b \
        -M "pn$TEST_TAG" --capability=all --bind=/dev/net/tun --private-network \
        --bind="$share:/plugnet-share" --bind-ro="$PLUGNET_BUILD/image" </dev/null >console.log 2>&1 &
    nspawn_pid=$! &&
    test_atexit "kill -TERM $nspawn_pid; timeout 30 tail --pid=$nspawn_pid -f /dev/null || kill -9 $nspawn_pid" &&
    retry_until 60 s_find_leader &&
    retry_until 60 ct test -S /run/systemd/private &&
    state=$(ct timeout 120 systemctl is-system-running --wait) ; echo "system: $state" &&
    case "$state" in running) ;; *) ct systemctl --failed --no-pager; false ;; esac
'

test_expect_success NSPAWN 'systemctl enable --now plugnet.target starts the four daemons' '
    # vmd finds the image built outside through a drop-in.
    ct mkdir -p /etc/systemd/system/plugnet-vmd.service.d &&
    printf "[Service]\nEnvironment=PLUGNET_IMAGE_MANIFEST=%s\n" "$PLUGNET_BUILD/image/manifest" |
        ct tee /etc/systemd/system/plugnet-vmd.service.d/image.conf &&
    ct systemctl daemon-reload &&
    ct systemctl enable --now plugnet.target &&
    (for svc in switchd vmd agentd cfgdiskd; do
        [ "$(ct systemctl is-active plugnet-$svc.service)" = active ] || exit 1
        ct systemctl show -P StatusText plugnet-$svc.service | grep -q "$svc ready" || exit 1
    done) &&
    ct plugnet status
'

test_expect_success NSPAWN 'a LAN with two ns nodes, a UML node and a VDE client, and pings between them' '
    ct plugnet lan add lan1 &&
    ct plugnet node add n1 --kind ns --nic lan1,ip=10.0.0.1/24 --start &&
    ct plugnet node add n2 --kind ns --nic lan1,ip=10.0.0.2/24 --start &&
    ct plugnet node add u1 --kind uml --nic lan1,ip=10.0.0.4/24 --start &&
    ns1=$(ct plugnet --json node show n1 | jq -r .netns) &&
    ct ip netns add pnvde &&
    ct systemd-run --unit=pn-vde ip netns exec pnvde vde_plug vde:///run/plugnet/lan/lan1 tap://vde0 &&
    retry_until 10 ct ip -n pnvde link show vde0 &&
    ct ip -n pnvde addr add 10.0.0.3/24 dev vde0 && ct ip -n pnvde link set vde0 up &&
    vde_pid=$(ct systemctl show -P MainPID pn-vde.service) &&
    retry_until 10 ct ip netns exec "$ns1" ping -n -c1 -W1 10.0.0.2 &&
    retry_until 10 ct ip netns exec "$ns1" ping -n -c1 -W1 10.0.0.3 &&
    retry_until 60 ct ip netns exec "$ns1" ping -n -c1 -W1 10.0.0.4 &&
    ct systemd-run --unit=pn-ping-uml -p StandardOutput=file:/plugnet-share/ping.uml.log \
        ip netns exec "$ns1" ping -D -n -i $PING_INTERVAL 10.0.0.4 &&
    ct systemd-run --unit=pn-ping-tap -p StandardOutput=file:/plugnet-share/ping.tap.log \
        ip netns exec "$ns1" ping -D -n -i $PING_INTERVAL 10.0.0.2 &&
    ct systemd-run --unit=pn-ping-vde -p StandardOutput=file:/plugnet-share/ping.vde.log \
        ip netns exec "$ns1" ping -D -n -i $PING_INTERVAL 10.0.0.3 &&
    retry_until 10 s_reply_after 0 &&
    ct plugnet port ls lan1 &&
    retry_until 60 s_agent_up
'

for svc in vmd agentd cfgdiskd switchd; do
    test_expect_success NSPAWN "kill -9 $svc: systemd restarts it, the lab is intact" "
        { s_disrupt $svc KILL $MAX_OUTAGE_KILL || { s_diagnose; false; }; } &&
        if [ $svc = switchd ]; then
            ct journalctl -u plugnet-switchd.service --no-pager | grep -E \"re-adopted [1-9][0-9]* ports on 2 LANs\" &&
            ct journalctl -u plugnet-switchd.service --no-pager | grep -E \"lan lan1: vde port 3 .* re-adopted\"
        fi
    "
    s_say_outage $svc KILL
done

test_expect_success NSPAWN 'SIGSTOP switchd: the watchdog aborts it, systemd restarts it, the lab is intact' '
    { s_disrupt switchd STOP $MAX_OUTAGE_STOP || { s_diagnose; false; }; } &&
    ct journalctl -u plugnet-switchd.service --no-pager | grep -q "Watchdog timeout"
'
s_say_outage switchd STOP

# A call to a daemon that is stuck ends with an error naming it, on time.
s_call_fails_clearly() {
    ct timeout 20 plugnet --timeout 1 node ls >inflight.out 2>&1
    rc=$?
    cat inflight.out
    [ $rc != 0 ] && [ $rc != 124 ] && grep -q vmd inflight.out
}

test_expect_success NSPAWN 'SIGSTOP vmd: a CLI call fails clearly, the watchdog brings vmd back with its nodes' '
    s_lab >lab.before &&
    old=$(main_pid vmd) &&
    ct kill -STOP "$old" &&
    s_call_fails_clearly &&
    retry_until 30 s_back vmd "$old" &&
    s_lab >lab.after && test_cmp lab.before lab.after &&
    ct journalctl -u plugnet-vmd.service --no-pager | grep -q "Watchdog timeout"
'

s_all_inactive() {
    for svc in switchd vmd agentd cfgdiskd; do
        [ "$(ct systemctl is-active plugnet-$svc.service)" = inactive ] || return 1
    done
}

test_expect_success NSPAWN 'after all that, a command runs in the UML node through its agent' '
    ct timeout 30 plugnet exec u1 -- hostname >hostname.out 2>&1
    rc=$?
    cat hostname.out
    [ $rc = 0 ] && grep -qx u1 hostname.out
'

test_expect_success NSPAWN 'systemctl stop plugnet.target stops the daemons; start brings the lab back' '
    ct systemctl stop pn-ping-tap pn-ping-vde pn-ping-uml &&
    ct systemctl stop plugnet.target &&
    t0=$(date +%s.%N) &&
    retry_until 30 s_all_inactive &&
    echo "stopped after $(awk -v t=$t0 -v n=$(date +%s.%N) "BEGIN { print n - t }") s" &&
    ct journalctl -u plugnet-switchd.service --no-pager | tail -n 20 &&
    ct systemctl start plugnet.target &&
    ct plugnet --json lan ls | jq -e "[.lans[].name] | index(\"lan1\")"
'

test_done
