/* Specification of trust (trust.h): 信任 = 专业 × 靠谱 × 亲密度 / 自私度 with
 * components derived from touchpoints by the documented rules — checked
 * against values computed by hand from those rules on tiny stores, and
 * for the properties an operator relies on (broken promises, promotion
 * bursts and silence lower trust; arrival order does not matter). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_b_testutil.h" /* mb_filter */
#include "metrics_testutil.h"
#include "testutil_alloc.h"
#include "metrics_nomem.h"

static const int64_t T0 = 1700000000;

static int setup(void **state) {
  pd_store *s;
  if (pd_store_new(NULL, &s) != PD_OK) return -1;
  *state = s;
  return 0;
}

static int teardown(void **state) {
  pd_store_free(*state);
  return 0;
}

static pd_trust trust_of(pd_store *s, pd_user_id u, uint32_t guide, int64_t t,
                         const pd_trust_options *o) {
  pd_trust r = PD_TRUST_INIT;
  assert_int_equal(pd_trust_user(s, u, guide, t, o, &r), PD_OK);
  return r;
}

static double score_mult(double t) {
  return 100 * log(t / 0.1) / log(1000 / 0.1);
}

static void a_user_with_no_touchpoints_has_the_prior_components(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  pd_trust r = trust_of(s, u, 0, T0, NULL);
  /* E = 1 + 9·1/2, R = 1 + 9·3/4, I = 1, S = 1 + 9·1/4 */
  assert_float_equal(r.expertise, 5.5, 1e-12);
  assert_float_equal(r.reliability, 7.75, 1e-12);
  assert_float_equal(r.intimacy, 1.0, 1e-12);
  assert_float_equal(r.self_orientation, 3.25, 1e-12);
  assert_float_equal(r.trust, 5.5 * 7.75 / 3.25, 1e-12);
  assert_float_equal(r.score, score_mult(5.5 * 7.75 / 3.25), 1e-9);
}

/* Kept 1, broken 1; an inbound answered at once (one half-life ago), an
 * inbound never answered (two half-lives ago), an inbound still within
 * its reply window (not counted). */
static void hand_computed_components_on_a_tiny_store(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  const int64_t H = 30 * DAY; /* the default half-life */
  mt_touch(s, u, PD_TOUCH_PROMISE_KEPT, PD_PURPOSE_NONE, T0 - 10 * DAY);
  mt_touch(s, u, PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, T0 - 5 * DAY);
  mt_touch(s, u, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, T0 - H);
  mt_touch(s, u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE, T0 - H);
  mt_touch(s, u, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, T0 - 2 * H);
  mt_touch(s, u, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, T0);
  pd_trust r = trust_of(s, u, 0, T0, NULL);
  assert_int_equal(r.promises_kept, 1);
  assert_int_equal(r.promises_broken, 1);
  assert_int_equal(r.inbound, 2);
  assert_int_equal(r.inbound_answered, 1);
  assert_int_equal(r.brand_touches, 1);
  assert_int_equal(r.promotions, 0);
  /* R: (3 + 2) / (3 + 1 + 2 + 2) = 0.625 */
  double R = 1 + 9 * 0.625;
  /* I: w = 3·½ + 1·½ + 3·¼ + 3·1 (the fresh inbound still counts for
   * intimacy) = 5.75 */
  double I = 1 + 9 * (1 - exp(-5.75 / 5));
  /* S: (1 + 0) / (1 + 3 + 1) = 0.2 */
  double S = 1 + 9 * 0.2;
  assert_float_equal(r.reliability, R, 1e-12);
  assert_float_equal(r.intimacy, I, 1e-12);
  assert_float_equal(r.self_orientation, S, 1e-12);
  assert_float_equal(r.expertise, 5.5, 1e-12);
  assert_float_equal(r.trust, 5.5 * R * I / S, 1e-9);
  assert_float_equal(r.score, score_mult(5.5 * R * I / S), 1e-9);
}

static void the_additive_variant_and_its_score(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  pd_trust_options o = PD_TRUST_OPTIONS_INIT;
  o.formula = PD_TRUST_ADDITIVE;
  pd_trust r = trust_of(s, u, 0, T0, &o);
  double t = (5.5 + 7.75 + 1.0) / 3.25;
  assert_float_equal(r.trust, t, 1e-12);
  assert_float_equal(r.score, 100 * log(t / 0.3) / log(100.0), 1e-9);
}

static void expertise_follows_responses_to_content(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  for (int k = 0; k < 4; k++)
    mt_touch(s, u, PD_TOUCH_BROADCAST, PD_PURPOSE_CONTENT, T0 - k * DAY);
  mt_touch(s, u, PD_TOUCH_CONTENT_VIEW, PD_PURPOSE_NONE, T0 - DAY);
  mt_touch(s, u, PD_TOUCH_CONTENT_ENGAGEMENT, PD_PURPOSE_NONE, T0 - DAY);
  /* responses 1 + 2 = 3 of 4 exposures: (1 + 3) / (1 + 1 + 4) */
  pd_trust r = trust_of(s, u, 0, T0, NULL);
  assert_float_equal(r.expertise, 1 + 9 * (4.0 / 6.0), 1e-12);
}

static void explicit_ratings_blend_with_the_configured_weight(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  mt_rating(s, u, 10, 0, 0, 0, T0 - DAY);
  mt_rating(s, u, 8, 2, 0, 0, T0 - DAY);
  pd_trust r = trust_of(s, u, 0, T0, NULL);
  assert_int_equal(r.ratings, 2);
  assert_float_equal(r.expertise, 0.5 * 5.5 + 0.5 * 9.0, 1e-12);
  assert_float_equal(r.reliability, 0.5 * 7.75 + 0.5 * 2.0, 1e-12);
  assert_float_equal(r.intimacy, 1.0, 1e-12); /* never rated */
  pd_trust_options o = PD_TRUST_OPTIONS_INIT;
  o.rating_weight = 1.0;
  r = trust_of(s, u, 0, T0, &o);
  assert_float_equal(r.expertise, 9.0, 1e-12);
  o.rating_weight = 0.0;
  r = trust_of(s, u, 0, T0, &o);
  assert_float_equal(r.expertise, 5.5, 1e-12);
}

static void more_broken_promises_lower_trust(void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b");
  for (int k = 0; k < 3; k++) {
    mt_touch(s, a, PD_TOUCH_PROMISE_KEPT, PD_PURPOSE_NONE, T0 - k * DAY);
    mt_touch(s, b, PD_TOUCH_PROMISE_KEPT, PD_PURPOSE_NONE, T0 - k * DAY);
  }
  mt_touch(s, b, PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, T0 - DAY);
  pd_trust ra = trust_of(s, a, 0, T0, NULL), rb = trust_of(s, b, 0, T0, NULL);
  assert_true(rb.reliability < ra.reliability);
  assert_true(rb.trust < ra.trust);
  mt_touch(s, b, PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, T0 - DAY);
  pd_trust rb2 = trust_of(s, b, 0, T0, NULL);
  assert_true(rb2.trust < rb.trust);
  /* One event moves reliability by at most 9 · 1/(4+1) thanks to the
   * prior. */
  pd_user_id c = mt_user(s, "c");
  mt_touch(s, c, PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, T0 - DAY);
  assert_true(trust_of(s, c, 0, T0, NULL).reliability > 7.75 - 9.0 / 5 - 1e-9);
}

static void a_burst_of_promotions_raises_self_orientation(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  mt_touch(s, u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE, T0 - 20 * DAY);
  pd_trust before = trust_of(s, u, 0, T0 - DAY, NULL);
  for (int k = 0; k < 10; k++)
    mt_touch(s, u, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, T0 - k * HOUR);
  pd_trust after = trust_of(s, u, 0, T0, NULL);
  assert_int_equal(after.promotions, 10);
  /* Ten pushes within a day against a cap of 1 a day: 9 over the cap. */
  assert_int_equal(after.over_cap_pushes, 9);
  double p = (1.0 + 10) / (1 + 3 + 11);
  p += (1 - p) * (1 - exp(-9.0 / 3));
  assert_float_equal(after.self_orientation, 1 + 9 * p, 1e-12);
  assert_true(after.self_orientation > before.self_orientation);
  assert_true(after.trust < before.trust);
}

static void silence_decays_intimacy(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  for (int k = 0; k < 5; k++) {
    mt_touch(s, u, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, T0 - k * DAY);
    mt_touch(s, u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE,
             T0 - k * DAY + HOUR);
  }
  double i0 = trust_of(s, u, 0, T0 + HOUR, NULL).intimacy;
  double i1 = trust_of(s, u, 0, T0 + 30 * DAY, NULL).intimacy;
  double i2 = trust_of(s, u, 0, T0 + 365 * DAY, NULL).intimacy;
  assert_true(i0 > i1 && i1 > i2);
  assert_true(i2 < 1.01);
}

static void one_to_one_counts_more_than_broadcast_and_inbound_most(
    void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b"), c = mt_user(s, "c");
  mt_touch(s, a, PD_TOUCH_BROADCAST, PD_PURPOSE_CONTENT, T0);
  mt_touch(s, b, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_CONTENT, T0);
  mt_touch(s, c, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, T0);
  double ia = trust_of(s, a, 0, T0, NULL).intimacy;
  double ib = trust_of(s, b, 0, T0, NULL).intimacy;
  double ic = trust_of(s, c, 0, T0, NULL).intimacy;
  assert_true(ia < ib && ib < ic);
}

static void arrival_order_does_not_matter(void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b");
  struct {
    int32_t kind, purpose;
    int64_t dt;
  } ev[] = {
      {PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, -3 * DAY},
      {PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE, -3 * DAY + 5 * HOUR},
      {PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, -2 * DAY},
      {PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, -2 * DAY + HOUR},
      {PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, -DAY},
      {PD_TOUCH_CONTENT_VIEW, PD_PURPOSE_NONE, -DAY},
      {PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE, -40 * HOUR},
  };
  size_t n = sizeof ev / sizeof *ev;
  for (size_t k = 0; k < n; k++)
    mt_touch(s, a, ev[k].kind, ev[k].purpose, T0 + ev[k].dt);
  for (size_t k = n; k-- > 0;)
    mt_touch(s, b, ev[k].kind, ev[k].purpose, T0 + ev[k].dt);
  pd_trust ra = trust_of(s, a, 0, T0, NULL), rb = trust_of(s, b, 0, T0, NULL);
  assert_float_equal(ra.expertise, rb.expertise, 1e-12);
  assert_float_equal(ra.reliability, rb.reliability, 1e-12);
  assert_float_equal(ra.intimacy, rb.intimacy, 1e-12);
  assert_float_equal(ra.self_orientation, rb.self_orientation, 1e-12);
  assert_float_equal(ra.trust, rb.trust, 1e-9);
  assert_int_equal(ra.over_cap_pushes, rb.over_cap_pushes);
  assert_int_equal(ra.over_cap_pushes, 1);
}

/* Two pushes in the same second on different channels: which of them
 * broke a cap depends on which comes first, and pressure.h puts the lower
 * event id first. Trust counts them the same way, whatever the arrival
 * order: with caps of 2 a day and 1 per channel a day, Z (channel A), then
 * X (channel A) and Y (channel B) an hour later, X breaks the channel cap
 * and Y the daily cap (2 over); Y before X would leave only X over. */
static void pushes_in_the_same_second_count_as_pressure_counts_them(
    void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b");
  const int32_t push = PD_TOUCH_BROADCAST, promo = PD_PURPOSE_PROMOTION;
  mt_next_eid = 9001; /* event ids 9001 (Z), 9002 (X), 9003 (Y) */
  mt_touch_g(s, a, push, promo, PD_CHANNEL_WECOM, 0, T0 - 2 * HOUR);
  mt_touch_g(s, a, push, promo, PD_CHANNEL_WECOM, 0, T0 - HOUR);
  mt_touch_g(s, a, push, promo, PD_CHANNEL_WECHAT, 0, T0 - HOUR);
  mt_next_eid = 9101; /* the same for b, Y recorded before X */
  mt_touch_g(s, b, push, promo, PD_CHANNEL_WECOM, 0, T0 - 2 * HOUR);
  mt_next_eid = 9103;
  mt_touch_g(s, b, push, promo, PD_CHANNEL_WECHAT, 0, T0 - HOUR);
  mt_next_eid = 9102;
  mt_touch_g(s, b, push, promo, PD_CHANNEL_WECOM, 0, T0 - HOUR);
  pd_contact_policy pol = PD_CONTACT_POLICY_INIT;
  pol.per_day = 2;
  pol.per_week = 0;
  pol.per_channel_day = 1;
  pd_trust_options o = PD_TRUST_OPTIONS_INIT;
  o.policy = &pol;
  pd_trust ra = trust_of(s, a, 0, T0, &o), rb = trust_of(s, b, 0, T0, &o);
  assert_int_equal(ra.over_cap_pushes, 2);
  assert_int_equal(rb.over_cap_pushes, 2);
  assert_true(ra.trust == rb.trust);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0;
  pd_pressure_stats ps = PD_PRESSURE_STATS_INIT;
  assert_int_equal(pd_pressure_stats_get(s, &f, 7 * DAY, &pol, &ps), PD_OK);
  assert_int_equal(ps.over_cap_pushes, 4);
  /* The distribution finishes users as pd_trust_user does. */
  pd_trust_distribution d = PD_TRUST_DISTRIBUTION_INIT;
  assert_int_equal(pd_trust_distribution_get(s, &f, &o, &d), PD_OK);
  assert_int_equal(d.users, 2);
  assert_true(d.mean_score == ra.score);
}

static void a_user_guide_relationship_counts_that_guides_touches(
    void **state) {
  pd_store *s = *state;
  uint32_t g1 = 0, g2 = 0;
  assert_int_equal(pd_guide_ensure(s, "g1", PD_NTS, 0, &g1), PD_OK);
  assert_int_equal(pd_guide_ensure(s, "g2", PD_NTS, 0, &g2), PD_OK);
  pd_user_id u = mt_user(s, "a");
  mt_touch_g(s, u, PD_TOUCH_PROMISE_KEPT, PD_PURPOSE_NONE, 0, g1, T0 - DAY);
  mt_touch_g(s, u, PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, 0, g2, T0 - DAY);
  mt_touch_g(s, u, PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, 0, g2, T0 - DAY);
  pd_trust r1 = trust_of(s, u, g1, T0, NULL), r2 = trust_of(s, u, g2, T0, NULL);
  pd_trust all = trust_of(s, u, 0, T0, NULL);
  assert_float_equal(r1.reliability, 1 + 9 * 4.0 / 5.0, 1e-12);
  assert_float_equal(r2.reliability, 1 + 9 * 3.0 / 6.0, 1e-12);
  assert_float_equal(all.reliability, 1 + 9 * 4.0 / 7.0, 1e-12);
  pd_trust r = PD_TRUST_INIT;
  assert_int_equal(pd_trust_user(s, u, 99, T0, NULL, &r), PD_E_NOT_FOUND);
}

static void the_distribution_bins_and_deciles_the_scores(void **state) {
  pd_store *s = *state;
  double scores[4];
  pd_user_id u[4];
  for (int k = 0; k < 4; k++) {
    char key[8] = {'u', (char)('0' + k), 0};
    u[k] = mt_user(s, key);
    mt_link(s, u[k], PD_CHANNEL_WECOM, T0 - 50 * DAY);
    for (int j = 0; j < k * 3; j++) { /* answered conversations */
      mt_touch(s, u[k], PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE,
               T0 - j * HOUR - DAY);
      mt_touch(s, u[k], PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE,
               T0 - j * HOUR - DAY);
    }
    for (int j = 0; j < 3 - k; j++)
      mt_touch(s, u[k], PD_TOUCH_PROMISE_BROKEN, PD_PURPOSE_NONE, T0 - DAY);
  }
  for (int k = 0; k < 4; k++) scores[k] = trust_of(s, u[k], 0, T0, NULL).score;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0;
  pd_trust_distribution d = PD_TRUST_DISTRIBUTION_INIT;
  assert_int_equal(pd_trust_distribution_get(s, &f, NULL, &d), PD_OK);
  assert_int_equal(d.users, 4);
  double mean = 0;
  uint64_t hist[PD_TRUST_BINS] = {0};
  for (int k = 0; k < 4; k++) {
    mean += scores[k] / 4;
    hist[(int)(scores[k] / 10)]++;
  }
  assert_float_equal(d.mean_score, mean, 1e-9);
  for (int b = 0; b < PD_TRUST_BINS; b++) assert_int_equal(d.histogram[b], hist[b]);
  /* Scores rise with k (fewer broken promises, more conversations). Nearest
   * rank over 4: the 10th-20th percentiles are the lowest score, the
   * median the 2nd, the 90th the highest. */
  for (int k = 1; k < 4; k++) assert_true(scores[k] > scores[k - 1]);
  assert_float_equal(d.deciles[0], scores[0], 1e-12);
  assert_float_equal(d.deciles[1], scores[0], 1e-12);
  assert_float_equal(d.deciles[4], scores[1], 1e-12);
  assert_float_equal(d.deciles[8], scores[3], 1e-12);
  /* Users not yet linked at as_of fail a channel filter. */
  f.channel = PD_CHANNEL_WECOM;
  f.as_of = T0 - 60 * DAY;
  assert_int_equal(pd_trust_distribution_get(s, &f, NULL, &d), PD_OK);
  assert_int_equal(d.users, 0);
  assert_true(d.mean_score == 0);
}

/* The population figure sums each user's touchpoints in one pass over
 * the store; it must give, user by user, what pd_trust_user gives — for
 * every kind of touchpoint, recorded out of time order, across a merge and
 * for one guide's relationships. */
static void the_distribution_agrees_with_each_users_trust(void **state) {
  pd_store *s = *state;
  static const int32_t kinds[] = {
      PD_TOUCH_INBOUND_MESSAGE, PD_TOUCH_OUTBOUND_1TO1,
      PD_TOUCH_BROADCAST,       PD_TOUCH_POST_EXPOSURE,
      PD_TOUCH_CONTENT_VIEW,    PD_TOUCH_CONTENT_ENGAGEMENT,
      PD_TOUCH_LIVE_VIEW,       PD_TOUCH_PROMISE_KEPT,
      PD_TOUCH_PROMISE_BROKEN};
  uint32_t g[2];
  assert_int_equal(pd_guide_ensure(s, "g1", PD_NTS, 0, &g[0]), PD_OK);
  assert_int_equal(pd_guide_ensure(s, "g2", PD_NTS, 0, &g[1]), PD_OK);
  enum { N = 7 };
  pd_user_id u[N];
  for (int k = 0; k < N; k++) {
    char key[8] = {'m', (char)('0' + k), 0};
    u[k] = mt_user(s, key);
    mt_link(s, u[k], PD_CHANNEL_WECOM, T0 - 90 * DAY);
    mt_bind(s, u[k], g[0], T0 - 90 * DAY); /* every user's home guide */
  }
  uint64_t x = 12345;
  for (int j = 0; j < 400; j++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    uint32_t r = (uint32_t)(x >> 33);
    int32_t kind = kinds[r % 9];
    int32_t purpose = kind == PD_TOUCH_OUTBOUND_1TO1 ||
                              kind == PD_TOUCH_BROADCAST ||
                              kind == PD_TOUCH_POST_EXPOSURE
                          ? (int32_t)(1 + (r >> 8) % 3)
                          : PD_PURPOSE_NONE;
    /* Times at random within 60 days before T0 (some after it). */
    int64_t t = T0 - 60 * DAY + (int64_t)((r >> 4) % (62 * DAY));
    mt_touch_g(s, u[(r >> 12) % N], kind, purpose, PD_CHANNEL_WECOM,
               g[(r >> 20) % 2], t);
  }
  mt_rating(s, u[1], 9, 8, 0, 2, T0 - 3 * DAY);
  mt_rating(s, u[1], 7, 0, 6, 3, T0 - 2 * DAY);
  pd_user_id survivor;
  assert_int_equal(pd_user_merge(s, u[5], u[6], &survivor), PD_OK);
  /* The fourth case counts promotional post exposures as pushes, under a
   * cap of one a week: the distribution must keep them for the cap. */
  pd_contact_policy strict = PD_CONTACT_POLICY_INIT;
  strict.per_week = 1;
  strict.count_post_exposures = 1;
  double self_orientation_default = 0;
  for (int gi = 0; gi < 4; gi++) {
    uint32_t guide = gi == 1 ? g[0] : 0; /* g[1]'s touches left out */
    pd_trust_options o = PD_TRUST_OPTIONS_INIT;
    o.formula = gi == 2 ? PD_TRUST_ADDITIVE : PD_TRUST_MULTIPLICATIVE;
    if (gi == 3) o.policy = &strict;
    double se = 0, sr = 0, si = 0, ss = 0, sc = 0;
    for (int k = 0; k < N - 1; k++) {
      pd_trust t = trust_of(s, u[k], guide, T0, &o);
      se += t.expertise / (N - 1);
      sr += t.reliability / (N - 1);
      si += t.intimacy / (N - 1);
      ss += t.self_orientation / (N - 1);
      sc += t.score / (N - 1);
    }
    pd_metrics_filter f = PD_METRICS_FILTER_INIT;
    f.as_of = T0;
    f.guide = guide;
    pd_trust_distribution d = PD_TRUST_DISTRIBUTION_INIT;
    assert_int_equal(pd_trust_distribution_get(s, &f, &o, &d), PD_OK);
    assert_int_equal(d.users, N - 1);
    assert_float_equal(d.mean_expertise, se, 1e-12 * se);
    assert_float_equal(d.mean_reliability, sr, 1e-12 * sr);
    assert_float_equal(d.mean_intimacy, si, 1e-12 * si);
    assert_float_equal(d.mean_self_orientation, ss, 1e-12 * ss);
    assert_float_equal(d.mean_score, sc, 1e-12 * sc);
    if (gi == 0) self_orientation_default = d.mean_self_orientation;
    if (gi == 3) /* the case is not vacuous: over-cap pushes counted */
      assert_true(d.mean_self_orientation > self_orientation_default + 0.1);
    /* The same bits on any number of threads (pd_store_set_threads). */
    const int32_t counts[] = {2, 3, 0, 1};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
      pd_trust_distribution e;
      memset(&e, 0, sizeof e);
      e.size = sizeof e;
      assert_int_equal(pd_store_set_threads(s, counts[c]), PD_OK);
      assert_int_equal(pd_trust_distribution_get(s, &f, &o, &e), PD_OK);
      assert_memory_equal(&e, &d, sizeof d);
    }
  }
}

static void bad_options_are_rejected(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  pd_trust r = PD_TRUST_INIT;
  pd_trust_options o = PD_TRUST_OPTIONS_INIT;
  o.formula = 7;
  assert_int_equal(pd_trust_user(s, u, 0, T0, &o, &r), PD_E_INVALID);
  o = (pd_trust_options)PD_TRUST_OPTIONS_INIT;
  o.half_life = 0;
  assert_int_equal(pd_trust_user(s, u, 0, T0, &o, &r), PD_E_RANGE);
  o = (pd_trust_options)PD_TRUST_OPTIONS_INIT;
  o.rating_weight = NAN;
  assert_int_equal(pd_trust_user(s, u, 0, T0, &o, &r), PD_E_RANGE);
  o = (pd_trust_options)PD_TRUST_OPTIONS_INIT;
  o.prior_good = -1;
  assert_int_equal(pd_trust_user(s, u, 0, T0, &o, &r), PD_E_RANGE);
  o = (pd_trust_options)PD_TRUST_OPTIONS_INIT;
  o.size = 4;
  assert_int_equal(pd_trust_user(s, u, 0, T0, &o, &r), PD_E_INVALID);
  r.size = 4;
  assert_int_equal(pd_trust_user(s, u, 0, T0, NULL, &r), PD_E_INVALID);
  assert_int_equal(pd_trust_user(s, u, 0, T0, NULL, NULL), PD_E_INVALID);
  r.size = sizeof r;
  assert_int_equal(pd_trust_user(s, 42, 0, T0, NULL, &r), PD_E_NOT_FOUND);
  assert_int_equal(pd_trust_user(s, u, 0, -1, NULL, &r), PD_E_RANGE);
  assert_int_equal(pd_user_erase(s, u), PD_OK);
  assert_int_equal(pd_trust_user(s, u, 0, T0, NULL, &r), PD_E_ERASED);
}

static void out_of_memory_is_reported_and_leaks_nothing(void **state) {
  (void)state;
  test_alloc ta;
  pd_allocator a;
  pd_store *s = nomem_store(&ta, &a, T0);
  pd_metrics_filter f = mb_filter(T0);
  pd_trust_distribution d = PD_TRUST_DISTRIBUTION_INIT;
  EVERY_ALLOCATION_FAILS_CLEANLY(ta, pd_trust_distribution_get(s, &f, NULL, &d));
  assert_int_equal(d.users, 12);
  pd_trust r = PD_TRUST_INIT;
  EVERY_ALLOCATION_FAILS_CLEANLY(ta, pd_trust_user(s, 3, 0, T0, NULL, &r));
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

/* A store of one block of users runs one worker whatever the thread
 * count, so 64 threads must not allocate 64 workers' walk buffers
 * (about 19 MB): the largest request is the same as on one thread. */
static void more_threads_than_blocks_allocate_for_one_worker(void **state) {
  (void)state;
  test_alloc ta;
  pd_allocator a;
  pd_store *s = nomem_store(&ta, &a, T0);
  pd_metrics_filter f = mb_filter(T0);
  size_t largest[2];
  const int32_t threads[2] = {1, 64};
  for (int k = 0; k < 2; k++) {
    assert_int_equal(pd_store_set_threads(s, threads[k]), PD_OK);
    atomic_store(&ta.largest, 0);
    pd_trust_distribution d = PD_TRUST_DISTRIBUTION_INIT;
    assert_int_equal(pd_trust_distribution_get(s, &f, NULL, &d), PD_OK);
    assert_int_equal(d.users, 12);
    largest[k] = atomic_load(&ta.largest);
  }
  assert_int_equal(largest[1], largest[0]);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          a_user_with_no_touchpoints_has_the_prior_components, setup,
          teardown),
      cmocka_unit_test_setup_teardown(hand_computed_components_on_a_tiny_store,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(the_additive_variant_and_its_score,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(expertise_follows_responses_to_content,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          explicit_ratings_blend_with_the_configured_weight, setup, teardown),
      cmocka_unit_test_setup_teardown(more_broken_promises_lower_trust, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          a_burst_of_promotions_raises_self_orientation, setup, teardown),
      cmocka_unit_test_setup_teardown(silence_decays_intimacy, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          one_to_one_counts_more_than_broadcast_and_inbound_most, setup,
          teardown),
      cmocka_unit_test_setup_teardown(arrival_order_does_not_matter, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          pushes_in_the_same_second_count_as_pressure_counts_them, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          a_user_guide_relationship_counts_that_guides_touches, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          the_distribution_bins_and_deciles_the_scores, setup, teardown),
      cmocka_unit_test_setup_teardown(
          the_distribution_agrees_with_each_users_trust, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_options_are_rejected, setup,
                                      teardown),
      cmocka_unit_test(out_of_memory_is_reported_and_leaks_nothing),
      cmocka_unit_test(more_threads_than_blocks_allocate_for_one_worker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
