#!/bin/sh
# Install the Debian packages plugnet needs to build, test, bench and demo.
# Idempotent and quiet when everything is there.
set -eu
PKGS="
build-essential pkg-config clang libclang-rt-14-dev
libzmq3-dev libczmq-dev libmsgpack-dev libsystemd-dev libyaml-dev libpcap-dev libmd-dev
e2fsprogs qemu-utils qemu-system-x86 user-mode-linux busybox-static musl-tools
linux-image-cloud-amd64 kmod cpio
vde2 iproute2 iputils-ping tcpdump tshark iperf3 mininet bridge-utils
mtools dosfstools xorriso cloud-init graphviz
python3-zmq python3-msgpack tmux socat procps psmisc file jq
systemd-container debootstrap hyperfine bash-completion iptables
"
missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
