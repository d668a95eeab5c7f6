#!/usr/bin/env python3
"""Raw DNS helper for the system tests: what dig cannot send. Standard
library only. Every socket has a timeout; every command ends by itself.

  rawdns.py udp HOST PORT HEX          send bytes, print reply hex or TIMEOUT
  rawdns.py pipeline HOST PORT N       N queries in one TCP write; check N replies
  rawdns.py halfclose HOST PORT N      N big queries, shutdown(SHUT_WR), expect N replies
  rawdns.py dribble HOST PORT          one TCP query a byte at a time
  rawdns.py idle HOST PORT SECONDS     connect, send nothing; print CLOSED or OPEN
  rawdns.py conns HOST PORT N          open N TCP connections; print how many answer
  rawdns.py burst HOST PORT N NAME     N UDP clients ask NAME at once, each with its
                                       own ID and letter case; prints
                                       "answered K of N rcodes=[...] ok" when every
                                       reply matched its client's ID and case
  rawdns.py tcpburst HOST PORT N NAME  the same over N pipelined queries on one TCP
                                       connection, then a half-close
"""
import random
import socket
import struct
import sys
import time


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, qname, qtype=1):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name(qname) + struct.pack("!HH", qtype, 1)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_msg(s):
    (n,) = struct.unpack("!H", recv_exact(s, 2))
    return recv_exact(s, n)


def tcp(host, port, timeout=3.0, rcvbuf=0):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "udp":
        s = socket.socket(family(host), socket.SOCK_DGRAM)
        s.settimeout(1.0)
        s.sendto(bytes.fromhex(sys.argv[4]), (host, port))
        try:
            print(s.recv(65535).hex())
        except socket.timeout:
            print("TIMEOUT")
    elif cmd == "pipeline":
        n = int(sys.argv[4])
        s = tcp(host, port)
        data = b""
        for i in range(n):
            q = query(1000 + i, "www.test.example" if i % 2 else "nope.test.example")
            data += struct.pack("!H", len(q)) + q
        s.sendall(data)  # all queries before reading any reply
        ids = [struct.unpack("!H", recv_msg(s)[:2])[0] for _ in range(n)]
        print("OK" if ids == [1000 + i for i in range(n)] else "BAD %r" % ids)
    elif cmd == "halfclose":
        # Many large replies queued, then the client shuts its sending
        # side: every reply must still arrive.
        n = int(sys.argv[4])
        s = tcp(host, port, 5.0, rcvbuf=4096)
        data = b""
        for i in range(n):
            q = query(2000 + i, "big.test.example", 16)
            data += struct.pack("!H", len(q)) + q
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.5)  # the server reads EOF while replies are queued
        got = 0
        try:
            for _ in range(n):
                recv_msg(s)
                got += 1
        except (OSError, EOFError):
            pass
        print("OK" if got == n else "BAD %d of %d" % (got, n))
    elif cmd == "dribble":
        s = tcp(host, port)
        q = query(4242, "www.test.example")
        for b in struct.pack("!H", len(q)) + q:
            s.send(bytes([b]))
            time.sleep(0.005)
        r = recv_msg(s)
        print("OK" if r[:2] == b"\x10\x92" and r[3] & 0xF == 0 else "BAD " + r.hex())
    elif cmd == "idle":
        s = tcp(host, port, float(sys.argv[4]))
        try:
            print("CLOSED" if s.recv(1) == b"" else "DATA")
        except socket.timeout:
            print("OPEN")
        except ConnectionResetError:
            print("CLOSED")
    elif cmd == "conns":
        socks, answered = [], 0
        for _ in range(int(sys.argv[4])):
            socks.append(tcp(host, port, 1.0))
        time.sleep(0.2)
        for i, s in enumerate(socks):
            try:
                q = query(i + 1, "www.test.example")
                s.sendall(struct.pack("!H", len(q)) + q)
                recv_msg(s)
                answered += 1
            except (OSError, EOFError):
                pass
        print(answered)
    elif cmd == "slowloris":
        # N connections from address SRC, each dribbling a query that never
        # completes (one byte a second) for SECONDS; prints how many the
        # server refused at once and how many it closed later.
        n, secs, src = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
        socks, refused = [], 0
        for _ in range(n):
            s = socket.socket(family(host), socket.SOCK_STREAM)
            s.bind((src, 0))
            s.settimeout(2.0)
            try:
                s.connect((host, port))
                s.send(b"\x30")  # the first byte of a 12 KB frame
                socks.append(s)
            except OSError:
                refused += 1
                s.close()
        end, closed = time.time() + secs, set()
        while time.time() < end:
            time.sleep(1.0)
            for i, s in enumerate(socks):
                if i in closed:
                    continue
                try:
                    s.setblocking(False)
                    try:
                        if s.recv(1) == b"":
                            closed.add(i)
                            continue
                    except BlockingIOError:
                        pass
                    s.send(b"\x00")
                except OSError:
                    closed.add(i)
        # a server-side close often shows only now: look once more
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.setblocking(False)
                if s.recv(1) == b"":
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
        print("connected %d refused-at-once %d closed-later %d" % (len(socks), refused, len(closed)))
    elif cmd in ("drip", "keepalive"):
        # drip: one byte of a never-complete query every 0.3 s; keepalive:
        # a whole query every 0.3 s. Prints when the server closed (ms).
        secs = float(sys.argv[4])
        s = tcp(host, port, 0.3)
        t0, i = time.time(), 0
        q = query(77, "www.test.example")
        frame = struct.pack("!H", len(q)) + q
        while time.time() - t0 < secs:
            try:
                s.send(b"\x30" if cmd == "drip" and i == 0 else
                       (b"\x00" if cmd == "drip" else frame))
                i += 1
                while True:
                    d = s.recv(65535)
                    if d == b"":
                        print("CLOSED %d" % ((time.time() - t0) * 1000))
                        return
            except socket.timeout:
                pass
            except OSError:
                print("CLOSED %d" % ((time.time() - t0) * 1000))
                return
        print("OPEN")
    elif cmd in ("burst", "tcpburst"):
        n, qname = int(sys.argv[4]), sys.argv[5]
        rnd = random.Random(n)
        qs = []
        for i in range(n):
            cased = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in qname)
            qs.append((rnd.randrange(65536), cased))
        good, rcodes, replies = 0, [], []
        if cmd == "burst":
            socks = [socket.socket(family(host), socket.SOCK_DGRAM) for _ in range(n)]
            for s, (qid, cased) in zip(socks, qs):
                s.sendto(query(qid, cased), (host, port))
            deadline = time.time() + 5.0  # for all of them, not each
            for s in socks:
                s.settimeout(max(0.01, deadline - time.time()))
                try:
                    replies.append(s.recv(65535))
                except socket.timeout:
                    replies.append(None)
        else:
            s = tcp(host, port, 5.0)
            data = b""
            for qid, cased in qs:
                q = query(qid, cased)
                data += struct.pack("!H", len(q)) + q
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)  # replies must still all come back
            got = {}
            try:
                for _ in range(n):
                    r = recv_msg(s)
                    got.setdefault(struct.unpack("!H", r[:2])[0], []).append(r)
            except (OSError, EOFError):
                pass
            replies = [got[qid].pop(0) if got.get(qid) else None for qid, _ in qs]
        for r, (qid, cased) in zip(replies, qs):
            if r is None:
                continue
            rcodes.append(r[3] & 0xF)
            if struct.unpack("!H", r[:2])[0] == qid and r[12:12 + len(name(cased))] == name(cased):
                good += 1
        answered = sum(r is not None for r in replies)
        print("answered %d of %d rcodes=%s %s" % (answered, n, sorted(set(rcodes)),
                                                  "ok" if good == n else "BAD %d matched" % good))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
