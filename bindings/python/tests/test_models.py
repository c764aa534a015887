"""The models through the binding: the published CDNOW fits, predictions,
sBG retention, the zero-copy buffer path, and the error paths."""

from _util import dataset  # first: finds the package

import array
import unittest

import privdomain as pd
from privdomain import _convert


CALIBRATION_END = pd.parse_date("1997-09-30") + 86399


def cdnow_table():
    [path] = dataset("cdnow_customers_summary_with_transactions.csv")
    return pd.CsvTable(path=path)


def cdnow_data(with_monetary=False):
    with cdnow_table() as t:
        cols = [t.numbers(c) for c in ("x", "t_x", "T")]
        monetary = t.numbers("zbar") if with_monetary else None
    return pd.CustomerData(*cols, monetary=monetary)


class PublishedFits(unittest.TestCase):
    def test_bgnbd_on_cdnow_reproduces_fader_hardie_lee_2005(self):
        with pd.Fit() as fit:
            fit.estimate("bgnbd", cdnow_data())
            info = fit.info()
        self.assertEqual(info.model, "bgnbd")
        self.assertTrue(info.converged and info.estimated)
        p = info.params
        self.assertAlmostEqual(p["r"], 0.243, places=3)
        self.assertAlmostEqual(p["alpha"], 4.414, places=3)
        self.assertAlmostEqual(p["a"], 0.793, places=3)
        self.assertAlmostEqual(p["b"], 2.426, places=3)
        self.assertAlmostEqual(info.log_likelihood, -9582.4, delta=0.1)
        self.assertEqual(info.n_customers, 2357)
        self.assertEqual(set(info.std_errors), {"r", "alpha", "a", "b"})

    def test_bgnbd_from_the_raw_transactions_through_summary(self):
        [path] = dataset("CDNOW_sample.txt")
        with pd.Summary() as s, pd.Fit() as fit:
            s.import_file(path, "cdnow-sample")
            self.assertEqual(s.transactions, 6919)
            s.compute(CALIBRATION_END, unit="week")
            self.assertEqual(len(s), 2357)
            fit.estimate(pd.MODEL_BGNBD, s)
            p = fit.params
        self.assertAlmostEqual(p["r"], 0.243, places=3)
        self.assertAlmostEqual(p["alpha"], 4.414, places=2)
        self.assertAlmostEqual(p["a"], 0.793, places=3)
        self.assertAlmostEqual(p["b"], 2.426, places=2)

    def test_paretonbd_on_cdnow(self):
        with pd.Fit() as fit:
            fit.estimate("paretonbd", cdnow_data())
            p = fit.params
            ll = fit.info().log_likelihood
        self.assertAlmostEqual(p["r"], 0.553, places=2)
        self.assertAlmostEqual(p["alpha"], 10.578, delta=0.05)
        self.assertAlmostEqual(p["s"], 0.606, places=2)
        self.assertAlmostEqual(p["beta"], 11.669, delta=0.1)
        self.assertAlmostEqual(ll, -9595.0, delta=0.1)

    def test_gammagamma_on_the_946_repeat_customers(self):
        with pd.Fit() as fit:
            fit.estimate("gammagamma", cdnow_data(with_monetary=True))
            info = fit.info()
        self.assertEqual(info.n_customers, 946)
        self.assertAlmostEqual(info.params["p"], 6.25, places=2)
        self.assertAlmostEqual(info.params["q"], 3.74, places=2)
        self.assertAlmostEqual(info.params["gamma"], 15.44, places=1)


class Predictions(unittest.TestCase):
    # Published BG/NBD parameters (Fader, Hardie & Lee 2005).
    PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

    def setUp(self):
        self.fit = pd.Fit().set_params("bgnbd", self.PARAMS)
        self.addCleanup(self.fit.close)

    def test_set_params_are_reported_by_name_without_estimate(self):
        info = self.fit.info()
        self.assertEqual(info.params, self.PARAMS)
        self.assertFalse(info.estimated)
        self.assertIsNone(info.log_likelihood)
        self.assertIsNone(info.std_errors)

    def test_p_alive_of_a_customer_without_repeats_is_one(self):
        d = pd.CustomerData([0, 2], [0, 30.43], [38.86, 38.86])
        out = self.fit.p_alive(d)
        self.assertIsInstance(out, array.array)
        self.assertEqual(out[0], 1.0)
        # Independent evaluation of FHL 2005 eq. for P(alive).
        r, al, a, b = 0.243, 4.414, 0.793, 2.426
        x, tx, T = 2, 30.43, 38.86
        want = 1 / (1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))
        self.assertAlmostEqual(out[1], want, places=12)

    def test_expected_purchases_of_a_new_customer_matches_eq9(self):
        # FHL 2005 eq. 9 at t = 39: the 2F1 series summed here directly.
        r, al, a, b, t = 0.243, 4.414, 0.793, 2.426, 39.0
        z = t / (al + t)
        term, s, k = 1.0, 1.0, 0
        while abs(term) > 1e-17:
            term *= (r + k) * (b + k) / ((a + b - 1 + k) * (k + 1)) * z
            s += term
            k += 1
        want = (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * s)
        self.assertAlmostEqual(self.fit.unconditional_purchases(t), want,
                               places=9)

    def test_p_purchases_sum_to_one(self):
        total = sum(self.fit.p_purchases(n, 39.0) for n in range(200))
        self.assertAlmostEqual(total, 1.0, places=9)

    def test_expected_purchases_grow_with_the_horizon(self):
        d = pd.CustomerData([1], [20.0], [38.86])
        e10 = self.fit.expected_purchases(d, 10.0)[0]
        e52 = self.fit.expected_purchases(d, 52.0)[0]
        self.assertGreater(e52, e10)
        self.assertEqual(self.fit.expected_purchases(d, 0.0)[0], 0.0)

    def test_clv_is_expected_purchases_times_spend_without_discount(self):
        with pd.Fit().set_params("gammagamma",
                                 {"p": 6.25, "q": 3.74, "gamma": 15.44}) as gg:
            d = pd.CustomerData([2], [30.43], [38.86], monetary=[25.0])
            spend = gg.expected_spend(d)[0]
            self.assertAlmostEqual(
                spend, 6.25 * (15.44 + 2 * 25.0) / (6.25 * 2 + 3.74 - 1), 12)
            clv = self.fit.clv(gg, d, months=12, discount_rate=0.0,
                               units_per_month=4.345)[0]
            e = self.fit.expected_purchases(d, 12 * 4.345)[0]
            self.assertAlmostEqual(clv, e * spend, places=9)

    def test_bad_arguments_raise_with_the_library_message(self):
        d = pd.CustomerData([1], [5.0], [2.0])          # t_x > T
        with self.assertRaises(pd.OutOfRange) as cm:
            self.fit.p_alive(d)
        self.assertIn("t_x", cm.exception.message)
        with self.assertRaises(pd.OutOfRange):
            self.fit.expected_purchases(pd.CustomerData([1], [1], [2]),
                                        -1.0)
        with self.assertRaises(pd.OutOfRange):
            self.fit.p_alive(pd.CustomerData([1], [float("nan")], [2]))
        with self.assertRaises(pd.InvalidArgument):      # not gammagamma
            self.fit.expected_spend(pd.CustomerData([1], [1], [2], [3]))
        with self.assertRaises(pd.InvalidArgument):
            self.fit.dert(pd.CustomerData([1], [1], [2]), 0.1)

    def test_columns_of_different_lengths_are_invalid(self):
        with self.assertRaises(pd.InvalidArgument):
            pd.CustomerData([1, 2], [1], [2, 3])

    def test_set_params_checks_count_and_values(self):
        with pd.Fit() as f:
            with self.assertRaises(pd.InvalidArgument):
                f.set_params("bgnbd", [1.0, 2.0])
            with self.assertRaises(pd.OutOfRange):
                f.set_params("bgnbd", [1.0, 2.0, -3.0, 4.0])
            with self.assertRaises(pd.InvalidArgument):
                f.set_params("bgnbd", {"r": 1})
            with self.assertRaises(pd.InvalidArgument):
                f.set_params("weibull", [1.0])
            with self.assertRaises(pd.InvalidArgument):  # nothing to predict
                f.p_alive(pd.CustomerData([0], [0], [1]))
            self.assertIsNone(f.info().model)

    def test_a_closed_fit_is_misuse(self):
        f = pd.Fit()
        f.close()
        with self.assertRaises(pd.Misuse):
            f.info()

    def test_bad_options_are_invalid(self):
        with self.assertRaises(pd.InvalidArgument):
            pd.Fit(max_iterations=0)
        with self.assertRaises(pd.InvalidArgument):
            pd.Fit(tolerance=float("nan"))

    def test_an_iteration_limit_raises_no_convergence_and_keeps_the_iterate(self):
        with pd.Fit(max_iterations=2) as f:
            with self.assertRaises(pd.NoConvergence):
                f.estimate("bgnbd", cdnow_data())
            info = f.info()
            self.assertFalse(info.converged)
            self.assertTrue(info.estimated)
            self.assertEqual(info.model, "bgnbd")

    def test_model_names(self):
        self.assertEqual(pd.model_name(pd.MODEL_PARETONBD), "paretonbd")
        self.assertEqual(pd.model_param_names("paretonbd"),
                         ["r", "alpha", "s", "beta"])


class BufferPath(unittest.TestCase):
    def test_float64_arrays_are_passed_without_a_copy(self):
        x = array.array("d", [0.0, 1.0])
        view = _convert.doubles(x)
        x_addr = x.buffer_info()[0]
        import ctypes
        self.assertEqual(ctypes.addressof(view.ptr), x_addr)

    def test_other_inputs_are_converted_once(self):
        for values in ([0, 1], (0.0, 1.0), array.array("i", [0, 1]),
                       range(2), bytes(b"\x00\x01")):
            with self.subTest(type=type(values).__name__):
                v = _convert.doubles(values)
                self.assertEqual(v.n, 2)
                self.assertEqual([v.ptr[0], v.ptr[1]], [0.0, 1.0])

    def test_array_inputs_give_the_same_answers_as_lists(self):
        with pd.Fit().set_params("bgnbd", Predictions.PARAMS) as f:
            a = f.p_alive(pd.CustomerData(array.array("d", [0, 2, 5]),
                                          array.array("d", [0, 30.4, 30]),
                                          array.array("d", [38.86] * 3)))
            b = f.p_alive(pd.CustomerData([0, 2, 5], [0, 30.4, 30],
                                          [38.86] * 3))
            self.assertEqual(a, b)

    def test_results_are_plain_arrays_free_to_resize(self):
        with pd.Fit().set_params("bgnbd", Predictions.PARAMS) as f:
            out = f.p_alive(pd.CustomerData([0], [0], [1]))
            out.append(2.0)
            self.assertEqual(len(out), 2)

    def test_an_input_array_is_released_after_use(self):
        x = array.array("d", [0.0, 1.0])
        with pd.Fit().set_params("bgnbd", Predictions.PARAMS) as f:
            f.p_alive(pd.CustomerData(x, [0, 1], [2, 2]))
        x.append(3.0)
        self.assertEqual(len(x), 3)

    def test_a_viewed_array_cannot_be_resized_while_in_use(self):
        x = array.array("d", [0.0, 1.0])
        d = pd.CustomerData(x, [0, 1], [2, 2])
        with self.assertRaises(BufferError):
            x.append(3.0)
        del d

    def test_non_numbers_are_a_type_error(self):
        with self.assertRaises(TypeError):
            pd.CustomerData(["a"], [0], [1])

    def test_numpy_arrays_are_viewed_when_numpy_is_present(self):
        try:
            import numpy as np
        except ImportError:
            self.skipTest("numpy not installed (optional)")
        x = np.array([0.0, 2.0])
        v = _convert.doubles(x)
        import ctypes
        self.assertEqual(ctypes.addressof(v.ptr), x.ctypes.data)


class Retention(unittest.TestCase):
    # Fader & Hardie (2007), years 0-7 of the two cohorts and their fits.
    REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
    HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]

    def test_sbg_fits_reproduce_fader_hardie_2007(self):
        for data, alpha, beta in ((self.REGULAR, 0.704, 1.182),
                                  (self.HIGH_END, 0.668, 3.806)):
            with self.subTest(cohort=data[1]), pd.Fit() as f:
                f.estimate_sbg(array.array("d", data))
                self.assertAlmostEqual(f.params["alpha"], alpha, places=3)
                self.assertAlmostEqual(f.params["beta"], beta, places=3)

    def test_sbg_projections(self):
        with pd.Fit() as f:
            f.estimate_sbg(self.REGULAR)
            p = f.params
            s = f.survival(3)
            a, b = p["alpha"], p["beta"]
            self.assertAlmostEqual(s[0], b / (a + b), places=12)
            r = f.retention_rate(2)
            self.assertAlmostEqual(r[1], (b + 1) / (a + b + 1), places=12)
            proj = f.project(1000, 8, 2)
            self.assertEqual(len(proj), 2)
            self.assertLess(proj[1], proj[0])
            self.assertGreater(f.derl(0.1, renewals=0), 1.0)

    def test_increasing_survivors_are_out_of_range(self):
        with pd.Fit() as f:
            with self.assertRaises(pd.OutOfRange):
                f.estimate_sbg([100, 90, 95])
            with self.assertRaises(pd.InvalidArgument):
                f.estimate_sbg([100])
            with self.assertRaises(pd.InvalidArgument):  # no model yet
                f.survival(3)


if __name__ == "__main__":
    unittest.main()
