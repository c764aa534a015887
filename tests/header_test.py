#!/usr/bin/env python3
"""Each public header must stand on its own, in C99 and in C++11.

    header_test.py --lang c|c++ --include-dir DIR [--cc=ARG ...] HEADER ...

HEADER ... is the public_headers list of include/privdomain/meson.build.
Rules checked (each failure prints the header and the compiler's words):
  - every *.h in DIR/privdomain is in that list (so it gets installed) and
    is included by the umbrella header privdomain.h;
  - every PD_API declaration sits between PD_BEGIN_DECLS and PD_END_DECLS,
    so C++ callers link against the C names;
  - each header, included alone (twice, to exercise its include guard),
    compiles with -std=c99 -pedantic -Wall -Wextra -Werror
    (-Wstrict-prototypes too: "f()" is no prototype in C), or with
    -std=c++11 -pedantic -Wall -Wextra -Werror for --lang c++.
--cc=ARG, repeated, is the compiler command meson found. Without it,
--lang c++ exits 77 (meson's "skipped") unless CI=true, where a missing
C++ compiler is a failure.
"""

import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
UMBRELLA = "privdomain.h"
FLAGS = {
    "c": ["-x", "c", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror",
          "-Wstrict-prototypes"],
    "c++": ["-x", "c++", "-std=c++11", "-pedantic", "-Wall", "-Wextra",
            "-Werror"],
}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def check_listing(inc_dir, listed):
    """Headers on disk vs the meson list and the umbrella header."""
    problems = []
    on_disk = sorted(f for f in os.listdir(inc_dir) if f.endswith(".h"))
    names = [os.path.basename(h) for h in listed]
    for f in on_disk:
        if f not in names:
            problems.append("%s is not in public_headers of "
                            "include/privdomain/meson.build" % f)
    umbrella = os.path.join(inc_dir, UMBRELLA)
    with open(umbrella, encoding="utf-8") as fh:
        text = strip_comments(fh.read())
    included = set(re.findall(r'^\s*#\s*include\s*[<"](?:privdomain/)?'
                              r'([^">]+)[">]', text, flags=re.M))
    for f in on_disk:
        if f != UMBRELLA and f not in included:
            problems.append("%s is not included by %s" % (f, UMBRELLA))
    return problems


def check_decls(path):
    """PD_API declarations outside PD_BEGIN_DECLS ... PD_END_DECLS."""
    problems = []
    with open(path, encoding="utf-8") as fh:
        text = strip_comments(fh.read())
    depth = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if re.match(r"\s*#", line):
            continue
        if re.search(r"\bPD_BEGIN_DECLS\b", line):
            depth += 1
        if re.search(r"\bPD_API\b", line) and depth == 0:
            problems.append("%s:%d: PD_API declaration outside "
                            "PD_BEGIN_DECLS/PD_END_DECLS" %
                            (os.path.basename(path), lineno))
        if re.search(r"\bPD_END_DECLS\b", line):
            depth -= 1
    return problems


def compile_alone(cmd, lang, inc_root, header, workdir):
    name = os.path.basename(header)
    src = os.path.join(workdir, name + (".c" if lang == "c" else ".cpp"))
    with open(src, "w", encoding="utf-8") as fh:
        fh.write("#include <privdomain/%s>\n#include <privdomain/%s>\n"
                 "/* ISO C forbids an empty translation unit. */\n"
                 "typedef int pd_header_test_nonempty;\n" % (name, name))
    argv = cmd + FLAGS[lang] + ["-I", inc_root, "-c", src, "-o",
                                src + ".o"]
    r = subprocess.run(argv, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if r.returncode != 0:
        return "%s does not compile alone as %s:\n  $ %s\n%s" % (
            name, lang, " ".join(argv), r.stdout.rstrip())
    return None


def main(argv):
    lang, inc_root, cmd, headers = "c", None, [], []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--lang":
            lang = args[i + 1]
            i += 1
        elif a == "--include-dir":
            inc_root = args[i + 1]
            i += 1
        elif a.startswith("--cc="):
            cmd.append(a[len("--cc="):])
        else:
            headers.append(a)
        i += 1
    if lang not in FLAGS or inc_root is None or not headers:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if not cmd:
        if lang == "c++" and os.environ.get("CI") != "true":
            print("SKIP: no C++ compiler found by meson; the C++ header "
                  "test needs one (apt-get install g++)")
            return SKIP
        print("FAIL: no %s compiler given" % lang)
        return 1

    inc_dir = os.path.join(inc_root, "privdomain")
    problems = check_listing(inc_dir, headers)
    for h in headers:
        problems += check_decls(h)
    with tempfile.TemporaryDirectory(prefix="pd-header-test-") as work:
        for h in headers:
            p = compile_alone(cmd, lang, inc_root, h, work)
            if p:
                problems.append(p)
    if problems:
        print("FAIL: public headers (%s):" % lang)
        for p in problems:
            print("  - " + p)
        return 1
    print("ok: %d public headers each compile alone as %s (%s)" % (
        len(headers), lang, " ".join(FLAGS[lang][2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
