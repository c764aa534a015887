#!/usr/bin/env bash
# Record the current ABI of libprivdomain as the baseline
# abi/libprivdomain.so.<major>.abi that abi/check.sh compares against.
# Run it only for a deliberate ABI change, in the same commit as the change
# and a CHANGELOG line saying what changed.
# shellcheck source=abi/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

abi_describe "$abi_work/new.abi"
mv "$abi_work/new.abi" "abi/$abi_soname.abi"
echo "abi: wrote abi/$abi_soname.abi ($(grep -c '<elf-symbol ' "abi/$abi_soname.abi") ELF symbols)"
python3 "$(dirname "${BASH_SOURCE[0]}")/constants.py" --update
