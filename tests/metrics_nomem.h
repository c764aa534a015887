/* Out-of-memory injection for the metrics tests: a small store on the
 * counting allocator of testutil_alloc.h, and a loop failing allocation
 * 1, 2, 3 ... of one call until it succeeds. Header-only; include after
 * metrics_testutil.h and testutil_alloc.h. */
#ifndef PD_TESTS_METRICS_NOMEM_H
#define PD_TESTS_METRICS_NOMEM_H

#include <stdio.h>

/* Twelve users linked on WeCom, each with pushes, inbound messages and
 * orders before t0. */
static inline pd_store *nomem_store(test_alloc *ta, pd_allocator *a,
                                    int64_t t0) {
  test_alloc_init(ta);
  *a = test_alloc_allocator(ta);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = a;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  for (int k = 0; k < 12; k++) {
    char key[8];
    snprintf(key, sizeof key, "n%d", k);
    pd_user_id u = mt_user(s, key);
    mt_link(s, u, PD_CHANNEL_WECOM, t0 - 90 * DAY);
    for (int j = 0; j < 3 + k % 4; j++) {
      mt_touch(s, u, PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION,
               t0 - (j * 5 + k) * HOUR);
      mt_touch(s, u, PD_TOUCH_INBOUND_MESSAGE, PD_PURPOSE_NONE,
               t0 - (j * 7 + k) * DAY);
      mt_order(s, u, 1000 + 100 * k + 10 * j, t0 - (80 - 9 * j - k) * DAY);
    }
  }
  return s;
}

/* Fail allocation 1, 2, 3 ... of `call` until it returns PD_OK; every
 * failure must be PD_E_NOMEM, and at least one must happen. */
#define EVERY_ALLOCATION_FAILS_CLEANLY(ta, call)  \
  do {                                            \
    int failures_ = 0;                            \
    for (long k_ = 1;; k_++) {                    \
      test_alloc_fail_in(&(ta), k_);              \
      pd_status st_ = (call);                     \
      test_alloc_fail_in(&(ta), 0);               \
      if (st_ == PD_OK) break;                    \
      assert_int_equal(st_, PD_E_NOMEM);          \
      failures_++;                                \
    }                                             \
    assert_true(failures_ >= 1);                  \
  } while (0)

#endif
