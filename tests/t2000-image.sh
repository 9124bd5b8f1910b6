#!/bin/bash
# The tiny default guest image: built from Debian packages, boots to the
# PLUGNET disk's config script under UML and qemu (TCG), and honours
# plugnet.noconfig.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-vmd.sh"

test_expect_success 'make image builds a manifest with every path' '
    pn_image &&
    . "$PLUGNET_BUILD/image/manifest" &&
    test -f "$ROOTFS" && test -x "$UML_KERNEL" && test -f "$QEMU_KERNEL" && test -f "$QEMU_INITRD" &&
    case "$ROOTFS$UML_KERNEL$QEMU_KERNEL$QEMU_INITRD" in *" "*) false ;; esac &&
    dumpe2fs -h "$ROOTFS" 2>/dev/null | grep -q "Filesystem features:.*extent"
'

test_expect_success 'a second make image is quick and changes nothing' '
    before=$(stat -c %Y "$ROOTFS") &&
    t0=$(date +%s%N) &&
    "$PLUGNET_SRC/images/tiny/build.sh" "$PLUGNET_BUILD/image" | grep -q "up to date" &&
    t1=$(date +%s%N) &&
    test $(( (t1 - t0) / 1000000 )) -lt 2000 &&
    test "$(stat -c %Y "$ROOTFS")" = "$before"
'

# A PLUGNET disk made by hand: its config proves it ran.
mkdir -p "$TEST_DIR/cfg"
cat >"$TEST_DIR/cfg/config" <<'CFG'
#!/bin/sh
echo "config-ran-$(cat /proc/sys/kernel/ostype)-$(id -u)"
CFG
mke2fs -q -F -t ext2 -L PLUGNET -d "$TEST_DIR/cfg" "$TEST_DIR/cfg.img" 4M >/dev/null 2>&1
sum0=$(sha256sum <"$ROOTFS")
uml_dir="$TEST_DIR/uml"
mkdir -p "$TEST_DIR/uml" "$TEST_DIR/uml2"

test_expect_success UML 'UML boots the image, runs the config script, leaves a shell' '
    # (alone on its line: "a && b &" would background the whole list)
    vm-uml-exec --tunables "$UML_KERNEL" mem=128M umid=img$TEST_TAG uml_dir="$uml_dir" \
        ubd0="$uml_dir/cow,$ROOTFS" ubd1r="$TEST_DIR/cfg.img" root=/dev/ubda rw quiet \
        con0=fd:0,fd:1 con=null ssl=null </dev/null >"$TEST_DIR/uml.log" 2>&1 &
    pid=$! &&
    test_when_finished "kill_wait $pid" &&
    wait_for_line 120 "$TEST_DIR/uml.log" "config-ran-Linux-0" &&
    wait_for_line 10 "$TEST_DIR/uml.log" "plugnet: config done"
'

test_expect_success QEMU 'qemu (TCG) boots the image through its initramfs and runs the config script' '
    qemu-system-x86_64 -accel tcg -m 128 -nographic -nodefaults -no-reboot -serial stdio \
        -kernel "$QEMU_KERNEL" -initrd "$QEMU_INITRD" -append "console=ttyS0 quiet no_timer_check" \
        -drive file="$ROOTFS",format=raw,if=virtio,snapshot=on,file.locking=off \
        -drive file="$TEST_DIR/cfg.img",format=raw,if=virtio,readonly=on,file.locking=off \
        </dev/null >"$TEST_DIR/qemu.log" 2>&1 &
    pid=$! &&
    test_when_finished "kill_wait $pid" &&
    wait_for_line 180 "$TEST_DIR/qemu.log" "config-ran-Linux-0" &&
    wait_for_line 10 "$TEST_DIR/qemu.log" "plugnet: config done"
'

test_expect_success UML 'plugnet.noconfig skips the config script' '
    uml_dir="$TEST_DIR/uml2"
    vm-uml-exec --tunables "$UML_KERNEL" mem=128M umid=nc$TEST_TAG uml_dir="$uml_dir" \
        ubd0="$uml_dir/cow,$ROOTFS" ubd1r="$TEST_DIR/cfg.img" root=/dev/ubda rw quiet plugnet.noconfig \
        con0=fd:0,fd:1 con=null ssl=null </dev/null >"$TEST_DIR/uml2.log" 2>&1 &
    pid=$! &&
    test_when_finished "kill_wait $pid" &&
    wait_for_line 120 "$TEST_DIR/uml2.log" "plugnet: config skipped" &&
    ! grep -q config-ran "$TEST_DIR/uml2.log"
'

test_expect_success 'the guests never wrote the base image' '
    test "$(sha256sum <"$ROOTFS")" = "$sum0"
'

test_done
