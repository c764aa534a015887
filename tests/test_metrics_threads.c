/* Specification of the store's thread-count setting (pd_store_set_threads)
 * and of its promise: every metric gives bit-identical figures whatever
 * the thread count. The figures are digested byte for byte
 * (figures_digest.h) on the `pd demo` domain, small (one block of users)
 * and large enough that the passes run several blocks of users and of
 * events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "figures_digest.h"

/* ---- the setting ------------------------------------------------------- */

static void a_new_store_computes_on_the_calling_thread_only(void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(pd_store_threads(s), 1);
  pd_store_free(s);
}

static void threads_accepts_0_to_64_and_reports_what_was_set(void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  const int32_t ok[] = {0, 1, 2, 3, 17, 64};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    assert_int_equal(pd_store_set_threads(s, ok[i]), PD_OK);
    assert_int_equal(pd_store_threads(s), ok[i]);
  }
  pd_store_free(s);
}

static void threads_outside_0_to_64_is_invalid_and_changes_nothing(
    void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(pd_store_set_threads(s, 2), PD_OK);
  assert_int_equal(pd_store_set_threads(s, -1), PD_E_INVALID);
  assert_non_null(strstr(pd_store_errmsg(s), "threads"));
  assert_int_equal(pd_store_set_threads(s, 65), PD_E_INVALID);
  assert_int_equal(pd_store_set_threads(s, INT32_MIN), PD_E_INVALID);
  assert_int_equal(pd_store_threads(s), 2);
  pd_store_free(s);
}

static void threads_on_no_store_is_misuse(void **state) {
  (void)state;
  assert_int_equal(pd_store_set_threads(NULL, 1), PD_E_MISUSE);
  assert_int_equal(pd_store_threads(NULL), -1);
}


static void assert_same_figures_for_every_thread_count(uint32_t users) {
  demo_data d;
  demo_ids ids;
  pd_store *s = demo_store(users, &d, &ids);
  digest one[FIGURES], other[FIGURES];
  figures(s, &d, &ids, one);
  const int32_t counts[] = {2, 3, 0, 1};
  for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
    assert_int_equal(pd_store_set_threads(s, counts[c]), PD_OK);
    figures(s, &d, &ids, other);
    int k;
    if (!figures_equal(one, other, &k))
      fail_msg("%s differs with threads = %d", figure_names[k],
               (int)counts[c]);
  }
  pd_store_free(s);
  demo_free(&d);
}

static void figures_are_bit_identical_for_1_2_3_and_all_threads_small(
    void **state) {
  (void)state;
  assert_same_figures_for_every_thread_count(DEMO_MIN_USERS);
}

/* About 1.3 million events over 50,000 users: several blocks of users and
 * of events in every pass. */
static void figures_are_bit_identical_for_1_2_3_and_all_threads_large(
    void **state) {
  (void)state;
  assert_same_figures_for_every_thread_count(50000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_new_store_computes_on_the_calling_thread_only),
      cmocka_unit_test(threads_accepts_0_to_64_and_reports_what_was_set),
      cmocka_unit_test(threads_outside_0_to_64_is_invalid_and_changes_nothing),
      cmocka_unit_test(threads_on_no_store_is_misuse),
      cmocka_unit_test(
          figures_are_bit_identical_for_1_2_3_and_all_threads_small),
      cmocka_unit_test(
          figures_are_bit_identical_for_1_2_3_and_all_threads_large),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
