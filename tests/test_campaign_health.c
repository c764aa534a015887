/* Specification of campaign health (campaign.h): the orders a campaign
 * brought, the unlink rate it caused against the baseline before it, and
 * the verdict; the demo's flash-group campaign (34% deletions) is
 * unhealthy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "demo_data.h"
#include "metrics_b_testutil.h"

#define W PD_CHANNEL_WECOM
#define C 1 /* the campaign label */
#define D MB_DAY

/* Campaign window [day 10, day 13); unlink window U = [day 10, day 27)
 * (14 days after); baseline B = [day -7, day 10).
 * u1: campaign touch day 10 01:00; orders day 9 (before its contact: no),
 *     day 12 (1000: yes), day 25 (after last contact + 7 days: no);
 *     deletes the brand on day 14 (in U).
 * u2: campaign touches days 11 and 12; order day 18 (<= day 19: yes) of
 *     500 refunded 100; deleted on day 5 and re-linked day 6 (in B).
 * u3: joins through a campaign link on day 10 02:00.
 * u4: campaign touch on day 20, outside the window: not in the pool.
 * u5: campaign touch day 12, removed by staff on day 15. */
static const mb_ev script[] = {
    {MB_LINK, MB_T0, 1, W, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 10 * D + MB_HOUR, 1, PD_TOUCH_BROADCAST, 0, C, 0, 0},
    {MB_ORDER, MB_T0 + 9 * D, 1, 0, 0, 0, 0, 700},
    {MB_ORDER, MB_T0 + 12 * D, 1, 0, 0, 0, 0, 1000},
    {MB_ORDER, MB_T0 + 25 * D, 1, 0, 0, 0, 0, 900},
    {MB_UNLINK, MB_T0 + 14 * D, 1, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
    {MB_LINK, MB_T0, 2, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 5 * D, 2, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
    {MB_LINK, MB_T0 + 6 * D, 2, W, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 11 * D, 2, PD_TOUCH_BROADCAST, 0, C, 0, 0},
    {MB_TOUCH, MB_T0 + 12 * D, 2, PD_TOUCH_BROADCAST, 0, C, 0, 0},
    {MB_ORDER, MB_T0 + 18 * D, 2, 0, 0, 0, 0, 500},
    {MB_REFUND, MB_T0 + 18 * D + MB_HOUR, 11, 0, 0, 0, 0, 100},
    {MB_LINK, MB_T0 + 10 * D + 2 * MB_HOUR, 3, PD_CHANNEL_WECHAT_GROUP, 0, C,
     0, 0},
    {MB_LINK, MB_T0, 4, W, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 20 * D, 4, PD_TOUCH_BROADCAST, 0, C, 0, 0},
    {MB_LINK, MB_T0, 5, W, 0, 0, 0, 0},
    {MB_TOUCH, MB_T0 + 12 * D, 5, PD_TOUCH_BROADCAST, 0, C, 0, 0},
    {MB_UNLINK, MB_T0 + 15 * D, 5, W, PD_UNLINK_STAFF_REMOVED, 0, 0, 0},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t AS_OF = MB_T0 + 40 * D;

static pd_store *store_with(uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 5);
  uint32_t c = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_CAMPAIGN, "618", PD_NTS, &c),
                   PD_OK);
  assert_int_equal(c, C);
  assert_int_equal(mb_play(s, script, N_SCRIPT, seed), PD_OK);
  return s;
}

static pd_campaign_health health(pd_store *s, const pd_metrics_filter *f,
                                 const pd_campaign_options *o) {
  pd_campaign_health h = PD_CAMPAIGN_HEALTH_INIT;
  assert_int_equal(pd_campaign_health_compute(s, f, C, MB_T0 + 10 * D,
                                              MB_T0 + 13 * D, o, &h),
                   PD_OK);
  return h;
}

/* Pool {u1, u2, u3, u5}; attributed orders: u1's 1000 and u2's 500 - 100.
 * U: all four linked, only u1 deletes (u5 was removed by staff): 1/4.
 * B: u1, u2, u5 linked, u2 deleted: 1/3. Ratio 0.75: healthy. */
static void orders_revenue_and_unlink_rate_against_the_baseline(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_campaign_health h = health(s, &f, NULL);
    assert_int_equal(h.pool, 4);
    assert_int_equal(h.orders, 2);
    assert_int_equal(h.buyers, 2);
    assert_int_equal(h.revenue, 1400);
    assert_int_equal(h.linked, 4);
    assert_int_equal(h.unlinked, 1);
    assert_float_equal(h.rate, 0.25, 1e-12);
    assert_int_equal(h.baseline_linked, 3);
    assert_int_equal(h.baseline_unlinked, 1);
    assert_float_equal(h.baseline_rate, 1.0 / 3.0, 1e-12);
    assert_float_equal(h.ratio, 0.75, 1e-12);
    assert_int_equal(h.verdict, PD_CAMPAIGN_HEALTHY);
    assert_int_equal(h.unlink_window_end, MB_T0 + 27 * D);
    assert_int_equal(h.baseline_start, MB_T0 - 7 * D);
    pd_store_free(s);
  }
}

/* Counting staff removals: u5 too, 2/4 = 0.5 against 1/3: ratio 1.5, below
 * 3×: healthy; with a 1× rule it is unhealthy. */
static void the_verdict_rule_is_configurable(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_campaign_options o = PD_CAMPAIGN_OPTIONS_INIT;
  o.count_staff = 1;
  pd_campaign_health h = health(s, &f, &o);
  assert_float_equal(h.rate, 0.5, 1e-12);
  assert_int_equal(h.verdict, PD_CAMPAIGN_HEALTHY);
  o.unhealthy_ratio = 1.0;
  h = health(s, &f, &o);
  assert_int_equal(h.verdict, PD_CAMPAIGN_UNHEALTHY);
  o.unhealthy_min_rate = 0.6;
  h = health(s, &f, &o);
  assert_int_equal(h.verdict, PD_CAMPAIGN_HEALTHY);
  pd_store_free(s);
}

/* A 20-day attribution window takes u1's day-25 order too (day 10 01:00 +
 * 20 days >= day 25); u1 is still one buyer (in the one-event-block
 * build, its two orders are in two blocks). */
static void attribution_window_decides_which_orders_count(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_campaign_options o = PD_CAMPAIGN_OPTIONS_INIT;
  o.attribution_window = 20 * D;
  pd_campaign_health h = health(s, &f, &o);
  assert_int_equal(h.orders, 3);
  assert_int_equal(h.buyers, 2);
  assert_int_equal(h.revenue, 2300);
  pd_store_free(s);
}

/* As of day 13 u1 has not deleted yet and u2's order is in the future. */
static void as_of_in_the_past_ignores_later_events(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 13 * D);
  pd_campaign_health h = health(s, &f, NULL);
  assert_int_equal(h.pool, 4);
  assert_int_equal(h.orders, 1);
  assert_int_equal(h.revenue, 1000);
  assert_int_equal(h.unlinked, 0);
  assert_int_equal(h.verdict, PD_CAMPAIGN_HEALTHY);
  pd_store_free(s);
}

/* 200 users, each with an order of its id in minor units on day 11; the
 * campaign touches every third on day 10, and every sixth orders twice.
 * Only the touched users' orders count, whatever their ids (users past
 * 64 and 128 too), on every thread count: 66 buyers, 99 orders,
 * 3 * (1 + ... + 66) + 6 * (1 + ... + 33) = 9999. */
static void only_the_pools_orders_count_for_every_user_id(void **st) {
  (void)st;
  enum { USERS = 200 };
  static mb_ev v[512];
  size_t n = 0;
  for (uint32_t u = 1; u <= USERS; u++) {
    if (u % 3 == 0)
      v[n++] = (mb_ev){MB_TOUCH, MB_T0 + 10 * D, u, PD_TOUCH_BROADCAST, 0, C,
                       0, 0};
    v[n++] = (mb_ev){MB_ORDER, MB_T0 + 11 * D, u, 0, 0, 0, 0, u};
    if (u % 6 == 0)
      v[n++] = (mb_ev){MB_ORDER, MB_T0 + 11 * D + MB_HOUR, u, 0, 0, 0, 0, u};
  }
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, USERS);
  uint32_t c = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_CAMPAIGN, "618", PD_NTS, &c),
                   PD_OK);
  assert_int_equal(mb_play(s, v, n, 7), PD_OK);
  pd_metrics_filter f = mb_filter(AS_OF);
  const int32_t threads[] = {1, 2, 3};
  for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
    assert_int_equal(pd_store_set_threads(s, threads[t]), PD_OK);
    pd_campaign_health h = health(s, &f, NULL);
    assert_int_equal(h.pool, 66);
    assert_int_equal(h.buyers, 66);
    assert_int_equal(h.orders, 99);
    assert_int_equal(h.revenue, 9999);
  }
  pd_store_free(s);
}

/* 快闪群: the demo's flash group sold for three days and 34% of its members
 * deleted the brand afterwards (DOMAIN.md): unhealthy. */
static void the_demo_flash_group_campaign_is_unhealthy(void **st) {
  (void)st;
  demo_data d;
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, 3000, &d), 0);
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  demo_player p;
  assert_int_equal(demo_player_init(&p, &d, s, 0), 0);
  for (size_t i = 0; i < d.n_records; i++) {
    pd_status rc = demo_play(&p, &d.records[i]);
    if (rc != PD_OK) fail_msg("demo record %zu: %s", i, demo_player_errmsg(&p));
  }
  uint32_t flash = p.label_ids[d.camp_flash_group];
  pd_metrics_filter f = mb_filter(DEMO_T_END);
  pd_campaign_health h = PD_CAMPAIGN_HEALTH_INIT;
  assert_int_equal(pd_campaign_health_compute(s, &f, flash, d.flash_join,
                                              d.flash_end, NULL, &h),
                   PD_OK);
  assert_true(h.pool > 100);
  assert_true(h.orders > 0 && h.revenue > 0);
  assert_true(h.rate >= 0.30);
  assert_true(h.rate >= 3 * h.baseline_rate);
  assert_int_equal(h.verdict, PD_CAMPAIGN_UNHEALTHY);
  /* The bestie-card fission campaign did not cost contacts like that. */
  uint32_t bestie = p.label_ids[d.camp_bestie_card];
  assert_int_equal(pd_campaign_health_compute(s, &f, bestie, d.bestie_start,
                                              d.bestie_end, NULL, &h),
                   PD_OK);
  assert_int_equal(h.verdict, PD_CAMPAIGN_HEALTHY);
  demo_player_free(&p);
  pd_store_free(s);
  demo_free(&d);
}

/* The contacts are gathered by blocks of events on several threads: the
 * figure is the same byte for byte on 1, 2, 3 and all threads, and the
 * same as the one computed before threads were set (on the demo's flash
 * group and bestie-card campaigns, whose pools are in the hundreds). */
static void the_figure_is_the_same_for_every_thread_count(void **st) {
  (void)st;
  demo_data d;
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, 3000, &d), 0);
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  demo_player p;
  assert_int_equal(demo_player_init(&p, &d, s, 0), 0);
  for (size_t i = 0; i < d.n_records; i++)
    if (demo_play(&p, &d.records[i]) != PD_OK)
      fail_msg("demo record %zu: %s", i, demo_player_errmsg(&p));
  pd_metrics_filter f = mb_filter(DEMO_T_END);
  const uint32_t camp[2] = {p.label_ids[d.camp_flash_group],
                            p.label_ids[d.camp_bestie_card]};
  const int64_t from[2] = {d.flash_join, d.bestie_start};
  const int64_t to[2] = {d.flash_end, d.bestie_end};
  for (int k = 0; k < 2; k++) {
    pd_campaign_health one, other;
    memset(&one, 0, sizeof one);
    one.size = sizeof one;
    assert_int_equal(pd_store_set_threads(s, 1), PD_OK);
    assert_int_equal(
        pd_campaign_health_compute(s, &f, camp[k], from[k], to[k], NULL, &one),
        PD_OK);
    assert_true(one.pool > 100);
    const int32_t threads[] = {2, 3, 0};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
      assert_int_equal(pd_store_set_threads(s, threads[t]), PD_OK);
      memset(&other, 0, sizeof other);
      other.size = sizeof other;
      assert_int_equal(pd_campaign_health_compute(s, &f, camp[k], from[k],
                                                  to[k], NULL, &other),
                       PD_OK);
      assert_memory_equal(&one, &other, sizeof one);
    }
  }
  demo_player_free(&p);
  pd_store_free(s);
  demo_free(&d);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_campaign_health h = PD_CAMPAIGN_HEALTH_INIT;
  int64_t a = MB_T0 + 10 * D, b = MB_T0 + 13 * D;
  assert_int_equal(pd_campaign_health_compute(NULL, &f, C, a, b, NULL, &h),
                   PD_E_MISUSE);
  assert_int_equal(pd_campaign_health_compute(s, &f, C, a, b, NULL, NULL),
                   PD_E_INVALID);
  assert_int_equal(pd_campaign_health_compute(s, &f, 0, a, b, NULL, &h),
                   PD_E_INVALID);
  assert_int_equal(pd_campaign_health_compute(s, &f, 9, a, b, NULL, &h),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_campaign_health_compute(s, &f, C, b, a, NULL, &h),
                   PD_E_RANGE);
  pd_campaign_options o = PD_CAMPAIGN_OPTIONS_INIT;
  o.unhealthy_ratio = 0.0 / 0.0;
  assert_int_equal(pd_campaign_health_compute(s, &f, C, a, b, &o, &h),
                   PD_E_INVALID);
  o = (pd_campaign_options)PD_CAMPAIGN_OPTIONS_INIT;
  o.attribution_window = -1;
  assert_int_equal(pd_campaign_health_compute(s, &f, C, a, b, &o, &h),
                   PD_E_INVALID);
  o = (pd_campaign_options)PD_CAMPAIGN_OPTIONS_INIT;
  o.size = 3;
  assert_int_equal(pd_campaign_health_compute(s, &f, C, a, b, &o, &h),
                   PD_E_INVALID);
  pd_metrics_filter bad = f;
  bad.size = 0;
  assert_int_equal(pd_campaign_health_compute(s, &bad, C, a, b, NULL, &h),
                   PD_E_INVALID);
  /* A campaign with no events in the window: empty pool, healthy. */
  h = health(s, &f, NULL);
  assert_int_equal(pd_campaign_health_compute(s, &f, C, MB_T0 + 30 * D,
                                              MB_T0 + 31 * D, NULL, &h),
                   PD_OK);
  assert_int_equal(h.pool, 0);
  assert_float_equal(h.rate, 0.0, 0);
  assert_int_equal(h.verdict, PD_CAMPAIGN_HEALTHY);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(orders_revenue_and_unlink_rate_against_the_baseline),
      cmocka_unit_test(the_verdict_rule_is_configurable),
      cmocka_unit_test(attribution_window_decides_which_orders_count),
      cmocka_unit_test(as_of_in_the_past_ignores_later_events),
      cmocka_unit_test(only_the_pools_orders_count_for_every_user_id),
      cmocka_unit_test(the_demo_flash_group_campaign_is_unhealthy),
      cmocka_unit_test(the_figure_is_the_same_for_every_thread_count),
      cmocka_unit_test(bad_input_gets_a_clear_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
