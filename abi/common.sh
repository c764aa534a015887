# shellcheck shell=bash disable=SC2034  # abi_soname is read by the caller
# Shared by abi/update.sh and abi/check.sh: build the shared library of the
# current tree in a throwaway directory and describe its ABI with abidw.
# Both scripts must describe the library the same way, or the comparison
# reports differences of method rather than of ABI.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

for tool in meson ninja abidw abidiff gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "abi: '$tool' not found (apt-get install meson ninja-build gcc abigail-tools)" >&2
    exit 2
  fi
done

abi_work=$(mktemp -d "${TMPDIR:-/tmp}/pd-abi.XXXXXX")
trap 'rm -rf "$abi_work"' EXIT

# Always gcc with -O2 -g (the shipped build type): DWARF from another
# compiler or optimisation level describes the same ABI differently.
# $1: where to write the ABI description. Sets abi_soname.
abi_describe() {
  local out=$1 lib
  CC=gcc meson setup "$abi_work/build" -Dbuildtype=debugoptimized \
    -Dbench=false -Dc_args=-fno-eliminate-unused-debug-types >"$abi_work/setup.log" 2>&1 \
    || { cat "$abi_work/setup.log" >&2; echo "abi: meson setup failed" >&2; exit 2; }
  meson compile -C "$abi_work/build" privdomain:shared_library \
    >"$abi_work/compile.log" 2>&1 \
    || { cat "$abi_work/compile.log" >&2; echo "abi: build failed" >&2; exit 2; }
  # The SONAME-named link (libprivdomain.so.<major>) is the ABI's name.
  lib=$(find "$abi_work/build" -maxdepth 1 -name 'libprivdomain.so.[0-9]*' \
        -type l | grep -E '/libprivdomain\.so\.[0-9]+$' | head -n1)
  if [ -z "$lib" ]; then
    echo "abi: no libprivdomain.so.<major> in the build" >&2
    exit 2
  fi
  abi_soname=$(basename "$lib")
  abidw --no-corpus-path --no-comp-dir-path --short-locs \
    --drop-private-types --headers-dir include/privdomain \
    "$lib" >"$out"
}
