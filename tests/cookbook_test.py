#!/usr/bin/env python3
"""Every C snippet of docs/COOKBOOK.md compiles.

Usage: cookbook_test.py COOKBOOK_MD INCLUDE_DIR [--cc=WORD ...]
Each ```c block is written to its own file and compiled as one translation
unit with -std=c11 -Wall -Wextra -Werror -c against INCLUDE_DIR (the
source tree's public headers), the way a vendor would paste it. A block
that does not compile fails the test with the compiler's message. Fewer
than ten recipes with code fails too (the cookbook promises ten).
"""
import os
import re
import subprocess
import sys
import tempfile


def main():
    md, include_dir = sys.argv[1], sys.argv[2]
    cc = [a[len("--cc="):] for a in sys.argv[3:] if a.startswith("--cc=")]
    cc = cc or [os.environ.get("CC", "cc")]
    text = open(md, encoding="utf-8").read()
    blocks = re.findall(r"^```c\n(.*?)^```$", text, re.S | re.M)
    recipes = re.findall(r"^## (\d+)\. ", text, re.M)
    failed = 0
    if len(recipes) < 10:
        print(f"{md}: {len(recipes)} numbered recipes, expected 10")
        failed += 1
    with tempfile.TemporaryDirectory() as tmp:
        for i, code in enumerate(blocks, 1):
            src = os.path.join(tmp, f"snippet{i}.c")
            with open(src, "w", encoding="utf-8") as f:
                f.write(code)
            cmd = cc + ["-std=c11", "-Wall", "-Wextra", "-Werror",
                        "-I", include_dir, "-c", src,
                        "-o", os.path.join(tmp, f"snippet{i}.o")]
            r = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            first = code.strip().splitlines()[-1][:60]
            if r.returncode != 0:
                failed += 1
                print(f"snippet {i} (ending '{first}') does not compile:")
                print(r.stdout.decode(errors="replace"))
            else:
                print(f"snippet {i}: ok")
    if not blocks:
        print(f"{md}: no ```c blocks")
        failed += 1
    print(f"{len(blocks)} snippets, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
