"""Store summaries and value predictions (store_summary.h) through the
binding: the CDNOW sample recorded as orders in a store reproduces the
published fits, and the predictions agree with the model bindings."""

from _util import dataset  # first: finds the package

import time
import unittest
from decimal import Decimal

import privdomain as pd
from privdomain import metrics, store_summary

CAL_END = pd.parse_date("1997-09-30") + 86399


def cdnow_store():
    [path] = dataset("CDNOW_sample.txt")
    s = pd.Store(currency_exponent=2)
    events, users = [], {}
    with open(path) as f:
        for i, line in enumerate(f):
            _, cid, day, _, dollars = line.split()
            if cid not in users:
                uid = s.ensure_user("cdnow.id", cid).id
                users[cid] = uid
                channel = "wecom" if int(cid) % 2 else "wechat"
                events.append(("link", dict(event=f"l{cid}", user=uid,
                                            channel=channel,
                                            time=pd.parse_date(day))))
            events.append(("order", dict(
                event=f"o{i}", order_id=i + 1, user=users[cid],
                time=pd.parse_date(day), amount=Decimal(dollars))))
    started = time.perf_counter()
    results = s.record_events(events)
    elapsed = time.perf_counter() - started
    assert all(r is True for r in results), results[:5]
    return s, len(events), elapsed


class CdnowStoreSummary(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store, cls.n_events, cls.record_seconds = cdnow_store()
        cls.ss = store_summary.StoreSummary(cls.store, CAL_END, unit="week")
        cls.ss.predict("bgnbd", horizon=52.0, months=12, discount_rate=0.01)

    @classmethod
    def tearDownClass(cls):
        cls.ss.close()
        cls.store.close()

    def test_the_summary_has_every_cdnow_customer(self):
        self.assertEqual(len(self.ss), 2357)
        self.assertEqual(self.ss.users(), sorted(self.ss.users()))
        self.assertEqual(sum(1 for x in self.ss.data().column("x") if x > 0),
                         946)

    def test_the_fits_reproduce_the_published_parameters(self):
        p = self.ss.fit_info().params
        self.assertAlmostEqual(p["r"], 0.243, places=3)
        self.assertAlmostEqual(p["alpha"], 4.414, places=2)
        self.assertAlmostEqual(p["a"], 0.793, places=3)
        self.assertAlmostEqual(p["b"], 2.426, places=2)
        g = self.ss.fit_info("spend").params
        self.assertAlmostEqual(g["p"], 6.25, places=2)
        self.assertAlmostEqual(g["q"], 3.74, places=2)
        self.assertAlmostEqual(g["gamma"], 15.44, places=1)

    def test_predictions_agree_with_the_model_bindings(self):
        data = self.ss.data()
        with pd.Fit().set_params("bgnbd", self.ss.fit_info().params) as f, \
                pd.Fit().set_params("gammagamma",
                                    self.ss.fit_info("spend").params) as g:
            alive = f.p_alive(data)
            clv = f.clv(g, data, 12, 0.01, 4.345)
        for name, want in (("p_alive", alive), ("clv", clv)):
            got = self.ss.column(name)
            for i in range(0, len(got), 97):
                self.assertAlmostEqual(got[i], want[i], places=9,
                                       msg=f"{name}[{i}]")

    def test_top_customers_are_the_highest_clv(self):
        top = self.ss.top(3)
        clv = self.ss.column("clv")
        users = self.ss.users()
        best = sorted(zip(clv, users), key=lambda t: (-t[0], t[1]))[:3]
        self.assertEqual([(u, c) for c, u in best], top)

    def test_value_by_channel_splits_the_customers(self):
        groups = self.ss.value_by(self.store, "channel", CAL_END)
        self.assertEqual([g.key for g in groups],
                         [pd.CHANNEL_WECHAT, pd.CHANNEL_WECOM])
        self.assertEqual(sum(g.customers for g in groups), 2357)
        self.assertAlmostEqual(sum(g.total_clv for g in groups),
                               sum(self.ss.column("clv")), places=6)

    def test_a_filter_restricts_the_customers(self):
        f = metrics.Filter(as_of=CAL_END, channel="wecom")
        with store_summary.StoreSummary(self.store, CAL_END, unit="week",
                                        filter=f) as ss:
            self.assertEqual(len(ss), sum(1 for u in self.ss.users()
                                          if u in set(ss.users())))
            self.assertLess(len(ss), 2357)

    def test_batch_recording_is_fast(self):
        rate = self.n_events / self.record_seconds
        self.assertGreater(rate, 10000, f"{rate:.0f} events/s")


class StoreSummaryErrors(unittest.TestCase):
    def test_errors(self):
        with pd.Store() as s:
            with store_summary.StoreSummary(s, 1700000000) as ss:
                self.assertEqual(len(ss), 0)
                with self.assertRaises(pd.InvalidArgument):
                    ss.predict()                       # 0 rows
                with self.assertRaises(pd.NotFound):
                    ss.column("clv")                   # no predictions
                with self.assertRaises(pd.NotFound):
                    ss.holdout()
            with self.assertRaises(pd.InvalidArgument):
                store_summary.StoreSummary(s, 1700000000, 1600000000)
            with self.assertRaises(pd.OutOfRange):
                store_summary.StoreSummary(s, -5)
            with self.assertRaises(pd.NotFound):
                store_summary.StoreSummary(
                    s, 1700000000,
                    filter=metrics.Filter(1700000000, guide=3))


if __name__ == "__main__":
    unittest.main()
