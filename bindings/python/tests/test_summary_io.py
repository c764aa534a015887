"""Customer summaries, the importers and CSV tables, and Kaplan–Meier
through the binding."""

import _util  # noqa: F401  (first: finds the package)

import array
import datetime
import os
import tempfile
import unittest

import privdomain as pd

DAY = 86400
D0 = pd.parse_date("2024-01-01")


class Summaries(unittest.TestCase):
    def setUp(self):
        self.s = pd.Summary()
        self.addCleanup(self.s.close)
        # a: days 0, 0 (same day), 3, 10; b: day 5 only; c: after the end.
        self.s.add(["a", "a", "a", "b", "a", "c"],
                   [D0, D0 + 3600, D0 + 3 * DAY, D0 + 5 * DAY,
                    D0 + 10 * DAY, D0 + 30 * DAY],
                   [10, 5, 20, 7, 40, 1])

    def test_the_btyd_summary_of_hand_computed_customers(self):
        self.s.compute(D0 + 14 * DAY + 86399)
        self.assertEqual(self.s.transactions, 6)
        self.assertEqual(self.s.ids(), ["a", "b"])
        self.assertEqual(list(self.s.column("x")), [2, 0])
        self.assertEqual(list(self.s.column("t_x")), [10, 0])
        self.assertEqual(list(self.s.column("T")), [14, 9])
        self.assertEqual(list(self.s.column("monetary")), [30, 0])

    def test_weeks_holdout_and_datetimes(self):
        self.s.compute(datetime.date(2024, 1, 15), D0 + 40 * DAY,
                       unit="week")
        self.assertEqual(list(self.s.column("T")), [2.0, 9 / 7])
        self.assertEqual(list(self.s.column("x_holdout")), [0, 0])

    def test_compress_gives_weights_and_drops_ids(self):
        self.s.add(["d"], [D0 + 5 * DAY])
        self.s.compute(D0 + 14 * DAY)
        self.s.compress()
        self.assertEqual(list(self.s.column("weight")), [2, 1])
        with self.assertRaises(pd.NotFound):
            self.s.column("monetary")
        with self.assertRaises(pd.NotFound):
            self.s.id(0)

    def test_a_data_view_goes_stale_when_the_result_changes(self):
        self.s.compute(D0 + 14 * DAY)
        d = self.s.data()
        self.assertEqual(len(d), 2)
        self.assertEqual(list(d.column("x")), [2, 0])
        self.s.compute(D0 + 20 * DAY)
        with self.assertRaises(pd.Misuse):
            d.column("x")
        with pd.Fit().set_params("bgnbd", [0.24, 4.4, 0.79, 2.4]) as f:
            with self.assertRaises(pd.Misuse):
                f.p_alive(d)
            self.assertEqual(len(f.p_alive(self.s)), 2)

    def test_merge_of_disjoint_customers_and_duplicates(self):
        self.s.compute(D0 + 14 * DAY)
        with pd.Summary() as other:
            other.add(["z"], [D0])
            other.compute(D0 + 14 * DAY)
            self.s.merge(other)
            self.assertEqual(self.s.ids(), ["a", "b", "z"])
            with self.assertRaises(pd.Duplicate):
                self.s.merge(other)
            other.compute(D0 + 13 * DAY)
            with self.assertRaises(pd.Conflict):
                self.s.merge(other)

    def test_ids_times_and_amounts_in_every_accepted_form(self):
        with pd.Summary() as other:
            other.add((i.encode() for i in ["a", "a", "a", "b", "a", "c"]),
                      [datetime.datetime(2024, 1, 1),
                       datetime.datetime(2024, 1, 1, 1, 0,
                                         tzinfo=datetime.timezone.utc),
                       datetime.date(2024, 1, 4), D0 + 5 * DAY,
                       D0 + 10 * DAY, D0 + 30 * DAY],
                      (10, 5, 20, 7, 40, 1))
            other.compute(D0 + 14 * DAY + 86399)
            self.s.compute(D0 + 14 * DAY + 86399)
            for col in ("x", "t_x", "T", "monetary"):
                self.assertEqual(other.column(col), self.s.column(col))
            self.assertEqual(other.ids(), ["a", "b"])
        with self.assertRaises(TypeError):
            self.s.add(["x"], [1.5])
        with self.assertRaises(TypeError):
            self.s.add([3], [D0])

    def test_bad_batches_add_nothing(self):
        with self.assertRaises(pd.OutOfRange) as cm:
            self.s.add(["x", "y"], [D0, D0], [1.0, -2.0])
        self.assertIn("1", cm.exception.message)
        with self.assertRaises(pd.InvalidArgument):
            self.s.add(["x"], [D0, D0])
        with self.assertRaises(pd.OutOfRange):
            self.s.add(["x"], [-1])
        self.assertEqual(self.s.transactions, 6)

    def test_nothing_computed_is_not_found(self):
        with pd.Summary() as s:
            with self.assertRaises(pd.NotFound):
                s.data()
            with self.assertRaises(pd.InvalidArgument):
                s.compute(D0, unit="fortnight")


class Import(unittest.TestCase):
    CSV = ("customer_id,date,amount\n"
           "c1,2024-01-01,10.5\n"
           "c1,2024-01-08,20\n"
           "c2,20240103,5\n")

    def test_csv_text_and_files(self):
        with pd.Summary() as s:
            s.import_transactions(self.CSV)
            self.assertEqual(s.transactions, 3)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "orders.csv")
                with open(path, "w") as f:
                    f.write(self.CSV.replace("c1", "c3").replace("c2", "c4"))
                pd.import_transactions_file(s, path)
            s.compute(pd.parse_date("2024-01-31"))
            self.assertEqual(s.ids(), ["c1", "c2", "c3", "c4"])
            self.assertEqual(list(s.column("monetary")), [20, 0, 20, 0])

    def test_malformed_csv_is_corrupt_with_the_line_and_nothing_added(self):
        with pd.Summary() as s:
            with self.assertRaisesRegex(pd.Corrupt, "line 3"):
                s.import_transactions(self.CSV.replace("20\n", "x\n"))
            self.assertEqual(s.transactions, 0)

    def test_a_missing_file_is_an_io_failure_naming_it(self):
        with pd.Summary() as s:
            with self.assertRaises(pd.IOFailure) as cm:
                s.import_file("/nonexistent/orders.csv")
            self.assertIn("/nonexistent/orders.csv", cm.exception.message)

    def test_unknown_format_is_invalid(self):
        with pd.Summary() as s:
            with self.assertRaises(pd.InvalidArgument):
                s.import_transactions(self.CSV, "xlsx")

    def test_dates(self):
        self.assertEqual(pd.parse_date("1970-01-02"), DAY)
        self.assertEqual(pd.parse_date("19700102"), DAY)
        with self.assertRaises(pd.Corrupt):
            pd.parse_date("2023-02-29")
        with self.assertRaises(pd.OutOfRange):
            pd.parse_date("1969-12-31")


class CsvTables(unittest.TestCase):
    def test_cells_numbers_and_header(self):
        with pd.CsvTable('ID,frequency,"re,cency"\n1,2,30.5\n2,0,0\n') as t:
            self.assertEqual((t.rows, t.columns), (2, 3))
            self.assertEqual(t.header(), ["ID", "frequency", "re,cency"])
            self.assertEqual(t.cell(1, "frequency"), "0")
            self.assertEqual(list(t.numbers("re,cency")), [30.5, 0.0])
            self.assertEqual(t.find("ID"), 0)
            with self.assertRaises(pd.NotFound):
                t.find("missing")
            with self.assertRaises(pd.NotFound):
                t.cell(5, 0)

    def test_non_numbers_and_bad_shapes_are_corrupt(self):
        with pd.CsvTable("a,b\n1,x\n") as t:
            with self.assertRaisesRegex(pd.Corrupt, "line 2"):
                t.numbers("b")
            with self.assertRaises(pd.Corrupt):
                t.load("a,b\n1,2,3\n")
            self.assertEqual(t.rows, 1)   # previous content kept


class KaplanMeierEstimates(unittest.TestCase):
    def test_the_textbook_example(self):
        # durations 1..5, censored at 2 and 4: S = 4/5, 4/5*2/3, 0.
        with pd.KaplanMeier() as km:
            km.estimate([1, 2, 3, 4, 5], [1, 0, 1, 0, 1])
            c = km.curve()
            self.assertEqual(list(c.time), [1, 3, 5])
            self.assertEqual(list(c.at_risk), [5, 3, 1])
            self.assertAlmostEqual(c.survival[0], 0.8, places=15)
            self.assertAlmostEqual(c.survival[1], 0.8 * 2 / 3, places=15)
            self.assertEqual(c.survival[2], 0.0)
            self.assertAlmostEqual(km.survival_at(3.5), 0.8 * 2 / 3, 15)
            self.assertEqual(km.median(), 5.0)  # S(3) = 0.53 > 0.5

    def test_bool_flags_weights_and_arrays(self):
        with pd.KaplanMeier(confidence=0.9) as km:
            km.estimate(array.array("d", [1, 2]), [True, False],
                        weights=array.array("d", [3, 1]))
            self.assertAlmostEqual(km.survival_at(1), 0.25, places=15)
            km.estimate([1, 2], array.array("i", [0, 1]))
            self.assertEqual(km.survival_at(2), 0.0)

    def test_a_median_never_reached_is_none(self):
        with pd.KaplanMeier() as km:
            km.estimate([1, 2, 3], [1, 0, 0])
            self.assertIsNone(km.median())

    def test_bad_inputs(self):
        with pd.KaplanMeier() as km:
            with self.assertRaises(pd.InvalidArgument):
                km.survival_at(1)                # nothing estimated
            with self.assertRaises(pd.OutOfRange):
                km.estimate([1, -2], [1, 1])
            with self.assertRaises(pd.InvalidArgument):
                km.estimate([1, 2], [1, 2])
            with self.assertRaises(pd.InvalidArgument):
                km.estimate([1, 2], [1])
        with self.assertRaises(pd.InvalidArgument):
            pd.KaplanMeier(confidence=1.5)


if __name__ == "__main__":
    unittest.main()
