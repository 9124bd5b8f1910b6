#!/bin/sh
# examples/watch_events.py, the Python event-bus client, subscribes to all
# four daemons and sees the events this test causes.
. "$(dirname "$0")/lib.sh"
cd "$TEST_DIR" || exit 1

test_lazy_prereq PYZMQ "python3-zmq or python3-msgpack missing (scripts/deps.sh)" \
    '/usr/bin/python3 -c "import zmq, msgpack"'

test_expect_success PYZMQ 'the daemons start and the watcher subscribes' '
    pn_daemons_start &&
    { /usr/bin/python3 "$PLUGNET_SRC/examples/watch_events.py" >events.out 2>watch.err & } &&
    echo $! >watcher.pid &&
    test_atexit "kill \$(cat \"$TEST_DIR/watcher.pid\") 2>/dev/null" &&
    retry_until 10 grep -q "^watching $PLUGNET_RUN_DIR" events.out
'

# A PUB socket drops what it sends before a subscriber has joined, so
# poke switchd until the watcher has seen one of its events.
poke() {
    n=$(( $(cat pokes 2>/dev/null || echo 0) + 1 )) && echo $n >pokes &&
    plugnet lan add "poke$n" >/dev/null && plugnet lan del "poke$n" >/dev/null &&
    grep -q "switchd.lan lan.removed" events.out
}

test_expect_success PYZMQ 'it sees a LAN come and go' '
    retry_until 20 poke &&
    plugnet lan add watched &&
    plugnet lan del watched &&
    retry_until 10 grep -q "switchd.lan lan.removed {\"name\": \"watched\"" events.out &&
    grep -q "switchd.lan lan.added {\"name\": \"watched\"" events.out
'

# Restarting a daemon publishes daemon.stopping on the connection the
# watcher already has (once it has joined that daemon's bus): restart until
# it has been heard.
heard_restart() {
    plugnet daemons restart "$1" >/dev/null &&
    grep -q "$1.daemon daemon.stopping" events.out
}

test_expect_success PYZMQ 'it hears each of the four daemons' '
    (for svc in switchd vmd cfgdiskd agentd; do
        retry_until 30 heard_restart $svc || exit 1
    done)
'

test_done
