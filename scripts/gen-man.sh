#!/bin/sh
# Write plugnet(1) in roff to stdout, from the help of the plugnet binary
# given as $1 (`plugnet help` and `plugnet help COMMAND` for every command
# it lists), plus the fixed sections below.  Run by `make` at build time.
set -eu
bin=$1
ver=$("$bin" --version 2>/dev/null | awk '{print $NF}' | head -n1)
# roff: escape backslashes, and protect lines starting with . or '
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

cat <<HDR
.TH PLUGNET 1 "" "plugnet ${ver:-}" "plugnet manual"
.SH NAME
plugnet \- a virtual network laboratory: UML, qemu and namespace nodes on userspace LANs
.SH SYNOPSIS
.B plugnet
.RB [ \-\-json ]
.RB [ \-\-timeout
.IR S ]
.I COMMAND
.RI [ ARGS ...]
.SH DESCRIPTION
plugnet boots machines (User Mode Linux, qemu with KVM or TCG, or network
namespaces), switches their Ethernet frames in its own userspace switch, hands
each machine a generated config disk, and reaches every machine through an
in-guest agent that needs no IP configuration.  Four daemons do the work
(plugnet-switchd, plugnet-vmd, plugnet-cfgdiskd, plugnet-agentd); this command
talks to them.
.SH COMMANDS
HDR
"$bin" help | awk '/^Commands:/{on=1; next} /^$/{on=0} on' | while read -r name doc; do
    printf '.TP\n.B %s\n' "$name"
    printf '%s\n' "$doc" | esc
done
echo ".SH COMMAND DETAILS"
"$bin" help | awk '/^Commands:/{on=1; next} /^$/{on=0} on {print $1}' | while read -r name; do
    [ "$name" = help ] && continue
    out=$("$bin" help "$name" 2>&1 || true)
    [ -n "$out" ] || continue
    printf '.SS %s\n.nf\n' "$name"
    printf '%s\n' "$out" | esc
    printf '.fi\n'
done
cat <<'TAIL'
.SH TOPOLOGY FILES
.B plugnet up
reads the containerlab topology format
.RI ( .clab.yml ):
.PP
.nf
name: demo
topology:
  defaults: {kind: uml, memory: 96MiB}     # defaults < kinds.<kind> < node
  kinds: {qemu: {memory: 192MiB}}
  nodes:
    h1: {exec: ["ip route add default via 10.0.1.254"]}
    r1: {kind: qemu, cpus: 1}
    n1: {kind: linux, env: {A: b}}          # linux = ns, generic_vm = qemu
    sw: {kind: bridge}                      # a LAN
  links:
    - endpoints: ["h1:eth2", "r1:eth2"]     # point-to-point: a two-port LAN
    - endpoints: ["n1:eth1", "sw:any"]
    - type: veth
      endpoints:
        - {node: h1, interface: eth1, mac: "02:aa:00:00:00:01", ipv4: 10.0.1.1/24}
        - {node: sw, interface: any}
.fi
.PP
Node keys: kind (uml, qemu, ns, bridge), image, memory (256MiB, 1GiB), cpus,
exec (commands run through the agent after boot), env (for exec), cmd (ns:
the command the node runs), mgmt-ipv4.  Interfaces are eth1..eth31; eth0 is
the management NIC on LAN mgmt.  Bridges linked to each other form one LAN; a
cycle of bridges is refused.  Unknown keys are warnings; every error names
file:line:column and the key.
.SH FILES
.TP
.I RUN/<svc>.ctl, RUN/<svc>.pub
each daemon's request socket and event bus (ZeroMQ, msgpack)
.TP
.I RUN/lan/<lan>/ctl
a LAN's VDE control socket
.TP
.I STATE/nodes/<name>/
a node's overlay, config disk, console.log and sockets
.TP
.I STATE/labs/<lab>.state
what a lab brought up by plugnet up created
.SH ENVIRONMENT
.TP
.B PLUGNET_RUN_DIR
the runtime directory RUN (default /run/plugnet for root, else $XDG_RUNTIME_DIR/plugnet)
.TP
.B PLUGNET_STATE_DIR
the state directory STATE (default /var/lib/plugnet for root, else ~/.local/state/plugnet)
.TP
.B PLUGNET_UP_TIMEOUT
seconds plugnet up waits for nodes to boot (default 300)
.SH EXIT STATUS
0 ok, 1 a daemon refused, 2 usage, 3 a daemon is unreachable.
.SH EXAMPLES
.nf
plugnet daemons start
plugnet up examples/demo.clab.yml
plugnet node ls
plugnet exec h1 \-\- ping \-c 3 10.0.2.2
plugnet graph \-\-format svg \-o lab.svg
plugnet events \-\-json
plugnet down examples/demo.clab.yml
.fi
.SH SEE ALSO
.BR vde_plug (1),
.BR qemu (1),
.BR tshark (1),
.BR dot (1)
TAIL
