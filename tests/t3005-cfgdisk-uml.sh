#!/bin/sh
# A real guest: a User Mode Linux kernel boots (root = the host's file
# system through hostfs, read-only; init = a tiny busybox script), finds the
# disk labelled PLUGNET that `plugnet disk build` made (ubd1), mounts it and
# runs its config, which sets the host name, finds the NICs by MAC (the
# spec's eth0 is the guest's eth1 and vice versa), adds addresses and
# routes, writes /etc/hosts, starts the agent and says "plugnet: config done"
# on the console.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cd-lib.sh"

UML=$(command -v linux.uml || command -v linux || true)
test_lazy_prereq UML "user-mode-linux is not installed" 'test -x "$UML"'
test_lazy_prereq BUSYBOX "busybox-static is not installed" 'test -x /bin/busybox'
# UML's mcast transport: a port of this test's own so parallel tests do not hear each other.
PORT=$(( 20000 + 0x$TEST_TAG % 20000 ))

printf '#!/bin/sh\necho "agent started: $*"\n' >"$TEST_DIR/agent"
chmod 755 "$TEST_DIR/agent"
export PLUGNET_AGENT="$TEST_DIR/agent"

# The guest's init: everything it needs comes from the host read-only; what
# the config writes goes to a tmpfs (ROOT).  The first command names busybox
# by path: until /proc is the guest's, /proc/self/exe (which busybox uses to
# run its applets) would be the UML binary itself, seen through hostfs.
mkdir "$TEST_DIR/bb" && /bin/busybox --install -s "$TEST_DIR/bb"
cat >"$TEST_DIR/init" <<EOF
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
export PATH=$TEST_DIR/bb
mount -t sysfs sys /sys
mount -t tmpfs run /run
mount -t tmpfs mnt /mnt
mkdir -p /mnt/plugnet /mnt/root
dev=\$(findfs LABEL=PLUGNET)
echo "== PLUGNET disk at \$dev"
mount -t ext2 -o ro "\$dev" /mnt/plugnet
ROOT=/mnt/root /mnt/plugnet/config
echo "== hostname \$(hostname)"
ip -o -4 addr show | sed 's/^/== addr /'
ip route show | sed 's/^/== route /'
sed 's/^/== hosts /' /mnt/root/etc/hosts
poweroff -f
EOF
chmod 755 "$TEST_DIR/init"

test_expect_success 'plugnet disk build makes the guest disk' '
    plugnet disk build u1 --number 7 --hostname uml-one \
        --nic eth0,mac=02:00:00:07:00:01,ip=10.7.0.7/24,gw=10.7.0.1 \
        --nic eth1,mac=02:00:00:07:00:00,ip=10.17.0.7/24 \
        --route 10.8.0.0/16,via=10.7.0.1 --host 10.7.0.1=gw \
        -o "$TEST_DIR/disk.img"
'

test_expect_success UML,BUSYBOX 'a UML guest boots with the disk as ubd1 and configures itself' '
    timeout 120 vm-uml-exec --tunables "$UML" mem=96M root=/dev/root rootfstype=hostfs rootflags=/ ro \
        ubd1r="$TEST_DIR/disk.img" \
        eth0=mcast,02:00:00:07:00:00,239.192.7.7,$PORT,1 \
        eth1=mcast,02:00:00:07:00:01,239.192.7.8,$PORT,1 \
        init="$TEST_DIR/init" con=null con0=fd:0,fd:1 \
        </dev/null >"$TEST_DIR/console.raw" 2>&1;
    rc=$? &&
    tr -d "\r" <"$TEST_DIR/console.raw" | tr -c "[:print:]\n\t" "?" >"$TEST_DIR/console" &&
    grep "^==\|plugnet:\|agent" "$TEST_DIR/console";
    test $rc = 0 &&
    grep -qx "== PLUGNET disk at /dev/ubdb" "$TEST_DIR/console" &&
    grep -qx "plugnet: config done" "$TEST_DIR/console" &&
    ! grep "plugnet: config:" "$TEST_DIR/console" &&
    grep -qx "agent started: -d" "$TEST_DIR/console" &&
    grep -qx "== hostname uml-one" "$TEST_DIR/console" &&
    grep -q "^== addr [0-9]*: eth1 *inet 10.7.0.7/24 " "$TEST_DIR/console" &&
    grep -q "^== addr [0-9]*: eth0 *inet 10.17.0.7/24 " "$TEST_DIR/console" &&
    grep -q "^== route default via 10.7.0.1 dev eth1" "$TEST_DIR/console" &&
    grep -q "^== route 10.8.0.0/16 via 10.7.0.1 dev eth1" "$TEST_DIR/console" &&
    grep -q "^== hosts 10.7.0.1	gw$" "$TEST_DIR/console" &&
    grep -q "^== hosts 127.0.1.1	uml-one$" "$TEST_DIR/console"
'

test_done
