#!/usr/bin/env python3
"""A scripted authoritative server that misbehaves on purpose: what real
servers (NSD, Knot) will not do. Standard library only; UDP; it stops by
itself after LIFETIME seconds.

  fakeauth.py HOST PORT ZONE LOGFILE LIFETIME

Behaviour by the first label of the question (all under ZONE):
  www        honest: AA, A 192.0.2.30
  poison     honest answer plus out-of-bailiwick records: an A for
             www.shop.alpha. (6.6.6.6) in the answer, a hijacking NS for
             shop.alpha. in the authority section, glue 6.6.6.7 for
             ns1.shop.alpha. in the additional section
  wrongid    first a reply with the wrong ID (A 6.6.6.6), then the right one
  wrongq     first a reply for another question (A 6.6.6.6), then the right one
  wrongport  first a reply from another source port (A 6.6.6.6), then the
             right one
  garbage    first random bytes, then the right reply
  ptrbomb*   first a ~60 KB reply to the right question whose records all
             point at the end of a chain of 8,000 backward compression
             pointers (each owner would walk all of them: ~70 ms of parsing
             before issue 11), then the right reply
  trunc      only a reply cut in the middle (never a usable one)
  drop       no reply at all
  delay*     the right reply after 250 ms
  slow*      the right reply after 2.5 s (after the resolver's try timed out)
  oldedns    FORMERR (without OPT) to a query with EDNS, the answer without
  aforaaaa   AA, an A record (192.0.2.32) whatever the type asked (so an A
             for an AAAA question)
  dupcname   AA, the same CNAME (to www.evil.beta.) twice, then its A
  topbit     AA, the A record with TTL 4294967280 (top bit set: RFC 2181
             §8 says treat it as 0)
  emptyns    AA, NOERROR, no answer, only the zone's NS in the authority
             section (NODATA, not a referral and not lame)
  stale*     AA, A 192.0.2.34 with TTL 2 -- or no reply at all while the
             file LOGFILE.down exists (a server that went away: serve-stale)
  anything else: NXDOMAIN with the zone's SOA
Every query is logged as "NAME TYPE" to LOGFILE.
"""
import os
import socket
import struct
import sys
import threading
import time


def wire(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse(q):
    pos, labels = 12, []
    while q[pos] != 0:
        n = q[pos]
        labels.append(q[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return labels, q[12:pos + 5], struct.unpack("!H", q[pos + 1:pos + 3])[0]


def rr(owner, rtype, data, ttl=300):
    return (wire(owner) if isinstance(owner, str) else owner) + struct.pack("!HHIH", rtype, 1, ttl, len(data)) + data


def a(addr):
    return socket.inet_aton(addr)


def msg(qid, question, rcode=0, an=(), ns=(), ar=(), aa=True):
    flags = 0x8000 | (0x0400 if aa else 0) | rcode
    head = struct.pack("!HHHHHH", qid, flags, 1, len(an), len(ns), len(ar))
    return head + question + b"".join(an) + b"".join(ns) + b"".join(ar)


def main():
    host, port, zone, logfile, lifetime = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.settimeout(0.2)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # "wrong port" replies
    other.bind((host, 0))
    log = open(logfile, "a", buffering=1)
    lock = threading.Lock()
    soa = rr(zone, 6, wire("ns." + zone) + wire("hostmaster." + zone) + struct.pack("!IIIII", 1, 1800, 900, 604800, 60))
    end = time.time() + lifetime

    def later(delay, sock, data, addr):
        def run():
            time.sleep(delay)
            with lock:
                sock.sendto(data, addr)
        threading.Thread(target=run, daemon=True).start()

    while time.time() < end:
        try:
            q, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        try:
            labels, question, qtype = parse(q)
        except (IndexError, struct.error):
            continue
        qid = struct.unpack("!H", q[:2])[0]
        name = ".".join(labels).lower() + "."
        log.write("%s %d\n" % (name, qtype))
        first = labels[0].lower() if labels else ""
        honest = msg(qid, question, an=[rr(b"\xc0\x0c", 1, a("192.0.2.30"))]) if qtype == 1 else \
            msg(qid, question, ns=[soa])
        bad = msg(qid, question, an=[rr(b"\xc0\x0c", 1, a("6.6.6.6"))])
        out = None
        if first == "www" or first.startswith("delay") or first.startswith("slow"):
            out = honest
            if first.startswith("delay"):
                later(0.25, s, honest, addr)
                out = None
            elif first.startswith("slow"):
                later(2.5, s, honest, addr)
                out = None
        elif first.startswith("stale"):
            if not os.path.exists(logfile + ".down"):
                out = msg(qid, question, an=[rr(b"\xc0\x0c", 1, a("192.0.2.34"), ttl=2)]) \
                    if qtype == 1 else msg(qid, question, ns=[soa])
        elif first == "aforaaaa":
            out = msg(qid, question, an=[rr(b"\xc0\x0c", 1, a("192.0.2.32"))])
        elif first == "dupcname":
            cname = rr(b"\xc0\x0c", 5, wire("www." + zone))
            target = rr("www." + zone, 1, a("192.0.2.30")) if qtype == 1 else b""
            out = msg(qid, question, an=[cname, cname] + ([target] if target else []))
        elif first == "topbit":
            out = msg(qid, question, an=[rr(b"\xc0\x0c", 1, a("192.0.2.33"), ttl=4294967280)])
        elif first == "emptyns":
            out = msg(qid, question, ns=[rr(zone, 2, wire("ns." + zone))])
        elif first == "oldedns":
            has_opt = struct.unpack("!H", q[10:12])[0] > 0
            out = msg(qid, question, rcode=1) if has_opt else honest
        elif first == "poison":
            out = msg(qid, question,
                      an=[rr(b"\xc0\x0c", 1, a("192.0.2.31")), rr("www.shop.alpha.", 1, a("6.6.6.6"))],
                      ns=[rr("shop.alpha.", 2, wire("ns.evil.beta."))],
                      ar=[rr("ns1.shop.alpha.", 1, a("6.6.6.7")), rr("ns.evil.beta.", 1, a("127.53.20.1"))])
        elif first == "wrongid":
            out = msg((qid + 1) & 0xFFFF, question, an=[rr(b"\xc0\x0c", 1, a("6.6.6.6"))])
            later(0.05, s, honest, addr)
        elif first == "wrongq":
            other_q = wire("www.shop.alpha.") + question[-4:]
            out = msg(qid, other_q, an=[rr(b"\xc0\x0c", 1, a("6.6.6.6"))])
            later(0.05, s, honest, addr)
        elif first == "wrongport":
            with lock:
                other.sendto(bad, addr)
            later(0.05, s, honest, addr)
        elif first.startswith("ptrbomb"):
            head = msg(qid, question)
            at = len(head)  # the chain, inside the rdata of an opaque record
            chain, prev = b"", 12
            for i in range(8000):
                chain += struct.pack("!H", 0xC000 | prev)
                prev = at + 12 + 2 * i
            body = struct.pack("!HHHIH", 0xC00C, 0xFF00, 1, 0, len(chain)) + chain
            recs = struct.pack("!HHHIH", 0xC000 | prev, 0xFF00, 1, 0, 0) * 3600
            n = 1 + 3600
            out = head[:6] + struct.pack("!H", n) + head[8:] + body + recs
            later(0.05, s, honest, addr)
        elif first == "garbage":
            out = q[:2] + os.urandom(30)
            later(0.05, s, honest, addr)
        elif first == "trunc":
            out = honest[:-7]
        elif first == "drop":
            out = None
        else:
            out = msg(qid, question, rcode=3, ns=[soa])
        if out is not None:
            with lock:
                s.sendto(out, addr)


if __name__ == "__main__":
    main()
