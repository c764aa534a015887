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


def main():
    exe = sys.argv[1]
    args = [exe, "--users", "2000", "--threads", "2",
            "--only", "record,metrics,models,aggregates"]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=50)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        print("pdbench exited with", p.returncode)
        return 1
    seen = {}
    for line in p.stdout.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = LINE.match(line)
        if not m:
            print("malformed line:", line)
            return 1
        if int(m.group("users")) != 2000 or int(m.group("threads")) != 2:
            print("wrong users/threads:", line)
            return 1
        if float(m.group("wall")) < 0 or float(m.group("cpu")) < 0:
            print("negative time:", line)
            return 1
        seen.setdefault(m.group("group"), set()).add(m.group("figure"))
    for group, figures in REQUIRED.items():
        missing = figures - seen.get(group, set())
        if missing:
            print("group", group, "is missing", sorted(missing))
            return 1
    print("ok:", sum(len(v) for v in seen.values()), "figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
