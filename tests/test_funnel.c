/* Specification of the funnel (funnel.h): reached → linked → first
 * purchase within the conversion window → repurchase → referral, by
 * channel, source, guide and cohort, with link rate, days to first
 * purchase and LTV:CAC. */
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
#define S1 1 /* source "store_qr" */
#define S2 2 /* source "ad" */

/* u1: WeCom/S1 day 0; orders day 2 (1000) and day 40 (500): converted
 *     after 2 days, repeat.
 * u2: WeCom/S1 day 1; first order day 35 (300): 34 days, not converted.
 * u3: WeChat/S2 day 0; order day -5 (200) and day 10 (800): converted
 *     after 10 days (the first order after linking), repeat (2 orders).
 * u4: WeChat/S2 day 2; no order; referred u5 on day 3.
 * u5: never linked; order day 4 (100): outside the funnel.
 * Reach: WeCom/S1 100, WeChat/S2 50, WeCom/no source 20.
 * Cost: WeCom/S1 2000, any channel/S2 1000. u1 is bound to guide G1. */
static const mb_ev script[] = {
    {MB_LINK, MB_T0, 1, W, S1, 0, 0, 0},
    {MB_ORDER, MB_T0 + 2 * D, 1, 0, 0, 0, 0, 1000},
    {MB_ORDER, MB_T0 + 40 * D, 1, 0, 0, 0, 0, 500},
    {MB_LINK, MB_T0 + D, 2, W, S1, 0, 0, 0},
    {MB_ORDER, MB_T0 + 35 * D, 2, 0, 0, 0, 0, 300},
    {MB_LINK, MB_T0, 3, P, S2, 0, 0, 0},
    {MB_ORDER, MB_T0 - 5 * D, 3, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 10 * D, 3, 0, 0, 0, 0, 800},
    {MB_LINK, MB_T0 + 2 * D, 4, P, S2, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + 3 * D, 4, 5, 0, 0, 0, 0},
    {MB_ORDER, MB_T0 + 4 * D, 5, 0, 0, 0, 0, 100},
    {MB_REACH, MB_T0, 0, W, S1, 0, 0, 100},
    {MB_REACH, MB_T0, 0, P, S2, 0, 0, 50},
    {MB_REACH, MB_T0 + D, 0, W, 0, 0, 0, 20},
    {MB_COST, MB_T0, 0, W, S1, 0, 0, 2000},
    {MB_COST, MB_T0, 0, 0, S2, 0, 0, 1000},
    {MB_BIND, MB_T0, 1, 1, 0, 0, 0, 0},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t AS_OF = MB_T0 + 60 * D;

static pd_store *store_with(uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 5);
  mb_guides(s, 1, 0);
  uint32_t l = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "store_qr", PD_NTS, &l),
                   PD_OK);
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "ad", PD_NTS, &l),
                   PD_OK);
  assert_int_equal(l, S2);
  assert_int_equal(mb_play(s, script, N_SCRIPT, seed), PD_OK);
  return s;
}

static pd_rows *funnel(pd_store *s, const pd_metrics_filter *f, int32_t by,
                       int64_t window, double clv) {
  pd_funnel_options o = PD_FUNNEL_OPTIONS_INIT;
  o.group_by = by;
  if (window) o.conversion_window = window;
  o.model_clv = clv;
  pd_rows *rows = NULL;
  assert_int_equal(pd_funnel_compute(s, f, &o, &rows), PD_OK);
  return rows;
}

static pd_funnel_row row(pd_rows *rows, size_t i) {
  pd_funnel_row r = PD_FUNNEL_ROW_INIT;
  assert_int_equal(pd_funnel_row_get(rows, i, &r), PD_OK);
  return r;
}

static void the_whole_funnel_in_one_row(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_rows *rows = funnel(s, &f, PD_BY_ALL, 0, 0);
    assert_int_equal(pd_rows_count(rows), 1);
    pd_funnel_row r = row(rows, 0);
    assert_int_equal(r.key, 0);
    assert_int_equal(r.reached, 170);
    assert_int_equal(r.linked, 4);
    assert_int_equal(r.converted, 2);
    assert_int_equal(r.repeat, 2);
    assert_int_equal(r.referrers, 1);
    assert_float_equal(r.link_rate, 4.0 / 170.0, 1e-12);
    assert_float_equal(r.conversion_rate, 0.5, 1e-12);
    assert_float_equal(r.repeat_rate, 1.0, 1e-12);
    assert_float_equal(r.referral_rate, 0.25, 1e-12);
    assert_float_equal(r.days_to_first_purchase_median, 6.0, 1e-12);
    assert_float_equal(r.days_to_first_purchase_mean, 6.0, 1e-12);
    assert_int_equal(r.revenue, 2800);
    assert_int_equal(r.cost, 3000);
    assert_float_equal(r.ltv, 700.0, 1e-12);
    assert_float_equal(r.cac, 750.0, 1e-12);
    assert_float_equal(r.ltv_cac, 700.0 / 750.0, 1e-12);
    pd_rows_free(rows);
    pd_store_free(s);
  }
}

/* By channel: the any-channel cost of S2 belongs to both channel rows. */
static void by_channel_rows_follow_the_acquisition_channel(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = funnel(s, &f, PD_BY_CHANNEL, 0, 0);
  assert_int_equal(pd_rows_count(rows), 2);
  pd_funnel_row p = row(rows, 0), w = row(rows, 1);
  assert_int_equal(p.key, P);
  assert_int_equal(p.reached, 50);
  assert_int_equal(p.linked, 2);
  assert_int_equal(p.converted, 1);
  assert_int_equal(p.referrers, 1);
  assert_int_equal(p.revenue, 1000);
  assert_int_equal(p.cost, 1000);
  assert_int_equal(w.key, W);
  assert_int_equal(w.reached, 120);
  assert_int_equal(w.linked, 2);
  assert_int_equal(w.converted, 1);
  assert_int_equal(w.revenue, 1800);
  assert_int_equal(w.cost, 3000);
  assert_float_equal(w.days_to_first_purchase_median, 2.0, 1e-12);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* By source: LTV:CAC per source; the reach of no source gets a row of its
 * own with nobody linked and no cost (ltv_cac -1). */
static void ltv_to_cac_per_source(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = funnel(s, &f, PD_BY_SOURCE, 0, 0);
  assert_int_equal(pd_rows_count(rows), 3);
  pd_funnel_row n = row(rows, 0), a = row(rows, 1), b = row(rows, 2);
  assert_int_equal(n.key, 0);
  assert_int_equal(n.reached, 20);
  assert_int_equal(n.linked, 0);
  assert_float_equal(n.ltv_cac, -1.0, 0);
  assert_int_equal(a.key, S1);
  assert_int_equal(a.reached, 100);
  assert_float_equal(a.ltv, 900.0, 1e-12);
  assert_float_equal(a.cac, 1000.0, 1e-12);
  assert_float_equal(a.ltv_cac, 0.9, 1e-12);
  assert_int_equal(b.key, S2);
  assert_float_equal(b.ltv_cac, 1.0, 1e-12);
  pd_rows_free(rows);
  /* A model-based CLV replaces realised revenue. */
  rows = funnel(s, &f, PD_BY_ALL, 0, 2500.0);
  assert_float_equal(row(rows, 0).ltv, 2500.0, 0);
  assert_float_equal(row(rows, 0).ltv_cac, 2500.0 / 750.0, 1e-12);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* A 40-day window converts u2 too (after 34 days): median of 2, 10, 34. */
static void conversion_window_is_configurable(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = funnel(s, &f, PD_BY_ALL, 40 * D, 0);
  pd_funnel_row r = row(rows, 0);
  assert_int_equal(r.converted, 3);
  assert_float_equal(r.days_to_first_purchase_median, 10.0, 1e-12);
  assert_float_equal(r.days_to_first_purchase_mean, 46.0 / 3.0, 1e-12);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* As of day 5: u1 converted (1 order so far), u3's day-10 order has not
 * happened, u4 has referred u5; revenue 1000 + 200. */
static void as_of_in_the_past_ignores_later_events(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 5 * D);
  pd_rows *rows = funnel(s, &f, PD_BY_ALL, 0, 0);
  pd_funnel_row r = row(rows, 0);
  assert_int_equal(r.linked, 4);
  assert_int_equal(r.converted, 1);
  assert_int_equal(r.repeat, 0);
  assert_int_equal(r.referrers, 1);
  assert_int_equal(r.revenue, 1200);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* By guide and cohort; a guide filter leaves reach unknown (0). */
static void guide_and_cohort_breakdowns_and_filters(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = funnel(s, &f, PD_BY_GUIDE, 0, 0);
  assert_int_equal(pd_rows_count(rows), 2);
  assert_int_equal(row(rows, 0).key, 0);
  assert_int_equal(row(rows, 0).linked, 3);
  assert_int_equal(row(rows, 0).reached, 0);
  assert_int_equal(row(rows, 1).key, 1);
  assert_int_equal(row(rows, 1).linked, 1);
  pd_rows_free(rows);
  rows = funnel(s, &f, PD_BY_COHORT_MONTH, 0, 0);
  assert_int_equal(pd_rows_count(rows), 1);
  assert_int_equal(row(rows, 0).key, MB_T0);
  assert_int_equal(row(rows, 0).linked, 4);
  pd_rows_free(rows);
  f.guide = 1;
  rows = funnel(s, &f, PD_BY_ALL, 0, 0);
  assert_int_equal(row(rows, 0).linked, 1);
  assert_int_equal(row(rows, 0).reached, 0);
  assert_float_equal(row(rows, 0).link_rate, 0.0, 0);
  pd_rows_free(rows);
  f.guide = 0;
  f.source = S2;
  rows = funnel(s, &f, PD_BY_ALL, 0, 0);
  assert_int_equal(row(rows, 0).linked, 2);
  assert_int_equal(row(rows, 0).reached, 50);
  assert_int_equal(row(rows, 0).cost, 1000);
  pd_rows_free(rows);
  pd_store_free(s);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_funnel_options o = PD_FUNNEL_OPTIONS_INIT;
  pd_rows *rows = NULL;
  assert_int_equal(pd_funnel_compute(NULL, &f, &o, &rows), PD_E_MISUSE);
  assert_int_equal(pd_funnel_compute(s, &f, &o, NULL), PD_E_INVALID);
  o.group_by = 99;
  assert_int_equal(pd_funnel_compute(s, &f, &o, &rows), PD_E_INVALID);
  o = (pd_funnel_options)PD_FUNNEL_OPTIONS_INIT;
  o.conversion_window = 0;
  assert_int_equal(pd_funnel_compute(s, &f, &o, &rows), PD_E_INVALID);
  o = (pd_funnel_options)PD_FUNNEL_OPTIONS_INIT;
  o.model_clv = -1;
  assert_int_equal(pd_funnel_compute(s, &f, &o, &rows), PD_E_INVALID);
  o = (pd_funnel_options)PD_FUNNEL_OPTIONS_INIT;
  o.size = 1;
  assert_int_equal(pd_funnel_compute(s, &f, &o, &rows), PD_E_INVALID);
  pd_metrics_filter bad = f;
  bad.source = 77;
  assert_int_equal(pd_funnel_compute(s, &bad, NULL, &rows), PD_E_NOT_FOUND);
  bad = f;
  bad.channel = 4000;
  assert_int_equal(pd_funnel_compute(s, &bad, NULL, &rows), PD_E_NOT_FOUND);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  pd_store_free(s);
}

/* A channel seen only in a cost record recorded after an any-channel
 * cost still gets that cost: it belongs to every channel row,
 * whatever order the records came in. */
static void any_channel_cost_reaches_channels_first_seen_later(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_acquisition_cost c = PD_ACQUISITION_COST_INIT;
  c.event_id = 1001, c.channel = PD_CHANNEL_DOUYIN, c.amount = 400;
  c.period_start = MB_T0 + 2 * D, c.period_end = MB_T0 + 3 * D;
  assert_int_equal(pd_record_cost(s, &c), PD_OK);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = funnel(s, &f, PD_BY_CHANNEL, 0, 0);
  assert_int_equal(pd_rows_count(rows), 3);
  pd_funnel_row d = row(rows, 2);
  assert_int_equal(d.key, PD_CHANNEL_DOUYIN);
  assert_int_equal(d.reached, 0);
  assert_int_equal(d.linked, 0);
  assert_int_equal(d.cost, 400 + 1000); /* its own + the any-channel cost */
  assert_int_equal(row(rows, 0).cost, 1000);
  assert_int_equal(row(rows, 1).cost, 3000);
  pd_rows_free(rows);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_whole_funnel_in_one_row),
      cmocka_unit_test(by_channel_rows_follow_the_acquisition_channel),
      cmocka_unit_test(any_channel_cost_reaches_channels_first_seen_later),
      cmocka_unit_test(ltv_to_cac_per_source),
      cmocka_unit_test(conversion_window_is_configurable),
      cmocka_unit_test(as_of_in_the_past_ignores_later_events),
      cmocka_unit_test(guide_and_cohort_breakdowns_and_filters),
      cmocka_unit_test(bad_input_gets_a_clear_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
