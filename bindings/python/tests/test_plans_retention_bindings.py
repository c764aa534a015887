"""Follow-up plans (followup.h) and link retention (retention_metrics.h,
breakdown.h) through the binding, on small hand-computed stores."""

from _util import child_env  # noqa: F401  (first: finds the package)

import unittest

import privdomain as pd
from privdomain import (breakdown, consent, followup, retention_metrics,
                        store_summary)

DAY = 86400
JAN = pd.parse_date("2024-01-01")
T = JAN + 3 * DAY           # 2024-01-04
AS_OF = T + 100 * DAY


class Cohorts(unittest.TestCase):
    def test_cohort_periods_start_in_utc(self):
        t = pd.parse_date("2024-01-17") + 3600
        self.assertEqual(breakdown.cohort_start("day", t),
                         pd.parse_date("2024-01-17"))
        self.assertEqual(breakdown.cohort_start("week", t),
                         pd.parse_date("2024-01-15"))     # a Monday
        self.assertEqual(breakdown.cohort_start("month", t), JAN)
        with self.assertRaises(pd.InvalidArgument):
            breakdown.cohort_start("year", t)


class LinkRetention(unittest.TestCase):
    """Ten users linked on WeCom on 2024-01-04: four delete the brand after
    10 days, two after 40, one is removed by staff after 70."""

    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)
        events = []
        for i in range(10):
            u = self.s.ensure_user("phone", str(i)).id
            events.append(("link", dict(event=f"l{i}", user=u,
                                        channel="wecom", time=T)))
            ends = {0: 10, 1: 10, 2: 10, 3: 10, 4: 40, 5: 40, 6: 70}
            if i in ends:
                who = "staff_removed" if i == 6 else "user_deleted"
                events.append(("unlink", dict(event=f"u{i}", user=u,
                                              channel="wecom",
                                              time=T + ends[i] * DAY,
                                              initiator=who)))
        self.assertTrue(all(r is True for r in self.s.record_events(events)))

    def test_the_cohort_table(self):
        rows = retention_metrics.link_retention(self.s, AS_OF, periods=3)
        self.assertEqual([(r.period, r.observed, r.retained) for r in rows],
                         [(0, 10, 10), (1, 10, 6), (2, 10, 4), (3, 10, 3)])
        self.assertTrue(all(r.cohort_start == JAN and r.cohort_size == 10
                            and r.channel == pd.CHANNEL_WECOM for r in rows))
        self.assertAlmostEqual(rows[1].rate, 0.6, places=15)

    def test_survivors_and_the_sbg_fit_agree_with_the_model_binding(self):
        surv = retention_metrics.link_cohort_survivors(
            self.s, AS_OF, JAN, pd.parse_date("2024-02-01"), periods=3)
        self.assertEqual(list(surv), [10, 6, 4, 3])
        with retention_metrics.link_retention_fit_sbg(
                self.s, AS_OF, JAN, pd.parse_date("2024-02-01"),
                periods=3) as fit, pd.Fit() as direct:
            direct.estimate_sbg(surv)
            for k, v in direct.params.items():
                self.assertAlmostEqual(fit.params[k], v, places=12)

    def test_kaplan_meier_counts_only_user_unlinks_as_events(self):
        with retention_metrics.link_survival_km(self.s, AS_OF) as km:
            c = km.curve()
            self.assertEqual(list(c.time), [10.0, 40.0])
            self.assertAlmostEqual(km.survival_at(10), 0.6, places=15)
            self.assertAlmostEqual(km.survival_at(40), 0.6 * 4 / 6, 15)
            self.assertEqual(km.median(), 40.0)

    def test_the_unlink_rate_keeps_user_and_staff_apart(self):
        r = retention_metrics.unlink_rate(self.s, AS_OF, T, T + 100 * DAY)
        self.assertEqual((r.base, r.user_unlinks, r.staff_unlinks),
                         (10, 6, 1))
        self.assertAlmostEqual(r.user_rate, 0.6, places=15)
        self.assertAlmostEqual(r.rate, 0.7, places=15)
        with self.assertRaises(pd.OutOfRange):
            retention_metrics.unlink_rate(self.s, AS_OF, T, T)

    def test_errors(self):
        with self.assertRaises(pd.InvalidArgument):
            retention_metrics.link_retention(self.s, AS_OF, periods=0)
        with self.assertRaises(pd.NotFound):
            retention_metrics.link_retention(self.s, AS_OF, channel=999)
        with self.assertRaises(pd.InvalidArgument):
            retention_metrics.link_cohort_survivors(
                self.s, AS_OF, JAN + 300 * DAY, JAN + 301 * DAY)


class Followup(unittest.TestCase):
    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)
        s = self.s
        self.g = s.ensure_guide("S001").id
        self.a, self.b, self.c, self.d = (
            s.ensure_user("phone", str(i)).id for i in range(4))
        for i, u in enumerate((self.a, self.b, self.d)):
            s.record_link(f"l{i}", u, "wecom", T)
        s.record_guide_bind("g1", self.a, self.g, T)
        # a: one order delivered 3 days and an hour ago -> after-sales.
        s.record_order("oa", 1, self.a, AS_OF - 3 * DAY - 3600, 10000)
        # b: purchase days 10 days apart, the last 12 days ago -> due.
        s.record_order("ob1", 2, self.b, AS_OF - 22 * DAY, 3000)
        s.record_order("ob2", 3, self.b, AS_OF - 12 * DAY, 5000)
        # c is not linked; d opted out: neither is listed.
        s.record_order("oc", 4, self.c, AS_OF - 3 * DAY - 3600, 1)
        s.record_order("od", 5, self.d, AS_OF - 3 * DAY - 3600, 1)
        consent.record_consent(s, "cd", self.d, "marketing", False, T)

    def test_the_plan_lists_each_guides_users_with_a_reason(self):
        plan = followup.followup_plan(self.s, AS_OF)
        self.assertEqual(
            [(i.guide, i.rank, i.user, i.reason) for i in plan],
            [(0, 1, self.b, "repurchase_due"),
             (self.g, 1, self.a, "after_sales")])
        b = plan[0]
        self.assertEqual((b.value, b.p_alive, b.channel),
                         (80.0, 1.0, pd.CHANNEL_WECOM))
        self.assertAlmostEqual(b.value_at_risk, 80.0 * 0.05, places=12)
        self.assertEqual(b.last_purchase, AS_OF - 12 * DAY)

    def test_options_change_the_plan(self):
        opts = followup.FollowupOptions(usage_cycle=30 * DAY)
        plan = followup.followup_plan(self.s, AS_OF, options=opts)
        self.assertEqual([i.user for i in plan], [self.a])
        with self.assertRaises(pd.InvalidArgument):
            followup.followup_plan(
                self.s, AS_OF, options=followup.FollowupOptions(
                    guide_capacity=0))
        with self.assertRaises(pd.OutOfRange):
            followup.followup_plan(
                self.s, AS_OF, options=followup.FollowupOptions(
                    win_back_p_alive=1.5))

    def test_a_summary_without_enough_data_cannot_predict(self):
        with store_summary.StoreSummary(self.s, AS_OF) as ss:
            with self.assertRaises(pd.InvalidArgument):
                ss.predict()
            with self.assertRaises(TypeError):
                followup.followup_plan(self.s, AS_OF, values=object())


if __name__ == "__main__":
    unittest.main()
