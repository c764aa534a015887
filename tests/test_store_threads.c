/* Specification of thread safety (store.h): a store shared by threads
 * serialises their calls; every event is counted exactly once, also when
 * several threads retry the same event ids at the same time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "store_testutil.h"

#define THREADS 4
#define PER_THREAD 50000
#define SHARED 1000
#define USERS 100
static const int64_t T0 = 1600000000;

typedef struct worker {
  pd_store *s;
  int id;
  long ok, replayed, other;
  long shared_ok;
} worker;

static pd_touchpoint touch(uint64_t eid, pd_user_id u, int64_t t) {
  pd_touchpoint p = PD_TOUCHPOINT_INIT;
  p.event_id = eid;
  p.user = u;
  p.kind = PD_TOUCH_CONTENT_VIEW;
  p.channel = PD_CHANNEL_OFFICIAL_ACCOUNT;
  p.time = t;
  return p;
}

static int run(void *arg) {
  worker *w = arg;
  for (long i = 0; i < PER_THREAD; i++) {
    uint64_t eid = (uint64_t)(w->id + 1) * 1000000u + (uint64_t)i;
    pd_status st;
    if (i % 10 == 0) {
      pd_order o = PD_ORDER_INIT;
      o.event_id = eid;
      o.order_id = eid;
      o.user = 1 + (pd_user_id)(i % USERS);
      o.time = T0 + i;
      o.amount = 100;
      st = pd_record_order(w->s, &o);
    } else {
      pd_touchpoint p = touch(eid, 1 + (pd_user_id)(i % USERS), T0 + i);
      st = pd_record_touchpoint(w->s, &p);
    }
    if (st == PD_OK) w->ok++; else w->other++;
    if (i % 50 == 0) {
      /* The same shared id from every thread: one wins, the rest replay. */
      uint64_t sid = (uint64_t)(i / 50) + 1;
      pd_touchpoint p = touch(sid, 1 + sid % USERS, T0 + (int64_t)sid);
      st = pd_record_touchpoint(w->s, &p);
      if (st == PD_OK) w->shared_ok++;
      else if (st == PD_REPLAYED) w->replayed++;
      else w->other++;
    }
    if (i % 1000 == 0) {
      pd_user_info info = PD_USER_INFO_INIT;
      if (pd_user_get(w->s, 1, T0 + PER_THREAD, &info) != PD_OK) w->other++;
    }
  }
  return 0;
}

static void concurrent_recording_counts_every_event_once(void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  char k[16];
  for (int i = 1; i <= USERS; i++) {
    snprintf(k, sizeof k, "%d", i);
    assert_int_equal(user_of(s, k), (pd_user_id)i);
  }
  thrd_t t[THREADS];
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].s = s;
    w[i].id = i;
    assert_int_equal(thrd_create(&t[i], run, &w[i]), thrd_success);
  }
  long ok = 0, shared_ok = 0, replayed = 0;
  for (int i = 0; i < THREADS; i++) {
    assert_int_equal(thrd_join(t[i], NULL), thrd_success);
    assert_int_equal(w[i].other, 0);
    ok += w[i].ok;
    shared_ok += w[i].shared_ok;
    replayed += w[i].replayed;
  }
  assert_int_equal(ok, THREADS * PER_THREAD);
  assert_int_equal(shared_ok, SHARED);
  assert_int_equal(replayed, (THREADS - 1) * SHARED);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.orders, THREADS * PER_THREAD / 10);
  assert_int_equal(st.touchpoints, THREADS * PER_THREAD * 9 / 10 + SHARED);
  assert_int_equal(st.events, THREADS * PER_THREAD + SHARED);
  /* Every order is 100; user 1 got orders i = 0, 100, 200, … per thread. */
  pd_user_info info = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, 1, PD_TIME_MAX, &info), PD_OK);
  assert_int_equal(info.orders, THREADS * (PER_THREAD / 100));
  assert_int_equal(info.revenue, 100 * (int64_t)info.orders);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(concurrent_recording_counts_every_event_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
