/* Guides' figures take a user's service touchpoints from their chains on
 * a clustered store and from a grouping of the whole column otherwise
 * (src/metrics/guide_metrics.c). White-box: the store says which by
 * pd_st_chains_run_down(). Both ways must give the same figures to the
 * last bit, on the demo domain: as recorded (grouping), clustered
 * (chains), clustered before the last tenth was recorded (chains with
 * jumps), and with touchpoints held back to the end (chains out of time
 * order), on 1 and 2
 * threads, at two dates, with both reply rules; and a walk that runs out
 * of memory fails cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "demo_store.h"
#include "store/store_internal.h"
#include "testutil_alloc.h"

enum { DATES = 2, RULES = 2, CASES = DATES * RULES };

static const int64_t dates[DATES] = {DEMO_T_END, DEMO_T_END - 120 * DEMO_DAY};

/* Every guide's row for each (date, reply rule), into rows[case][guide]
 * (n guides); the caller frees rows[case]. */
static void all_figures(pd_store *s, pd_guide_figures_row *rows[CASES],
                        size_t *n) {
  for (int c = 0; c < CASES; c++) {
    pd_metrics_filter f = PD_METRICS_FILTER_INIT;
    f.as_of = dates[c / RULES];
    pd_guide_figures_options o = PD_GUIDE_FIGURES_OPTIONS_INIT;
    o.reply_same_guide = c % RULES;
    pd_rows *r = NULL;
    assert_int_equal(pd_guide_figures_compute(s, &f, &o, &r), PD_OK);
    *n = pd_rows_count(r);
    rows[c] = calloc(*n + 1, sizeof **rows);
    assert_non_null(rows[c]);
    for (size_t i = 0; i < *n; i++) {
      rows[c][i] = (pd_guide_figures_row)PD_GUIDE_FIGURES_ROW_INIT;
      assert_int_equal(pd_guide_figures_row_get(r, i, &rows[c][i]), PD_OK);
    }
    pd_rows_free(r);
  }
}

static void assert_same_rows(const pd_guide_figures_row *a,
                             const pd_guide_figures_row *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(a[i].guide, b[i].guide);
    assert_int_equal(a[i].users_bound, b[i].users_bound);
    assert_int_equal(a[i].orders, b[i].orders);
    assert_int_equal(a[i].revenue, b[i].revenue);
    assert_int_equal(a[i].commission, b[i].commission);
    assert_int_equal(a[i].inbound, b[i].inbound);
    assert_int_equal(a[i].replied, b[i].replied);
    assert_true(a[i].reply_rate == b[i].reply_rate);
    assert_true(a[i].reply_median_seconds == b[i].reply_median_seconds);
    assert_int_equal(a[i].unlinks, b[i].unlinks);
    assert_int_equal(a[i].user_unlinks, b[i].user_unlinks);
  }
}

/* The figures of the store as recorded in time order: the grouping. */
static pd_guide_figures_row *want[CASES];
static size_t want_n;

static int want_setup(void **state) {
  if (demo_group_setup(state)) return -1;
  pd_store *s = demo_store_clustered_at(*state, NULL, NULL, SIZE_MAX);
  all_figures(s, want, &want_n);
  pd_store_free(s);
  return 0;
}

static int want_teardown(void **state) {
  for (int c = 0; c < CASES; c++) free(want[c]);
  return demo_group_teardown(state);
}

/* s's figures on 1 and 2 threads equal want's, and are not trivial. */
static void assert_figures_as_wanted(pd_store *s) {
  uint64_t replied = 0;
  for (int threads = 1; threads <= 2; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    pd_guide_figures_row *got[CASES];
    size_t n = 0;
    all_figures(s, got, &n);
    assert_int_equal(n, want_n);
    for (int c = 0; c < CASES; c++) {
      assert_same_rows(got[c], want[c], n);
      for (size_t i = 0; i < n; i++) replied += got[c][i].replied;
      free(got[c]);
    }
  }
  assert_true(replied > 100);
}

static void as_recorded_the_column_is_grouped(void **state) {
  pd_store *s = demo_store_clustered_at(*state, NULL, NULL, SIZE_MAX);
  assert_int_equal(pd_st_chains_run_down(s, PD_EV_TOUCH), 0);
  assert_figures_as_wanted(s);
  pd_store_free(s);
}

static void clustered_the_chains_are_walked(void **state) {
  const demo_data *d = *state;
  pd_store *s = demo_store_clustered_at(d, NULL, NULL, d->n_records);
  assert_int_equal(pd_st_chains_run_down(s, PD_EV_TOUCH), 1);
  assert_figures_as_wanted(s);
  pd_store_free(s);
}

static void recorded_after_clustering_the_chains_jump(void **state) {
  const demo_data *d = *state;
  pd_store *s = demo_store_clustered_at(d, NULL, NULL, d->n_records / 10 * 9);
  assert_int_equal(pd_st_chains_run_down(s, PD_EV_TOUCH), 1);
  assert_figures_as_wanted(s);
  pd_store_free(s);
}

/* Every seventh touchpoint held back and recorded after everything else,
 * then clustered: those chains list touchpoints out of time order. */
static void held_back_then_clustered_the_walk_sorts(void **state) {
  const demo_data *d = *state;
  size_t n = d->n_records, k = 0, touches = 0;
  size_t *order = malloc(n * sizeof *order);
  assert_non_null(order);
  for (size_t i = 0; i < n; i++)
    if (d->records[i].kind != DEMO_TOUCH || touches++ % 7 != 0)
      order[k++] = i;
  for (size_t i = 0, t = 0; i < n; i++)
    if (d->records[i].kind == DEMO_TOUCH && t++ % 7 == 0) order[k++] = i;
  assert_int_equal(k, n);
  pd_store *s = demo_store_clustered_at(d, NULL, order, n);
  assert_int_equal(pd_st_chains_run_down(s, PD_EV_TOUCH), 1);
  assert_figures_as_wanted(s);
  pd_store_free(s);
  free(order);
}

/* Every allocation of the walked figures refused in turn: PD_E_NOMEM with
 * nothing left allocated, until one run needs no more. */
static void a_walk_out_of_memory_fails_cleanly(void **state) {
  const demo_data *d = *state;
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_store *s = demo_store_clustered_at(d, &a, NULL, d->n_records);
  assert_int_equal(pd_st_chains_run_down(s, PD_EV_TOUCH), 1);
  assert_int_equal(pd_store_set_spare_limit(s, 0), PD_OK);
  long live = atomic_load(&ta.live);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = DEMO_T_END;
  long k = 1;
  for (;; k++) {
    test_alloc_fail_in(&ta, k);
    pd_rows *r = NULL;
    pd_status st = pd_guide_figures_compute(s, &f, NULL, &r);
    test_alloc_fail_in(&ta, 0);
    if (st == PD_OK) {
      assert_int_equal(pd_rows_count(r), want_n);
      pd_rows_free(r);
      break;
    }
    assert_int_equal(st, PD_E_NOMEM);
    assert_null(r);
    assert_int_equal(atomic_load(&ta.live), live);
  }
  assert_true(k > 10);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(as_recorded_the_column_is_grouped),
      cmocka_unit_test(clustered_the_chains_are_walked),
      cmocka_unit_test(recorded_after_clustering_the_chains_jump),
      cmocka_unit_test(held_back_then_clustered_the_walk_sorts),
      cmocka_unit_test(a_walk_out_of_memory_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, want_setup, want_teardown);
}
