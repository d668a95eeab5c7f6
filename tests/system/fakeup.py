#!/usr/bin/env python3
"""A scripted upstream DNS server for faults real servers won't produce.
Standard library only; UDP; stops by itself after LIFETIME seconds.

  fakeup.py HOST PORT LOGFILE LIFETIME

Behaviour by the first label of the question name:
  slow-*     answer A 192.0.2.99 after 200 ms
  refused-*  REFUSED          servfail-*  SERVFAIL
  garbage-*  random bytes     wrongq-*    a reply for another name
  drop-*     no reply         short-*     a reply cut in the middle
  stale-*    A 192.0.2.96 with TTL 2, or no reply while LOGFILE.down exists
  ttl10-*    A 192.0.2.95 with TTL 10
  lag5-*     A 192.0.2.94 with TTL 5, after 100 ms
  anything else: A 192.0.2.98 at once, TTL 300
Every query is logged as one line "NAME TYPE" (lower-cased) to LOGFILE.
"""
import os
import socket
import struct
import sys
import threading
import time


def parse_question(q):
    pos, labels = 12, []
    while q[pos] != 0:
        n = q[pos]
        labels.append(q[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    qtype = struct.unpack("!H", q[pos + 1:pos + 3])[0]
    return labels, q[12:pos + 5], qtype


def reply(q, question, rcode=0, answer=None, ttl=300):
    qid = q[:2]
    flags = 0x8180 | rcode
    an = 1 if answer else 0
    msg = qid + struct.pack("!HHHHH", flags, 1, an, 0, 0) + question
    if answer:
        msg += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + bytes(answer)
    return msg


def main():
    host, port, logfile, lifetime = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, port))
    s.settimeout(0.2)
    log = open(logfile, "a", buffering=1)
    end = time.time() + lifetime
    lock = threading.Lock()

    def send_later(data, addr, delay):
        time.sleep(delay)
        with lock:
            s.sendto(data, addr)

    while time.time() < end:
        try:
            q, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        try:
            labels, question, qtype = parse_question(q)
        except (IndexError, struct.error):
            continue
        first = labels[0].lower() if labels else ""
        log.write("%s %d\n" % (".".join(labels).lower(), qtype))
        if first.startswith("drop"):
            continue
        if first.startswith("lag5"):
            threading.Thread(target=send_later, daemon=True,
                             args=(reply(q, question, 0, [192, 0, 2, 94], ttl=5), addr, 0.1)).start()
            continue
        if first.startswith("ttl10"):
            with lock:
                s.sendto(reply(q, question, 0, [192, 0, 2, 95], ttl=10), addr)
            continue
        if first.startswith("stale"):
            if os.path.exists(logfile + ".down"):
                continue  # gone away: no reply (serve-stale tests)
            with lock:
                s.sendto(reply(q, question, 0, [192, 0, 2, 96], ttl=2), addr)
            continue
        if first.startswith("slow"):
            threading.Thread(target=send_later, daemon=True,
                             args=(reply(q, question, 0, [192, 0, 2, 99]), addr, 0.2)).start()
            continue
        if first.startswith("refused"):
            out = reply(q, question, 5)
        elif first.startswith("servfail"):
            out = reply(q, question, 2)
        elif first.startswith("garbage"):
            out = q[:2] + os.urandom(40)
        elif first.startswith("wrongq"):
            other = b"\x05other" + question[1 + question[0]:]
            out = reply(q, other, 0, [192, 0, 2, 66])
        elif first.startswith("short"):
            out = reply(q, question, 0, [192, 0, 2, 97])[:-3]
        else:
            out = reply(q, question, 0, [192, 0, 2, 98])
        with lock:
            s.sendto(out, addr)


if __name__ == "__main__":
    main()
