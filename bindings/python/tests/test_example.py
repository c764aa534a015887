"""examples/clv_table.py runs end to end and reports the published CDNOW
fits."""

from _util import HERE, child_env, dataset  # first: finds the package

import os
import subprocess
import sys
import unittest



EXAMPLE = os.path.join(HERE, "..", "examples", "clv_table.py")


def run(*args):
    p = subprocess.run([sys.executable, EXAMPLE, *args], capture_output=True,
                       text=True, env=child_env())
    return p.returncode, p.stdout, p.stderr


class ClvTable(unittest.TestCase):
    def test_the_bundled_orders_give_a_sorted_table(self):
        code, out, err = run(os.path.join(HERE, "..", "examples",
                                          "orders.csv"), "--top", "5")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("BG/NBD: r="))
        table = lines[lines.index("") + 2:lines.index("") + 7]
        clv = [float(line.split()[-1]) for line in table]
        self.assertEqual(len(clv), 5)
        self.assertEqual(clv, sorted(clv, reverse=True))
        self.assertIn("300 customers", lines[-1])

    def test_the_cdnow_sample_gives_the_published_parameters(self):
        [path] = dataset("CDNOW_sample.txt")
        code, out, err = run(path, "--format", "cdnow-sample",
                             "--calibration-end", "1997-09-30")
        self.assertEqual(code, 0, err)
        self.assertIn("r=0.2426, alpha=4.414, a=0.7929, b=2.426", out)
        self.assertIn("(LL -9582.4, 2357 customers)", out)
        self.assertIn("p=6.25, q=3.744, gamma=15.44 (946 repeat", out)

    def test_customers_first_seen_on_the_last_day_are_left_out(self):
        # Three customers of orders.csv first buy on 2023-03-31 (T = 0).
        code, out, err = run(os.path.join(HERE, "..", "examples",
                                          "orders.csv"),
                             "--calibration-end", "2023-03-31")
        self.assertEqual(code, 0, err)
        self.assertIn("297 customers", out)
        self.assertIn("(3 customers first seen on the last day left out)",
                      out)

    def test_bad_input_is_a_one_line_error(self):
        code, out, err = run(os.path.join(HERE, "..", "examples",
                                          "orders.csv"),
                             "--format", "cdnow-sample",
                             "--calibration-end", "2023-12-31")
        self.assertEqual(code, 1)
        self.assertIn("PD_E_CORRUPT", err)


if __name__ == "__main__":
    unittest.main()
