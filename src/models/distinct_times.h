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

/* Indexes d's times in `mem` (pd_distinct_times_bytes(d) bytes, 8-byte
 * aligned). Sets out->count = 0 when there are more distinct times than
 * PD_DISTINCT_TIMES_MAX or than rows (tables would not pay off). */
void pd_distinct_times_build(const pd_customer_data *d, void *mem,
                             pd_distinct_times *out);

#endif
