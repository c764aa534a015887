/* The background prefault of a reservation (store/column_prefault.c):
 * it runs only on a store set to several threads, recording leaves it
 * running, and everything that moves or frees a column (its growth,
 * clustering, pd_store_free) or computes (any call that does not
 * record) stops it first; what is recorded meanwhile reads back as on a
 * store without it. White-box: the test looks at s->column_prefault. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1 /* testutil_populate.h: madvise */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "store/store_internal.h"
#include "store_testutil.h"
#include "testutil_alloc.h"
#include "testutil_populate.h"

#define DAY 86400
#define USERS 40
static const int64_t T0 = 1600000000;
/* Touchpoint records of this many fill more than the 32 MB from which
 * room is made resident ahead (28 bytes each). */
#define ROOM 1500000

static pd_store *store_on(int32_t threads, test_alloc *t) {
  pd_store *s = test_alloc_store(t);
  assert_non_null(s);
  assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
  char key[32];
  for (int i = 0; i < USERS; i++) {
    snprintf(key, sizeof key, "+8613900%04d", i);
    assert_int_not_equal(user_of(s, key), 0);
  }
  return s;
}

static pd_touchpoint touch(uint64_t i) {
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = 1000 + i;
  t.user = 1 + i % USERS;
  t.kind = PD_TOUCH_OUTBOUND_1TO1;
  t.purpose = i % 3 ? PD_PURPOSE_SERVICE : PD_PURPOSE_PROMOTION;
  t.channel = PD_CHANNEL_WECOM;
  t.time = T0 + (int64_t)(i % 200) * DAY;
  return t;
}

static void record_touches(pd_store *s, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; i++) {
    pd_touchpoint t = touch(i);
    assert_int_equal(pd_record_touchpoint(s, &t), PD_OK);
  }
}

/* The job after a reservation: running where the kernel can do it. */
static void expect_running(const pd_store *s) {
  if (kernel_populates())
    assert_non_null(s->column_prefault);
  else
    assert_null(s->column_prefault);
}

static void it_runs_while_recording_until_a_computation(void **state) {
  (void)state;
  pd_store *one = store_on(1, NULL), *two = store_on(2, NULL);
  assert_int_equal(pd_store_reserve(one, PD_EVENT_TOUCHPOINT, ROOM), PD_OK);
  assert_null(one->column_prefault); /* one thread: none */
  assert_int_equal(pd_store_reserve(two, PD_EVENT_TOUCHPOINT, ROOM), PD_OK);
  expect_running(two);
  record_touches(one, 0, 5000);
  record_touches(two, 0, 5000);
  expect_running(two); /* recording leaves it running */
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(two, &st), PD_OK);
  assert_null(two->column_prefault);
  assert_int_equal(st.touchpoints, 5000);
  const int64_t times[] = {T0, T0 + 100 * DAY, T0 + 400 * DAY};
  assert_int_equal(store_digest(two, USERS, times, 3, 0),
                   store_digest(one, USERS, times, 3, 0));
  pd_store_free(one);
  pd_store_free(two);
}

static void whatever_moves_a_column_stops_it_first(void **state) {
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_store *s = store_on(2, &ta);
  /* growth: the first link grows the link column, which has no room */
  assert_int_equal(pd_store_reserve(s, PD_EVENT_TOUCHPOINT, ROOM), PD_OK);
  expect_running(s);
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = 1, l.user = 1, l.channel = PD_CHANNEL_WECOM, l.time = T0;
  assert_int_equal(pd_record_link(s, &l), PD_OK);
  assert_null(s->column_prefault);
  /* a second reservation starts it again; clustering stops it */
  assert_int_equal(pd_store_reserve(s, PD_EVENT_ORDER, 10), PD_OK);
  expect_running(s);
  record_touches(s, 0, 100);
  assert_int_equal(pd_store_cluster(s), PD_OK);
  assert_null(s->column_prefault);
  /* freeing the store while it runs frees every block, the job's too */
  assert_int_equal(pd_store_reserve(s, PD_EVENT_TOUCHPOINT, ROOM), PD_OK);
  expect_running(s);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(it_runs_while_recording_until_a_computation),
      cmocka_unit_test(whatever_moves_a_column_stops_it_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
