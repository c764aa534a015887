/*
 * libprivdomain — how figures are broken down, and the rows they come in.
 *
 * Many figures (link retention, funnel, repurchase, guides' figures, RFM)
 * are reported as rows: one per channel, acquisition source, guide, shop or
 * cohort. They are returned in a pd_rows handle that owns the rows; each
 * figure's header has the typed getter that copies row i out
 * (pd_funnel_row_get() …). Rows come sorted by their key, ascending.
 *
 * Cohorts are calendar periods in UTC:
 * - PD_COHORT_DAY:   the UTC day (00:00:00 to 23:59:59);
 * - PD_COHORT_WEEK:  the ISO week, Monday 00:00 UTC to Sunday 23:59:59;
 * - PD_COHORT_MONTH: the calendar month.
 * A cohort is named by the time its period starts (seconds since the epoch).
 */
#ifndef PRIVDOMAIN_BREAKDOWN_H
#define PRIVDOMAIN_BREAKDOWN_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

PD_BEGIN_DECLS

/** Cohort periods (passed as int32_t). Values are never renumbered. */
enum {
  PD_COHORT_DAY = 1,
  PD_COHORT_WEEK = 2,
  PD_COHORT_MONTH = 3
};

/** What rows are keyed by (passed as int32_t). Users are put in a group by
 *  the attribute the metrics filter uses (metrics.h): the channel and
 *  source of their acquisition link, their home guide, their home shop,
 *  or the cohort of their acquisition link's time. Values are never
 *  renumbered. */
enum {
  PD_BY_ALL = 0,          /**< one row, key 0 */
  PD_BY_CHANNEL = 1,      /**< key = acquisition channel id (0 = none) */
  PD_BY_SOURCE = 2,       /**< key = acquisition source label (0 = none) */
  PD_BY_GUIDE = 3,        /**< key = home guide id (0 = none) */
  PD_BY_SHOP = 4,         /**< key = home shop label (0 = none) */
  PD_BY_COHORT_DAY = 5,   /**< key = start of the acquisition day; users
                               never linked get key -1 */
  PD_BY_COHORT_WEEK = 6,  /**< key = start of the acquisition ISO week */
  PD_BY_COHORT_MONTH = 7  /**< key = start of the acquisition month */
};

/**
 * pd_cohort_start - the start of the PD_COHORT_* period that contains @t.
 *
 * @unit: PD_COHORT_DAY, PD_COHORT_WEEK or PD_COHORT_MONTH.
 * @t: seconds since the epoch, in [PD_TIME_MIN, PD_TIME_MAX] (store.h).
 * @out: receives the period's first second.
 * Errors: PD_E_INVALID (unknown unit, out NULL), PD_E_RANGE (t outside
 * the store's time range). Thread safety: safe from any thread.
 */
PD_API pd_status pd_cohort_start(int32_t unit, int64_t t, int64_t *out);

/** Rows of a broken-down figure. Opaque; made by the figure's function
 *  (pd_funnel_compute() …), released with pd_rows_free(). */
typedef struct pd_rows pd_rows;

/**
 * pd_rows_count - how many rows @rows holds (0 for NULL or a handle that is
 * not a pd_rows). Thread safety: a pd_rows is immutable once made: any
 * number of threads may read it at once.
 */
PD_API size_t pd_rows_count(const pd_rows *rows);

/**
 * pd_rows_free - release @rows and everything it owns. NULL, or a pointer
 * that is not a live pd_rows, is a no-op. The rows were allocated with the
 * allocator of the store they were computed from, whose `user` pointer must
 * still be valid; the store itself may already have been freed.
 */
PD_API void pd_rows_free(pd_rows *rows);

PD_END_DECLS

#endif /* PRIVDOMAIN_BREAKDOWN_H */
