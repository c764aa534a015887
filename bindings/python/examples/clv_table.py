#!/usr/bin/env python3
"""Customer lifetime value table from a CSV of orders.

    clv_table.py ORDERS.csv [--calibration-end YYYY-MM-DD] [--months 12]
                 [--discount 0.01] [--top 20] [--format csv|cdnow-sample]

Reads orders (columns customer_id, date, amount), summarises each customer
in weeks (BTYD convention: repeat purchase days x, recency t_x, age T, mean
repeat spend), fits BG/NBD for how often customers buy and Gamma-Gamma for
how much, and prints the customers with the highest discounted CLV over the
next months: probability alive, expected purchases, expected spend, CLV.
The calibration period ends on the given day (inclusive), by default the
last order date in the file.
"""

import argparse
import array
import csv
import sys

import privdomain as pd

WEEKS_PER_MONTH = 52.0 / 12.0


def last_order_day(path):
    """The last order date of a CSV (its 'date' column), as epoch seconds of
    that day's last second."""
    last = None
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        column = next((c for c in reader.fieldnames or ()
                       if c.strip().lower() == "date"), "date")
        for row in reader:
            text = row[column].strip()
            if text.isdigit() and len(text) != 8:      # Unix seconds
                day = int(text) // 86400 * 86400
            else:                                      # a date, maybe a time
                day = pd.parse_date(text.replace("T", " ").split(" ")[0])
            last = day if last is None or day > last else last
    if last is None:
        raise SystemExit(f"{path}: no orders")
    return last + 86399


def clv_table(path, fmt, calibration_end, months, discount):
    with pd.Summary() as summary, pd.Fit() as bgnbd, pd.Fit() as gg:
        summary.import_file(path, fmt)
        summary.compute(calibration_end, unit="week")
        data = summary.data()
        cols = {c: summary.column(c) for c in ("x", "t_x", "T", "monetary")}
        keep = [i for i, age in enumerate(cols["T"]) if age > 0]
        if len(keep) < len(summary):
            # Customers first seen on the last calibration day have no
            # history to fit (T = 0); the models require T > 0.
            cols = {c: array.array("d", (v[i] for i in keep))
                    for c, v in cols.items()}
            data = pd.CustomerData(cols["x"], cols["t_x"], cols["T"],
                                   monetary=cols["monetary"])
        bgnbd.estimate("bgnbd", data)
        gg.estimate("gammagamma", data)
        horizon = months * WEEKS_PER_MONTH
        alive = bgnbd.p_alive(data)
        purchases = bgnbd.expected_purchases(data, horizon)
        spend = gg.expected_spend(data)
        clv = bgnbd.clv(gg, data, months, discount, WEEKS_PER_MONTH)
        x, t_x, T = cols["x"], cols["t_x"], cols["T"]
        rows = [(summary.id(row), x[i], t_x[i], T[i], alive[i],
                 purchases[i], spend[i], clv[i])
                for i, row in enumerate(keep)]
        return rows, bgnbd.info(), gg.info(), len(summary) - len(keep)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("orders")
    ap.add_argument("--format", default="csv",
                    choices=["csv", "cdnow-sample", "cdnow-master"])
    ap.add_argument("--calibration-end", help="YYYY-MM-DD (inclusive)")
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--discount", type=float, default=0.01,
                    help="discount rate per month")
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args(argv)

    if args.calibration_end:
        end = pd.parse_date(args.calibration_end) + 86399
    elif args.format == "csv":
        end = last_order_day(args.orders)
    else:
        ap.error("--calibration-end is required for this format")
    try:
        rows, fit, spend, skipped = clv_table(args.orders, args.format, end,
                                              args.months, args.discount)
    except pd.PrivDomainError as exc:
        print(f"clv_table: {exc}", file=sys.stderr)
        return 1

    params = ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())
    print(f"BG/NBD: {params} (LL {fit.log_likelihood:.1f}, "
          f"{fit.n_customers:.0f} customers)")
    params = ", ".join(f"{k}={v:.4g}" for k, v in spend.params.items())
    print(f"Gamma-Gamma: {params} ({spend.n_customers:.0f} repeat "
          "customers)")
    print(f"CLV over {args.months} months, {args.discount:.2%} per month")
    print()
    head = ("customer", "x", "t_x", "T", "P(alive)", "E[purchases]",
            "E[spend]", "CLV")
    print("%-12s %4s %7s %7s %8s %12s %9s %10s" % head)
    rows.sort(key=lambda r: (-r[7], r[0]))
    for r in rows[:args.top]:
        print("%-12s %4.0f %7.2f %7.2f %8.3f %12.3f %9.2f %10.2f" % r)
    total = sum(r[7] for r in rows)
    print()
    print(f"{len(rows)} customers, total CLV {total:.2f}")
    if skipped:
        print(f"({skipped} customers first seen on the last day left out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
