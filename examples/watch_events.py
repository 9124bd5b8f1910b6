#!/usr/bin/python3
"""Print every event of plugnet's four daemons, one line each.

    examples/watch_events.py [--count N] [--json]

Subscribes a ZeroMQ SUB socket to ipc://RUN/<svc>.pub of switchd, vmd,
cfgdiskd and agentd (RUN = $PLUGNET_RUN_DIR, else /run/plugnet); each event
is two frames: the topic, then a msgpack map {v, seq, ts, src, type, data}.
Topics "pn.hello.*" are other subscribers' readiness handshakes: skipped.
Needs Debian's python3-zmq and python3-msgpack."""
import json, os, sys, time
import msgpack, zmq

run = os.environ.get("PLUGNET_RUN_DIR") or ("/run/plugnet" if os.geteuid() == 0
      else os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "plugnet"))
count = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 0
sub = zmq.Context().socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
for svc in ("switchd", "vmd", "cfgdiskd", "agentd"):
    sub.connect(f"ipc://{run}/{svc}.pub")
print("watching", run, flush=True)
seen = 0
try:
    while not count or seen < count:
        topic, body = sub.recv_multipart()
        if topic.startswith(b"pn.hello."):
            continue  # another subscriber's readiness handshake, not an event
        ev = msgpack.unpackb(body, raw=False)
        ts = time.strftime("%H:%M:%S", time.localtime(ev["ts"] / 1e9))
        if "--json" in sys.argv:
            print(json.dumps({"topic": topic.decode(), **ev}, default=repr), flush=True)
        else:
            print(ts, topic.decode(), ev["type"], json.dumps(ev.get("data", {}), default=repr), flush=True)
        seen += 1
except KeyboardInterrupt:
    pass
