#!/bin/bash
# The systemd units: installed by `make install-files`, @PREFIX@ replaced,
# `systemd-analyze verify` has nothing to say, and every service carries the
# settings the restart-without-loss story depends on.
. "$(dirname "$0")/lib.sh"

test_lazy_prereq ANALYZE "systemd-analyze is not installed" 'command -v systemd-analyze'

cd "$TEST_DIR" || exit 1
prefix="$TEST_DIR/prefix"
units="$prefix/lib/systemd/system"

test_expect_success 'make install-files puts binaries, units and docs under PREFIX' '
    make -s -C "$PLUGNET_SRC" install-files BUILD="$PLUGNET_BUILD" PREFIX="$prefix" >make.out 2>&1 &&
    (for b in plugnet plugnet-switchd plugnet-vmd plugnet-agentd plugnet-cfgdiskd; do
        [ -x "$prefix/bin/$b" ] || { echo "missing bin/$b"; exit 1; }
    done) &&
    [ -f "$prefix/share/doc/plugnet/README.md" ] &&
    (for u in plugnet.target plugnet-switchd.service plugnet-vmd.service plugnet-agentd.service plugnet-cfgdiskd.service; do
        [ -f "$units/$u" ] || { echo "missing unit $u"; exit 1; }
    done) &&
    ! grep -n "@PREFIX@" "$units"/plugnet* &&
    grep -q "^ExecStart=$prefix/bin/plugnet-vmd " "$units/plugnet-vmd.service"
'

test_expect_success ANALYZE 'systemd-analyze verify is clean (no warning at all)' '
    systemd-analyze verify "$units"/plugnet* >verify.out 2>&1
    rc=$?
    cat verify.out
    [ $rc = 0 ] && [ ! -s verify.out ]
'

test_expect_success ANALYZE 'systemd-analyze verify would notice a bad unit' '
    mkdir -p bad && cp "$units"/plugnet* bad/ &&
    echo "Bogus=1" >>bad/plugnet-agentd.service &&
    systemd-analyze verify bad/plugnet* >bad.out 2>&1
    grep -q "Unknown key .Bogus." bad.out
'

test_expect_success 'every service: notify, watchdog, restart, shared run and state dirs' '
    (for svc in switchd vmd agentd cfgdiskd; do
        f="$units/plugnet-$svc.service"
        for want in Type=notify NotifyAccess=main "WatchdogSec=[0-9]" Restart=on-failure \
                    RuntimeDirectory=plugnet RuntimeDirectoryPreserve=yes StateDirectory=plugnet \
                    PartOf=plugnet.target WantedBy=plugnet.target; do
            grep -q "^$want" "$f" || { echo "$svc: no $want"; exit 1; }
        done
    done)
'

test_expect_success 'vmd keeps its nodes on restart and starts after the others' '
    f="$units/plugnet-vmd.service" &&
    grep -q "^KillMode=process" "$f" &&
    (for svc in switchd cfgdiskd agentd; do
        grep -q "^Wants=.*plugnet-$svc.service" "$f" && grep -q "^After=.*plugnet-$svc.service" "$f" || exit 1
    done) &&
    ! grep -qE "^(ProtectSystem|PrivateTmp|PrivateMounts|ProtectHome|PrivateDevices)=" "$f"
'

test_expect_success 'switchd keeps its fds in the store; cfgdiskd has no network and no privilege' '
    grep -q "^FileDescriptorStoreMax=[1-9]" "$units/plugnet-switchd.service" &&
    grep -q "^Environment=FDSTORE=[1-9]" "$units/plugnet-switchd.service" &&
    grep -q "^DeviceAllow=/dev/net/tun" "$units/plugnet-switchd.service" &&
    f="$units/plugnet-cfgdiskd.service" &&
    grep -qx "PrivateNetwork=yes" "$f" && grep -qx "ProtectSystem=strict" "$f" &&
    grep -qx "NoNewPrivileges=yes" "$f" && grep -qx "CapabilityBoundingSet=" "$f"
'

test_done
