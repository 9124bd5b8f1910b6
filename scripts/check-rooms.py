#!/usr/bin/python3
"""Check the house rules of docs/ARCHITECTURE.md on a source tree and its objects.

  check-rooms.py SRC [OBJDIR]

1. A file includes only headers of its own room, of proto/ and (outside
   proto/) of services/common/; never a path with "..".
2. No C file is over 1,000 lines.
3. Inside a room, calls between files run one way: the graph "file A uses a
   symbol file B defines" (read from the objects with nm) has no circle.

Rooms: proto, services/common, services/<daemon> (its guest/ is the guest
agent's own room), cli, tools.  Prints each violation; exits 1 if any.
"""
import os
import re
import subprocess
import sys

MAX_LINES = 1000


def room_of(rel):
    parts = rel.split('/')
    if parts[0] == 'services' and len(parts) > 2:
        if len(parts) > 3 and parts[2] == 'guest':
            return '/'.join(parts[:3])
        return '/'.join(parts[:2])
    return parts[0]


def sources(src):
    out = []
    for top in ('proto', 'services', 'cli', 'tools'):
        for d, _, files in os.walk(os.path.join(src, top)):
            for f in files:
                if f.endswith(('.c', '.h')):
                    out.append(os.path.relpath(os.path.join(d, f), src))
    return sorted(out)


def allowed_dirs(room):
    if room == 'proto':
        return ['proto']
    if room == 'services/agentd/guest':
        return [room, 'proto']   # the static guest agent: the channel codec only
    return [room, 'proto', 'services/common']


def check_includes(src, files, bad):
    headers = {}
    for rel in files:
        if rel.endswith('.h'):
            headers.setdefault(os.path.basename(rel), []).append(os.path.dirname(rel))
    for rel in files:
        room = room_of(rel)
        ok_dirs = allowed_dirs(room)
        with open(os.path.join(src, rel), errors='replace') as fh:
            for n, line in enumerate(fh, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                inc = m.group(1)
                if '..' in inc.split('/'):
                    bad.append('%s:%d: includes "%s": a path out of its room' % (rel, n, inc))
                    continue
                if inc.endswith('.c'):
                    bad.append('%s:%d: includes a .c file "%s"' % (rel, n, inc))
                    continue
                here = os.path.dirname(rel)
                if os.path.exists(os.path.join(src, here, inc)):
                    target = os.path.normpath(os.path.join(here, inc))
                    if room_of(target) != room:
                        bad.append('%s:%d: includes "%s" of room %s' % (rel, n, inc, room_of(target)))
                    continue
                where = headers.get(os.path.basename(inc), [])
                if not where:
                    continue   # a system or generated header
                if not any(room_of(os.path.join(d, 'x')) in ok_dirs or d in ok_dirs for d in where):
                    bad.append('%s:%d: includes "%s" of room %s' % (rel, n, inc, room_of(os.path.join(where[0], 'x'))))


def check_lengths(src, files, bad):
    for rel in files:
        if not rel.endswith('.c'):
            continue
        with open(os.path.join(src, rel), errors='replace') as fh:
            n = sum(1 for _ in fh)
        if n > MAX_LINES:
            bad.append('%s: %d lines (at most %d: split it by job)' % (rel, n, MAX_LINES))


def nm_symbols(obj):
    out = subprocess.run(['nm', obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == 'U':
            used.add(f[1])
        elif len(f) == 3 and f[1] in 'TDBRCGSV':
            defined.add(f[2])
    return defined, used


def check_circles(objdir, bad):
    rooms = {}
    for d, _, files in os.walk(objdir):
        for f in files:
            if f.endswith('.o'):
                rel = os.path.relpath(os.path.join(d, f), objdir)
                if rel.startswith(('tests/', 'fuzz/')):
                    continue
                rooms.setdefault(room_of(rel), []).append(rel)
    for room, objs in sorted(rooms.items()):
        if room == 'tools':
            continue   # one program per file
        syms = {o: nm_symbols(os.path.join(objdir, o)) for o in objs}
        owner = {}
        for o, (defined, _) in syms.items():
            for s in defined:
                owner[s] = o
        edges = {o: sorted({owner[s] for s in used if s in owner and owner[s] != o})
                 for o, (_, used) in syms.items()}
        for cyc in strongly_connected(edges):
            if len(cyc) > 1:
                names = sorted(c[:-2] + '.c' for c in cyc)
                bad.append('%s: calls go round in a circle between %s' % (room, ', '.join(names)))


def strongly_connected(edges):
    """Tarjan's algorithm, iterative."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(edges.get(nxt, []))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src = sys.argv[1]
    bad = []
    files = sources(src)
    check_includes(src, files, bad)
    check_lengths(src, files, bad)
    if len(sys.argv) == 3:
        check_circles(sys.argv[2], bad)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
