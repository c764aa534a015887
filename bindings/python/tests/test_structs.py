"""Every ctypes mirror has the C struct's size and field offsets (from a C
program compiled against the headers here)."""

from _util import REPO  # first: finds the package

import ctypes
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import importlib

import privdomain  # noqa: F401
from privdomain import _structs

# Modules whose mirrors register themselves in _structs.ALL when imported.
for _name in ("metrics", "consent", "pressure", "purge", "trust",
              "store_summary", "followup", "retention_metrics",
              "persist", "funnel", "repurchase", "referral_metrics",
              "guide_metrics", "segments", "campaign"):
    try:
        importlib.import_module("privdomain." + _name)
    except ImportError:
        pass



def _compiler():
    """The C compiler command (a list): PRIVDOMAIN_TEST_CC (set by meson to
    the build's compiler), CC, or cc/gcc/clang on the PATH."""
    for cc in (os.environ.get("PRIVDOMAIN_TEST_CC"), os.environ.get("CC"),
               "cc", "gcc", "clang"):
        if cc and shutil.which(shlex.split(cc)[0]):
            return shlex.split(cc)
    return None


def _include_dir():
    env = os.environ.get("PRIVDOMAIN_INCLUDE")
    if env:
        return env
    here = os.path.join(REPO, "include")
    if os.path.exists(os.path.join(here, "privdomain", "privdomain.h")):
        return here
    try:
        out = subprocess.run(["pkg-config", "--variable=includedir",
                              "privdomain"], capture_output=True, text=True,
                             check=True).stdout.strip()
        return out or None
    except (OSError, subprocess.CalledProcessError):
        return None


class StructLayout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cc, inc = _compiler(), _include_dir()
        if not cc or not inc:
            raise unittest.SkipTest("no C compiler or privdomain headers")
        lines = ["#include <stddef.h>", "#include <stdio.h>"]
        lines += [f"#include <privdomain/{h}>"
                  for h in sorted(_structs.HEADERS)]
        lines.append("int main(void) {")
        for name, st in _structs.ALL.items():
            lines.append(f'  printf("{name} %zu\\n", sizeof({name}));')
            for field, *_ in st._fields_:
                lines.append(f'  printf("{name}.{field} %zu\\n", '
                             f'offsetof({name}, {field}));')
        lines += ["  return 0;", "}"]
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "sizes.c")
            exe = os.path.join(tmp, "sizes")
            with open(src, "w") as f:
                f.write("\n".join(lines) + "\n")
            subprocess.run([*cc, "-std=c11", "-I", inc, src, "-o", exe],
                           check=True)
            out = subprocess.run([exe], capture_output=True, text=True,
                                 check=True).stdout
        cls.c = dict(line.rsplit(" ", 1) for line in out.splitlines())

    def test_every_struct_has_the_c_size(self):
        for name, st in _structs.ALL.items():
            with self.subTest(struct=name):
                self.assertEqual(ctypes.sizeof(st), int(self.c[name]))

    def test_every_field_has_the_c_offset(self):
        for name, st in _structs.ALL.items():
            for field, *_ in st._fields_:
                with self.subTest(field=f"{name}.{field}"):
                    self.assertEqual(getattr(st, field).offset,
                                     int(self.c[f"{name}.{field}"]))

    def test_every_struct_of_a_bound_header_is_mirrored(self):
        inc = _include_dir()
        headers = {"alloc.h", "store.h", "users.h", "channels.h",
                   "events.h", "guides.h", "fit.h", "spend.h",
                   "retention.h", "summary.h", "survival.h", "io.h"}
        headers |= _structs.HEADERS - {"privdomain.h"}
        for h in sorted(headers):
            with open(os.path.join(inc, "privdomain", h)) as f:
                declared = re.findall(r"typedef struct (pd_\w+) \{",
                                      f.read())
            for name in declared:
                with self.subTest(header=h, struct=name):
                    self.assertIn(name, _structs.ALL)


if __name__ == "__main__":
    unittest.main()
