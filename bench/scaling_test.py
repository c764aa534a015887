#!/usr/bin/env python3
"""Test of bench/scaling.py, the judge of issue 7's n log n check: on
pdbench outputs written here, a figure growing linearly passes, one growing
as n^1.5 is flagged (exit status 3), several runs of a figure are judged by
the cheapest, a figure too cheap to time is not judged, and --run passes
--repeat on to pdbench, and --processes runs pdbench several times per
size with the cheapest process judged. Usage: scaling_test.py PATH/TO/scaling.py
"""
import os
import stat
import subprocess
import sys
import tempfile

SIZES = (100000, 1000000, 10000000)


def line(group, figure, users, seconds, value=None):
    extra = " value=%g unit=bytes/event" % value if value is not None else ""
    return ("pdbench group=%s figure=%s users=%d events=%d threads=2 "
            "wall_s=%.6f cpu_s=%.6f minflt=0 majflt=0%s\n" %
            (group, figure, users, 20 * users, seconds, seconds, extra))


def outputs(tmp):
    paths = []
    for n in SIZES:
        k = n / SIZES[0]
        text = "# pdbench users=%d\n" % n
        text += line("metrics", "linear", n, 0.01 * k)
        text += line("metrics", "steep", n, 0.01 * k ** 1.5)
        # The first run of the largest size is slow (fresh memory), the
        # second is linear: the cheapest run is judged.
        runs = [0.01 * k] if n < SIZES[-1] else [3.0, 0.011 * k, 2.5]
        for s in runs:
            text += line("metrics", "noisy", n, s)
        text += line("metrics", "tiny", n, 0.0001 * k ** 2 / 1000)
        text += line("memory", "bytes_per_event", n, 0.0, value=45.0)
        path = os.path.join(tmp, "pdbench-%d.txt" % n)
        with open(path, "w") as f:
            f.write(text)
        paths.append(path)
    return paths


def row(md, figure):
    for l in md.splitlines():
        if l.startswith("| ") and ("| %s |" % figure) in l:
            return l
    raise AssertionError("no row for %s in:\n%s" % (figure, md))


def check(cond, what, md=""):
    if not cond:
        sys.exit("FAIL: %s\n%s" % (what, md))


def main():
    scaling = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        md_path, svg = os.path.join(tmp, "s.md"), os.path.join(tmp, "s.svg")
        rc = subprocess.call([sys.executable, scaling] + outputs(tmp) +
                             ["--markdown", md_path, "--svg", svg])
        with open(md_path) as f:
            md = f.read()
        check(rc == 3, "a flagged figure exits with status 3 (got %d)" % rc)
        check(row(md, "linear").endswith("| ok |"), "linear passes", md)
        check("WORSE: 100k→1M ×31.6, 1M→10M ×31.6" in row(md, "steep"),
              "n^1.5 is flagged at both steps", md)
        check(row(md, "noisy").endswith("| ok |"),
              "the cheapest of several runs is judged", md)
        check("| 1.10/1.10 |" in row(md, "noisy") and
              "3.00/3.00" not in row(md, "noisy"),
              "the table shows the cheapest run", md)
        check(row(md, "tiny").endswith("| too small |"),
              "a figure under the floor is not judged", md)
        check(row(md, "bytes_per_event").endswith("| ok |"),
              "a constant memory figure passes", md)
        check("Flagged: metrics/steep (exponent 1.50)." in md,
              "only steep is listed as flagged", md)
        check(os.path.getsize(svg) > 0, "the curve is drawn")

        # --run: pdbench is called once per size, with --repeat passed on.
        fake = os.path.join(tmp, "fake_pdbench")
        calls = os.path.join(tmp, "calls")
        with open(fake, "w") as f:
            f.write("#!%s\nimport sys\n"
                    "open(%r, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                    "n = int(sys.argv[sys.argv.index('--users') + 1])\n"
                    "print('pdbench group=metrics figure=linear users=%%d '\n"
                    "      'events=1 threads=2 wall_s=%%g cpu_s=%%g minflt=0 '\n"
                    "      'majflt=0' %% (n, n * 1e-7, n * 1e-7))\n"
                    % (sys.executable, calls))
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        rc = subprocess.call([sys.executable, scaling, "--run", "--pdbench",
                              fake, "--sizes", "1000,10000", "--repeat", "3",
                              "--only", "metrics", "--outdir", tmp,
                              "--markdown", md_path, "--svg", svg])
        with open(calls) as f:
            argv = f.read().splitlines()
        check(rc == 0, "a linear figure from --run passes (got %d)" % rc)
        check(argv == ["--users %d --threads 2 --only metrics --repeat 3" % n
                       for n in (1000, 10000)],
              "pdbench got --repeat 3: %r" % argv)

        # --processes 2: pdbench twice per size, in rounds over the sizes;
        # the figure is steep in the first process only, and the cheapest
        # of the two processes is judged.
        os.remove(calls)
        with open(fake, "w") as f:
            f.write("#!%s\nimport sys\n"
                    "n = int(sys.argv[sys.argv.index('--users') + 1])\n"
                    "try:\n"
                    "    before = open(%r).read().split().count(str(n))\n"
                    "except OSError:\n"
                    "    before = 0\n"
                    "open(%r, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                    "t = n * 1e-5 * (100 if before == 0 and n > 1000 else 1)\n"
                    "print('pdbench group=record figure=once users=%%d '\n"
                    "      'events=1 threads=2 wall_s=%%g cpu_s=%%g minflt=0 '\n"
                    "      'majflt=0' %% (n, t, t))\n"
                    % (sys.executable, calls, calls))
        rc = subprocess.call([sys.executable, scaling, "--run", "--pdbench",
                              fake, "--sizes", "1000,10000", "--processes",
                              "2", "--outdir", tmp, "--markdown", md_path,
                              "--svg", svg])
        with open(calls) as f:
            argv = f.read().splitlines()
        check(argv == ["--users %d --threads 2" % n
                       for n in (1000, 10000, 1000, 10000)],
              "pdbench ran twice per size, in rounds: %r" % argv)
        with open(os.path.join(tmp, "pdbench-10000.txt")) as f:
            check(len(f.read().splitlines()) == 2,
                  "both processes' lines are kept")
        check(rc == 0, "the cheaper process is judged (got %d)" % rc)
        with open(md_path) as f:
            md = f.read()
        check(row(md, "once").endswith("| ok |"),
              "a figure steep in one process only passes", md)
    print("scaling.py: all checks passed")


if __name__ == "__main__":
    main()
