/* Specification of users and identities (users.h): finding and creating
 * users, attaching identities, merging and erasing them, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "store_testutil.h"

static const int64_t T0 = 1600000000; /* 2020-09-13 */
static const int64_t times[] = {1600000000, 1600100000, 1700000000};

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

static uint64_t digest(pd_store *s) {
  return store_digest(s, 8, times, 3, 0);
}

static void ensure_creates_once_then_replays(void **state) {
  pd_store *s = *state;
  pd_user_id a, b, c;
  assert_int_equal(pd_user_ensure(s, "wechat.unionid", PD_NTS, "o6_x", PD_NTS,
                                  &a),
                   PD_OK);
  assert_int_equal(a, 1);
  assert_int_equal(pd_user_ensure(s, "wechat.unionid", 14, "o6_x", 4, &b),
                   PD_REPLAYED);
  assert_int_equal(b, a);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "o6_x", PD_NTS, &c),
                   PD_OK);
  assert_int_equal(c, 2); /* same key, other namespace: other identity */
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "o6_x", PD_NTS, &b),
                   PD_OK);
  assert_int_equal(b, 2);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "nobody", PD_NTS, &b),
                   PD_E_NOT_FOUND);
}

static void identity_text_is_validated(void **state) {
  pd_store *s = *state;
  pd_user_id u = 0;
  user_of(s, "x");
  uint64_t before = digest(s);
  assert_int_equal(pd_user_ensure(s, "", PD_NTS, "k", PD_NTS, &u),
                   PD_E_INVALID);
  assert_int_equal(pd_user_ensure(s, "Phone", PD_NTS, "k", PD_NTS, &u),
                   PD_E_INVALID);
  assert_int_equal(pd_user_ensure(s, NULL, 0, "k", PD_NTS, &u), PD_E_INVALID);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "", PD_NTS, &u),
                   PD_E_INVALID);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "k", PD_NTS, NULL),
                   PD_E_INVALID);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "\xff\xfe", 2, &u),
                   PD_E_UTF8);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "a\0b", 3, &u),
                   PD_E_UTF8);
  char long_key[PD_IDENTITY_KEY_MAX + 2];
  memset(long_key, 'k', sizeof long_key);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, long_key,
                                  PD_IDENTITY_KEY_MAX + 1, &u),
                   PD_E_UTF8);
  char long_ns[PD_IDENTITY_NS_MAX + 1];
  memset(long_ns, 'n', sizeof long_ns);
  assert_int_equal(
      pd_user_find(s, long_ns, PD_IDENTITY_NS_MAX + 1, "k", PD_NTS, &u),
      PD_E_UTF8);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "\xc0\x80", 2, &u),
                   PD_E_UTF8);
  assert_int_equal(u, 0);
  assert_true(digest(s) == before);
  assert_int_equal(
      pd_user_ensure(s, "phone", PD_NTS, long_key, PD_IDENTITY_KEY_MAX, &u),
      PD_OK); /* exactly the limit is fine */
  assert_int_equal(u, 2);
}

static void failed_calls_leave_the_store_unchanged(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a"), b = user_of(s, "b"), u = 99;
  uint64_t before = digest(s);
  assert_int_equal(pd_user_ensure(s, "ph one", PD_NTS, "k", PD_NTS, &u),
                   PD_E_INVALID);
  assert_int_equal(pd_user_attach(s, 77, "phone", PD_NTS, "c", PD_NTS, &u),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_user_merge(s, a, 77, &u), PD_E_NOT_FOUND);
  assert_int_equal(pd_user_merge(s, a, b, NULL), PD_E_INVALID);
  assert_int_equal(pd_user_erase(s, 77), PD_E_NOT_FOUND);
  assert_int_equal(pd_user_erase(s, 0), PD_E_NOT_FOUND);
  assert_int_equal(u, 99); /* outputs untouched on error */
  assert_true(digest(s) == before);
}

static void attach_adds_identities_and_replays(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a"), out;
  assert_int_equal(pd_user_attach(s, a, "pos.member", PD_NTS, "M42", PD_NTS,
                                  &out),
                   PD_OK);
  assert_int_equal(out, a);
  assert_int_equal(pd_user_attach(s, a, "pos.member", PD_NTS, "M42", PD_NTS,
                                  &out),
                   PD_REPLAYED);
  assert_int_equal(pd_user_find(s, "pos.member", PD_NTS, "M42", PD_NTS, &out),
                   PD_OK);
  assert_int_equal(out, a);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, a, T0, &i), PD_OK);
  assert_int_equal(i.identities, 2);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.identities, 2);
  assert_int_equal(st.users, 1);
}

static void attaching_anothers_identity_merges_into_the_smaller_id(
    void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a"), b = user_of(s, "b"), out;
  assert_int_equal(pd_user_attach(s, b, "phone", PD_NTS, "a", PD_NTS, &out),
                   PD_OK);
  assert_int_equal(out, a);
  assert_int_equal(pd_user_canonical(s, b, &out), PD_OK);
  assert_int_equal(out, a);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "b", PD_NTS, &out), PD_OK);
  assert_int_equal(out, a);
}

/* Each fact of both users counts for the merged one, whatever the order. */
static void merge_counts_every_fact_of_both(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a"), b = user_of(s, "b"), out;
  pd_order o = PD_ORDER_INIT;
  o.event_id = 1;
  o.order_id = 100;
  o.user = a;
  o.time = T0;
  o.amount = 1000;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  o.event_id = 2;
  o.order_id = 200;
  o.user = b;
  o.time = T0 + 10;
  o.amount = 500;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = 3;
  l.user = b;
  l.channel = PD_CHANNEL_WECOM;
  l.time = T0 - 100;
  assert_int_equal(pd_record_link(s, &l), PD_OK);

  assert_int_equal(pd_user_merge(s, b, a, &out), PD_OK);
  assert_int_equal(out, a);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, b, T0 + 100, &i), PD_OK);
  assert_int_equal(i.user, a);
  assert_int_equal(i.orders, 2);
  assert_int_equal(i.revenue, 1500);
  assert_int_equal(i.first_purchase, T0);
  assert_int_equal(i.last_purchase, T0 + 10);
  assert_int_equal(i.channels_linked, 1);
  assert_int_equal(i.identities, 2);
  assert_int_equal(i.first_seen, T0 - 100);
  /* Merging again is a no-op, in either direction. */
  assert_int_equal(pd_user_merge(s, a, b, &out), PD_REPLAYED);
  assert_int_equal(out, a);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.users, 1);
  assert_int_equal(st.merged_users, 1);
  /* An event for the old id lands on the survivor; a retry of an event
   * under the other id of the same person is a replay. */
  o.user = a;
  assert_int_equal(pd_record_order(s, &o), PD_REPLAYED);
}

static void merge_chains_resolve_to_the_smallest_id(void **state) {
  pd_store *s = *state;
  pd_user_id u[5], out;
  char k[16];
  for (int i = 0; i < 5; i++) {
    snprintf(k, sizeof k, "%d", i);
    u[i] = user_of(s, k);
  }
  assert_int_equal(pd_user_merge(s, u[4], u[3], &out), PD_OK);
  assert_int_equal(out, u[3]);
  assert_int_equal(pd_user_merge(s, u[2], u[1], &out), PD_OK);
  assert_int_equal(pd_user_merge(s, u[4], u[2], &out), PD_OK);
  assert_int_equal(out, u[1]);
  for (int i = 1; i < 5; i++) {
    assert_int_equal(pd_user_canonical(s, u[i], &out), PD_OK);
    assert_int_equal(out, u[1]);
  }
  assert_int_equal(pd_user_canonical(s, u[0], &out), PD_OK);
  assert_int_equal(out, u[0]);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u[3], T0, &i), PD_OK);
  assert_int_equal(i.identities, 4);
}

typedef struct collected {
  char text[512];
  int calls;
  int stop_after;
} collected;

static int collect(void *u, const char *ns, size_t ns_len, const char *key,
                   size_t key_len) {
  collected *c = u;
  size_t n = strlen(c->text);
  snprintf(c->text + n, sizeof c->text - n, "%.*s=%.*s;", (int)ns_len, ns,
           (int)key_len, key);
  return ++c->calls == c->stop_after;
}

static void identities_come_sorted_by_namespace_then_key(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "222"), b, out;
  assert_int_equal(pd_user_attach(s, a, "wecom", PD_NTS, "w1", PD_NTS, &out),
                   PD_OK);
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "111", PD_NTS, &b),
                   PD_OK);
  assert_int_equal(pd_user_attach(s, b, "alipay", PD_NTS, "z", PD_NTS, &out),
                   PD_OK);
  assert_int_equal(pd_user_merge(s, a, b, &out), PD_OK);
  collected c = {"", 0, 0};
  assert_int_equal(pd_user_identities(s, b, collect, &c), PD_OK);
  assert_string_equal(c.text, "alipay=z;phone=111;phone=222;wecom=w1;");
  collected d = {"", 0, 2};
  assert_int_equal(pd_user_identities(s, a, collect, &d), PD_OK);
  assert_string_equal(d.text, "alipay=z;phone=111;");
  assert_int_equal(pd_user_identities(s, a, NULL, &d), PD_E_INVALID);
  assert_int_equal(pd_user_identities(s, 99, collect, &d), PD_E_NOT_FOUND);
}

static void erase_removes_everything_findable(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a"), b = user_of(s, "b"), c = user_of(s, "c"),
             out;
  pd_order o = PD_ORDER_INIT;
  o.event_id = 11;
  o.order_id = 1;
  o.user = b;
  o.time = T0;
  o.amount = 700;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = 12;
  t.user = a;
  t.kind = PD_TOUCH_INBOUND_MESSAGE;
  t.channel = PD_CHANNEL_WECHAT;
  t.time = T0;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_OK);
  pd_referral r = PD_REFERRAL_INIT;
  r.event_id = 13;
  r.referrer = a;
  r.referee = c;
  r.time = T0;
  assert_int_equal(pd_record_referral(s, &r), PD_OK);
  assert_int_equal(pd_user_merge(s, a, b, &out), PD_OK);

  assert_int_equal(pd_user_erase(s, b), PD_OK);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "a", PD_NTS, &out),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "b", PD_NTS, &out),
                   PD_E_NOT_FOUND);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, a, T0, &i), PD_E_ERASED);
  assert_int_equal(pd_user_get(s, b, T0, &i), PD_E_ERASED);
  assert_int_equal(pd_user_canonical(s, a, &out), PD_E_ERASED);
  /* The referee stays, without a referrer. */
  assert_int_equal(pd_user_get(s, c, T0, &i), PD_OK);
  assert_int_equal(i.referrer, 0);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.users, 1);
  assert_int_equal(st.erased_users, 2);
  assert_int_equal(st.merged_users, 0);
  assert_int_equal(st.identities, 1);
  assert_int_equal(st.orders, 0);
  assert_int_equal(st.touchpoints, 0);
  assert_int_equal(st.referrals, 0);
  assert_int_equal(st.events, 0);
  /* Replays of erased events, and new events, are refused. */
  assert_int_equal(pd_record_order(s, &o), PD_E_ERASED);
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_ERASED);
  assert_int_equal(pd_record_referral(s, &r), PD_E_ERASED);
  t.event_id = 99;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_ERASED);
  pd_refund f = PD_REFUND_INIT;
  f.event_id = 100;
  f.order_id = 1;
  f.time = T0;
  f.amount = 1;
  assert_int_equal(pd_record_refund(s, &f), PD_E_ERASED);
  assert_int_equal(pd_user_erase(s, a), PD_REPLAYED);
  assert_int_equal(pd_user_attach(s, a, "phone", PD_NTS, "z", PD_NTS, &out),
                   PD_E_ERASED);
  assert_int_equal(pd_user_merge(s, a, c, &out), PD_E_ERASED);
  /* The identity is free again, for a new id (ids are never reused). */
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "a", PD_NTS, &out),
                   PD_OK);
  assert_int_equal(out, 4);
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.users, 2);
}

typedef struct seen_users {
  pd_user_id ids[16];
  int n;
  pd_store *s;
  pd_status nested;
} seen_users;

static int see(void *u, pd_user_id id) {
  seen_users *v = u;
  v->ids[v->n++] = id;
  pd_user_info i = PD_USER_INFO_INIT;
  if (pd_user_get(v->s, id, 1600000000, &i) != PD_OK) return 1;
  pd_user_id x;
  v->nested = pd_user_ensure(v->s, "phone", PD_NTS, "new", PD_NTS, &x);
  return 0;
}

static void foreach_visits_live_survivors_in_order(void **state) {
  pd_store *s = *state;
  pd_user_id u1 = user_of(s, "1"), u2 = user_of(s, "2"), u3 = user_of(s, "3"),
             u4 = user_of(s, "4"), out;
  assert_int_equal(pd_user_merge(s, u2, u4, &out), PD_OK);
  assert_int_equal(pd_user_erase(s, u3), PD_OK);
  seen_users v = {{0}, 0, s, PD_OK};
  assert_int_equal(pd_store_foreach_user(s, see, &v), PD_OK);
  assert_int_equal(v.n, 2);
  assert_int_equal(v.ids[0], u1);
  assert_int_equal(v.ids[1], u2);
  /* Recording from a callback is misuse; queries are fine. */
  assert_int_equal(v.nested, PD_E_MISUSE);
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "new", PD_NTS, &out),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_store_foreach_user(s, NULL, &v), PD_E_INVALID);
}

static void user_get_checks_its_arguments(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a");
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, a, -1, &i), PD_E_RANGE);
  assert_int_equal(pd_user_get(s, a, PD_TIME_MAX + 1, &i), PD_E_RANGE);
  assert_int_equal(pd_user_get(s, 0, T0, &i), PD_E_NOT_FOUND);
  assert_int_equal(pd_user_get(s, a, T0, NULL), PD_E_INVALID);
  i.size = 8;
  assert_int_equal(pd_user_get(s, a, T0, &i), PD_E_INVALID);
  pd_user_info j = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, a, PD_TIME_MAX, &j), PD_OK);
  assert_int_equal(j.user, a);
  assert_int_equal(j.first_seen, -1);
  assert_int_equal(j.first_purchase, -1);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(ensure_creates_once_then_replays),
      T(identity_text_is_validated),
      T(failed_calls_leave_the_store_unchanged),
      T(attach_adds_identities_and_replays),
      T(attaching_anothers_identity_merges_into_the_smaller_id),
      T(merge_counts_every_fact_of_both),
      T(merge_chains_resolve_to_the_smallest_id),
      T(identities_come_sorted_by_namespace_then_key),
      T(erase_removes_everything_findable),
      T(foreach_visits_live_survivors_in_order),
      T(user_get_checks_its_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
