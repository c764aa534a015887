/* Sorting 64-bit keys by their digits. */
#ifndef PD_CORE_RADIX_SORT_H
#define PD_CORE_RADIX_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

/* Sorts key[0..n) ascending, stably, carrying idx[] along when it is not
 * NULL (idx[i] moves with key[i]). Equal keys keep their input order.
 *
 * Cost: a pass to see whether the keys are already in order (then nothing
 * moves), else a least-significant-digit radix sort, 11 bits a pass, that
 * skips the passes whose digit is the same in every key: keys below 2^33
 * take 3 passes, not 6. A few keys are sorted by insertion.
 *
 * Scratch: n keys (and n indices) and 96 KiB of counts from `a`, freed
 * before returning. Returns 0, or -1 out of memory with key[] and idx[]
 * unchanged. */
int pd_radix_sort_u64(const pd_allocator *a, uint64_t *key, size_t *idx,
                      size_t n);

#endif
