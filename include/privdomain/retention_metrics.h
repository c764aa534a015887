/*
 * libprivdomain — link retention (留存) and unlinks (删粉/取关/拉黑) measured
 * on a store.
 *
 * Definitions (binding for every function below):
 * - A link spell of a user on a channel runs from a link event that starts
 *   a link (linking while not linked) to the next effective unlink on that
 *   channel, replayed in time order exactly as pd_user_link_state() does
 *   (events.h); a spell still open at as_of is right-censored at as_of.
 * - A user's first link on a channel is the start of the first spell there;
 *   the cohort of a (user, channel) pair is the PD_COHORT_* period
 *   (breakdown.h) containing that first link.
 * - Period k since linking is the moment first_link + k × L, where L is the
 *   cohort unit's length: 1 day, 7 days or 30 days (a "month" of periods
 *   is 30 days, whatever calendar month the cohort is).
 * - Merged users count as one user (the survivor); erased users are left
 *   out; only users passing the metrics filter (metrics.h) are counted.
 * - User-initiated unlinks are PD_UNLINK_USER_DELETED, _BLOCKED and
 *   _UNFOLLOWED; staff-initiated is PD_UNLINK_STAFF_REMOVED. They are
 *   always counted apart.
 *
 * Thread safety: every function here is serialised on the store's lock.
 * Common errors: PD_E_MISUSE (bad store handle), the filter errors of
 * metrics.h, PD_E_NOMEM.
 */
#ifndef PRIVDOMAIN_RETENTION_METRICS_H
#define PRIVDOMAIN_RETENTION_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "breakdown.h"
#include "export.h"
#include "fit.h"
#include "metrics.h"
#include "status.h"
#include "store.h"
#include "survival.h"

PD_BEGIN_DECLS

/* ---- link retention by channel and cohort -------------------------------- */

/** Options for pd_link_retention_compute(). Initialise with
 *  PD_LINK_RETENTION_OPTIONS_INIT. */
typedef struct pd_link_retention_options {
  size_t size;
  /** PD_COHORT_DAY, _WEEK or _MONTH (default): the cohort period and the
   *  length L of a period since linking (1, 7 or 30 days). */
  int32_t cohort_unit;
  /** Periods since linking reported per cohort: k = 0 … periods, 1–1000
   *  (default 12). */
  uint32_t periods;
  /** Channel measured (the channel of the link, not the acquisition
   *  channel of the filter); 0 = every channel, one row set each. */
  int32_t channel;
} pd_link_retention_options;

#define PD_LINK_RETENTION_OPTIONS_INIT \
  {sizeof(pd_link_retention_options), PD_COHORT_MONTH, 12, 0}

/** One cell of the cohort table: (channel, cohort, period k). */
typedef struct pd_link_retention_row {
  size_t size;
  int32_t channel;       /**< channel of the links */
  uint32_t period;       /**< k, periods since linking */
  int64_t cohort_start;  /**< start of the cohort period (breakdown.h) */
  uint64_t cohort_size;  /**< (user, channel) pairs first linked in the
                              cohort at or before as_of */
  uint64_t observed;     /**< pairs whose moment first_link + k×L is at or
                              before as_of (the others are censored) */
  uint64_t retained;     /**< observed pairs linked at that moment (a
                              re-link after an unlink counts as linked) */
  double rate;           /**< retained / observed; 0 when observed = 0 */
} pd_link_retention_row;

#define PD_LINK_RETENTION_ROW_INIT \
  {sizeof(pd_link_retention_row), 0, 0, 0, 0, 0, 0, 0.0}

/**
 * pd_link_retention_compute - the share of each cohort still linked at
 * each period since linking, per channel, as of filter->as_of.
 *
 * Rows are sorted by (channel, cohort_start, period); every cohort with at
 * least one pair gets periods 0 … opts->periods (cells with observed = 0
 * included, so a table is rectangular per cohort). @opts may be NULL for
 * the defaults. On success *out receives a pd_rows owned by the caller
 * (pd_rows_free()); read it with pd_link_retention_row_get().
 * Errors: the common ones; PD_E_INVALID (out NULL, opts size too small or
 * unknown trailing bytes non-zero, unknown cohort unit, periods 0 or >
 * 1000), PD_E_NOT_FOUND (opts->channel unknown).
 */
PD_API pd_status pd_link_retention_compute(
    pd_store *store, const pd_metrics_filter *filter,
    const pd_link_retention_options *opts, pd_rows **out);

/**
 * pd_link_retention_row_get - copy row @i of a link-retention table into
 * @out (out->size set by PD_LINK_RETENTION_ROW_INIT; a larger struct keeps
 * its extra bytes). Errors: PD_E_INVALID (rows or out NULL, out->size too
 * small), PD_E_MISUSE (rows is not a link-retention table), PD_E_RANGE
 * (i >= pd_rows_count(rows)). Thread safety: any thread.
 */
PD_API pd_status pd_link_retention_row_get(const pd_rows *rows, size_t i,
                                           pd_link_retention_row *out);

/* ---- Kaplan–Meier link survival ----------------------------------------- */

/**
 * pd_link_survival_km - estimate link survival with Kaplan–Meier into @km
 * (survival.h): one duration per (user, channel) pair passing the filter,
 * from the first link to the end of that first spell (event) or to as_of
 * (censored), in days (seconds / 86400). Only user-initiated unlinks are
 * events; a spell ended by staff is censored at its end.
 *
 * @channel: the channel of the links; 0 = each user's acquisition channel
 * (the channel of their first link, metrics.h).
 * @km: a handle from pd_km_new(), replaced by this estimate; read it with
 * pd_km_get_curve(), pd_km_survival_at(), pd_km_median().
 * Errors: the common ones; PD_E_INVALID (km NULL, no pair to estimate
 * from), PD_E_NOT_FOUND (channel unknown), and pd_km_estimate()'s errors
 * (the message is then on @km).
 */
PD_API pd_status pd_link_survival_km(pd_store *store,
                                     const pd_metrics_filter *filter,
                                     int32_t channel, pd_km *km);

/* ---- sBG on cohort survivors -------------------------------------------- */

/**
 * pd_link_cohort_survivors - the survivor curve of one cohort, ready for
 * pd_fit_estimate_sbg() (retention.h).
 *
 * The cohort is every (user, channel) pair passing the filter whose first
 * link on @channel (0 = every channel) falls in [@cohort_from, @cohort_to).
 * survivors[k] = pairs whose first spell has lasted at least k periods of
 * length L (opts->cohort_unit: 1, 7 or 30 days) — no effective unlink of
 * any initiator before first_link + k×L. k runs from 0 while every pair of
 * the cohort is observed at k (first_link + k×L <= as_of), at most
 * opts->periods; survivors[0] is the cohort size.
 * @survivors: caller array of @cap doubles; *n receives the number written
 * (k_max + 1). Errors: the common ones; PD_E_INVALID (survivors or n NULL,
 * cap 0, bad opts, cohort_to <= cohort_from, empty cohort), PD_E_RANGE
 * (cap smaller than the curve; nothing is written), PD_E_NOT_FOUND
 * (channel unknown).
 */
PD_API pd_status pd_link_cohort_survivors(
    pd_store *store, const pd_metrics_filter *filter,
    const pd_link_retention_options *opts, int64_t cohort_from,
    int64_t cohort_to, double *survivors, size_t cap, size_t *n);

/**
 * pd_link_retention_fit_sbg - fit the shifted-beta-geometric model to one
 * cohort's survivor curve (pd_link_cohort_survivors() with opts->channel)
 * with pd_fit_estimate_sbg(); project it with pd_retention_project() and
 * friends (retention.h). The curve must span at least 2 periods.
 * @fit: a handle from pd_fit_new(), replaced by the sBG fit.
 * Errors: those of pd_link_cohort_survivors(), PD_E_INVALID (fit NULL,
 * curve shorter than 3 points), and pd_fit_estimate_sbg()'s (message on
 * @fit).
 */
PD_API pd_status pd_link_retention_fit_sbg(
    pd_store *store, const pd_metrics_filter *filter,
    const pd_link_retention_options *opts, int64_t cohort_from,
    int64_t cohort_to, pd_fit *fit);

/* ---- unlink rate (删粉率) --------------------------------------------------- */

/** The unlink rate over a window, user- and staff-initiated kept apart. */
typedef struct pd_unlink_rate {
  size_t size;
  /** (user, channel) pairs linked at `from` or linked during [from, to)
   *  (the denominator). */
  uint64_t base;
  /** Effective unlinks in [from, to) by the user (deleted, blocked,
   *  unfollowed) and by staff. A pair linked and unlinked twice in the
   *  window counts twice. */
  uint64_t user_unlinks;
  uint64_t staff_unlinks;
  /** Pairs with at least one effective user / staff unlink in the window. */
  uint64_t user_unlinked_pairs;
  uint64_t staff_unlinked_pairs;
  /** user_unlinks / base and staff_unlinks / base; 0 when base = 0. */
  double user_rate;
  double staff_rate;
  /** (user_unlinks + staff_unlinks) / base; 0 when base = 0. */
  double rate;
} pd_unlink_rate;

#define PD_UNLINK_RATE_INIT {sizeof(pd_unlink_rate), 0, 0, 0, 0, 0, 0.0, \
                             0.0, 0.0}

/**
 * pd_unlink_rate_compute - unlinks in [@from, @to) / pairs linked at its
 * start or during it, for links on @channel (0 = every channel), among
 * users passing the filter. Events after filter->as_of are ignored: a
 * window reaching past as_of is cut at as_of.
 *
 * out->size must be at least sizeof(pd_unlink_rate) (PD_UNLINK_RATE_INIT);
 * a newer caller's extra bytes are left untouched.
 * Errors: the common ones; PD_E_INVALID (out NULL or too small), PD_E_RANGE
 * (from or to outside the time range, to <= from), PD_E_NOT_FOUND (channel
 * unknown).
 */
PD_API pd_status pd_unlink_rate_compute(pd_store *store,
                                        const pd_metrics_filter *filter,
                                        int32_t channel, int64_t from,
                                        int64_t to, pd_unlink_rate *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_RETENTION_METRICS_H */
