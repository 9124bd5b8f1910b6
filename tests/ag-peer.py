#!/usr/bin/env python3
"""A hostile peer on an agent channel, for the garbage tests (t4004).

  ag-peer.py agent PATH   connect to an agent's --listen socket, send
                          garbage, an oversized frame, frames for unknown
                          sessions and a truncated frame, then a HELLO;
                          exit 0 when the agent answers with a HELLO.
  ag-peer.py serve PATH   be a fake agent that agentd connects to: send
                          garbage, oversized and truncated frames, then a
                          HELLO; stay until agentd hangs up.
  ag-peer.py stream PATH  send garbage to agentd's stream socket and check
                          that agentd hangs up.
"""
import os, socket, struct, sys

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

SEQ = [0]

def frame(ftype, flags=0, sid=0, payload=b"", length=None):
    n = len(payload) if length is None else length
    h = struct.pack("<BBBBIII", 0xA7, 0x9E, ftype, flags, sid, n, SEQ[0]) + struct.pack("<I", crc32c(payload))
    SEQ[0] += 1
    return h + struct.pack("<I", crc32c(h)) + payload

def tlv(tag, value):
    return struct.pack("<BH", tag, len(value)) + value

def hostile():
    junk = os.urandom(200000)
    out = [junk]
    out.append(frame(0x11, 0, 77, b"", length=0x7FFFFFFF))     # oversized, valid header CRC
    out.append(frame(0x11, 0, 9999, b"no such session"))       # unknown session
    out.append(frame(0x13, 0, 9999, b"\x01\x00\x00\x00"))      # credit for nobody
    out.append(frame(0x7E, 0, 0, b"unknown type"))             # unknown frame type
    bad = bytearray(frame(0x11, 0, 5, b"x" * 100))
    bad[40] ^= 0xFF                                              # damaged payload
    out.append(bytes(bad))
    out.append(frame(0x10, 0, 5, b"\xff\xff"))                  # malformed OPEN
    out.append(frame(0x11, 0, 3, b"y" * 1000)[:500])            # truncated ...
    out.append(os.urandom(5000))                                 # ... then noise
    return b"".join(out)

def hello(flags=0):
    p = tlv(1, b"ag-peer") + tlv(2, struct.pack("<I", 1)) + tlv(3, struct.pack("<I", 1)) + tlv(4, struct.pack("<Q", 12345))
    return frame(0x01, flags, 0, p)

def read_hello(s):
    buf = b""
    s.settimeout(10)
    while True:
        d = s.recv(65536)
        if not d:
            return False
        buf += d
        i = buf.find(b"\xA7\x9E\x01")
        if i >= 0 and len(buf) >= i + 24:
            return True

def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "agent":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(hostile() + hello())
        sys.exit(0 if read_hello(s) else 1)
    if mode == "serve":
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(1)
        c, _ = ls.accept()
        c.sendall(hostile())
        c.sendall(hello())
        c.settimeout(None)
        while c.recv(65536):
            pass
        sys.exit(0)
    if mode == "stream":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        try:
            s.sendall(os.urandom(100000) + frame(0x11, 0, 1, b"data before open"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(10)
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        sys.exit(0)
    sys.exit(2)

main()
