"""Store aggregates through the binding (privdomain.aggregates): users
split over three stores, their aggregates saved, loaded and merged, give
the figures of one store holding them all."""

from _util import child_env  # noqa: F401  (first: finds the package)

import random
import unittest

import privdomain as pd
from privdomain import aggregates, funnel, repurchase, retention_metrics, \
    segments

DAY = 86400
T = pd.parse_date("2024-03-01")
AS_OF = T + 120 * DAY
SHARDS = 3


def events(n_users, seed=5):
    """(user index, kind, fields) of a small synthetic chain; referrals
    only between users of the same shard (index modulo SHARDS)."""
    r = random.Random(seed)
    out = []
    for u in range(n_users):
        lt = T + r.randrange(100 * DAY)
        ch = r.choice(["wecom", "wechat"])
        out.append((u, "link", dict(event=f"l{u}", channel=ch, time=lt)))
        if r.random() < 0.3:
            out.append((u, "unlink", dict(event=f"x{u}", channel=ch,
                                          initiator="user_deleted",
                                          time=lt + 1 + r.randrange(40 * DAY))))
        for k in range(r.randrange(5)):
            out.append((u, "order", dict(
                event=f"o{u}.{k}", order_id=1000 * u + k + 1,
                time=lt + r.randrange(60 * DAY),
                amount=100 + r.randrange(20000))))
        if r.random() < 0.1 and u + SHARDS < n_users:
            out.append((u, "referral", dict(event=f"f{u}", referee=u + SHARDS,
                                            time=lt + DAY)))
    return out


def build(evs, n_users, shard=None):
    s = pd.Store()
    ids = {}
    for u in range(n_users):
        if shard is None or u % SHARDS == shard:
            ids[u] = s.ensure_user("member", str(u)).id
    batch = []
    for u, kind, f in evs:
        if u not in ids:
            continue
        f = dict(f)
        if kind == "referral":
            f["referrer"] = ids[u]
            f["referee"] = ids[f["referee"]]
        else:
            f["user"] = ids[u]
        batch.append((kind, f))
    s.record_events(batch)
    return s, ids


class StoreAggregates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        n = 400
        evs = events(n)
        cls.whole, cls.ids = build(evs, n)
        cls.shards = [build(evs, n, k) for k in range(SHARDS)]

    @classmethod
    def tearDownClass(cls):
        cls.whole.close()
        for s, _ in cls.shards:
            s.close()

    def merged(self, kind, **opts):
        """Each shard's aggregate as bytes, loaded and merged."""
        blobs = []
        for s, _ in self.shards:
            with aggregates.Aggregate.compute(s, kind, AS_OF, **opts) as a:
                blobs.append(a.save())
        m = aggregates.Aggregate.load(blobs[0])
        for b in blobs[1:]:
            m.merge(b)
        self.addCleanup(m.close)
        return m

    def test_merged_funnel_is_the_funnel_of_one_store(self):
        m = self.merged("funnel", group_by="channel")
        self.assertEqual(m.kind, "funnel")
        want = funnel.funnel(self.whole, AS_OF, group_by="channel")
        got = m.funnel_rows()
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(
                (g.key, g.linked, g.converted, g.repeat, g.referrers,
                 g.revenue, g.conversion_rate, g.repeat_rate),
                (w.key, w.linked, w.converted, w.repeat, w.referrers,
                 w.revenue, w.conversion_rate, w.repeat_rate))
            self.assertLessEqual(
                abs(g.days_to_first_purchase_median
                    - w.days_to_first_purchase_median),
                0.01 * w.days_to_first_purchase_median + 1e-12)
        with aggregates.Aggregate.compute(self.whole, "funnel", AS_OF,
                                          group_by="channel") as one:
            self.assertEqual(one.save(), m.save())

    def test_merged_cohort_table_is_the_table_of_one_store(self):
        m = self.merged("link_cohorts", cohort_unit="week", periods=8)
        want = retention_metrics.link_retention(self.whole, AS_OF,
                                                cohort_unit="week",
                                                periods=8)
        self.assertEqual(m.link_retention_rows(), want)

    def test_merged_repurchase_is_the_figures_of_one_store(self):
        m = self.merged("repurchase", group_by="channel")
        want = repurchase.repurchase(self.whole, AS_OF, group_by="channel")
        got = m.repurchase_rows()
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(
                (g.key, g.buyers, g.repeat_buyers, g.purchases, g.revenue,
                 g.intervals, g.shortening_buyers, g.repurchase_rate,
                 g.average_order_value),
                (w.key, w.buyers, w.repeat_buyers, w.purchases, w.revenue,
                 w.intervals, w.shortening_buyers, w.repurchase_rate,
                 w.average_order_value))

    def test_shards_score_on_the_chain_wide_scale(self):
        m = self.merged("rfm")
        th = m.rfm_thresholds()
        rows, _ = segments.rfm(self.whole, AS_OF)
        self.assertEqual(th.buyers, len(rows))
        self.assertEqual(th.orders, sum(r.frequency for r in rows))
        monetary = sorted(r.monetary for r in rows)
        q = m.quantile("monetary", 0.5)
        exact = monetary[(len(monetary) - 1) // 2]
        self.assertLessEqual(abs(q - exact), 0.01 * exact)
        whole = {r.user: r for r in
                 aggregates.rfm_score_with_thresholds(self.whole, AS_OF, th)}
        for k, (s, ids) in enumerate(self.shards):
            local = {v: u for u, v in ids.items()}
            for r in aggregates.rfm_score_with_thresholds(s, AS_OF, th):
                w = whole[self.ids[local[r.user]]]
                self.assertEqual((r.r_score, r.f_score, r.m_score, r.segment),
                                 (w.r_score, w.f_score, w.m_score, w.segment))
        self.assertGreater(len(whole), 100)

    def test_damaged_bytes_and_mismatched_aggregates_are_refused(self):
        with aggregates.Aggregate.compute(self.whole, "rfm", AS_OF) as a:
            b = bytearray(a.save())
        b[40] ^= 1
        with self.assertRaises(pd.Corrupt) as cm:
            aggregates.Aggregate.load(bytes(b))
        self.assertIn("checksum", str(cm.exception))
        with aggregates.Aggregate.compute(self.whole, "rfm", AS_OF) as a, \
                aggregates.Aggregate.compute(self.whole, "funnel",
                                             AS_OF) as f:
            with self.assertRaises(pd.Conflict):
                a.merge(f)
        with self.assertRaises(pd.InvalidArgument):
            aggregates.Aggregate.compute(self.whole, "rfm", AS_OF,
                                         accuracy=0.9)


if __name__ == "__main__":
    unittest.main()
