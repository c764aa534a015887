/* Specification of referral and fission figures (referral_metrics.h):
 * the referral forest (referrers, referees, generations, tree sizes), the
 * K-factor over a window, revenue of referees attributed to referrers,
 * and the top referrers. */
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
#define SRC 1

/* Referrals u1→u2 (day 1), u1→u3 (day 2), u2→u4 (day 3), u4→u5 (day 10),
 * u6→u7 (day 5); referees link when referred, the others on day 0 (u6
 * through source SRC); u8 is alone. Trees: u1 {u2 {u4 {u5}}, u3} (5
 * users, 3 generations) and u6 {u7}. Orders: u2 100 on day 0 (before its
 * referral: not attributed) and 300 on day 2, u3 200 on day 3 (both to
 * u1), u5 50 on day 12 (to u4), u7 70 on day 6 (to u6). */
static const mb_ev script[] = {
    {MB_LINK, MB_T0, 1, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0 + D, 2, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0 + 2 * D, 3, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0 + 3 * D, 4, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0 + 10 * D, 5, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0, 6, W, SRC, 0, 0, 0},
    {MB_LINK, MB_T0 + 5 * D, 7, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0, 8, W, 0, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + D, 1, 2, 0, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + 2 * D, 1, 3, 0, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + 3 * D, 2, 4, 0, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + 10 * D, 4, 5, 0, 0, 0, 0},
    {MB_REFERRAL, MB_T0 + 5 * D, 6, 7, 0, 0, 0, 0},
    {MB_ORDER, MB_T0, 2, 0, 0, 0, 0, 100},
    {MB_ORDER, MB_T0 + 2 * D, 2, 0, 0, 0, 0, 300},
    {MB_ORDER, MB_T0 + 3 * D, 3, 0, 0, 0, 0, 200},
    {MB_ORDER, MB_T0 + 12 * D, 5, 0, 0, 0, 0, 50},
    {MB_ORDER, MB_T0 + 6 * D, 7, 0, 0, 0, 0, 70},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t AS_OF = MB_T0 + 20 * D;
static const int64_t FROM = MB_T0 + 4 * D, TO = MB_T0 + 11 * D;

/* Users u1..u8 and the source label, then events v[0..n) in an order
 * `seed` shuffles. */
static pd_store *store_playing(const mb_ev *v, size_t n, uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 8);
  uint32_t l = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "fission", PD_NTS, &l),
                   PD_OK);
  assert_int_equal(mb_play(s, v, n, seed), PD_OK);
  return s;
}

static pd_store *store_with(uint64_t seed) {
  return store_playing(script, N_SCRIPT, seed);
}

static pd_referral_stats stats(pd_store *s, const pd_metrics_filter *f) {
  pd_referral_stats r = PD_REFERRAL_STATS_INIT;
  assert_int_equal(pd_referral_stats_compute(s, f, FROM, TO, &r), PD_OK);
  return r;
}

/* Base at day 4: u1, u2, u3, u4, u6, u8 are linked (6); referrals in the
 * window: u6→u7 (day 5) and u4→u5 (day 10): K = 2 / 6. */
static void forest_k_factor_and_attributed_revenue(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_referral_stats r = stats(s, &f);
    assert_int_equal(r.referrals, 5);
    assert_int_equal(r.referrers, 4);
    assert_int_equal(r.referees, 5);
    assert_int_equal(r.trees, 2);
    assert_int_equal(r.largest_tree, 5);
    assert_float_equal(r.mean_tree_size, 3.5, 1e-12);
    assert_int_equal(r.max_depth, 3);
    assert_int_equal(r.window_referrals, 2);
    assert_int_equal(r.base, 6);
    assert_float_equal(r.k_factor, 2.0 / 6.0, 1e-12);
    assert_int_equal(r.referee_revenue, 620);
    pd_store_free(s);
  }
}

/* As of day 4 only the first three referrals exist; the window is cut at
 * as_of, so nothing was referred in it yet. */
static void as_of_in_the_past_sees_a_smaller_forest(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(FROM);
  pd_referral_stats r = stats(s, &f);
  assert_int_equal(r.referrals, 3);
  assert_int_equal(r.trees, 1);
  assert_int_equal(r.largest_tree, 4);
  assert_int_equal(r.max_depth, 2);
  assert_int_equal(r.window_referrals, 0);
  assert_float_equal(r.k_factor, 0.0, 0);
  assert_int_equal(r.referee_revenue, 500);
  pd_store_free(s);
}

/* The base replays each user's links and unlinks up to `from` (day 4),
 * on every channel: u1 unlinks WeCom on day 2 but has linked the official
 * account on day 1 (in); u3 unlinks on day 3 (out); u8 unlinks on day 2
 * and links again on day 3 (in); u6 unlinks on day 3, unlinks again (no
 * effect) and links again on day 3.5 (in). Base 6 - 1 = 5, on any number
 * of threads. */
static void the_base_replays_links_and_unlinks_on_any_thread_count(
    void **st) {
  (void)st;
  static const mb_ev more[] = {
      {MB_LINK, MB_T0 + D, 1, PD_CHANNEL_OFFICIAL_ACCOUNT, 0, 0, 0, 0},
      {MB_UNLINK, MB_T0 + 2 * D, 1, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
      {MB_UNLINK, MB_T0 + 3 * D, 3, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
      {MB_UNLINK, MB_T0 + 2 * D, 8, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
      {MB_LINK, MB_T0 + 3 * D, 8, W, 0, 0, 0, 0},
      {MB_UNLINK, MB_T0 + 3 * D, 6, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
      {MB_UNLINK, MB_T0 + 3 * D + 600, 6, W, PD_UNLINK_USER_DELETED, 0, 0, 0},
      {MB_LINK, MB_T0 + 3 * D + D / 2, 6, W, SRC, 0, 0, 0},
  };
  enum { MORE = sizeof more / sizeof more[0] };
  mb_ev all[N_SCRIPT + MORE];
  memcpy(all, script, sizeof script);
  memcpy(all + N_SCRIPT, more, sizeof more);
  for (uint64_t seed = 0; seed < 3; seed++) {
    pd_store *s = store_playing(all, N_SCRIPT + MORE, seed);
    for (int32_t threads = 1; threads <= 3; threads++) {
      assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
      pd_metrics_filter f = mb_filter(AS_OF);
      pd_referral_stats r = stats(s, &f);
      assert_int_equal(r.base, 5);
      assert_float_equal(r.k_factor, 2.0 / 5.0, 1e-12);
      assert_int_equal(r.referrals, 5);
      assert_int_equal(r.largest_tree, 5);
      assert_int_equal(r.max_depth, 3);
      assert_int_equal(r.referee_revenue, 620);
    }
    pd_store_free(s);
  }
}

/* Filtered by u6's source: one referrer, one tree of 2, base {u6}. */
static void filter_selects_the_referrers(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  f.source = SRC;
  pd_referral_stats r = stats(s, &f);
  assert_int_equal(r.referrals, 1);
  assert_int_equal(r.referrers, 1);
  assert_int_equal(r.trees, 1);
  assert_int_equal(r.largest_tree, 2);
  assert_int_equal(r.max_depth, 1);
  assert_int_equal(r.base, 1);
  assert_float_equal(r.k_factor, 1.0, 1e-12);
  assert_int_equal(r.referee_revenue, 70);
  pd_store_free(s);
}

/* u1 (2 direct, 4 below), u2 (1, 2 below), then u4 and u6 tie on (1, 1):
 * the smaller id first. */
static void top_referrers_by_referrals_then_descendants_then_id(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  /* Revenue is summed over blocks of orders, per worker: the same on
   * any number of threads (the small-block build has several blocks). */
  for (int32_t threads = 1; threads <= 3; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    pd_referrer_row rows[4];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    assert_int_equal(pd_referral_top(s, &f, 3, rows, 4, &n), PD_OK);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].user, 1);
    assert_int_equal(rows[0].referrals, 2);
    assert_int_equal(rows[0].descendants, 4);
    assert_int_equal(rows[0].depth, 0);
    assert_int_equal(rows[0].revenue, 500);
    assert_int_equal(rows[1].user, 2);
    assert_int_equal(rows[1].descendants, 2);
    assert_int_equal(rows[1].depth, 1);
    assert_int_equal(rows[2].user, 4);
    assert_int_equal(rows[2].depth, 2);
    assert_int_equal(rows[2].revenue, 50);
    /* More room than referrers: n = 4. */
    assert_int_equal(pd_referral_top(s, &f, 4, rows, 4, &n), PD_OK);
    assert_int_equal(n, 4);
    assert_int_equal(rows[3].user, 6);
  }
  pd_store_free(s);
}

/* Fewer rows than referrers: the first k of the full ranking, whatever
 * order the referrals were recorded in (the seeds shuffle it, so the
 * referrers come to the ranking in different orders). */
static void the_top_k_is_the_head_of_the_full_ranking(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(AS_OF);
    pd_referrer_row all[4], top[4];
    memset(all, 0, sizeof all);
    all[0].size = sizeof all[0];
    size_t n = 0;
    assert_int_equal(pd_referral_top(s, &f, 4, all, 4, &n), PD_OK);
    assert_int_equal(n, 4);
    for (size_t k = 1; k <= 4; k++) {
      memset(top, 0, sizeof top);
      top[0].size = sizeof top[0];
      assert_int_equal(pd_referral_top(s, &f, k, top, 4, &n), PD_OK);
      assert_int_equal(n, k);
      for (size_t i = 0; i < k; i++) {
        assert_int_equal(top[i].user, all[i].user);
        assert_int_equal(top[i].referrals, all[i].referrals);
        assert_int_equal(top[i].descendants, all[i].descendants);
        assert_int_equal(top[i].revenue, all[i].revenue);
      }
    }
    pd_store_free(s);
  }
}

/* A newer caller's larger rows: the stride is rows[0].size and its extra
 * bytes are kept. */
static void larger_rows_of_a_newer_caller_keep_their_extra_bytes(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  struct big {
    pd_referrer_row r;
    uint64_t extra;
  } big[2];
  memset(big, 0, sizeof big);
  big[0].r.size = sizeof big[0];
  big[0].extra = big[1].extra = 0xabcdef;
  size_t n = 0;
  assert_int_equal(
      pd_referral_top(s, &f, 2, (pd_referrer_row *)(void *)big, 2, &n),
      PD_OK);
  assert_int_equal(n, 2);
  assert_int_equal(big[0].r.user, 1);
  assert_int_equal(big[1].r.user, 2);
  assert_int_equal(big[0].extra, 0xabcdef);
  assert_int_equal(big[1].extra, 0xabcdef);
  pd_store_free(s);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(AS_OF);
  pd_referral_stats r = PD_REFERRAL_STATS_INIT;
  assert_int_equal(pd_referral_stats_compute(NULL, &f, FROM, TO, &r),
                   PD_E_MISUSE);
  assert_int_equal(pd_referral_stats_compute(s, &f, FROM, TO, NULL),
                   PD_E_INVALID);
  assert_int_equal(pd_referral_stats_compute(s, &f, TO, FROM, &r),
                   PD_E_RANGE);
  r.size = 1;
  assert_int_equal(pd_referral_stats_compute(s, &f, FROM, TO, &r),
                   PD_E_INVALID);
  pd_referrer_row rows[2];
  rows[0].size = sizeof rows[0];
  size_t n = 0;
  assert_int_equal(pd_referral_top(s, &f, 0, rows, 2, &n), PD_E_INVALID);
  assert_int_equal(pd_referral_top(s, &f, 3, rows, 2, &n), PD_E_INVALID);
  assert_int_equal(pd_referral_top(s, &f, 2, rows, 2, NULL), PD_E_INVALID);
  rows[0].size = 4;
  assert_int_equal(pd_referral_top(s, &f, 2, rows, 2, &n), PD_E_INVALID);
  rows[0].size = sizeof rows[0];
  pd_metrics_filter bad = f;
  bad.guide = 3;
  assert_int_equal(pd_referral_top(s, &bad, 2, rows, 2, &n), PD_E_NOT_FOUND);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  pd_store_free(s);
}

/* 300 more orders of u3 after its referral (day 3): u1's revenue grows
 * by their sum whatever the thread count, and 64 threads allocate no
 * more than 8 (nothing per worker). */
static void revenue_of_many_orders_on_any_thread_count(void **st) {
  (void)st;
  enum { MORE = 300 };
  mb_ev all[N_SCRIPT + MORE];
  memcpy(all, script, sizeof script);
  int64_t extra = 0;
  for (int i = 0; i < MORE; i++) {
    all[N_SCRIPT + i] = (mb_ev){MB_ORDER, MB_T0 + 4 * D + i * 60, 3, 0, 0,
                                0, 0, 10 + i % 7};
    extra += 10 + i % 7;
  }
  test_alloc ta;
  test_alloc_init(&ta);
  pd_store *s = test_alloc_store(&ta);
  assert_non_null(s);
  mb_users(s, 8);
  uint32_t l = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "fission", PD_NTS, &l),
                   PD_OK);
  assert_int_equal(mb_play(s, all, N_SCRIPT + MORE, 1), PD_OK);
  pd_metrics_filter f = mb_filter(AS_OF);
  long calls[3];
  const int32_t threads[3] = {1, 8, 64};
  for (int k = 0; k < 3; k++) {
    assert_int_equal(pd_store_set_threads(s, threads[k]), PD_OK);
    pd_referrer_row rows[1];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    long before = atomic_load(&ta.calls);
    assert_int_equal(pd_referral_top(s, &f, 1, rows, 1, &n), PD_OK);
    calls[k] = atomic_load(&ta.calls) - before;
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].user, 1);
    assert_int_equal(rows[0].revenue, 500 + extra);
  }
  assert_int_equal(calls[2], calls[1]);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

/* A referee's revenue comes from all its identities, from its referral
 * to as_of: u9 buys 1000 on day 4 and 300 on day 8, then is merged into
 * u7 (referred by u6 on day 5): 300 more to u6. u5 (referred on day 10)
 * buys 40 on day 25, after as_of, and u3's day-3 order is refunded 80 on
 * day 30: neither changes the figure as of day 20. */
static void referee_revenue_reads_every_identity_until_as_of(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 3; seed++) {
    pd_store *s = store_with(seed);
    pd_user_id u9 = 0, kept = 0;
    assert_int_equal(pd_user_ensure(s, "test", PD_NTS, "u9", PD_NTS, &u9),
                     PD_OK);
    const struct {
      pd_user_id user;
      int64_t t, amount;
    } more[] = {{u9, MB_T0 + 4 * D, 1000}, {u9, MB_T0 + 8 * D, 300},
                {5, MB_T0 + 25 * D, 40}};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
      pd_order o = PD_ORDER_INIT;
      o.event_id = 1000 + i;
      o.order_id = 1000 + i;
      o.user = more[i].user;
      o.time = more[i].t;
      o.amount = more[i].amount;
      assert_int_equal(pd_record_order(s, &o), PD_OK);
    }
    assert_int_equal(pd_user_merge(s, 7, u9, &kept), PD_OK);
    assert_int_equal(kept, 7);
    /* The script's orders are numbered by their place in it (mb_record):
     * u3's 200 on day 3 is its 16th event. */
    pd_refund r = PD_REFUND_INIT;
    r.event_id = 2000;
    r.order_id = 16;
    r.amount = 80;
    r.time = MB_T0 + 30 * D;
    assert_int_equal(pd_record_refund(s, &r), PD_OK);
    for (int32_t threads = 1; threads <= 2; threads++) {
      assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
      pd_metrics_filter f = mb_filter(AS_OF);
      pd_referral_stats st_ = stats(s, &f);
      assert_int_equal(st_.referee_revenue, 620 + 300);
      pd_referrer_row rows[4];
      for (int k = 0; k < 4; k++) rows[k].size = sizeof rows[k];
      size_t n = 0;
      assert_int_equal(pd_referral_top(s, &f, 4, rows, 4, &n), PD_OK);
      int64_t by_user[10] = {0};
      for (size_t k = 0; k < n; k++) by_user[rows[k].user] = rows[k].revenue;
      assert_int_equal(by_user[1], 500);
      assert_int_equal(by_user[4], 50);
      assert_int_equal(by_user[6], 70 + 300);
    }
    pd_store_free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(forest_k_factor_and_attributed_revenue),
      cmocka_unit_test(as_of_in_the_past_sees_a_smaller_forest),
      cmocka_unit_test(the_base_replays_links_and_unlinks_on_any_thread_count),
      cmocka_unit_test(filter_selects_the_referrers),
      cmocka_unit_test(top_referrers_by_referrals_then_descendants_then_id),
      cmocka_unit_test(the_top_k_is_the_head_of_the_full_ranking),
      cmocka_unit_test(larger_rows_of_a_newer_caller_keep_their_extra_bytes),
      cmocka_unit_test(bad_input_gets_a_clear_status),
      cmocka_unit_test(revenue_of_many_orders_on_any_thread_count),
      cmocka_unit_test(referee_revenue_reads_every_identity_until_as_of),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
