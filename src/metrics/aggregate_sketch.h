/* The mergeable quantile sketch of the store aggregates (aggregates.h):
 * counts in logarithmic buckets of ratio gamma = (1 + a) / (1 - a), so a
 * quantile comes back within relative error a, and two sketches merge by
 * adding counts bucket by bucket (the result does not depend on how the
 * values were partitioned). Pure: plain arrays, an allocator, no store. */
#ifndef PD_METRICS_AGGREGATE_SKETCH_H
#define PD_METRICS_AGGREGATE_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/le_bytes.h"

/* Buckets with a non-zero count, by increasing index. */
typedef struct pd_ag_bins {
  int32_t *idx;
  uint64_t *cnt;
  size_t n;
} pd_ag_bins;

typedef struct pd_ag_sketch {
  uint64_t count; /* all values: zero + pos + neg */
  uint64_t zero;  /* values exactly 0 */
  double min, max; /* of the values; 0 when count = 0 */
  pd_ag_bins pos; /* bucket i: gamma^(i-1) < v <= gamma^i */
  pd_ag_bins neg; /* the same on -v for negative v */
} pd_ag_sketch;

/* gamma's logarithm for accuracy a, the one number bucketing needs. */
double pd_ag_log_gamma(double accuracy);

/* The sketch of v[0..n) (finite values) into *out (zeroed first). Returns
 * 0, or -1 out of memory (nothing held). */
int pd_ag_sketch_build(const pd_allocator *a, double accuracy,
                       const double *v, size_t n, pd_ag_sketch *out);

/* *out = x + y in new memory (x, y unchanged). 0, -1 out of memory, -2 a
 * count would overflow. */
int pd_ag_sketch_sum(const pd_allocator *a, const pd_ag_sketch *x,
                     const pd_ag_sketch *y, pd_ag_sketch *out);

void pd_ag_sketch_free(const pd_allocator *a, pd_ag_sketch *s);

/* The value of rank floor(q (count - 1)) to within relative error a;
 * count must be > 0 and q in [0, 1]. */
double pd_ag_sketch_quantile(const pd_ag_sketch *s, double accuracy,
                             double q);

/* The value of 0-based rank k < count, within relative error a. */
double pd_ag_sketch_rank(const pd_ag_sketch *s, double accuracy, uint64_t k);

/* The median as pd_mb_median() defines it (the mean of the two middle
 * values when count is even), each middle within relative error a; 0 for
 * an empty sketch. */
double pd_ag_sketch_median(const pd_ag_sketch *s, double accuracy);

/* The serialised form (docs/FORMAT.md) and its reader, which checks every
 * rule of the form: 0, -1 malformed (with a reason in *why), -2 out of
 * memory. */
void pd_ag_sketch_put(pd_obuf *b, const pd_ag_sketch *s);
int pd_ag_sketch_get(const pd_allocator *a, pd_ibuf *in, pd_ag_sketch *out,
                     const char **why);

/* A double as its IEEE-754 bits and back: the stable form of doubles. */
static inline uint64_t pd_ag_dbits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}
static inline double pd_ag_bitsd(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

#endif
