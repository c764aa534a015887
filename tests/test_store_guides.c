/* Specification of guides (guides.h) and referrals (events.h): binding
 * with history, handover of a leaving guide's users (离职继承),
 * deactivation; one referrer per user, no self-referral, no cycles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "store_testutil.h"

#define DAY 86400
static const int64_t T0 = 1600000000;

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

static uint32_t guide(pd_store *s, const char *code) {
  uint32_t g = 0;
  assert_int_equal(pd_guide_ensure(s, code, PD_NTS, 0, &g), PD_OK);
  return g;
}

static pd_status bind(pd_store *s, uint64_t eid, pd_user_id u, uint32_t g,
                      int64_t t) {
  pd_guide_bind b = PD_GUIDE_BIND_INIT;
  b.event_id = eid;
  b.user = u;
  b.guide = g;
  b.time = t;
  return pd_record_guide_bind(s, &b);
}

static pd_status handover(pd_store *s, uint64_t eid, uint32_t from,
                          uint32_t to, int64_t t) {
  pd_guide_handover h = PD_GUIDE_HANDOVER_INIT;
  h.event_id = eid;
  h.from_guide = from;
  h.to_guide = to;
  h.time = t;
  return pd_record_guide_handover(s, &h);
}

static pd_status deactivate(pd_store *s, uint64_t eid, uint32_t g, int64_t t) {
  pd_guide_deactivate d = PD_GUIDE_DEACTIVATE_INIT;
  d.event_id = eid;
  d.guide = g;
  d.time = t;
  return pd_record_guide_deactivate(s, &d);
}

static uint32_t guide_of(pd_store *s, pd_user_id u, int64_t t) {
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, t, &i), PD_OK);
  return i.guide;
}

static void guides_are_created_once_per_staff_code(void **state) {
  pd_store *s = *state;
  uint32_t shop, g, g2;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SHOP, "shop42", PD_NTS, &shop),
                   PD_OK);
  assert_int_equal(pd_guide_ensure(s, "S001", PD_NTS, shop, &g), PD_OK);
  assert_int_equal(g, 1);
  assert_int_equal(pd_guide_ensure(s, "S001", PD_NTS, shop, &g2), PD_REPLAYED);
  assert_int_equal(g2, g);
  assert_int_equal(pd_guide_ensure(s, "S001", PD_NTS, 0, &g2),
                   PD_E_DUPLICATE);
  assert_int_equal(pd_guide_ensure(s, "S002", PD_NTS, 9, &g2),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_guide_ensure(s, "", PD_NTS, 0, &g2), PD_E_INVALID);
  assert_int_equal(pd_guide_find(s, "S001", PD_NTS, &g2), PD_OK);
  assert_int_equal(g2, g);
  assert_int_equal(pd_guide_find(s, "S002", PD_NTS, &g2), PD_E_NOT_FOUND);
  pd_guide_info gi = PD_GUIDE_INFO_INIT;
  assert_int_equal(pd_guide_get(s, g, T0, &gi), PD_OK);
  assert_string_equal(gi.code, "S001");
  assert_int_equal(gi.shop, shop);
  assert_int_equal(gi.active, 1);
  assert_int_equal(gi.deactivated, -1);
  assert_int_equal(gi.users_bound, 0);
  assert_int_equal(pd_guide_get(s, 2, T0, &gi), PD_E_NOT_FOUND);
  assert_int_equal(pd_guide_get(s, g, -1, &gi), PD_E_RANGE);
}

static void rebinding_keeps_the_history(void **state) {
  pd_store *s = *state;
  uint32_t a = guide(s, "A"), b = guide(s, "B");
  pd_user_id u = user_of(s, "u");
  /* Arrive out of order. */
  assert_int_equal(bind(s, 2, u, b, T0 + 10 * DAY), PD_OK);
  assert_int_equal(bind(s, 1, u, a, T0), PD_OK);
  assert_int_equal(guide_of(s, u, T0 - 1), 0);
  assert_int_equal(guide_of(s, u, T0), a);
  assert_int_equal(guide_of(s, u, T0 + 9 * DAY), a);
  assert_int_equal(guide_of(s, u, T0 + 10 * DAY), b);
  pd_guide_info gi = PD_GUIDE_INFO_INIT;
  assert_int_equal(pd_guide_get(s, a, T0 + DAY, &gi), PD_OK);
  assert_int_equal(gi.users_bound, 1);
  assert_int_equal(pd_guide_get(s, a, T0 + 20 * DAY, &gi), PD_OK);
  assert_int_equal(gi.users_bound, 0);
  /* Same second: the larger event id comes later. */
  assert_int_equal(bind(s, 4, u, a, T0 + 30 * DAY), PD_OK);
  assert_int_equal(bind(s, 3, u, b, T0 + 30 * DAY), PD_OK);
  assert_int_equal(guide_of(s, u, T0 + 30 * DAY), a);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.guide_events, 4);
}

static void handover_moves_only_the_users_bound_at_that_time(void **state) {
  pd_store *s = *state;
  uint32_t a = guide(s, "A"), b = guide(s, "B"), c = guide(s, "C");
  pd_user_id u1 = user_of(s, "1"), u2 = user_of(s, "2"), u3 = user_of(s, "3"),
             u4 = user_of(s, "4");
  assert_int_equal(bind(s, 1, u1, a, T0), PD_OK);
  assert_int_equal(bind(s, 2, u2, a, T0), PD_OK);
  assert_int_equal(bind(s, 3, u2, c, T0 + DAY), PD_OK);    /* left A */
  assert_int_equal(bind(s, 4, u3, a, T0 + 20 * DAY), PD_OK); /* after */
  assert_int_equal(bind(s, 5, u4, a, T0), PD_OK);
  /* Recorded before the handover, effective after it: u4 returns to A. */
  assert_int_equal(handover(s, 10, a, b, T0 + 10 * DAY), PD_OK);
  assert_int_equal(bind(s, 6, u4, a, T0 + 15 * DAY), PD_OK);

  assert_int_equal(guide_of(s, u1, T0 + 9 * DAY), a);
  assert_int_equal(guide_of(s, u1, T0 + 10 * DAY), b);
  assert_int_equal(guide_of(s, u2, T0 + 10 * DAY), c);
  assert_int_equal(guide_of(s, u3, T0 + 25 * DAY), a);
  assert_int_equal(guide_of(s, u4, T0 + 12 * DAY), b);
  assert_int_equal(guide_of(s, u4, T0 + 16 * DAY), a);
  pd_guide_info gi = PD_GUIDE_INFO_INIT;
  assert_int_equal(pd_guide_get(s, b, T0 + 12 * DAY, &gi), PD_OK);
  assert_int_equal(gi.users_bound, 2);
  assert_int_equal(pd_guide_get(s, a, T0 + 30 * DAY, &gi), PD_OK);
  assert_int_equal(gi.users_bound, 2); /* u3, u4 */
  /* A chain of handovers follows the user. */
  assert_int_equal(handover(s, 11, b, c, T0 + 40 * DAY), PD_OK);
  assert_int_equal(guide_of(s, u1, T0 + 40 * DAY), c);
  /* Checks. */
  assert_int_equal(handover(s, 12, a, a, T0), PD_E_INVALID);
  assert_int_equal(handover(s, 12, a, 9, T0), PD_E_NOT_FOUND);
  assert_int_equal(handover(s, 12, 0, a, T0), PD_E_INVALID);
  assert_int_equal(handover(s, 10, a, b, T0 + 10 * DAY), PD_REPLAYED);
  assert_int_equal(handover(s, 10, a, c, T0 + 10 * DAY), PD_E_DUPLICATE);
}

static void deactivated_guides_keep_history_and_take_no_new_users(
    void **state) {
  pd_store *s = *state;
  uint32_t a = guide(s, "A"), b = guide(s, "B");
  pd_user_id u = user_of(s, "u"), v = user_of(s, "v");
  assert_int_equal(bind(s, 1, u, a, T0), PD_OK);
  assert_int_equal(deactivate(s, 2, a, T0 + 10 * DAY), PD_OK);
  assert_int_equal(handover(s, 3, a, b, T0 + 10 * DAY), PD_OK);
  pd_guide_info gi = PD_GUIDE_INFO_INIT;
  assert_int_equal(pd_guide_get(s, a, T0 + 5 * DAY, &gi), PD_OK);
  assert_int_equal(gi.active, 1);
  assert_int_equal(gi.users_bound, 1);
  assert_int_equal(pd_guide_get(s, a, T0 + 10 * DAY, &gi), PD_OK);
  assert_int_equal(gi.active, 0);
  assert_int_equal(gi.deactivated, T0 + 10 * DAY);
  assert_int_equal(gi.users_bound, 0);
  assert_int_equal(guide_of(s, u, T0 + 11 * DAY), b);
  /* No binds or handovers to it from then on; earlier ones are fine. */
  uint64_t before = store_digest(s, 2, &T0, 1, 2);
  assert_int_equal(bind(s, 4, v, a, T0 + 10 * DAY), PD_E_CONFLICT);
  assert_int_equal(handover(s, 4, b, a, T0 + 20 * DAY), PD_E_CONFLICT);
  assert_int_equal(deactivate(s, 4, a, T0 + 20 * DAY), PD_E_CONFLICT);
  assert_int_equal(deactivate(s, 2, a, T0 + 20 * DAY), PD_E_DUPLICATE);
  assert_int_equal(deactivate(s, 2, a, T0 + 10 * DAY), PD_REPLAYED);
  assert_int_equal(deactivate(s, 4, 0, T0), PD_E_INVALID);
  assert_int_equal(bind(s, 4, v, 0, T0), PD_E_INVALID);
  assert_int_equal(bind(s, 4, 99, a, T0), PD_E_NOT_FOUND);
  assert_true(store_digest(s, 2, &T0, 1, 2) == before);
  assert_int_equal(bind(s, 4, v, a, T0 + DAY), PD_OK);
  /* A guide given users after some time cannot be deactivated before. */
  assert_int_equal(deactivate(s, 5, b, T0 + 5 * DAY), PD_E_CONFLICT);
  assert_int_equal(deactivate(s, 5, b, T0 + 60 * DAY), PD_OK);
}

static void merged_users_follow_their_combined_binds(void **state) {
  pd_store *s = *state;
  uint32_t a = guide(s, "A"), b = guide(s, "B");
  pd_user_id u = user_of(s, "u"), v = user_of(s, "v"), out;
  assert_int_equal(bind(s, 1, u, a, T0), PD_OK);
  assert_int_equal(bind(s, 2, v, b, T0 + DAY), PD_OK);
  assert_int_equal(pd_user_merge(s, u, v, &out), PD_OK);
  assert_int_equal(guide_of(s, v, T0), a);
  assert_int_equal(guide_of(s, u, T0 + DAY), b);
  pd_guide_info gi = PD_GUIDE_INFO_INIT;
  assert_int_equal(pd_guide_get(s, b, T0 + DAY, &gi), PD_OK);
  assert_int_equal(gi.users_bound, 1);
}

/* ---- referrals ------------------------------------------------------------ */

static pd_status refer(pd_store *s, uint64_t eid, pd_user_id from,
                       pd_user_id to, int64_t t) {
  pd_referral r = PD_REFERRAL_INIT;
  r.event_id = eid;
  r.referrer = from;
  r.referee = to;
  r.time = t;
  return pd_record_referral(s, &r);
}

static void referrals_reject_self_second_referrer_and_cycles(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a"), b = user_of(s, "b"), c = user_of(s, "c"),
             d = user_of(s, "d");
  assert_int_equal(refer(s, 1, a, b, T0), PD_OK);
  assert_int_equal(refer(s, 2, b, c, T0 + DAY), PD_OK);
  const int64_t t = T0 + 10 * DAY;
  uint64_t before = store_digest(s, 4, &t, 1, 0);
  assert_int_equal(refer(s, 3, a, a, T0), PD_E_CONFLICT);
  assert_int_equal(refer(s, 3, d, b, T0), PD_E_CONFLICT); /* 2nd referrer */
  assert_int_equal(refer(s, 3, a, b, T0), PD_E_CONFLICT); /* same, again */
  assert_int_equal(refer(s, 3, c, a, T0), PD_E_CONFLICT); /* a→b→c→a */
  assert_int_equal(refer(s, 3, 0, a, T0), PD_E_NOT_FOUND);
  assert_int_equal(refer(s, 1, a, c, T0), PD_E_DUPLICATE);
  assert_int_equal(refer(s, 1, a, b, T0), PD_REPLAYED);
  assert_true(store_digest(s, 4, &t, 1, 0) == before);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, b, T0 + DAY, &i), PD_OK);
  assert_int_equal(i.referrer, a);
  assert_int_equal(i.referrals_made, 1);
  assert_int_equal(pd_user_get(s, b, T0 - 1, &i), PD_OK);
  assert_int_equal(i.referrer, 0); /* not yet */
  assert_int_equal(pd_user_get(s, a, T0, &i), PD_OK);
  assert_int_equal(i.referrals_made, 1);
  assert_int_equal(i.first_seen, T0);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.referrals, 2);
}

static void merges_that_break_referral_rules_are_refused(void **state) {
  pd_store *s = *state;
  pd_user_id a = user_of(s, "a"), b = user_of(s, "b"), c = user_of(s, "c"),
             d = user_of(s, "d"), e = user_of(s, "e"), out;
  assert_int_equal(refer(s, 1, a, b, T0), PD_OK);
  assert_int_equal(refer(s, 2, c, d, T0), PD_OK);
  assert_int_equal(refer(s, 3, b, e, T0), PD_OK);
  const int64_t t = T0 + DAY;
  uint64_t before = store_digest(s, 5, &t, 1, 0);
  assert_int_equal(pd_user_merge(s, b, d, &out), PD_E_CONFLICT); /* a and c */
  assert_int_equal(pd_user_merge(s, a, b, &out), PD_E_CONFLICT); /* self */
  assert_int_equal(pd_user_merge(s, a, e, &out), PD_E_CONFLICT); /* a→b→a */
  assert_int_equal(pd_user_attach(s, e, "phone", PD_NTS, "a", PD_NTS, &out),
                   PD_E_CONFLICT);
  assert_true(store_digest(s, 5, &t, 1, 0) == before);
  /* Same referrer on both sides is fine: one referrer. */
  pd_user_id f = user_of(s, "f");
  assert_int_equal(refer(s, 4, a, f, T0), PD_OK);
  assert_int_equal(pd_user_merge(s, b, f, &out), PD_OK);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, a, t, &i), PD_OK);
  assert_int_equal(i.referrals_made, 1); /* b and f are one user now */
  assert_int_equal(pd_user_get(s, f, t, &i), PD_OK);
  assert_int_equal(i.referrer, a);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(guides_are_created_once_per_staff_code),
      T(rebinding_keeps_the_history),
      T(handover_moves_only_the_users_bound_at_that_time),
      T(deactivated_guides_keep_history_and_take_no_new_users),
      T(merged_users_follow_their_combined_binds),
      T(referrals_reject_self_second_referrer_and_cycles),
      T(merges_that_break_referral_rules_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
