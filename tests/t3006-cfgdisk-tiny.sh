#!/bin/sh
# The tiny guest image (make image) boots under UML and under qemu (TCG)
# with a disk from `plugnet disk build` as its second disk: its boot script
# finds the PLUGNET disk and runs the disk's config, which names the guest,
# configures its NIC found by MAC, installs files, runs the user's script
# and starts the agent, up to "plugnet: config done" on the console.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"
. "$(dirname "$0")/cd-lib.sh"

PORT=$(( 20000 + 0x$TEST_TAG % 20000 ))
printf '#!/bin/sh\necho "agent started: $*"\n' >"$TEST_DIR/agent"
chmod 755 "$TEST_DIR/agent"
export PLUGNET_AGENT="$TEST_DIR/agent"
printf 'hello from the tiny guest\n' >"$TEST_DIR/motd"
# The user's script reports what the guest looks like once configured.
cat >"$TEST_DIR/script.sh" <<'EOF'
echo
echo "== hostname $(hostname)"
ip -o -4 addr show | sed 's/^/== addr /'
ip route show | sed 's/^/== route /'
sed 's/^/== motd /' /etc/motd
grep -q "^10.9.0.1	gw$" /etc/hosts && echo "== hosts ok"
test -s /root/.ssh/authorized_keys && echo "== keys ok"
EOF
printf '%s\n' "$KEY1" >"$TEST_DIR/key.pub"

check_console() {
    grep "^==\|plugnet:\|agent" "$1" &&
    ! grep "plugnet: config:" "$1" &&
    grep -qx "agent started: -d" "$1" &&
    grep -q "== hostname tiny-one$" "$1" &&
    grep -q "^== addr [0-9]*: eth0 *inet 10.9.0.9/24 " "$1" &&
    grep -q "^== route default via 10.9.0.1 dev eth0" "$1" &&
    grep -q "^== route 10.99.0.0/16 via 10.9.0.1 dev eth0" "$1" &&
    grep -qx "== motd hello from the tiny guest" "$1" &&
    grep -qx "== hosts ok" "$1" &&
    grep -qx "== keys ok" "$1"
}

test_expect_success 'make image, and plugnet disk build makes the guest disk' '
    pn_image &&
    . "$PLUGNET_BUILD/image/manifest" &&
    plugnet disk build tiny --number 9 --hostname tiny-one \
        --nic eth0,mac=02:00:00:09:00:00,ip=10.9.0.9/24,gw=10.9.0.1 \
        --route 10.99.0.0/16,via=10.9.0.1 --host 10.9.0.1=gw --key "$TEST_DIR/key.pub" \
        --file "$TEST_DIR/motd:/etc/motd" --script "$TEST_DIR/script.sh" -o "$TEST_DIR/disk.img"
'

test_expect_success UML 'UML: the tiny guest configures itself from the disk' '
    uml_dir="$TEST_DIR/uml" && mkdir -p "$uml_dir" &&
    setsid vm-uml-exec --tunables "$UML_KERNEL" mem=64M umid=cd$TEST_TAG uml_dir="$uml_dir" \
        ubd0="$uml_dir/cow,$ROOTFS" ubd1r="$TEST_DIR/disk.img" root=/dev/ubda rw quiet \
        eth0=mcast,02:00:00:09:00:00,239.192.9.9,$PORT,1 \
        con0=fd:0,fd:1 con=null ssl=null </dev/null >"$TEST_DIR/uml.log" 2>&1 &
    pid=$! &&
    test_when_finished "kill_wait $pid" &&
    wait_for_line 60 "$TEST_DIR/uml.log" "^plugnet: config done" &&
    tr -d "\r" <"$TEST_DIR/uml.log" >"$TEST_DIR/uml.txt" &&
    check_console "$TEST_DIR/uml.txt"
'

test_expect_success QEMU 'qemu (TCG): the tiny guest configures itself from the disk' '
    setsid qemu-system-x86_64 -accel tcg -m 128 -nographic -nodefaults -no-reboot -serial stdio \
        -kernel "$QEMU_KERNEL" -initrd "$QEMU_INITRD" -append "console=ttyS0 quiet" \
        -drive file="$ROOTFS",format=raw,if=virtio,snapshot=on,file.locking=off \
        -drive file="$TEST_DIR/disk.img",format=raw,if=virtio,readonly=on,file.locking=off \
        -netdev socket,id=n0,mcast=239.192.9.10:$PORT -device virtio-net-pci,netdev=n0,mac=02:00:00:09:00:00 \
        </dev/null >"$TEST_DIR/qemu.log" 2>&1 &
    pid=$! &&
    test_when_finished "kill_wait $pid" &&
    wait_for_line 80 "$TEST_DIR/qemu.log" "^plugnet: config done" &&
    tr -d "\r" <"$TEST_DIR/qemu.log" >"$TEST_DIR/qemu.txt" &&
    check_console "$TEST_DIR/qemu.txt"
'

test_done
