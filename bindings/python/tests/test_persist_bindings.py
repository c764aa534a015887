"""Snapshots, the journal and checkpoints (persist.h) through the
binding."""

from _util import child_env  # noqa: F401  (first: finds the package)

import os
import tempfile
import unittest
from decimal import Decimal

import privdomain as pd
from privdomain import persist

T0 = 1700000000


def fill(store):
    u = store.ensure_user("phone", "1").id
    store.record_link("l1", u, "wecom", T0)
    store.record_order("o1", 1, u, T0, Decimal("12.30"))
    return u


class Snapshots(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.path = os.path.join(self.tmp.name, "brand.pds")

    def test_a_saved_store_loads_with_its_events_and_ids(self):
        with pd.Store(currency_exponent=2) as s:
            u = fill(s)
            persist.save(s, self.path)
            before = s.stats()
        with persist.load(self.path) as s:
            self.assertEqual(s.stats().events, before.events)
            self.assertEqual(s.user_info(u, T0).revenue, 1230)
            self.assertIs(s.record_order("o1", 1, u, T0, 1230), False)
            self.assertEqual(s.currency_exponent, 2)

    def test_bytes_round_trip_equals_the_file(self):
        with pd.Store() as s:
            u = fill(s)
            data = persist.to_bytes(s)
            persist.save(s, self.path)
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), data)
        with persist.from_bytes(data) as s:
            self.assertEqual(s.find_user("phone", "1"), u)

    def test_damaged_snapshots_are_corrupt_with_a_message(self):
        with pd.Store() as s:
            fill(s)
            data = bytearray(persist.to_bytes(s))
        data[len(data) // 2] ^= 0xFF
        with self.assertRaises((pd.Corrupt, pd.VersionMismatch)) as cm:
            persist.from_bytes(bytes(data))
        self.assertTrue(cm.exception.message)
        with self.assertRaises(pd.Corrupt):
            persist.from_bytes(bytes(data[:20]))
        with self.assertRaises(pd.IOFailure):
            persist.load(os.path.join(self.tmp.name, "missing.pds"))

    def test_a_pseudonymised_store_needs_its_key(self):
        key = bytes(range(32))
        with pd.Store(identity_key=key) as s:
            fill(s)
            persist.save(s, self.path)
        with self.assertRaises(pd.InvalidArgument):
            persist.load(self.path)
        with persist.load(self.path, identity_key=key) as s:
            self.assertEqual(s.find_user("phone", "1"), 1)


class Journal(unittest.TestCase):
    def test_changes_survive_a_reopen_and_a_checkpoint(self):
        with tempfile.TemporaryDirectory() as tmp:
            snap = os.path.join(tmp, "brand.pds")
            jour = os.path.join(tmp, "brand.pdj")
            s, rep = persist.open_store(snap, jour, sync="never")
            self.assertTrue(rep.created)
            with s:
                u = fill(s)
                persist.sync(s)
            s, rep = persist.open_store(snap, jour)
            with s:
                self.assertFalse(rep.created)
                self.assertEqual(rep.replayed, 3)   # user, link, order
                self.assertEqual(s.user_info(u, T0).orders, 1)
                persist.checkpoint(s)
                s.record_order("o2", 2, u, T0 + 1, 100)
            s, rep = persist.open_store(snap, jour)
            with s:
                self.assertEqual(rep.generation, 2)
                self.assertEqual(rep.replayed, 1)
                self.assertEqual(s.user_info(u, T0 + 1).revenue, 1330)
            c = persist.check(snap)
            self.assertEqual((c.file_kind, c.ok, c.error),
                             ("snapshot", True, None))
            j = persist.check(jour)
            self.assertEqual((j.file_kind, j.records), ("journal", 1))

    def test_checkpoint_without_a_journal_is_misuse(self):
        with pd.Store() as s:
            with self.assertRaises(pd.Misuse):
                persist.checkpoint(s)
            persist.sync(s)   # no journal: nothing to do

    def test_bad_options_are_invalid(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(pd.InvalidArgument):
                persist.open_store(os.path.join(tmp, "a"),
                                   os.path.join(tmp, "b"), sync="every_n")


if __name__ == "__main__":
    unittest.main()
