#!/usr/bin/env python3
"""docs/pd.1 documents every subcommand of pd and renders as a man page.

Usage: manpage_test.py MAIN_C PD_1
The subcommands are the names in the `commands[]` dispatch table of
examples/pd/main.c; each must have its own `.B name` paragraph tag in the
COMMANDS section of the man page. When `man` is installed the page must
also render without warnings.
"""
import re
import shutil
import subprocess
import sys


def main():
    main_c, page = sys.argv[1], sys.argv[2]
    src = open(main_c, encoding="utf-8").read()
    table = re.search(r"commands\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if not table:
        print(f"{main_c}: no commands[] table found")
        return 1
    names = re.findall(r'\{\s*"([a-z0-9-]+)"\s*,', table.group(1))
    if not names:
        print(f"{main_c}: the commands[] table names no command")
        return 1
    text = open(page, encoding="utf-8").read()
    section = text.split(".SH COMMANDS", 1)[-1].split("\n.SH ", 1)[0]
    documented = re.findall(r"^\.TP\n\.B ([a-z0-9-]+)$", section, re.M)
    failed = False
    for n in names:
        if n not in documented:
            print(f"{page}: subcommand '{n}' is not documented under COMMANDS")
            failed = True
    for n in documented:
        if n not in names:
            print(f"{page}: documents '{n}', which pd does not have")
            failed = True
    if shutil.which("man"):
        r = subprocess.run(["man", "-l", "--warnings", page],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin",
                                "LC_ALL": "C.UTF-8"})
        if r.returncode != 0 or r.stderr.strip():
            print(f"man -l {page} failed: {r.stderr.decode(errors='replace')}")
            failed = True
        elif b"SYNOPSIS" not in r.stdout:
            print(f"man -l {page} rendered no SYNOPSIS")
            failed = True
    else:
        print("man is not installed: rendering not checked")
    if not failed:
        print(f"pd.1 documents all {len(names)} subcommands: {' '.join(names)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
