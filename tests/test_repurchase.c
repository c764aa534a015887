/* Specification of repurchase figures (repurchase.h): repurchase rate,
 * frequency, average order value, intervals (median, mean), the share of
 * repeat buyers whose intervals shorten, and repeat buyers' revenue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_b_testutil.h"

#define W PD_CHANNEL_WECOM
#define P PD_CHANNEL_WECHAT
#define D MB_DAY

/* u1 (WeCom): 100 day 0, 200 day 10, 300 day 15: intervals 10, 5 (slope
 *     -5: shortening).
 * u2 (WeCom): 50 day 0, 50 day 4, 100 day 12, 100 day 24 (20 refunded on
 *     day 25): intervals 4, 8, 12 (slope +4).
 * u3 (WeChat): 1000 on day 3, once.
 * u4 (never linked): 10 and 10 six hours apart on day 1: interval 0.25.
 * u5 (WeCom): no order. */
static const mb_ev script[] = {
    {MB_LINK, MB_T0 - D, 1, W, 0, 0, 0, 0},
    {MB_ORDER, MB_T0, 1, 0, 0, 0, 0, 100},
    {MB_ORDER, MB_T0 + 10 * D, 1, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 15 * D, 1, 0, 0, 0, 0, 300},
    {MB_LINK, MB_T0 - D, 2, W, 0, 0, 0, 0},
    {MB_ORDER, MB_T0, 2, 0, 0, 0, 0, 50},
    {MB_ORDER, MB_T0 + 4 * D, 2, 0, 0, 0, 0, 50},
    {MB_ORDER, MB_T0 + 12 * D, 2, 0, 0, 0, 0, 100},
    {MB_ORDER, MB_T0 + 24 * D, 2, 0, 0, 0, 0, 100},
    {MB_REFUND, MB_T0 + 25 * D, 8, 0, 0, 0, 0, 20},
    {MB_LINK, MB_T0 - D, 3, P, 0, 0, 0, 0},
    {MB_ORDER, MB_T0 + 3 * D, 3, 0, 0, 0, 0, 1000},
    {MB_ORDER, MB_T0 + D, 4, 0, 0, 0, 0, 10},
    {MB_ORDER, MB_T0 + D + 6 * MB_HOUR, 4, 0, 0, 0, 0, 10},
    {MB_LINK, MB_T0 - D, 5, W, 0, 0, 0, 0},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t AS_OF = MB_T0 + 30 * D;

static pd_store *store_with(uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 5);
  assert_int_equal(mb_play(s, script, N_SCRIPT, seed), PD_OK);
  return s;
}

static pd_rows *compute(pd_store *s, const pd_metrics_filter *f,
                        int32_t by) {
  pd_repurchase_options o = PD_REPURCHASE_OPTIONS_INIT;
  o.group_by = by;
  pd_rows *rows = NULL;
  assert_int_equal(pd_repurchase_compute(s, f, &o, &rows), PD_OK);
  return rows;
}

static pd_repurchase_row row(pd_rows *rows, size_t i) {
  pd_repurchase_row r = PD_REPURCHASE_ROW_INIT;
  assert_int_equal(pd_repurchase_row_get(rows, i, &r), PD_OK);
  return r;
}

/* Buyers 4, repeat 3; 10 purchases; revenue 600 + 280 + 1000 + 20 = 1900;
 * intervals 0.25, 4, 5, 8, 10, 12: median 6.5, mean 39.25 / 6; u1 and u2
 * have a trend, u1's shortens. */
static void repurchase_figures_of_all_buyers(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_rows *rows = compute(s, &f, PD_BY_ALL);
    assert_int_equal(pd_rows_count(rows), 1);
    pd_repurchase_row r = row(rows, 0);
    assert_int_equal(r.buyers, 4);
    assert_int_equal(r.repeat_buyers, 3);
    assert_float_equal(r.repurchase_rate, 0.75, 1e-12);
    assert_int_equal(r.purchases, 10);
    assert_float_equal(r.frequency, 2.5, 1e-12);
    assert_int_equal(r.revenue, 1900);
    assert_float_equal(r.average_order_value, 190.0, 1e-12);
    assert_int_equal(r.intervals, 6);
    assert_float_equal(r.interval_median_days, 6.5, 1e-12);
    assert_float_equal(r.interval_mean_days, 39.25 / 6.0, 1e-12);
    assert_int_equal(r.trend_buyers, 2);
    assert_int_equal(r.shortening_buyers, 1);
    assert_float_equal(r.shortening_share, 0.5, 1e-12);
    assert_int_equal(r.repeat_revenue, 900);
    assert_float_equal(r.repeat_revenue_share, 900.0 / 1900.0, 1e-12);
    pd_rows_free(rows);
    pd_store_free(s);
  }
}

/* As of day 13: u1 has 2 orders (interval 10), u2 3 (4, 8: lengthening),
 * the refund has not happened: revenue 300 + 200 + 1000 + 20. */
static void as_of_in_the_past_ignores_later_orders_and_refunds(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 13 * D);
  pd_rows *rows = compute(s, &f, PD_BY_ALL);
  pd_repurchase_row r = row(rows, 0);
  assert_int_equal(r.buyers, 4);
  assert_int_equal(r.repeat_buyers, 3);
  assert_int_equal(r.purchases, 8);
  assert_int_equal(r.revenue, 1520);
  assert_int_equal(r.trend_buyers, 1);
  assert_int_equal(r.shortening_buyers, 0);
  /* intervals 0.25, 4, 8, 10 */
  assert_float_equal(r.interval_median_days, 6.0, 1e-12);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* As of day 24.5, u2's day-24 order counts but its refund (day 25) has
 * not happened yet: revenue 600 + 300 + 1000 + 20. */
static void a_refund_after_as_of_leaves_the_order_whole(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 24 * D + D / 2);
  pd_rows *rows = compute(s, &f, PD_BY_ALL);
  pd_repurchase_row r = row(rows, 0);
  assert_int_equal(r.purchases, 10);
  assert_int_equal(r.revenue, 1920);
  assert_int_equal(r.repeat_revenue, 600 + 300 + 20);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* By acquisition channel: key 0 (u4, never linked), WeChat (u3), WeCom
 * (u1, u2: intervals 10, 5, 4, 8, 12, median 8). u5 bought nothing: no
 * buyer, but the WeCom row exists through u1 and u2. */
static void by_channel_and_filter(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = compute(s, &f, PD_BY_CHANNEL);
  assert_int_equal(pd_rows_count(rows), 3);
  assert_int_equal(row(rows, 0).key, 0);
  assert_int_equal(row(rows, 0).buyers, 1);
  assert_int_equal(row(rows, 1).key, P);
  assert_int_equal(row(rows, 1).repeat_buyers, 0);
  assert_float_equal(row(rows, 1).interval_median_days, 0.0, 0);
  pd_repurchase_row w = row(rows, 2);
  assert_int_equal(w.key, W);
  assert_int_equal(w.buyers, 2);
  assert_float_equal(w.interval_median_days, 8.0, 1e-12);
  pd_rows_free(rows);
  f.channel = W;
  rows = compute(s, &f, PD_BY_ALL);
  assert_int_equal(row(rows, 0).buyers, 2);
  assert_int_equal(row(rows, 0).revenue, 880);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* A store with no order: no row, not a row of NaN. */
static void no_buyers_no_rows(void **st) {
  (void)st;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = compute(s, &f, PD_BY_ALL);
  assert_int_equal(pd_rows_count(rows), 0);
  pd_rows_free(rows);
  pd_store_free(s);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_repurchase_options o = PD_REPURCHASE_OPTIONS_INIT;
  pd_rows *rows = NULL;
  assert_int_equal(pd_repurchase_compute(NULL, &f, &o, &rows), PD_E_MISUSE);
  assert_int_equal(pd_repurchase_compute(s, &f, &o, NULL), PD_E_INVALID);
  assert_int_equal(pd_repurchase_compute(s, NULL, &o, &rows), PD_E_INVALID);
  o.group_by = -1;
  assert_int_equal(pd_repurchase_compute(s, &f, &o, &rows), PD_E_INVALID);
  o.group_by = PD_BY_ALL;
  o.size = 2;
  assert_int_equal(pd_repurchase_compute(s, &f, &o, &rows), PD_E_INVALID);
  pd_metrics_filter bad = f;
  bad.shop = 5;
  assert_int_equal(pd_repurchase_compute(s, &bad, NULL, &rows),
                   PD_E_NOT_FOUND);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(repurchase_figures_of_all_buyers),
      cmocka_unit_test(as_of_in_the_past_ignores_later_orders_and_refunds),
      cmocka_unit_test(a_refund_after_as_of_leaves_the_order_whole),
      cmocka_unit_test(by_channel_and_filter),
      cmocka_unit_test(no_buyers_no_rows),
      cmocka_unit_test(bad_input_gets_a_clear_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
