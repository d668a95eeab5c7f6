#!/usr/bin/python3
"""Checks a Prometheus text exposition (version 0.0.4) read from a URL and
sums series out of it.

usage: promcheck.py URL [SELECTOR...]
  SELECTOR: NAME or NAME{label="value",...}: prints "SELECTOR = SUM" of the
  samples of that name whose labels include those.
The first line says "promcheck: F families, S samples, P problems", then one
line per problem: a sample without # TYPE, a family typed twice, a series
given twice, a histogram whose buckets go down, are out of order, or whose
+Inf bucket differs from its _count, a value that is not a number."""
import re
import sys
import urllib.request

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def labels_of(text):
    out, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError("bad labels: " + text)
        out[m.group(1)] = m.group(2)
        pos = m.end()
    return out


def main():
    body = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
    types, samples, problems, seen = {}, [], [], set()
    for ln in body.splitlines():
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ", 3)
            if name in types:
                problems.append("typed twice: " + name)
            types[name] = typ
            continue
        if not ln or ln.startswith("#"):
            continue
        m = LINE.match(ln)
        if not m:
            problems.append("unparsable: " + ln)
            continue
        name, lab, val = m.group(1), labels_of(m.group(3) or ""), m.group(4)
        try:
            v = float(val)
        except ValueError:
            problems.append("not a number: " + ln)
            continue
        fam = re.sub(r'_(bucket|sum|count)$', '', name)
        if name not in types and not (fam in types and types[fam] == "histogram"):
            problems.append("no # TYPE: " + ln)
        key = (name, tuple(sorted(lab.items())))
        if key in seen:
            problems.append("given twice: " + ln)
        seen.add(key)
        samples.append((name, lab, v))
    # histograms: per label set without le, buckets ascending, cumulative,
    # +Inf == _count
    hist = {}
    for name, lab, v in samples:
        if name.endswith("_bucket") and types.get(name[:-7]) == "histogram":
            rest = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
            le = float("inf") if lab["le"] == "+Inf" else float(lab["le"])
            hist.setdefault((name[:-7], rest), []).append((le, v))
    counts = {(n[:-6], tuple(sorted(l.items()))): v for n, l, v in samples if n.endswith("_count")}
    for (fam, rest), bs in hist.items():
        les = [b[0] for b in bs]
        if les != sorted(les):
            problems.append("buckets out of order: %s %s" % (fam, rest))
        vals = [b[1] for b in bs]
        if vals != sorted(vals):
            problems.append("buckets go down: %s %s" % (fam, rest))
        if les[-1] != float("inf"):
            problems.append("no +Inf bucket: %s %s" % (fam, rest))
        elif counts.get((fam, rest)) != vals[-1]:
            problems.append("+Inf bucket %s != _count %s: %s %s" % (vals[-1], counts.get((fam, rest)), fam, rest))
    print("promcheck: %d families, %d samples, %d problems" % (len(types), len(samples), len(problems)))
    for p in problems[:20]:
        print("  " + p)
    for sel in sys.argv[2:]:
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?$', sel)
        want = labels_of(m.group(3) or "")
        total = sum(v for n, l, v in samples
                    if n == m.group(1) and all(l.get(k) == x for k, x in want.items()))
        print("%s = %g" % (sel, total))


main()
