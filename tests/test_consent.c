/* Specification of consent and opt-out (consent.h): the latest grant or
 * withdrawal at or before as_of decides, a withdrawal wins a tie, nothing
 * recorded means granted, recording is idempotent, merged users share
 * their consent and erasure removes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_testutil.h"
#include "testutil_alloc.h"

static const int64_t T0 = 1700000000;

static int setup(void **state) {
  pd_store *s;
  if (pd_store_new(NULL, &s) != PD_OK) return -1;
  *state = s;
  return 0;
}

static int teardown(void **state) {
  pd_store_free(*state);
  return 0;
}

static int32_t granted_at(pd_store *s, pd_user_id u, int32_t purpose,
                          int64_t t) {
  int32_t g = -1;
  assert_int_equal(pd_user_consent(s, u, purpose, t, &g), PD_OK);
  return g;
}

static void nothing_recorded_means_granted(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  int32_t g = -1, rec = -1;
  int64_t since = 0;
  for (int32_t p = PD_CONSENT_MARKETING; p <= PD_CONSENT_ANALYTICS; p++)
    assert_int_equal(granted_at(s, u, p, T0), 1);
  assert_int_equal(pd_user_consent_recorded(s, u, PD_CONSENT_MARKETING, T0, &g,
                                            &rec, &since),
                   PD_OK);
  assert_int_equal(g, 1);
  assert_int_equal(rec, 0);
  assert_int_equal(since, -1);
}

static void the_latest_event_at_or_before_as_of_decides(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  mt_consent(s, u, PD_CONSENT_MARKETING, 0, T0);
  mt_consent(s, u, PD_CONSENT_MARKETING, 1, T0 + 10 * DAY);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0 - 1), 1);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0), 0);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0 + 10 * DAY - 1),
                   0);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0 + 10 * DAY), 1);
  int32_t g, rec;
  int64_t since;
  assert_int_equal(pd_user_consent_recorded(s, u, PD_CONSENT_MARKETING,
                                            T0 + 5 * DAY, &g, &rec, &since),
                   PD_OK);
  assert_int_equal(rec, 1);
  assert_int_equal(since, T0);
}

static void arrival_order_does_not_matter(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a"), v = mt_user(s, "b");
  /* Same events, u in time order, v reversed. */
  mt_consent(s, u, PD_CONSENT_MARKETING, 1, T0);
  mt_consent(s, u, PD_CONSENT_MARKETING, 0, T0 + DAY);
  mt_consent(s, u, PD_CONSENT_MARKETING, 1, T0 + 2 * DAY);
  mt_consent(s, v, PD_CONSENT_MARKETING, 1, T0 + 2 * DAY);
  mt_consent(s, v, PD_CONSENT_MARKETING, 0, T0 + DAY);
  mt_consent(s, v, PD_CONSENT_MARKETING, 1, T0);
  for (int64_t t = T0; t <= T0 + 3 * DAY; t += DAY / 2)
    assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, t),
                     granted_at(s, v, PD_CONSENT_MARKETING, t));
  assert_int_equal(granted_at(s, v, PD_CONSENT_MARKETING, T0 + DAY), 0);
}

static void a_withdrawal_wins_a_tie_at_the_same_second(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a"), v = mt_user(s, "b");
  mt_consent(s, u, PD_CONSENT_MARKETING, 0, T0);
  mt_consent(s, u, PD_CONSENT_MARKETING, 1, T0);
  mt_consent(s, v, PD_CONSENT_MARKETING, 1, T0);
  mt_consent(s, v, PD_CONSENT_MARKETING, 0, T0);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0), 0);
  assert_int_equal(granted_at(s, v, PD_CONSENT_MARKETING, T0), 0);
}

static void purposes_are_independent(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  mt_consent(s, u, PD_CONSENT_PERSONALISED_MARKETING, 0, T0);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0), 1);
  assert_int_equal(granted_at(s, u, PD_CONSENT_PERSONALISED_MARKETING, T0), 0);
  assert_int_equal(granted_at(s, u, PD_CONSENT_ANALYTICS, T0), 1);
}

static void a_replay_is_acknowledged_and_other_content_is_a_duplicate(
    void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  pd_consent c = PD_CONSENT_INIT;
  c.event_id = 777;
  c.user = u;
  c.purpose = PD_CONSENT_MARKETING;
  c.granted = 0;
  c.time = T0;
  assert_int_equal(pd_record_consent(s, &c), PD_OK);
  assert_int_equal(pd_record_consent(s, &c), PD_REPLAYED);
  c.granted = 1;
  assert_int_equal(pd_record_consent(s, &c), PD_E_DUPLICATE);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0), 0);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.events, 1);
}

static void merged_users_share_their_consent(void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b"), m = 0;
  mt_consent(s, b, PD_CONSENT_MARKETING, 0, T0 + DAY);
  mt_consent(s, a, PD_CONSENT_MARKETING, 1, T0);
  assert_int_equal(granted_at(s, a, PD_CONSENT_MARKETING, T0 + 2 * DAY), 1);
  assert_int_equal(pd_user_merge(s, a, b, &m), PD_OK);
  assert_int_equal(granted_at(s, a, PD_CONSENT_MARKETING, T0 + 2 * DAY), 0);
  assert_int_equal(granted_at(s, b, PD_CONSENT_MARKETING, T0 + 2 * DAY), 0);
}

static void erasure_removes_consent_events(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a"), v = mt_user(s, "b");
  pd_consent c = PD_CONSENT_INIT;
  c.event_id = 4242;
  c.user = u;
  c.purpose = PD_CONSENT_MARKETING;
  c.granted = 0;
  c.time = T0;
  assert_int_equal(pd_record_consent(s, &c), PD_OK);
  mt_consent(s, v, PD_CONSENT_MARKETING, 0, T0);
  assert_int_equal(pd_user_erase(s, u), PD_OK);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.events, 1); /* only v's consent is left */
  int32_t g;
  assert_int_equal(pd_user_consent(s, u, PD_CONSENT_MARKETING, T0, &g),
                   PD_E_ERASED);
  assert_int_equal(pd_record_consent(s, &c), PD_E_ERASED);
  assert_int_equal(granted_at(s, v, PD_CONSENT_MARKETING, T0), 0);
}

static void invalid_arguments_are_rejected(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  pd_consent c = PD_CONSENT_INIT;
  c.event_id = 1;
  c.user = u;
  c.purpose = PD_CONSENT_MARKETING;
  c.granted = 1;
  c.time = T0;
  pd_consent bad = c;
  assert_int_equal(pd_record_consent(s, NULL), PD_E_INVALID);
  bad.purpose = 0;
  assert_int_equal(pd_record_consent(s, &bad), PD_E_INVALID);
  bad.purpose = 4;
  assert_int_equal(pd_record_consent(s, &bad), PD_E_INVALID);
  bad = c;
  bad.granted = 2;
  assert_int_equal(pd_record_consent(s, &bad), PD_E_INVALID);
  bad = c;
  bad.event_id = 0;
  assert_int_equal(pd_record_consent(s, &bad), PD_E_INVALID);
  bad = c;
  bad.size = sizeof bad - 1;
  assert_int_equal(pd_record_consent(s, &bad), PD_E_INVALID);
  bad = c;
  bad.time = -1;
  assert_int_equal(pd_record_consent(s, &bad), PD_E_RANGE);
  bad = c;
  bad.user = 99;
  assert_int_equal(pd_record_consent(s, &bad), PD_E_NOT_FOUND);
  assert_int_equal(pd_record_consent(NULL, &c), PD_E_MISUSE);
  int32_t g;
  assert_int_equal(pd_user_consent(s, u, 0, T0, &g), PD_E_INVALID);
  assert_int_equal(pd_user_consent(s, u, PD_CONSENT_MARKETING, T0, NULL),
                   PD_E_INVALID);
  assert_int_equal(pd_user_consent(s, u, PD_CONSENT_MARKETING, -5, &g),
                   PD_E_RANGE);
  assert_int_equal(pd_user_consent(s, 99, PD_CONSENT_MARKETING, T0, &g),
                   PD_E_NOT_FOUND);
  assert_string_not_equal(pd_store_errmsg(s), "");
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.events, 0);
}

static void out_of_memory_leaves_the_store_unchanged(void **state) {
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = &a;
  pd_store *s;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  pd_user_id u = mt_user(s, "a");
  int failures = 0;
  for (long k = 1;; k++) {
    pd_consent c = PD_CONSENT_INIT;
    c.event_id = 9;
    c.user = u;
    c.purpose = PD_CONSENT_MARKETING;
    c.granted = 0;
    c.time = T0;
    test_alloc_fail_in(&ta, k);
    pd_status st = pd_record_consent(s, &c);
    test_alloc_fail_in(&ta, 0);
    if (st == PD_OK) break;
    assert_int_equal(st, PD_E_NOMEM);
    failures++;
    assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0), 1);
  }
  assert_true(failures >= 1);
  assert_int_equal(granted_at(s, u, PD_CONSENT_MARKETING, T0), 0);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(nothing_recorded_means_granted, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          the_latest_event_at_or_before_as_of_decides, setup, teardown),
      cmocka_unit_test_setup_teardown(arrival_order_does_not_matter, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          a_withdrawal_wins_a_tie_at_the_same_second, setup, teardown),
      cmocka_unit_test_setup_teardown(purposes_are_independent, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          a_replay_is_acknowledged_and_other_content_is_a_duplicate, setup,
          teardown),
      cmocka_unit_test_setup_teardown(merged_users_share_their_consent, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(erasure_removes_consent_events, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(invalid_arguments_are_rejected, setup,
                                      teardown),
      cmocka_unit_test(out_of_memory_leaves_the_store_unchanged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
