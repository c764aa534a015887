#!/usr/bin/env python3
"""The values of the public constants are part of the ABI: enum values are
passed as int32_t, so abidiff cannot see them. This script lists every
integer constant the public headers define (enum members and #define
PD_NAME <integer expression>), asks the C compiler for their values, and
compares them with the committed baseline abi/constants.txt.

  abi/constants.py            check: exit 1 if a baseline constant is gone or
                              has another value, or a new one is unrecorded
  abi/constants.py --update   rewrite the baseline (a deliberate change, in
                              the same commit as a CHANGELOG line)
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = os.path.join(ROOT, "include")
BASELINE = os.path.join(ROOT, "abi", "constants.txt")

ENUM_BODY = re.compile(r"\benum\b[^{;]*\{(.*?)\}", re.S)
MEMBER = re.compile(r"^\s*(PD_[A-Z0-9_]+)\b", re.M)
DEFINE = re.compile(r"^#define\s+(PD_[A-Z0-9_]+)\s+(\(?[-0-9A-Za-z_ +*<>()]*\)?)\s*(?:/\*.*)?$", re.M)
NOT_VALUES = {"PD_API", "PD_BEGIN_DECLS", "PD_END_DECLS", "PD_STATIC",
              "PD_BUILDING_LIBRARY"}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def constant_names():
    names = set()
    hdir = os.path.join(INCLUDE, "privdomain")
    for f in sorted(os.listdir(hdir)):
        if not f.endswith(".h"):
            continue
        text = open(os.path.join(hdir, f), encoding="utf-8").read()
        body = strip_comments(text)
        for m in ENUM_BODY.finditer(body):
            names.update(MEMBER.findall(m.group(1)))
        for name, value in DEFINE.findall(body):
            # integer-valued macros only (not strings, not function-like)
            # the version macros change with every release by design
            if (name in NOT_VALUES or name.endswith("_H") or not value
                    or name.startswith("PD_VERSION_")):
                continue
            if re.search(r"[0-9]|PD_|INT64_C|UINT", value):
                names.add(name)
    return sorted(names)


def values(names):
    cc = os.environ.get("CC", "cc").split()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "c.c")
        exe = os.path.join(tmp, "c")
        with open(src, "w") as out:
            out.write("#include <stdio.h>\n#include <privdomain/privdomain.h>\n")
            out.write("int main(void) {\n")
            for n in names:
                out.write(f'  printf("%s %lld\\n", "{n}", (long long)({n}));\n')
            out.write("  return 0;\n}\n")
        subprocess.run(cc + ["-std=c11", "-I", INCLUDE, src, "-o", exe],
                       check=True)
        out = subprocess.run([exe], check=True, capture_output=True,
                             text=True).stdout
    return dict(line.split() for line in out.splitlines())


def main():
    current = values(constant_names())
    if "--update" in sys.argv[1:]:
        with open(BASELINE, "w") as f:
            f.write("# name value: public constants of libprivdomain "
                    "(abi/constants.py --update)\n")
            for n in sorted(current):
                f.write(f"{n} {current[n]}\n")
        print(f"constants: baseline written ({len(current)} constants)")
        return 0
    baseline = {}
    for line in open(BASELINE, encoding="utf-8"):
        if line.strip() and not line.startswith("#"):
            n, v = line.split()
            baseline[n] = v
    bad = []
    for n, v in sorted(baseline.items()):
        if n not in current:
            bad.append(f"{n}: removed (baseline {v})")
        elif current[n] != v:
            bad.append(f"{n}: value {current[n]}, baseline {v} (renumbered)")
    new = sorted(set(current) - set(baseline))
    for n in new:
        bad.append(f"{n}: new constant {current[n]} not in the baseline")
    if bad:
        print("constants: FAIL\n  " + "\n  ".join(bad))
        print("constants: values are never renumbered; a deliberate addition "
              "is recorded with abi/update.sh (or abi/constants.py --update) "
              "and a CHANGELOG line")
        return 1
    print(f"constants: ok ({len(current)} constants match abi/constants.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
