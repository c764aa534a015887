"""The metrics-layer bindings: filters (metrics.h), consent (consent.h),
contact caps and pressure (pressure.h) and purging (purge.h)."""

from _util import child_env  # noqa: F401  (first: finds the package)

import math
import unittest

import privdomain as pd
from privdomain import consent, metrics, pressure, purge, trust

T0 = 1700000000
DAY = 86400


class Fixture(unittest.TestCase):
    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)
        self.u = self.s.ensure_user("phone", "1").id
        self.v = self.s.ensure_user("phone", "2").id
        self.s.record_link("l1", self.u, "wecom", T0)
        self.s.record_link("l2", self.v, "wechat", T0)

    def push(self, eid, user, t, channel="wecom"):
        self.s.record_touchpoint(eid, user, "outbound_1to1", t,
                                 purpose="promotion", channel=channel)


class Cluster(Fixture):
    def test_clustering_changes_no_answer(self):
        for i in range(40):  # two users' touchpoints, interleaved
            self.push("p%d" % i, (self.u, self.v)[i % 2], T0 + i * 3600)
        f = metrics.Filter(as_of=T0 + 2 * DAY)
        before = trust.trust_distribution(self.s, f)
        pressed = pressure.pressure_stats(self.s, f, 7 * DAY)
        self.s.cluster()
        self.assertEqual(trust.trust_distribution(self.s, f), before)
        self.assertEqual(pressure.pressure_stats(self.s, f, 7 * DAY), pressed)
        self.assertFalse(self.s.record_touchpoint(  # False: a replay
            "p3", self.v, "outbound_1to1", T0 + 3 * 3600,
            purpose="promotion", channel="wecom"))
        self.assertEqual(self.s.stats().touchpoints, 40)


class Filters(Fixture):
    def test_a_filter_matches_on_the_acquisition_channel(self):
        f = metrics.Filter(as_of=T0 + DAY, channel="wecom")
        self.assertTrue(metrics.filter_match(self.s, self.u, f))
        self.assertFalse(metrics.filter_match(self.s, self.v, f))
        self.assertTrue(metrics.filter_match(self.s, self.v, T0 + DAY))

    def test_an_erased_user_never_matches(self):
        self.s.erase_user(self.u)
        self.assertFalse(metrics.filter_match(self.s, self.u, T0 + DAY))

    def test_filter_errors(self):
        with self.assertRaises(pd.NotFound):
            metrics.filter_match(self.s, self.u,
                                 metrics.Filter(T0, guide=5))
        with self.assertRaises(pd.OutOfRange):
            metrics.filter_match(self.s, self.u, -1)
        with self.assertRaises(pd.NotFound):
            metrics.filter_match(self.s, 99, T0)


class Consent(Fixture):
    def test_granted_by_default_and_not_recorded(self):
        st = consent.user_consent(self.s, self.u, "marketing", T0)
        self.assertEqual(st, consent.ConsentState(True, False, None))
        self.assertTrue(st)

    def test_a_withdrawal_wins_over_a_grant_at_the_same_time(self):
        self.assertTrue(consent.record_consent(self.s, "c1", self.u,
                                               "marketing", False, T0))
        self.assertFalse(consent.record_consent(self.s, "c1", self.u,
                                                "marketing", False, T0))
        consent.record_consent(self.s, "c2", self.u, "marketing", True, T0)
        st = consent.user_consent(self.s, self.u, "marketing", T0 + 1)
        self.assertEqual(st, consent.ConsentState(False, True, T0))
        self.assertTrue(consent.user_consent(self.s, self.u, "marketing",
                                             T0 - 1))

    def test_consent_errors(self):
        with self.assertRaises(pd.InvalidArgument):
            consent.record_consent(self.s, "c1", self.u, "dating", True, T0)
        with self.assertRaises(pd.NotFound):
            consent.record_consent(self.s, "c1", 99, "analytics", True, T0)
        with self.assertRaises(pd.Duplicate):
            consent.record_consent(self.s, "l1", self.u, "analytics", True,
                                   T0)


class Pressure(Fixture):
    def test_a_second_push_in_a_day_breaks_the_default_cap(self):
        ok = pressure.contact_check(self.s, self.u, "wecom", "promotion",
                                    T0 + 10)
        self.assertTrue(ok)
        self.assertEqual(ok.earliest, T0 + 10)
        self.push("p1", self.u, T0 + 20)
        v = pressure.contact_check(self.s, self.u, "wecom", "promotion",
                                   T0 + 30)
        self.assertFalse(v)
        self.assertEqual(v.reason, "daily_cap")
        self.assertEqual((v.pushes_day, v.pushes_week), (1, 1))
        self.assertEqual(v.earliest, T0 + 20 + DAY)
        self.assertTrue(pressure.contact_check(self.s, self.u, "wecom",
                                               "service", T0 + 30))
        loose = pressure.ContactPolicy(per_day=0, per_week=0)
        self.assertTrue(pressure.contact_check(
            self.s, self.u, "wecom", "promotion", T0 + 30, loose))

    def test_unlinked_and_opted_out_users_cannot_wait_it_out(self):
        v = pressure.contact_check(self.s, self.u, "wechat", "content", T0)
        self.assertEqual((v.allowed, v.reason, v.earliest),
                         (False, "unlinked", None))
        consent.record_consent(self.s, "c1", self.u, "marketing", False, T0)
        v = pressure.contact_check(self.s, self.u, "wecom", "promotion", T0)
        self.assertEqual(v.reason, "opted_out")

    def test_pressure_over_a_population(self):
        self.push("p1", self.u, T0 + 100)
        self.push("p2", self.u, T0 + 200)
        st = pressure.pressure_stats(self.s, T0 + DAY)
        self.assertEqual(st, pressure.PressureStats(
            users=2, pushes=2, mean=1.0, p50=0.0, p90=2.0, max=2,
            over_cap_pushes=1, users_over_cap=1))
        only_v = pressure.pressure_stats(
            self.s, metrics.Filter(T0 + DAY, channel="wechat"))
        self.assertEqual((only_v.users, only_v.pushes), (1, 0))
        with self.assertRaises(pd.OutOfRange):
            pressure.pressure_stats(self.s, T0 + DAY, window=0)

    def test_contact_check_errors(self):
        with self.assertRaises(pd.InvalidArgument):
            pressure.contact_check(self.s, self.u, "wecom", "none", T0)
        with self.assertRaises(pd.NotFound):
            pressure.contact_check(self.s, 99, "wecom", "service", T0)


class Trust(Fixture):
    def test_no_touchpoints_give_the_priors(self):
        t = trust.trust_user(self.s, self.u, T0)
        e, r, i, s = 5.5, 1 + 9 * 0.75, 1.0, 1 + 9 * 0.25
        self.assertEqual((t.expertise, t.reliability, t.intimacy,
                          t.self_orientation), (e, r, i, s))
        self.assertAlmostEqual(t.trust, e * r * i / s, places=12)
        self.assertAlmostEqual(
            t.score, 100 * math.log(t.trust / 0.1) / math.log(1e4), 10)

    def test_an_answered_message_raises_reliability_and_intimacy(self):
        self.s.record_touchpoint("in", self.u, "inbound_message", T0)
        self.s.record_touchpoint("out", self.u, "outbound_1to1", T0 + 3600,
                                 purpose="service")
        t = trust.trust_user(self.s, self.u, T0 + 3600)
        self.assertEqual((t.inbound, t.inbound_answered, t.brand_touches),
                         (1, 1, 1))
        self.assertAlmostEqual(t.reliability, 1 + 9 * 4 / 5, places=12)
        self.assertAlmostEqual(t.self_orientation, 1 + 9 * 1 / 5, places=12)
        w = 3 * 2 ** (-3600 / (30 * DAY)) + 1
        self.assertAlmostEqual(t.intimacy, 1 + 9 * (1 - math.exp(-w / 5)),
                               places=12)

    def test_the_additive_formula_and_options(self):
        opts = trust.TrustOptions(formula="additive",
                                  policy=pressure.ContactPolicy(per_day=3))
        t = trust.trust_user(self.s, self.u, T0, options=opts)
        self.assertAlmostEqual(t.trust, (5.5 + 7.75 + 1) / 3.25, places=12)
        self.assertAlmostEqual(
            t.score, 100 * math.log(t.trust / 0.3) / math.log(100), 10)
        with self.assertRaises(pd.OutOfRange):
            trust.trust_user(self.s, self.u, T0,
                             options=trust.TrustOptions(rating_weight=2))
        with self.assertRaises(pd.InvalidArgument):
            trust.TrustOptions(formula="geometric")._struct()
        with self.assertRaises(pd.NotFound):
            trust.trust_user(self.s, self.u, T0, guide=7)

    def test_the_distribution_over_the_users(self):
        d = trust.trust_distribution(self.s, T0)
        self.assertEqual(d.users, 2)
        self.assertEqual(sum(d.histogram), 2)
        one = trust.trust_user(self.s, self.u, T0).score
        self.assertAlmostEqual(d.mean_score, one, places=12)
        self.assertEqual(d.histogram[int(one // 10)], 2)
        self.assertAlmostEqual(d.deciles[4], one, places=12)


class Purge(Fixture):
    def test_orders_before_the_cutoff_are_purged_once(self):
        self.s.record_order("o1", 1, self.u, T0, 500)
        self.s.record_order("o2", 2, self.u, T0 + 2 * DAY, 700)
        self.s.record_refund("r1", 1, T0 + 3 * DAY, 100)
        r = purge.purge_before(self.s, T0 + DAY)
        self.assertEqual(r, purge.PurgeResult(0, 1, 1, 2, 400))
        self.assertEqual(self.s.user_info(self.u, T0 + 9 * DAY).revenue, 700)
        self.assertEqual(purge.purge_before(self.s, T0 + DAY),
                         purge.PurgeResult(0, 0, 0, 0, 0))
        with self.assertRaises(pd.Erased):
            self.s.record_order("o1", 1, self.u, T0, 500)
        with self.assertRaises(pd.OutOfRange):
            purge.purge_before(self.s, -1)


if __name__ == "__main__":
    unittest.main()
