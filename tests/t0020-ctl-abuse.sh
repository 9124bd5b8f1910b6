#!/bin/bash
# Random bytes, malformed and oversized messages thrown at every daemon's
# ctl socket: each is refused or dropped, and the daemon keeps answering.
. "$(dirname "$0")/lib.sh"

test_expect_success 'start the daemons' 'pn_daemons_start >/dev/null'

for svc in switchd vmd cfgdiskd agentd; do
    test_expect_success "$svc survives garbage on its ctl socket" "
        pn-ctl-abuse $svc >out 2>&1 || { cat out; false; } &&
        plugnet call $svc status >st.json &&
        grep -q '\"bad_requests\":[1-9]' st.json
    "
done

test_expect_success 'refusals are logged rate-limited, not once per message' '
    n=$(grep -c "refused a request" "$PLUGNET_STATE_DIR/log/switchd.log") &&
    [ "$n" -ge 1 ] && [ "$n" -le 20 ]
'

test_done
