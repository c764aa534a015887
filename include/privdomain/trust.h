/*
 * libprivdomain — trust (信任 = 专业 × 靠谱 × 亲密度 / 自私度).
 *
 * Trust = expertise E × reliability R × intimacy I / self-orientation S,
 * each component on a 1–10 scale, so trust lies in [0.1, 1000]. The
 * additive variant (E + R + I) / S (The Trusted Advisor's form) lies in
 * [0.3, 30]. Both are also given on a 0–100 SCORE, log-normalised so that
 * each step of the score is the same factor of trust:
 *   multiplicative: score = 100 · (ln T − ln 0.1) / (ln 1000 − ln 0.1)
 *   additive:       score = 100 · (ln T − ln 0.3) / (ln 30 − ln 0.3)
 * (the worst possible trust gives 0, the best 100; neutral components
 * E = R = I = S = 5.5 give T = 30.25, score 62.0).
 *
 * The components are derived from the touchpoints (events.h) at or before
 * as_of by these rules (the numbers in brackets are the defaults of
 * pd_trust_options):
 * - Reliability (靠谱), Beta-smoothed success share p_R:
 *     successes = promises kept + inbound messages answered,
 *     failures  = promises broken + inbound messages not answered,
 *     p_R = (prior_good + successes) / (prior_good + prior_bad + successes
 *            + failures)        [prior_good 3, prior_bad 1: p_R = 0.75 with
 *                                no events, one event moves it ≤ 0.15],
 *     R = 1 + 9 · p_R.
 *   An inbound message (PD_TOUCH_INBOUND_MESSAGE) is answered when a
 *   PD_TOUCH_OUTBOUND_1TO1 follows it within reply_window seconds [86400]
 *   (at or after it, at or before as_of); an inbound message younger than
 *   reply_window at as_of without an answer yet is not counted.
 * - Intimacy (亲密度), time-decayed two-way interaction:
 *     w = Σ weight(kind) · 2^(−(as_of − t) / half_life)   [half_life 30 days]
 *     weights: inbound message 3 [weight_inbound], 1:1 outbound 1
 *     [weight_1to1], content engagement 1 [weight_engagement], broadcast
 *     0.2 [weight_broadcast], live view 0.5 [weight_live]; other kinds 0;
 *     I = 1 + 9 · (1 − exp(−w / intimacy_saturation))  [saturation 5]:
 *   silence makes I fall back towards 1; I reaches about 8.5 at w = 10.
 * - Self-orientation (自私度): the Beta-smoothed promotional share of
 *   brand-initiated touches (kinds OUTBOUND_1TO1, BROADCAST, POST_EXPOSURE)
 *     p_S = (prior_promo + promotions) / (prior_promo + prior_other +
 *            brand-initiated)   [prior_promo 1, prior_other 3: 0.25],
 *   raised by the pushes that broke the contact cap (by pressure.h's rule,
 *   pushes in the same second in event-id order; counted with `policy`,
 *   default PD_CONTACT_POLICY_INIT):
 *     p_S' = p_S + (1 − p_S) · (1 − exp(−over_cap / over_cap_scale)) [3],
 *     S = 1 + 9 · p_S'.
 * - Expertise (专业), Beta-smoothed response to content:
 *     responses = content views + live views + 2 · content engagements,
 *     exposures = brand-initiated touches with purpose CONTENT,
 *     p_E = (prior_good_e + responses) / (prior_good_e + prior_bad_e +
 *            max(exposures, responses))   [1, 1: 0.5],
 *     E = 1 + 9 · p_E.
 * - Explicit ratings (PD_TOUCH_RATING): for each component, the mean of the
 *   user's non-zero ratings of it, m, is blended in:
 *     component = (1 − rating_weight) · derived + rating_weight · m
 *   [rating_weight 0.5]; components never rated keep the derived value.
 *
 * Every rule is a sum over events, so the result does not depend on the
 * order in which events were recorded (up to floating-point rounding in
 * the last bits of the time-decayed sum). Per user–guide relationship
 * (guide != 0) only the touchpoints recorded with that guide count.
 */
#ifndef PRIVDOMAIN_TRUST_H
#define PRIVDOMAIN_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "metrics.h"
#include "pressure.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/** Trust formula (passed as int32_t). */
enum {
  PD_TRUST_MULTIPLICATIVE = 0, /**< E·R·I / S, in [0.1, 1000] */
  PD_TRUST_ADDITIVE = 1        /**< (E+R+I) / S, in [0.3, 30] */
};

/** How trust is derived. Initialise with PD_TRUST_OPTIONS_INIT (the
 *  defaults in the header comment) and change what you need. All doubles
 *  must be finite; weights >= 0; priors, half_life, saturations > 0;
 *  rating_weight in [0, 1]. */
typedef struct pd_trust_options {
  size_t size;
  int32_t formula;             /**< PD_TRUST_* */
  int64_t reply_window;        /**< seconds, > 0 */
  int64_t half_life;           /**< intimacy half-life, seconds, > 0 */
  double prior_good;           /**< reliability Beta prior, successes */
  double prior_bad;            /**< reliability Beta prior, failures */
  double weight_inbound;
  double weight_1to1;
  double weight_engagement;
  double weight_broadcast;
  double weight_live;
  double intimacy_saturation;
  double prior_promo;          /**< self-orientation prior, promotions */
  double prior_other;          /**< self-orientation prior, other touches */
  double over_cap_scale;
  double prior_good_e;         /**< expertise prior, responses */
  double prior_bad_e;          /**< expertise prior, non-responses */
  double rating_weight;
  /** Cap policy used to count over-cap pushes; NULL = default. */
  const pd_contact_policy *policy;
} pd_trust_options;

#define PD_TRUST_OPTIONS_INIT                                             \
  {sizeof(pd_trust_options), PD_TRUST_MULTIPLICATIVE, 86400, 2592000, 3.0, \
   1.0, 3.0, 1.0, 1.0, 0.2, 0.5, 5.0, 1.0, 3.0, 3.0, 1.0, 1.0, 0.5, NULL}

/** One user's (or user–guide relationship's) trust. Set size with
 *  PD_TRUST_INIT. */
typedef struct pd_trust {
  size_t size;
  double expertise;        /**< E, 1–10 */
  double reliability;      /**< R, 1–10 */
  double intimacy;         /**< I, 1–10 */
  double self_orientation; /**< S, 1–10 */
  double trust;            /**< E·R·I/S or (E+R+I)/S */
  double score;            /**< 0–100, log-normalised (header comment) */
  /* The evidence, for explanation in a report. */
  uint32_t promises_kept;
  uint32_t promises_broken;
  uint32_t inbound;          /**< inbound messages counted */
  uint32_t inbound_answered; /**< of those, answered in the window */
  uint32_t brand_touches;    /**< brand-initiated touches */
  uint32_t promotions;       /**< of those, promotional */
  uint32_t over_cap_pushes;
  uint32_t ratings;          /**< rating touchpoints */
} pd_trust;

#define PD_TRUST_INIT {sizeof(pd_trust), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/**
 * pd_trust_user - the trust of @user at @as_of, from all touchpoints
 * (@guide = 0) or only those recorded with @guide (the user–guide
 * relationship), derived with @opts (NULL = PD_TRUST_OPTIONS_INIT).
 *
 * Never gives a NaN: every component is within 1–10 by construction.
 * Errors: PD_E_MISUSE (bad handle), PD_E_INVALID (out NULL or too small,
 * opts or opts->policy too small or with unknown non-zero trailing bytes,
 * unknown formula), PD_E_RANGE (an option out of its range or not finite,
 * as_of outside the time range), PD_E_NOT_FOUND (no such user or guide),
 * PD_E_ERASED (user erased), PD_E_NOMEM.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_trust_user(pd_store *store, pd_user_id user,
                               uint32_t guide, int64_t as_of,
                               const pd_trust_options *opts, pd_trust *out);

/** Number of bins of the trust-score histogram (10-point bins). */
#define PD_TRUST_BINS 10

/** Trust over a population. Set size with PD_TRUST_DISTRIBUTION_INIT. */
typedef struct pd_trust_distribution {
  size_t size;
  uint64_t users;               /**< users matching the filter */
  double mean_score;            /**< 0 when users = 0 */
  double mean_expertise, mean_reliability, mean_intimacy,
      mean_self_orientation;
  /** histogram[k] = users with score in [10k, 10k + 10) (the last bin
   *  includes 100). */
  uint64_t histogram[PD_TRUST_BINS];
  /** deciles[k] = the (k+1)·10th percentile of the score, nearest rank
   *  (deciles[4] is the median); 0 when users = 0. */
  double deciles[9];
} pd_trust_distribution;

#define PD_TRUST_DISTRIBUTION_INIT {sizeof(pd_trust_distribution), 0, 0, 0, \
                                    0, 0, 0, {0}, {0}}

/**
 * pd_trust_distribution_get - the distribution of the trust score (all
 * touchpoints, as pd_trust_user() with guide 0) over the users matching
 * @filter at filter->as_of; for a filter on a guide, the user–guide
 * relationship with that guide is scored.
 *
 * Errors: PD_E_MISUSE, the filter errors of metrics.h, PD_E_INVALID (out
 * NULL or too small, bad opts), PD_E_RANGE (bad option), PD_E_NOMEM.
 * Thread safety: serialised on the store's lock.
 * Cost: one pass over the touchpoint column plus a temporary copy of 16
 * bytes per touchpoint at or before as_of (grouped by user), and 8 bytes
 * per user for the scores.
 */
PD_API pd_status pd_trust_distribution_get(pd_store *store,
                                           const pd_metrics_filter *filter,
                                           const pd_trust_options *opts,
                                           pd_trust_distribution *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_TRUST_H */
