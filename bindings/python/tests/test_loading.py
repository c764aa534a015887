"""Loading the library: by SONAME or PRIVDOMAIN_LIBRARY, version checked;
status codes become exceptions of a hierarchy."""

from _util import child_env  # first: finds the package

import subprocess
import sys
import unittest

import privdomain as pd
from privdomain import _lib, errors


class Loading(unittest.TestCase):
    def test_the_loaded_version_is_the_one_written_for(self):
        major, minor, _ = (int(p) for p in pd.library_version().split("."))
        self.assertEqual((major, minor), pd.WRITTEN_FOR)

    def test_another_major_minor_is_an_import_error(self):
        with self.assertRaisesRegex(ImportError, r"written for 9\.9\.x"):
            _lib._load(written_for=(9, 9))

    def test_a_missing_library_is_an_import_error_naming_the_variable(self):
        env = child_env(PRIVDOMAIN_LIBRARY="/nonexistent/libpd.so")
        p = subprocess.run([sys.executable, "-c", "import privdomain"],
                           env=env, capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError", p.stderr)
        self.assertIn("PRIVDOMAIN_LIBRARY", p.stderr)


class Errors(unittest.TestCase):
    def test_every_error_status_has_its_own_class(self):
        expected = {-1: pd.InvalidArgument, -2: pd.NotFound,
                    -3: pd.Duplicate, -4: pd.OutOfMemory, -5: pd.IOFailure,
                    -6: pd.Corrupt, -7: pd.VersionMismatch,
                    -8: pd.NumericError, -9: pd.Misuse, -10: pd.OutOfRange,
                    -11: pd.Overflow, -12: pd.Erased, -13: pd.Conflict,
                    -14: pd.InvalidUtf8, -15: pd.NoConvergence, -16: pd.Full}
        for status, cls in expected.items():
            with self.subTest(status=status):
                e = errors.error_for(status, "msg")
                self.assertIs(type(e), cls)
                self.assertEqual(e.status, status)
                self.assertIsInstance(e, pd.PrivDomainError)
                self.assertEqual(e.message, "msg")

    def test_errors_are_also_the_matching_builtin_exceptions(self):
        self.assertTrue(issubclass(pd.InvalidArgument, ValueError))
        self.assertTrue(issubclass(pd.OutOfRange, ValueError))
        self.assertTrue(issubclass(pd.NotFound, LookupError))
        self.assertTrue(issubclass(pd.OutOfMemory, MemoryError))
        self.assertTrue(issubclass(pd.IOFailure, OSError))

    def test_without_a_handle_message_the_status_text_is_used(self):
        e = errors.error_for(-2)
        self.assertEqual(e.message, pd.status_str(-2))
        self.assertIn("PD_E_NOT_FOUND", str(e))

    def test_an_unknown_status_is_a_plain_privdomain_error(self):
        e = errors.error_for(-99)
        self.assertIs(type(e), pd.PrivDomainError)
        self.assertEqual(e.status, -99)

    def test_ok_is_true_and_replayed_is_false(self):
        self.assertIs(errors.check(0), True)
        self.assertIs(errors.check(1), False)
        with self.assertRaises(pd.Conflict):
            errors.check(-13)


if __name__ == "__main__":
    unittest.main()
