/* Customer rows keyed by their (x, t_x, T) summary, for the store
 * summary's predictions: sorting them brings equal summaries together, so
 * a model is fitted and evaluated once per distinct summary. */
#ifndef PD_METRICS_ROW_KEYS_H
#define PD_METRICS_ROW_KEYS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pd_mx_row_key {
  double x, t_x, T;
  uint32_t row;
} pd_mx_row_key;

/* Sorts k[0..n) by (x, t_x, T, row): a total order, rows being unique,
 * so the result is the same for any thread count. With threads > 1 the
 * keys are first partitioned into up to 8 pieces, which are then sorted
 * on that many threads (core/parallel.h; at least 2^16 keys a piece).
 * Allocates nothing. Keys must not be NaN. */
void pd_mx_row_key_sort(pd_mx_row_key *k, size_t n, int32_t threads);

#endif
