/* The trust distribution walks several users' touchpoint chains at once,
 * keeps a bounded buffer per walk and leaves users with longer histories
 * to the calling thread (src/metrics/trust.c). This test builds trust.c
 * with 3 walks, buffers of 6 touchpoints and user blocks of 64 users, so
 * that every path runs on the demo domain, and checks that the figure is
 * exactly what pd_trust_user gives user by user, for several thread
 * counts and two dates, on three layouts of the touchpoint column: as
 * recorded (every chain step a jump), clustered (chains run down
 * neighbouring records, which a walk takes without yielding) and half
 * clustered (events recorded after clustering: runs broken by jumps). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "demo_store.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The distribution computed the slow way: pd_trust_user for every live
 * canonical user. */
static void expected(pd_store *s, int64_t as_of, pd_trust_distribution *out) {
  size_t cap = 1024, n = 0;
  double *v = malloc(cap * sizeof *v), sum = 0;
  assert_non_null(v);
  memset(out->histogram, 0, sizeof out->histogram);
  for (pd_user_id u = 1;; u++) {
    pd_user_info ui = PD_USER_INFO_INIT;
    pd_status st = pd_user_get(s, u, as_of, &ui);
    if (st == PD_E_NOT_FOUND) break; /* past the last id */
    if (st == PD_E_ERASED || ui.user != u) continue;
    assert_int_equal(st, PD_OK);
    if (n == cap) {
      cap *= 2;
      v = realloc(v, cap * sizeof *v);
      assert_non_null(v);
    }
    pd_trust t = PD_TRUST_INIT;
    assert_int_equal(pd_trust_user(s, u, 0, as_of, NULL, &t), PD_OK);
    v[n++] = t.score;
    sum += t.score;
    int bin = (int)(t.score / 10.0);
    out->histogram[bin >= PD_TRUST_BINS ? PD_TRUST_BINS - 1 : bin]++;
  }
  qsort(v, n, sizeof *v, cmp_double);
  out->users = n;
  out->mean_score = n ? sum / (double)n : 0;
  for (int k = 0; k < 9; k++) {
    size_t rank = ((size_t)(k + 1) * n + 9) / 10;
    out->deciles[k] = n ? v[rank - 1] : 0;
  }
  free(v);
}

/* The distribution on 1-3 threads at two dates against expected(). */
static void check_against_each_user(pd_store *s) {
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_true(st.touchpoints > 50000);
  const int64_t dates[] = {DEMO_T_END, DEMO_T_END - 150 * DEMO_DAY};
  for (size_t g = 0; g < sizeof dates / sizeof *dates; g++) {
    pd_trust_distribution want = PD_TRUST_DISTRIBUTION_INIT;
    expected(s, dates[g], &want);
    assert_true(want.users > 1000);
    const int32_t threads[] = {1, 2, 3};
    for (size_t k = 0; k < sizeof threads / sizeof *threads; k++) {
      assert_int_equal(pd_store_set_threads(s, threads[k]), PD_OK);
      pd_metrics_filter f = PD_METRICS_FILTER_INIT;
      f.as_of = dates[g];
      pd_trust_distribution got = PD_TRUST_DISTRIBUTION_INIT;
      assert_int_equal(pd_trust_distribution_get(s, &f, NULL, &got), PD_OK);
      assert_int_equal(got.users, want.users);
      for (int b = 0; b < PD_TRUST_BINS; b++)
        assert_int_equal(got.histogram[b], want.histogram[b]);
      /* Deciles are single users' scores: equal to the last bit. */
      for (int q = 0; q < 9; q++)
        assert_true(got.deciles[q] == want.deciles[q]);
      assert_true(fabs(got.mean_score - want.mean_score) <
                  1e-9 * want.mean_score);
    }
  }
}

static void as_recorded(void **state) {
  pd_store *s = demo_store_clustered_at(*state, NULL, NULL, SIZE_MAX);
  check_against_each_user(s);
  pd_store_free(s);
}

static void clustered(void **state) {
  const demo_data *d = *state;
  pd_store *s = demo_store_clustered_at(d, NULL, NULL, d->n_records);
  check_against_each_user(s);
  pd_store_free(s);
}

static void recorded_after_clustering(void **state) {
  const demo_data *d = *state;
  pd_store *s = demo_store_clustered_at(d, NULL, NULL, d->n_records / 2);
  check_against_each_user(s);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(as_recorded),
      cmocka_unit_test(clustered),
      cmocka_unit_test(recorded_after_clustering),
  };
  return cmocka_run_group_tests(tests, demo_group_setup, demo_group_teardown);
}
