/* Specification of the customer id table behind summaries
 * (src/models/customer_ids.h): dense ids in order of first appearance,
 * exact text matching whatever the hash says, rollback to an earlier
 * count, and nothing changed by a failed add or by prefetch hints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/customer_ids.h"
#include "testutil_alloc.h"

static pd_allocator libc_alloc(void) {
  pd_allocator a;
  assert_int_equal(pd_alloc_init(&a, NULL), 0);
  return a;
}

static uint32_t add(pd_customer_ids *t, const pd_allocator *a, const char *s,
                    size_t len, int want_added) {
  uint32_t id = PD_CUSTOMER_NONE;
  int added = -1;
  assert_int_equal(pd_customer_ids_add(t, a, s, len, &id, &added), 0);
  assert_int_equal(added, want_added);
  return id;
}

static void assert_text(const pd_customer_ids *t, uint32_t id, const char *s,
                        size_t len) {
  size_t l = 0;
  const char *p = pd_customer_ids_str(t, id, &l);
  assert_int_equal(l, len);
  assert_memory_equal(p, s, len);
  assert_int_equal(p[len], '\0');
}

/* A text unique to i, of 2 to 47 bytes: on both sides of the 16 kept in
 * a hash slot. */
static size_t text_of(size_t i, char *buf) {
  size_t n = (size_t)snprintf(buf, 24, "%zu-", i), pad = i % 41;
  for (size_t k = 0; k < pad; k++) buf[n + k] = (char)('a' + (i + k) % 26);
  buf[n + pad] = '\0';
  return n + pad;
}

static void ids_are_numbered_in_order_of_first_appearance(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  pd_customer_ids t;
  pd_customer_ids_init(&t);
  assert_int_equal(add(&t, &a, "b", 1, 1), 0);
  assert_int_equal(add(&t, &a, "a", 1, 1), 1);
  assert_int_equal(add(&t, &a, "b", 1, 0), 0);
  assert_int_equal(add(&t, &a, "", 0, 1), 2);
  assert_int_equal(add(&t, &a, "", 0, 0), 2);
  const char nul[] = {'a', '\0', 'b'};
  assert_int_equal(add(&t, &a, nul, 3, 1), 3); /* bytes, not C strings */
  assert_int_equal(add(&t, &a, "a", 1, 0), 1);
  assert_int_equal(t.count, 4);
  assert_text(&t, 3, nul, 3);
  pd_customer_ids_free(&t, &a);
}

static void every_text_finds_its_own_id_across_growth(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  pd_customer_ids t;
  pd_customer_ids_init(&t);
  enum { N = 100000 };
  char buf[64];
  for (size_t i = 0; i < N; i++)
    assert_int_equal(add(&t, &a, buf, text_of(i, buf), 1), i);
  for (size_t i = 0; i < N; i++) {
    size_t len = text_of(i, buf);
    assert_int_equal(pd_customer_ids_find(&t, buf, len), i);
    assert_text(&t, (uint32_t)i, buf, len);
  }
  assert_int_equal(pd_customer_ids_find(&t, "not there", 9), PD_CUSTOMER_NONE);
  assert_int_equal(pd_customer_ids_find(&t, "1-", 2), PD_CUSTOMER_NONE);
  pd_customer_ids_free(&t, &a);
}

static void texts_sharing_a_hash_key_keep_distinct_ids(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  pd_customer_ids t;
  pd_customer_ids_init(&t);
  const char *s[] = {"short", "a text longer than sixteen bytes",
                     "another text longer than sixteen", "shorT", ""};
  uint32_t id;
  int added;
  for (uint32_t k = 0; k < 5; k++) {
    assert_int_equal(pd_customer_ids_add_keyed(&t, &a, 42, s[k], strlen(s[k]),
                                               &id, &added),
                     0);
    assert_int_equal(id, k);
    assert_int_equal(added, 1);
  }
  for (uint32_t k = 0; k < 5; k++) {
    assert_int_equal(pd_customer_ids_add_keyed(&t, &a, 42, s[k], strlen(s[k]),
                                               &id, &added),
                     0);
    assert_int_equal(id, k);
    assert_int_equal(added, 0);
  }
  pd_customer_ids_free(&t, &a);
}

static void truncate_forgets_newer_ids_and_keeps_older_ones(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  pd_customer_ids t;
  pd_customer_ids_init(&t);
  char buf[64];
  enum { N = 5000, KEEP = 1234 };
  for (size_t i = 1; i <= N; i++) add(&t, &a, buf, text_of(i, buf), 1);
  /* Two texts under one key: the rollback must remove the right one. */
  uint32_t id;
  int added;
  assert_int_equal(
      pd_customer_ids_add_keyed(&t, &a, 7, "k1", 2, &id, &added), 0);
  pd_customer_ids_truncate(&t, KEEP);
  assert_int_equal(t.count, KEEP);
  for (size_t i = 1; i <= N; i++) {
    size_t len = text_of(i, buf);
    assert_int_equal(pd_customer_ids_find(&t, buf, len),
                     i <= KEEP ? (uint32_t)(i - 1) : PD_CUSTOMER_NONE);
  }
  /* Re-adding gives the same ids again. */
  for (size_t i = KEEP + 1; i <= N; i++)
    assert_int_equal(add(&t, &a, buf, text_of(i, buf), 1), i - 1);
  assert_int_equal(
      pd_customer_ids_add_keyed(&t, &a, 7, "k1", 2, &id, &added), 0);
  assert_int_equal(id, N);
  assert_int_equal(added, 1);
  assert_int_equal(
      pd_customer_ids_add_keyed(&t, &a, 7, "k2", 2, &id, &added), 0);
  assert_int_equal(id, N + 1);
  pd_customer_ids_truncate(&t, N + 1);
  assert_int_equal(
      pd_customer_ids_add_keyed(&t, &a, 7, "k1", 2, &id, &added), 0);
  assert_int_equal(id, N);
  assert_int_equal(added, 0);
  pd_customer_ids_truncate(&t, 0);
  assert_int_equal(t.count, 0);
  assert_int_equal(pd_customer_ids_find(&t, "k1", 2), PD_CUSTOMER_NONE);
  pd_customer_ids_free(&t, &a);
}

static void a_failed_add_leaves_the_table_unchanged(void **state) {
  (void)state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  char buf[64];
  enum { N = 3000 };
  long failed = 0;
  for (long k = 1; k < 200; k++) {
    pd_customer_ids t;
    pd_customer_ids_init(&t);
    atomic_store(&ta.fail_at, atomic_load(&ta.calls) + k);
    size_t i = 0;
    for (; i < N; i++) {
      size_t len = text_of(i + 1, buf);
      uint32_t id;
      int added;
      if (pd_customer_ids_add(&t, &a, buf, len, &id, &added) != 0) break;
      assert_int_equal(id, i);
    }
    atomic_store(&ta.fail_at, 0);
    if (i < N) {
      failed++;
      assert_int_equal(t.count, i);
      /* The one that failed is not there; the ones before are. */
      assert_int_equal(pd_customer_ids_find(&t, buf, text_of(i + 1, buf)),
                       PD_CUSTOMER_NONE);
      for (size_t j = 0; j < i; j++)
        assert_int_equal(pd_customer_ids_find(&t, buf, text_of(j + 1, buf)), j);
    }
    pd_customer_ids_free(&t, &a);
    assert_int_equal(atomic_load(&ta.live), 0);
  }
  assert_true(failed > 10);
}

static void prefetch_hints_change_nothing(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  pd_customer_ids t;
  pd_customer_ids_init(&t);
  /* On an empty table, then on one holding short and long texts. */
  pd_customer_ids_prefetch(&t, 1, PD_CUSTOMER_PREFETCH_SLOT);
  pd_customer_ids_prefetch(&t, 1, PD_CUSTOMER_PREFETCH_TEXT);
  char buf[64];
  for (size_t i = 1; i < 100; i++) add(&t, &a, buf, text_of(i, buf), 1);
  for (size_t i = 1; i < 200; i++) {
    size_t len = text_of(i, buf);
    uint64_t key = pd_customer_ids_key(buf, len);
    pd_customer_ids_prefetch(&t, key, PD_CUSTOMER_PREFETCH_SLOT);
    pd_customer_ids_prefetch(&t, key, PD_CUSTOMER_PREFETCH_TEXT);
    assert_int_equal(pd_customer_ids_find(&t, buf, len),
                     i < 100 ? (uint32_t)(i - 1) : PD_CUSTOMER_NONE);
  }
  assert_int_equal(t.count, 99);
  pd_customer_ids_free(&t, &a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ids_are_numbered_in_order_of_first_appearance),
      cmocka_unit_test(every_text_finds_its_own_id_across_growth),
      cmocka_unit_test(texts_sharing_a_hash_key_keep_distinct_ids),
      cmocka_unit_test(truncate_forgets_newer_ids_and_keeps_older_ones),
      cmocka_unit_test(a_failed_add_leaves_the_table_unchanged),
      cmocka_unit_test(prefetch_hints_change_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
