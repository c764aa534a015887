/* The store-summary handle's layout and the purchase walk it shares with
 * follow-up plans. */
#ifndef PD_METRICS_STORE_SUMMARY_INTERNAL_H
#define PD_METRICS_STORE_SUMMARY_INTERNAL_H

#include <privdomain/fit.h>
#include <privdomain/store_summary.h>

#include "core/error.h"
#include "pushes.h"

struct pd_store_summary {
  uint32_t magic;
  pd_allocator alloc;
  pd_errbuf err;
  size_t n;
  pd_user_id *users;
  double *cols; /* x, t_x, T, monetary, x_holdout: n each */
  int32_t unit;
  int holdout;
  int has_pred;
  double *pred; /* p_alive, expected, spend, clv: n each */
  pd_fit_info fit_tx, fit_gg;
  int32_t threads; /* the store's thread setting when made (0 = per CPU) */
};

int pd_ss_valid(const pd_store_summary *h);
/* Summary column k (0 x, 1 t_x, 2 T, 3 monetary, 4 x_holdout), or NULL
 * without rows. */
static inline const double *pd_ss_col(const pd_store_summary *h, int k) {
  return h->n ? h->cols + (size_t)k * h->n : NULL;
}
/* A PD_VALUE_* column, or NULL without predictions. */
const double *pd_ss_column(const pd_store_summary *h, int32_t column);
/* The first min(k, n) row indices by decreasing CLV (ties: smaller user
 * id), allocated with the handle's allocator (the caller frees). */
pd_status pd_ss_rank(pd_store_summary *h, size_t k, uint32_t **out);

#endif
