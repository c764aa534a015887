/* Specification of the store handle (store.h): creation options, misuse
 * detection, error messages, statistics and event ids from text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "testutil_alloc.h"

static void defaults_give_an_empty_store_with_builtin_channels(void **state) {
  (void)state;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_non_null(s);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.users, 0);
  assert_int_equal(st.events, 0);
  assert_int_equal(st.channels, PD_CHANNEL_BUILTIN_LAST);
  assert_true(st.memory_bytes > 0);
  assert_int_equal(pd_store_currency_exponent(s), 2);
  assert_string_equal(pd_store_errmsg(s), "");
  pd_store_free(s);
}

static void options_are_checked(void **state) {
  (void)state;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, NULL), PD_E_INVALID);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.currency_exponent = 5;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  o.currency_exponent = -1;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  assert_null(s);
  o.currency_exponent = 0;
  o.size = sizeof o - 1;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  pd_allocator half = {NULL, NULL, NULL, NULL};
  o.size = sizeof o;
  o.allocator = &half;
  assert_int_equal(pd_store_new(&o, &s), PD_E_INVALID);
  assert_null(s);
  /* A newer caller's larger struct: accepted when the extra bytes are 0. */
  struct {
    pd_store_options o;
    uint64_t future;
  } big;
  memset(&big, 0, sizeof big);
  big.o.size = sizeof big;
  big.o.currency_exponent = 4;
  assert_int_equal(pd_store_new(&big.o, &s), PD_OK);
  assert_int_equal(pd_store_currency_exponent(s), 4);
  pd_store_free(s);
  s = NULL;
  big.future = 1;
  assert_int_equal(pd_store_new(&big.o, &s), PD_E_INVALID);
  assert_null(s);
}

static void every_byte_goes_through_the_callers_allocator(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_allocator a = test_alloc_allocator(&t);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = &a;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  assert_true(atomic_load(&t.live) > 0);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "1", PD_NTS, &u), PD_OK);
  pd_store_free(s);
  assert_int_equal(atomic_load(&t.live), 0);
}

static void bad_handles_are_misuse_not_crashes(void **state) {
  (void)state;
  pd_store_free(NULL);
  assert_int_equal(pd_store_currency_exponent(NULL), -1);
  assert_non_null(pd_store_errmsg(NULL));
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(NULL, &st), PD_E_MISUSE);
  /* A pointer to something that is not a store. */
  uint64_t junk[64];
  memset(junk, 0x5a, sizeof junk);
  pd_store *fake = (pd_store *)junk;
  assert_int_equal(pd_store_get_stats(fake, &st), PD_E_MISUSE);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(fake, "phone", PD_NTS, "1", PD_NTS, &u),
                   PD_E_MISUSE);
  pd_order o = PD_ORDER_INIT;
  assert_int_equal(pd_record_order(fake, &o), PD_E_MISUSE);
  assert_int_equal(pd_store_currency_exponent(fake), -1);
  assert_non_null(pd_store_errmsg(fake));
  char buf[8];
  assert_int_equal(pd_store_errmsg_copy(fake, buf, sizeof buf), PD_E_MISUSE);
  pd_store_free(fake); /* does nothing */
  assert_int_equal(junk[0], 0x5a5a5a5a5a5a5a5aull);
}

static void errmsg_explains_the_last_failure_and_clears_on_success(
    void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_user_id u;
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "1", PD_NTS, &u),
                   PD_E_NOT_FOUND);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  char buf[8];
  assert_int_equal(pd_store_errmsg_copy(s, buf, sizeof buf), PD_OK);
  assert_int_equal(strlen(buf), 7); /* truncated */
  assert_int_equal(strncmp(buf, pd_store_errmsg(s), 7), 0);
  assert_int_equal(pd_store_errmsg_copy(s, NULL, 8), PD_E_INVALID);
  assert_int_equal(pd_store_errmsg_copy(s, buf, 0), PD_E_INVALID);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "1", PD_NTS, &u), PD_OK);
  assert_string_equal(pd_store_errmsg(s), "");
  pd_store_free(s);
}

static void stats_need_their_size(void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_store_stats st = PD_STORE_STATS_INIT;
  st.size = 8;
  assert_int_equal(pd_store_get_stats(s, &st), PD_E_INVALID);
  assert_int_equal(pd_store_get_stats(s, NULL), PD_E_INVALID);
  pd_store_free(s);
}

static void event_ids_from_text_are_stable_and_never_zero(void **state) {
  (void)state;
  uint64_t a = pd_event_id_from_string("order-42", PD_NTS);
  assert_true(a != 0);
  assert_true(a == pd_event_id_from_string("order-42", 8));
  assert_true(a != pd_event_id_from_string("order-43", PD_NTS));
  assert_true(pd_event_id_from_string("order-42", 7) ==
              pd_event_id_from_string("order-4", PD_NTS));
  assert_true(pd_event_id_from_string("", 0) != 0);
  assert_true(pd_event_id_from_string(NULL, 3) == 0);
  /* Pinned value: ids are persisted by callers, so they never change. */
  assert_true(pd_event_id_from_string("abc", 3) ==
              UINT64_C(10886283087980336216));
}

static void memory_is_counted_as_it_grows(void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_store_stats a = PD_STORE_STATS_INIT, b = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &a), PD_OK);
  pd_user_id u;
  char key[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "%d", i);
    assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, key, PD_NTS, &u),
                     PD_OK);
  }
  assert_int_equal(pd_store_get_stats(s, &b), PD_OK);
  assert_true(b.memory_bytes > a.memory_bytes + 1000 * 32);
  assert_int_equal(b.users, 1000);
  assert_int_equal(b.identities, 1000);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_give_an_empty_store_with_builtin_channels),
      cmocka_unit_test(options_are_checked),
      cmocka_unit_test(every_byte_goes_through_the_callers_allocator),
      cmocka_unit_test(bad_handles_are_misuse_not_crashes),
      cmocka_unit_test(errmsg_explains_the_last_failure_and_clears_on_success),
      cmocka_unit_test(stats_need_their_size),
      cmocka_unit_test(event_ids_from_text_are_stable_and_never_zero),
      cmocka_unit_test(memory_is_counted_as_it_grows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
