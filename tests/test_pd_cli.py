#!/usr/bin/env python3
"""Specification of the pd command-line tool: runs the built pd on the
shared CDNOW data and checks its outputs against the published summaries
and fits and against values computed here independently.

usage: test_pd_cli.py PATH_TO_PD   (data from env PD_DATASETS)"""
import csv
import datetime
import io
import json
import math
import os
import subprocess
import sys
import tempfile

PD = sys.argv[1]
DATA = os.environ.get("PD_DATASETS", "")
failures = []
passed = 0
skipped = 0


def run(*args):
    p = subprocess.run([PD, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def dataset(name):
    path = os.path.join(DATA, name)
    return path if os.path.exists(path) else None


def case(fn):
    global passed, skipped
    try:
        r = fn()
        if r == "skip":
            skipped += 1
            print(f"[ SKIPPED  ] {fn.__name__}: data sets not found")
        else:
            passed += 1
            print(f"[       OK ] {fn.__name__}")
    except AssertionError as e:
        failures.append(fn.__name__)
        print(f"[  FAILED  ] {fn.__name__}: {e}")
    return fn


def need(*names):
    paths = [dataset(n) for n in names]
    if all(paths):
        return paths
    if os.environ.get("CI") == "true":
        raise AssertionError(f"data sets {names} missing under {DATA!r}")
    return None


def near(a, b, tol, what):
    assert abs(a - b) <= tol, f"{what}: {a} != {b} within {tol}"


def one_error_line(rc, out, err, code):
    assert rc == code, f"exit {rc}, expected {code}"
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("pd: "), repr(err)
    assert out == "", repr(out)


@case
def summary_of_the_cdnow_sample_equals_the_published_csv():
    paths = need("CDNOW_sample.txt", "cdnow_customers_summary.csv")
    if not paths:
        return "skip"
    rc, out, err = run("summary", "--transactions", paths[0], "--format",
                       "cdnow-sample", "--calibration-end", "1997-09-30",
                       "--unit", "week")
    assert rc == 0, err
    got = list(csv.DictReader(io.StringIO(out)))
    assert out.split("\n")[0] == "id,x,t_x,T,monetary_value"
    with open(paths[1]) as f:
        want = list(csv.DictReader(f))
    assert len(got) == len(want) == 2357
    for g, w in zip(got, want):
        assert g["id"] == w["ID"], (g, w)
        assert float(g["x"]) == float(w["frequency"]), (g, w)
        near(float(g["t_x"]), float(w["recency"]), 0.005 + 1e-9, g["id"])
        near(float(g["T"]), float(w["T"]), 0.005 + 1e-9, g["id"])


@case
def summary_counts_holdout_days_up_to_the_observation_end():
    paths = need("CDNOW_sample.txt")
    if not paths:
        return "skip"
    rc, out, err = run("summary", "--transactions", paths[0], "--format",
                       "cdnow-sample", "--calibration-end", "1997-09-30",
                       "--observation-end", "1998-06-30")
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "x_holdout" in rows[0]
    # Independently: distinct purchase days after 1997-09-30 per customer.
    days = {}
    with open(paths[0]) as f:
        for line in f:
            w = line.split()
            if w and w[2] > "19970930":
                days.setdefault(str(int(w[1])), set()).add(w[2])
    for r in rows:
        assert float(r["x_holdout"]) == len(days.get(r["id"], ())), r
    # In days: T of customer 1 is 1997-09-30 - 1997-01-01 = 272 days.
    assert rows[0]["T"] == "272", rows[0]


@case
def summary_reads_csv_transactions():
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write('customer_id,date,amount\n"a,1",2024-01-01,5\n'
                '"a,1",2024-01-08,7.5\nb,2024-01-02,1\n')
        path = f.name
    try:
        rc, out, err = run("summary", "--transactions", path,
                           "--calibration-end", "2024-01-08")
        assert rc == 0, err
        assert out == ('id,x,t_x,T,monetary_value\n"a,1",1,7,7,7.5\n'
                       'b,0,0,6,0\n'), repr(out)
    finally:
        os.unlink(path)


@case
def fit_bgnbd_reproduces_the_published_fit():
    paths = need("cdnow_customers_summary.csv")
    if not paths:
        return "skip"
    rc, out, err = run("fit", "bgnbd", "--summary", paths[0], "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert j["model"] == "bgnbd" and j["n"] == 2357 and j["converged"] is True
    for k, v in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        near(j["params"][k], v, 0.001, k)
        assert j["standard_errors"][k] > 0
    near(j["log_likelihood"], -9582.4, 0.05, "LL")
    assert isinstance(j["iterations"], int)


@case
def fit_paretonbd_gammagamma_and_bgbb_reproduce_published_fits():
    paths = need("cdnow_customers_summary.csv",
                 "cdnow_customers_summary_with_transactions.csv",
                 "donations.csv")
    if not paths:
        return "skip"
    expect = [
        ("paretonbd", paths[0], {"r": 0.553, "alpha": 10.578, "s": 0.606,
                                 "beta": 11.669}, 0.01),
        ("gammagamma", paths[1], {"p": 6.25, "q": 3.74, "gamma": 15.44},
         0.01),
        ("bgbb", paths[2], {"alpha": 1.204, "beta": 0.750, "gamma": 0.657,
                            "delta": 2.783}, 0.001),
    ]
    for model, path, params, tol in expect:
        rc, out, err = run("fit", model, "--summary", path, "--json")
        assert rc == 0, err
        j = json.loads(out)
        assert j["model"] == model
        for k, v in params.items():
            # Pareto/NBD's beta is flat in the likelihood: relative check.
            near(j["params"][k], v, tol * max(1.0, v), f"{model} {k}")
    j = json.loads(run("fit", "gammagamma", "--summary", paths[1],
                       "--json")[1])
    assert j["n"] == 946
    j = json.loads(run("fit", "bgbb", "--summary", paths[2], "--json")[1])
    assert j["n"] == 11104


@case
def fit_sbg_projects_survivor_counts():
    counts = [1000, 631, 468, 382, 326]
    rc, out, err = run("fit", "sbg", "--survivors",
                       ",".join(map(str, counts)), "--project", "3",
                       "--discount", "0.1", "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert j["model"] == "sbg" and j["n"] == 1000
    a, b = j["params"]["alpha"], j["params"]["beta"]
    # S(t) = prod_{i=1..t} (b + i - 1) / (a + b + i - 1), computed here.
    s, proj = 1.0, []
    for t in range(1, 8):
        s *= (b + t - 1) / (a + b + t - 1)
        if t >= 5:
            proj.append(1000 * s)
    assert len(j["projected_survivors"]) == 3
    for g, w in zip(j["projected_survivors"], proj):
        near(g, w, 1e-9 * w, "projection")
    # The projection continues the observed decline.
    assert counts[-1] > j["projected_survivors"][0] > proj[-1] - 1e-9
    # The fit reproduces the observed counts roughly.
    s = 1.0
    for t in range(1, 5):
        s *= (b + t - 1) / (a + b + t - 1)
        near(1000 * s, counts[t], 15, f"fitted S({t})")
    # DERL (renewals 0) = sum_j S(1 + j) / S(0) / 1.1^j, summed here.
    s, derl, jj = 1.0, 0.0, 0
    s *= b / (a + b)
    while jj < 5000:
        derl += s / 1.1 ** jj
        s *= (b + jj + 1) / (a + b + jj + 1)
        jj += 1
    near(j["derl"], derl, 1e-6, "derl")


@case
def predict_gives_bgnbd_p_alive_and_totals():
    paths = need("cdnow_customers_summary_with_transactions.csv")
    if not paths:
        return "skip"
    with tempfile.TemporaryDirectory() as d:
        bg, gg = os.path.join(d, "bg.json"), os.path.join(d, "gg.json")
        for model, path in (("bgnbd", bg), ("gammagamma", gg)):
            rc, out, err = run("fit", model, "--summary", paths[0], "--json")
            assert rc == 0, err
            with open(path, "w") as f:
                f.write(out)
        rc, out, err = run("predict", "bgnbd", "--summary", paths[0],
                           "--params", bg, "--horizon", "39",
                           "--spend-params", gg, "--json")
        assert rc == 0, err
        assert "NaN" not in out and "Infinity" not in out
        j = json.loads(out)
        p = json.load(open(bg))["params"]
        r, al, a, b = p["r"], p["alpha"], p["a"], p["b"]
        with open(paths[0]) as f:
            rows = list(csv.DictReader(f))
        assert len(j["customers"]) == len(rows) == 2357
        tot = 0.0
        for c, row in zip(j["customers"], rows):
            assert c["id"] == row["ID"]
            x, tx, T = float(row["x"]), float(row["t_x"]), float(row["T"])
            # Fader, Hardie & Lee (2005): P(alive) for BG/NBD.
            pa = 1.0 if x == 0 else 1 / (1 + a / (b + x - 1) *
                                         ((al + T) / (al + tx)) ** (r + x))
            near(c["p_alive"], pa, 1e-9, f"p_alive {c['id']}")
            assert c["expected_purchases"] >= 0 and c["clv"] >= 0
            tot += c["expected_purchases"]
        near(j["totals"]["expected_purchases"], tot, 1e-6 * tot, "total")
        assert j["totals"]["customers"] == 2357
        # Text output: a header line and one line per customer + totals.
        rc, out, err = run("predict", "bgnbd", "--summary", paths[0],
                           "--params", bg, "--horizon", "39")
        assert rc == 0, err
        lines = out.strip().split("\n")
        assert lines[0].split()[:3] == ["id", "expected_purchases",
                                        "p_alive"]
        assert len(lines) == 1 + 2357 + 2


@case
def bad_arguments_give_one_stderr_line_and_a_nonzero_exit():
    one_error_line(*run("no-such-command"), 2)
    one_error_line(*run("fit", "nomodel", "--summary", "x.csv"), 2)
    one_error_line(*run("fit", "bgnbd"), 2)
    one_error_line(*run("fit", "bgnbd", "--summary", "/nonexistent.csv"), 1)
    one_error_line(*run("fit", "sbg", "--survivors", "1000,abc"), 2)
    one_error_line(*run("summary", "--transactions", "x", "--calibration-end",
                        "1997-02-30"), 2)
    one_error_line(*run("summary", "--transactions", "/nonexistent",
                        "--calibration-end", "1997-02-03"), 1)
    one_error_line(*run("summary", "--bogus"), 2)
    one_error_line(*run("predict", "gammagamma", "--summary", "a",
                        "--params", "b", "--horizon", "1"), 2)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("customer_id,date,amount\na,2024-01-01,1\nb,2024-13-01,1\n")
        path = f.name
    try:
        rc, out, err = run("summary", "--transactions", path,
                           "--calibration-end", "2024-02-01")
        one_error_line(rc, out, err, 1)
        assert "line 3" in err, err
    finally:
        os.unlink(path)
    rc, out, err = run("--version")
    assert rc == 0 and out.startswith("pd "), out
    rc, out, err = run("--help")
    assert rc == 0 and "summary" in out and "fit" in out


print(f"{passed} passed, {len(failures)} failed, {skipped} skipped")
sys.exit(1 if failures else 0)
