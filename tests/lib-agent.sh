# tests/lib-agent.sh — helpers of the agent tests (t4xxx), sourced after lib.sh.

# ag_ns_node NAME: a network namespace of its own running
# `plugnet-agent --listen` (as vmd runs it for ns nodes), registered with
# agentd; returns once the agent is up.  Everything is undone at exit.
ag_ns_node() {
    _agn=$1
    _agns=pn$TEST_TAG$_agn
    ip netns add "$_agns" || return 1
    test_atexit "ip netns del $_agns"
    ag_ns_agent_start "$_agn" || return 1
    ag-call agentd agent.register node="$_agn" kind=ns path="$TEST_DIR/$_agn.sock" \
        started_ns:="$(date +%s%N)" >/dev/null &&
    ag-call -t 20000 agentd agent.wait node="$_agn" timeout_ms:=15000 >/dev/null
}

# (Re)start the agent of an ns node made by ag_ns_node.
ag_ns_agent_start() {
    rm -f "$TEST_DIR/$1.sock"
    ip netns exec "pn$TEST_TAG$1" plugnet-agent --listen "$TEST_DIR/$1.sock" \
        >>"$TEST_DIR/$1.agent.log" 2>&1 </dev/null &
    echo $! >"$TEST_DIR/$1.agent.pid"
    test_atexit "kill \$(cat $TEST_DIR/$1.agent.pid) 2>/dev/null"
    retry_until 10 test -S "$TEST_DIR/$1.sock"
}

ag_ns_agent_kill() {
    kill "$(cat "$TEST_DIR/$1.agent.pid")"
}

# ag_state NODE: up or down, from agent.ls.
ag_state() {
    ag-call agentd agent.ls | tr '{' '\n' | grep "\"node\":\"$1\"" | sed 's/.*"state":"\([a-z]*\)".*/\1/'
}

# ag_field NODE KEY: a number from the node's agent.ls entry.
ag_field() {
    ag-call agentd agent.ls | tr '{' '\n' | grep "\"node\":\"$1\"" | sed "s/.*\"$2\":\([0-9]*\).*/\1/"
}

# Collect agentd events in $TEST_DIR/events until the end of the script.
ag_events_start() {
    plugnet events --json agentd.agent >"$TEST_DIR/events" 2>"$TEST_DIR/events.err" </dev/null &
    echo $! >"$TEST_DIR/events.pid"
    test_atexit "kill \$(cat $TEST_DIR/events.pid) 2>/dev/null"
    retry_until 10 grep -q subscribed "$TEST_DIR/events.err"
}

# ag_events up|down: the agent events of that type seen so far.
ag_events() {
    grep -E "\"action\":\"$1\"|\"agent\\.$1\"" "$TEST_DIR/events"
}

# ag_events_count N up|down [NODE]: have N such events (of NODE) arrived?
ag_events_count() {
    [ "$(ag_events "$2" | grep -c "\"node\":\"${3:-[^\"]*}\"")" -ge "$1" ]
}

# Is process PID alive (a zombie is not)?
ag_alive() {
    [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null
}

# ---------------------------------------------------------------- guests
# The tiny guest image (`make image`; `make check` builds it before the
# tests start, so parallel tests never race to build it): ag_need_image
# only checks it is there and sets the IMAGE, UML and QEMU prerequisites.
AG_MANIFEST=${PLUGNET_IMAGE_MANIFEST:-$PLUGNET_BUILD/image/manifest}
ag_need_image() {
    test_lazy_prereq IMAGE "no guest image: run 'make image' ($AG_MANIFEST)" '
        [ -r "$AG_MANIFEST" ] && . "$AG_MANIFEST" && [ -r "$ROOTFS" ]'
    test_lazy_prereq UML "no UML kernel in the image manifest" '
        . "$AG_MANIFEST" && [ -x "$UML_KERNEL" ]'
    test_lazy_prereq QEMU "no qemu or no qemu kernel in the image manifest" '
        . "$AG_MANIFEST" && [ -r "$QEMU_KERNEL" ] && [ -r "$QEMU_INITRD" ] && command -v qemu-system-x86_64'
    test_lazy_prereq GUEST_IPTABLES "the guest image has no iptables (apt-get install iptables; make image)" '
        . "$AG_MANIFEST" && [ "${IPTABLES:-no}" = yes ]'
}

# ag_plugnet_disk DIR: an ext2 disk labelled PLUGNET carrying the agent and
# a config script starting it, like cfgdiskd's (DIR/plugnet.img).
ag_plugnet_disk() {
    mkdir -p "$1/disk" &&
    cp "$PLUGNET_BUILD/bin/plugnet-agent" "$1/disk/" &&
    printf '#!/bin/sh\n/mnt/plugnet/plugnet-agent -d\necho "plugnet: agent started"\n' >"$1/disk/config" &&
    mke2fs -q -F -t ext2 -L PLUGNET -d "$1/disk" "$1/plugnet.img" 8M
}

# ag_uml_boot NAME [KERNEL ARGS...]: boot the tiny guest under UML with its
# agent line and console on NAME/agent.sock and NAME/console.sock (as vmd
# wires them) and register NAME with agentd.  Returns at once.
ag_uml_boot() {
    _u=$1; shift
    _d=$TEST_DIR/$_u
    mkdir -p "$_d" && ag_plugnet_disk "$_d" || return 1
    (. "$AG_MANIFEST" && exec ag-relay "$_d/agent.sock" "$_d/console.sock" "$_d/console.log" -- \
        "$UML_KERNEL" mem=96M umid="ag$TEST_TAG$_u" uml_dir="$_d" ubd0="$_d/cow,$ROOTFS" \
        ubd1r="$_d/plugnet.img" root=/dev/ubda rw quiet con=null ssl=null con0=fd:0,fd:1 ssl1=fd:3,fd:4 "$@" \
        "GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX2,-AVX") \
        >"$_d/relay.log" 2>&1 </dev/null &
    echo $! >"$_d/relay.pid"
    test_atexit "kill \$(cat $_d/relay.pid) 2>/dev/null"
    retry_until 10 test -S "$_d/agent.sock" &&
    ag-call agentd agent.register node="$_u" kind=uml path="$_d/agent.sock" started_ns:="$(date +%s%N)" >/dev/null
}

# ag_wait_up NAME [SECONDS]
ag_wait_up() {
    _t=${2:-90}
    ag-call -t $((_t * 1000 + 5000)) agentd agent.wait node="$1" timeout_ms:=$((_t * 1000)) >/dev/null
}

# ag_qemu_boot NAME [KERNEL ARGS...]: boot the tiny guest under qemu (TCG)
# wired as vmd does: the agent on a virtserialport org.plugnet.agent.0
# behind NAME/agent.sock, a root console (hvc0) behind NAME/console.sock;
# register NAME with agentd.  Returns at once.
ag_qemu_boot() {
    _q=$1; shift
    _d=$TEST_DIR/$_q
    mkdir -p "$_d" && ag_plugnet_disk "$_d" || return 1
    (. "$AG_MANIFEST" && qemu-img create -q -f qcow2 -b "$ROOTFS" -F raw "$_d/disk.qcow2" &&
     qemu-system-x86_64 -name "$_q" -accel tcg -m 256 -smp 1 -display none -nodefaults \
        -kernel "$QEMU_KERNEL" -initrd "$QEMU_INITRD" -append "console=ttyS0 quiet root=/dev/vda $*" \
        -drive file="$_d/disk.qcow2",format=qcow2,if=virtio,file.locking=off,backing.file.locking=off \
        -drive file="$_d/plugnet.img",format=raw,if=virtio,readonly=on,file.locking=off \
        -chardev file,id=ser0,path="$_d/console.log" -serial chardev:ser0 \
        -device virtio-serial-pci,id=vser0 \
        -chardev socket,id=con0,path="$_d/console.sock",server=on,wait=off,logfile="$_d/hvc.log" \
        -device virtconsole,bus=vser0.0,chardev=con0,name=console \
        -chardev socket,id=agent0,path="$_d/agent.sock",server=on,wait=off \
        -device virtserialport,bus=vser0.0,chardev=agent0,name=org.plugnet.agent.0 \
        -pidfile "$_d/qemu.pid" -daemonize) >"$_d/qemu.log" 2>&1 || { cat "$_d/qemu.log"; return 1; }
    test_atexit "kill \$(cat $_d/qemu.pid) 2>/dev/null"
    ag-call agentd agent.register node="$_q" kind=qemu path="$_d/agent.sock" started_ns:="$(date +%s%N)" \
        ${AG_KNOCK_MS:+knock_ms:=$AG_KNOCK_MS} >/dev/null
}

# ag_firewall_check NODE: the guest drops all IP traffic with iptables (ping
# to itself really fails), and exec and cp (3 MB both ways, checked) still
# work; the policies go back to ACCEPT at the end.
ag_firewall_check() {
    plugnet exec "$1" -- ping -c 1 -W 2 127.0.0.1 >/dev/null &&
    plugnet exec "$1" -- sh -c "iptables -P INPUT DROP; iptables -P OUTPUT DROP; iptables -P FORWARD DROP; iptables -F" &&
    plugnet exec "$1" -- iptables -S >rules &&
    grep -qx -- "-P INPUT DROP" rules && grep -qx -- "-P OUTPUT DROP" rules &&
    ! plugnet exec "$1" -- ping -c 1 -W 2 127.0.0.1 >ping.out 2>&1 &&
    ! grep -q "bytes from" ping.out &&
    head -c 3000000 /dev/urandom >fw && plugnet cp fw "$1:/tmp/fw" &&
    [ "$(plugnet exec "$1" -- sha256sum /tmp/fw | cut -d" " -f1)" = "$(sha256sum <fw | cut -d" " -f1)" ] &&
    plugnet cp "$1:/tmp/fw" fw.back && cmp fw fw.back &&
    plugnet exec "$1" -- sh -c "iptables -P INPUT ACCEPT; iptables -P OUTPUT ACCEPT; iptables -P FORWARD ACCEPT" &&
    plugnet exec "$1" -- ping -c 1 -W 2 127.0.0.1 >/dev/null
}

# ------------------------------------------------ stalling a UML guest (t4009)
# The UML kernel's own processes of a guest booted by ag_uml_boot: the
# process group of the relay's child, less the guest's user processes (UML
# runs each under ptrace: TracerPid is not 0).  Freezing those too kills
# the guest: when they continue, the tracer sees a stop it does not expect
# ("child stopped with signal 18") and panics.  With the kernel frozen its
# user processes freeze too, at their next system call or tick.
ag_uml_kernel_pids() {
    _pg=$(pgrep -P "$(cat "$TEST_DIR/$1/relay.pid")" linux.uml | head -n1)
    [ -n "$_pg" ] || return 1
    for _p in $(pgrep -g "$_pg"); do
        grep -q '^TracerPid:[[:space:]]*0$' "/proc/$_p/status" 2>/dev/null && echo "$_p"
    done
    return 0
}

# ag_uml_freeze NAME / ag_uml_thaw NAME: SIGSTOP / SIGCONT its kernel.
ag_uml_freeze() {
    _k=$(ag_uml_kernel_pids "$1") && [ -n "$_k" ] && echo "$_k" >"$TEST_DIR/$1/frozen" &&
    kill -STOP $_k
}
ag_uml_thaw() {
    # Thawed already (a cleanup after the body's own thaw): nothing to do.
    [ -s "$TEST_DIR/$1/frozen" ] || return 0
    kill -CONT $(cat "$TEST_DIR/$1/frozen") && rm -f "$TEST_DIR/$1/frozen"
}
