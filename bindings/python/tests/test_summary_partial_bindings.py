"""Summary.partial / load_partial / partial_info (summary_partial.h):
partitions summarised apart merge into the rows of one summary."""

from _util import dataset  # first: finds the package

import unittest

import privdomain as pd

DAY = 86400
CAL = pd.parse_date("1997-09-30") + DAY - 1
OBS = pd.parse_date("1998-06-30") + DAY - 1


def rows(s):
    return {c: list(s.column(c)) for c in
            ("x", "t_x", "T", "monetary", "x_holdout")}, s.ids()


class Partials(unittest.TestCase):
    def test_cdnow_in_chunks_merges_to_the_single_summary(self):
        [path] = dataset("CDNOW_sample.txt")
        with open(path, "rb") as f:
            lines = f.readlines()
        with pd.Summary() as whole:
            whole.import_file(path, "cdnow-sample")
            whole.compute(CAL, OBS, unit="week")
            want = rows(whole)
        partials = []
        for i in range(5):
            chunk = b"".join(lines[len(lines) * i // 5:
                                   len(lines) * (i + 1) // 5])
            with pd.Summary() as s:
                s.import_transactions(chunk, "cdnow-sample")
                partials.append(s.partial(CAL, OBS))
        self.assertGreater(sum(pd.partial_info(p)[0] for p in partials),
                           2357)
        self.assertEqual(pd.partial_info(partials[0])[1:], (CAL, OBS))
        with pd.Summary() as merged:
            for p in partials:
                merged.load_partial(p)
            merged.compute(CAL, OBS, unit="week")
            self.assertEqual(rows(merged), want)

    def test_overlaps_conflict_and_damage_is_corrupt(self):
        def partial(days):
            with pd.Summary() as s:
                s.add(["ann"] * len(days), [d * DAY for d in days],
                      [1.0] * len(days))
                return s.partial(100 * DAY)
        a, b = partial([10, 20]), partial([15])
        with pd.Summary() as s:
            s.load_partial(a)
            with self.assertRaises(pd.Conflict) as cm:
                s.load_partial(b)
            self.assertIn("ann", str(cm.exception))
            damaged = bytearray(a)
            damaged[30] ^= 1
            with self.assertRaises(pd.Corrupt):
                s.load_partial(bytes(damaged))
            with self.assertRaises(pd.Conflict):
                s.compute(99 * DAY)
            s.compute(100 * DAY)
            self.assertEqual(list(s.column("x")), [1.0])


if __name__ == "__main__":
    unittest.main()
