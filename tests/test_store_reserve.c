/* Specification of reserving room before a bulk load (pd_store_reserve,
 * store.h): after reserving a kind's count, recording that many events of
 * the kind allocates nothing; the room is sized exactly, so a reserved
 * load holds no growth slack; a reservation changes nothing observable
 * but memory; bad arguments and out-of-memory leave the store usable. */
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
static const int64_t times[] = {1600000000, 1600000000 + 30 * DAY,
                                1600000000 + 400 * DAY};
#define USERS 50

static pd_store *new_store(test_alloc *t) {
  pd_store *s = test_alloc_store(t);
  if (s == NULL) return NULL;
  char key[32];
  for (int i = 0; i < USERS; i++) {
    snprintf(key, sizeof key, "+8613800%04d", i);
    if (user_of(s, key) == 0) {
      pd_store_free(s);
      return NULL;
    }
  }
  return s;
}

static uint64_t memory_of(pd_store *s) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  return st.memory_bytes;
}

static uint64_t events_of(pd_store *s) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  return st.events;
}

/* Touchpoint number i: ids spread over the 64-bit range so that they land
 * all over the index. */
static pd_touchpoint touch(uint64_t i) {
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = (i + 1) * 0x9E3779B97F4A7C15ull;
  t.user = 1 + i % USERS;
  t.kind = PD_TOUCH_OUTBOUND_1TO1;
  t.purpose = PD_PURPOSE_SERVICE;
  t.channel = PD_CHANNEL_WECOM;
  t.time = T0 + (int64_t)(i % 300) * DAY;
  return t;
}

static pd_order order(uint64_t i) {
  pd_order o = PD_ORDER_INIT;
  o.event_id = 0x5000000000000000ull + i * 7919;
  o.order_id = 900000 + i * 3;
  o.user = 1 + i % USERS;
  o.amount = 1000 + (int64_t)(i % 17) * 100;
  o.time = T0 + (int64_t)(i % 300) * DAY;
  return o;
}

static void record_all(pd_store *s, uint64_t touches, uint64_t orders,
                       pd_status want) {
  for (uint64_t i = 0; i < touches; i++) {
    pd_touchpoint t = touch(i);
    assert_int_equal(pd_record_touchpoint(s, &t), want);
  }
  for (uint64_t i = 0; i < orders; i++) {
    pd_order o = order(i);
    assert_int_equal(pd_record_order(s, &o), want);
  }
}

static void recording_what_was_reserved_allocates_nothing(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_store *s = new_store(&t);
  assert_non_null(s);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_TOUCHPOINT, 3000), PD_OK);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_ORDER, 700), PD_OK);
  long calls = atomic_load(&t.calls);
  uint64_t before = memory_of(s);
  record_all(s, 3000, 700, PD_OK);
  assert_int_equal(atomic_load(&t.calls), calls);
  assert_int_equal(memory_of(s), before);
  assert_int_equal(events_of(s), 3700);
  /* one more than reserved grows the store as usual */
  pd_touchpoint extra = touch(3000);
  assert_int_equal(pd_record_touchpoint(s, &extra), PD_OK);
  assert_true(atomic_load(&t.calls) > calls);
  pd_store_free(s);
  assert_int_equal(atomic_load(&t.live), 0);
}

/* Users with one identity each, after PD_RESERVE_USERS: the user and
 * identity tables and the identity index are not grown again (only the
 * identity key bytes grow, by half: few allocations for many users). */
static void reserved_users_grow_no_table(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_store *s = new_store(&t);
  assert_non_null(s);
  assert_int_equal(pd_store_reserve(s, PD_RESERVE_USERS, 20000), PD_OK);
  long calls = atomic_load(&t.calls);
  char key[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(key, sizeof key, "+8613900%06d", i);
    pd_user_id u = 0;
    assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, key, PD_NTS, &u),
                     PD_OK);
    assert_int_equal(u, USERS + 1 + i);
  }
  /* the key bytes: 280 KB from a few KB, by half: under 16 reallocations */
  assert_true(atomic_load(&t.calls) - calls < 16);
  /* the users are there and found again */
  pd_user_id u = 0;
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "+8613900000123", PD_NTS,
                                &u),
                   PD_OK);
  assert_int_equal(u, USERS + 124);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.users, USERS + 20000);
  pd_store_free(s);
  assert_int_equal(atomic_load(&t.live), 0);
}

static void users_beyond_what_a_store_holds_are_full(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  uint64_t m0 = memory_of(s);
  assert_int_equal(pd_store_reserve(s, PD_RESERVE_USERS, UINT64_MAX),
                   PD_E_FULL);
  assert_int_equal(pd_store_reserve(s, PD_RESERVE_USERS, 0xFFFFFFFFull),
                   PD_E_FULL);
  assert_int_equal(memory_of(s), m0);
  assert_int_equal(pd_store_reserve(s, PD_RESERVE_USERS, 0), PD_OK);
  assert_int_equal(memory_of(s), m0);
  pd_store_free(s);
}

/* A touchpoint costs 28 bytes of record and 8 of event id; the index 64
 * bytes per 12 slots at load 7/8 (64 / 10.5 = 6.1 bytes). A reserved load
 * holds nothing more, where growth as events come leaves slack. */
static void a_reserved_load_holds_records_and_index_only(void **state) {
  (void)state;
  const uint64_t n = 42000;
  pd_store *grown = new_store(NULL), *reserved = new_store(NULL);
  assert_non_null(grown);
  assert_non_null(reserved);
  uint64_t m0 = memory_of(reserved);
  assert_int_equal(pd_store_reserve(reserved, PD_EVENT_TOUCHPOINT, n), PD_OK);
  record_all(reserved, n, 0, PD_OK);
  double per_event = (double)(memory_of(reserved) - m0) / (double)n;
  assert_true(per_event >= 36.0 + 6.0);
  assert_true(per_event <= 36.0 + 6.2);
  uint64_t g0 = memory_of(grown);
  record_all(grown, n, 0, PD_OK);
  assert_true(memory_of(grown) - g0 > memory_of(reserved) - m0);
  pd_store_free(grown);
  pd_store_free(reserved);
}

static void reserving_zero_or_what_is_there_allocates_nothing(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_store *s = new_store(&t);
  assert_non_null(s);
  long calls = atomic_load(&t.calls);
  for (int32_t k = 0; k <= PD_EVENT_CONSENT; k++)
    assert_int_equal(pd_store_reserve(s, k, 0), PD_OK);
  assert_int_equal(atomic_load(&t.calls), calls);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_ORDER, 500), PD_OK);
  calls = atomic_load(&t.calls);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_ORDER, 500), PD_OK);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_ORDER, 1), PD_OK);
  assert_int_equal(atomic_load(&t.calls), calls);
  assert_int_equal(events_of(s), 0);
  pd_store_free(s);
  assert_int_equal(atomic_load(&t.live), 0);
}

/* Kind 0 sizes the event-id index only: 64 bytes per 10.5 events. */
static void kind_zero_sizes_the_index_only(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  uint64_t m0 = memory_of(s);
  assert_int_equal(pd_store_reserve(s, 0, 105000), PD_OK);
  uint64_t grew = memory_of(s) - m0;
  assert_true(grew >= 10000 * 64);
  assert_true(grew <= 10001 * 64 + 64 + 16);
  /* the columns still grow, the index does not */
  record_all(s, 1000, 0, PD_OK);
  assert_true(memory_of(s) - m0 > grew);
  pd_store_free(s);
}

static void an_unknown_kind_or_handle_is_refused(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  uint64_t m0 = memory_of(s);
  assert_int_equal(pd_store_reserve(s, -1, 10), PD_E_INVALID);
  assert_true(strlen(pd_store_errmsg(s)) > 0);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_CONSENT + 1, 10),
                   PD_E_INVALID);
  assert_int_equal(pd_store_reserve(NULL, PD_EVENT_ORDER, 10), PD_E_MISUSE);
  assert_int_equal(memory_of(s), m0);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_ORDER, 10), PD_OK);
  assert_string_equal(pd_store_errmsg(s), "");
  pd_store_free(s);
}

static void more_than_a_kind_can_hold_is_full(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  uint64_t m0 = memory_of(s);
  const uint64_t per_kind = (uint64_t)1 << 28;
  assert_int_equal(pd_store_reserve(s, PD_EVENT_TOUCHPOINT, per_kind + 1),
                   PD_E_FULL);
  assert_int_equal(pd_store_reserve(s, 0, 12 * per_kind + 1), PD_E_FULL);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_LINK, UINT64_MAX),
                   PD_E_FULL);
  /* counted with what the kind holds already */
  record_all(s, 10, 0, PD_OK);
  assert_int_equal(pd_store_reserve(s, PD_EVENT_TOUCHPOINT, per_kind - 9),
                   PD_E_FULL);
  assert_true(memory_of(s) - m0 < 1u << 20);
  pd_store_free(s);
}

static int reserve_in_callback(void *user, const char *ns, size_t ns_len,
                               const char *key, size_t key_len) {
  (void)ns, (void)ns_len, (void)key, (void)key_len;
  void **a = user;
  *(pd_status *)a[1] = pd_store_reserve(a[0], PD_EVENT_ORDER, 10);
  return 0;
}

static void reserving_from_inside_a_callback_is_misuse(void **state) {
  (void)state;
  pd_store *s = new_store(NULL);
  assert_non_null(s);
  pd_status got = PD_OK;
  void *a[2] = {s, &got};
  assert_int_equal(pd_user_identities(s, 1, reserve_in_callback, a), PD_OK);
  assert_int_equal(got, PD_E_MISUSE);
  pd_store_free(s);
}

/* Reserving changes no answer: the same events give the same store, and
 * every id replays, whatever was reserved (odd sizes included, so the
 * index is rebuilt at bucket counts of every shape). */
static void a_reserved_store_answers_as_an_unreserved_one(void **state) {
  (void)state;
  pd_store *plain = new_store(NULL), *reserved = new_store(NULL);
  assert_non_null(plain);
  assert_non_null(reserved);
  record_all(plain, 5000, 1200, PD_OK);
  const uint64_t odd[] = {1, 7, 333, 1001, 4099};
  for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
    assert_int_equal(pd_store_reserve(reserved, 0, odd[k]), PD_OK);
    assert_int_equal(pd_store_reserve(reserved, PD_EVENT_TOUCHPOINT, odd[k]),
                     PD_OK);
    assert_int_equal(pd_store_reserve(reserved, PD_EVENT_ORDER, odd[k]),
                     PD_OK);
    uint64_t from = k ? odd[k - 1] : 0;
    for (uint64_t i = from; i < odd[k]; i++) {
      pd_touchpoint t = touch(i);
      assert_int_equal(pd_record_touchpoint(reserved, &t), PD_OK);
    }
  }
  for (uint64_t i = odd[4]; i < 5000; i++) {
    pd_touchpoint t = touch(i);
    assert_int_equal(pd_record_touchpoint(reserved, &t), PD_OK);
  }
  record_all(reserved, 0, 1200, PD_OK);
  assert_int_equal(store_digest(reserved, USERS, times, 3, 0),
                   store_digest(plain, USERS, times, 3, 0));
  record_all(reserved, 5000, 1200, PD_REPLAYED);
  /* an order id stays taken: a new event reusing it is a conflict */
  pd_order dup = order(5);
  dup.event_id = 77;
  pd_status st = pd_record_order(reserved, &dup);
  assert_int_equal(st, pd_record_order(plain, &dup));
  assert_true(st < 0);
  pd_store_free(plain);
  pd_store_free(reserved);
}

/* A reservation on a store with several threads takes its page faults
 * on them (large blocks: columns, users, the index cleared in parallel);
 * what was recorded before it keeps every byte, and the store answers as
 * one that reserved nothing. The sizes pass the 32 MB from which the
 * faults are taken up front. */
static void a_reservation_on_threads_keeps_what_was_recorded(void **state) {
  (void)state;
  pd_store *plain = new_store(NULL), *reserved = new_store(NULL);
  assert_non_null(plain);
  assert_non_null(reserved);
  assert_int_equal(pd_store_set_threads(reserved, 2), PD_OK);
  record_all(plain, 3000, 600, PD_OK);
  record_all(reserved, 1500, 300, PD_OK);
  assert_int_equal(pd_store_reserve(reserved, PD_RESERVE_USERS, 1000000),
                   PD_OK);
  assert_int_equal(pd_store_reserve(reserved, PD_EVENT_TOUCHPOINT, 1500000),
                   PD_OK);
  assert_int_equal(pd_store_reserve(reserved, PD_EVENT_ORDER, 3000000), PD_OK);
  assert_int_equal(pd_store_reserve(reserved, 0, 6000000), PD_OK);
  record_all(reserved, 1500, 300, PD_REPLAYED);
  for (uint64_t i = 1500; i < 3000; i++) {
    pd_touchpoint t = touch(i);
    assert_int_equal(pd_record_touchpoint(reserved, &t), PD_OK);
  }
  for (uint64_t i = 300; i < 600; i++) {
    pd_order o = order(i);
    assert_int_equal(pd_record_order(reserved, &o), PD_OK);
  }
  assert_int_equal(store_digest(reserved, USERS, times, 3, 0),
                   store_digest(plain, USERS, times, 3, 0));
  /* an order id recorded before the reservation is still taken */
  pd_order dup = order(5);
  dup.event_id = 77;
  assert_int_equal(pd_record_order(reserved, &dup),
                   pd_record_order(plain, &dup));
  pd_store_free(plain);
  pd_store_free(reserved);
}

/* Failing each allocation of a reservation in turn: PD_E_NOMEM, nothing
 * leaks, and the store still records and answers as before. */
static void out_of_memory_leaves_the_store_usable(void **state) {
  (void)state;
  int failed = 0;
  for (long k = 1; k < 20; k++) {
    test_alloc t;
    test_alloc_init(&t);
    pd_store *s = new_store(&t);
    assert_non_null(s);
    record_all(s, 100, 20, PD_OK);
    atomic_store(&t.fail_at, atomic_load(&t.calls) + k);
    pd_status a = pd_store_reserve(s, PD_EVENT_ORDER, 5000);
    pd_status b = pd_store_reserve(s, 0, 9000);
    atomic_store(&t.fail_at, 0);
    assert_true(a == PD_OK || a == PD_E_NOMEM);
    assert_true(b == PD_OK || b == PD_E_NOMEM);
    failed += a == PD_E_NOMEM || b == PD_E_NOMEM;
    record_all(s, 100, 20, PD_REPLAYED);
    pd_touchpoint t2 = touch(100);
    assert_int_equal(pd_record_touchpoint(s, &t2), PD_OK);
    pd_order o2 = order(20);
    assert_int_equal(pd_record_order(s, &o2), PD_OK);
    assert_int_equal(events_of(s), 122);
    pd_store_free(s);
    assert_int_equal(atomic_load(&t.live), 0);
  }
  /* the reservations allocate five blocks (the order column's ids and
   * records, the index, the order slots; the index again for kind 0):
   * each failed once */
  assert_int_equal(failed, 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(recording_what_was_reserved_allocates_nothing),
      cmocka_unit_test(reserved_users_grow_no_table),
      cmocka_unit_test(users_beyond_what_a_store_holds_are_full),
      cmocka_unit_test(a_reserved_load_holds_records_and_index_only),
      cmocka_unit_test(reserving_zero_or_what_is_there_allocates_nothing),
      cmocka_unit_test(kind_zero_sizes_the_index_only),
      cmocka_unit_test(an_unknown_kind_or_handle_is_refused),
      cmocka_unit_test(more_than_a_kind_can_hold_is_full),
      cmocka_unit_test(reserving_from_inside_a_callback_is_misuse),
      cmocka_unit_test(a_reserved_store_answers_as_an_unreserved_one),
      cmocka_unit_test(a_reservation_on_threads_keeps_what_was_recorded),
      cmocka_unit_test(out_of_memory_leaves_the_store_usable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
