#!/usr/bin/env python3
"""Specification of `pd report`: the overview of a private domain as text,
as one JSON object and as SVG charts, on the demo private domain and on
plain order logs (the shared CDNOW data).

usage: test_pd_report.py PATH_TO_PD   (data from env PD_DATASETS)"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

PD = sys.argv[1]
DATA = os.environ.get("PD_DATASETS", "")
failures = []
passed = 0
skipped = 0

# Every section, in the order the text prints them: JSON key, heading.
SECTIONS = [
    ("pool", "Pool by channel"),
    ("link_rates", "Link rate"),
    ("retention", "Link retention"),
    ("unlink_rate", "Unlink rate"),
    ("pressure", "Marketing pressure"),
    ("funnel", "Funnel"),
    ("repurchase", "Repurchase"),
    ("referral", "Referral and fission"),
    ("trust", "Trust"),
    ("guides", "Guides"),
    ("segments", "Segments"),
    ("clv", "Lifetime value"),
    ("followup", "Follow-up plan"),
]
# The sections an order log (no links, touchpoints or guides) has.
ORDER_BASED = {"repurchase", "segments", "clv"}
CHARTS = {
    "retention_by_channel.svg": "retention",
    "cohort_heatmap.svg": "retention",
    "funnel.svg": "funnel",
    "trust_distribution.svg": "trust",
}
SVG = "{http://www.w3.org/2000/svg}"


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
            print(f"[ SKIPPED  ] {fn.__name__}: data sets not found under "
                  f"{DATA!r}")
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
    assert rc == code, f"exit {rc}, expected {code}; stderr {err!r}"
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("pd: "), repr(err)
    assert out == "", repr(out)


def numbers(v):
    """Every number inside a JSON value."""
    if isinstance(v, bool):
        return []
    if isinstance(v, (int, float)):
        return [v]
    if isinstance(v, dict):
        return [n for x in v.values() for n in numbers(x)]
    if isinstance(v, list):
        return [n for x in v for n in numbers(x)]
    return []


def text_sections(out):
    """The text report split into {heading: body}."""
    parts = re.split(r"^== (.*)$", out, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


_demo = {}


def demo_json():
    if "json" not in _demo:
        rc, out, err = run("report", "--json")
        assert rc == 0, err
        _demo["json"] = out
    return json.loads(_demo["json"])


@case
def the_demo_report_prints_every_section_with_figures():
    rc, out, err = run("report")
    assert rc == 0, err
    assert err == "", err
    body = text_sections(out)
    headings = list(body)
    for key, heading in SECTIONS:
        match = [h for h in headings if h.startswith(heading)]
        assert len(match) == 1, f"section {heading!r} missing: {headings}"
        text = body[match[0]]
        assert "not applicable" not in text, (heading, text)
        assert re.search(r"[1-9]", text), f"{heading}: no figures {text!r}"
    # The order the operators read it in.
    order = [next(i for i, h in enumerate(headings) if h.startswith(s))
             for _, s in SECTIONS]
    assert order == sorted(order), headings
    assert "as of 2025-12-31 23:59:59 UTC" in out.split("\n")[0], out[:200]


@case
def the_demo_figures_agree_with_pd_demo():
    d = demo_json()
    rc, out, err = run("demo", "--json")
    assert rc == 0, err
    demo = json.loads(out)
    assert d["overview"]["users"] == demo["users"]
    assert d["overview"]["orders"] == demo["orders"]
    mine = {c["channel"]: c for c in d["pool"]["channels"]}
    for c in demo["channels"]:
        m = mine[c["channel"]]
        assert m["users_ever_linked"] == c["users"], (m, c)
        assert m["linked_now"] == c["linked_now"], (m, c)
        assert m["ended_by_user"] == c["ended_by_user"], (m, c)
        assert m["ended_by_staff"] == c["ended_by_staff"], (m, c)
        near(m["kept_share"], c["linked_now"] / c["users"], 1e-12,
             c["channel"])
    assert 0 < d["pool"]["reachable_users"] <= d["overview"]["users"]
    top = d["guides"]["top_by_users_bound"]
    assert [g["code"] for g in top] == \
        [g["code"] for g in demo["guides"]["top_by_users_bound"]]
    assert d["guides"]["active"] == demo["guides"]["active"]
    # Repurchase and referral, counted by pd demo from per-user queries.
    rp = d["repurchase"]
    assert (rp["buyers"], rp["repeat_buyers"]) == \
        (demo["buyers"], demo["repeat_buyers"]), (rp, demo["buyers"])
    near(rp["repurchase_rate"], demo["repurchase_rate"], 1e-12, "rate")
    assert rp["purchases"] == demo["orders"]
    assert rp["revenue_minor"] == demo["revenue_minor"]
    rf = d["referral"]
    assert rf["referrals"] == demo["referrals"] == 600
    assert rf["max_depth"] == demo["longest_referral_chain"]
    assert 0 < rf["k_factor"] < 1
    # Every buyer is in exactly one RFM segment.
    seg = d["segments"]
    assert seg["buyers"] == demo["buyers"]
    assert sum(x["users"] for x in seg["rfm"]) == seg["buyers"]
    assert sum(x["revenue_minor"] for x in seg["rfm"]) == rp["revenue_minor"]
    # The funnel's steps shrink and its rates are the ratios of its counts.
    f = d["funnel"]
    assert f["reached"] > f["linked"] > f["converted"] > f["repeat"] > 0
    near(f["link_rate"], f["linked"] / f["reached"], 1e-12, "link rate")
    near(f["repeat_rate"], f["repeat"] / f["converted"], 1e-12, "repeat")
    # The flash-group cohort (June) shows the deletion spike: its
    # one-month retention is far below the other cohorts'.
    cohorts = {c["cohort"]: c["retained_share"]
               for c in d["retention"]["cohorts_private_channels"]}
    june = cohorts.pop("2025-06-01")[1]
    others = [c[1] for c in cohorts.values() if c[1] is not None]
    assert june < 0.75 < min(others), (june, others)


@case
def json_has_every_section_key_and_figures_where_available():
    d = demo_json()
    assert d["input"] == {"kind": "demo", "seed": 20250101,
                          "users_requested": 5000}, d["input"]
    assert d["as_of"] == "2025-12-31T23:59:59Z", d["as_of"]
    assert d["overview"]["users"] > 4500
    for key, _ in SECTIONS:
        assert key in d, f"key {key!r} missing"
        s = d[key]
        assert s["available"], (key, s)
        assert any(n != 0 for n in numbers(s)), f"{key}: all zero {s}"


@case
def json_is_identical_across_runs():
    rc, out, err = run("report", "--json")
    assert rc == 0, err
    assert out == _demo.get("json", out), "pd report --json differs"


@case
def as_of_reports_the_domain_as_it_was_that_day():
    rc, out, err = run("report", "--json", "--as-of", "2025-06-30")
    assert rc == 0, err
    mid = json.loads(out)
    end = demo_json()
    assert mid["as_of"] == "2025-06-30T23:59:59Z"
    assert 0 < mid["pool"]["reachable_users"] < end["pool"]["reachable_users"]
    ever = lambda d: sum(c["users_ever_linked"] for c in d["pool"]["channels"])
    assert ever(mid) < ever(end)


def check_svg(path):
    tree = ET.parse(path)  # well-formed XML or it raises
    root = tree.getroot()
    assert root.tag == SVG + "svg", root.tag
    title = root.find(SVG + "title")
    assert title is not None and title.text and title.text.strip(), path
    texts = [t.text for t in root.iter(SVG + "text") if t.text]
    assert title.text in texts, f"{path}: no visible title"
    assert len(texts) >= 8, f"{path}: only {len(texts)} labels"
    for attr in ("width", "height", "viewBox"):
        assert root.get(attr), f"{path}: no {attr}"
    return root, texts


def grouped(n):
    return f"{n:,}"


def check_chart_content(name, root, texts, j):
    """Each chart shows the report's own figures."""
    if name == "funnel.svg":
        f = j["funnel"]
        for k in ("reached", "linked", "converted", "repeat", "referrers"):
            assert grouped(f[k]) in texts, (k, f[k], texts)
        assert any("成交" in t for t in texts), texts
    elif name == "trust_distribution.svg":
        hist = j["trust"]["histogram"]
        bars = [r for r in root.iter(SVG + "rect")
                if r.get("fill") not in ("#ffffff",)]
        assert len(bars) == sum(1 for h in hist if h > 0), (len(bars), hist)
        for h in hist:
            assert grouped(h) in texts, (h, texts)
    elif name == "cohort_heatmap.svg":
        cohorts = j["retention"]["cohorts_private_channels"]
        cells = sum(1 for c in cohorts for v in c["retained_share"]
                    if v is not None)
        rects = [r for r in root.iter(SVG + "rect")
                 if r.get("stroke") == "#ffffff"]
        assert len(rects) == cells, (len(rects), cells)
        for c in cohorts:
            assert c["cohort"][:7] in texts, c["cohort"]
    elif name == "retention_by_channel.svg":
        channels = [c["channel"] for c in j["retention"]["by_channel"]]
        legend = [t for t in texts if t in channels]
        assert len(legend) >= 2, (legend, texts)
        assert "100%" in texts and "0%" in texts, texts


@case
def svg_charts_are_well_formed_labelled_and_deterministic():
    with tempfile.TemporaryDirectory() as tmp:
        outs = []
        for run_no in (1, 2):
            d = os.path.join(tmp, f"run{run_no}", "charts")  # created
            rc, out, err = run("report", "--json", "--svg", d)
            assert rc == 0, err
            j = json.loads(out)
            written = {c["file"]: c["written"] for c in j["charts"]}
            assert set(written) == set(CHARTS), written
            files = {}
            for name, section in CHARTS.items():
                path = os.path.join(d, name)
                assert written[name] and os.path.exists(path), name
                root, texts = check_svg(path)
                check_chart_content(name, root, texts, j)
                with open(path, "rb") as f:
                    files[name] = f.read()
            outs.append(files)
        assert outs[0] == outs[1], "charts differ between runs"
        # The text report says what it wrote or skipped.
        rc, out, err = run("report", "--svg", os.path.join(tmp, "run1"))
        assert rc == 0, err
        charts = text_sections(out)["Charts"]
        for name in CHARTS:
            assert name in charts, charts


@case
def svg_into_a_file_path_fails_with_one_line():
    with tempfile.NamedTemporaryFile() as f:
        one_error_line(*run("report", "--svg", f.name), 1)


def cdnow_master_rows(path):
    """Orders per customer and total cents, read independently."""
    per_customer = collections.Counter()
    cents = 0
    with open(path) as f:
        next(f)  # header
        for line in f:
            w = line.split()
            if w:
                per_customer[int(w[0])] += 1
                cents += round(float(w[3]) * 100)
    return per_customer, cents


@case
def report_on_the_cdnow_master_order_log():
    paths = need("CDNOW_master.txt")
    if not paths:
        return "skip"
    rc, out, err = run("report", "--transactions", paths[0], "--format",
                       "cdnow-master", "--json")
    assert rc == 0, err
    d = json.loads(out)
    rows, cents = cdnow_master_rows(paths[0])
    assert d["input"]["kind"] == "transactions"
    assert d["as_of"] == "1998-06-30T23:59:59Z", d["as_of"]
    assert d["overview"]["users"] == len(rows) == 23570
    assert d["overview"]["orders"] == sum(rows.values()) == 69659
    assert d["overview"]["links"] == 0
    for key, _ in SECTIONS:
        s = d[key]
        if key in ORDER_BASED:
            assert s["available"], (key, s)
        else:
            assert not s["available"] and s["status"] == "not_applicable", \
                (key, s)
            assert s["reason"] and numbers(s) == [], (key, s)
    # Repurchase, counted independently from the file.
    rp = d["repurchase"]
    assert rp["buyers"] == len(rows)
    repeat = sum(1 for n in rows.values() if n >= 2)
    assert rp["repeat_buyers"] == repeat, (rp["repeat_buyers"], repeat)
    near(rp["repurchase_rate"], repeat / len(rows), 1e-12, "rate")
    assert rp["revenue_minor"] == cents, (rp["revenue_minor"], cents)
    seg = d["segments"]
    assert seg["buyers"] == len(rows)
    assert sum(x["users"] for x in seg["rfm"]) == len(rows)
    assert d["clv"]["customers"] == len(rows)
    assert 0 < d["clv"]["mean_p_alive"] < 1
    # The text form runs too and says why the link sections are skipped.
    rc, out, err = run("report", "--transactions", paths[0], "--format",
                       "cdnow-master")
    assert rc == 0, err
    assert "not applicable" in text_sections(out)[
        next(h for h in text_sections(out) if h.startswith("Pool"))]


@case
def clv_on_the_cdnow_sample_reproduces_the_published_fits():
    paths = need("CDNOW_sample.txt")
    if not paths:
        return "skip"
    rc, out, err = run("report", "--transactions", paths[0], "--format",
                       "cdnow-sample", "--as-of", "1997-09-30", "--json")
    assert rc == 0, err
    c = json.loads(out)["clv"]
    assert c["customers"] == 2357
    for k, v in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        near(c["bgnbd"][k], v, 0.0015, "BG/NBD " + k)
    for k, v in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        near(c["gammagamma"][k], v, 0.015, "Gamma-Gamma " + k)


@case
def report_reads_a_csv_order_log():
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write('Amount,Customer_ID,date\n5,"a,1",2024-01-01\n'
                '7.5,"a,1",2024-01-08T10:30:00Z\n1,b,1704153600\n')
        path = f.name
    try:
        rc, out, err = run("report", "--transactions", path, "--json")
        assert rc == 0, err
        d = json.loads(out)
        assert d["input"]["format"] == "csv"
        assert d["overview"]["users"] == 2 and d["overview"]["orders"] == 3
        assert d["as_of"] == "2024-01-08T23:59:59Z", d["as_of"]
        rp = d["repurchase"]
        assert (rp["buyers"], rp["repeat_buyers"]) == (2, 1), rp
        assert rp["revenue_minor"] == 1350, rp
        # No chart applies to an order log: none is written, each says why.
        with tempfile.TemporaryDirectory() as tmp:
            rc, out, err = run("report", "--transactions", path, "--json",
                               "--svg", tmp)
            assert rc == 0, err
            charts = json.loads(out)["charts"]
            assert len(charts) == len(CHARTS), charts
            for c in charts:
                assert not c["written"] and "not applicable" in c["reason"], c
            assert os.listdir(tmp) == [], os.listdir(tmp)
    finally:
        os.unlink(path)


@case
def bad_arguments_give_one_stderr_line_and_a_non_zero_exit():
    one_error_line(*run("report", "--bogus"), 2)
    one_error_line(*run("report", "extra"), 2)
    one_error_line(*run("report", "--format", "csv"), 2)
    one_error_line(*run("report", "--transactions", "x", "--format", "xls"), 2)
    one_error_line(*run("report", "--as-of", "2025-02-30"), 2)
    one_error_line(*run("report", "--as-of", "yesterday"), 2)
    one_error_line(*run("report", "--svg"), 2)
    one_error_line(*run("report", "--transactions", "/nonexistent.csv"), 1)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("customer_id,date,amount\na,2024-01-01,1\nb,2024-13-01,1\n")
        path = f.name
    try:
        rc, out, err = run("report", "--transactions", path)
        one_error_line(rc, out, err, 1)
        assert "line 3" in err, err
    finally:
        os.unlink(path)
    rc, out, err = run("report", "--help")
    assert rc == 0 and "--transactions" in out and "--svg" in out, out
    rc, out, err = run("--help")
    assert rc == 0 and "report" in out


print(f"{passed} passed, {len(failures)} failed, {skipped} skipped")
sys.exit(1 if failures else 0)
