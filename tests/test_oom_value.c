/* Specification: out of memory while predicting customer value from a
 * store (store_summary.h): predict, key customers and value by source.
 * Each allocation is failed in turn until the call succeeds; every
 * failure returns PD_E_NOMEM, leaks nothing and keeps what the handle held
 * before (no predictions, or the earlier ones). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "sim_rng.h"
#include "testutil_alloc.h"

#define T0 INT64_C(1735689600) /* 2025-01-01 */
#define DAY INT64_C(86400)

/* 400 customers linked through two sources, with repeat purchases. */
static pd_store *value_store(test_alloc *ta, pd_allocator *a) {
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.allocator = a;
  pd_store *s = NULL;
  test_alloc_init(ta);
  assert_int_equal(pd_store_new(&so, &s), PD_OK);
  uint32_t src[2];
  assert_true(pd_label_ensure(s, PD_LABEL_SOURCE, "store_qr", PD_NTS,
                              &src[0]) >= 0);
  assert_true(pd_label_ensure(s, PD_LABEL_SOURCE, "package_card", PD_NTS,
                              &src[1]) >= 0);
  sim_rng g = {7};
  uint64_t ev = 1;
  for (int c = 0; c < 400; c++) {
    char key[32];
    snprintf(key, sizeof key, "m%04d", c);
    pd_user_id u;
    assert_int_equal(pd_user_ensure(s, "pos.member", PD_NTS, key, PD_NTS, &u),
                     PD_OK);
    int64_t start = T0 + (int64_t)(sim_uniform(&g) * 90) * DAY;
    pd_link_event l = PD_LINK_EVENT_INIT;
    l.event_id = ev++, l.user = u, l.channel = PD_CHANNEL_WECOM;
    l.source = src[c % 2], l.time = start;
    assert_int_equal(pd_record_link(s, &l), PD_OK);
    int orders = 1 + (int)(sim_uniform(&g) * 6);
    for (int k = 0; k < orders; k++) {
      pd_order o = PD_ORDER_INIT;
      o.event_id = ev++, o.order_id = ev, o.user = u;
      o.time = start + (int64_t)k * (int64_t)(5 + sim_uniform(&g) * 40) * DAY;
      o.amount = 1000 + (int64_t)(sim_uniform(&g) * 30000);
      assert_int_equal(pd_record_order(s, &o), PD_OK);
    }
  }
  return s;
}

static int count_group(void *user, const pd_value_group *g) {
  (void)g;
  ++*(int *)user;
  return 0;
}

static void predicting_value_fails_cleanly_at_every_allocation(void **st) {
  (void)st;
  test_alloc ta;
  pd_allocator a = test_alloc_allocator(&ta);
  pd_store *s = value_store(&ta, &a);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = T0 + 365 * DAY;
  spec.unit = PD_TIME_UNIT_WEEK;
  pd_metrics_filter all = PD_METRICS_FILTER_INIT;
  all.as_of = spec.calibration_end;
  pd_store_summary *h = NULL;
  int points = 0, done = 0;
  for (long k = 1; k < 2000 && !done; k++) {
    long live = atomic_load(&ta.live);
    test_alloc_fail_in(&ta, k);
    pd_status r = pd_store_summary_new(s, &all, &spec, &h);
    test_alloc_fail_in(&ta, 0);

    if (r == PD_OK) {
      done = 1;
    } else {
      assert_int_equal(r, PD_E_NOMEM);
      assert_int_equal(atomic_load(&ta.live), live);
      points++;
    }
  }
  assert_true(done);
  for (long k = 1, ok = 0; k < 5000 && !ok; k++) {
    test_alloc_fail_in(&ta, k);
    pd_status r = pd_store_summary_predict(h, NULL);
    test_alloc_fail_in(&ta, 0);
    if (r == PD_OK) {
      ok = 1;
    } else {
      assert_int_equal(r, PD_E_NOMEM);
      const double *col;
      assert_int_equal(pd_store_summary_column(h, PD_VALUE_CLV, &col),
                       PD_E_NOT_FOUND);
      points++;
    }
  }
  const double *clv;
  assert_int_equal(pd_store_summary_column(h, PD_VALUE_CLV, &clv), PD_OK);
  /* Predicting again (another horizon): a failure keeps every earlier
   * value, although success writes over them. */
  size_t rows = pd_store_summary_rows(h);
  double *before = malloc(4 * rows * sizeof *before);
  assert_non_null(before);
  for (int c = 0; c < 4; c++) {
    const double *col;
    assert_int_equal(pd_store_summary_column(h, PD_VALUE_P_ALIVE + c, &col),
                     PD_OK);
    memcpy(before + c * rows, col, rows * sizeof *col);
  }
  pd_value_options vo = PD_VALUE_OPTIONS_INIT;
  vo.horizon = 26;
  int again = 0;
  for (long k = 1, ok = 0; k < 5000 && !ok; k++) {
    test_alloc_fail_in(&ta, k);
    pd_status r = pd_store_summary_predict(h, &vo);
    test_alloc_fail_in(&ta, 0);
    const double *col;
    assert_int_equal(
        pd_store_summary_column(h, PD_VALUE_EXPECTED_PURCHASES, &col), PD_OK);
    if (r == PD_OK) {
      ok = 1;
      assert_true(memcmp(col, before + rows, rows * sizeof *col) != 0);
    } else {
      assert_int_equal(r, PD_E_NOMEM);
      for (int c = 0; c < 4; c++) {
        assert_int_equal(
            pd_store_summary_column(h, PD_VALUE_P_ALIVE + c, &col), PD_OK);
        assert_memory_equal(col, before + c * rows, rows * sizeof *col);
      }
      again++;
    }
  }
  assert_true(again > 3);
  points += again;
  free(before);
  pd_user_id users[10];
  double top[10];
  size_t n = 0;
  for (long k = 1, ok = 0; k < 200 && !ok; k++) {
    test_alloc_fail_in(&ta, k);
    pd_status r = pd_store_summary_top(h, 10, users, top, &n);
    test_alloc_fail_in(&ta, 0);
    if (r == PD_OK) ok = 1; else assert_int_equal(r, PD_E_NOMEM), points++;
  }
  assert_int_equal(n, 10);
  int groups = 0;
  for (long k = 1, ok = 0; k < 200 && !ok; k++) {
    groups = 0;
    test_alloc_fail_in(&ta, k);
    pd_status r = pd_store_value_by(s, h, PD_VALUE_BY_SOURCE, T0 + 365 * DAY,
                                    count_group, &groups);
    test_alloc_fail_in(&ta, 0);
    if (r == PD_OK) ok = 1; else assert_int_equal(r, PD_E_NOMEM), points++;
  }
  assert_int_equal(groups, 2);
  pd_store_summary_free(h);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
  printf("OOM injection: %d failed allocations in store summaries, value "
         "predictions, key customers and value by source, each clean\n",
         points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(predicting_value_fails_cleanly_at_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
