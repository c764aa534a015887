"""The store through the binding: users, identities, channels, labels,
events and guides; success and error paths."""

import _util  # noqa: F401  (first: finds the package)

import datetime
import unittest
from decimal import Decimal

import privdomain as pd

T0 = 1700000000          # 2023-11-14T22:13:20Z
DAY = 86400


class StoreHandle(unittest.TestCase):
    def test_a_store_is_a_context_manager_and_closes(self):
        with pd.Store() as s:
            self.assertFalse(s.closed)
        self.assertTrue(s.closed)
        with self.assertRaises(pd.Misuse):
            s.stats()
        s.close()  # idempotent

    def test_currency_exponent_is_kept(self):
        with pd.Store(currency_exponent=0) as s:
            self.assertEqual(s.currency_exponent, 0)

    def test_a_bad_currency_exponent_is_invalid(self):
        with self.assertRaises(pd.InvalidArgument):
            pd.Store(currency_exponent=7)

    def test_threads_setting_round_trips_and_is_checked(self):
        with pd.Store() as s:
            self.assertEqual(s.threads, 1)
            s.threads = 2
            self.assertEqual(s.threads, 2)
            with self.assertRaises(pd.InvalidArgument):
                s.threads = 65
            self.assertEqual(s.threads, 2)

    def test_reserve_makes_room_and_checks_the_kind(self):
        with pd.Store() as s:
            s.reserve(pd.EVENT_TOUCHPOINT, 1000)
            s.reserve(0, 1000)
            with self.assertRaises(pd.InvalidArgument):
                s.reserve(99, 10)
            self.assertEqual(s.stats().touchpoints, 0)
            s.reserve(pd.RESERVE_USERS, 500)
            self.assertEqual(s.stats().users, 0)
            with self.assertRaises(pd.Full):
                s.reserve(pd.RESERVE_USERS, 2**32)

    def test_spare_limit_is_checked_and_a_new_store_keeps_nothing(self):
        with pd.Store() as s:
            self.assertEqual(s.stats().spare_bytes, 0)
            for n in (0, pd.SPARE_AUTO, 1 << 40):
                s.set_spare_limit(n)
            with self.assertRaises(pd.InvalidArgument):
                s.set_spare_limit(-2)
            self.assertEqual(s.stats().spare_bytes, 0)

    def test_a_new_store_has_the_builtin_channels_and_nothing_else(self):
        with pd.Store() as s:
            st = s.stats()
            self.assertEqual(st.channels, 12)
            self.assertEqual((st.users, st.events), (0, 0))

    def test_event_ids_from_text_are_stable_and_nonzero(self):
        a = pd.event_id("order-42")
        self.assertNotEqual(a, 0)
        self.assertEqual(a, pd.event_id(b"order-42"))
        self.assertNotEqual(a, pd.event_id("order-43"))
        self.assertEqual(pd.event_id(7), 7)

    def test_an_identity_key_pseudonymises_identities(self):
        key = bytes(range(32))
        with pd.Store(identity_key=key) as s:
            u = s.ensure_user("phone", "+8613800000000").id
            self.assertEqual(s.find_user("phone", "+8613800000000"), u)
            [(ns, k)] = list(s.identities(u))
            self.assertEqual(ns, "phone")
            self.assertEqual(len(k), 64)
            self.assertNotIn("138", k)

    def test_a_too_short_identity_key_is_invalid(self):
        with self.assertRaises(pd.InvalidArgument):
            pd.Store(identity_key=b"short")


class Users(unittest.TestCase):
    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)

    def test_ensure_creates_once_then_reports_existing(self):
        a = self.s.ensure_user("wechat.unionid", "o6_bm1")
        b = self.s.ensure_user("wechat.unionid", "o6_bm1")
        self.assertEqual(a, pd.Ensured(1, True))
        self.assertEqual(b, pd.Ensured(1, False))
        self.assertEqual(self.s.find_user("wechat.unionid", "o6_bm1"), 1)

    def test_ensure_users_gives_one_result_per_key_as_ensure_user_would(self):
        self.s.ensure_user("phone", "138")
        got = self.s.ensure_users("phone", ["139", "138", "", "139",
                                            b"\xff", "140"])
        self.assertEqual(got[0], pd.Ensured(2, True))
        self.assertEqual(got[1], pd.Ensured(1, False))
        self.assertIsInstance(got[2], pd.InvalidArgument)
        self.assertTrue(got[2].message.startswith("keys[2]: "))
        self.assertEqual(got[3], pd.Ensured(2, False))
        self.assertIsInstance(got[4], pd.InvalidUtf8)
        self.assertEqual(got[5], pd.Ensured(3, True))
        self.assertEqual(self.s.find_user("phone", "140"), 3)
        self.assertEqual(self.s.ensure_users("phone", []), [])

    def test_ensure_users_with_a_bad_namespace_raises_and_creates_nothing(self):
        with self.assertRaises(pd.InvalidArgument):
            self.s.ensure_users("Bad NS!", ["1", "2"])
        with self.assertRaises(pd.InvalidArgument):
            self.s.ensure_users("", [])
        with self.assertRaises(TypeError):
            self.s.ensure_users("phone", ["1", 2])
        self.assertEqual(list(self.s.users()), [])

    def test_an_unknown_identity_is_not_found_with_the_library_message(self):
        with self.assertRaises(pd.NotFound) as cm:
            self.s.find_user("phone", "nobody")
        self.assertTrue(cm.exception.message)
        self.assertEqual(cm.exception.status, -2)

    def test_a_bad_namespace_is_invalid(self):
        with self.assertRaises(pd.InvalidArgument):
            self.s.ensure_user("Bad NS!", "k")
        with self.assertRaises(pd.InvalidArgument):
            self.s.ensure_user("", "k")

    def test_invalid_utf8_is_a_utf8_error(self):
        with self.assertRaises(pd.InvalidUtf8):
            self.s.ensure_user("phone", b"\xff\xfe")

    def test_a_wrong_type_is_a_type_error(self):
        with self.assertRaises(TypeError):
            self.s.ensure_user("phone", 13800000000)
        with self.assertRaises(TypeError):
            self.s.canonical("1")

    def test_attaching_anothers_identity_merges_into_the_smaller_id(self):
        a = self.s.ensure_user("wechat.unionid", "A").id
        b = self.s.ensure_user("pos.member", "M42").id
        self.assertEqual(self.s.attach_identity(b, "wechat.unionid", "A"), a)
        self.assertEqual(self.s.canonical(b), a)
        self.assertEqual(list(self.s.identities(b)),
                         [("pos.member", "M42"), ("wechat.unionid", "A")])
        self.assertEqual(list(self.s.users()), [a])
        self.assertEqual(self.s.stats().merged_users, 1)

    def test_merge_returns_the_survivor(self):
        a = self.s.ensure_user("phone", "1").id
        b = self.s.ensure_user("phone", "2").id
        self.assertEqual(self.s.merge_users(b, a), a)
        self.assertEqual(self.s.merge_users(a, b), a)

    def test_erase_reports_replay_and_later_events_are_erased(self):
        u = self.s.ensure_user("phone", "1").id
        self.assertTrue(self.s.erase_user(u))
        self.assertFalse(self.s.erase_user(u))
        with self.assertRaises(pd.Erased):
            self.s.record_order("e1", 1, u, T0, 100)
        with self.assertRaises(pd.Erased):
            self.s.user_info(u, T0)

    def test_users_iterates_live_users_in_order(self):
        ids = [self.s.ensure_user("phone", str(i)).id for i in range(5)]
        self.s.erase_user(ids[2])
        self.assertEqual(list(self.s.users()), ids[:2] + ids[3:])

    def test_unknown_user_is_not_found(self):
        with self.assertRaises(pd.NotFound):
            self.s.canonical(99)
        with self.assertRaises(pd.OutOfRange):
            self.s.canonical(1 << 64)


class ChannelsAndLabels(unittest.TestCase):
    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)

    def test_builtin_channels_are_found_by_name(self):
        self.assertEqual(self.s.find_channel("wecom"), pd.CHANNEL_WECOM)
        info = self.s.channel_info("store")
        self.assertEqual(info, pd.ChannelInfo(8, "store", False))

    def test_custom_channels_get_ids_from_1024_and_replay(self):
        self.assertEqual(self.s.register_channel("xiaohongshu"),
                         pd.Ensured(1024, True))
        self.assertEqual(self.s.register_channel("xiaohongshu"),
                         pd.Ensured(1024, False))
        with self.assertRaises(pd.Duplicate):
            self.s.register_channel("xiaohongshu", private=False)
        self.assertTrue(self.s.channel_info(1024).private)

    def test_unknown_channel_is_not_found(self):
        with self.assertRaises(pd.NotFound):
            self.s.find_channel("myspace")
        with self.assertRaises(pd.NotFound):
            self.s.channel_info(999)

    def test_labels_by_kind(self):
        src = self.s.ensure_label("source", "package_card")
        self.assertEqual(src, pd.Ensured(1, True))
        self.assertFalse(self.s.ensure_label("source", "package_card").created)
        shop = self.s.ensure_label(pd.LABEL_SHOP, "shop42").id
        self.assertEqual(self.s.find_label("shop", "shop42"), shop)
        self.assertEqual(self.s.label_name("source", 1), "package_card")
        with self.assertRaises(pd.NotFound):
            self.s.find_label("campaign", "618")
        with self.assertRaises(pd.InvalidArgument):
            self.s.ensure_label("colour", "red")


class Events(unittest.TestCase):
    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)
        self.u = self.s.ensure_user("phone", "1").id
        self.v = self.s.ensure_user("phone", "2").id

    def test_record_returns_true_when_new_and_false_when_replayed(self):
        self.assertIs(self.s.record_link("l1", self.u, "wecom", T0), True)
        self.assertIs(self.s.record_link("l1", self.u, "wecom", T0), False)
        with self.assertRaises(pd.Duplicate):
            self.s.record_link("l1", self.u, "wecom", T0 + 1)

    def test_event_id_zero_is_invalid(self):
        with self.assertRaises(pd.InvalidArgument):
            self.s.record_link(0, self.u, "wecom", T0)

    def test_time_outside_the_range_is_out_of_range(self):
        with self.assertRaises(pd.OutOfRange):
            self.s.record_link("l1", self.u, "wecom", -5)
        with self.assertRaises(pd.OutOfRange):
            self.s.record_link("l1", self.u, "wecom", T0 * 1000)

    def test_link_state_follows_links_and_unlinks(self):
        self.s.record_link("l1", self.u, "wecom", T0)
        self.s.record_unlink("u1", self.u, "wecom", T0 + DAY, "user_deleted")
        st = self.s.link_state(self.u, "wecom", T0 + 2 * DAY)
        self.assertFalse(st.linked)
        self.assertEqual((st.links, st.unlinks), (1, 1))
        self.assertEqual(st.first_linked, T0)
        self.assertIsNone(st.linked_since)
        self.assertEqual(st.last_unlinked, T0 + DAY)
        self.assertEqual(st.last_initiator, pd.UNLINK_USER_DELETED)
        before = self.s.link_state(self.u, pd.CHANNEL_WECOM, T0 + 10)
        self.assertTrue(before.linked)
        self.assertEqual(before.linked_since, T0)

    def test_links_iterates_channels_in_order(self):
        self.s.record_link("l1", self.u, "mini_program", T0)
        self.s.record_link("l2", self.u, "wechat", T0)
        states = list(self.s.links(self.u, T0 + DAY))
        self.assertEqual([x.channel for x in states],
                         [pd.CHANNEL_WECHAT, pd.CHANNEL_MINI_PROGRAM])
        self.assertTrue(all(x.linked for x in states))

    def test_bad_unlink_initiator_is_invalid(self):
        with self.assertRaises(pd.InvalidArgument):
            self.s.record_unlink("u1", self.u, "wecom", T0, "bored")
        with self.assertRaises(pd.InvalidArgument):
            self.s.record_unlink("u1", self.u, "wecom", T0, 99)

    def test_touchpoints_and_ratings(self):
        self.assertTrue(self.s.record_touchpoint(
            "t1", self.u, "broadcast", T0, purpose="promotion",
            channel="wecom"))
        self.assertTrue(self.s.record_touchpoint(
            "t2", self.u, "rating", T0, rating_expertise=8))
        with self.assertRaises(pd.InvalidArgument):   # purpose missing
            self.s.record_touchpoint("t3", self.u, "broadcast", T0)
        with self.assertRaises(pd.OutOfRange):
            self.s.record_touchpoint("t4", self.u, "rating", T0,
                                     rating_intimacy=11)
        self.assertEqual(self.s.stats().touchpoints, 2)

    def test_orders_and_refunds_in_minor_units_and_decimals(self):
        self.s.record_order("o1", "A-1", self.u, T0, Decimal("128.50"))
        self.s.record_order("o2", "A-2", self.u, T0 + DAY, 1000)
        self.s.record_refund("r1", "A-1", T0 + DAY, Decimal("28.5"))
        info = self.s.user_info(self.u, T0 + 2 * DAY)
        self.assertEqual(info.orders, 2)
        self.assertEqual(info.revenue, 12850 + 1000 - 2850)
        self.assertEqual(info.refunded, 2850)
        self.assertEqual(self.s.to_decimal(info.revenue), Decimal("110.00"))
        self.assertEqual((info.first_purchase, info.last_purchase),
                         (T0, T0 + DAY))

    def test_a_refund_above_the_order_is_a_conflict(self):
        self.s.record_order("o1", 11, self.u, T0, 500)
        with self.assertRaises(pd.Conflict):
            self.s.record_refund("r1", 11, T0, 501)
        with self.assertRaises(pd.NotFound):
            self.s.record_refund("r2", 12, T0, 1)

    def test_referrals_reject_cycles(self):
        self.assertTrue(self.s.record_referral("f1", self.u, self.v, T0))
        with self.assertRaises(pd.Conflict):
            self.s.record_referral("f2", self.v, self.u, T0)
        self.assertEqual(self.s.user_info(self.v, T0).referrer, self.u)
        self.assertEqual(self.s.user_info(self.u, T0).referrals_made, 1)

    def test_reach_and_cost(self):
        src = self.s.ensure_label("source", "package_card").id
        self.assertTrue(self.s.record_reach("r1", "package_card", T0,
                                            T0 + DAY, 1000, source=src))
        self.assertTrue(self.s.record_cost("c1", 0, T0, T0 + DAY,
                                           Decimal("300.00"), source=src))
        with self.assertRaises(pd.OutOfRange):
            self.s.record_reach("r2", "wecom", T0, T0, 5)
        st = self.s.stats()
        self.assertEqual((st.reach_records, st.cost_records), (1, 1))


class Batches(unittest.TestCase):
    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)
        self.u = self.s.ensure_user("phone", "1").id

    def test_a_batch_records_each_event_like_its_record_function(self):
        out = self.s.record_events([
            ("link", dict(event="l1", user=self.u, channel="wecom", time=T0)),
            ("order", dict(event="o1", order_id=7, user=self.u, time=T0,
                           amount=Decimal("9.90"))),
            ("refund", dict(event="r1", order_id=7, time=T0, amount=90)),
            ("link", dict(event="l1", user=self.u, channel="wecom",
                          time=T0)),
        ])
        self.assertEqual(out, [True, True, True, False])
        info = self.s.user_info(self.u, T0)
        self.assertEqual((info.revenue, info.refunded), (900, 90))

    def test_failed_events_are_returned_and_do_not_stop_the_others(self):
        out = self.s.record_events([
            ("order", dict(event="o1", order_id=1, user=99, time=T0,
                           amount=1)),
            ("order", dict(event="o2", order_id=2, user=self.u, time=T0,
                           amount=1)),
            ("refund", dict(event="r1", order_id=2, time=T0, amount=5)),
        ])
        self.assertIsInstance(out[0], pd.NotFound)
        self.assertIn("events[0]", out[0].message)
        self.assertIs(out[1], True)
        self.assertIsInstance(out[2], pd.Conflict)
        self.assertEqual(self.s.stats().orders, 1)

    def test_unknown_kinds_and_unconvertible_fields_raise_first(self):
        with self.assertRaises(pd.InvalidArgument):
            self.s.record_events([("purchase", {})])
        with self.assertRaises(TypeError):
            self.s.record_events([
                ("order", dict(event="o1", order_id=1, user=self.u, time=T0,
                               amount=1)),
                ("order", dict(event="o2", order_id=2, user=self.u, time=T0,
                               amount=1.5))])
        self.assertEqual(self.s.stats().orders, 0)
        self.assertEqual(self.s.record_events([]), [])


class Guides(unittest.TestCase):
    def setUp(self):
        self.s = pd.Store()
        self.addCleanup(self.s.close)
        self.u = self.s.ensure_user("phone", "1").id

    def test_bind_handover_deactivate(self):
        shop = self.s.ensure_label("shop", "shop42").id
        g1 = self.s.ensure_guide("S001", shop=shop)
        g2 = self.s.ensure_guide("S002").id
        self.assertTrue(g1.created)
        self.assertEqual(self.s.find_guide("S001"), g1.id)
        with self.assertRaises(pd.Duplicate):
            self.s.ensure_guide("S001", shop=0)
        self.assertTrue(self.s.record_guide_bind("b1", self.u, g1.id, T0))
        self.assertEqual(self.s.user_info(self.u, T0).guide, g1.id)
        self.assertTrue(self.s.record_guide_handover("h1", g1.id, g2,
                                                     T0 + DAY))
        self.assertTrue(self.s.record_guide_deactivate("d1", g1.id,
                                                       T0 + 2 * DAY))
        self.assertEqual(self.s.user_info(self.u, T0 + DAY).guide, g2)
        info = self.s.guide_info(g1.id, T0 + 3 * DAY)
        self.assertEqual(info, pd.GuideInfo(g1.id, shop, "S001", False,
                                             T0 + 2 * DAY, 0))
        with self.assertRaises(pd.Conflict):
            self.s.record_guide_bind("b2", self.u, g1.id, T0 + 3 * DAY)
        with self.assertRaises(pd.NotFound):
            self.s.find_guide("S999")


class Threads(unittest.TestCase):
    def test_a_store_shared_by_threads_counts_every_event_once(self):
        import threading
        with pd.Store() as s:
            u = s.ensure_user("phone", "1").id
            errors = []

            def work(k):
                try:
                    for i in range(500):
                        # every thread records the same ids: replays
                        s.record_order(i + 1, i + 1, u, T0 + i, 100)
                        s.record_touchpoint(f"t{k}-{i}", u, "content_view",
                                            T0 + i)
                except Exception as exc:  # reported below
                    errors.append(exc)
            threads = [threading.Thread(target=work, args=(k,))
                       for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            st = s.stats()
            self.assertEqual((st.orders, st.touchpoints), (500, 2000))
            self.assertEqual(s.user_info(u, T0 + DAY).revenue, 500 * 100)


class Callbacks(unittest.TestCase):
    def test_an_exception_in_a_callback_stops_the_walk_and_is_raised(self):
        from privdomain import store as st
        with pd.Store() as s:
            for i in range(5):
                s.ensure_user("phone", str(i))
            seen = []

            def body(_u, uid):
                seen.append(uid)
                if uid == 2:
                    raise KeyError("stop here")
                return uid
            col = st._Collector()
            status = st._store_foreach_user(s._handle(),
                                            st.USER_FN(col.wrap(body)), None)
            self.assertEqual(status, 0)
            self.assertEqual(seen, [1, 2])
            with self.assertRaises(KeyError):
                col.finish()


class Times(unittest.TestCase):
    def test_datetimes_dates_and_seconds_are_the_same_time(self):
        with pd.Store() as s:
            u = s.ensure_user("phone", "1").id
            aware = datetime.datetime(2023, 11, 14, 22, 13, 20,
                                      tzinfo=datetime.timezone.utc)
            s.record_order("o1", 1, u, aware, 1)
            s.record_order("o2", 2, u, datetime.datetime(2023, 11, 15), 1)
            s.record_order("o3", 3, u, datetime.date(2023, 11, 16), 1)
            shanghai = datetime.timezone(datetime.timedelta(hours=8))
            s.record_order("o4", 4, u, datetime.datetime(
                2023, 11, 17, 8, 0, tzinfo=shanghai), 1)
            info = s.user_info(u, datetime.date(2024, 1, 1))
            self.assertEqual(info.first_purchase, T0)
            self.assertEqual(info.last_purchase, 1700179200)  # 11-17 00:00Z
            self.assertEqual(pd.to_datetime(T0), aware)

    def test_a_float_time_is_a_type_error(self):
        with pd.Store() as s:
            u = s.ensure_user("phone", "1").id
            with self.assertRaises(TypeError):
                s.record_order("o1", 1, u, float(T0), 1)


class Money(unittest.TestCase):
    def test_decimal_is_converted_with_the_currency_exponent(self):
        with pd.Store(currency_exponent=2) as s:
            self.assertEqual(s.to_minor(Decimal("12.34")), 1234)
            self.assertEqual(s.to_minor(Decimal("12")), 1200)
            self.assertEqual(s.to_minor(Decimal("1.2E+1")), 1200)
        with pd.Store(currency_exponent=0) as s:
            self.assertEqual(s.to_minor(Decimal("12")), 12)

    def test_a_fraction_of_a_minor_unit_is_rejected(self):
        with pd.Store(currency_exponent=2) as s:
            u = s.ensure_user("phone", "1").id
            with self.assertRaisesRegex(pd.OutOfRange, "minor unit"):
                s.record_order("o1", 1, u, T0, Decimal("0.001"))
            with self.assertRaises(pd.OutOfRange):
                s.to_minor(Decimal("NaN"))
            self.assertEqual(s.stats().orders, 0)

    def test_floats_are_refused_for_money(self):
        with pd.Store() as s:
            with self.assertRaises(TypeError):
                s.to_minor(12.5)

    def test_negative_amounts_are_out_of_range_from_the_library(self):
        with pd.Store() as s:
            u = s.ensure_user("phone", "1").id
            with self.assertRaises(pd.OutOfRange) as cm:
                s.record_order("o1", 1, u, T0, Decimal("-1"))
            self.assertIn("amount", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
