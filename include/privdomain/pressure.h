/*
 * libprivdomain — marketing pressure and contact caps (营销压力, 触达上限).
 *
 * Over-marketing destroys the pool (DOMAIN.md: one flash-group campaign,
 * 34% of contacts deleted). These functions measure how often users are
 * pushed promotions and tell, before sending, whether one more would break
 * the brand's cap.
 *
 * Definitions (binding for every function below):
 * - A PUSH is a touchpoint (events.h) of kind PD_TOUCH_OUTBOUND_1TO1 or
 *   PD_TOUCH_BROADCAST with purpose PD_PURPOSE_PROMOTION; with
 *   count_post_exposures = 1 in the policy, PD_TOUCH_POST_EXPOSURE with
 *   purpose PROMOTION counts too. Pushes of the user and of every id merged
 *   into it count; erased events do not.
 * - Windows are rolling and end at the instant asked about: "the day" at
 *   time t is (t − 86400, t], "the week" is (t − 604800, t] (seconds). Only
 *   pushes at or before t count (later events are the future).
 * - A cap of 0 means "no cap" for that window.
 * - A push BREAKS the cap when, counting it, the pushes in the day (or week,
 *   or per channel) ending at its own time exceed the cap. Pushes at the
 *   same second are taken in event-id order.
 */
#ifndef PRIVDOMAIN_PRESSURE_H
#define PRIVDOMAIN_PRESSURE_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "metrics.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/** A brand's contact cap policy. Initialise with PD_CONTACT_POLICY_INIT
 *  (at most 1 promotion a day and 2 a week per user, no channel cap). */
typedef struct pd_contact_policy {
  size_t size;                  /**< sizeof(pd_contact_policy) */
  uint32_t per_day;             /**< pushes per user per rolling day, 0 = no cap */
  uint32_t per_week;            /**< pushes per user per rolling 7 days, 0 = no cap */
  uint32_t per_channel_day;     /**< pushes per user per channel per day, 0 = no cap */
  uint32_t per_channel_week;    /**< pushes per user per channel per 7 days, 0 = no cap */
  int32_t count_post_exposures; /**< 1 = promotional post exposures are pushes too */
} pd_contact_policy;

#define PD_CONTACT_POLICY_INIT {sizeof(pd_contact_policy), 1, 2, 0, 0, 0}

/** Why a contact is or is not allowed (passed as int32_t; never
 *  renumbered). When several apply, the first in this order is given:
 *  ERASED, UNLINKED, OPTED_OUT, DAILY_CAP, WEEKLY_CAP, CHANNEL_CAP. */
enum {
  PD_CONTACT_ALLOWED = 0,
  PD_CONTACT_DAILY_CAP = 1,   /**< per_day pushes already in the day */
  PD_CONTACT_WEEKLY_CAP = 2,  /**< per_week pushes already in the week */
  PD_CONTACT_CHANNEL_CAP = 3, /**< a per-channel cap is reached */
  PD_CONTACT_OPTED_OUT = 4,   /**< marketing or personalised-marketing consent
                                   withdrawn (consent.h) */
  PD_CONTACT_UNLINKED = 5,    /**< the user is not linked on that channel */
  PD_CONTACT_ERASED = 6       /**< the user was erased */
};

/** The answer of pd_contact_check(). Set size (PD_CONTACT_VERDICT_INIT). */
typedef struct pd_contact_verdict {
  size_t size;
  int32_t allowed;            /**< 1 if the contact may be sent at `at` */
  int32_t reason;             /**< PD_CONTACT_* */
  uint32_t pushes_day;        /**< pushes in the day ending at `at` */
  uint32_t pushes_week;       /**< pushes in the week ending at `at` */
  uint32_t pushes_channel_day;  /**< of those in the day, on this channel */
  uint32_t pushes_channel_week; /**< of those in the week, on this channel */
  /** Earliest time >= at at which the caps allow a push (= at when
   *  allowed; -1 when no waiting helps: opted out, unlinked, erased). */
  int64_t earliest;
} pd_contact_verdict;

#define PD_CONTACT_VERDICT_INIT {sizeof(pd_contact_verdict), 0, 0, 0, 0, 0, 0, 0}

/**
 * pd_contact_check - before sending @user a touch with @purpose (a
 * PD_PURPOSE_*) on @channel at time @at, whether it is allowed under
 * @policy (NULL = PD_CONTACT_POLICY_INIT), and why not.
 *
 * Rules: an erased user is never contactable; the user must be linked on
 * @channel at @at (pd_user_link_state()); for PD_PURPOSE_PROMOTION the
 * user must not have withdrawn PD_CONSENT_MARKETING or
 * PD_CONSENT_PERSONALISED_MARKETING (opted-out users are never eligible
 * for promotions), and the pushes already in the day / week / channel
 * windows ending at @at must be below each non-zero cap. SERVICE and
 * CONTENT touches are not capped and need no marketing consent (only the
 * link). The push counts are filled whatever the verdict (0 for an erased
 * user). An erased user gives PD_OK with reason PD_CONTACT_ERASED.
 *
 * Errors: PD_E_MISUSE (bad handle), PD_E_INVALID (out NULL or too small,
 * policy too small or with unknown non-zero trailing bytes, channel 0,
 * purpose not SERVICE, CONTENT or PROMOTION), PD_E_RANGE (at outside the
 * time range), PD_E_NOT_FOUND (no such user or channel), PD_E_NOMEM.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_contact_check(pd_store *store, pd_user_id user,
                                  int32_t channel, int32_t purpose, int64_t at,
                                  const pd_contact_policy *policy,
                                  pd_contact_verdict *out);

/** Marketing pressure over a population (set size with
 *  PD_PRESSURE_STATS_INIT). Counts are pushes per user in the window
 *  (as_of − window, as_of]. */
typedef struct pd_pressure_stats {
  size_t size;
  uint64_t users;          /**< users matching the filter */
  uint64_t pushes;         /**< pushes to them in the window */
  double mean;             /**< pushes per user (0 when users = 0) */
  double p50;              /**< median pushes per user (nearest rank) */
  double p90;              /**< 90th percentile (nearest rank) */
  uint32_t max;            /**< most pushes to one user */
  uint64_t over_cap_pushes;/**< pushes in the window that broke the policy */
  uint64_t users_over_cap; /**< users who got at least one such push */
} pd_pressure_stats;

#define PD_PRESSURE_STATS_INIT {sizeof(pd_pressure_stats), 0, 0, 0, 0, 0, 0, 0, 0}

/**
 * pd_pressure_stats_get - promotional pressure on the users matching
 * @filter over the @window seconds ending at filter->as_of (> 0; 604800 for
 * a week), and how many pushes broke @policy (NULL = default).
 *
 * Percentiles use the nearest-rank definition over every matching user,
 * including users with 0 pushes: p = the ceil(q·n)-th smallest count.
 * Errors: PD_E_MISUSE, the filter errors of metrics.h, PD_E_INVALID (out
 * NULL or too small, bad policy size), PD_E_RANGE (window <= 0),
 * PD_E_NOMEM. Thread safety: serialised on the store's lock.
 * Cost: one pass over the matching users' touchpoints.
 */
PD_API pd_status pd_pressure_stats_get(pd_store *store,
                                       const pd_metrics_filter *filter,
                                       int64_t window,
                                       const pd_contact_policy *policy,
                                       pd_pressure_stats *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_PRESSURE_H */
