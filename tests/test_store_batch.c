/* Specification of recording in batches (pd_record_events, events.h): a
 * batch records each event exactly as its own pd_record_* call would, in
 * order and independently, under one lock; it reports every event's
 * status and the first failure; bad arguments are refused before any
 * event is attempted. */
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
static const int64_t times[] = {1600000000, 1600000000 + 5 * DAY,
                                1600000000 + 50 * DAY};

/* A mixed batch naming users 1..4 and guides 1..2, with a refund of an
 * order recorded earlier in the same batch. */
#define MIXED 12
typedef struct mixed {
  pd_link_event link;
  pd_unlink_event unlink;
  pd_touchpoint touch, rating;
  pd_order order;
  pd_refund refund;
  pd_referral referral;
  pd_guide_bind bind;
  pd_guide_handover handover;
  pd_guide_deactivate deactivate;
  pd_reach reach;
  pd_acquisition_cost cost;
  int32_t kinds[MIXED];
  const void *records[MIXED];
} mixed;

static void mixed_init(mixed *m) {
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = 101, l.user = 1, l.channel = PD_CHANNEL_WECOM, l.time = T0;
  m->link = l;
  pd_unlink_event ul = PD_UNLINK_EVENT_INIT;
  ul.event_id = 102, ul.user = 1, ul.channel = PD_CHANNEL_WECOM;
  ul.initiator = PD_UNLINK_USER_DELETED, ul.time = T0 + 10 * DAY;
  m->unlink = ul;
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = 103, t.user = 2, t.kind = PD_TOUCH_OUTBOUND_1TO1;
  t.purpose = PD_PURPOSE_SERVICE, t.channel = PD_CHANNEL_WECOM;
  t.guide = 1, t.time = T0 + DAY;
  m->touch = t;
  pd_touchpoint r = PD_TOUCHPOINT_INIT;
  r.event_id = 104, r.user = 2, r.kind = PD_TOUCH_RATING;
  r.rating_expertise = 8, r.rating_reliability = 7, r.time = T0 + 2 * DAY;
  m->rating = r;
  pd_order o = PD_ORDER_INIT;
  o.event_id = 105, o.order_id = 9001, o.user = 3, o.amount = 12900;
  o.channel = PD_CHANNEL_MINI_PROGRAM, o.guide = 1, o.time = T0 + DAY;
  m->order = o;
  pd_refund rf = PD_REFUND_INIT;
  rf.event_id = 106, rf.order_id = 9001, rf.amount = 2900;
  rf.time = T0 + 3 * DAY;
  m->refund = rf;
  pd_referral rr = PD_REFERRAL_INIT;
  rr.event_id = 107, rr.referrer = 3, rr.referee = 4, rr.time = T0;
  m->referral = rr;
  pd_guide_bind b = PD_GUIDE_BIND_INIT;
  b.event_id = 108, b.user = 4, b.guide = 1, b.time = T0;
  m->bind = b;
  pd_guide_handover h = PD_GUIDE_HANDOVER_INIT;
  h.event_id = 109, h.from_guide = 1, h.to_guide = 2, h.time = T0 + 20 * DAY;
  m->handover = h;
  pd_guide_deactivate d = PD_GUIDE_DEACTIVATE_INIT;
  d.event_id = 110, d.guide = 1, d.time = T0 + 30 * DAY;
  m->deactivate = d;
  pd_reach re = PD_REACH_INIT;
  re.event_id = 111, re.channel = PD_CHANNEL_WECOM, re.period_start = T0;
  re.period_end = T0 + 7 * DAY, re.reached = 500;
  m->reach = re;
  pd_acquisition_cost c = PD_ACQUISITION_COST_INIT;
  c.event_id = 112, c.channel = PD_CHANNEL_WECOM, c.period_start = T0;
  c.period_end = T0 + 7 * DAY, c.amount = 100000;
  m->cost = c;
  const int32_t k[MIXED] = {
      PD_EVENT_LINK,       PD_EVENT_UNLINK,        PD_EVENT_TOUCHPOINT,
      PD_EVENT_TOUCHPOINT, PD_EVENT_ORDER,         PD_EVENT_REFUND,
      PD_EVENT_REFERRAL,   PD_EVENT_GUIDE_BIND,    PD_EVENT_GUIDE_HANDOVER,
      PD_EVENT_GUIDE_DEACTIVATE, PD_EVENT_REACH,   PD_EVENT_COST};
  const void *rec[MIXED] = {&m->link,     &m->unlink,   &m->touch,
                            &m->rating,   &m->order,    &m->refund,
                            &m->referral, &m->bind,     &m->handover,
                            &m->deactivate, &m->reach,  &m->cost};
  memcpy(m->kinds, k, sizeof k);
  memcpy(m->records, rec, sizeof rec);
}

/* The matching single call. */
static pd_status record_single(pd_store *s, int32_t kind, const void *r) {
  switch (kind) {
    case PD_EVENT_LINK: return pd_record_link(s, r);
    case PD_EVENT_UNLINK: return pd_record_unlink(s, r);
    case PD_EVENT_TOUCHPOINT: return pd_record_touchpoint(s, r);
    case PD_EVENT_ORDER: return pd_record_order(s, r);
    case PD_EVENT_REFUND: return pd_record_refund(s, r);
    case PD_EVENT_REFERRAL: return pd_record_referral(s, r);
    case PD_EVENT_GUIDE_BIND: return pd_record_guide_bind(s, r);
    case PD_EVENT_GUIDE_HANDOVER: return pd_record_guide_handover(s, r);
    case PD_EVENT_GUIDE_DEACTIVATE: return pd_record_guide_deactivate(s, r);
    case PD_EVENT_REACH: return pd_record_reach(s, r);
    case PD_EVENT_COST: return pd_record_cost(s, r);
    default: return PD_E_INVALID;
  }
}

/* A store with users 1..4 and guides 1..2. */
static pd_store *new_store(const pd_allocator *a) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.allocator = a;
  pd_store *s;
  if (pd_store_new(&o, &s) != PD_OK) return NULL;
  const char *keys[] = {"u1", "u2", "u3", "u4"};
  for (int i = 0; i < 4; i++)
    if (user_of(s, keys[i]) != (pd_user_id)i + 1) return NULL;
  uint32_t g;
  if (pd_guide_ensure(s, "G1", PD_NTS, 0, &g) != PD_OK || g != 1) return NULL;
  if (pd_guide_ensure(s, "G2", PD_NTS, 0, &g) != PD_OK || g != 2) return NULL;
  return s;
}

static uint64_t digest(pd_store *s) { return store_digest(s, 4, times, 3, 2); }

static uint64_t events_of(pd_store *s) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  return st.events;
}

/* ---- a batch is a sequence of single calls ------------------------------ */

static void a_batch_records_what_the_single_calls_record(void **state) {
  (void)state;
  mixed m;
  mixed_init(&m);
  pd_store *a = new_store(NULL), *b = new_store(NULL);
  assert_non_null(a);
  assert_non_null(b);
  pd_status st[MIXED];
  assert_int_equal(pd_record_events(a, MIXED, m.kinds, m.records, st), PD_OK);
  for (int i = 0; i < MIXED; i++) {
    assert_int_equal(st[i], PD_OK);
    assert_int_equal(record_single(b, m.kinds[i], m.records[i]), PD_OK);
  }
  assert_int_equal(events_of(a), MIXED);
  assert_int_equal(digest(a), digest(b));
  /* The refund recorded in the batch counts against its order. */
  pd_user_info info = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(a, 3, T0 + 40 * DAY, &info), PD_OK);
  assert_int_equal(info.revenue, 12900 - 2900); /* net of refunds */
  assert_int_equal(info.refunded, 2900);
  pd_store_free(a);
  pd_store_free(b);
}

static void a_replayed_batch_answers_replayed_and_changes_nothing(
    void **state) {
  (void)state;
  mixed m;
  mixed_init(&m);
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  pd_status st[MIXED];
  assert_int_equal(pd_record_events(s, MIXED, m.kinds, m.records, st), PD_OK);
  uint64_t before = digest(s);
  assert_int_equal(pd_record_events(s, MIXED, m.kinds, m.records, st), PD_OK);
  for (int i = 0; i < MIXED; i++) assert_int_equal(st[i], PD_REPLAYED);
  assert_int_equal(digest(s), before);
  assert_string_equal(pd_store_errmsg(s), "");
  pd_store_free(s);
}

static void a_failed_event_neither_stops_nor_undoes_the_others(void **state) {
  (void)state;
  mixed m;
  mixed_init(&m);
  pd_store *s = new_store(NULL), *ref = new_store(NULL);
  assert_non_null(s);
  assert_non_null(ref);
  /* Event 2 names a user that does not exist; event 6 reuses the event id
   * of the link with other content. */
  m.touch.user = 99;
  pd_referral dup = PD_REFERRAL_INIT;
  dup.event_id = 101, dup.referrer = 1, dup.referee = 2, dup.time = T0;
  m.records[6] = &dup;
  pd_status st[MIXED];
  assert_int_equal(pd_record_events(s, MIXED, m.kinds, m.records, st),
                   PD_E_NOT_FOUND);
  assert_int_equal(strncmp(pd_store_errmsg(s), "events[2]: ", 11), 0);
  for (int i = 0; i < MIXED; i++) {
    pd_status want = i == 2 ? PD_E_NOT_FOUND
                     : i == 6 ? PD_E_DUPLICATE
                              : PD_OK;
    assert_int_equal(st[i], want);
    if (want == PD_OK)
      assert_int_equal(record_single(ref, m.kinds[i], m.records[i]), PD_OK);
  }
  assert_int_equal(events_of(s), MIXED - 2);
  assert_int_equal(digest(s), digest(ref));
  pd_store_free(s);
  pd_store_free(ref);
}

static void an_unknown_kind_fails_that_event_only(void **state) {
  (void)state;
  mixed m;
  mixed_init(&m);
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  int32_t kinds[3] = {PD_EVENT_LINK, 0, PD_EVENT_TOUCHPOINT};
  const void *rec[3] = {&m.link, &m.touch, &m.touch};
  pd_status st[3];
  assert_int_equal(pd_record_events(s, 3, kinds, rec, st), PD_E_INVALID);
  assert_int_equal(st[0], PD_OK);
  assert_int_equal(st[1], PD_E_INVALID);
  assert_int_equal(st[2], PD_OK);
  assert_int_equal(strncmp(pd_store_errmsg(s), "events[1]: ", 11), 0);
  assert_int_equal(events_of(s), 2);
  pd_store_free(s);
}

static void each_record_is_checked_as_its_single_call_checks_it(
    void **state) {
  (void)state;
  mixed m;
  mixed_init(&m);
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  pd_touchpoint small = m.touch;
  small.size = sizeof small - 1;
  pd_touchpoint zero_id = m.touch;
  zero_id.event_id = 0;
  int32_t kinds[4] = {PD_EVENT_TOUCHPOINT, PD_EVENT_TOUCHPOINT,
                      PD_EVENT_TOUCHPOINT, PD_EVENT_ORDER};
  const void *rec[4] = {NULL, &small, &zero_id, &m.order};
  pd_status st[4];
  assert_int_equal(pd_record_events(s, 4, kinds, rec, st), PD_E_INVALID);
  assert_int_equal(st[0], PD_E_INVALID);
  assert_int_equal(st[1], PD_E_INVALID);
  assert_int_equal(st[2], PD_E_INVALID);
  assert_int_equal(st[3], PD_OK);
  assert_int_equal(events_of(s), 1);
  pd_store_free(s);
}

/* ---- arguments ---------------------------------------------------------- */

static void missing_arrays_are_refused_before_any_event(void **state) {
  (void)state;
  mixed m;
  mixed_init(&m);
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  pd_status st[MIXED];
  for (int i = 0; i < MIXED; i++) st[i] = 77;
  assert_int_equal(pd_record_events(s, MIXED, NULL, m.records, st),
                   PD_E_INVALID);
  assert_int_equal(pd_record_events(s, MIXED, m.kinds, NULL, st),
                   PD_E_INVALID);
  assert_int_equal(pd_record_events(s, MIXED, m.kinds, m.records, NULL),
                   PD_E_INVALID);
  for (int i = 0; i < MIXED; i++) assert_int_equal(st[i], 77);
  assert_int_equal(events_of(s), 0);
  assert_int_equal(pd_record_events(s, 0, NULL, NULL, NULL), PD_OK);
  assert_int_equal(pd_record_events(NULL, MIXED, m.kinds, m.records, st),
                   PD_E_MISUSE);
  for (int i = 0; i < MIXED; i++) assert_int_equal(st[i], 77);
  pd_store_free(s);
}

static int batch_in_callback(void *user, const pd_link_state *l) {
  (void)l;
  void **a = user;
  pd_store *s = a[0];
  mixed *m = a[1];
  pd_status st[1];
  *(pd_status *)a[2] =
      pd_record_events(s, 1, &m->kinds[2], &m->records[2], st);
  return 1;
}

static void a_batch_from_inside_a_callback_is_misuse(void **state) {
  (void)state;
  mixed m;
  mixed_init(&m);
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  pd_status st[1];
  assert_int_equal(pd_record_events(s, 1, &m.kinds[0], &m.records[0], st),
                   PD_OK);
  pd_status got = PD_OK;
  void *a[3] = {s, &m, &got};
  assert_int_equal(pd_user_links(s, 1, T0 + DAY, batch_in_callback, a),
                   PD_OK);
  assert_int_equal(got, PD_E_MISUSE);
  assert_int_equal(events_of(s), 1);
  pd_store_free(s);
}

/* ---- many events: index growth, replays, other kinds --------------------- */

#define MANY 50000

static void a_large_batch_finds_every_id_again_across_index_growth(
    void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  static pd_touchpoint ev[MANY];
  static int32_t kinds[MANY];
  static const void *rec[MANY];
  static pd_status st[MANY];
  uint64_t x = 12345;
  for (size_t i = 0; i < MANY; i++) {
    pd_touchpoint t = PD_TOUCHPOINT_INIT;
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    t.event_id = x | 1; /* scattered ids, never 0 */
    t.user = 1 + i % 4;
    t.kind = PD_TOUCH_INBOUND_MESSAGE;
    t.time = T0 + (int64_t)(i % 1000) * 60;
    ev[i] = t;
    kinds[i] = PD_EVENT_TOUCHPOINT;
    rec[i] = &ev[i];
  }
  assert_int_equal(pd_record_events(s, MANY, kinds, rec, st), PD_OK);
  for (size_t i = 0; i < MANY; i++) assert_int_equal(st[i], PD_OK);
  assert_int_equal(events_of(s), MANY);
  /* Every id is found again: same content replays, other content or
   * another kind is a duplicate. */
  assert_int_equal(pd_record_events(s, MANY, kinds, rec, st), PD_OK);
  for (size_t i = 0; i < MANY; i++) assert_int_equal(st[i], PD_REPLAYED);
  for (size_t i = 0; i < MANY; i += 997) {
    pd_touchpoint t = ev[i];
    t.time += 1;
    assert_int_equal(pd_record_touchpoint(s, &t), PD_E_DUPLICATE);
    pd_link_event l = PD_LINK_EVENT_INIT;
    l.event_id = ev[i].event_id, l.user = 1, l.channel = PD_CHANNEL_WECOM;
    l.time = T0;
    assert_int_equal(pd_record_link(s, &l), PD_E_DUPLICATE);
  }
  assert_int_equal(events_of(s), MANY);
  pd_store_free(s);
}

static void out_of_memory_fails_single_events_and_keeps_the_rest(
    void **state) {
  (void)state;
  /* Fail each allocation in turn while a batch of events grows the
   * columns and the index; every event is then either recorded (PD_OK) or
   * not at all (PD_E_NOMEM), and the store equals one that recorded only
   * the PD_OK ones. */
  enum { N = 300 };
  static pd_touchpoint ev[N];
  static int32_t kinds[N];
  static const void *rec[N];
  static pd_status st[N];
  for (size_t i = 0; i < N; i++) {
    pd_touchpoint t = PD_TOUCHPOINT_INIT;
    t.event_id = 1000 + i, t.user = 1 + i % 4;
    t.kind = PD_TOUCH_INBOUND_MESSAGE, t.time = T0 + (int64_t)i * 3600;
    ev[i] = t;
    kinds[i] = PD_EVENT_TOUCHPOINT;
    rec[i] = &ev[i];
  }
  int failed_some = 0;
  for (long k = 1; k < 40; k++) {
    test_alloc ta;
    test_alloc_init(&ta);
    pd_allocator a = test_alloc_allocator(&ta);
    pd_store *s = new_store(&a), *ref = new_store(NULL);
    assert_non_null(s);
    assert_non_null(ref);
    test_alloc_fail_in(&ta, k);
    pd_status r = pd_record_events(s, N, kinds, rec, st);
    test_alloc_fail_in(&ta, 0);
    size_t ok = 0;
    for (size_t i = 0; i < N; i++) {
      assert_true(st[i] == PD_OK || st[i] == PD_E_NOMEM);
      if (st[i] == PD_OK) {
        ok++;
        assert_int_equal(pd_record_touchpoint(ref, &ev[i]), PD_OK);
      }
    }
    assert_int_equal(r, ok == N ? PD_OK : PD_E_NOMEM);
    failed_some |= ok < N;
    assert_int_equal(events_of(s), ok);
    assert_int_equal(digest(s), digest(ref));
    pd_store_free(s);
    pd_store_free(ref);
    assert_int_equal(atomic_load(&ta.live), 0);
  }
  assert_true(failed_some);
}


/* Consent changes ride in batches too, as pd_record_consent records them. */
static void a_batch_records_consent_as_its_single_call_does(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  pd_user_id u;
  assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, "+8613700000001",
                                  PD_NTS, &u),
                   PD_OK);
  pd_consent grant = PD_CONSENT_INIT, withdraw = PD_CONSENT_INIT;
  grant.event_id = 501, grant.user = u, grant.time = T0;
  grant.purpose = PD_CONSENT_MARKETING, grant.granted = 1;
  withdraw = grant;
  withdraw.event_id = 502, withdraw.time = T0 + DAY, withdraw.granted = 0;
  int32_t kinds[2] = {PD_EVENT_CONSENT, PD_EVENT_CONSENT};
  const void *rec[2] = {&withdraw, &grant}; /* out of time order */
  pd_status st[2];
  assert_int_equal(pd_record_events(s, 2, kinds, rec, st), PD_OK);
  assert_int_equal(st[0], PD_OK);
  assert_int_equal(st[1], PD_OK);
  int32_t granted = -1;
  assert_int_equal(pd_user_consent(s, u, PD_CONSENT_MARKETING, T0, &granted),
                   PD_OK);
  assert_int_equal(granted, 1);
  assert_int_equal(pd_user_consent(s, u, PD_CONSENT_MARKETING, T0 + DAY,
                                   &granted),
                   PD_OK);
  assert_int_equal(granted, 0);
  /* replayed through the single call: the same event, nothing new */
  assert_int_equal(pd_record_consent(s, &grant), PD_REPLAYED);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_batch_records_what_the_single_calls_record),
      cmocka_unit_test(a_replayed_batch_answers_replayed_and_changes_nothing),
      cmocka_unit_test(a_failed_event_neither_stops_nor_undoes_the_others),
      cmocka_unit_test(an_unknown_kind_fails_that_event_only),
      cmocka_unit_test(a_batch_records_consent_as_its_single_call_does),
      cmocka_unit_test(each_record_is_checked_as_its_single_call_checks_it),
      cmocka_unit_test(missing_arrays_are_refused_before_any_event),
      cmocka_unit_test(a_batch_from_inside_a_callback_is_misuse),
      cmocka_unit_test(
          a_large_batch_finds_every_id_again_across_index_growth),
      cmocka_unit_test(
          out_of_memory_fails_single_events_and_keeps_the_rest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
