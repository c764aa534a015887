/* Specification of guides' figures (guide_metrics.h): users bound and the
 * service radius, revenue attributed by bound guide or by the guide on the
 * order, commission at per-guide or default rates, replies to inbound
 * messages, unlinks of their users, and the handover history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_b_testutil.h"

#define W PD_CHANNEL_WECOM
#define D MB_DAY
#define H MB_HOUR
#define IN PD_TOUCH_INBOUND_MESSAGE
#define OUT PD_TOUCH_OUTBOUND_1TO1

/* G1 serves u1 (from day 0) and u2 (from day 2) and leaves on day 10,
 * handing them to G3; G2 serves u3; u4 has no guide.
 * Orders: u1 1000 on day 1 (G2 named on it), u1 500 on day 20, u2 300 on
 * day 3, u3 200 on day 1 (G2 on it), u4 100.
 * Inbound messages and the first 1:1 reply after them:
 *   u1 day 5 -> G1 after 1 h; u1 day 6 -> G2 after 2 h; u2 day 4 -> none
 *   within 24 h; u3 day 1 -> G2 after 30 min; u1 day 15 (G3's) -> G3
 *   after 10 min.
 * Unlinks: u2 deletes on day 12 (G3's user then); staff remove u3 on day
 * 8 (G2's). */
static const mb_ev script[] = {
    {MB_BIND, MB_T0, 1, 1, 0, 0, 0, 0},
    {MB_BIND, MB_T0 + 2 * D, 2, 1, 0, 0, 0, 0},
    {MB_BIND, MB_T0, 3, 2, 0, 0, 0, 0},
    {MB_HANDOVER, MB_T0 + 10 * D, 1, 3, 0, 0, 0, 0},
    {MB_ORDER, MB_T0 + D, 1, 0, 0, 0, 2, 1000},
    {MB_ORDER, MB_T0 + 20 * D, 1, 0, 0, 0, 0, 500},
    {MB_ORDER, MB_T0 + 3 * D, 2, 0, 0, 0, 0, 300},
    {MB_ORDER, MB_T0 + D, 3, 0, 0, 0, 2, 200},
    {MB_ORDER, MB_T0 + D, 4, 0, 0, 0, 0, 100},
    {MB_TOUCH, MB_T0 + 5 * D, 1, IN, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 5 * D + H, 1, OUT, 1, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 6 * D, 1, IN, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 6 * D + 2 * H, 1, OUT, 2, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 4 * D, 2, IN, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 6 * D, 2, OUT, 1, 0, 0, 0},
    {MB_TOUCH, MB_T0 + D, 3, IN, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + D + 30 * 60, 3, OUT, 2, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 15 * D, 1, IN, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 15 * D + 600, 1, OUT, 3, 0, 0, 0},
    {MB_LINK, MB_T0, 2, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 12 * D, 2, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
    {MB_LINK, MB_T0, 3, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 8 * D, 3, W, PD_UNLINK_STAFF_REMOVED, 0, 0, 0},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t AS_OF = MB_T0 + 30 * D;

static pd_store *store_with(uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 4);
  uint32_t shop = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SHOP, "S1", PD_NTS, &shop),
                   PD_OK);
  mb_guides(s, 3, shop);
  assert_int_equal(mb_play(s, script, N_SCRIPT, seed), PD_OK);
  return s;
}

static pd_rows *figures(pd_store *s, const pd_metrics_filter *f,
                        const pd_guide_figures_options *o) {
  pd_rows *rows = NULL;
  assert_int_equal(pd_guide_figures_compute(s, f, o, &rows), PD_OK);
  return rows;
}

static pd_guide_figures_row row(pd_rows *rows, size_t i) {
  pd_guide_figures_row r = PD_GUIDE_FIGURES_ROW_INIT;
  assert_int_equal(pd_guide_figures_row_get(rows, i, &r), PD_OK);
  return r;
}

static void each_guides_load_revenue_commission_and_service(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    assert_int_equal(pd_guide_set_commission(s, 2, 1500), PD_OK);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_rows *rows = figures(s, &f, NULL);
    assert_int_equal(pd_rows_count(rows), 3);
    pd_guide_figures_row g1 = row(rows, 0), g2 = row(rows, 1),
                         g3 = row(rows, 2);
    /* G1: nobody left; u1's and u2's orders while bound: 1300, 10%. */
    assert_int_equal(g1.guide, 1);
    assert_int_equal(g1.shop, 1);
    assert_int_equal(g1.active, 1);
    assert_int_equal(g1.users_bound, 0);
    assert_int_equal(g1.orders, 2);
    assert_int_equal(g1.revenue, 1300);
    assert_int_equal(g1.commission_bp, 1000);
    assert_int_equal(g1.commission, 130);
    assert_int_equal(g1.inbound, 3);
    assert_int_equal(g1.replied, 2);
    assert_float_equal(g1.reply_rate, 2.0 / 3.0, 1e-12);
    assert_float_equal(g1.reply_median_seconds, 5400.0, 1e-9);
    assert_int_equal(g1.unlinks, 0);
    assert_int_equal(g1.handovers_out, 1);
    /* G2: u3, 200 at its own 15%. */
    assert_int_equal(g2.users_bound, 1);
    assert_int_equal(g2.revenue, 200);
    assert_int_equal(g2.commission_bp, 1500);
    assert_int_equal(g2.commission, 30);
    assert_int_equal(g2.replied, 1);
    assert_float_equal(g2.reply_median_seconds, 1800.0, 1e-9);
    assert_int_equal(g2.unlinks, 1);
    assert_int_equal(g2.user_unlinks, 0);
    /* G3: inherited u1 and u2; u1's day-20 order. */
    assert_int_equal(g3.users_bound, 2);
    assert_int_equal(g3.over_radius, 0);
    assert_int_equal(g3.revenue, 500);
    assert_int_equal(g3.commission, 50);
    assert_int_equal(g3.inbound, 1);
    assert_float_equal(g3.reply_median_seconds, 600.0, 1e-9);
    assert_int_equal(g3.unlinks, 1);
    assert_int_equal(g3.user_unlinks, 1);
    assert_int_equal(g3.handovers_in, 1);
    pd_rows_free(rows);
    pd_store_free(s);
  }
}

/* By the guide on the order: G2 gets u1's 1000 and u3's 200. A radius of
 * 1 flags G3; only G1's own replies count when asked. */
static void attribution_radius_and_reply_rules_are_options(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_guide_figures_options o = PD_GUIDE_FIGURES_OPTIONS_INIT;
  o.attribution = PD_GUIDE_ATTR_ORDER;
  o.service_radius = 1;
  o.reply_same_guide = 1;
  o.default_commission_bp = 500;
  pd_rows *rows = figures(s, &f, &o);
  assert_int_equal(row(rows, 0).revenue, 0);
  assert_int_equal(row(rows, 1).orders, 2);
  assert_int_equal(row(rows, 1).revenue, 1200);
  assert_int_equal(row(rows, 1).commission, 60);
  assert_int_equal(row(rows, 2).revenue, 0);
  assert_int_equal(row(rows, 2).over_radius, 1);
  assert_int_equal(row(rows, 0).replied, 1);
  assert_float_equal(row(rows, 0).reply_median_seconds, 3600.0, 1e-9);
  pd_rows_free(rows);
  /* A 90-minute window misses G2's 2-hour reply to u1. */
  o = (pd_guide_figures_options)PD_GUIDE_FIGURES_OPTIONS_INIT;
  o.reply_window = 90 * 60;
  rows = figures(s, &f, &o);
  assert_int_equal(row(rows, 0).replied, 1);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* Before the handover (day 9) G1 still has both users; a deactivation
 * shows from its time on; a guide filter returns that guide's row. */
static void as_of_filter_and_deactivation(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_guide_deactivate d = PD_GUIDE_DEACTIVATE_INIT;
  d.event_id = 9000, d.guide = 1, d.time = MB_T0 + 10 * D;
  assert_int_equal(pd_record_guide_deactivate(s, &d), PD_OK);
  pd_metrics_filter f = mb_filter(MB_T0 + 9 * D);
  pd_rows *rows = figures(s, &f, NULL);
  assert_int_equal(row(rows, 0).users_bound, 2);
  assert_int_equal(row(rows, 0).active, 1);
  assert_int_equal(row(rows, 0).handovers_out, 0);
  assert_int_equal(row(rows, 2).users_bound, 0);
  pd_rows_free(rows);
  f = mb_filter(AS_OF);
  f.guide = 3;
  rows = figures(s, &f, NULL);
  assert_int_equal(pd_rows_count(rows), 1);
  assert_int_equal(row(rows, 0).guide, 3);
  assert_int_equal(row(rows, 0).users_bound, 2);
  pd_rows_free(rows);
  f.guide = 0;
  rows = figures(s, &f, NULL);
  assert_int_equal(row(rows, 0).active, 0);
  pd_rows_free(rows);
  pd_store_free(s);
}

static void handover_history_counts_the_users_moved(void **st) {
  (void)st;
  pd_store *s = store_with(3);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = NULL;
  assert_int_equal(pd_guide_handover_history(s, &f, &rows), PD_OK);
  assert_int_equal(pd_rows_count(rows), 1);
  pd_handover_row h = PD_HANDOVER_ROW_INIT;
  assert_int_equal(pd_handover_row_get(rows, 0, &h), PD_OK);
  assert_int_equal(h.time, MB_T0 + 10 * D);
  assert_int_equal(h.from_guide, 1);
  assert_int_equal(h.to_guide, 3);
  assert_int_equal(h.users_moved, 2);
  pd_rows_free(rows);
  f = mb_filter(MB_T0 + 9 * D);
  assert_int_equal(pd_guide_handover_history(s, &f, &rows), PD_OK);
  assert_int_equal(pd_rows_count(rows), 0);
  pd_rows_free(rows);
  f = mb_filter(AS_OF);
  f.guide = 2;
  assert_int_equal(pd_guide_handover_history(s, &f, &rows), PD_OK);
  assert_int_equal(pd_rows_count(rows), 0);
  pd_rows_free(rows);
  pd_store_free(s);
}

static void commission_rates_are_a_store_setting(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  int32_t bp = 0;
  assert_int_equal(pd_guide_get_commission(s, 2, &bp), PD_OK);
  assert_int_equal(bp, -1);
  assert_int_equal(pd_guide_set_commission(s, 2, 1500), PD_OK);
  assert_int_equal(pd_guide_get_commission(s, 2, &bp), PD_OK);
  assert_int_equal(bp, 1500);
  assert_int_equal(pd_guide_set_commission(s, 2, -1), PD_OK);
  assert_int_equal(pd_guide_get_commission(s, 2, &bp), PD_OK);
  assert_int_equal(bp, -1);
  assert_int_equal(pd_guide_set_commission(s, 0, 10), PD_E_INVALID);
  assert_int_equal(pd_guide_set_commission(s, 9, 10), PD_E_NOT_FOUND);
  assert_int_equal(pd_guide_set_commission(s, 1, 10001), PD_E_INVALID);
  assert_int_equal(pd_guide_set_commission(NULL, 1, 10), PD_E_MISUSE);
  assert_int_equal(pd_guide_get_commission(s, 1, NULL), PD_E_INVALID);
  pd_store_free(s);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_guide_figures_options o = PD_GUIDE_FIGURES_OPTIONS_INIT;
  pd_rows *rows = NULL;
  assert_int_equal(pd_guide_figures_compute(NULL, &f, &o, &rows),
                   PD_E_MISUSE);
  assert_int_equal(pd_guide_figures_compute(s, &f, &o, NULL), PD_E_INVALID);
  o.attribution = 7;
  assert_int_equal(pd_guide_figures_compute(s, &f, &o, &rows), PD_E_INVALID);
  o = (pd_guide_figures_options)PD_GUIDE_FIGURES_OPTIONS_INIT;
  o.service_radius = 0;
  assert_int_equal(pd_guide_figures_compute(s, &f, &o, &rows), PD_E_INVALID);
  o = (pd_guide_figures_options)PD_GUIDE_FIGURES_OPTIONS_INIT;
  o.reply_window = 0;
  assert_int_equal(pd_guide_figures_compute(s, &f, &o, &rows), PD_E_INVALID);
  pd_metrics_filter bad = f;
  bad.guide = 99;
  assert_int_equal(pd_guide_figures_compute(s, &bad, NULL, &rows),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_guide_handover_history(s, &bad, &rows),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_guide_handover_history(s, &f, NULL), PD_E_INVALID);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_guides_load_revenue_commission_and_service),
      cmocka_unit_test(attribution_radius_and_reply_rules_are_options),
      cmocka_unit_test(as_of_filter_and_deactivation),
      cmocka_unit_test(handover_history_counts_the_users_moved),
      cmocka_unit_test(commission_rates_are_a_store_setting),
      cmocka_unit_test(bad_input_gets_a_clear_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
