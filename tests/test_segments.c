/* Specification of segments (segments.h): RFM quintile scores with ties
 * broken by user id, the named segments, and the super-user score. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_b_testutil.h"

#define D MB_DAY

/* As of day 100:
 *   u1: 100 on day 10                         R 90 d, F 1, M 100
 *   u2: 200 on days 50, 60, 70, 80, 90        R 10 d, F 5, M 1000
 *   u3: 50 on day 99                          R 1 d,  F 1, M 50
 *   u4: 200 on days 85, 90, 95                R 5 d,  F 3, M 600
 *   u5: 150 on days 30, 60                    R 40 d, F 2, M 300
 * u3 referred u6 and u7, u1 referred u8 (no orders: not buyers); u5 wrote
 * three times in the last 90 days and once before. */
static const mb_ev script[] = {
    {MB_ORDER, MB_T0 + 10 * D, 1, 0, 0, 0, 0, 100},
    {MB_ORDER, MB_T0 + 50 * D, 2, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 60 * D, 2, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 70 * D, 2, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 80 * D, 2, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 90 * D, 2, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 99 * D, 3, 0, 0, 0, 0, 50},
    {MB_ORDER, MB_T0 + 85 * D, 4, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 90 * D, 4, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 95 * D, 4, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 30 * D, 5, 0, 0, 0, 0, 150},
    {MB_ORDER, MB_T0 + 60 * D, 5, 0, 0, 0, 0, 150},
    {MB_REFERRAL, MB_T0 + 20 * D, 3, 6, 0, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + 21 * D, 3, 7, 0, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + 22 * D, 1, 8, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 1 * D, 5, PD_TOUCH_INBOUND_MESSAGE, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 50 * D, 5, PD_TOUCH_INBOUND_MESSAGE, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 60 * D, 5, PD_TOUCH_CONTENT_ENGAGEMENT, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 70 * D, 5, PD_TOUCH_LIVE_VIEW, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 71 * D, 5, PD_TOUCH_CONTENT_VIEW, 0, 0, 0, 0},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t AS_OF = MB_T0 + 100 * D;

static pd_store *store_with(uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 8);
  assert_int_equal(mb_play(s, script, N_SCRIPT, seed), PD_OK);
  return s;
}

static void the_segment_table(void **st) {
  (void)st;
  static const struct {
    int32_t r, f, seg;
  } t[] = {
      {5, 5, PD_SEGMENT_CHAMPIONS},      {5, 4, PD_SEGMENT_CHAMPIONS},
      {4, 5, PD_SEGMENT_LOYAL},          {3, 4, PD_SEGMENT_LOYAL},
      {3, 3, PD_SEGMENT_NEED_ATTENTION}, {5, 2, PD_SEGMENT_POTENTIAL_LOYALIST},
      {4, 3, PD_SEGMENT_POTENTIAL_LOYALIST}, {5, 1, PD_SEGMENT_NEW},
      {4, 1, PD_SEGMENT_PROMISING},      {3, 1, PD_SEGMENT_ABOUT_TO_SLEEP},
      {3, 2, PD_SEGMENT_ABOUT_TO_SLEEP}, {2, 5, PD_SEGMENT_CANT_LOSE},
      {1, 5, PD_SEGMENT_CANT_LOSE},      {1, 4, PD_SEGMENT_AT_RISK},
      {2, 3, PD_SEGMENT_AT_RISK},        {1, 1, PD_SEGMENT_LOST},
      {2, 2, PD_SEGMENT_HIBERNATING},    {1, 2, PD_SEGMENT_HIBERNATING},
      {2, 1, PD_SEGMENT_HIBERNATING},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    assert_int_equal(pd_segment_from_scores(t[i].r, t[i].f), t[i].seg);
  /* Every score pair has a segment. */
  for (int32_t r = 1; r <= 5; r++)
    for (int32_t f = 1; f <= 5; f++)
      assert_true(pd_segment_from_scores(r, f) >= 1);
  assert_int_equal(pd_segment_from_scores(0, 3), 0);
  assert_int_equal(pd_segment_from_scores(3, 6), 0);
  assert_string_equal(pd_segment_name(PD_SEGMENT_CANT_LOSE), "cant_lose");
  assert_string_equal(pd_segment_name(PD_SEGMENT_CHAMPIONS), "champions");
  assert_string_equal(pd_segment_name(PD_SEGMENT_LOST), "lost");
  assert_null(pd_segment_name(0));
  assert_null(pd_segment_name(PD_SEGMENT_LAST + 1));
}

/* Five buyers, one per quintile. Recency worst first: u1, u5, u2, u4,
 * u3. Frequency: u1 and u3 tie at 1, the larger id ranks lower: u3 1,
 * u1 2, u5 3, u4 4, u2 5. Monetary: u3, u1, u5, u4, u2.
 * Segments: u1 (1,2) hibernating, u2 (3,5) loyal, u3 (5,1) new, u4 (4,4)
 * loyal, u5 (2,3) at risk. */
static void rfm_quintiles_and_segments(void **st) {
  (void)st;
  static const struct {
    pd_user_id user;
    double recency;
    uint64_t f;
    int64_t m;
    int32_t rs, fs, ms, seg;
  } want[] = {
      {1, 90, 1, 100, 1, 2, 2, PD_SEGMENT_HIBERNATING},
      {2, 10, 5, 1000, 3, 5, 5, PD_SEGMENT_LOYAL},
      {3, 1, 1, 50, 5, 1, 1, PD_SEGMENT_NEW},
      {4, 5, 3, 600, 4, 4, 4, PD_SEGMENT_LOYAL},
      {5, 40, 2, 300, 2, 3, 3, PD_SEGMENT_AT_RISK},
  };
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_rows *rows = NULL;
    assert_int_equal(pd_rfm_compute(s, &f, &rows), PD_OK);
    assert_int_equal(pd_rows_count(rows), 5);
    for (size_t i = 0; i < 5; i++) {
      pd_rfm_row r = PD_RFM_ROW_INIT;
      assert_int_equal(pd_rfm_row_get(rows, i, &r), PD_OK);
      assert_int_equal(r.user, want[i].user);
      assert_float_equal(r.recency_days, want[i].recency, 1e-12);
      assert_int_equal(r.frequency, want[i].f);
      assert_int_equal(r.monetary, want[i].m);
      assert_int_equal(r.r_score, want[i].rs);
      assert_int_equal(r.f_score, want[i].fs);
      assert_int_equal(r.m_score, want[i].ms);
      assert_int_equal(r.segment, want[i].seg);
    }
    pd_segment_count c = PD_SEGMENT_COUNT_INIT;
    assert_int_equal(pd_rfm_segment_count(rows, PD_SEGMENT_LOYAL, &c), PD_OK);
    assert_int_equal(c.users, 2);
    assert_int_equal(c.revenue, 1600);
    assert_int_equal(pd_rfm_segment_count(rows, PD_SEGMENT_CHAMPIONS, &c),
                     PD_OK);
    assert_int_equal(c.users, 0);
    assert_int_equal(pd_rfm_segment_count(rows, 0, &c), PD_E_INVALID);
    pd_rows_free(rows);
    pd_store_free(s);
  }
}

/* As of day 60 only u1, u2 and u5 are buyers: ranks 0, 1, 2 of 3 score
 * 1 + floor(5r / 3) = 1, 2, 4. */
static void quintiles_of_a_population_not_divisible_by_five(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 60 * D);
  pd_rows *rows = NULL;
  assert_int_equal(pd_rfm_compute(s, &f, &rows), PD_OK);
  assert_int_equal(pd_rows_count(rows), 3);
  pd_rfm_row r = PD_RFM_ROW_INIT;
  /* Recency: u1 50 d (rank 0 -> 1), u2 0 d and u5 0 d tie: u5 (larger id)
   * rank 1 -> 2, u2 rank 2 -> 4. */
  assert_int_equal(pd_rfm_row_get(rows, 0, &r), PD_OK);
  assert_int_equal(r.r_score, 1);
  assert_int_equal(pd_rfm_row_get(rows, 1, &r), PD_OK);
  assert_int_equal(r.user, 2);
  assert_int_equal(r.r_score, 4);
  assert_int_equal(pd_rfm_row_get(rows, 2, &r), PD_OK);
  assert_int_equal(r.r_score, 2);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* Monetary scores rank the amounts whatever bytes they differ in: here
 * the low byte, the fifth and the sixth (the sort skips the bytes that
 * are the same in every amount). Ranks 0-4 of 5 score 1-5. */
static void monetary_scores_rank_amounts_that_differ_in_high_bytes(
    void **st) {
  (void)st;
  static const int64_t amount[5] = {7, INT64_C(1) << 32, INT64_C(3) << 32,
                                    INT64_C(1) << 40, 9};
  static const int32_t want[5] = {1, 3, 4, 5, 2};
  mb_ev ev[5];
  for (uint32_t u = 0; u < 5; u++)
    ev[u] = (mb_ev){MB_ORDER, MB_T0 + (int64_t)(u + 1) * D, u + 1, 0, 0, 0, 0,
                    amount[u]};
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 5);
  assert_int_equal(mb_play(s, ev, 5, 0), PD_OK);
  pd_metrics_filter f = mb_filter(MB_T0 + 10 * D);
  pd_rows *rows = NULL;
  assert_int_equal(pd_rfm_compute(s, &f, &rows), PD_OK);
  assert_int_equal(pd_rows_count(rows), 5);
  for (size_t i = 0; i < 5; i++) {
    pd_rfm_row r = PD_RFM_ROW_INIT;
    assert_int_equal(pd_rfm_row_get(rows, i, &r), PD_OK);
    assert_int_equal(r.user, i + 1);
    assert_int_equal(r.monetary, amount[i]);
    assert_int_equal(r.m_score, want[i]);
    /* one order each, on days 1-5: recency ranks by day, frequency ties
     * rank the larger id first */
    assert_int_equal(r.r_score, (int32_t)i + 1);
    assert_int_equal(r.f_score, 5 - (int32_t)i);
  }
  pd_rows_free(rows);
  pd_store_free(s);
}

static double term(double x, double max) {
  return max > 0 ? log1p(x) / log1p(max) : 0;
}

/* Default weights 0.4 spend, 0.2 orders, 0.2 referrals, 0.2 engagement;
 * maxima 1000, 5, 2 and 3 (u5's messages, content engagement and live
 * view in the last 90 days; the content view does not count). */
static void super_users_by_the_documented_score(void **st) {
  (void)st;
  static const double spend[] = {0, 100, 1000, 50, 600, 300};
  static const double orders[] = {0, 1, 5, 1, 3, 2};
  static const double refs[] = {0, 1, 0, 2, 0, 0};
  static const double eng[] = {0, 0, 0, 0, 0, 3};
  double score[6];
  for (int u = 1; u <= 5; u++)
    score[u] = 100 * (0.4 * term(spend[u], 1000) + 0.2 * term(orders[u], 5) +
                      0.2 * term(refs[u], 2) + 0.2 * term(eng[u], 3));
  /* By hand: u5 65.3, u2 60, u4 52.5, u3 50.5, u1 about 40. */
  static const pd_user_id order[] = {5, 2, 4, 3, 1};
  pd_store *s = store_with(2);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_super_user rows[5];
  rows[0].size = sizeof rows[0];
  size_t n = 0;
  assert_int_equal(pd_super_users(s, &f, NULL, 5, rows, 5, &n), PD_OK);
  assert_int_equal(n, 5);
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(rows[i].user, order[i]);
    assert_float_equal(rows[i].score, score[order[i]], 1e-9);
  }
  assert_float_equal(rows[1].score, 60.0, 1e-9);
  assert_int_equal(rows[0].engagement, 3);
  assert_int_equal(rows[3].referrals, 2);
  assert_int_equal(rows[1].spend, 1000);
  /* Top 2 only, and a threshold: only u5 and u2 score >= 55. */
  pd_super_user_options o = PD_SUPER_USER_OPTIONS_INIT;
  o.min_score = 55;
  assert_int_equal(pd_super_users(s, &f, &o, 5, rows, 5, &n), PD_OK);
  assert_int_equal(n, 2);
  assert_int_equal(pd_super_users(s, &f, NULL, 1, rows, 5, &n), PD_OK);
  assert_int_equal(n, 1);
  assert_int_equal(rows[0].user, 5);
  /* Referrals only: u3 (2 referred) 100, u1 ln 2 / ln 3. */
  o = (pd_super_user_options)PD_SUPER_USER_OPTIONS_INIT;
  o.w_spend = o.w_frequency = o.w_engagement = 0;
  o.min_score = 1;
  assert_int_equal(pd_super_users(s, &f, &o, 5, rows, 5, &n), PD_OK);
  assert_int_equal(n, 2);
  assert_int_equal(rows[0].user, 3);
  assert_float_equal(rows[0].score, 100.0, 1e-9);
  assert_float_equal(rows[1].score, 100 * log(2) / log(3), 1e-9);
  pd_store_free(s);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = NULL;
  assert_int_equal(pd_rfm_compute(NULL, &f, &rows), PD_E_MISUSE);
  assert_int_equal(pd_rfm_compute(s, &f, NULL), PD_E_INVALID);
  pd_metrics_filter bad = f;
  bad.size = 0;
  assert_int_equal(pd_rfm_compute(s, &bad, &rows), PD_E_INVALID);
  bad = f;
  bad.channel = 1500;
  assert_int_equal(pd_rfm_compute(s, &bad, &rows), PD_E_NOT_FOUND);
  pd_super_user r[2];
  r[0].size = sizeof r[0];
  size_t n = 0;
  pd_super_user_options o = PD_SUPER_USER_OPTIONS_INIT;
  o.w_spend = -1;
  assert_int_equal(pd_super_users(s, &f, &o, 2, r, 2, &n), PD_E_INVALID);
  o = (pd_super_user_options)PD_SUPER_USER_OPTIONS_INIT;
  o.w_spend = o.w_frequency = o.w_referrals = o.w_engagement = 0;
  assert_int_equal(pd_super_users(s, &f, &o, 2, r, 2, &n), PD_E_INVALID);
  o = (pd_super_user_options)PD_SUPER_USER_OPTIONS_INIT;
  o.min_score = 101;
  assert_int_equal(pd_super_users(s, &f, &o, 2, r, 2, &n), PD_E_INVALID);
  o = (pd_super_user_options)PD_SUPER_USER_OPTIONS_INIT;
  o.engagement_window = 0;
  assert_int_equal(pd_super_users(s, &f, &o, 2, r, 2, &n), PD_E_INVALID);
  assert_int_equal(pd_super_users(s, &f, NULL, 3, r, 2, &n), PD_E_INVALID);
  assert_int_equal(pd_super_users(s, &f, NULL, 0, r, 2, &n), PD_E_INVALID);
  r[0].size = 3;
  assert_int_equal(pd_super_users(s, &f, NULL, 2, r, 2, &n), PD_E_INVALID);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_segment_table),
      cmocka_unit_test(rfm_quintiles_and_segments),
      cmocka_unit_test(quintiles_of_a_population_not_divisible_by_five),
      cmocka_unit_test(monetary_scores_rank_amounts_that_differ_in_high_bytes),
      cmocka_unit_test(super_users_by_the_documented_score),
      cmocka_unit_test(bad_input_gets_a_clear_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
