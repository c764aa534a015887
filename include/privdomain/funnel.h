/*
 * libprivdomain — the funnel 引流 → 成交 → 复购 → 转介绍 (reached → linked →
 * first purchase → repurchase → referral), by channel, source, guide, shop
 * or cohort.
 *
 * Definitions (binding for pd_funnel_compute()), all as of filter->as_of:
 * - linked: users passing the metrics filter (metrics.h) with a link at or
 *   before as_of. A user's group is taken from their acquisition link (the
 *   first link; breakdown.h's PD_BY_*).
 * - reached: the sum of reach records (events.h) whose period starts at or
 *   before as_of and that belong to the row: all records for PD_BY_ALL,
 *   records of that channel for PD_BY_CHANNEL, of that source label for
 *   PD_BY_SOURCE; the filter's channel and source restrict them the same
 *   way. Reach is not known per guide, shop or cohort: for those breakdowns,
 *   and whenever the filter names a guide or shop, reached is 0.
 * - link rate (吸粉率) = linked / reached.
 * - converted (成交): linked users whose first order at or after their
 *   first link is placed within conversion_window seconds of that link.
 *   Time to first purchase = that order's time - the first link's time,
 *   in days.
 * - repeat (复购): converted users with at least 2 orders at or before
 *   as_of (orders before the first link count).
 * - referrers (转介绍): linked users who referred at least one user at or
 *   before as_of.
 * - revenue: net revenue of the row's linked users to date (orders minus
 *   refunds, both at or before as_of), minor units.
 * - cost: acquisition costs (events.h) whose period starts at or before
 *   as_of and that belong to the row as reach does (cost records with
 *   channel 0 belong to every channel row).
 * - LTV per linked user = revenue / linked, or opts->model_clv when the
 *   caller gives a model-based CLV (e.g. from pd_predict_clv(), in minor
 *   units); CAC = cost / linked; LTV:CAC = LTV / CAC.
 * Rates whose denominator is 0 are reported as 0; ltv_cac is -1 when the
 * row has no cost.
 */
#ifndef PRIVDOMAIN_FUNNEL_H
#define PRIVDOMAIN_FUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "breakdown.h"
#include "export.h"
#include "metrics.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** Options for pd_funnel_compute(). Initialise with PD_FUNNEL_OPTIONS_INIT. */
typedef struct pd_funnel_options {
  size_t size;
  /** PD_BY_* (breakdown.h); default PD_BY_ALL. */
  int32_t group_by;
  /** Seconds after the first link within which a first purchase counts as
   *  a conversion, > 0 (default 30 days). */
  int64_t conversion_window;
  /** A model-based CLV per linked user, minor units, finite and >= 0; 0
   *  (default) = use realised net revenue per linked user. */
  double model_clv;
} pd_funnel_options;

#define PD_FUNNEL_OPTIONS_INIT \
  {sizeof(pd_funnel_options), PD_BY_ALL, INT64_C(2592000), 0.0}

/** One row of the funnel. */
typedef struct pd_funnel_row {
  size_t size;
  int64_t key;              /**< group key (breakdown.h) */
  uint64_t reached;
  uint64_t linked;
  uint64_t converted;
  uint64_t repeat;
  uint64_t referrers;
  double link_rate;         /**< linked / reached */
  double conversion_rate;   /**< converted / linked */
  double repeat_rate;       /**< repeat / converted */
  double referral_rate;     /**< referrers / linked */
  double days_to_first_purchase_median; /**< over converted users */
  double days_to_first_purchase_mean;
  int64_t revenue;          /**< minor units */
  int64_t cost;             /**< minor units */
  double ltv;               /**< minor units per linked user */
  double cac;               /**< minor units per linked user */
  double ltv_cac;           /**< -1 when cost = 0 */
} pd_funnel_row;

#define PD_FUNNEL_ROW_INIT {sizeof(pd_funnel_row), 0, 0, 0, 0, 0, 0, 0.0, \
                            0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0, 0.0}

/**
 * pd_funnel_compute - the funnel of the users passing @filter, one row per
 * group of opts->group_by (rows sorted by key; groups with no linked user
 * appear only when they have reach or cost).
 *
 * @opts may be NULL for the defaults. On success *out receives a pd_rows
 * owned by the caller (pd_rows_free()); read it with pd_funnel_row_get().
 * Errors: PD_E_MISUSE (bad store), the filter errors of metrics.h,
 * PD_E_INVALID (out NULL, opts size too small or unknown trailing bytes
 * non-zero, unknown group_by, conversion_window <= 0, model_clv negative,
 * NaN or infinite), PD_E_NOMEM. (Sums cannot overflow: the store keeps
 * the total of all orders and costs within int64.) Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_funnel_compute(pd_store *store,
                                   const pd_metrics_filter *filter,
                                   const pd_funnel_options *opts,
                                   pd_rows **out);

/**
 * pd_funnel_row_get - copy row @i of a funnel into @out (out->size from
 * PD_FUNNEL_ROW_INIT; a larger struct keeps its extra bytes).
 * Errors: PD_E_INVALID (rows or out NULL, out->size too small),
 * PD_E_MISUSE (rows is not a funnel), PD_E_RANGE (i out of range).
 * Thread safety: any thread.
 */
PD_API pd_status pd_funnel_row_get(const pd_rows *rows, size_t i,
                                   pd_funnel_row *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_FUNNEL_H */
