#!/usr/bin/env bash
# Fail if the ABI of the current tree differs in any way from the committed
# baseline abi/libprivdomain.so.<major>.abi (libabigail's abidiff, harmless
# changes included). Usage: abi/check.sh   (exit 0 same, 1 changed, 2 error)
# shellcheck source=abi/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Constants first: abidiff cannot see enum values passed as int32_t.
constants_ok=0
python3 "$(dirname "${BASH_SOURCE[0]}")/constants.py" || constants_ok=1

abi_describe "$abi_work/current.abi"
baseline="abi/$abi_soname.abi"
if [ ! -f "$baseline" ]; then
  echo "abi: FAIL: no baseline $baseline for $abi_soname." >&2
  echo "abi: a new ABI major needs its baseline: run abi/update.sh and commit it." >&2
  exit 1
fi

set +e
abidiff --harmless --no-show-locs "$baseline" "$abi_work/current.abi" \
  >"$abi_work/report.txt" 2>&1
status=$?
set -e
# abidiff's status is a bit set: 1 error, 2 usage, 4 change, 8 incompatible.
if [ $((status & 3)) -ne 0 ]; then
  cat "$abi_work/report.txt" >&2
  echo "abi: abidiff failed (status $status)" >&2
  exit 2
fi
if [ "$status" -ne 0 ] || [ -s "$abi_work/report.txt" ]; then
  cat "$abi_work/report.txt"
  kind="changed"
  [ $((status & 8)) -ne 0 ] && kind="changed INCOMPATIBLY"
  cat <<MSG
abi: FAIL: the ABI of $abi_soname has $kind (report above, baseline $baseline).
abi: If the change is deliberate: until 1.0.0 record it by running
abi:   abi/update.sh
abi: in the same commit, with a CHANGELOG line saying what changed. After 1.0.0
abi: only additions are allowed within $abi_soname (new symbols in a new
abi: version node of src/privdomain.map); anything else needs a new ABI major.
MSG
  exit 1
fi
[ "$constants_ok" -eq 0 ] || exit 1
echo "abi: ok: $abi_soname matches $baseline"
