/* Out of memory in the retention, campaign, funnel, repurchase, referral,
 * guide and segment figures: every allocation a figure makes is failed in
 * turn; each failure returns PD_E_NOMEM with a message, leaks nothing, and
 * the next call succeeds with the same answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_b_testutil.h"
#include "testutil_alloc.h"

#define W PD_CHANNEL_WECOM
#define D MB_DAY

static const mb_ev script[] = {
    {MB_LINK, MB_T0, 1, W, 1, 1, 0, 0},
    {MB_LINK, MB_T0 + D, 2, W, 1, 0, 0, 0},
    {MB_LINK, MB_T0 + 2 * D, 3, PD_CHANNEL_WECHAT, 0, 1, 0, 0},
    {MB_UNLINK, MB_T0 + 5 * D, 2, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
    {MB_BIND, MB_T0, 1, 1, 0, 0, 0, 0},
    {MB_BIND, MB_T0, 2, 1, 0, 0, 0, 0},
    {MB_HANDOVER, MB_T0 + 3 * D, 1, 2, 0, 0, 0, 0},
    {MB_ORDER, MB_T0 + D, 1, 0, 0, 0, 0, 100},
    {MB_ORDER, MB_T0 + 3 * D, 1, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 4 * D, 1, 0, 0, 0, 0, 300},
    {MB_ORDER, MB_T0 + 2 * D, 2, 0, 0, 0, 0, 50},
    {MB_REFUND, MB_T0 + 30 * D, 10, 0, 0, 0, 0, 10},
    {MB_REFERRAL, MB_T0 + D, 1, 3, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + D, 1, PD_TOUCH_INBOUND_MESSAGE, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + D + 60, 1, PD_TOUCH_OUTBOUND_1TO1, 1, 1, 0, 0},
    {MB_TOUCH, MB_T0 + 2 * D, 2, PD_TOUCH_BROADCAST, 1, 1, 0, 0},
    {MB_REACH, MB_T0, 0, W, 1, 0, 0, 100},
    {MB_COST, MB_T0, 0, W, 1, 0, 0, 1000},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
/* Before the refund, so the figures take the refunds-as-of path. */
static const int64_t AS_OF = MB_T0 + 20 * D;

typedef pd_status (*figure_fn)(pd_store *s);

/* Free the rows a figure returned and pass its status on. */
static pd_status run_rows(pd_status st, pd_rows **rows) {
  pd_rows_free(*rows);
  *rows = NULL;
  return st;
}

static pd_status f_retention(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_link_retention_options o = PD_LINK_RETENTION_OPTIONS_INIT;
  o.cohort_unit = PD_COHORT_DAY;
  pd_rows *rows = NULL;
  pd_status st = pd_link_retention_compute(s, &f, &o, &rows);
  return run_rows(st, &rows);
}

static pd_status f_km(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_km *km = NULL;
  if (pd_km_new(NULL, &km) != PD_OK) return PD_E_INVALID;
  pd_status st = pd_link_survival_km(s, &f, 0, km);
  pd_km_free(km);
  return st;
}

static pd_status f_survivors(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_link_retention_options o = PD_LINK_RETENTION_OPTIONS_INIT;
  o.cohort_unit = PD_COHORT_DAY;
  double v[16];
  size_t n;
  return pd_link_cohort_survivors(s, &f, &o, MB_T0, MB_T0 + 3 * D, v, 16, &n);
}

static pd_status f_unlinks(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_unlink_rate r = PD_UNLINK_RATE_INIT;
  return pd_unlink_rate_compute(s, &f, 0, MB_T0, MB_T0 + 10 * D, &r);
}

static pd_status f_campaign(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_campaign_health h = PD_CAMPAIGN_HEALTH_INIT;
  return pd_campaign_health_compute(s, &f, 1, MB_T0, MB_T0 + 5 * D, NULL,
                                    &h);
}

static pd_status f_funnel(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_funnel_options o = PD_FUNNEL_OPTIONS_INIT;
  o.group_by = PD_BY_SOURCE;
  pd_rows *rows = NULL;
  pd_status st = pd_funnel_compute(s, &f, &o, &rows);
  return run_rows(st, &rows);
}

static pd_status f_repurchase(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_repurchase_options o = PD_REPURCHASE_OPTIONS_INIT;
  o.group_by = PD_BY_GUIDE;
  pd_rows *rows = NULL;
  pd_status st = pd_repurchase_compute(s, &f, &o, &rows);
  return run_rows(st, &rows);
}

static pd_status f_referral(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_referral_stats r = PD_REFERRAL_STATS_INIT;
  return pd_referral_stats_compute(s, &f, MB_T0, MB_T0 + 5 * D, &r);
}

static pd_status f_referral_top(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_referrer_row rows[2];
  rows[0].size = sizeof rows[0];
  size_t n;
  return pd_referral_top(s, &f, 2, rows, 2, &n);
}

static pd_status f_guides(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = NULL;
  pd_status st = pd_guide_figures_compute(s, &f, NULL, &rows);
  return run_rows(st, &rows);
}

static pd_status f_handovers(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = NULL;
  pd_status st = pd_guide_handover_history(s, &f, &rows);
  return run_rows(st, &rows);
}

static pd_status f_rfm(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_rows *rows = NULL;
  pd_status st = pd_rfm_compute(s, &f, &rows);
  return run_rows(st, &rows);
}

static pd_status f_super(pd_store *s) {
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_super_user rows[3];
  rows[0].size = sizeof rows[0];
  size_t n;
  return pd_super_users(s, &f, NULL, 3, rows, 3, &n);
}

static void every_allocation_failure_is_reported_and_leaks_nothing(
    void **st) {
  (void)st;
  static const figure_fn figures[] = {
      f_retention, f_km,           f_survivors, f_unlinks, f_campaign,
      f_funnel,    f_repurchase,   f_referral,  f_referral_top,
      f_guides,    f_handovers,    f_rfm,       f_super};
  test_alloc t;
  test_alloc_init(&t);
  pd_allocator a = test_alloc_allocator(&t);
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.allocator = &a;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&so, &s), PD_OK);
  mb_users(s, 3);
  mb_guides(s, 2, 0);
  uint32_t l = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "qr", PD_NTS, &l),
                   PD_OK);
  assert_int_equal(pd_label_ensure(s, PD_LABEL_CAMPAIGN, "c", PD_NTS, &l),
                   PD_OK);
  assert_int_equal(mb_play(s, script, N_SCRIPT, 0), PD_OK);
  for (size_t k = 0; k < sizeof figures / sizeof figures[0]; k++) {
    /* Warm up (the store's scratch memory may grow once). */
    assert_int_equal(figures[k](s), PD_OK);
    long live = atomic_load(&t.live);
    int failed = 0;
    for (long n = 1; n < 10000; n++) {
      test_alloc_fail_in(&t, n);
      pd_status rc = figures[k](s);
      test_alloc_fail_in(&t, 0);
      if (atomic_load(&t.live) != live)
        fail_msg("figure %zu, failing allocation %ld (status %d): %ld live "
                 "allocations, %ld before",
                 k, n, (int)rc, (long)atomic_load(&t.live), live);
      if (rc == PD_OK) break;
      assert_int_equal(rc, PD_E_NOMEM);
      assert_true(strlen(pd_store_errmsg(s)) > 0);
      failed++;
    }
    assert_true(failed > 0);
    assert_int_equal(figures[k](s), PD_OK);
  }
  pd_store_free(s);
  assert_int_equal(atomic_load(&t.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_allocation_failure_is_reported_and_leaks_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
