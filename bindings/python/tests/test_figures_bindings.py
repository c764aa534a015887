"""Funnel, repurchase, referral, guide and segment figures through the
binding, on one small hand-computed store."""

from _util import child_env  # noqa: F401  (first: finds the package)

import math
import unittest

import privdomain as pd
from privdomain import (campaign, funnel, guide_metrics, referral_metrics,
                        repurchase, segments)

DAY = 86400
T = pd.parse_date("2024-03-01")
AS_OF = T + 60 * DAY


class Figures(unittest.TestCase):
    """Reach 10 on WeCom; users 1-4 linked there at T; user 1 buys at T+1d
    (10.00) and T+10d (20.00), bound to guide G; user 2 buys at T+40d
    (50.00); user 3 refers user 4 at T+2d; 10.00 spent on WeCom."""

    def setUp(self):
        s = self.s = pd.Store()
        self.addCleanup(s.close)
        self.u = [s.ensure_user("phone", str(i)).id for i in range(1, 5)]
        u1, u2, u3, u4 = self.u
        self.g = s.ensure_guide("S1").id
        self.h = s.ensure_guide("S2").id
        ev = [("reach", dict(event="r", channel="wecom", period_start=T,
                             period_end=T + DAY, reached=10)),
              ("cost", dict(event="c", channel="wecom", period_start=T,
                            period_end=T + DAY, amount=1000))]
        ev += [("link", dict(event=f"l{u}", user=u, channel="wecom", time=T))
               for u in self.u]
        ev += [("guide_bind", dict(event="b", user=u1, guide=self.g, time=T)),
               ("order", dict(event="o1", order_id=1, user=u1,
                              time=T + DAY, amount=1000)),
               ("order", dict(event="o2", order_id=2, user=u1,
                              time=T + 10 * DAY, amount=2000)),
               ("order", dict(event="o3", order_id=3, user=u2,
                              time=T + 40 * DAY, amount=5000)),
               ("referral", dict(event="f", referrer=u3, referee=u4,
                                 time=T + 2 * DAY)),
               ("guide_handover", dict(event="h", from_guide=self.g,
                                       to_guide=self.h, time=T + 20 * DAY))]
        self.assertTrue(all(r is True for r in s.record_events(ev)))

    def test_the_funnel_by_channel(self):
        [row] = funnel.funnel(self.s, AS_OF, group_by="channel")
        self.assertEqual(row.key, pd.CHANNEL_WECOM)
        self.assertEqual((row.reached, row.linked, row.converted, row.repeat,
                          row.referrers), (10, 4, 1, 1, 1))
        self.assertEqual((row.link_rate, row.conversion_rate,
                          row.repeat_rate, row.referral_rate),
                         (0.4, 0.25, 1.0, 0.25))
        self.assertEqual(row.days_to_first_purchase_median, 1.0)
        self.assertEqual((row.revenue, row.cost), (8000, 1000))
        self.assertEqual((row.ltv, row.cac, row.ltv_cac), (2000, 250, 8.0))
        with self.assertRaises(pd.InvalidArgument):
            funnel.funnel(self.s, AS_OF, conversion_window=0)
        with self.assertRaises(pd.InvalidArgument):
            funnel.funnel(self.s, AS_OF, group_by="colour")

    def test_repurchase(self):
        [row] = repurchase.repurchase(self.s, AS_OF)
        self.assertEqual((row.buyers, row.repeat_buyers, row.purchases),
                         (2, 1, 3))
        self.assertEqual((row.repurchase_rate, row.frequency), (0.5, 1.5))
        self.assertAlmostEqual(row.average_order_value, 8000 / 3, places=9)
        self.assertEqual((row.intervals, row.interval_median_days),
                         (1, 9.0))
        self.assertEqual(row.repeat_revenue, 3000)

    def test_referrals_and_the_k_factor(self):
        st = referral_metrics.referral_stats(self.s, AS_OF, T, T + 5 * DAY)
        self.assertEqual((st.referrals, st.referrers, st.trees,
                          st.largest_tree, st.max_depth), (1, 1, 1, 2, 1))
        self.assertEqual(st.window_referrals, 1)
        self.assertAlmostEqual(st.k_factor, 1 / st.base, places=15)
        [top] = referral_metrics.referral_top(self.s, AS_OF, 3)
        self.assertEqual(top, referral_metrics.Referrer(self.u[2], 1, 1, 0,
                                                        0))
        with self.assertRaises(pd.OutOfRange):
            referral_metrics.referral_stats(self.s, AS_OF, T, T)

    def test_guides_commission_and_handovers(self):
        self.assertIsNone(guide_metrics.get_commission(self.s, self.g))
        guide_metrics.set_commission(self.s, self.g, 500)
        self.assertEqual(guide_metrics.get_commission(self.s, self.g), 500)
        rows = guide_metrics.guide_figures(self.s, AS_OF)
        g = {r.guide: r for r in rows}
        self.assertEqual((g[self.g].orders, g[self.g].revenue,
                          g[self.g].commission), (2, 3000, 150))
        self.assertEqual((g[self.g].users_bound, g[self.h].users_bound),
                         (0, 1))
        self.assertEqual((g[self.g].handovers_out, g[self.h].handovers_in),
                         (1, 1))
        guide_metrics.set_commission(self.s, self.g, None)
        self.assertIsNone(guide_metrics.get_commission(self.s, self.g))
        [h] = guide_metrics.handover_history(self.s, AS_OF)
        self.assertEqual(h, guide_metrics.Handover(T + 20 * DAY, self.g,
                                                   self.h, 1))
        with self.assertRaises(pd.InvalidArgument):
            guide_metrics.set_commission(self.s, self.g, 10001)
        with self.assertRaises(pd.InvalidArgument):
            guide_metrics.guide_figures(self.s, AS_OF, attribution="x")

    def test_rfm_segments(self):
        rows, counts = segments.rfm(self.s, AS_OF)
        u1, u2 = self.u[:2]
        self.assertEqual([(r.user, r.r_score, r.f_score, r.segment)
                          for r in rows],
                         [(u1, 1, 3, "at_risk"), (u2, 3, 1,
                                                   "about_to_sleep")])
        self.assertEqual(rows[0].recency_days, 50.0)
        self.assertEqual(counts["at_risk"], segments.SegmentCount(1, 3000))
        self.assertEqual(counts["champions"], segments.SegmentCount(0, 0))
        self.assertEqual(segments.segment_from_scores(5, 5), "champions")

    def test_super_users(self):
        top = segments.super_users(self.s, AS_OF, 5)
        u1, u2 = self.u[:2]
        # user 1: spend 3000 of the max 5000, the most orders (2) -> 57.6;
        # user 2: the most spend, 1 of 2 orders -> 52.6.
        want1 = 100 * (0.4 * math.log(3001) / math.log(5001) + 0.2)
        want2 = 100 * (0.4 + 0.2 * math.log(2) / math.log(3))
        self.assertEqual([t.user for t in top], [u1, u2])
        self.assertAlmostEqual(top[0].score, want1, places=9)
        self.assertAlmostEqual(top[1].score, want2, places=9)
        self.assertEqual((top[0].spend, top[0].orders), (3000, 2))
        with self.assertRaises(pd.InvalidArgument):
            segments.super_users(self.s, AS_OF, 5, w_spend=0, w_frequency=0,
                                 w_referrals=0, w_engagement=0)


class Campaigns(unittest.TestCase):
    """Ten users linked at T-60d; a flash campaign touches six of them on
    T..T+2d; three of those delete the brand at T+5d and one buys 99.00 at
    T+1d; nobody deleted before."""

    def test_a_campaign_that_drives_deletions_is_unhealthy(self):
        with pd.Store() as s:
            camp = s.ensure_label("campaign", "618-flash").id
            users = [s.ensure_user("phone", str(i)).id for i in range(10)]
            ev = [("link", dict(event=f"l{u}", user=u, channel="wechat",
                                time=T - 60 * DAY)) for u in users]
            ev += [("touchpoint", dict(event=f"t{u}", user=u,
                                       kind="broadcast", purpose="promotion",
                                       campaign=camp, time=T + DAY))
                   for u in users[:6]]
            ev += [("unlink", dict(event=f"u{u}", user=u, channel="wechat",
                                   time=T + 5 * DAY,
                                   initiator="user_deleted"))
                   for u in users[:3]]
            ev.append(("order", dict(event="o", order_id=1, user=users[3],
                                     time=T + DAY, amount=9900)))
            self.assertTrue(all(r is True for r in s.record_events(ev)))
            h = campaign.campaign_health(s, AS_OF, camp, T, T + 2 * DAY)
            self.assertEqual((h.pool, h.buyers, h.orders, h.revenue),
                             (6, 1, 1, 9900))
            self.assertEqual((h.linked, h.unlinked, h.rate), (6, 3, 0.5))
            self.assertEqual((h.baseline_rate, h.ratio), (0.0, -1.0))
            self.assertFalse(h.healthy)
            self.assertEqual(h.unlink_window_end, T + 16 * DAY)
            self.assertEqual(h.baseline_start, T - 16 * DAY)
            mild = campaign.campaign_health(s, AS_OF, camp, T, T + 2 * DAY,
                                            unhealthy_min_rate=0.6)
            self.assertTrue(mild.healthy)
            with self.assertRaises(pd.NotFound):
                campaign.campaign_health(s, AS_OF, 99, T, T + DAY)
            with self.assertRaises(pd.OutOfRange):
                campaign.campaign_health(s, AS_OF, camp, T, T)


if __name__ == "__main__":
    unittest.main()
