#!/bin/sh
# Control plane: ping round trips per second, one client and four clients.
# Goal: >= 10,000 round trips/s from one client.
set -eu
T=$(mktemp -d /tmp/pn-bench.XXXXXX)
export PLUGNET_RUN_DIR=$T/run PLUGNET_STATE_DIR=$T/state
trap 'plugnet daemons stop >/dev/null 2>&1; rm -rf "$T"' EXIT
plugnet daemons start switchd >/dev/null
one=$(pn-bench-ping switchd 1 3)
four=$(pn-bench-ping switchd 4 3)
printf '%-44s %10s\n' "control plane (ping to switchd)" "rt/s"
printf '%-44s %10s   goal >= 10000: %s\n' "  1 client" "$one" "$([ "$one" -ge 10000 ] && echo met || echo MISSED)"
printf '%-44s %10s   (%s x one client)\n' "  4 concurrent clients" "$four" "$(echo "scale=2; $four / $one" | bc 2>/dev/null || awk "BEGIN{printf \"%.2f\", $four/$one}")"
