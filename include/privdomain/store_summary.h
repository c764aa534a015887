/*
 * libprivdomain — from a store's orders to the per-customer summaries the
 * probability models are fitted on, and the value predictions made from
 * them (P(alive), expected purchases, CLV; which channel brings customers
 * worth the most).
 *
 * The summary follows exactly the convention of summary.h (UTC calendar
 * days as periods, x = repeat days, t_x, T, monetary = mean spend of the
 * repeat days, x_holdout), with a store's orders as the transactions:
 * - A customer is a user matching the filter (metrics.h; users, never
 *   single orders, are filtered; merged ids are one customer, its id the
 *   survivor's) with at least one purchase at or before calibration_end.
 * - An order is a purchase of its net amount: amount minus the refunds of
 *   it recorded at or before the summary's last instant (observation_end
 *   when given, else calibration_end). An order whose amount is fully
 *   refunded by then is NOT a purchase (its day does not count). Orders of
 *   amount 0 never refunded are purchases of spend 0.
 * - Spend is in the store's major currency unit (minor units divided by
 *   10^currency_exponent: yuan, not fen), as a double.
 * - Rows come in increasing canonical user id.
 * The handle owns its arrays; it does not refer to the store after
 * creation, so the store may change or be freed meanwhile.
 */
#ifndef PRIVDOMAIN_STORE_SUMMARY_H
#define PRIVDOMAIN_STORE_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "fit.h"
#include "metrics.h"
#include "status.h"
#include "store.h"
#include "summary.h"
#include "users.h"

PD_BEGIN_DECLS

/** A store's customer summary, with optional value predictions. Opaque;
 *  pd_store_summary_new() / pd_store_summary_free(). */
typedef struct pd_store_summary pd_store_summary;

/**
 * pd_store_summary_new - summarise the orders of the users of @store
 * matching @filter (filter->as_of decides the matching, e.g. the guide at
 * that time; usually pass calibration_end) per @spec (summary.h:
 * calibration_end, observation_end or PD_SUMMARY_NO_HOLDOUT, unit).
 *
 * @out receives a handle owned by the caller (pd_store_summary_free()); it
 * allocates through the store's allocator, whose `user` pointer must
 * outlive the handle. A population with no purchase gives a handle with 0
 * rows (not an error).
 * Errors (message on the store): PD_E_MISUSE (bad store), PD_E_INVALID
 * (out or spec NULL, bad spec size or unit, observation_end <
 * calibration_end), PD_E_RANGE (a time outside the range), the filter
 * errors of metrics.h, PD_E_NOMEM, PD_E_FULL (more than 2^32 - 2
 * customers). Thread safety: serialised on the store's lock; the handle
 * itself is not thread-safe (one thread at a time).
 * Cost: one walk over the matching users' orders and refunds.
 */
PD_API pd_status pd_store_summary_new(pd_store *store,
                                      const pd_metrics_filter *filter,
                                      const pd_summary_spec *spec,
                                      pd_store_summary **out);

/** pd_store_summary_free - release the handle; NULL is a no-op. */
PD_API void pd_store_summary_free(pd_store_summary *h);

/** pd_store_summary_errmsg - message of the last failed call on the handle
 *  ("" after a success; a static message for NULL). Never NULL. */
PD_API const char *pd_store_summary_errmsg(const pd_store_summary *h);

/** pd_store_summary_rows - number of customers (0 for NULL). */
PD_API size_t pd_store_summary_rows(const pd_store_summary *h);

/**
 * pd_store_summary_data - the rows as pd_customer_data (x, t_x, T,
 * monetary; weight NULL), ready for pd_fit_estimate() and pd_predict_*.
 * Set out->size first (PD_CUSTOMER_DATA_INIT). Pointers are owned by the
 * handle and valid until it is freed. With 0 rows, n = 0 and the pointers
 * may be NULL. Errors: PD_E_MISUSE (h NULL or freed), PD_E_INVALID (out
 * NULL or too small).
 */
PD_API pd_status pd_store_summary_data(const pd_store_summary *h,
                                       pd_customer_data *out);

/**
 * pd_store_summary_users - *users receives the rows' canonical user ids
 * (pd_store_summary_rows() values, owned by the handle, valid until it is
 * freed). Errors: PD_E_MISUSE, PD_E_INVALID (users NULL).
 */
PD_API pd_status pd_store_summary_users(const pd_store_summary *h,
                                        const pd_user_id **users);

/**
 * pd_store_summary_holdout - *x_holdout receives the rows' holdout
 * purchase days (summary.h). Errors: PD_E_MISUSE, PD_E_INVALID (NULL
 * out), PD_E_NOT_FOUND (summarised without an observation end).
 */
PD_API pd_status pd_store_summary_holdout(const pd_store_summary *h,
                                          const double **x_holdout);

/** How values are predicted. Initialise with PD_VALUE_OPTIONS_INIT. */
typedef struct pd_value_options {
  size_t size;
  int32_t model;           /**< PD_MODEL_BGNBD, _MBGNBD or _PARETONBD */
  double horizon;          /**< expected purchases over this many units of
                                the summary (days or weeks), >= 0 */
  uint32_t months;         /**< CLV horizon in months (pd_predict_clv) */
  double discount_rate;    /**< per month, >= 0 */
  /** Fit options for both fits (allocator NULL = the handle's); NULL =
   *  PD_FIT_OPTIONS_INIT with threads = the store's pd_store_threads()
   *  when the summary was made. */
  const pd_fit_options *fit_options;
} pd_value_options;

#define PD_VALUE_OPTIONS_INIT \
  {sizeof(pd_value_options), PD_MODEL_BGNBD, 52.0, 12, 0.01, NULL}

/** Prediction columns of pd_store_summary_column(). */
enum {
  PD_VALUE_P_ALIVE = 1,             /**< probability alive at T */
  PD_VALUE_EXPECTED_PURCHASES = 2,  /**< repeat purchase days in horizon */
  PD_VALUE_EXPECTED_SPEND = 3,      /**< Gamma-Gamma mean spend, major units */
  PD_VALUE_CLV = 4                  /**< discounted CLV over `months`,
                                         major units */
};

/**
 * pd_store_summary_predict - fit @opts->model (NULL opts = defaults:
 * BG/NBD, 52 units, 12 months at 1% a month) on every row, and
 * Gamma-Gamma on the rows with x > 0 and monetary > 0, then predict every
 * row's P(alive), expected purchases in opts->horizon units, expected
 * spend and CLV (pd_predict_clv with 30 days or 4.345 weeks a month, by
 * the summary's unit). Both fits run on the distinct rows weighted by
 * their counts (the same likelihood as on every row). Rows with x > 0
 * whose repeat days all had spend 0 get the population mean spend.
 * Replaces earlier predictions, writing the new values over them once
 * both fits and every prediction have succeeded. The fit options' thread
 * count also finds the distinct rows (the two fits' on two threads) and
 * spreads the values back to the rows; the predictions are the same for
 * every thread count. Working memory, from the summary's allocator and
 * freed before returning: 8 bytes per row and up to about 140 bytes per
 * distinct row of each fit; the first call also allocates the 32 bytes
 * per row that the predictions keep.
 * Cost: dominated by the Gamma-Gamma fit, linear in the distinct
 * (x, mean spend) pairs per optimiser iteration (about 6 s of CPU for
 * 550,000 repeat customers with distinct spends).
 *
 * Errors (message on the handle): PD_E_MISUSE, PD_E_INVALID (bad opts
 * size, model not one of the three, horizon < 0 or not finite,
 * discount_rate < 0 or not finite; 0 rows, or fewer than 2 rows with
 * x > 0 for Gamma-Gamma), the errors of pd_fit_estimate() (PD_E_NUMERIC,
 * PD_E_NO_CONVERGENCE …) and of the pd_predict_* functions, PD_E_NOMEM.
 * On error earlier predictions are kept. Thread safety: not thread-safe
 * on one handle.
 */
PD_API pd_status pd_store_summary_predict(pd_store_summary *h,
                                          const pd_value_options *opts);

/**
 * pd_store_summary_column - a PD_VALUE_* column of the last predictions:
 * *out receives pd_store_summary_rows() doubles owned by the handle, valid
 * until the handle is freed; a successful pd_store_summary_predict()
 * writes its values over them (a failed one leaves them as they were).
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL, unknown column),
 * PD_E_NOT_FOUND (no predictions yet).
 */
PD_API pd_status pd_store_summary_column(const pd_store_summary *h,
                                         int32_t column, const double **out);

/**
 * pd_store_summary_fit - the parameters of the transaction fit (which = 0)
 * or the Gamma-Gamma fit (which = 1) of the last predictions into @out
 * (out->size set with PD_FIT_INFO_INIT).
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL or too small, which not 0
 * or 1), PD_E_NOT_FOUND (no predictions yet).
 */
PD_API pd_status pd_store_summary_fit(const pd_store_summary *h,
                                      int32_t which, pd_fit_info *out);

/**
 * pd_store_summary_top - the key customers: the @n rows with the highest
 * CLV (ties: smaller user id first), written to @users and @clv (each of
 * at least n elements; clv may be NULL); *count receives min(n, rows).
 * Errors: PD_E_MISUSE, PD_E_INVALID (users or count NULL), PD_E_NOT_FOUND
 * (no predictions yet), PD_E_NOMEM.
 */
PD_API pd_status pd_store_summary_top(pd_store_summary *h, size_t n,
                                      pd_user_id *users, double *clv,
                                      size_t *count);

/** Group keys of pd_store_value_by(). */
enum {
  PD_VALUE_BY_CHANNEL = 1, /**< acquisition channel (metrics.h) */
  PD_VALUE_BY_SOURCE = 2   /**< acquisition source label */
};

/** One group's predicted value. */
typedef struct pd_value_group {
  size_t size;
  int32_t by;          /**< PD_VALUE_BY_* */
  uint32_t key;        /**< channel id or source label; 0 = none/unknown */
  uint64_t customers;  /**< rows of the summary in the group */
  double mean_clv;     /**< major units */
  double total_clv;
  double mean_p_alive;
  double mean_expected_purchases;
} pd_value_group;

/** Called once per group, in increasing key; return non-zero to stop. The
 *  struct is valid only during the call. */
typedef int (*pd_value_group_fn)(void *user, const pd_value_group *group);

/**
 * pd_store_value_by - which channel (or source) brings customers worth the
 * most: the predictions of @h grouped by each customer's acquisition
 * channel or source in @store (first link at or before @as_of, metrics.h).
 * @store should be the store @h was made from; a user no longer in it (or
 * erased) falls in group 0.
 * Errors: PD_E_MISUSE (a bad handle), PD_E_INVALID (fn NULL, by unknown),
 * PD_E_RANGE (as_of), PD_E_NOT_FOUND (no predictions yet), PD_E_NOMEM.
 * Messages go to the store. @fn runs under the store's lock (queries
 * allowed, recording gives PD_E_MISUSE). Thread safety: serialised on the
 * store's lock; not concurrently with other calls on @h.
 */
PD_API pd_status pd_store_value_by(pd_store *store, const pd_store_summary *h,
                                   int32_t by, int64_t as_of,
                                   pd_value_group_fn fn, void *user);

PD_END_DECLS

#endif /* PRIVDOMAIN_STORE_SUMMARY_H */
