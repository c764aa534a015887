#!/usr/bin/env python3
"""Smoke test of pdbench: a 2,000-user domain through record, metrics and
models must finish with status 0 and print only well-formed figure lines.

(with aggregates too). Usage: pdbench_smoke.py PATH/TO/pdbench
"""
import re
import subprocess
import sys

LINE = re.compile(
    r"^pdbench group=(?P<group>[a-z_]+) figure=(?P<figure>[A-Za-z0-9_]+) "
    r"users=(?P<users>\d+) events=(?P<events>\d+) threads=(?P<threads>\d+) "
    r"wall_s=(?P<wall>[0-9.e+-]+) cpu_s=(?P<cpu>[0-9.e+-]+)"
    r" minflt=(?P<minflt>\d+) majflt=(?P<majflt>\d+)"
    r"(?: value=(?P<value>[-0-9.e+a-z]+) unit=(?P<unit>[A-Za-z0-9_/]+))?"
    r"(?: target=(?P<target>[0-9.e+-]+) target_unit=(?P<tunit>[A-Za-z0-9_/]+)"
    r" ok=(?P<ok>[01]))?$")

# Figures each group must report (a figure that silently vanished from
# the table is a failure, not a pass).
REQUIRED = {
    "record": {"record_single", "users_setup", "record_batch",
               "record_batch_store_only", "replay_batch"},
    "metrics": {"store_cluster", "trust_distribution", "pressure_stats",
                "store_summary", "store_value_predict", "followup_plan",
                "link_retention", "link_survival_km", "unlink_rate",
                "campaign_health", "funnel_by_source", "repurchase",
                "referral_stats", "guide_figures", "rfm", "super_users"},
    "models": {"summary_from_transactions", "fit_bgnbd", "fit_mbgnbd",
               "fit_paretonbd", "fit_gammagamma", "fit_bgbb", "fit_sbg",
               "bgnbd_expected_purchases", "clv_bgnbd_gammagamma",
               "fit_bgnbd_distinct"},
    "aggregates": {"aggregate_funnel", "aggregate_rfm",
                   "aggregate_link_cohorts", "aggregate_repurchase",
                   "aggregate_rfm_save_load_merge"},
}


def figures_of(exe, *extra):
    """Run pdbench on 2,000 users with `extra` arguments; the figures it
    printed, by group, or None (with the reason printed) on failure."""
    args = [exe, "--users", "2000", "--threads", "2", *extra]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=50)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        print(" ".join(args[1:]), ": pdbench exited with", p.returncode)
        return None
    seen = {}
    for line in p.stdout.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = LINE.match(line)
        if not m:
            print("malformed line:", line)
            return None
        if int(m.group("users")) != 2000 or int(m.group("threads")) != 2:
            print("wrong users/threads:", line)
            return None
        if float(m.group("wall")) < 0 or float(m.group("cpu")) < 0:
            print("negative time:", line)
            return None
        seen.setdefault(m.group("group"), set()).add(m.group("figure"))
    return seen


def main():
    seen = figures_of(sys.argv[1], "--only", "record,metrics,models,aggregates")
    if seen is None:
        return 1
    for group, figures in REQUIRED.items():
        missing = figures - seen.get(group, set())
        if missing:
            print("group", group, "is missing", sorted(missing))
            return 1
    # --figures picks metrics after a recording that is not among them: the
    # store is still set up and recorded, and only the chosen metrics run.
    picked = figures_of(sys.argv[1], "--only", "record,metrics",
                        "--figures", "store_cluster,rfm")
    if picked is None:
        return 1
    if picked.get("metrics") != {"store_cluster", "rfm"}:
        print("--figures store_cluster,rfm gave", picked.get("metrics"))
        return 1
    print("ok:", sum(len(v) for v in seen.values()), "figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
