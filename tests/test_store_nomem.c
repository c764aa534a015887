/* Specification of out-of-memory behaviour (store.h): failing the k-th
 * allocation, for every k, of store creation and of every kind of
 * recording and merge returns PD_E_NOMEM, leaves the store exactly as it
 * was and still usable, and leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "store_testutil.h"
#include "testutil_alloc.h"

#define DAY 86400
static const int64_t T0 = 1600000000;
static const int64_t probe[] = {1600000000 + 400 * DAY};

static void creation_fails_cleanly_at_every_allocation(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_allocator a = test_alloc_allocator(&t);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = &a;
  long k;
  for (k = 1;; k++) {
    test_alloc_fail_in(&t, k);
    pd_store *s = NULL;
    pd_status st = pd_store_new(&o, &s);
    if (st == PD_OK) {
      pd_store_free(s);
      assert_int_equal(atomic_load(&t.live), 0);
      break;
    }
    assert_int_equal(st, PD_E_NOMEM);
    assert_null(s);
    assert_int_equal(atomic_load(&t.live), 0);
  }
  assert_true(k > 3); /* creation does allocate several times */
  /* The count docs/RELIABILITY.md reports. */
  printf("OOM injection: store creation failed cleanly at %ld allocation "
         "points\n", k - 1);
}

/* One operation of a scripted sequence; i varies ids and times. */
typedef pd_status (*op_fn)(pd_store *s, int i);

static pd_status op_user(pd_store *s, int i) {
  char k[32];
  snprintf(k, sizeof k, "user-%d", i);
  pd_user_id u;
  return pd_user_ensure(s, "phone", PD_NTS, k, PD_NTS, &u);
}
static pd_status op_attach(pd_store *s, int i) {
  char k[32];
  snprintf(k, sizeof k, "m-%d", i);
  pd_user_id u;
  return pd_user_attach(s, 1 + (pd_user_id)i % 50, "pos.member", PD_NTS, k,
                        PD_NTS, &u);
}
static pd_status op_link(pd_store *s, int i) {
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = 100000 + (uint64_t)i;
  l.user = 1 + (pd_user_id)i % 50;
  l.channel = PD_CHANNEL_WECOM;
  l.time = T0 + i;
  return pd_record_link(s, &l);
}
static pd_status op_unlink(pd_store *s, int i) {
  pd_unlink_event l = PD_UNLINK_EVENT_INIT;
  l.event_id = 200000 + (uint64_t)i;
  l.user = 1 + (pd_user_id)i % 50;
  l.channel = PD_CHANNEL_WECOM;
  l.initiator = PD_UNLINK_USER_DELETED;
  l.time = T0 + DAY + i;
  return pd_record_unlink(s, &l);
}
static pd_status op_touch(pd_store *s, int i) {
  pd_touchpoint p = PD_TOUCHPOINT_INIT;
  p.event_id = 300000 + (uint64_t)i;
  p.user = 1 + (pd_user_id)i % 50;
  p.kind = PD_TOUCH_INBOUND_MESSAGE;
  p.channel = PD_CHANNEL_WECHAT;
  p.time = T0 + i;
  return pd_record_touchpoint(s, &p);
}
static pd_status op_order(pd_store *s, int i) {
  pd_order o = PD_ORDER_INIT;
  o.event_id = 400000 + (uint64_t)i;
  o.order_id = 1 + (uint64_t)i;
  o.user = 1 + (pd_user_id)i % 50;
  o.amount = 1000;
  o.time = T0 + i;
  return pd_record_order(s, &o);
}
static pd_status op_refund(pd_store *s, int i) {
  pd_refund r = PD_REFUND_INIT;
  r.event_id = 500000 + (uint64_t)i;
  r.order_id = 1 + (uint64_t)i;
  r.amount = 10;
  r.time = T0 + DAY + i;
  return pd_record_refund(s, &r);
}
static pd_status op_guide(pd_store *s, int i) {
  char k[32];
  snprintf(k, sizeof k, "G%d", i);
  uint32_t g;
  return pd_guide_ensure(s, k, PD_NTS, 0, &g);
}
static pd_status op_bind(pd_store *s, int i) {
  pd_guide_bind b = PD_GUIDE_BIND_INIT;
  b.event_id = 600000 + (uint64_t)i;
  b.user = 1 + (pd_user_id)i % 50;
  b.guide = 1 + (uint32_t)i % 10;
  b.time = T0 + i;
  return pd_record_guide_bind(s, &b);
}
static pd_status op_handover(pd_store *s, int i) {
  pd_guide_handover h = PD_GUIDE_HANDOVER_INIT;
  h.event_id = 700000 + (uint64_t)i;
  h.from_guide = 1 + (uint32_t)i % 10;
  h.to_guide = 1 + (uint32_t)(i + 1) % 10;
  h.time = T0 + 2 * DAY + i;
  return pd_record_guide_handover(s, &h);
}
static pd_status op_referral(pd_store *s, int i) {
  pd_referral r = PD_REFERRAL_INIT;
  r.event_id = 800000 + (uint64_t)i;
  r.referrer = 1;
  r.referee = 2 + (pd_user_id)i;
  r.time = T0 + i;
  return pd_record_referral(s, &r);
}
static pd_status op_reach(pd_store *s, int i) {
  pd_reach r = PD_REACH_INIT;
  r.event_id = 900000 + (uint64_t)i;
  r.channel = PD_CHANNEL_STORE;
  r.period_start = T0 + i;
  r.period_end = T0 + i + DAY;
  r.reached = 100;
  return pd_record_reach(s, &r);
}
static pd_status op_cost(pd_store *s, int i) {
  pd_acquisition_cost c = PD_ACQUISITION_COST_INIT;
  c.event_id = 1000000 + (uint64_t)i;
  c.period_start = T0 + i;
  c.period_end = T0 + i + DAY;
  c.amount = 5;
  return pd_record_cost(s, &c);
}
static pd_status op_channel(pd_store *s, int i) {
  char k[32];
  snprintf(k, sizeof k, "ch%d", i);
  int32_t id;
  return pd_channel_register(s, k, PD_NTS, PD_CHANNEL_PRIVATE, &id);
}
static pd_status op_label(pd_store *s, int i) {
  char k[32];
  snprintf(k, sizeof k, "src%d", i);
  uint32_t id;
  return pd_label_ensure(s, PD_LABEL_SOURCE, k, PD_NTS, &id);
}
static pd_status op_merge(pd_store *s, int i) {
  pd_user_id out;
  return pd_user_merge(s, 60 + (pd_user_id)i, 61 + (pd_user_id)i, &out);
}
static pd_status op_query(pd_store *s, int i) {
  pd_user_info info = PD_USER_INFO_INIT;
  return pd_user_get(s, 1 + (pd_user_id)i % 50, PD_TIME_MAX, &info);
}

static const struct {
  const char *name;
  op_fn fn;
  int count;
} script[] = {
    {"user", op_user, 120},       {"channel", op_channel, 20},
    {"label", op_label, 20},      {"guide", op_guide, 40},
    {"attach", op_attach, 100},   {"link", op_link, 200},
    {"unlink", op_unlink, 100},   {"touch", op_touch, 300},
    {"order", op_order, 200},     {"refund", op_refund, 100},
    {"bind", op_bind, 100},       {"handover", op_handover, 20},
    {"referral", op_referral, 40}, {"reach", op_reach, 80},
    {"cost", op_cost, 80},        {"merge", op_merge, 20},
    {"query", op_query, 50},
};

static void every_failed_allocation_leaves_the_store_unchanged(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_allocator a = test_alloc_allocator(&t);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = &a;
  pd_store *s;
  assert_int_equal(pd_store_new(&o, &s), PD_OK);
  long injected = 0;
  for (size_t k = 0; k < sizeof script / sizeof *script; k++) {
    for (int i = 0; i < script[k].count; i++) {
      for (long fail = 1;; fail++) {
        uint64_t before = store_digest(s, 8, probe, 1, 2);
        long failures = atomic_load(&t.failures);
        test_alloc_fail_in(&t, fail);
        pd_status st = script[k].fn(s, i);
        test_alloc_fail_in(&t, 0);
        if (atomic_load(&t.failures) == failures) {
          /* No allocation was failed: the operation ran normally. */
          if (st < 0)
            fail_msg("%s %d: %s (%s)", script[k].name, i, pd_status_str(st),
                     pd_store_errmsg(s));
          break;
        }
        injected++;
        if (st != PD_E_NOMEM)
          fail_msg("%s %d, allocation %ld failed: got %s", script[k].name, i,
                   fail, pd_status_str(st));
        assert_true(store_digest(s, 8, probe, 1, 2) == before);
      }
    }
  }
  assert_true(injected > 50);
  printf("OOM injection: %ld failed allocations in the recording script, "
         "each returned PD_E_NOMEM and left the store unchanged\n",
         injected);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.links, 200);
  assert_int_equal(st.orders, 200);
  assert_int_equal(st.touchpoints, 300);
  assert_int_equal(st.merged_users, 20);
  pd_store_free(s);
  assert_int_equal(atomic_load(&t.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(creation_fails_cleanly_at_every_allocation),
      cmocka_unit_test(every_failed_allocation_leaves_the_store_unchanged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
