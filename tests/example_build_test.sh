#!/usr/bin/env bash
# Build examples/pos_checkout.c the way a POS vendor would: against an
# installed libprivdomain, with nothing but
#     cc pos_checkout.c $(pkg-config --cflags --libs privdomain)
# then run it (it checks its own results and exits 1 if any differs).
#
# Usage: tests/example_build_test.sh   (from anywhere; exit 0 ok, 1 failed)
# Uses $CC (default cc). PD_EXAMPLE_PREFIX=/prefix skips the build and uses
# that installed prefix.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pd-example.XXXXXX")
trap 'rm -rf "$work"' EXIT
cc=${CC:-cc}

prefix=${PD_EXAMPLE_PREFIX:-}
if [ -z "$prefix" ]; then
  prefix="$work/prefix"
  echo "example build test: installing libprivdomain to $prefix"
  if ! { meson setup "$work/build" "$root" --prefix "$prefix" -Dbench=false \
         && meson compile -C "$work/build" privdomain:shared_library \
              privdomain:static_library pd \
         && meson install -C "$work/build" --no-rebuild --tags runtime,devel; } \
       >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    echo "example build test: FAIL: building or installing the library"
    exit 1
  fi
fi
pc=$(find "$prefix" -name privdomain.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || { echo "example build test: FAIL: no privdomain.pc"; exit 1; }
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")

# Only the example file is copied: it must not need anything else of the
# source tree.
cp "$root/examples/pos_checkout.c" "$work/"
cd "$work"
flags="$(pkg-config --cflags --libs privdomain)"
echo "\$ $cc -std=c11 -Wall -Wextra -Werror -o pos_checkout pos_checkout.c $flags"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror -o pos_checkout pos_checkout.c $flags
mkdir -p data
LD_LIBRARY_PATH="$(pkg-config --variable=libdir privdomain)" ./pos_checkout data
if ls data/pos_checkout.* >/dev/null 2>&1; then
  echo "example build test: FAIL: pos_checkout left its files behind"
  exit 1
fi
echo "example build test: ok"
