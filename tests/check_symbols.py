#!/usr/bin/env python3
"""Check that the shared library exports exactly what the version script says.

    check_symbols.py LIBRARY MAPFILE [--soname NAME] [--headers H ...]

Rules checked (each failure prints what differs; exit status 1):
  - every name in a global section of MAPFILE starts with "pd_", is written
    out by name (no wildcards) and appears in one node only;
  - the defined dynamic symbols of LIBRARY are exactly those names, each
    bound to the node that lists it as its default version (name@@NODE);
  - the SONAME is NAME when --soname is given;
  - with --headers, the functions and objects the headers declare with PD_API
    are exactly the names in MAPFILE, so a declaration cannot be forgotten in
    the map nor a map entry outlive its declaration.

The ELF reader is plain Python so the check needs no binutils.
"""

import re
import struct
import sys

SHT_DYNAMIC = 6
SHT_DYNSYM = 11
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERSYM = 0x6FFFFFFF
SHN_UNDEF = 0
SHN_ABS = 0xFFF1
STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 1, 2, 10
STV_DEFAULT, STV_PROTECTED = 0, 3
DT_NULL, DT_SONAME = 0, 14
VERSYM_HIDDEN = 0x8000


class ElfError(Exception):
    pass


class Elf:
    """The parts of an ELF shared object this check needs: dynamic symbols,
    their version definitions, and the SONAME."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF":
            raise ElfError("%s: not an ELF file" % path)
        self.is64 = d[4] == 2
        self.end = "<" if d[5] == 1 else ">"
        if self.is64:
            (shoff,) = struct.unpack_from(self.end + "Q", d, 0x28)
            shentsize, shnum = struct.unpack_from(self.end + "HH", d, 0x3A)
        else:
            (shoff,) = struct.unpack_from(self.end + "I", d, 0x20)
            shentsize, shnum = struct.unpack_from(self.end + "HH", d, 0x2E)
        if shoff == 0 or shnum == 0:
            raise ElfError("%s: no section headers" % path)
        self.sections = [self._section(shoff + i * shentsize)
                         for i in range(shnum)]

    def _section(self, off):
        if self.is64:
            f = struct.unpack_from(self.end + "IIQQQQIIQQ", self.data, off)
        else:
            f = struct.unpack_from(self.end + "IIIIIIIIII", self.data, off)
        return {"type": f[1], "offset": f[4], "size": f[5], "link": f[6],
                "entsize": f[9]}

    def _find(self, sh_type):
        for s in self.sections:
            if s["type"] == sh_type:
                return s
        return None

    def _str(self, strtab, idx):
        start = strtab["offset"] + idx
        stop = self.data.index(b"\0", start)
        return self.data[start:stop].decode("utf-8", "replace")

    def verdefs(self):
        """Version index -> version node name (the first verdaux entry)."""
        out = {}
        sec = self._find(SHT_GNU_VERDEF)
        if sec is None:
            return out
        strtab = self.sections[sec["link"]]
        off = sec["offset"]
        while True:
            _, _, ndx, cnt, _, aux, nxt = struct.unpack_from(
                self.end + "HHHHIII", self.data, off)
            if cnt:
                (name,) = struct.unpack_from(self.end + "I", self.data,
                                             off + aux)
                out[ndx] = self._str(strtab, name)
            if nxt == 0:
                break
            off += nxt
        return out

    def exported(self):
        """Defined, visible dynamic symbols as {name: (version, is_default)}.

        The absolute symbols the linker emits to name each version node are
        left out; they are not part of the API."""
        sec = self._find(SHT_DYNSYM)
        if sec is None:
            return {}
        strtab = self.sections[sec["link"]]
        versym = self._find(SHT_GNU_VERSYM)
        vnames = self.verdefs()
        fmt = self.end + ("IBBHQQ" if self.is64 else "IIIBBH")
        size = struct.calcsize(fmt)
        out = {}
        for i in range(sec["size"] // size):
            f = struct.unpack_from(fmt, self.data, sec["offset"] + i * size)
            if self.is64:
                name, info, other, shndx = f[0], f[1], f[2], f[3]
            else:
                name, info, other, shndx = f[0], f[3], f[4], f[5]
            bind, vis = info >> 4, other & 3
            if shndx == SHN_UNDEF or bind not in (STB_GLOBAL, STB_WEAK,
                                                  STB_GNU_UNIQUE):
                continue
            if vis not in (STV_DEFAULT, STV_PROTECTED):
                continue
            sym = self._str(strtab, name)
            version, default = None, True
            if versym is not None:
                (v,) = struct.unpack_from(self.end + "H", self.data,
                                          versym["offset"] + 2 * i)
                default = not (v & VERSYM_HIDDEN)
                version = vnames.get(v & 0x7FFF)
            if shndx == SHN_ABS and sym in vnames.values():
                continue
            out[sym] = (version, default)
        return out

    def soname(self):
        sec = self._find(SHT_DYNAMIC)
        if sec is None:
            return None
        strtab = self.sections[sec["link"]]
        fmt = self.end + ("qQ" if self.is64 else "iI")
        size = struct.calcsize(fmt)
        for i in range(sec["size"] // size):
            tag, val = struct.unpack_from(fmt, self.data,
                                          sec["offset"] + i * size)
            if tag == DT_NULL:
                break
            if tag == DT_SONAME:
                return self._str(strtab, val)
        return None


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r"#[^\n]*", " ", text)


def parse_map(path, problems):
    """Version script -> {symbol: node} for the global sections."""
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    tokens = re.findall(r'[A-Za-z_.$*?\[\]0-9]+|[{};:]|"[^"]*"', text)
    names = {}
    i, n = 0, len(tokens)
    while i < n:
        node = ""
        if tokens[i] != "{":
            node = tokens[i]
            i += 1
        if i >= n or tokens[i] != "{":
            problems.append("%s: expected '{' after node %r" % (path, node))
            return names
        i += 1
        section = "global"
        while i < n and tokens[i] != "}":
            tok = tokens[i]
            if i + 1 < n and tokens[i + 1] == ":" and tok in ("global",
                                                              "local"):
                section = tok
                i += 2
                continue
            if tok == "extern":
                problems.append("%s: 'extern' blocks are not allowed; list "
                                "C symbols by name" % path)
            elif tok != ";" and section == "global":
                if re.search(r"[*?\[\]]", tok):
                    problems.append("%s: node %s: wildcard %r in global: "
                                    "list each symbol by name" %
                                    (path, node, tok))
                elif tok in names:
                    problems.append("%s: %s listed in both %s and %s" %
                                    (path, tok, names[tok], node))
                else:
                    names[tok] = node
            i += 1
        i += 1  # '}'
        while i < n and tokens[i] != ";":
            i += 1  # parent node name
        i += 1
    return names


PD_API_DECL = re.compile(r"\bPD_API\b([^;{}]*?)\b(\w+)\s*(\(|\[|;|=)")


def declared_names(headers):
    """Names declared with PD_API in the headers -> header file."""
    out = {}
    for h in headers:
        with open(h, encoding="utf-8") as f:
            text = strip_comments_c(f.read())
        for m in PD_API_DECL.finditer(text):
            out[m.group(2)] = h
    return out


def strip_comments_c(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r"^\s*#\s*define[^\n]*(\\\n[^\n]*)*", " ", text, flags=re.M)


def main(argv):
    args = argv[1:]
    soname, headers = None, []
    if "--headers" in args:
        k = args.index("--headers")
        headers = args[k + 1:]
        args = args[:k]
    if "--soname" in args:
        k = args.index("--soname")
        soname = args[k + 1]
        del args[k:k + 2]
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    lib, mapfile = args
    problems = []

    listed = parse_map(mapfile, problems)
    if not listed:
        problems.append("%s: no global symbols found" % mapfile)
    for sym in sorted(listed):
        if not sym.startswith("pd_"):
            problems.append("map lists %s, which lacks the pd_ prefix" % sym)

    try:
        elf = Elf(lib)
        exported = elf.exported()
    except (OSError, ElfError, struct.error, ValueError) as e:
        print("FAIL: cannot read %s: %s" % (lib, e))
        return 1

    for sym in sorted(set(exported) - set(listed)):
        problems.append("exported but not in the map: %s%s" % (
            sym, "@" + exported[sym][0] if exported[sym][0] else ""))
    for sym in sorted(set(listed) - set(exported)):
        problems.append("in the map (%s) but not exported: %s  (declared "
                        "with PD_API? compiled in?)" % (listed[sym], sym))
    for sym in sorted(set(listed) & set(exported)):
        version, default = exported[sym]
        if version != listed[sym] or not default:
            problems.append("%s carries version %s%s, expected %s@@%s" % (
                sym, version or "(none)",
                "" if default else " (not default)", sym, listed[sym]))

    if soname is not None:
        got = elf.soname()
        if got != soname:
            problems.append("SONAME is %s, expected %s" % (got, soname))

    if headers:
        declared = declared_names(headers)
        for sym in sorted(set(declared) - set(listed)):
            problems.append("declared PD_API in %s but missing from the map: "
                            "%s" % (declared[sym], sym))
        for sym in sorted(set(listed) - set(declared)):
            problems.append("in the map but declared PD_API in no public "
                            "header: %s" % sym)

    if problems:
        print("FAIL: exported symbols of %s do not match %s:" % (lib,
                                                               mapfile))
        for p in problems:
            print("  - " + p)
        return 1
    print("ok: %d symbols exported, all pd_*, matching %s%s" % (
        len(exported), mapfile, " and the headers" if headers else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
