#!/bin/bash
# Random bytes, malformed and oversized messages thrown at every daemon's
# ctl socket: each is refused or dropped, and the daemon keeps answering.
. "$(dirname "$0")/lib.sh"

test_expect_success 'start the daemons' 'pn_daemons_start >/dev/null'

for svc in switchd vmd cfgdiskd agentd; do
    test_expect_success "$svc survives garbage on its ctl socket" "
        date +%s >t0.$svc &&
        pn-ctl-abuse $svc >out 2>&1 || { cat out; false; } &&
        date +%s >t1.$svc &&
        plugnet call $svc status >st.json &&
        grep -q '\"bad_requests\":[1-9]' st.json
    "
done

# Refusals and dropped messages share one limit: a burst of 5, then one
# line a second.  (Which kind gets the burst depends on the random garbage,
# so they are counted together; a slow run, a sanitizer build on a loaded
# machine, may log a line more per second, never one per message: switchd
# refused and dropped well over 200.)
test_expect_success 'refusals are logged rate-limited, not once per message' '
    n=$(grep -c -E "refused a request|dropped a malformed" "$PLUGNET_STATE_DIR/log/switchd.log") &&
    max=$(( 5 + $(cat t1.switchd) - $(cat t0.switchd) + 1 )) &&
    echo "$n lines, at most $max allowed" &&
    [ "$n" -ge 1 ] && [ "$n" -le "$max" ]
'

test_done
