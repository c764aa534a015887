/* The distinct values among the customers' recencies and ages. Summaries
 * in whole days (or days expressed in weeks) repeat a few hundred values
 * across thousands of rows, so a likelihood can take log(α + t) once per
 * distinct t per evaluation instead of twice per row. Continuous times
 * gain nothing and are not indexed. */
#ifndef PD_MODELS_DISTINCT_TIMES_H
#define PD_MODELS_DISTINCT_TIMES_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/fit.h>

/* At most this many distinct times are indexed (indices are 16-bit). */
#define PD_DISTINCT_TIMES_MAX 16384u

typedef struct pd_distinct_times {
  size_t count;       /* distinct values; 0: not indexed, use the rows */
  double *value;      /* value[0..count-1] */
  uint16_t *i_T;      /* per row: index of T in value */
  uint16_t *i_tx;     /* per row: index of t_x (0 taken where x = 0) */
} pd_distinct_times;

/* Scratch bytes pd_distinct_times_build needs for d (0 when d has more
 * rows than is worth indexing: PD_MODEL_PACK_MAX). */
size_t pd_distinct_times_bytes(const pd_customer_data *d);
/* The same for any number of rows (2 index bytes per row and time), for
 * likelihoods whose per-time terms cost far more than reading an index. */
size_t pd_distinct_times_bytes_any(const pd_customer_data *d);

/* Indexes d's times in `mem` (pd_distinct_times_bytes(d) bytes, 8-byte
 * aligned). Sets out->count = 0 when there are more distinct times than
 * PD_DISTINCT_TIMES_MAX or than rows (tables would not pay off). */
void pd_distinct_times_build(const pd_customer_data *d, void *mem,
                             pd_distinct_times *out);

/* The distinct (x, t) pairs among the rows' (x, T) and (x, t_x), for
 * likelihoods whose costly part depends on the purchase count and one
 * time (the Pareto/NBD's series): CDNOW's 2,357 customers have about
 * 1,050 such pairs against 2,000 row terms, and weekly summaries of
 * millions of customers some tens of thousands against millions. At most
 * PD_DISTINCT_PAIRS_MAX pairs are indexed, so the per-pair scratch of the
 * caller stays bounded whatever the rows. */
#define PD_DISTINCT_PAIRS_MAX ((size_t)1 << 17)

typedef struct pd_distinct_pairs {
  size_t count;     /* distinct pairs; 0: not indexed, use the rows */
  double *x;        /* per pair: the purchase count */
  uint32_t *t;      /* per pair: index of its time in the pd_distinct_times */
  uint32_t *i_T;    /* per row: pair of (x, T) */
  uint32_t *i_tx;   /* per row: pair of (x, t_x) ((0, 0) where x = 0) */
} pd_distinct_pairs;

/* Pairs the index of d can hold: 2 d->n, at most PD_DISTINCT_PAIRS_MAX
 * (a caller's per-pair tables need this many entries). */
size_t pd_distinct_pairs_capacity(const pd_customer_data *d);
/* Scratch bytes pd_distinct_pairs_build needs for d. */
size_t pd_distinct_pairs_bytes(const pd_customer_data *d);

/* Indexes d's (x, t) pairs in `mem` (pd_distinct_pairs_bytes(d) bytes,
 * 8-byte aligned) from the time index `times` of the same d; sets
 * out->count = 0 when times is not indexed or d has more distinct pairs
 * than pd_distinct_pairs_capacity(d). */
void pd_distinct_pairs_build(const pd_customer_data *d,
                             const pd_distinct_times *times, void *mem,
                             pd_distinct_pairs *out);

#endif
