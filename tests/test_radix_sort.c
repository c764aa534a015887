/* The radix sort of 64-bit keys (core/radix_sort.h): ascending and stable
 * against a comparison sort of (key, input position) pairs, for keys that
 * use every digit, keys whose high digits are all alike (passes skipped),
 * heavy ties, small inputs; input already in order costs no memory; out of
 * memory leaves the arrays as they were. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/radix_sort.h"
#include "testutil_alloc.h"

typedef struct pair {
  uint64_t key;
  size_t at;
} pair;

static int by_key_then_position(const void *x, const void *y) {
  const pair *a = x, *b = y;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return a->at < b->at ? -1 : a->at > b->at;
}

static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* n keys: random & mask, | high; sorted with positions carried, and
 * checked against qsort of the pairs. */
static void check_sort(size_t n, uint64_t mask, uint64_t high, uint64_t seed) {
  pd_allocator a;
  assert_int_equal(pd_alloc_init(&a, NULL), 0);
  uint64_t *key = malloc((n ? n : 1) * sizeof *key);
  uint64_t *plain = malloc((n ? n : 1) * sizeof *plain);
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  pair *want = malloc((n ? n : 1) * sizeof *want);
  assert_true(key && plain && idx && want);
  uint64_t state = seed;
  for (size_t i = 0; i < n; i++) {
    key[i] = plain[i] = (next_random(&state) & mask) | high;
    idx[i] = i;
    want[i] = (pair){key[i], i};
  }
  qsort(want, n, sizeof *want, by_key_then_position);
  assert_int_equal(pd_radix_sort_u64(&a, key, idx, n), 0);
  assert_int_equal(pd_radix_sort_u64(&a, plain, NULL, n), 0);
  for (size_t i = 0; i < n; i++) {
    if (key[i] != want[i].key || idx[i] != want[i].at || plain[i] != key[i])
      fail_msg("n %zu mask %llx: position %zu holds %llx from %zu, not %llx "
               "from %zu",
               n, (unsigned long long)mask, i, (unsigned long long)key[i],
               idx[i], (unsigned long long)want[i].key, want[i].at);
  }
  free(key);
  free(plain);
  free(idx);
  free(want);
}

static void keys_using_every_digit_sort_stably(void **state) {
  (void)state;
  check_sort(100000, UINT64_MAX, 0, 1);
  check_sort(65, UINT64_MAX, 0, 2); /* just past insertion */
}

/* 33-bit keys (3 passes of 6), keys alike but for a middle digit, and
 * keys in the top bits only. */
static void passes_over_digits_that_never_vary_are_skipped_safely(
    void **state) {
  (void)state;
  check_sort(50000, ((uint64_t)1 << 33) - 1, 0, 3);
  check_sort(50000, (uint64_t)0x7ff << 22, 0x8000000000000001ull, 4);
  check_sort(50000, 0xfffull << 52, 0, 5);
}

/* Ties: 16 distinct keys among many (positions must stay in order). */
static void equal_keys_keep_their_input_order(void **state) {
  (void)state;
  check_sort(40000, 0xf000000000000full, 0, 6);
  check_sort(64, 0x3, 0, 7); /* insertion */
}

static void small_inputs(void **state) {
  (void)state;
  for (size_t n = 0; n <= 70; n++) check_sort(n, UINT64_MAX, 0, 100 + n);
}

/* Keys already in order are only checked: nothing is allocated. */
static void input_in_order_costs_no_memory(void **state) {
  (void)state;
  test_alloc t;
  test_alloc_init(&t);
  pd_allocator a = test_alloc_allocator(&t);
  enum { N = 5000 };
  static uint64_t key[N];
  static size_t idx[N];
  for (size_t i = 0; i < N; i++) key[i] = i / 3, idx[i] = N - i;
  assert_int_equal(pd_radix_sort_u64(&a, key, idx, N), 0);
  assert_int_equal(atomic_load(&t.calls), 0);
  for (size_t i = 0; i < N; i++) {
    assert_true(key[i] == i / 3);
    assert_true(idx[i] == N - i);
  }
  /* One key out of place: then it sorts (and allocates). */
  key[0] = N;
  assert_int_equal(pd_radix_sort_u64(&a, key, idx, N), 0);
  assert_true(atomic_load(&t.calls) > 0);
  assert_true(key[N - 1] == N && idx[N - 1] == N);
}

/* Every allocation fails in turn: -1 and both arrays as they were. */
static void out_of_memory_leaves_the_arrays_unchanged(void **state) {
  (void)state;
  enum { N = 3000 };
  static uint64_t key[N], orig[N];
  static size_t idx[N];
  uint64_t st = 9;
  for (size_t i = 0; i < N; i++) orig[i] = next_random(&st);
  int failed = 0;
  for (long k = 1;; k++) {
    test_alloc t;
    test_alloc_init(&t);
    atomic_store(&t.fail_at, k);
    pd_allocator a = test_alloc_allocator(&t);
    memcpy(key, orig, sizeof key);
    for (size_t i = 0; i < N; i++) idx[i] = i;
    int rc = pd_radix_sort_u64(&a, key, idx, N);
    if (atomic_load(&t.failures) == 0) {
      assert_int_equal(rc, 0);
      break;
    }
    failed++;
    assert_int_equal(rc, -1);
    assert_memory_equal(key, orig, sizeof key);
    for (size_t i = 0; i < N; i++) assert_true(idx[i] == i);
  }
  assert_int_equal(failed, 3); /* keys, positions, counts */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(keys_using_every_digit_sort_stably),
      cmocka_unit_test(passes_over_digits_that_never_vary_are_skipped_safely),
      cmocka_unit_test(equal_keys_keep_their_input_order),
      cmocka_unit_test(small_inputs),
      cmocka_unit_test(input_in_order_costs_no_memory),
      cmocka_unit_test(out_of_memory_leaves_the_arrays_unchanged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
