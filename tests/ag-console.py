#!/usr/bin/env python3
"""Run one shell command on a guest's root console socket and print its
output (for debugging and tests): ag-console.py SOCKET 'command'."""
import re, socket, sys, time

def main():
    path, cmd = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(0.5)
    buf = b""
    end = time.time() + 30
    s.sendall(b"\x15\r")
    while time.time() < end and not re.search(rb"# (\x1b\[6n)?$", buf):
        try:
            buf += s.recv(4096)
        except socket.timeout:
            s.sendall(b"\r")
    mark = b"__ag_done_%d__" % int(time.time())
    s.sendall(cmd.encode() + b"; echo " + mark[:5] + b"\"\"" + mark[5:] + b"\r")
    out = b""
    end = time.time() + 30
    while time.time() < end and mark not in out:
        try:
            out += s.recv(4096)
        except socket.timeout:
            pass
    sys.stdout.write(out.decode(errors="replace").split(mark.decode())[0])
    return 0 if mark in out else 1

sys.exit(main())
