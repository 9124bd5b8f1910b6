#!/bin/sh
# `plugnet events --json` speaks the containerlab events shape: one object
# per line with timestamp, type, action, actor {id, attributes}, attributes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab-lib.sh"
cd "$TEST_DIR" || exit 1

test_expect_success 'switchd starts' '
    pn_daemons_start switchd
'

test_expect_success 'events --json gives one containerlab-shaped object per line' '
    plugnet events --json -n 2 --timeout 20 switchd.lan >ev.json 2>ev.err &
    echo $! >ev.pid &&
    retry_until 10 grep -q "^# subscribed" ev.err &&
    plugnet lan add evlan &&
    plugnet lan del evlan &&
    wait $(cat ev.pid) &&
    test $(wc -l <ev.json) = 2 &&
    /usr/bin/python3 - ev.json <<-\PY
	import json, re, sys
	lines = [json.loads(l) for l in open(sys.argv[1])]
	for ev in lines:
	    assert sorted(ev) == ["action", "actor", "attributes", "timestamp", "type"], ev
	    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", ev["timestamp"]), ev
	    assert ev["type"] == "lan" and ev["actor"]["id"] == "evlan", ev
	    assert ev["actor"]["attributes"]["name"] == "evlan", ev
	    assert all(isinstance(v, str) for v in ev["actor"]["attributes"].values()), ev
	    assert ev["attributes"]["source"] == "switchd", ev
	    assert ev["attributes"]["topic"] == "switchd.lan", ev
	assert [e["action"] for e in lines] == ["added", "removed"], lines
	assert lines[1]["attributes"]["seq"] > lines[0]["attributes"]["seq"]
	PY
'

test_done
