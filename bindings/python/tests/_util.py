"""Shared helpers of the binding tests."""

import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.normpath(os.path.join(HERE, ".."))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

# Run from a source tree without installing: use the package beside us.
if importlib.util.find_spec("privdomain") is None:
    sys.path.insert(0, PACKAGE_ROOT)


def dataset(*names):
    """Paths of shared data sets; skips the test when missing (fails when
    env CI=true)."""
    base = os.environ.get("PD_DATASETS") or os.path.join(
        REPO, "..", "shared", "datasets")
    paths = [os.path.join(base, n) for n in names]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        msg = f"data sets missing: {missing} (set PD_DATASETS)"
        if os.environ.get("CI") == "true":
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)
    return paths


def child_env(**extra):
    """Environment for a child Python that must import the same package."""
    import privdomain
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(
        privdomain.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env
