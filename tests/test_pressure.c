/* Specification of marketing pressure and contact caps (pressure.h):
 * rolling day and week windows, per-channel caps, the earliest allowed
 * time, opted-out, unlinked and erased users, and pressure statistics over
 * a population — all against hand-computed windows. */
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

typedef struct fixture {
  pd_store *s;
  pd_user_id u;
} fixture;

/* u is linked on WeCom and WeChat from T0 - 10 days. */
static int setup(void **state) {
  static fixture f;
  if (pd_store_new(NULL, &f.s) != PD_OK) return -1;
  pd_user_ensure(f.s, "phone", PD_NTS, "u", PD_NTS, &f.u);
  pd_link_event e = PD_LINK_EVENT_INIT;
  e.event_id = 900001;
  e.user = f.u;
  e.channel = PD_CHANNEL_WECOM;
  e.time = T0 - 10 * DAY;
  if (pd_record_link(f.s, &e) != PD_OK) return -1;
  e.event_id = 900002;
  e.channel = PD_CHANNEL_WECHAT;
  if (pd_record_link(f.s, &e) != PD_OK) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  pd_store_free(f->s);
  return 0;
}

static pd_contact_verdict check(pd_store *s, pd_user_id u, int32_t ch,
                                int32_t purpose, int64_t at,
                                const pd_contact_policy *pol) {
  pd_contact_verdict v = PD_CONTACT_VERDICT_INIT;
  assert_int_equal(pd_contact_check(s, u, ch, purpose, at, pol, &v), PD_OK);
  return v;
}

static void a_user_never_pushed_is_allowed_now(void **state) {
  fixture *f = *state;
  pd_contact_verdict v =
      check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0, NULL);
  assert_int_equal(v.allowed, 1);
  assert_int_equal(v.reason, PD_CONTACT_ALLOWED);
  assert_int_equal(v.pushes_day, 0);
  assert_int_equal(v.pushes_week, 0);
  assert_int_equal(v.earliest, T0);
}

static void the_daily_and_weekly_caps_use_rolling_windows(void **state) {
  fixture *f = *state;
  mt_touch(f->s, f->u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_PROMOTION, T0);
  mt_touch(f->s, f->u, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, T0 + 2 * DAY);
  /* One push in the last 24 h, two in the week: the day cap (1) is hit
   * first; both caps clear when T0's push leaves the week. */
  pd_contact_verdict v = check(f->s, f->u, PD_CHANNEL_WECOM,
                               PD_PURPOSE_PROMOTION, T0 + 2 * DAY + HOUR, NULL);
  assert_int_equal(v.allowed, 0);
  assert_int_equal(v.reason, PD_CONTACT_DAILY_CAP);
  assert_int_equal(v.pushes_day, 1);
  assert_int_equal(v.pushes_week, 2);
  assert_int_equal(v.earliest, T0 + 7 * DAY);
  v = check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0 + 3 * DAY,
            NULL);
  assert_int_equal(v.reason, PD_CONTACT_WEEKLY_CAP);
  assert_int_equal(v.pushes_day, 0);
  assert_int_equal(v.earliest, T0 + 7 * DAY);
  v = check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION,
            T0 + 7 * DAY - 1, NULL);
  assert_int_equal(v.reason, PD_CONTACT_WEEKLY_CAP);
  v = check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0 + 7 * DAY,
            NULL);
  assert_int_equal(v.allowed, 1);
  assert_int_equal(v.pushes_week, 1);
  assert_int_equal(v.earliest, T0 + 7 * DAY);
}

static void a_push_at_the_instant_asked_about_counts(void **state) {
  fixture *f = *state;
  mt_touch(f->s, f->u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_PROMOTION, T0);
  pd_contact_verdict v =
      check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0, NULL);
  assert_int_equal(v.reason, PD_CONTACT_DAILY_CAP);
  assert_int_equal(v.earliest, T0 + DAY);
  /* ... and a push after it is the future: ignored. */
  v = check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0 - 1, NULL);
  assert_int_equal(v.allowed, 1);
}

static void only_promotional_pushes_count(void **state) {
  fixture *f = *state;
  mt_touch(f->s, f->u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE, T0);
  mt_touch(f->s, f->u, PD_TOUCH_BROADCAST, PD_PURPOSE_CONTENT, T0);
  mt_touch(f->s, f->u, PD_TOUCH_POST_EXPOSURE, PD_PURPOSE_PROMOTION, T0);
  pd_contact_verdict v =
      check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0, NULL);
  assert_int_equal(v.allowed, 1);
  assert_int_equal(v.pushes_day, 0);
  pd_contact_policy pol = PD_CONTACT_POLICY_INIT;
  pol.count_post_exposures = 1;
  v = check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0, &pol);
  assert_int_equal(v.reason, PD_CONTACT_DAILY_CAP);
  assert_int_equal(v.pushes_day, 1);
}

static void service_and_content_are_not_capped(void **state) {
  fixture *f = *state;
  mt_touch(f->s, f->u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_PROMOTION, T0);
  mt_touch(f->s, f->u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_PROMOTION, T0 + 1);
  pd_contact_verdict v =
      check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_SERVICE, T0 + 2, NULL);
  assert_int_equal(v.allowed, 1);
  assert_int_equal(v.pushes_day, 2);
  assert_int_equal(v.earliest, T0 + 2);
  v = check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_CONTENT, T0 + 2, NULL);
  assert_int_equal(v.allowed, 1);
}

static void a_channel_cap_counts_pushes_on_that_channel_only(void **state) {
  fixture *f = *state;
  pd_contact_policy pol = PD_CONTACT_POLICY_INIT;
  pol.per_day = 0;
  pol.per_week = 0;
  pol.per_channel_day = 1;
  pol.per_channel_week = 3;
  mt_touch_g(f->s, f->u, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_PROMOTION,
             PD_CHANNEL_WECOM, 0, T0);
  pd_contact_verdict v = check(f->s, f->u, PD_CHANNEL_WECHAT,
                               PD_PURPOSE_PROMOTION, T0 + HOUR, &pol);
  assert_int_equal(v.allowed, 1);
  assert_int_equal(v.pushes_day, 1);
  assert_int_equal(v.pushes_channel_day, 0);
  v = check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0 + HOUR,
            &pol);
  assert_int_equal(v.reason, PD_CONTACT_CHANNEL_CAP);
  assert_int_equal(v.pushes_channel_day, 1);
  assert_int_equal(v.pushes_channel_week, 1);
  assert_int_equal(v.earliest, T0 + DAY);
}

static void opted_out_users_are_never_eligible_for_promotions(void **state) {
  fixture *f = *state;
  pd_user_id w = mt_user(f->s, "w");
  mt_link(f->s, w, PD_CHANNEL_WECOM, T0 - DAY);
  mt_consent(f->s, f->u, PD_CONSENT_MARKETING, 0, T0 - HOUR);
  mt_consent(f->s, w, PD_CONSENT_PERSONALISED_MARKETING, 0, T0 - HOUR);
  pd_user_id who[2] = {f->u, w};
  for (int k = 0; k < 2; k++) {
    pd_contact_verdict v =
        check(f->s, who[k], PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0, NULL);
    assert_int_equal(v.allowed, 0);
    assert_int_equal(v.reason, PD_CONTACT_OPTED_OUT);
    assert_int_equal(v.earliest, -1);
    v = check(f->s, who[k], PD_CHANNEL_WECOM, PD_PURPOSE_SERVICE, T0, NULL);
    assert_int_equal(v.allowed, 1);
  }
  /* Granting again lifts the opt-out from then on. */
  mt_consent(f->s, f->u, PD_CONSENT_MARKETING, 1, T0 + DAY);
  assert_int_equal(check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION,
                         T0 + DAY, NULL)
                       .allowed,
                   1);
}

static void unlinked_users_cannot_be_contacted_on_that_channel(void **state) {
  fixture *f = *state;
  mt_unlink(f->s, f->u, PD_CHANNEL_WECOM, T0);
  pd_contact_verdict v =
      check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_SERVICE, T0, NULL);
  assert_int_equal(v.reason, PD_CONTACT_UNLINKED);
  assert_int_equal(v.earliest, -1);
  v = check(f->s, f->u, PD_CHANNEL_WECHAT, PD_PURPOSE_PROMOTION, T0, NULL);
  assert_int_equal(v.allowed, 1);
  v = check(f->s, f->u, PD_CHANNEL_SMS, PD_PURPOSE_PROMOTION, T0, NULL);
  assert_int_equal(v.reason, PD_CONTACT_UNLINKED);
}

static void erased_users_are_reported_not_failed(void **state) {
  fixture *f = *state;
  assert_int_equal(pd_user_erase(f->s, f->u), PD_OK);
  pd_contact_verdict v =
      check(f->s, f->u, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0, NULL);
  assert_int_equal(v.allowed, 0);
  assert_int_equal(v.reason, PD_CONTACT_ERASED);
  assert_int_equal(v.earliest, -1);
}

static void bad_arguments_are_rejected(void **state) {
  fixture *f = *state;
  pd_contact_verdict v = PD_CONTACT_VERDICT_INIT;
  pd_contact_policy pol = PD_CONTACT_POLICY_INIT;
  assert_int_equal(pd_contact_check(f->s, f->u, 0, PD_PURPOSE_PROMOTION, T0,
                                    NULL, &v),
                   PD_E_INVALID);
  assert_int_equal(pd_contact_check(f->s, f->u, PD_CHANNEL_WECOM,
                                    PD_PURPOSE_NONE, T0, NULL, &v),
                   PD_E_INVALID);
  assert_int_equal(pd_contact_check(f->s, f->u, PD_CHANNEL_WECOM,
                                    PD_PURPOSE_PROMOTION, -1, NULL, &v),
                   PD_E_RANGE);
  assert_int_equal(pd_contact_check(f->s, 77, PD_CHANNEL_WECOM,
                                    PD_PURPOSE_PROMOTION, T0, NULL, &v),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_contact_check(f->s, f->u, 999, PD_PURPOSE_PROMOTION, T0,
                                    NULL, &v),
                   PD_E_NOT_FOUND);
  pol.size = 8;
  assert_int_equal(pd_contact_check(f->s, f->u, PD_CHANNEL_WECOM,
                                    PD_PURPOSE_PROMOTION, T0, &pol, &v),
                   PD_E_INVALID);
  v.size = 8;
  assert_int_equal(pd_contact_check(f->s, f->u, PD_CHANNEL_WECOM,
                                    PD_PURPOSE_PROMOTION, T0, NULL, &v),
                   PD_E_INVALID);
  assert_int_equal(v.allowed, 0); /* untouched */
  assert_int_equal(pd_contact_check(NULL, f->u, PD_CHANNEL_WECOM,
                                    PD_PURPOSE_PROMOTION, T0, NULL, &v),
                   PD_E_MISUSE);
}

/* a: pushes at as_of - 8 d (outside the week), as_of - 2 h, as_of - 1 h
 *    (the second within a day: breaks the daily cap of 1);
 * b: one push at as_of - 3 d; c: none. */
static void pressure_statistics_over_a_population(void **state) {
  fixture *f = *state;
  pd_store *s = f->s;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b"), c = mt_user(s, "c");
  const int64_t as_of = T0 + 30 * DAY;
  mt_link(s, a, PD_CHANNEL_WECOM, T0);
  mt_link(s, b, PD_CHANNEL_WECHAT, T0);
  mt_link(s, c, PD_CHANNEL_WECHAT, T0 + DAY);
  mt_touch(s, a, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, as_of - 8 * DAY);
  mt_touch(s, a, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, as_of - 2 * HOUR);
  mt_touch(s, a, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_PROMOTION, as_of - HOUR);
  mt_touch(s, b, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, as_of - 3 * DAY);
  mt_touch(s, b, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, as_of + HOUR);
  /* f->u would be a fourth user: erase it to keep the numbers small. */
  assert_int_equal(pd_user_erase(s, f->u), PD_OK);
  pd_metrics_filter flt = PD_METRICS_FILTER_INIT;
  flt.as_of = as_of;
  pd_pressure_stats ps = PD_PRESSURE_STATS_INIT;
  assert_int_equal(pd_pressure_stats_get(s, &flt, 7 * DAY, NULL, &ps), PD_OK);
  assert_int_equal(ps.users, 3);
  assert_int_equal(ps.pushes, 3);
  assert_true(ps.mean == 1.0);
  assert_true(ps.p50 == 1.0); /* counts 0, 1, 2: rank ceil(1.5) = 2 */
  assert_true(ps.p90 == 2.0); /* rank ceil(2.7) = 3 */
  assert_int_equal(ps.max, 2);
  assert_int_equal(ps.over_cap_pushes, 1);
  assert_int_equal(ps.users_over_cap, 1);
  /* A window of 30 days also holds a's push of as_of - 8 d. */
  assert_int_equal(pd_pressure_stats_get(s, &flt, 30 * DAY, NULL, &ps), PD_OK);
  assert_int_equal(ps.pushes, 4);
  assert_int_equal(ps.max, 3);
  /* Filtered by acquisition channel: only b and c were acquired on WeChat. */
  flt.channel = PD_CHANNEL_WECHAT;
  assert_int_equal(pd_pressure_stats_get(s, &flt, 7 * DAY, NULL, &ps), PD_OK);
  assert_int_equal(ps.users, 2);
  assert_int_equal(ps.pushes, 1);
  assert_int_equal(ps.over_cap_pushes, 0);
  assert_int_equal(pd_pressure_stats_get(s, &flt, 0, NULL, &ps), PD_E_RANGE);
  flt.channel = 4321;
  assert_int_equal(pd_pressure_stats_get(s, &flt, DAY, NULL, &ps),
                   PD_E_NOT_FOUND);
}

static void out_of_memory_is_reported_and_leaks_nothing(void **state) {
  (void)state;
  test_alloc ta;
  pd_allocator a;
  pd_store *s = nomem_store(&ta, &a, T0);
  pd_metrics_filter f = mb_filter(T0);
  pd_pressure_stats ps = PD_PRESSURE_STATS_INIT;
  EVERY_ALLOCATION_FAILS_CLEANLY(ta,
                                 pd_pressure_stats_get(s, &f, 7 * DAY, NULL, &ps));
  assert_int_equal(ps.users, 12);
  assert_true(ps.over_cap_pushes > 0);
  pd_contact_verdict v = PD_CONTACT_VERDICT_INIT;
  EVERY_ALLOCATION_FAILS_CLEANLY(
      ta, pd_contact_check(s, 5, PD_CHANNEL_WECOM, PD_PURPOSE_PROMOTION, T0,
                           NULL, &v));
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(a_user_never_pushed_is_allowed_now,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          the_daily_and_weekly_caps_use_rolling_windows, setup, teardown),
      cmocka_unit_test_setup_teardown(a_push_at_the_instant_asked_about_counts,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(only_promotional_pushes_count, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(service_and_content_are_not_capped,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          a_channel_cap_counts_pushes_on_that_channel_only, setup, teardown),
      cmocka_unit_test_setup_teardown(
          opted_out_users_are_never_eligible_for_promotions, setup, teardown),
      cmocka_unit_test_setup_teardown(
          unlinked_users_cannot_be_contacted_on_that_channel, setup, teardown),
      cmocka_unit_test_setup_teardown(erased_users_are_reported_not_failed,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(bad_arguments_are_rejected, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(pressure_statistics_over_a_population,
                                      setup, teardown),
      cmocka_unit_test(out_of_memory_is_reported_and_leaks_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
