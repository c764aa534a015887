/* The inside of a pd_summary, shared by summary.c (transactions and
 * results) and summary_partial.c (mergeable partial state). Nothing
 * outside src/models includes this. */
#ifndef PD_MODELS_SUMMARY_IMPL_H
#define PD_MODELS_SUMMARY_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/summary.h>

#include "core/alloc.h"
#include "core/error.h"
#include "customer_ids.h"

#define PD_SECONDS_PER_DAY INT64_C(86400)

typedef struct pd_summary_result {
  size_t n;
  double *x, *t_x, *T, *monetary, *x_holdout, *weight;
  uint32_t *customer; /* row -> customer id; NULL when compressed */
  int64_t calibration_end, observation_end;
  int32_t unit;
} pd_summary_result;

/* Loaded partial state (summary_partial.c). */
typedef struct pd_summary_partials pd_summary_partials;

struct pd_summary {
  uint32_t magic;
  pd_allocator alloc;
  pd_errbuf err;
  pd_customer_ids ids;
  /* Transactions, as parallel arrays (20 bytes each). */
  uint32_t *tx_customer;
  int64_t *tx_time;
  double *tx_amount;
  size_t n_tx, cap_customer, cap_time, cap_amount;
  int has_result;
  pd_summary_result res;
  pd_summary_partials *partials; /* NULL until a partial is loaded */
};

/* One purchase of one customer while summarising. */
typedef struct pd_purchase {
  int64_t time;
  double amount;
} pd_purchase;

/* Groups the transactions with time <= horizon by customer: customer c's
 * purchases are (*p)[(*start)[c] .. (*start)[c+1]), sorted by time then
 * amount; *start has ids.count + 1 entries. Both are freed by the caller.
 * Returns 0 or -1 (out of memory; message set). */
int pd_summary_group(pd_summary *s, int64_t horizon, size_t **start,
                     pd_purchase **p);

/* Checks a spec as pd_summary_compute does (message set on error). */
pd_status pd_summary_check_spec(pd_summary *s, const pd_summary_spec *spec);

/* ---- summary_partial.c, for summary.c ---- */

/* Scratch for summarising customers one by one (exact-sum accumulators);
 * made once per compute. */
typedef struct pd_summary_scratch pd_summary_scratch;
pd_summary_scratch *pd_summary_scratch_new(pd_summary *s);
void pd_summary_scratch_free(pd_summary *s, pd_summary_scratch *w);

/* PD_OK, or PD_E_CONFLICT (message set) when partials were loaded for
 * other ends than spec's. */
pd_status pd_summary_partials_check_ends(pd_summary *s,
                                         const pd_summary_spec *spec);
/* Whether customer cid has loaded calibration purchases. */
int pd_summary_partials_has_calibration(const pd_summary *s, uint32_t cid);

/* Summarises customer cid from its own purchases p[0, n) (sorted, none
 * after the horizon) and its loaded partial state. Returns 1 (a row was
 * written; x_holdout may be NULL), 0 (no calibration purchase: no row),
 * or a negative pd_status with the message set (PD_E_CONFLICT naming the
 * customer, PD_E_NOMEM). */
int pd_summary_customer_row(pd_summary *s, pd_summary_scratch *w,
                            uint32_t cid, const pd_purchase *p, size_t n,
                            const pd_summary_spec *spec, double *x,
                            double *t_x, double *T, double *monetary,
                            double *x_holdout);

void pd_summary_partials_free(pd_summary *s);

#endif
