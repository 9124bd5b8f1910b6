#!/bin/sh
# b30: config disk build time, fresh and cached, for both formats.
# Peers: the bare tools on the same content (mke2fs -d for the PLUGNET
# disk, mkfs.vfat + mcopy for the cidata seed), i.e. what a build costs
# without validation, reproducibility fix-ups, hashing and the cache.
# Times are per disk, through plugnet-cfgdiskd (client round trip included).
set -u
: "${PLUGNET_BUILD:=$(cd "$(dirname "$0")/.." && pwd)/build}"
PATH="$PLUGNET_BUILD/bin:/usr/sbin:/sbin:$PATH"
N=${B30_N:-20}
HITS=${B30_HITS:-200}
D=$(mktemp -d /tmp/pn-b30.XXXXXX)
export PLUGNET_RUN_DIR=$D/run PLUGNET_STATE_DIR=$D/state MTOOLS_SKIP_CHECK=1
trap 'plugnet daemons stop >/dev/null 2>&1; rm -rf "$D"' EXIT INT TERM
plugnet daemons start cfgdiskd >/dev/null || { echo "b30: cannot start cfgdiskd"; exit 1; }

now_us() { echo $(( $(date +%s%N) / 1000 )); }
KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPzAABld3FpYyc/ig2AwJdNPibGWuFjKwT0dEyTAyaJk alice@lab'
spec() { # NAME NUMBER FORMAT
    printf '{"name":"%s","number":%s,"format":"%s","nics":[{"ifname":"eth0","mac":"02:00:00:%02x:00:00",' \
        "$1" "$2" "$3" "$(( $2 % 100 ))"
    printf '"addrs":["10.0.0.%s/24","fd00::%x/64"],"gateway":"10.0.0.254"}],"keys":["%s"],' "$(( $2 % 250 + 1 ))" "$2" "$KEY"
    printf '"hosts":[{"ip":"10.0.0.254","names":["gw"]}],"files":[{"path":"/etc/motd","content":"hello %s\\n"}],' "$1"
    printf '"script":"echo hi\\n"}\n'
}

# fresh FORMAT: mean us per new disk over N distinct specs (one connection).
fresh() {
    i=0 files=""
    while [ $i -lt "$N" ]; do
        spec "b$i" $((i + 1)) "$1" >"$D/s.$1.$i" && files="$files @$D/s.$1.$i"
        i=$((i + 1))
    done
    cd-call -r "$N" cfgdiskd disk.build $files
}
# hit FORMAT: mean us per cached request.
hit() { cd-call -r "$HITS" cfgdiskd disk.build "@$D/s.$1.0"; }
# A bare round trip (ping): the transport's own cost, for reference.
rtt() { cd-call -r "$HITS" cfgdiskd ping; }
# Peers on the same content.
peer_ext2() {
    mkdir -p "$D/tree/files/etc"
    debugfs -R "rdump / $D/tree" "$(ls "$D"/state/cfgdisk/*.plugnet.img | head -n1)" 2>/dev/null
    t0=$(now_us)
    i=0
    while [ $i -lt "$N" ]; do
        rm -f "$D/p.img" && truncate -s 1M "$D/p.img" &&
            mke2fs -q -F -t ext2 -b 1024 -L PLUGNET -d "$D/tree" "$D/p.img" || return 1
        i=$((i + 1))
    done
    echo $(( ($(now_us) - t0) / N ))
}
peer_vfat() {
    img=$(ls "$D"/state/cfgdisk/*.cidata.img | head -n1)
    for f in meta-data user-data network-config; do mtype -i "$img" "::$f" >"$D/$f"; done
    t0=$(now_us)
    i=0
    while [ $i -lt "$N" ]; do
        rm -f "$D/v.img" && truncate -s 1M "$D/v.img" && mkfs.vfat -n cidata "$D/v.img" >/dev/null 2>&1 &&
            mcopy -i "$D/v.img" "$D/meta-data" "$D/user-data" "$D/network-config" :: || return 1
        i=$((i + 1))
    done
    echo $(( ($(now_us) - t0) / N ))
}

r=$(rtt)
pf=$(fresh plugnet) && ph=$(hit plugnet) && pe=$(peer_ext2) || { echo "b30: plugnet part failed"; exit 1; }
cf=$(fresh cidata) && ch=$(hit cidata) && pv=$(peer_vfat) || { echo "b30: cidata part failed"; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
printf '%-34s %12s %12s %8s\n' "case ($N disks, $HITS hits)" plugnet peer ratio
printf '%-34s %9d us %12s %8s\n' "client round trip (ping)" "$r" - -
printf '%-34s %9d us %9d us %8s\n' "PLUGNET ext2 disk, fresh build" "$pf" "$pe" "$(ratio "$pf" "$pe")"
printf '%-34s %9d us %9d us %8s\n' "PLUGNET ext2 disk, cache hit" "$ph" "$pe" "$(ratio "$ph" "$pe")"
printf '%-34s %9d us %9d us %8s\n' "cidata vfat seed, fresh build" "$cf" "$pv" "$(ratio "$cf" "$pv")"
printf '%-34s %9d us %9d us %8s\n' "cidata vfat seed, cache hit" "$ch" "$pv" "$(ratio "$ch" "$pv")"
echo "(peer: bare mke2fs -d / mkfs.vfat + mcopy on the same files, no validation, fix-ups, hashing or cache)"
