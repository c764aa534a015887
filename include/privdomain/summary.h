/*
 * libprivdomain — customer summaries: from transactions to the per-customer
 * (x, t_x, T, monetary value) rows the probability models are fitted on.
 *
 * The convention (lifetimes / BTYD, binding for every function below):
 * - Time is int64_t seconds since 1970-01-01T00:00:00Z. A "period" is a UTC
 *   calendar day: all purchases of a customer on the same UTC day count as
 *   one purchase, whose spend is the sum of that day's amounts.
 * - A transaction belongs to the calibration period when its time is
 *   <= calibration_end (a transaction at exactly calibration_end is in). To
 *   take a whole calendar day as the last calibration day, pass that day's
 *   last second (midnight + 86399); the `pd` tool does.
 * - x   = number of repeat periods: days with a purchase in the calibration
 *         period, not counting the day of the first purchase.
 * - t_x = (day of the last calibration purchase) - (day of the first
 *         purchase), in the chosen unit.
 * - T   = (day of calibration_end) - (day of the first purchase), in the
 *         chosen unit.
 * - Units: PD_TIME_UNIT_DAY (1 day) or PD_TIME_UNIT_WEEK (7 days); t_x and T
 *   are whole days divided by 1 or 7, so a week-unit value is a multiple of
 *   1/7.
 * - monetary value = mean spend of the repeat days (each day's spend is the
 *   sum of its purchases); 0 when x = 0. Spends are summed exactly and
 *   rounded to a double once (to nearest, ties to even) before dividing by
 *   x, so the value does not depend on the order or the grouping of the
 *   purchases (summary_partial.h merges partitions bit for bit).
 * - x_holdout (only when an observation end is given) = number of distinct
 *   days with a purchase among transactions with calibration_end < time <=
 *   observation_end, not counting a day already counted in calibration.
 * - Customers whose first purchase is after calibration_end are left out.
 *   Transactions after observation_end (or after calibration_end when there
 *   is no observation end) are ignored.
 * - The values do not depend on the order in which transactions were added.
 *   Rows come in the order in which customers first appeared in the added
 *   batches (and in loaded partials, summary_partial.h).
 *
 * A pd_summary handle keeps the added transactions (20 bytes each, plus the
 * customer id text once per customer) and the result of the last
 * pd_summary_compute() (40 bytes of numbers per customer plus a 4-byte
 * reference to its id). The handle is not thread-safe: use one handle from
 * one thread at a time; distinct handles are independent, and read-only
 * accessors may run concurrently when no thread modifies the handle.
 */
#ifndef PRIVDOMAIN_SUMMARY_H
#define PRIVDOMAIN_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "export.h"
#include "fit.h"
#include "status.h"

PD_BEGIN_DECLS

/** A customer-summary builder. Opaque; pd_summary_new() / pd_summary_free(). */
typedef struct pd_summary pd_summary;

/** Units for t_x and T (passed as int32_t). Values are never renumbered. */
enum {
  PD_TIME_UNIT_DAY = 1,
  PD_TIME_UNIT_WEEK = 2
};

/** Columns of a computed summary, for pd_summary_column(). */
enum {
  PD_SUMMARY_X = 1,         /**< repeat periods */
  PD_SUMMARY_T_X = 2,       /**< recency, in the unit */
  PD_SUMMARY_T = 3,         /**< age, in the unit */
  PD_SUMMARY_MONETARY = 4,  /**< mean spend of repeat periods */
  PD_SUMMARY_X_HOLDOUT = 5, /**< holdout periods with a purchase */
  PD_SUMMARY_WEIGHT = 6     /**< customers per row (compressed only) */
};

/** observation_end value meaning "no holdout period". */
#define PD_SUMMARY_NO_HOLDOUT INT64_C(-1)

/** Options for pd_summary_new(). Initialise with PD_SUMMARY_OPTIONS_INIT. */
typedef struct pd_summary_options {
  /** sizeof(pd_summary_options) as the caller compiled it. */
  size_t size;
  /** Allocator for everything the handle allocates; NULL = malloc/free.
   *  Copied; its `user` pointer must outlive the handle. */
  const pd_allocator *allocator;
} pd_summary_options;

#define PD_SUMMARY_OPTIONS_INIT {sizeof(pd_summary_options), NULL}

/** What pd_summary_compute() computes. Initialise with
 *  PD_SUMMARY_SPEC_INIT and set calibration_end. */
typedef struct pd_summary_spec {
  /** sizeof(pd_summary_spec) as the caller compiled it. */
  size_t size;
  /** Last instant of the calibration period, seconds since the epoch
   *  (inclusive), in [PD_TIME_MIN, PD_TIME_MAX] (types.h). */
  int64_t calibration_end;
  /** Last instant of the holdout period (inclusive), >= calibration_end,
   *  or PD_SUMMARY_NO_HOLDOUT. */
  int64_t observation_end;
  /** PD_TIME_UNIT_DAY or PD_TIME_UNIT_WEEK. */
  int32_t unit;
} pd_summary_spec;

#define PD_SUMMARY_SPEC_INIT \
  {sizeof(pd_summary_spec), 0, PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY}

/*
 * Option and spec structs: a `size` smaller than this version's struct is
 * rejected with PD_E_INVALID; a larger one (a newer caller) is accepted
 * when the bytes this version does not know are all zero, else
 * PD_E_INVALID.
 */

/**
 * pd_summary_new - create an empty summary builder.
 *
 * @opts: options, or NULL for PD_SUMMARY_OPTIONS_INIT.
 * @out: receives the handle, owned by the caller (pd_summary_free()).
 *
 * Errors: PD_E_INVALID (out NULL, bad opts->size, incomplete allocator),
 * PD_E_NOMEM. Thread safety: safe from any thread.
 */
PD_API pd_status pd_summary_new(const pd_summary_options *opts,
                                pd_summary **out);

/** pd_summary_free - release the handle and all it owns; NULL is a no-op. */
PD_API void pd_summary_free(pd_summary *s);

/**
 * pd_summary_errmsg - the message of the last error on this handle.
 *
 * Returns a NUL-terminated string owned by the handle, valid until the
 * next call on it; "" after a success. A NULL handle gives a static
 * message. Never NULL.
 */
PD_API const char *pd_summary_errmsg(const pd_summary *s);

/**
 * pd_summary_add - add a batch of transactions.
 *
 * @ids: n customer ids (any bytes, e.g. UTF-8 text); copied.
 * @id_lens: n byte lengths, or NULL when every id is NUL-terminated.
 * @times: n purchase times, seconds since the epoch, in [PD_TIME_MIN, PD_TIME_MAX] (types.h).
 * @amounts: n spends (any currency unit, >= 0, finite), or NULL for 0.
 *
 * The batch is all or nothing: on any error nothing of it is added.
 * Errors: PD_E_MISUSE (s NULL), PD_E_INVALID (ids or times NULL with
 * n > 0), PD_E_RANGE (a time outside the range, an amount negative, NaN or
 * infinite; the message gives the index), PD_E_FULL (more than 2^32 - 2
 * customers or 2^53 transactions), PD_E_NOMEM.
 */
PD_API pd_status pd_summary_add(pd_summary *s, const char *const *ids,
                                const size_t *id_lens, const int64_t *times,
                                const double *amounts, size_t n);

/** pd_summary_transactions - number of transactions added so far. */
PD_API size_t pd_summary_transactions(const pd_summary *s);

/**
 * pd_summary_compute - summarise the added transactions per customer (see
 * the convention at the top of this header), replacing any earlier result.
 *
 * With partials loaded (summary_partial.h) the rows cover the added
 * transactions and the partials, merged.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (spec NULL or bad size, unit unknown,
 * observation_end < calibration_end and not PD_SUMMARY_NO_HOLDOUT),
 * PD_E_RANGE (calibration_end or observation_end outside the time range),
 * PD_E_CONFLICT (partials were loaded for other ends, or a customer's
 * transactions overlap a loaded partial beyond the merge rule of
 * summary_partial.h; the message names the customer), PD_E_NOMEM. On
 * error the previous result is kept.
 */
PD_API pd_status pd_summary_compute(pd_summary *s, const pd_summary_spec *spec);

/** pd_summary_rows - number of rows of the current result (0 before the
 *  first compute). */
PD_API size_t pd_summary_rows(const pd_summary *s);

/**
 * pd_summary_column - one column of the current result.
 *
 * @column: a PD_SUMMARY_* column.
 * @out: receives a pointer to pd_summary_rows(s) doubles owned by the
 *       handle, valid until the next pd_summary_compute / compress / merge
 *       / free on it.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL, unknown column),
 * PD_E_NOT_FOUND (no result yet, or the column is absent from it:
 * X_HOLDOUT without an observation end, WEIGHT in a per-customer result,
 * MONETARY and X_HOLDOUT in a compressed one).
 */
PD_API pd_status pd_summary_column(const pd_summary *s, int32_t column,
                                   const double **out);

/**
 * pd_summary_data - a pd_customer_data view of the current result, ready
 * for pd_fit_estimate() and the pd_predict_* functions.
 *
 * @out: set out->size = sizeof(pd_customer_data) (PD_CUSTOMER_DATA_INIT)
 *       first. Fills n, x, t_x, T, monetary (NULL when compressed) and
 *       weight (NULL unless compressed); the pointers are owned by the
 *       handle, valid until the next compute / compress / merge / free.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL or out->size too small),
 * PD_E_NOT_FOUND (nothing computed yet).
 */
PD_API pd_status pd_summary_data(const pd_summary *s, pd_customer_data *out);

/**
 * pd_summary_id - the customer id of a row of a per-customer result.
 *
 * @id: receives the id bytes (NUL-terminated, owned by the handle, valid
 *      until the handle is freed); @len: receives its length (may be NULL).
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (id NULL), PD_E_NOT_FOUND (row out of
 * range, or the result is compressed and has no ids).
 */
PD_API pd_status pd_summary_id(const pd_summary *s, size_t row,
                               const char **id, size_t *len);

/**
 * pd_summary_compress - replace the current result by its distinct
 * (x, t_x, T) rows, each with the number of customers who have it in the
 * WEIGHT column, sorted by x, then t_x, then T. A fit on the compressed
 * rows with those weights gives the same likelihood as on the customers
 * (for BG/NBD, MBG/NBD, Pareto/NBD and BG/BB); ids, monetary value and
 * x_holdout are dropped, so Gamma-Gamma needs the per-customer result.
 * Compressing a compressed result is a no-op.
 *
 * Errors: PD_E_MISUSE, PD_E_NOT_FOUND (nothing computed), PD_E_NOMEM (the
 * result is unchanged).
 */
PD_API pd_status pd_summary_compress(pd_summary *s);

/**
 * pd_summary_merge - add the result of `src` to the result of `dst`, for
 * summaries of disjoint sets of customers computed separately (several
 * shops, machines or threads).
 *
 * What may be merged: two results computed with the same calibration_end,
 * observation_end and unit. When both are per-customer, src's rows are
 * appended with their ids, which must not be known to dst (the same
 * customer summarised in two places would be counted twice; PD_E_DUPLICATE).
 * When either is compressed, the result is compressed, with the weights of
 * equal (x, t_x, T) rows added. Only the results change: dst's
 * transactions do not, and a later pd_summary_compute() on dst recomputes
 * from its own transactions (and loaded partials) alone. src is not
 * modified. To merge customers summarised in several places, use
 * summary_partial.h instead.
 *
 * Errors: PD_E_MISUSE (a handle NULL, or dst == src), PD_E_NOT_FOUND (a
 * handle has no result), PD_E_CONFLICT (computed with different specs),
 * PD_E_DUPLICATE (an id of src is known to dst), PD_E_NOMEM. On error dst
 * is unchanged.
 */
PD_API pd_status pd_summary_merge(pd_summary *dst, const pd_summary *src);

PD_END_DECLS

#endif /* PRIVDOMAIN_SUMMARY_H */
