/*
 * libprivdomain — repurchase (复购): who buys again, how often, how much,
 * and whether the time between purchases shortens (the proof that daily
 * maintenance works).
 *
 * Definitions (binding for pd_repurchase_compute()), all as of
 * filter->as_of, over users passing the metrics filter (metrics.h):
 * - purchases: a user's orders placed at or before as_of (every order
 *   counts, also several on one day and zero-amount or refunded ones).
 * - buyers: users with >= 1 purchase; repeat buyers: >= 2 purchases.
 * - repurchase rate (复购率) = repeat buyers / buyers.
 * - purchase frequency = purchases / buyers.
 * - revenue = order amounts minus refunds recorded at or before as_of,
 *   minor units; average order value (客单价) = revenue / purchases.
 * - repurchase interval (复购周期): the time between a user's successive
 *   purchases (in time order; ties by event id), in days; median and mean
 *   over all intervals of all buyers of the row.
 * - interval trend: for a buyer with >= 3 purchases (>= 2 intervals), the
 *   least-squares slope of interval j against j = 1, 2, …; the buyer's
 *   intervals shorten when the slope is < 0. shortening_share = buyers
 *   whose intervals shorten / buyers with a trend.
 * - repeat revenue share = revenue of repeat buyers / revenue of all
 *   buyers.
 * Ratios whose denominator is 0 are reported as 0.
 */
#ifndef PRIVDOMAIN_REPURCHASE_H
#define PRIVDOMAIN_REPURCHASE_H

#include <stddef.h>
#include <stdint.h>

#include "breakdown.h"
#include "export.h"
#include "metrics.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** Options for pd_repurchase_compute(). Initialise with
 *  PD_REPURCHASE_OPTIONS_INIT. */
typedef struct pd_repurchase_options {
  size_t size;
  int32_t group_by; /**< PD_BY_* (breakdown.h); default PD_BY_ALL */
} pd_repurchase_options;

#define PD_REPURCHASE_OPTIONS_INIT {sizeof(pd_repurchase_options), PD_BY_ALL}

/** One row of repurchase figures. */
typedef struct pd_repurchase_row {
  size_t size;
  int64_t key;                 /**< group key (breakdown.h) */
  uint64_t buyers;
  uint64_t repeat_buyers;
  uint64_t purchases;
  int64_t revenue;             /**< minor units */
  int64_t repeat_revenue;      /**< revenue of repeat buyers */
  double repurchase_rate;      /**< repeat_buyers / buyers */
  double frequency;            /**< purchases / buyers */
  double average_order_value;  /**< revenue / purchases, minor units */
  uint64_t intervals;          /**< repurchase intervals measured */
  double interval_median_days;
  double interval_mean_days;
  uint64_t trend_buyers;       /**< buyers with >= 3 purchases */
  uint64_t shortening_buyers;  /**< of those, slope < 0 */
  double shortening_share;     /**< shortening / trend buyers */
  double repeat_revenue_share; /**< repeat_revenue / revenue */
} pd_repurchase_row;

#define PD_REPURCHASE_ROW_INIT {sizeof(pd_repurchase_row), 0, 0, 0, 0, 0, \
                                0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0, 0, 0.0,  \
                                0.0}

/**
 * pd_repurchase_compute - repurchase figures of the buyers passing @filter,
 * one row per group of opts->group_by that has a buyer (sorted by key).
 *
 * @opts may be NULL for the defaults. On success *out receives a pd_rows
 * owned by the caller (pd_rows_free()); read it with
 * pd_repurchase_row_get(). Errors: PD_E_MISUSE (bad store), the filter
 * errors of metrics.h, PD_E_INVALID (out NULL, opts size too small or
 * unknown trailing bytes non-zero, unknown group_by), PD_E_NOMEM.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_repurchase_compute(pd_store *store,
                                       const pd_metrics_filter *filter,
                                       const pd_repurchase_options *opts,
                                       pd_rows **out);

/**
 * pd_repurchase_row_get - copy row @i into @out (out->size from
 * PD_REPURCHASE_ROW_INIT; a larger struct keeps its extra bytes).
 * Errors: PD_E_INVALID (rows or out NULL, out->size too small),
 * PD_E_MISUSE (rows is not a repurchase table), PD_E_RANGE (i out of
 * range). Thread safety: any thread.
 */
PD_API pd_status pd_repurchase_row_get(const pd_rows *rows, size_t i,
                                       pd_repurchase_row *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_REPURCHASE_H */
