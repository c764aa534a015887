#!/usr/bin/env python3
"""Customer lifetime value on a Dask cluster, identical to one process.

    clv_dask.py CDNOW_sample.txt [--partitions 6] [--workers 3]
                [--scheduler tcp://HOST:8786] [--top 5]

The transaction file is cut into byte ranges (partitions) at line ends.
Each Dask worker reads its range, summarises it with privdomain and
returns a serialised customer-summary partial (summary_partial.h). The
client merges the partials (they merge exactly: the file is sorted by
customer then date, so a customer cut by a range boundary shares at most
one purchase day between two partitions), fits BG/NBD and Gamma-Gamma
once, and sends the fitted parameters with each partition's customers back
to the workers, which predict P(alive), expected purchases over 39 weeks,
expected spend and 12-month CLV. The client gathers everything and checks
it against the same pipeline run in this one process: every float must be
equal, bit for bit.

Without --scheduler a LocalCluster with --workers worker processes (one
thread each) runs on this machine. With --scheduler the script connects to
a running cluster instead: every worker then needs libprivdomain
(PRIVDOMAIN_LIBRARY or an installed library), this package on its
PYTHONPATH, and the data file at the same path (shared storage). See
docs/DISTRIBUTED.md.
"""

import argparse
import os
import sys

import privdomain as pd

CALIBRATION_END = "1997-09-30"  # inclusive: the 39 weeks of CDNOW
OBSERVATION_END = "1998-06-30"  # holdout to the end of the data
HORIZON_WEEKS = 39.0
CLV_MONTHS = 12
DISCOUNT = 0.01  # per month
WEEKS_PER_MONTH = 52.0 / 12.0
FORMAT = "cdnow-sample"


def ends():
    """The calibration and observation ends, seconds (last second of day)."""
    return (pd.parse_date(CALIBRATION_END) + 86399,
            pd.parse_date(OBSERVATION_END) + 86399)


# ---- what runs on the workers -------------------------------------------

def read_range(path, start, stop):
    """The lines of `path` that begin in the byte range [start, stop): a
    line belongs to the range its first byte is in, so the ranges of a
    file cover every line exactly once."""
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            f.readline()          # finish the line begun before `start`
        lines = []
        while f.tell() < stop:
            line = f.readline()
            if not line:
                break
            lines.append(line)
    return b"".join(lines)


def summarise_partition(path, start, stop, calibration_end, observation_end):
    """Worker: a serialised summary partial of one byte range."""
    data = read_range(path, start, stop)
    with pd.Summary() as s:
        s.import_transactions(data, FORMAT)
        return s.partial(calibration_end, observation_end)


def predict_partition(columns, bgnbd_params, gg_params):
    """Worker: predictions for one partition's customers from the fitted
    parameters (no estimation here)."""
    data = pd.CustomerData(columns["x"], columns["t_x"], columns["T"],
                           monetary=columns["monetary"])
    with pd.Fit() as bgnbd, pd.Fit() as gg:
        bgnbd.set_params("bgnbd", bgnbd_params)
        gg.set_params("gammagamma", gg_params)
        return {
            "ids": columns["ids"],
            "p_alive": list(bgnbd.p_alive(data)),
            "purchases": list(bgnbd.expected_purchases(data, HORIZON_WEEKS)),
            "spend": list(gg.expected_spend(data)),
            "clv": list(bgnbd.clv(gg, data, CLV_MONTHS, DISCOUNT,
                                  WEEKS_PER_MONTH)),
        }


# ---- the client ----------------------------------------------------------

COLUMNS = ("x", "t_x", "T", "monetary", "x_holdout")


def summary_columns(summary):
    cols = {c: list(summary.column(c)) for c in COLUMNS}
    cols["ids"] = summary.ids()
    return cols


def fit(cols):
    """BG/NBD and Gamma-Gamma on the summary columns; their parameters."""
    data = pd.CustomerData(cols["x"], cols["t_x"], cols["T"],
                           monetary=cols["monetary"])
    with pd.Fit() as bgnbd, pd.Fit() as gg:
        bgnbd.estimate("bgnbd", data)
        gg.estimate("gammagamma", data)
        return bgnbd.params, gg.params


def single_process(path):
    """The reference: everything in this process, no partials."""
    calibration_end, observation_end = ends()
    with pd.Summary() as s:
        s.import_file(path, FORMAT)
        s.compute(calibration_end, observation_end, unit="week")
        cols = summary_columns(s)
    bgnbd, gg = fit(cols)
    return cols, bgnbd, gg, predict_partition(cols, bgnbd, gg)


def byte_ranges(path, partitions):
    size = os.path.getsize(path)
    cuts = [size * i // partitions for i in range(partitions + 1)]
    return [(cuts[i], cuts[i + 1]) for i in range(partitions)]


def slice_columns(cols, lo, hi):
    return {k: v[lo:hi] for k, v in cols.items()}


def distributed(client, path, partitions):
    """The same pipeline on the cluster; returns what single_process does
    plus per-partition figures."""
    calibration_end, observation_end = ends()
    ranges = byte_ranges(path, partitions)
    futures = [client.submit(summarise_partition, path, a, b,
                             calibration_end, observation_end, pure=False)
               for a, b in ranges]
    partials = client.gather(futures)
    figures = [(i, b - a, pd.partial_info(p)[0], len(p))
               for i, ((a, b), p) in enumerate(zip(ranges, partials))]
    # Loading in partition order keeps the rows in first-appearance order,
    # the order of the single-process summary.
    with pd.Summary() as merged:
        for p in partials:
            merged.load_partial(p)
        merged.compute(calibration_end, observation_end, unit="week")
        cols = summary_columns(merged)
    bgnbd, gg = fit(cols)
    # Predictions go back to the workers: the customers in row order, cut
    # into as many slices as there are partitions.
    n = len(cols["ids"])
    bounds = [n * i // partitions for i in range(partitions + 1)]
    futures = [client.submit(predict_partition,
                             slice_columns(cols, bounds[i], bounds[i + 1]),
                             bgnbd, gg, pure=False)
               for i in range(partitions)]
    parts = client.gather(futures)
    pred = {k: [v for part in parts for v in part[k]] for k in parts[0]}
    return cols, bgnbd, gg, pred, figures


def identical(a, b):
    """Exact equality of nested lists/dicts of floats, ids and ints."""
    return a == b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("transactions", help="CDNOW_sample.txt")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--workers", type=int, default=3,
                    help="worker processes of the local cluster")
    ap.add_argument("--scheduler",
                    help="address of a running scheduler (tcp://host:8786)")
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args(argv)
    path = os.path.abspath(args.transactions)

    from dask.distributed import Client, LocalCluster

    if args.scheduler:
        cluster = None
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, processes=True,
                               threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
    try:
        workers = len(client.scheduler_info()["workers"])
        d_cols, d_bgnbd, d_gg, d_pred, figures = distributed(
            client, path, args.partitions)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    s_cols, s_bgnbd, s_gg, s_pred = single_process(path)

    print(f"{len(figures)} partitions on {workers} Dask workers")
    print("%9s %10s %10s %14s" % ("partition", "bytes", "customers",
                                  "partial bytes"))
    for f in figures:
        print("%9d %10d %10d %14d" % f)
    print(f"merged: {len(d_cols['ids'])} customers")
    print("BG/NBD: " + ", ".join(f"{k}={v:.4g}" for k, v in d_bgnbd.items()))
    print("Gamma-Gamma: " + ", ".join(f"{k}={v:.4g}"
                                      for k, v in d_gg.items()))
    print()
    print("%-10s %8s %12s %9s %10s" % ("customer", "P(alive)",
                                       "E[purch 39w]", "E[spend]", "CLV 12m"))
    order = sorted(range(len(d_pred["ids"])),
                   key=lambda i: (-d_pred["clv"][i], d_pred["ids"][i]))
    for i in order[:args.top]:
        print("%-10s %8.3f %12.3f %9.2f %10.2f" % (
            d_pred["ids"][i], d_pred["p_alive"][i], d_pred["purchases"][i],
            d_pred["spend"][i], d_pred["clv"][i]))
    print()
    checks = {
        "summary": identical(d_cols, s_cols),
        "parameters": identical((d_bgnbd, d_gg), (s_bgnbd, s_gg)),
        "predictions": identical(d_pred, s_pred),
    }
    same = all(checks.values())
    if not same:
        for name, ok in checks.items():
            print(f"  {name}: {'same' if ok else 'DIFFERENT'}")
    print(f"identical to single process: {'yes' if same else 'no'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
