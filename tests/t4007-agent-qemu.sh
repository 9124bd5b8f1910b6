#!/bin/sh
# The agent in a real qemu guest (TCG) over its virtio serial port: exec,
# streams, cp, parallel sessions, a guest without network, agentd and guest
# restarts (the port's host side goes away and comes back), and the knock:
# a second guest, booted with plugnet.noconfig alongside the first (so the
# knock runs while the other guest is busy), gets its agent through its
# root console (hvc0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-agent.sh"
cd "$TEST_DIR" || exit 1
ag_need_image

test_expect_success ROOT,IMAGE,QEMU 'a qemu guest boots and starts its agent from its config disk' '
    pn_daemons_start agentd &&
    ag_events_start &&
    AG_KNOCK_MS=0 ag_qemu_boot q1 &&
    AG_KNOCK_MS=2000 ag_qemu_boot q2 plugnet.noconfig &&
    ag_wait_up q1 150 &&
    [ "$(plugnet exec q1 -- cat /proc/sys/kernel/hostname)" = plugnet ] &&
    ag_events up | grep -q "\"boot_ms\":"
'

test_expect_success ROOT,IMAGE,QEMU 'exit codes, signals, 10 MiB through stdin and stdout' '
    { plugnet exec q1 -- sh -c "exit 9"; [ $? = 9 ]; } &&
    { plugnet exec q1 -- sh -c "kill -KILL \$\$"; [ $? = 137 ]; } &&
    head -c 10485760 /dev/urandom >r10 &&
    plugnet exec q1 -- cat <r10 >r10.back &&
    cmp r10 r10.back
'

test_expect_success ROOT,IMAGE,QEMU 'cp -r with modes both ways, 16 parallel execs' '
    mkdir -p tree/a && echo one >tree/a/one && head -c 200000 /dev/urandom >tree/blob &&
    chmod 0710 tree/a && chmod 0640 tree/a/one &&
    plugnet cp -r tree q1:/tmp/ && plugnet cp -r q1:/tmp/tree back && diff -r tree back &&
    (cd tree && find . -printf "%p %m\n" | sort) >m1 && (cd back && find . -printf "%p %m\n" | sort) >m2 &&
    test_cmp m1 m2 &&
    i=0 && pids="" &&
    while [ $i -lt 16 ]; do
        { plugnet exec q1 -- echo $i >par.$i & } &&
        pids="$pids $!" && i=$((i+1)) || return 1
    done &&
    for p in $pids; do wait $p || return 1; done &&
    i=0 && while [ $i -lt 16 ]; do [ "$(cat par.$i)" = $i ] || return 1; i=$((i+1)); done
'

test_expect_success ROOT,IMAGE,QEMU,GUEST_IPTABLES 'iptables drops all IP traffic: ping fails, exec and cp still work' '
    ag_firewall_check q1
'

test_expect_success ROOT,IMAGE,QEMU 'the guest downs every interface: exec and cp still work' '
    plugnet exec q1 -- ip -o link >links && grep -q "[<,]UP[,>]" links &&
    plugnet exec q1 -- sh -c "for i in \$(ls /sys/class/net); do ip addr flush dev \$i && ip link set \$i down || exit 1; done" &&
    plugnet exec q1 -- ip -o addr >addrs &&
    test_grep_not inet addrs &&
    plugnet exec q1 -- ip -o link >links &&
    test -s links &&
    test_grep_not "[<,]UP[,>]" links &&
    [ "$(plugnet exec q1 -- echo still)" = still ] &&
    echo after >f && plugnet cp f q1:/tmp/f && [ "$(plugnet exec q1 -- cat /tmp/f)" = after ]
'

test_expect_success ROOT,IMAGE,QEMU 'agentd restarts: the guest agent answers the new one' '
    plugnet daemons stop agentd >/dev/null &&
    plugnet daemons start agentd >/dev/null &&
    ag-call agentd agent.register node=q1 kind=qemu path="$TEST_DIR/q1/agent.sock" knock_ms:=0 >/dev/null &&
    ag_wait_up q1 60 &&
    [ "$(plugnet exec q1 -- echo again)" = again ]
'

test_expect_success ROOT,IMAGE,QEMU 'a reboot: down, then up with the new agent' '
    kill $(cat events.pid) && ag_events_start &&
    plugnet exec q1 -- reboot &&
    retry_until 60 ag_events_count 1 down q1 &&
    retry_until 150 ag_events_count 1 up q1 &&
    [ "$(plugnet exec q1 -- cut -d. -f1 /proc/uptime)" -lt 150 ]
'

test_expect_success ROOT,IMAGE,QEMU 'the knock: a guest booted with plugnet.noconfig gets its agent through the console' '
    ag_wait_up q2 150 &&
    grep -q "config skipped" q2/console.log &&
    grep -q "q2: knocking" "$PLUGNET_STATE_DIR/log/agentd.log" &&
    [ "$(plugnet exec q2 -- echo knocked)" = knocked ] &&
    [ "$(plugnet exec q2 -- grep -c " /run/plugnet-knock " /proc/mounts)" = 1 ]
'

test_done
