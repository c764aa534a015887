/* LSD radix sort of 64-bit keys (core/radix_sort.h). */
#include "core/radix_sort.h"

#include <string.h>

#define RADIX_BITS 11
#define RADIX_PASSES 6 /* 66 bits >= 64 */
#define INSERTION_MAX 64

static void insertion_sort(uint64_t *key, size_t *idx, size_t n) {
  for (size_t i = 1; i < n; i++) {
    uint64_t k = key[i];
    size_t x = idx ? idx[i] : 0, j = i;
    for (; j > 0 && key[j - 1] > k; j--) {
      key[j] = key[j - 1];
      if (idx) idx[j] = idx[j - 1];
    }
    key[j] = k;
    if (idx) idx[j] = x;
  }
}

static int in_order(const uint64_t *key, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (key[i] < key[i - 1]) return 0;
  return 1;
}

int pd_radix_sort_u64(const pd_allocator *a, uint64_t *key, size_t *idx,
                      size_t n) {
  if (in_order(key, n)) return 0;
  if (n <= INSERTION_MAX) {
    insertion_sort(key, idx, n);
    return 0;
  }
  const size_t radix = (size_t)1 << RADIX_BITS;
  uint64_t *tmp = pd_realloc_array(a, NULL, n, sizeof *tmp);
  size_t *tmp_idx = idx ? pd_realloc_array(a, NULL, n, sizeof *tmp_idx) : NULL;
  size_t *count = pd_calloc(a, RADIX_PASSES * radix, sizeof *count);
  if (!tmp || (idx && !tmp_idx) || !count) {
    pd_free(a, tmp);
    pd_free(a, tmp_idx);
    pd_free(a, count);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    for (int p = 0; p < RADIX_PASSES; p++)
      count[(size_t)p * radix + ((key[i] >> (p * RADIX_BITS)) & (radix - 1))]++;
  uint64_t *from = key, *to = tmp;
  size_t *from_idx = idx, *to_idx = tmp_idx;
  for (int p = 0; p < RADIX_PASSES; p++) {
    size_t *c = count + (size_t)p * radix;
    unsigned shift = (unsigned)(p * RADIX_BITS);
    if (c[(from[0] >> shift) & (radix - 1)] == n) continue;
    size_t at = 0;
    for (size_t d = 0; d < radix; d++) {
      size_t k = c[d];
      c[d] = at;
      at += k;
    }
    for (size_t i = 0; i < n; i++) {
      size_t slot = c[(from[i] >> shift) & (radix - 1)]++;
      to[slot] = from[i];
      if (idx) to_idx[slot] = from_idx[i];
    }
    uint64_t *x = from;
    from = to;
    to = x;
    size_t *y = from_idx;
    from_idx = to_idx;
    to_idx = y;
  }
  if (from != key) {
    memcpy(key, from, n * sizeof *key);
    if (idx) memcpy(idx, from_idx, n * sizeof *idx);
  }
  pd_free(a, tmp);
  pd_free(a, tmp_idx);
  pd_free(a, count);
  return 0;
}
