#!/usr/bin/env python3
"""Client-visible throughput of lookups through a search list (issue 13's
autopath benchmark): each lookup walks the names a stub with ndots:5 and
the cluster's search list would ask -- NAME.<search>... then NAME -- one A
question at a time, stopping at the first answer with records. CONC
lookups are kept in flight for SECONDS; prints lookups per second and
questions per lookup.

usage: searchpath.py ADDR PORT NAMES-FILE SECONDS CONC SEARCH...
"""
import asyncio
import random
import struct
import sys
import time


def query(qid, name):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00\x00\x01\x00\x01"


class Client(asyncio.DatagramProtocol):
    def __init__(self):
        self.waiting = {}

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        qid, flags, _, an = struct.unpack("!HHHH", data[:8])
        fut = self.waiting.pop(qid, None)
        if fut is not None and not fut.done():
            fut.set_result((flags & 0xF, an))


async def main():
    addr, port, names_file, secs, conc = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        float(sys.argv[4]), int(sys.argv[5])
    search = sys.argv[6:]
    names = [l.split()[0] for l in open(names_file) if l.strip()]
    loop = asyncio.get_running_loop()
    tr, cl = await loop.create_datagram_endpoint(Client, remote_addr=(addr, port))
    ids = iter(range(1 << 62))
    stats = {"lookups": 0, "questions": 0, "failed": 0}
    end = time.monotonic() + secs

    async def ask(name):
        qid = next(ids) & 0xFFFF
        fut = loop.create_future()
        cl.waiting[qid] = fut
        tr.sendto(query(qid, name))
        stats["questions"] += 1
        try:
            return await asyncio.wait_for(fut, 2)
        except asyncio.TimeoutError:
            cl.waiting.pop(qid, None)
            return (2, 0)

    async def worker():
        rng = random.Random()
        while time.monotonic() < end:
            name = rng.choice(names)
            cands = [name + "." + s for s in search] + [name]
            for c in cands:
                rcode, an = await ask(c)
                if rcode == 0 and an > 0:
                    stats["lookups"] += 1
                    break
            else:
                stats["failed"] += 1

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(conc)))
    dt = time.monotonic() - t0
    tr.close()
    print("lookups/s %.0f questions/lookup %.2f failed %d" % (
        stats["lookups"] / dt, stats["questions"] / max(1, stats["lookups"]), stats["failed"]))


asyncio.run(main())
