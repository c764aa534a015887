/*
 * libprivdomain — follow-up plans (日常维护计划): which users each guide
 * should contact on a given day, why, and in what order.
 *
 * Daily maintenance is planned per user from the user's value, the staff
 * available, the product's usage cycle and the purchase history
 * (DOMAIN.md). A plan for day `as_of` lists, for each guide, at most
 * `guide_capacity` users ranked by VALUE AT RISK:
 *   value         = the user's predicted CLV (PD_VALUE_CLV of a
 *                   pd_store_summary given to the planner), or without
 *                   predictions the user's net spend to date, in major
 *                   currency units;
 *   p_alive       = PD_VALUE_P_ALIVE of the predictions, or 1 without;
 *   value_at_risk = value · max(1 − p_alive, 0.05)
 * (ties: smaller user id first). Each listed user carries one reason, the
 * first that applies in this order:
 *   AFTER_SALES     — the last purchase was between after_sales_delay and
 *                     after_sales_delay + 86400 seconds before as_of (the
 *                     "trigger" of Fogg's model: check in after delivery);
 *   WIN_BACK        — predictions are given and p_alive < win_back_p_alive
 *                     (the user is slipping away: motivation);
 *   REPURCHASE_DUE  — the time since the last purchase is at least the
 *                     usage cycle: usage_cycle seconds when set, else the
 *                     user's own mean interval between purchase days
 *                     (needs >= 2 purchase days), and less than 3 cycles
 *                     (later it is a win-back case, not a reminder);
 *   KEY_CUSTOMER    — the user is among the top key_customers rows by CLV
 *                     (needs predictions) and no 1:1 message or inbound
 *                     message was exchanged in the last key_care_interval
 *                     seconds.
 * Users with no reason are not listed. Purchases are the store's orders
 * not fully refunded as of as_of (as store_summary.h).
 *
 * Never listed: erased users; users not linked on any private channel
 * (channels.h PD_CHANNEL_PRIVATE) at as_of; users who withdrew
 * PD_CONSENT_MARKETING or PD_CONSENT_PERSONALISED_MARKETING (consent.h);
 * users whose pushes in the day or week ending at as_of already reach the
 * contact policy's per_day or per_week cap (pressure.h; the per-channel
 * caps are for pd_contact_check() at sending time). The channel suggested is the user's
 * linked private channel, preferring WeCom, then WeChat, then the lowest
 * channel id.
 *
 * Guides: a user belongs to their home guide (metrics.h); users with no
 * home guide form the list of guide 0 ("unassigned"), with the same
 * capacity. Deactivated guides' users stay listed under them (handover is
 * the caller's decision).
 */
#ifndef PRIVDOMAIN_FOLLOWUP_H
#define PRIVDOMAIN_FOLLOWUP_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "metrics.h"
#include "pressure.h"
#include "status.h"
#include "store.h"
#include "store_summary.h"
#include "users.h"

PD_BEGIN_DECLS

/** Why a user is on the plan (passed as int32_t; never renumbered). */
enum {
  PD_FOLLOWUP_REPURCHASE_DUE = 1,
  PD_FOLLOWUP_WIN_BACK = 2,
  PD_FOLLOWUP_AFTER_SALES = 3,
  PD_FOLLOWUP_KEY_CUSTOMER = 4
};

/** Planning rules. Initialise with PD_FOLLOWUP_OPTIONS_INIT. */
typedef struct pd_followup_options {
  size_t size;
  uint32_t guide_capacity;    /**< users per guide per day (30), >= 1 */
  uint32_t key_customers;     /**< top rows by CLV that are key (1000) */
  int64_t usage_cycle;        /**< seconds; 0 = the user's own interval */
  int64_t after_sales_delay;  /**< seconds after a purchase (3 days) */
  int64_t key_care_interval;  /**< seconds without 1:1 contact (14 days) */
  double win_back_p_alive;    /**< threshold in [0, 1] (0.5) */
  /** Contact caps (NULL = PD_CONTACT_POLICY_INIT). */
  const pd_contact_policy *policy;
} pd_followup_options;

#define PD_FOLLOWUP_OPTIONS_INIT \
  {sizeof(pd_followup_options), 30, 1000, 0, 259200, 1209600, 0.5, NULL}

/** One user on a guide's list. */
typedef struct pd_followup_item {
  size_t size;
  uint32_t guide;         /**< home guide, 0 = unassigned */
  uint32_t rank;          /**< 1-based position in the guide's list */
  pd_user_id user;        /**< canonical user id */
  int32_t reason;         /**< PD_FOLLOWUP_* */
  int32_t channel;        /**< private channel to use */
  double value;           /**< major currency units */
  double p_alive;
  double value_at_risk;
  int64_t last_purchase;  /**< time, -1 if none */
} pd_followup_item;

/** Called once per listed user, guides in increasing id, each guide's list
 *  in rank order. Return non-zero to stop. The item is valid only during
 *  the call. */
typedef int (*pd_followup_fn)(void *user, const pd_followup_item *item);

/**
 * pd_followup_plan - the follow-up plan of the users matching @filter for
 * the day ending at filter->as_of (rules at the top of this header).
 *
 * @values: predictions (pd_store_summary_predict()) of this store, or NULL
 *          to rank by spend to date without win-back and key-customer
 *          reasons. Users absent from it have value = net spend and
 *          p_alive = 1.
 * @opts: NULL = PD_FOLLOWUP_OPTIONS_INIT.
 * @fn runs under the store's lock (queries allowed, recording gives
 * PD_E_MISUSE). Returns PD_OK also when @fn stopped early.
 * Errors: PD_E_MISUSE (bad store or summary handle), PD_E_INVALID (fn
 * NULL, bad opts size, guide_capacity 0), PD_E_RANGE (negative durations,
 * threshold outside [0, 1] or NaN), the filter errors of metrics.h,
 * PD_E_NOMEM. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_followup_plan(pd_store *store,
                                  const pd_store_summary *values,
                                  const pd_metrics_filter *filter,
                                  const pd_followup_options *opts,
                                  pd_followup_fn fn, void *user);

PD_END_DECLS

#endif /* PRIVDOMAIN_FOLLOWUP_H */
