#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_msg into tests/fuzz/corpus/msg (run once;
the files are committed). Pure standard library: packets built by hand."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "msg")


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def q(n, t=1, c=1):
    return name(n) + struct.pack("!HH", t, c)


def opt(size=1232, ver=0, do=0, opts=b""):
    return b"\0" + struct.pack("!HHBBHH", 41, size, 0, ver, 0x8000 if do else 0, len(opts)) + opts


def rr(owner, t, rdata, ttl=300):
    return owner + struct.pack("!HHIH", t, 1, ttl, len(rdata)) + rdata


cases = {
    "query_a": header() + q("www.example."),
    "query_edns": header(ar=1) + q("www.example.", 28) + opt(),
    "query_do": header(ar=1) + q("alias.example.") + opt(4096, do=1),
    "query_badvers": header(ar=1) + q("www.example.") + opt(ver=1),
    "query_opt_cookie": header(ar=1) + q("www.example.") + opt(opts=struct.pack("!HH", 10, 8) + b"\1" * 8),
    "query_any": header() + q("www.example.", 255),
    "query_axfr": header() + q("example.", 252),
    "query_ch": header() + q("version.bind.", 16, 3),
    "query_mx": header() + q("m.example.", 15),
    "query_wild": header() + q("a.b.w.example.", 16),
    "query_nx": header() + q("nope.example."),
    "notify": header(flags=0x2000) + q("example.", 6),
    "qd0": header(qd=0),
    "qd2": header(qd=2) + q("a.") + q("b."),
    "short": b"\x12\x34\x01",
    "response": header(flags=0x8180, an=1) + q("www.example.") + rr(b"\xc0\x0c", 1, b"\1\2\3\4"),
    "ptr_loop": header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
    "ptr_forward": header() + b"\xc0\x20" + struct.pack("!HH", 1, 1) + b"\0" * 16,
    "label64": header() + b"\x40" + b"a" * 64 + b"\0" + struct.pack("!HH", 1, 1),
    "rdlen_over": header(an=1) + q("x.") + name("x.") + struct.pack("!HHIH", 1, 1, 1, 200) + b"\1\2",
    "counts_big": header(an=65535, ns=65535, ar=65535) + q("x."),
    "two_opt": header(ar=2) + q("x.") + opt() + opt(),
    "answer_soa_mx_txt": header(flags=0x8400, an=3) + q("example.", 6)
    + rr(b"\xc0\x0c", 6, name("ns.example.") + name("hm.example.") + struct.pack("!IIIII", 1, 2, 3, 4, 5))
    + rr(b"\xc0\x0c", 15, b"\0\x0a\x04mail\xc0\x0c")
    + rr(b"\xc0\x0c", 16, b"\x05hello\x05world"),
    "answer_srv_caa_unknown": header(flags=0x8400, an=3) + q("example.", 33)
    + rr(b"\xc0\x0c", 33, b"\0\0\0\5\x1f\x90" + name("svc.example."))
    + rr(b"\xc0\x0c", 257, b"\0\x05issue" + b"ca.example")
    + rr(b"\xc0\x0c", 65280, b"\xde\xad"),
    "trailing": header() + q("www.example.") + b"\xff\xff",
}

os.makedirs(OUT, exist_ok=True)
for k, v in cases.items():
    with open(os.path.join(OUT, k), "wb") as f:
        f.write(v)
print("wrote %d seeds to %s" % (len(cases), OUT))
