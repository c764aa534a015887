"""examples/clv_dask.py: a local Dask cluster of worker processes
summarises partitions, merges the partials, fits once, predicts on the
workers, and gets exactly the single-process result.

Dask comes from Debian's python3-distributed, which installs for the system
interpreter (/usr/bin/python3); the default python3 may be another one. The
bindings are pure ctypes, so the example runs under whichever interpreter
can import distributed: PD_DASK_PYTHON, this one, or /usr/bin/python3. None:
skipped with a message, or a failure when CI=true."""

from _util import HERE, child_env, dataset  # first: finds the package

import os
import subprocess
import sys
import unittest

EXAMPLE = os.path.join(HERE, "..", "examples", "clv_dask.py")


def dask_python():
    """An interpreter that can import dask.distributed, or None."""
    candidates = [os.environ.get("PD_DASK_PYTHON"), sys.executable,
                  "/usr/bin/python3"]
    for exe in candidates:
        if not exe or not os.path.exists(exe):
            continue
        p = subprocess.run([exe, "-c", "import dask.distributed"],
                           capture_output=True)
        if p.returncode == 0:
            return exe
    return None


class ClvDask(unittest.TestCase):
    def test_the_cluster_result_is_identical_to_one_process(self):
        [path] = dataset("CDNOW_sample.txt")
        exe = dask_python()
        if exe is None:
            msg = ("dask.distributed not found for PD_DASK_PYTHON, "
                   f"{sys.executable} or /usr/bin/python3 (Debian: apt-get "
                   "install python3-distributed)")
            if os.environ.get("CI") == "true":
                self.fail(msg)
            self.skipTest(msg)
        p = subprocess.run([exe, EXAMPLE, path, "--workers", "3",
                            "--partitions", "6"],
                           capture_output=True, text=True, env=child_env(),
                           timeout=180)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout
        self.assertIn("6 partitions on 3 Dask workers", out)
        # Customers cut by a partition boundary are in two partials.
        counts = [int(line.split()[2]) for line in out.splitlines()
                  if line.split()[:1] and line.split()[0].isdigit()
                  and len(line.split()) == 4]
        self.assertEqual(len(counts), 6)
        self.assertGreater(sum(counts), 2357)
        self.assertIn("merged: 2357 customers", out)
        self.assertIn("BG/NBD: r=0.2426, alpha=4.414, a=0.7929, b=2.426",
                      out)
        self.assertIn("Gamma-Gamma: p=6.25, q=3.744, gamma=15.44", out)
        self.assertTrue(out.rstrip().endswith(
            "identical to single process: yes"), out)


if __name__ == "__main__":
    unittest.main()
