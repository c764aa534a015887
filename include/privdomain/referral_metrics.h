/*
 * libprivdomain — referral and fission (转介绍, 裂变) figures.
 *
 * The referral graph as of filter->as_of: every referral (events.h)
 * recorded at or before as_of between users that are not erased, merged
 * users counted as one. Each user has at most one referrer, so the graph
 * is a forest. Definitions (binding for this header):
 * - A tree's root is a user who referred someone and was not referred.
 *   Its size counts the root and every user below it; the depth of a user
 *   is the number of referrals between it and its root (a root's direct
 *   referees are generation 1).
 * - The metrics filter (metrics.h) selects referrers: a referral counts
 *   when its referrer passes the filter; a tree counts when its root does.
 * - K-factor over [from, to) = referrals in the window whose referrer
 *   passes the filter / users passing the filter that were linked on some
 *   channel at `from` (the base at the start of the window).
 * - Revenue attributed to a referrer: net revenue (orders minus refunds,
 *   both at or before as_of, minor units) of its direct referees from
 *   orders placed at or after the referral.
 *
 * Thread safety: serialised on the store's lock. Common errors:
 * PD_E_MISUSE (bad store), the filter errors of metrics.h, PD_E_NOMEM.
 */
#ifndef PRIVDOMAIN_REFERRAL_METRICS_H
#define PRIVDOMAIN_REFERRAL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "metrics.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/** Referral figures for a window. */
typedef struct pd_referral_stats {
  size_t size;
  uint64_t referrals;      /**< referrals by filtered referrers */
  uint64_t referrers;      /**< filtered users who referred >= 1 user */
  uint64_t referees;       /**< users referred by them (= referrals) */
  uint64_t trees;          /**< trees whose root passes the filter */
  uint64_t largest_tree;   /**< users in the largest of those trees */
  double mean_tree_size;   /**< users per tree; 0 without trees */
  uint32_t max_depth;      /**< deepest generation in those trees */
  uint64_t window_referrals; /**< referrals in [from, to) */
  uint64_t base;           /**< filtered users linked at `from` */
  double k_factor;         /**< window_referrals / base; 0 when base = 0 */
  int64_t referee_revenue; /**< revenue attributed to the referrers */
} pd_referral_stats;

#define PD_REFERRAL_STATS_INIT {sizeof(pd_referral_stats), 0, 0, 0, 0, 0, \
                                0.0, 0, 0, 0, 0.0, 0}

/**
 * pd_referral_stats_compute - the referral figures above, with the K-factor
 * over [@from, @to) (a window reaching past as_of is cut at as_of).
 *
 * out->size must be at least sizeof(pd_referral_stats)
 * (PD_REFERRAL_STATS_INIT); a newer caller's extra bytes are untouched.
 * Errors: the common ones; PD_E_INVALID (out NULL or too small), PD_E_RANGE
 * (from or to outside the time range, to <= from).
 */
PD_API pd_status pd_referral_stats_compute(pd_store *store,
                                           const pd_metrics_filter *filter,
                                           int64_t from, int64_t to,
                                           pd_referral_stats *out);

/** One referrer of the top-k list. */
typedef struct pd_referrer_row {
  size_t size;
  pd_user_id user;      /**< canonical id */
  uint64_t referrals;   /**< direct referees */
  uint64_t descendants; /**< every user below it in its tree */
  uint32_t depth;       /**< its own generation (0 = a root) */
  int64_t revenue;      /**< revenue attributed to it, minor units */
} pd_referrer_row;

#define PD_REFERRER_ROW_INIT {sizeof(pd_referrer_row), 0, 0, 0, 0, 0}

/**
 * pd_referral_top - the @k filtered referrers with the most direct
 * referrals (ties: more descendants first, then the smaller user id) into
 * the caller's array @rows of @cap structs, best first.
 *
 * The elements are rows[0].size bytes apart: set rows[0].size to the
 * caller's sizeof(pd_referrer_row) (PD_REFERRER_ROW_INIT), at least this
 * version's; each element gets this version's fields (size included) and
 * keeps any extra bytes of a newer caller. *n receives min(@k, number of
 * filtered referrers). Errors: the common ones; PD_E_INVALID (rows or n NULL,
 * rows[0].size too small, k = 0, cap < k).
 */
PD_API pd_status pd_referral_top(pd_store *store,
                                 const pd_metrics_filter *filter, size_t k,
                                 pd_referrer_row *rows, size_t cap,
                                 size_t *n);

PD_END_DECLS

#endif /* PRIVDOMAIN_REFERRAL_METRICS_H */
