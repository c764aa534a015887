#!/usr/bin/env python3
"""Scaling check of the pdbench suite (issue 7): figure x size tables and
the cost-vs-size curve, compared with n log n.

Run pdbench at several sizes and keep its outputs:
    bench/scaling.py --run --pdbench build/bench/pdbench \\
        --sizes 100000,1000000,10000000 --threads 2 --outdir /tmp/pdbench
(runs of 10M users need ~12 GB: wrap the call in
`flock /tmp/pd-bigmem.lock ...`), or read outputs saved earlier:
    bench/scaling.py /tmp/pdbench/pdbench-100000.txt /tmp/pdbench/...

Writes markdown (the "Chain scale" section of docs/PERFORMANCE.md) to
stdout or --markdown FILE, and the curve as an SVG (--svg FILE, default
docs/pdbench_scaling.svg). Standard library only.

The cost of a figure is min(wall_s, cpu_s): what it takes alone on a busy
machine (see bench/pdbench.c). With --repeat R (or outputs holding several
runs of a figure at one size) the cheapest run is judged: the first run of
a figure also pays for memory fresh from the system, which a virtual
machine's host may make slow at one size and not another; the first runs
stay in the saved outputs. Figures a process runs once (recording,
clustering) get several runs only from several processes: --processes P
runs pdbench P times per size, in rounds over the sizes. Memory figures are judged by their value
(bytes). For each figure the empirical exponent k of cost ~ n^k is the
least-squares slope in log-log over the sizes; the figure is flagged when
its cost grew between two neighbouring sizes by more than (1 + margin)
times what n log n predicts (margin 25% by default). Costs
under --floor seconds (default 0.02) at the largest size are too small to
judge (timer and noise) and are not flagged. Exit status: 0, or 3 when a
figure is flagged (2 for bad arguments).
"""
import argparse
import math
import os
import re
import subprocess
import sys

LINE = re.compile(r"^pdbench (.*)$")


def parse(text):
    """Figure lines of one pdbench output -> list of dicts."""
    rows = []
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if not m:
            continue
        kv = dict(p.split("=", 1) for p in m.group(1).split() if "=" in p)
        if "figure" not in kv or "wall_s" not in kv:
            continue
        row = {
            "group": kv["group"], "figure": kv["figure"],
            "users": int(kv["users"]), "events": int(kv.get("events", 0)),
            "threads": int(kv.get("threads", 1)),
            "wall": float(kv["wall_s"]), "cpu": float(kv["cpu_s"]),
            "value": float(kv["value"]) if "value" in kv else None,
            "unit": kv.get("unit"),
            "target": float(kv["target"]) if "target" in kv else None,
            "ok": int(kv["ok"]) if "ok" in kv else None,
            # Lines from before target_unit existed: a target on a rate or
            # size is in the value's unit, any other is in seconds.
            "target_unit": kv.get("target_unit", kv.get("unit") if kv.get(
                "unit") in ("events/s", "MB/s", "bytes/event") else "s"),
        }
        rows.append(row)
    return rows


def is_memory(row):
    return row["group"] == "memory"


def cost(row):
    if is_memory(row):
        return row["value"]
    return min(row["wall"], row["cpu"])


def nlogn(n):
    return n * math.log(n)


def slope(xs, ys):
    """Least-squares slope of log y on log x."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(max(y, 1e-9)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    if den == 0:
        return float("nan")
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / den


def fmt_s(x):
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    if x >= 0.1:
        return "%.2f" % x
    return "%.3f" % x


def fmt_v(x):
    if x is None:
        return ""
    if abs(x) >= 1e6:
        return "%.3g" % x
    if abs(x) >= 100:
        return "%.0f" % x
    return "%.3g" % x


def analyse(rows, margin, floor):
    """{(group, figure): {users: row}} and per-figure verdicts."""
    table = {}
    order = []
    for r in rows:
        key = (r["group"], r["figure"])
        if key not in table:
            table[key] = {}
            order.append(key)
        prev = table[key].get(r["users"])
        # Several runs of one size: keep the cheapest (min-of-N).
        if prev is None or cost(r) < cost(prev):
            table[key][r["users"]] = r
    sizes = sorted({r["users"] for r in rows})
    verdicts = {}
    for key in order:
        per = table[key]
        ns = sorted(per)
        if len(ns) < 2:
            verdicts[key] = (float("nan"), None, "one size")
            continue
        cs = [cost(per[n]) for n in ns]
        k = slope(ns, cs)
        if min(cs) <= 0:
            verdicts[key] = (k, None, "too small")
            continue
        if not is_memory(per[ns[-1]]) and cs[-1] < floor:
            verdicts[key] = (k, cs[-1] / cs[0], "too small")
            continue
        # Each step between neighbouring sizes against n log n; the
        # smaller size of a step must itself be measurable.
        worse = []
        for (a, ca), (b, cb) in zip(zip(ns, cs), zip(ns[1:], cs[1:])):
            if not is_memory(per[a]) and ca < floor / 10:
                continue
            allowed = nlogn(b) / nlogn(a) * (1 + margin)
            if cb / ca > allowed:
                worse.append("%s→%s ×%.1f" % (human(a), human(b), cb / ca))
        verdict = "WORSE: " + ", ".join(worse) if worse else "ok"
        verdicts[key] = (k, cs[-1] / cs[0], verdict)
    return table, order, sizes, verdicts


def human(n):
    if n >= 1000000:
        return ("%dM" % (n // 1000000) if n % 1000000 == 0
                else "%.3gM" % (n / 1e6))
    if n >= 1000:
        return "%dk" % (n // 1000) if n % 1000 == 0 else "%.3gk" % (n / 1e3)
    return str(n)


def markdown(table, order, sizes, verdicts, margin, svg_name, note, floor):
    out = []
    ev = {}
    for key in order:
        for n, r in table[key].items():
            if r["group"] == "record" and r["figure"] == "record_batch":
                ev[n] = r["events"]
    out.append("Cost per figure as `wall/cpu` seconds (memory: the value). "
               "Targets are issue 7's at 10M users; **pass/fail** judges "
               "min(wall, cpu) against the target at each size.")
    if note:
        out.append("")
        out.append(note)
    out.append("")
    head = ["group", "figure"] + ["%s users (%s events)" %
                                  (human(n), human(ev[n]) if n in ev else "?")
                                  for n in sizes]
    head += ["target", "exponent", "n log n check"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for key in order:
        per = table[key]
        cells = [key[0], key[1]]
        target = ""
        for n in sizes:
            r = per.get(n)
            if r is None:
                cells.append("")
                continue
            if is_memory(r):
                cell = "%s %s" % (fmt_v(r["value"]), r["unit"] or "")
            else:
                cell = "%s/%s" % (fmt_s(r["wall"]), fmt_s(r["cpu"]))
                if r["value"] is not None and r["unit"] and (
                        "/s" in r["unit"]):
                    cell += " (%s %s)" % (fmt_v(r["value"]), r["unit"])
            if r["ok"] is not None:
                cell += " **%s**" % ("pass" if r["ok"] else "fail")
            cells.append(cell)
            if r["target"] is not None:
                target = "%s %s" % (fmt_v(r["target"]), r["target_unit"])
        k, ratio, verdict = verdicts[key]
        cells.append(target)
        cells.append("" if k != k else "%.2f" % k)
        cells.append(verdict)
        out.append("| " + " | ".join(cells) + " |")
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        out.append("")
        out.append("n log n predicts a cost ratio of %.1f from %s to %s users "
                   "(exponent %.2f); a step between neighbouring sizes is flagged when "
                   "its cost ratio exceeds n log n's by more than %d%% (noise "
                   "margin)." %
                   (nlogn(hi) / nlogn(lo), human(lo), human(hi),
                    math.log(nlogn(hi) / nlogn(lo)) / math.log(hi / lo),
                    int(margin * 100)))
        flagged = [k for k in order if verdicts[k][2].startswith("WORSE")]
        steps = ["%s→%s: %.1f" % (human(a), human(b), nlogn(b) / nlogn(a))
                 for a, b in zip(sizes, sizes[1:])]
        out.append("Per step, n log n predicts: " + "; ".join(steps) +
                   ". Steps whose smaller cost is under %.3f s are not "
                   "judged." % (floor / 10))
        if flagged:
            out.append("")
            out.append("Flagged: " + ", ".join("%s/%s (exponent %.2f)" %
                                              (g, f, verdicts[(g, f)][0])
                                              for g, f in flagged) + ".")
        else:
            out.append("")
            out.append("No figure grows worse than n log n.")
    if svg_name:
        out.append("")
        out.append("![cost vs users](%s)" % svg_name)
    return "\n".join(out) + "\n"


def svg(table, order, sizes, verdicts, floor):
    """Log-log curves of cost relative to the smallest size, with n and
    n log n for reference."""
    keys = [k for k in order
            if len(table[k]) >= 2 and not verdicts[k][2] == "too small"
            and cost(table[k][min(table[k])]) > 0
            and not is_memory(table[k][min(table[k])])]
    # Tall enough for the legend: one line per figure.
    w, h, ml, mr, mt, mb = 760, max(460, 80 + 12 * len(keys)), 60, 230, 20, 40
    if len(sizes) < 2 or not keys:
        return None
    n0, n1 = sizes[0], sizes[-1]
    rels = []
    for k in keys:
        base = cost(table[k][min(table[k])])
        rels += [cost(r) / base for r in table[k].values()]
    rels += [n1 / n0, nlogn(n1) / nlogn(n0)]
    ymin = math.log10(max(min(rels), 1e-3))
    ymax = math.log10(max(rels)) + 0.1
    if ymax - ymin < 1:
        ymin = ymax - 1

    def px(n):
        return ml + (w - ml - mr) * (math.log10(n / n0) /
                                     math.log10(n1 / n0))

    def py(v):
        return mt + (h - mt - mb) * (1 - (math.log10(v) - ymin) /
                                     (ymax - ymin))

    s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'font-family="sans-serif" font-size="11">' % (w, h),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="14">cost relative to %s users (log-log)</text>' %
         (ml, human(n0))]
    for n in sizes:
        s.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' %
                 (px(n), mt, px(n), h - mb))
        s.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' %
                 (px(n), h - mb + 15, human(n)))
    e = math.floor(ymin)
    while e <= ymax:
        if e >= ymin:
            s.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" '
                     'stroke="#ddd"/>' % (ml, py(10 ** e), w - mr, py(10 ** e)))
            s.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' %
                     (ml - 4, py(10 ** e) + 4, 10 ** e))
        e += 1
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    ref = [("n", lambda n: n / n0, "#000", "4,3"),
           ("n log n", lambda n: nlogn(n) / nlogn(n0), "#000", "")]
    for name, f, col, dash in ref:
        pts = " ".join("%.1f,%.1f" % (px(n), py(f(n))) for n in sizes)
        s.append('<polyline points="%s" fill="none" stroke="%s" '
                 'stroke-width="2" stroke-dasharray="%s"/>' % (pts, col, dash))
    ly = mt + 10
    for name, f, col, dash in ref:
        s.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
                 'stroke-width="2" stroke-dasharray="%s"/>' %
                 (w - mr + 10, ly, w - mr + 30, ly, col, dash))
        s.append('<text x="%d" y="%d">%s</text>' % (w - mr + 35, ly + 4, name))
        ly += 14
    for i, k in enumerate(keys):
        per = table[k]
        ns = sorted(per)
        base = cost(per[ns[0]])
        col = palette[i % len(palette)]
        pts = " ".join("%.1f,%.1f" % (px(n), py(max(cost(per[n]) / base,
                                                     10 ** ymin)))
                       for n in ns)
        s.append('<polyline points="%s" fill="none" stroke="%s" '
                 'stroke-width="1"/>' % (pts, col))
        if ly < h - 10:
            s.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>' %
                     (w - mr + 10, ly, w - mr + 30, ly, col))
            s.append('<text x="%d" y="%d">%s</text>' %
                     (w - mr + 35, ly + 4, k[1][:30]))
            ly += 12
    s.append("</svg>")
    return "\n".join(s) + "\n"


def run(args):
    """pdbench at each size, --processes times in rounds over the sizes (so
    that a slow spell of the host falls on every size alike); the runs of
    one size go to one file."""
    os.makedirs(args.outdir, exist_ok=True)
    sizes = [int(x) for x in args.sizes.split(",")]
    paths = [os.path.join(args.outdir, "pdbench-%d.txt" % n) for n in sizes]
    for k in range(args.processes):
        for n, path in zip(sizes, paths):
            cmd = [args.pdbench, "--users", str(n),
                   "--threads", str(args.threads)]
            if args.only:
                cmd += ["--only", args.only]
            if args.repeat > 1:
                cmd += ["--repeat", str(args.repeat)]
            sys.stderr.write("running %s\n" % " ".join(cmd))
            with open(path, "w" if k == 0 else "a") as f:
                rc = subprocess.call(cmd, stdout=f)
            if rc != 0:
                sys.stderr.write("pdbench exited with %d (see %s)\n"
                                 % (rc, path))
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="*", help="saved pdbench outputs")
    ap.add_argument("--run", action="store_true", help="run pdbench first")
    ap.add_argument("--pdbench", default="build/bench/pdbench")
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each metric, model and aggregate figure "
                    "(pdbench --repeat); the cheapest run is judged")
    ap.add_argument("--processes", type=int, default=1,
                    help="pdbench processes per size (in rounds over the "
                    "sizes); the cheapest run of every figure is judged, "
                    "also of those a process runs once (recording, "
                    "clustering)")
    ap.add_argument("--outdir", default="/tmp/pdbench")
    ap.add_argument("--margin", type=float, default=0.25)
    ap.add_argument("--floor", type=float, default=0.02)
    ap.add_argument("--markdown", default="-",
                    help="where the markdown goes (- = stdout)")
    ap.add_argument("--update", default="",
                    help="replace the text between the <!-- pdbench:begin --> "
                    "and <!-- pdbench:end --> lines of this file (e.g. "
                    "docs/PERFORMANCE.md) by the markdown")
    ap.add_argument("--svg", default="docs/pdbench_scaling.svg")
    ap.add_argument("--note", default="",
                    help="a line for the table (machine, date, load)")
    args = ap.parse_args()
    if args.processes < 1 or args.repeat < 1:
        ap.error("--processes and --repeat must be at least 1")
    paths = list(args.inputs)
    if args.run:
        paths += run(args)
    if not paths:
        ap.error("no pdbench outputs (give files or --run)")
    rows = []
    for p in paths:
        with open(p) as f:
            rows += parse(f.read())
    if not rows:
        sys.exit("no pdbench lines in the inputs")
    table, order, sizes, verdicts = analyse(rows, args.margin, args.floor)
    svg_text = svg(table, order, sizes, verdicts, args.floor) if args.svg else None
    svg_name = None
    if svg_text:
        with open(args.svg, "w") as f:
            f.write(svg_text)
        svg_name = os.path.basename(args.svg)
    md = markdown(table, order, sizes, verdicts, args.margin, svg_name,
                  args.note, args.floor)
    if args.update:
        with open(args.update) as f:
            doc = f.read()
        begin, end = "<!-- pdbench:begin -->\n", "<!-- pdbench:end -->"
        i, j = doc.find(begin), doc.find(end)
        if i < 0 or j < i:
            sys.exit("%s has no pdbench:begin/end markers" % args.update)
        with open(args.update, "w") as f:
            f.write(doc[:i + len(begin)] + md + doc[j:])
    elif args.markdown == "-":
        sys.stdout.write(md)
    else:
        with open(args.markdown, "w") as f:
            f.write(md)
    flagged = any(v[2].startswith("WORSE") for v in verdicts.values())
    return 3 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
