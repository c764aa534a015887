/*
 * libprivdomain — campaign health: what a campaign sold, and what it cost
 * in deleted contacts (业绩 vs 服务).
 *
 * A campaign is a PD_LABEL_CAMPAIGN label (channels.h) named by link and
 * touchpoint events. Definitions (binding for pd_campaign_health_compute()):
 * - Window W = [from, to): when the campaign ran.
 * - Pool: users passing the metrics filter (metrics.h) with at least one
 *   touchpoint or link event of the campaign in W (merged users are one).
 * - A pool user's campaign contact runs from their first to their last
 *   campaign event in W.
 * - Orders brought: the pool's orders placed from the user's first campaign
 *   contact up to attribution_window seconds after their last one
 *   (inclusive), and at or before as_of. Revenue is their amount minus the
 *   refunds recorded at or before as_of, in minor units.
 * - Unlink window U = [from, to + observe_after): deletions usually follow
 *   the selling by days. Baseline window B = the window of the same length
 *   right before U: [from - |U|, from).
 * - Unlink rate in a window = pool users with at least one effective
 *   user-initiated unlink (deleted, blocked, unfollowed; staff removals too
 *   when count_staff is set) on any channel in the window / pool users
 *   linked on some channel at its start or during it. Both windows are cut
 *   at as_of.
 * - Verdict: PD_CAMPAIGN_UNHEALTHY when rate >= min_rate and rate >=
 *   ratio × baseline_rate (defaults: 10% and 3×, so a campaign that made
 *   34% of its pool delete the brand against a 2% baseline is unhealthy);
 *   otherwise PD_CAMPAIGN_HEALTHY.
 */
#ifndef PRIVDOMAIN_CAMPAIGN_H
#define PRIVDOMAIN_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "metrics.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** Verdicts (int32_t). Values are never renumbered. */
enum {
  PD_CAMPAIGN_HEALTHY = 1,
  PD_CAMPAIGN_UNHEALTHY = 2
};

/** Options for pd_campaign_health_compute(). Initialise with
 *  PD_CAMPAIGN_OPTIONS_INIT. */
typedef struct pd_campaign_options {
  size_t size;
  /** Seconds after a user's last campaign contact during which their
   *  orders are attributed to the campaign, >= 0 (default 7 days). */
  int64_t attribution_window;
  /** Seconds after the window during which unlinks are still charged to
   *  the campaign, >= 0 (default 14 days). */
  int64_t observe_after;
  /** 1 = count staff removals as unlinks too; 0 (default) = only the
   *  user's own deletions, blocks and unfollows. */
  int32_t count_staff;
  /** Unhealthy when rate >= unhealthy_ratio × baseline (default 3.0,
   *  finite, >= 0) … */
  double unhealthy_ratio;
  /** … and rate >= unhealthy_min_rate (default 0.10, in [0, 1]). */
  double unhealthy_min_rate;
} pd_campaign_options;

#define PD_CAMPAIGN_OPTIONS_INIT                                        \
  {sizeof(pd_campaign_options), INT64_C(604800), INT64_C(1209600), 0, 3.0, \
   0.10}

/** A campaign's sales and health. */
typedef struct pd_campaign_health {
  size_t size;
  uint64_t pool;           /**< users with campaign events in the window */
  uint64_t buyers;         /**< pool users with an attributed order */
  uint64_t orders;         /**< attributed orders */
  int64_t revenue;         /**< attributed net revenue, minor units */
  uint64_t linked;         /**< pool users linked at U's start or during U */
  uint64_t unlinked;       /**< of those, users who unlinked in U */
  double rate;             /**< unlinked / linked; 0 when linked = 0 */
  uint64_t baseline_linked;   /**< the same for the baseline window B */
  uint64_t baseline_unlinked;
  double baseline_rate;       /**< 0 when baseline_linked = 0 */
  /** rate / baseline_rate; -1 when baseline_rate = 0 (undefined). */
  double ratio;
  int32_t verdict;         /**< PD_CAMPAIGN_HEALTHY or _UNHEALTHY */
  int64_t unlink_window_end;  /**< end of U (before cutting at as_of) */
  int64_t baseline_start;     /**< start of B */
} pd_campaign_health;

#define PD_CAMPAIGN_HEALTH_INIT {sizeof(pd_campaign_health), 0, 0, 0, 0, 0, \
                                 0, 0.0, 0, 0, 0.0, 0.0, 0, 0, 0}

/**
 * pd_campaign_health_compute - the orders and revenue @campaign brought in
 * [@from, @to) and the unlink rate it caused against the baseline before
 * it, with a verdict (see the definitions above), as of filter->as_of.
 *
 * @opts may be NULL for the defaults. out->size must be at least
 * sizeof(pd_campaign_health) (PD_CAMPAIGN_HEALTH_INIT); a newer caller's
 * extra bytes are left untouched. A campaign with no events in the window
 * gives pool = 0, rates 0 and PD_CAMPAIGN_HEALTHY.
 * Errors: PD_E_MISUSE (bad store), the filter errors of metrics.h,
 * PD_E_INVALID (out NULL or too small, campaign 0, opts size too small or
 * unknown trailing bytes non-zero, a negative window, a ratio or min rate
 * that is NaN, infinite or out of range), PD_E_RANGE (from or to outside
 * the time range, to <= from), PD_E_NOT_FOUND (no such campaign label),
 * PD_E_NOMEM. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_campaign_health_compute(pd_store *store,
                                            const pd_metrics_filter *filter,
                                            uint32_t campaign, int64_t from,
                                            int64_t to,
                                            const pd_campaign_options *opts,
                                            pd_campaign_health *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_CAMPAIGN_H */
