/* Specification of the unlink rate (删粉率, retention_metrics.h): unlinks
 * in a window / (user, channel) pairs linked at its start or during it,
 * user- and staff-initiated kept apart, cut at as_of. */
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
#define DEL PD_UNLINK_USER_DELETED
#define BLK PD_UNLINK_USER_BLOCKED
#define STF PD_UNLINK_STAFF_REMOVED

static uint32_t src_ad; /* source label of u3's link (label 1) */

/* Window [day 1, day 3):
 * u1 linked before it, deletes on day 1      -> base, 1 user unlink
 * u2 linked before it, removed by staff day 2 -> base, 1 staff unlink
 * u3 links during it (source "ad")            -> base
 * u4 linked and deleted before it             -> not in base
 * u5 links after it                           -> not in base
 * u6 linked, deletes, re-links, blocks        -> base, 2 user unlinks
 * u7 on WeChat, deletes on day 2              -> base only for channel 0 */
static const mb_ev script[] = {
    {MB_LINK, MB_T0, 1, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + MB_DAY + MB_HOUR, 1, W, DEL, 0, 0, 0},
    {MB_LINK, MB_T0, 2, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 2 * MB_DAY, 2, W, STF, 0, 0, 0},
    {MB_LINK, MB_T0 + MB_DAY + 5 * MB_HOUR, 3, W, 1, 0, 0, 0},
    {MB_LINK, MB_T0, 4, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 12 * MB_HOUR, 4, W, DEL, 0, 0, 0},
    {MB_LINK, MB_T0 + 3 * MB_DAY + MB_HOUR, 5, W, 0, 0, 0, 0},
    {MB_LINK, MB_T0, 6, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + MB_DAY + 2 * MB_HOUR, 6, W, DEL, 0, 0, 0},
    {MB_LINK, MB_T0 + MB_DAY + 3 * MB_HOUR, 6, W, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 2 * MB_DAY + MB_HOUR, 6, W, BLK, 0, 0, 0},
    {MB_LINK, MB_T0, 7, P, 0, 0, 0, 0},
    {MB_UNLINK, MB_T0 + 2 * MB_DAY, 7, P, DEL, 0, 0, 0},
    /* An unlink while not linked has no effect. */
    {MB_UNLINK, MB_T0 + 2 * MB_DAY, 5, W, DEL, 0, 0, 0},
};
#define N_SCRIPT (sizeof script / sizeof script[0])
static const int64_t FROM = MB_T0 + MB_DAY, TO = MB_T0 + 3 * MB_DAY;

static pd_store *store_with(uint64_t seed) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  mb_users(s, 7);
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "ad", PD_NTS, &src_ad),
                   PD_OK);
  assert_int_equal(src_ad, 1);
  assert_int_equal(mb_play(s, script, N_SCRIPT, seed), PD_OK);
  return s;
}

static pd_unlink_rate rate_of(pd_store *s, const pd_metrics_filter *f,
                              int32_t channel, int64_t from, int64_t to) {
  pd_unlink_rate r = PD_UNLINK_RATE_INIT;
  assert_int_equal(pd_unlink_rate_compute(s, f, channel, from, to, &r),
                   PD_OK);
  return r;
}

/* WeCom: base {u1, u2, u3, u6} = 4; user unlinks u1 + 2 × u6 = 3 (2
 * pairs); staff unlinks u2 = 1. */
static void unlinks_over_pairs_linked_at_start_or_during(void **st) {
  (void)st;
  for (uint64_t seed = 0; seed < 4; seed++) {
    pd_store *s = store_with(seed);
    pd_metrics_filter f = mb_filter(MB_T0 + 10 * MB_DAY);
    pd_unlink_rate r = rate_of(s, &f, W, FROM, TO);
    assert_int_equal(r.base, 4);
    assert_int_equal(r.user_unlinks, 3);
    assert_int_equal(r.staff_unlinks, 1);
    assert_int_equal(r.user_unlinked_pairs, 2);
    assert_int_equal(r.staff_unlinked_pairs, 1);
    assert_float_equal(r.user_rate, 0.75, 1e-12);
    assert_float_equal(r.staff_rate, 0.25, 1e-12);
    assert_float_equal(r.rate, 1.0, 1e-12);
    pd_store_free(s);
  }
}

/* Every channel: u7's WeChat pair joins: base 5, user unlinks 4. */
static void channel_zero_counts_every_channel(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 10 * MB_DAY);
  pd_unlink_rate r = rate_of(s, &f, 0, FROM, TO);
  assert_int_equal(r.base, 5);
  assert_int_equal(r.user_unlinks, 4);
  assert_int_equal(r.user_unlinked_pairs, 3);
  assert_float_equal(r.user_rate, 0.8, 1e-12);
  pd_store_free(s);
}

/* A user's links and unlinks are put in replay order by a short sort for
 * up to 32 of them (every other case here) and a general one beyond: u1
 * deletes and re-links 20 times on WeCom inside the window (41 events, in
 * any recording order), with a WeChat pair beside them: 20 user unlinks
 * over 1 pair. */
static void many_relinks_count_once_per_unlink(void **st) {
  (void)st;
  mb_ev v[64];
  size_t n = 0;
  v[n++] = (mb_ev){MB_LINK, MB_T0, 1, W, 0, 0, 0, 0};
  v[n++] = (mb_ev){MB_LINK, MB_T0, 1, P, 0, 0, 0, 0};
  for (int k = 0; k < 20; k++) {
    int64_t t = MB_T0 + MB_DAY + k * MB_HOUR;
    v[n++] = (mb_ev){MB_UNLINK, t + 10, 1, W, DEL, 0, 0, 0};
    v[n++] = (mb_ev){MB_LINK, t + 20, 1, W, 0, 0, 0, 0};
  }
  for (uint64_t seed = 0; seed < 3; seed++) {
    pd_store *s = NULL;
    assert_int_equal(pd_store_new(NULL, &s), PD_OK);
    mb_users(s, 1);
    assert_int_equal(mb_play(s, v, n, seed), PD_OK);
    pd_metrics_filter f = mb_filter(MB_T0 + 10 * MB_DAY);
    pd_unlink_rate r = rate_of(s, &f, W, FROM, TO);
    assert_int_equal(r.base, 1);
    assert_int_equal(r.user_unlinks, 20);
    assert_int_equal(r.user_unlinked_pairs, 1);
    r = rate_of(s, &f, 0, FROM, TO);
    assert_int_equal(r.base, 2);
    assert_int_equal(r.user_unlinks, 20);
    pd_store_free(s);
  }
}

/* As of day 2 00:00 the window is cut there: u2's staff removal at
 * exactly as_of counts, u6's block (day 2 01:00) does not. */
static void window_is_cut_at_as_of(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 2 * MB_DAY);
  pd_unlink_rate r = rate_of(s, &f, W, FROM, TO);
  assert_int_equal(r.base, 4);
  assert_int_equal(r.user_unlinks, 2);
  assert_int_equal(r.staff_unlinks, 1);
  pd_store_free(s);
}

static void filter_restricts_the_users(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 10 * MB_DAY);
  f.source = src_ad;
  pd_unlink_rate r = rate_of(s, &f, W, FROM, TO);
  assert_int_equal(r.base, 1);
  assert_int_equal(r.user_unlinks + r.staff_unlinks, 0);
  assert_float_equal(r.rate, 0.0, 0);
  pd_store_free(s);
}

static void a_quiet_window_gives_zero_not_nan(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 60 * MB_DAY);
  /* On day 50 only u3 and u5 are still linked on WeCom; nobody leaves. */
  pd_unlink_rate r = rate_of(s, &f, W, MB_T0 + 50 * MB_DAY,
                             MB_T0 + 51 * MB_DAY);
  assert_int_equal(r.base, 2);
  assert_float_equal(r.rate, 0.0, 0);
  /* A window wholly after as_of is cut to nothing: base 0, rate 0. */
  f = mb_filter(MB_T0 + 10 * MB_DAY);
  r = rate_of(s, &f, W, MB_T0 + 50 * MB_DAY, MB_T0 + 51 * MB_DAY);
  assert_int_equal(r.base, 0);
  assert_float_equal(r.rate, 0.0, 0);
  pd_store_free(s);
}

static void bad_input_gets_a_clear_status(void **st) {
  (void)st;
  pd_store *s = store_with(0);
  pd_metrics_filter f = mb_filter(MB_T0 + 10 * MB_DAY);
  pd_unlink_rate r = PD_UNLINK_RATE_INIT;
  assert_int_equal(pd_unlink_rate_compute(NULL, &f, W, FROM, TO, &r),
                   PD_E_MISUSE);
  assert_int_equal(pd_unlink_rate_compute(s, &f, W, FROM, TO, NULL),
                   PD_E_INVALID);
  r.size = 8;
  assert_int_equal(pd_unlink_rate_compute(s, &f, W, FROM, TO, &r),
                   PD_E_INVALID);
  r.size = sizeof r;
  assert_int_equal(pd_unlink_rate_compute(s, &f, W, TO, FROM, &r),
                   PD_E_RANGE);
  assert_int_equal(pd_unlink_rate_compute(s, &f, W, -1, TO, &r), PD_E_RANGE);
  assert_int_equal(pd_unlink_rate_compute(s, &f, 555, FROM, TO, &r),
                   PD_E_NOT_FOUND);
  pd_metrics_filter g = f;
  g.guide = 9;
  assert_int_equal(pd_unlink_rate_compute(s, &g, W, FROM, TO, &r),
                   PD_E_NOT_FOUND);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unlinks_over_pairs_linked_at_start_or_during),
      cmocka_unit_test(channel_zero_counts_every_channel),
      cmocka_unit_test(many_relinks_count_once_per_unlink),
      cmocka_unit_test(window_is_cut_at_as_of),
      cmocka_unit_test(filter_restricts_the_users),
      cmocka_unit_test(a_quiet_window_gives_zero_not_nan),
      cmocka_unit_test(bad_input_gets_a_clear_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
