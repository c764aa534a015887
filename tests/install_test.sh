#!/usr/bin/env bash
# Install libprivdomain into a temporary prefix and use it the way a
# downstream project would: through pkg-config, against the shared library
# and (pkg-config --static) against libprivdomain.a, in C and in C++.
#
# Usage: tests/install_test.sh        (from anywhere; exit 0 ok, 1 failed)
# Uses $CC (default cc) and $CXX (default c++; the C++ step is skipped when
# absent unless CI=true).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pd-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cc=${CC:-cc}
cxx=${CXX:-c++}
failures=0

fail() { echo "install test: FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "install test: ok: $*"; }

echo "install test: building into $work/build, installing to $prefix"
if ! meson setup "$work/build" "$root" --prefix "$prefix" -Dbench=false \
     >"$work/setup.log" 2>&1; then
  cat "$work/setup.log"
  echo "install test: FAIL: meson setup"
  exit 1
fi
# Only the installed targets: the install test must not wait for the tests.
if ! meson compile -C "$work/build" privdomain:shared_library \
     privdomain:static_library pd:executable >"$work/compile.log" 2>&1 \
   || ! meson install -C "$work/build" --no-rebuild --tags runtime,devel \
     >"$work/install.log" 2>&1; then
  cat "$work/compile.log" "$work/install.log" 2>/dev/null || true
  echo "install test: FAIL: build or install"
  exit 1
fi

pc=$(find "$prefix" -name privdomain.pc -path '*/pkgconfig/*' | head -n1)
if [ -z "$pc" ]; then
  echo "install test: FAIL: privdomain.pc not installed"
  exit 1
fi
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir privdomain)
includedir=$(pkg-config --variable=includedir privdomain)

# Every public header of the source tree is installed.
for h in "$root"/include/privdomain/*.h; do
  [ -f "$includedir/privdomain/$(basename "$h")" ] \
    || fail "header $(basename "$h") not installed (public_headers list?)"
done

# The shared object and its links: libprivdomain.so -> .so.<major> -> real.
# The ABI major is the one meson.build declares.
major=$(sed -n "s/^abi_major *= *'\([0-9][0-9]*\)'.*/\1/p" "$root/meson.build")
soname=$(LC_ALL=C readelf -d "$libdir/libprivdomain.so" \
         | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ -n "$major" ] && [ "$soname" = "libprivdomain.so.$major" ]; then
  ok "SONAME $soname"
else
  fail "SONAME is '$soname', expected libprivdomain.so.${major:-?} (abi_major in meson.build)"
fi
[ -e "$libdir/$soname" ] || fail "$soname not installed"
[ -f "$libdir/libprivdomain.a" ] || fail "libprivdomain.a not installed"

cat >"$work/consumer.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include <privdomain/privdomain.h>

int main(void) {
  const char *v = pd_version_string();
  if (strcmp(v, PD_VERSION_STRING) != 0 || pd_version() != PD_VERSION_NUMBER) {
    fprintf(stderr, "header %s but library %s\n", PD_VERSION_STRING, v);
    return 1;
  }
  printf("libprivdomain %s: %s\n", v, pd_status_str(PD_E_NOMEM));
  return 0;
}
EOF
cp "$work/consumer.c" "$work/consumer.cpp"

# Shared: the program must find the library only through LD_LIBRARY_PATH.
# shellcheck disable=SC2046
if "$cc" -std=c11 -Wall -Wextra -Werror -o "$work/consumer" "$work/consumer.c" \
     $(pkg-config --cflags --libs privdomain); then
  if out=$(LD_LIBRARY_PATH="$libdir" "$work/consumer"); then
    ok "shared C consumer runs: $out"
  else
    fail "shared C consumer exits non-zero"
  fi
  LC_ALL=C readelf -d "$work/consumer" | grep -qF "[$soname]" \
    || fail "shared consumer does not need $soname"
else
  fail "shared C consumer does not compile/link with pkg-config flags"
fi

# Static: pkg-config --static gives the private libraries (-lm, -lpthread);
# -l:libprivdomain.a picks the archive although the .so sits beside it.
static_libs=$(pkg-config --static --libs privdomain \
              | sed 's/-lprivdomain\b/-l:libprivdomain.a/')
# shellcheck disable=SC2046,SC2086
if "$cc" -std=c11 -Wall -Wextra -Werror -o "$work/consumer_static" \
     "$work/consumer.c" $(pkg-config --cflags privdomain) $static_libs; then
  if out=$(env -u LD_LIBRARY_PATH "$work/consumer_static"); then
    ok "static C consumer runs: $out"
  else
    fail "static C consumer exits non-zero"
  fi
  if LC_ALL=C readelf -d "$work/consumer_static" | grep -q 'libprivdomain'; then
    fail "static consumer still needs the shared library"
  fi
else
  fail "static C consumer does not link with pkg-config --static flags"
fi

# C++: the headers' extern "C" blocks let a C++ program link the C names.
if command -v "$cxx" >/dev/null 2>&1; then
  # shellcheck disable=SC2046
  if "$cxx" -std=c++11 -Wall -Wextra -Werror -o "$work/consumer_cpp" \
       "$work/consumer.cpp" $(pkg-config --cflags --libs privdomain) \
     && out=$(LD_LIBRARY_PATH="$libdir" "$work/consumer_cpp"); then
    ok "C++ consumer runs: $out"
  else
    fail "C++ consumer does not build or run"
  fi
elif [ "${CI:-}" = "true" ]; then
  fail "no C++ compiler ($cxx) in CI"
else
  echo "install test: SKIP C++ consumer: no C++ compiler ($cxx)"
fi

if [ "$failures" -ne 0 ]; then
  echo "install test: $failures failure(s)"
  exit 1
fi
echo "install test: all ok"
