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
  double *pred; /* p_alive, expected, spend, clv: n each (+ work space) */
  pd_fit_info fit_tx, fit_gg;
  int32_t threads; /* the store's thread setting when made (0 = per CPU) */
};

int pd_ss_valid(const pd_store_summary *h);
/* A PD_VALUE_* column, or NULL without predictions. */
const double *pd_ss_column(const pd_store_summary *h, int32_t column);
/* Row indices by decreasing CLV (ties: smaller user id), allocated with
 * the handle's allocator (2 n entries; the caller frees). */
pd_status pd_ss_rank(pd_store_summary *h, uint32_t **out);

/* Purchases of canonical root up to `end` (orders net of refunds up to
 * `end`, fully refunded ones left out), sorted by time, in b; rb is
 * scratch. Read them with the accessors below. */
pd_status pd_ss_purchases(pd_store *s, uint32_t root, uint32_t end,
                          pd_mx_buf *b, pd_mx_buf *rb, size_t *n);
int64_t pd_ss_purchase_time(const pd_mx_buf *b, size_t i);
int64_t pd_ss_purchase_net(const pd_mx_buf *b, size_t i);

#endif
