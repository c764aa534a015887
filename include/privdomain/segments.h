/*
 * libprivdomain — segments: RFM scores and named segments, and super users
 * (超级用户).
 *
 * RFM (binding for pd_rfm_compute()), as of filter->as_of, over buyers
 * (users passing the metrics filter with >= 1 order at or before as_of):
 * - recency R = days from the last order to as_of; frequency F = orders;
 *   monetary M = net revenue (orders minus refunds, both at or before
 *   as_of), minor units.
 * - Quintile scores 1–5: the n buyers are ranked on each measure, worst
 *   first (longest recency, fewest orders, least revenue), ties broken by
 *   the larger user id first; the buyer of rank r (0-based) scores
 *   1 + floor(5r / n). So 5 is the best fifth, and buyers with equal values
 *   can score differently, deterministically by id.
 * - Segments from (R score, F score), first rule that matches:
 *     champions          R 5,   F 4–5
 *     loyal              R 3–4, F 4–5
 *     need attention     R 3,   F 3
 *     potential loyalist R 4–5, F 2–3
 *     new                R 5,   F 1
 *     promising          R 4,   F 1
 *     about to sleep     R 3,   F 1–2
 *     can't lose         R 1–2, F 5
 *     at risk            R 1–2, F 3–4
 *     lost               R 1,   F 1
 *     hibernating        R 1–2, F 1–2 (the rest)
 *
 * Super users (binding for pd_super_users()), over users passing the
 * filter with >= 1 order at or before as_of:
 *   score = 100 × (w_s·s + w_f·f + w_r·r + w_e·e) / (w_s + w_f + w_r + w_e)
 * where each term is the user's value scaled into [0, 1] by
 * ln(1 + x) / ln(1 + max x over those users) (0 when the max is 0):
 *   s = net revenue (minor units, negative taken as 0), f = orders,
 *   r = users referred at or before as_of,
 *   e = engagement: the user's inbound messages, content engagements and
 *       live views in the engagement_window seconds up to as_of.
 * Default weights 0.4, 0.2, 0.2, 0.2.
 *
 * Thread safety: serialised on the store's lock. Common errors:
 * PD_E_MISUSE (bad store), the filter errors of metrics.h, PD_E_NOMEM.
 */
#ifndef PRIVDOMAIN_SEGMENTS_H
#define PRIVDOMAIN_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "breakdown.h"
#include "export.h"
#include "metrics.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/** RFM segments (int32_t). Values are never renumbered. */
enum {
  PD_SEGMENT_CHAMPIONS = 1,
  PD_SEGMENT_LOYAL = 2,
  PD_SEGMENT_POTENTIAL_LOYALIST = 3,
  PD_SEGMENT_NEW = 4,
  PD_SEGMENT_PROMISING = 5,
  PD_SEGMENT_NEED_ATTENTION = 6,
  PD_SEGMENT_ABOUT_TO_SLEEP = 7,
  PD_SEGMENT_AT_RISK = 8,
  PD_SEGMENT_CANT_LOSE = 9,
  PD_SEGMENT_HIBERNATING = 10,
  PD_SEGMENT_LOST = 11,
  PD_SEGMENT_LAST = 11
};

/**
 * pd_segment_name - the segment's name in English snake case
 * ("champions", "potential_loyalist", "cant_lose" …), static storage; NULL
 * for an unknown value. Thread safety: any thread.
 */
PD_API const char *pd_segment_name(int32_t segment);

/**
 * pd_segment_from_scores - the segment of an (R, F) score pair by the table
 * above, or 0 when a score is outside 1–5. Thread safety: any thread.
 */
PD_API int32_t pd_segment_from_scores(int32_t r_score, int32_t f_score);

/** One buyer's RFM. */
typedef struct pd_rfm_row {
  size_t size;
  pd_user_id user;        /**< canonical id */
  double recency_days;
  uint64_t frequency;
  int64_t monetary;       /**< minor units */
  int32_t r_score, f_score, m_score; /**< 1–5 */
  int32_t segment;        /**< PD_SEGMENT_* */
} pd_rfm_row;

#define PD_RFM_ROW_INIT {sizeof(pd_rfm_row), 0, 0.0, 0, 0, 0, 0, 0, 0}

/**
 * pd_rfm_compute - RFM scores and segment of every buyer passing @filter,
 * one row per buyer sorted by user id. On success *out receives a pd_rows
 * owned by the caller (pd_rows_free()); read it with pd_rfm_row_get().
 * Errors: the common ones; PD_E_INVALID (out NULL).
 */
PD_API pd_status pd_rfm_compute(pd_store *store,
                                const pd_metrics_filter *filter,
                                pd_rows **out);

/**
 * pd_rfm_row_get - copy row @i of an RFM table into @out (out->size from
 * PD_RFM_ROW_INIT; a larger struct keeps its extra bytes). Errors:
 * PD_E_INVALID (rows or out NULL, out->size too small), PD_E_MISUSE (not
 * an RFM table), PD_E_RANGE (i out of range). Thread safety: any thread.
 */
PD_API pd_status pd_rfm_row_get(const pd_rows *rows, size_t i,
                                pd_rfm_row *out);

/** Users and revenue of one segment of an RFM table. */
typedef struct pd_segment_count {
  size_t size;
  int32_t segment;
  uint64_t users;
  int64_t revenue;  /**< sum of monetary, minor units */
} pd_segment_count;

#define PD_SEGMENT_COUNT_INIT {sizeof(pd_segment_count), 0, 0, 0}

/**
 * pd_rfm_segment_count - how many buyers of an RFM table fall in @segment
 * and their revenue. Errors: PD_E_INVALID (rows or out NULL, out->size too
 * small, unknown segment), PD_E_MISUSE (not an RFM table).
 * Thread safety: any thread.
 */
PD_API pd_status pd_rfm_segment_count(const pd_rows *rows, int32_t segment,
                                      pd_segment_count *out);

/** Options for pd_super_users(). Initialise with PD_SUPER_USER_OPTIONS_INIT. */
typedef struct pd_super_user_options {
  size_t size;
  /** Weights of spend, frequency, referrals and engagement: finite, >= 0,
   *  not all 0. */
  double w_spend, w_frequency, w_referrals, w_engagement;
  /** Only users scoring at least this (0–100) are returned; default 0. */
  double min_score;
  /** Seconds before as_of in which engagement counts, > 0 (default 90
   *  days). */
  int64_t engagement_window;
} pd_super_user_options;

#define PD_SUPER_USER_OPTIONS_INIT \
  {sizeof(pd_super_user_options), 0.4, 0.2, 0.2, 0.2, 0.0, INT64_C(7776000)}

/** One super user. */
typedef struct pd_super_user {
  size_t size;
  pd_user_id user;     /**< canonical id */
  double score;        /**< 0–100 */
  int64_t spend;       /**< net revenue, minor units */
  uint64_t orders;
  uint64_t referrals;
  uint64_t engagement;
} pd_super_user;

#define PD_SUPER_USER_INIT {sizeof(pd_super_user), 0, 0.0, 0, 0, 0, 0}

/**
 * pd_super_users - the (at most) @k highest-scoring users with score >=
 * opts->min_score, best first (ties: smaller user id first), into the
 * caller's array @rows of @cap elements; *n receives how many were written.
 * The elements are rows[0].size bytes apart: set rows[0].size to the
 * caller's sizeof(pd_super_user) (PD_SUPER_USER_INIT), at least this
 * version's; each element gets this version's fields and keeps any extra
 * bytes. @opts may be NULL for the defaults.
 * Errors: the common ones; PD_E_INVALID (rows or n NULL, rows[0].size too
 * small, k = 0, cap < k, opts size too small or unknown trailing bytes
 * non-zero, a weight negative, NaN or infinite, all weights 0, min_score
 * outside 0–100, engagement_window <= 0).
 */
PD_API pd_status pd_super_users(pd_store *store,
                                const pd_metrics_filter *filter,
                                const pd_super_user_options *opts, size_t k,
                                pd_super_user *rows, size_t cap, size_t *n);

PD_END_DECLS

#endif /* PRIVDOMAIN_SEGMENTS_H */
