/* Overflow-checked integer arithmetic for money (int64 minor units) and
 * counts. Each returns 0 and writes *out, or -1 on overflow leaving *out
 * untouched. */
#ifndef PD_CORE_CHECKED_H
#define PD_CORE_CHECKED_H

#include <stdint.h>

static inline int pd_add_i64(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return -1;
  *out = r;
  return 0;
}

static inline int pd_sub_i64(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return -1;
  *out = r;
  return 0;
}

static inline int pd_mul_i64(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return -1;
  *out = r;
  return 0;
}

#endif
