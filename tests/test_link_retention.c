/* Specification of link retention (retention_metrics.h): the share of
 * each (channel, cohort) still linked at each period since linking, with
 * right-censoring at as_of; Kaplan–Meier link survival; the cohort
 * survivor curve and its sBG fit. Every expected number is worked out in
 * the comments from the events of the case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "km_testutil.h"
#include "metrics_b_testutil.h"

#define W PD_CHANNEL_WECOM
#define P PD_CHANNEL_WECHAT

/* u1 linked 01:00 day 0, deleted the brand day 1 02:00; u2 linked 05:00
 * and stayed; u3 linked day 1 00:00, removed by staff 01:00; u4 linked
 * 02:00, deleted 03:00, re-linked day 1 01:00; u5 linked on WeChat at
 * 03:00 and stayed. */
static const mb_ev script[] = {
    {MB_LINK, MB_T0 + 1 * MB_HOUR, 1, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + MB_DAY + 2 * MB_HOUR, 1, W,
     PD_UNLINK_USER_DELETED, 0, 0, 0},
    {MB_LINK, MB_T0 + 5 * MB_HOUR, 2, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0 + MB_DAY, 3, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + MB_DAY + MB_HOUR, 3, W, PD_UNLINK_STAFF_REMOVED, 0,
     0, 0},
    {MB_LINK, MB_T0 + 2 * MB_HOUR, 4, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 3 * MB_HOUR, 4, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
    {MB_LINK, MB_T0 + MB_DAY + MB_HOUR, 4, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0 + 3 * MB_HOUR, 5, P, 0, 0, 0, 0},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t AS_OF = MB_T0 + 2 * MB_DAY + 3 * MB_HOUR;

static pd_store *store_with(uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 5);
  assert_int_equal(mb_play(s, script, N_SCRIPT, seed), PD_OK);
  return s;
}

static pd_link_retention_options day_opts(int32_t channel) {
  pd_link_retention_options o = PD_LINK_RETENTION_OPTIONS_INIT;
  o.cohort_unit = PD_COHORT_DAY;
  o.periods = 3;
  o.channel = channel;
  return o;
}

typedef struct cell {
  int32_t channel;
  int64_t cohort;
  uint32_t period;
  uint64_t size, observed, retained;
} cell;

static void expect_rows(pd_rows *rows, const cell *want, size_t n) {
  assert_int_equal(pd_rows_count(rows), n);
  for (size_t i = 0; i < n; i++) {
    pd_link_retention_row r = PD_LINK_RETENTION_ROW_INIT;
    assert_int_equal(pd_link_retention_row_get(rows, i, &r), PD_OK);
    assert_int_equal(r.channel, want[i].channel);
    assert_int_equal(r.cohort_start, want[i].cohort);
    assert_int_equal(r.period, want[i].period);
    assert_int_equal(r.cohort_size, want[i].size);
    assert_int_equal(r.observed, want[i].observed);
    assert_int_equal(r.retained, want[i].retained);
    double rate = want[i].observed
                      ? (double)want[i].retained / (double)want[i].observed
                      : 0.0;
    assert_float_equal(r.rate, rate, 1e-12);
  }
}

/* WeChat sorts before WeCom (channel ids 1 < 2). WeCom day 0 = {u1, u2,
 * u4}: period 2 is at 02:00/06:00/03:00 of day 2 -> u2 (05:00 + 2 days =
 * 05:00 day 2) is after as_of (03:00 day 2) and censored; u1 is gone, u4
 * re-linked: 1 of 2. Day 1 = {u3}: linked at the moment of linking, gone
 * by period 1. */
static const cell full_table[] = {
    {P, MB_T0, 0, 1, 1, 1},          {P, MB_T0, 1, 1, 1, 1},
    {P, MB_T0, 2, 1, 1, 1},          {P, MB_T0, 3, 1, 0, 0},
    {W, MB_T0, 0, 3, 3, 3},          {W, MB_T0, 1, 3, 3, 3},
    {W, MB_T0, 2, 3, 2, 1},          {W, MB_T0, 3, 3, 0, 0},
    {W, MB_T0 + MB_DAY, 0, 1, 1, 1}, {W, MB_T0 + MB_DAY, 1, 1, 1, 0},
    {W, MB_T0 + MB_DAY, 2, 1, 0, 0}, {W, MB_T0 + MB_DAY, 3, 1, 0, 0},
};

static void share_still_linked_per_channel_cohort_and_period(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_link_retention_options o = day_opts(0);
  pd_rows *rows = NULL;
  assert_int_equal(pd_link_retention_compute(s, &f, &o, &rows), PD_OK);
  expect_rows(rows, full_table, sizeof full_table / sizeof full_table[0]);
  pd_rows_free(rows);
  pd_store_free(s);
}

static void recording_order_does_not_change_the_table(void **st) {
  (void)st;
  for (uint64_t seed = 1; seed <= 5; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_link_retention_options o = day_opts(0);
    pd_rows *rows = NULL;
    assert_int_equal(pd_link_retention_compute(s, &f, &o, &rows), PD_OK);
    expect_rows(rows, full_table, sizeof full_table / sizeof full_table[0]);
    pd_rows_free(rows);
    pd_store_free(s);
  }
}

/* At day 1 01:30 u1 has not deleted yet and u4 has re-linked; of the day
 * 0 WeCom cohort only u1's period 1 (day 1 01:00) is observed: linked. */
static void as_of_in_the_past_ignores_later_events(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + MB_DAY + MB_HOUR + 30 * 60);
  pd_link_retention_options o = day_opts(W);
  pd_rows *rows = NULL;
  assert_int_equal(pd_link_retention_compute(s, &f, &o, &rows), PD_OK);
  static const cell want[] = {
      {W, MB_T0, 0, 3, 3, 3},          {W, MB_T0, 1, 3, 1, 1},
      {W, MB_T0, 2, 3, 0, 0},          {W, MB_T0, 3, 3, 0, 0},
      {W, MB_T0 + MB_DAY, 0, 1, 1, 1}, {W, MB_T0 + MB_DAY, 1, 1, 0, 0},
      {W, MB_T0 + MB_DAY, 2, 1, 0, 0}, {W, MB_T0 + MB_DAY, 3, 1, 0, 0},
  };
  expect_rows(rows, want, sizeof want / sizeof want[0]);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* The filter selects users by acquisition channel: only u5 came through
 * WeChat. */
static void filter_selects_users_by_acquisition_channel(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  f.channel = P;
  pd_link_retention_options o = day_opts(0);
  pd_rows *rows = NULL;
  assert_int_equal(pd_link_retention_compute(s, &f, &o, &rows), PD_OK);
  expect_rows(rows, full_table, 4);
  pd_rows_free(rows);
  pd_store_free(s);
}

static void weekly_and_monthly_cohorts_start_on_monday_and_the_first(
    void **st) {
  (void)st;
  int64_t c = 0;
  /* 2024-01-10 12:00 is a Wednesday: week from Monday 2024-01-08. */
  int64_t t = MB_T0 + 9 * MB_DAY + 12 * MB_HOUR;
  assert_int_equal(pd_cohort_start(PD_COHORT_WEEK, t, &c), PD_OK);
  assert_int_equal(c, MB_T0 + 7 * MB_DAY);
  assert_int_equal(pd_cohort_start(PD_COHORT_DAY, t, &c), PD_OK);
  assert_int_equal(c, MB_T0 + 9 * MB_DAY);
  /* 2024-03-15 -> 2024-03-01 (2024 is a leap year: 31 + 29 days). */
  assert_int_equal(pd_cohort_start(PD_COHORT_MONTH, MB_T0 + 74 * MB_DAY, &c),
                   PD_OK);
  assert_int_equal(c, MB_T0 + 60 * MB_DAY);
  /* The epoch is the first of its month. */
  assert_int_equal(pd_cohort_start(PD_COHORT_MONTH, 0, &c), PD_OK);
  assert_int_equal(c, 0);
  assert_int_equal(pd_cohort_start(0, t, &c), PD_E_INVALID);
  assert_int_equal(pd_cohort_start(PD_COHORT_DAY, -1, &c), PD_E_RANGE);
  assert_int_equal(pd_cohort_start(PD_COHORT_DAY, t, NULL), PD_E_INVALID);
}

/* A week that starts before the epoch: a link at 1970-01-01 01:00 (a
 * Thursday) belongs to the week from Monday 1969-12-29, a negative cohort
 * start, and stays on its own channel. */
static void a_week_cohort_before_the_epoch_keeps_its_channel(void **st) {
  (void)st;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 1);
  static const mb_ev ev[] = {{MB_LINK, MB_HOUR, 1, W, 0, 0, 0, 0}};
  assert_int_equal(mb_play(s, ev, 1, 0), PD_OK);
  pd_metrics_filter f = mb_filter(10 * MB_DAY);
  pd_link_retention_options o = day_opts(0);
  o.cohort_unit = PD_COHORT_WEEK;
  o.periods = 1;
  pd_rows *rows = NULL;
  assert_int_equal(pd_link_retention_compute(s, &f, &o, &rows), PD_OK);
  const cell want[] = {{W, -3 * MB_DAY, 0, 1, 1, 1},
                       {W, -3 * MB_DAY, 1, 1, 1, 1}};
  expect_rows(rows, want, 2);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* WeCom first spells in days: u4 ends after 1 h (user: event), u3 after
 * 1 h (staff: censored), u1 after 25 h (event), u2 censored at 46 h.
 * S(1/24) = 1 - 1/4 = 0.75 (the censored u3 is still at risk at its own
 * time); S(25/24) = 0.75 × (1 - 1/2) = 0.375. */
static void km_link_survival_counts_only_user_unlinks_as_events(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_km *km = NULL;
  assert_int_equal(pd_km_new(NULL, &km), PD_OK);
  pd_metrics_filter f = mb_filter(AS_OF);
  assert_int_equal(pd_link_survival_km(s, &f, W, km), PD_OK);
  double v = 0;
  assert_int_equal(pd_km_survival_at(km, 0.5, &v), PD_OK);
  assert_float_equal(v, 0.75, 1e-12);
  assert_int_equal(pd_km_survival_at(km, 1.5, &v), PD_OK);
  assert_float_equal(v, 0.375, 1e-12);
  /* Channel 0 = acquisition channel: u5 (WeChat, censored at 2 days)
   * joins: S(1/24) = 4/5, S(25/24) = 0.8 × 2/3. */
  assert_int_equal(pd_link_survival_km(s, &f, 0, km), PD_OK);
  assert_int_equal(pd_km_survival_at(km, 1.5, &v), PD_OK);
  assert_float_equal(v, 0.8 * 2.0 / 3.0, 1e-12);
  assert_int_equal(pd_link_survival_km(s, &f, W, NULL), PD_E_INVALID);
  pd_km_free(km);
  pd_store_free(s);
}

/* 200 users on WeCom, user u linked at second 13u: durations spread over
 * 0-100 days in seconds (so the sample's sort uses every digit it needs),
 * every tenth tied at one hour; u % 4 == 1 or 2 deletes the brand (event),
 * 3 is removed by staff (censored), 0 stays (censored at as_of). The
 * metric's curve is the one pd_km_estimate gives on that sample written
 * down here, in user order, bit for bit, on 1-3 threads. */
static void km_link_survival_is_the_estimate_of_every_first_spell(void **st) {
  (void)st;
  enum { USERS = 200 };
  const int64_t as_of = MB_T0 + 200 * MB_DAY;
  static mb_ev v[2 * USERS];
  double dur[USERS];
  int32_t ev[USERS];
  size_t n = 0;
  for (uint32_t u = 1; u <= USERS; u++) {
    int64_t start = MB_T0 + 13 * (int64_t)u;
    int64_t d = u % 10 == 5 ? MB_HOUR
                            : (int64_t)((u * 7919ull * 104729ull) %
                                        (100ull * MB_DAY));
    v[n++] = (mb_ev){MB_LINK, start, u, W, 0, 0, 0, 0};
    if (u % 4 != 0)
      v[n++] = (mb_ev){MB_UNLINK, start + d, u, W,
                       u % 4 == 3 ? PD_UNLINK_STAFF_REMOVED
                                  : PD_UNLINK_USER_DELETED,
                       0, 0, 0};
    dur[u - 1] = (double)(u % 4 != 0 ? d : as_of - start) / MB_DAY;
    ev[u - 1] = u % 4 == 1 || u % 4 == 2;
  }
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, USERS);
  assert_int_equal(mb_play(s, v, n, 3), PD_OK);
  pd_km *want = NULL, *got = NULL;
  assert_int_equal(pd_km_new(NULL, &want), PD_OK);
  assert_int_equal(pd_km_new(NULL, &got), PD_OK);
  assert_int_equal(pd_km_estimate(want, dur, ev, NULL, USERS), PD_OK);
  pd_km_curve a = PD_KM_CURVE_INIT, b = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(want, &a), PD_OK);
  assert_true(a.n > 50);
  pd_metrics_filter f = mb_filter(as_of);
  for (int32_t threads = 1; threads <= 3; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    assert_int_equal(pd_link_survival_km(s, &f, W, got), PD_OK);
    assert_int_equal(pd_km_get_curve(got, &b), PD_OK);
    assert_same_km_curves(&a, &b);
  }
  pd_km_free(want);
  pd_km_free(got);
  pd_store_free(s);
}

/* 100 users linked in the first 100 seconds of day 0; 20 leave on day 0,
 * 15 on day 1, 10 on day 2; as of day 3 (plus 200 s) every member is seen
 * for 3 whole days: survivors 100, 80, 65, 55. */
static pd_store *cohort_store(void) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 100);
  for (uint32_t u = 1; u <= 100; u++) {
    pd_link_event l = PD_LINK_EVENT_INIT;
    l.event_id = u, l.user = u, l.channel = W, l.time = MB_T0 + u - 1;
    assert_int_equal(pd_record_link(s, &l), PD_OK);
    int64_t end = u <= 20 ? MB_T0 + 12 * MB_HOUR
                  : u <= 35 ? MB_T0 + MB_DAY + 12 * MB_HOUR
                  : u <= 45 ? MB_T0 + 2 * MB_DAY + 12 * MB_HOUR
                            : 0;
    if (!end) continue;
    pd_unlink_event x = PD_UNLINK_EVENT_INIT;
    x.event_id = 1000 + u, x.user = u, x.channel = W;
    x.initiator = PD_UNLINK_USER_DELETED, x.time = end;
    assert_int_equal(pd_record_unlink(s, &x), PD_OK);
  }
  return s;
}

static void cohort_survivors_stop_at_the_last_fully_observed_period(
    void **st) {
  (void)st;
  pd_store *s = cohort_store();
  pd_metrics_filter f = mb_filter(MB_T0 + 3 * MB_DAY + 200);
  pd_link_retention_options o = day_opts(W);
  o.periods = 10;
  double sv[16];
  size_t n = 0;
  assert_int_equal(pd_link_cohort_survivors(s, &f, &o, MB_T0, MB_T0 + MB_DAY,
                                            sv, 16, &n),
                   PD_OK);
  assert_int_equal(n, 4);
  assert_float_equal(sv[0], 100, 0);
  assert_float_equal(sv[1], 80, 0);
  assert_float_equal(sv[2], 65, 0);
  assert_float_equal(sv[3], 55, 0);
  /* Too small an array: PD_E_RANGE and nothing written. */
  n = 99;
  assert_int_equal(pd_link_cohort_survivors(s, &f, &o, MB_T0, MB_T0 + MB_DAY,
                                            sv, 3, &n),
                   PD_E_RANGE);
  assert_int_equal(n, 99);
  /* An empty cohort is an error, not a curve of zeros. */
  assert_int_equal(pd_link_cohort_survivors(s, &f, &o, MB_T0 + MB_DAY,
                                            MB_T0 + 2 * MB_DAY, sv, 16, &n),
                   PD_E_INVALID);
  pd_store_free(s);
}

/* The fit on the store's cohort equals the sBG fit on the same curve
 * given by hand. */
static void sbg_fit_on_the_cohort_matches_a_fit_on_its_curve(void **st) {
  (void)st;
  pd_store *s = cohort_store();
  pd_metrics_filter f = mb_filter(MB_T0 + 3 * MB_DAY + 200);
  pd_link_retention_options o = day_opts(W);
  pd_fit *a = NULL, *b = NULL;
  assert_int_equal(pd_fit_new(NULL, &a), PD_OK);
  assert_int_equal(pd_fit_new(NULL, &b), PD_OK);
  assert_int_equal(
      pd_link_retention_fit_sbg(s, &f, &o, MB_T0, MB_T0 + MB_DAY, a), PD_OK);
  const double curve[] = {100, 80, 65, 55};
  assert_int_equal(pd_fit_estimate_sbg(b, curve, 4), PD_OK);
  pd_fit_info ia = PD_FIT_INFO_INIT, ib = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(a, &ia), PD_OK);
  assert_int_equal(pd_fit_get(b, &ib), PD_OK);
  assert_int_equal(ia.model, PD_MODEL_SBG);
  assert_float_equal(ia.params[0], ib.params[0], 1e-12);
  assert_float_equal(ia.params[1], ib.params[1], 1e-12);
  double proj[2];
  assert_int_equal(pd_retention_project(a, 55, 4, 2, proj), PD_OK);
  assert_true(proj[0] < 55 && proj[1] < proj[0]);
  /* Two points are not enough to fit. */
  pd_metrics_filter early = mb_filter(MB_T0 + MB_DAY + 200);
  assert_int_equal(
      pd_link_retention_fit_sbg(s, &early, &o, MB_T0, MB_T0 + MB_DAY, a),
      PD_E_INVALID);
  pd_fit_free(a);
  pd_fit_free(b);
  pd_store_free(s);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_link_retention_options o = day_opts(0);
  pd_rows *rows = NULL;
  assert_int_equal(pd_link_retention_compute(NULL, &f, &o, &rows),
                   PD_E_MISUSE);
  assert_int_equal(pd_link_retention_compute(s, &f, &o, NULL), PD_E_INVALID);
  assert_int_equal(pd_link_retention_compute(s, NULL, &o, &rows),
                   PD_E_INVALID);
  pd_metrics_filter small = f;
  small.size = sizeof(size_t);
  assert_int_equal(pd_link_retention_compute(s, &small, &o, &rows),
                   PD_E_INVALID);
  pd_metrics_filter far = mb_filter(PD_TIME_MAX + 1);
  assert_int_equal(pd_link_retention_compute(s, &far, &o, &rows),
                   PD_E_RANGE);
  pd_link_retention_options bad = o;
  bad.size = 4;
  assert_int_equal(pd_link_retention_compute(s, &f, &bad, &rows),
                   PD_E_INVALID);
  bad = o;
  bad.cohort_unit = 9;
  assert_int_equal(pd_link_retention_compute(s, &f, &bad, &rows),
                   PD_E_INVALID);
  bad = o;
  bad.periods = 0;
  assert_int_equal(pd_link_retention_compute(s, &f, &bad, &rows),
                   PD_E_INVALID);
  bad = o;
  bad.channel = 777;
  assert_int_equal(pd_link_retention_compute(s, &f, &bad, &rows),
                   PD_E_NOT_FOUND);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  pd_metrics_filter unknown = f;
  unknown.channel = 777;
  assert_int_equal(pd_link_retention_compute(s, &unknown, &o, &rows),
                   PD_E_NOT_FOUND);
  /* Defaults when opts is NULL: monthly cohorts, 12 periods, so one
   * month cohort per channel with 13 rows each. */
  assert_int_equal(pd_link_retention_compute(s, &f, NULL, &rows), PD_OK);
  assert_int_equal(pd_rows_count(rows), 26);
  pd_funnel_row wrong = PD_FUNNEL_ROW_INIT;
  assert_int_equal(pd_funnel_row_get(rows, 0, &wrong), PD_E_MISUSE);
  pd_link_retention_row r = PD_LINK_RETENTION_ROW_INIT;
  assert_int_equal(pd_link_retention_row_get(rows, 26, &r), PD_E_RANGE);
  r.size = 8;
  assert_int_equal(pd_link_retention_row_get(rows, 0, &r), PD_E_INVALID);
  pd_rows_free(rows);
  pd_rows_free(NULL);
  assert_int_equal(pd_rows_count(NULL), 0);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(share_still_linked_per_channel_cohort_and_period),
      cmocka_unit_test(recording_order_does_not_change_the_table),
      cmocka_unit_test(as_of_in_the_past_ignores_later_events),
      cmocka_unit_test(filter_selects_users_by_acquisition_channel),
      cmocka_unit_test(
          weekly_and_monthly_cohorts_start_on_monday_and_the_first),
      cmocka_unit_test(a_week_cohort_before_the_epoch_keeps_its_channel),
      cmocka_unit_test(km_link_survival_counts_only_user_unlinks_as_events),
      cmocka_unit_test(km_link_survival_is_the_estimate_of_every_first_spell),
      cmocka_unit_test(
          cohort_survivors_stop_at_the_last_fully_observed_period),
      cmocka_unit_test(sbg_fit_on_the_cohort_matches_a_fit_on_its_curve),
      cmocka_unit_test(bad_input_gets_a_clear_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
