/* Specification of adding transactions in batches (pd_summary_add): a
 * batch, however long, numbers customers and summarises exactly as the
 * same transactions added one at a time, and a batch that fails part way
 * leaves no trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/summary.h>

enum { N = 6000, CUSTOMERS = 900 };

typedef struct batch {
  char text[N][48];
  const char *ids[N];
  size_t lens[N];
  int64_t times[N];
  double amounts[N];
} batch;

/* Customers with ids of 3 to 40 bytes (short ones and long ones),
 * transactions over two years in no particular order. */
static void make_batch(batch *b) {
  uint64_t z = 12345;
  for (size_t i = 0; i < N; i++) {
    z = z * 6364136223846793005ull + 1442695040888963407ull;
    unsigned c = (unsigned)(z >> 33) % CUSTOMERS;
    int len = snprintf(b->text[i], sizeof b->text[i], "c%u-%.*s", c,
                       (int)(c % 37), "abcdefghijklmnopqrstuvwxyz0123456789");
    b->ids[i] = b->text[i];
    b->lens[i] = (size_t)len;
    b->times[i] = 1600000000 + (int64_t)((z >> 20) % (730u * 86400u));
    b->amounts[i] = (double)((z >> 40) % 10000) / 100.0;
  }
}

static pd_summary *computed(pd_summary *s) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = 1600000000 + 600 * 86400;
  spec.observation_end = 1600000000 + 730 * 86400;
  spec.unit = PD_TIME_UNIT_WEEK;
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  return s;
}

/* Same rows, same ids, same bits. */
static void assert_same_summary(const pd_summary *a, const pd_summary *b) {
  size_t n = pd_summary_rows(a);
  assert_true(n > 0);
  assert_int_equal(pd_summary_rows(b), n);
  for (int32_t col = PD_SUMMARY_X; col <= PD_SUMMARY_X_HOLDOUT; col++) {
    const double *ca, *cb;
    assert_int_equal(pd_summary_column(a, col, &ca), PD_OK);
    assert_int_equal(pd_summary_column(b, col, &cb), PD_OK);
    assert_memory_equal(ca, cb, n * sizeof *ca);
  }
  for (size_t r = 0; r < n; r++) {
    const char *ia, *ib;
    size_t la, lb;
    assert_int_equal(pd_summary_id(a, r, &ia, &la), PD_OK);
    assert_int_equal(pd_summary_id(b, r, &ib, &lb), PD_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(ia, ib, la);
  }
}

static void a_batch_summarises_as_one_transaction_at_a_time(void **state) {
  (void)state;
  batch *b = malloc(sizeof *b);
  assert_non_null(b);
  make_batch(b);
  pd_summary *one = NULL, *all = NULL, *cstr = NULL;
  assert_int_equal(pd_summary_new(NULL, &one), PD_OK);
  assert_int_equal(pd_summary_new(NULL, &all), PD_OK);
  assert_int_equal(pd_summary_new(NULL, &cstr), PD_OK);
  for (size_t i = 0; i < N; i++)
    assert_int_equal(pd_summary_add(one, b->ids + i, b->lens + i,
                                    b->times + i, b->amounts + i, 1),
                     PD_OK);
  assert_int_equal(
      pd_summary_add(all, b->ids, b->lens, b->times, b->amounts, N), PD_OK);
  /* NULL lengths: the ids are C strings. */
  assert_int_equal(
      pd_summary_add(cstr, b->ids, NULL, b->times, b->amounts, N), PD_OK);
  assert_int_equal(pd_summary_transactions(all), N);
  assert_same_summary(computed(one), computed(all));
  assert_same_summary(computed(one), computed(cstr));
  pd_summary_free(one);
  pd_summary_free(all);
  pd_summary_free(cstr);
  free(b);
}

static void a_batch_failing_part_way_leaves_no_trace(void **state) {
  (void)state;
  batch *b = malloc(sizeof *b);
  assert_non_null(b);
  make_batch(b);
  pd_summary *s = NULL, *ref = NULL;
  assert_int_equal(pd_summary_new(NULL, &s), PD_OK);
  assert_int_equal(pd_summary_new(NULL, &ref), PD_OK);
  size_t half = N / 2;
  assert_int_equal(
      pd_summary_add(s, b->ids, b->lens, b->times, b->amounts, half), PD_OK);
  assert_int_equal(
      pd_summary_add(ref, b->ids, b->lens, b->times, b->amounts, half),
      PD_OK);
  /* A NULL id, then a time out of range, well into the second half:
   * every transaction and customer of that batch before it is undone. */
  const char *saved = b->ids[half + 1000];
  b->ids[half + 1000] = NULL;
  assert_int_equal(pd_summary_add(s, b->ids + half, b->lens + half,
                                  b->times + half, b->amounts + half,
                                  N - half),
                   PD_E_INVALID);
  assert_non_null(strstr(pd_summary_errmsg(s), "transaction 1000"));
  b->ids[half + 1000] = saved;
  b->times[half + 2000] = -1;
  assert_int_equal(pd_summary_add(s, b->ids + half, b->lens + half,
                                  b->times + half, b->amounts + half,
                                  N - half),
                   PD_E_RANGE);
  assert_int_equal(pd_summary_transactions(s), half);
  assert_same_summary(computed(s), computed(ref));
  pd_summary_free(s);
  pd_summary_free(ref);
  free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_batch_summarises_as_one_transaction_at_a_time),
      cmocka_unit_test(a_batch_failing_part_way_leaves_no_trace),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
