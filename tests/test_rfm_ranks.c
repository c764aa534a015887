/* Specification of RFM quintile scores (segments.h) on a store with many
 * ties: every buyer's three scores equal the definition, computed here by
 * sorting the buyers (key ascending, ties by the larger user id first;
 * rank r scores 1 + floor(5 r / n)), on 1, 2 and 3 threads, for a
 * population filtered by source, and for every size from 1 to 12 buyers. Also built
 * with blocks of 8 users (test_rfm_ranks_blocks), so that the selection's
 * counts and ties span many blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_testutil.h"

#define T0 INT64_C(1735689600) /* 2025-01-01 */
#define DAY INT64_C(86400)
#define USERS 3000

typedef struct buyer {
  pd_rfm_row row;
  int measure;
} buyer;

/* Ascending key, then the larger id first. */
static int worse_first(const void *pa, const void *pb) {
  const buyer *a = pa, *b = pb;
  int c = 0;
  switch (a->measure) {
    case 0: /* a longer recency is worse */
      c = (a->row.recency_days < b->row.recency_days) -
          (a->row.recency_days > b->row.recency_days);
      break;
    case 1:
      c = (a->row.frequency > b->row.frequency) -
          (a->row.frequency < b->row.frequency);
      break;
    default:
      c = (a->row.monetary > b->row.monetary) -
          (a->row.monetary < b->row.monetary);
  }
  if (c) return c;
  return (a->row.user < b->row.user) - (a->row.user > b->row.user);
}

static int by_user(const void *pa, const void *pb) {
  const buyer *a = pa, *b = pb;
  return (a->row.user > b->row.user) - (a->row.user < b->row.user);
}

/* The rows' scores against the definition applied to the rows' values. */
static void assert_scores_by_definition(const pd_rows *rows) {
  size_t n = pd_rows_count(rows);
  buyer *b = calloc(n + 1, sizeof *b);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++) {
    b[i].row = (pd_rfm_row)PD_RFM_ROW_INIT;
    assert_int_equal(pd_rfm_row_get(rows, i, &b[i].row), PD_OK);
    if (i > 0) assert_true(b[i - 1].row.user < b[i].row.user);
  }
  for (int k = 0; k < 3; k++) {
    for (size_t i = 0; i < n; i++) b[i].measure = k;
    qsort(b, n, sizeof *b, worse_first);
    for (size_t r = 0; r < n; r++) {
      int32_t want = 1 + (int32_t)(5 * r / n);
      int32_t got = k == 0   ? b[r].row.r_score
                    : k == 1 ? b[r].row.f_score
                             : b[r].row.m_score;
      if (got != want)
        fail_msg("measure %d, rank %zu of %zu (user %llu): score %d, want %d",
                 k, r, n, (unsigned long long)b[r].row.user, (int)got,
                 (int)want);
    }
    qsort(b, n, sizeof *b, by_user);
  }
  for (size_t i = 0; i < n; i++)
    assert_int_equal(b[i].row.segment,
                     pd_segment_from_scores(b[i].row.r_score,
                                            b[i].row.f_score));
  free(b);
}

/* Buyers with few distinct values (ties at every boundary): 1-4 orders
 * on a handful of days, amounts from a short list, some refunded in full
 * (net 0), some spending past 2^32 minor units; every 7th user never
 * buys. Sources alternate over 12 labels, for filtered populations. */
static pd_store *tied_store(uint32_t *sources) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  for (int k = 0; k < 12; k++) {
    char name[16];
    snprintf(name, sizeof name, "src%d", k);
    assert_true(pd_label_ensure(s, PD_LABEL_SOURCE, name, PD_NTS,
                                &sources[k]) >= 0);
  }
  static const int64_t amounts[] = {990, 1990, 1990, 5000, 12800};
  uint64_t x = 12345;
  for (int i = 0; i < USERS; i++) {
    char key[16];
    snprintf(key, sizeof key, "u%d", i);
    pd_user_id u = mt_user(s, key);
    mt_link_src(s, u, PD_CHANNEL_WECOM, sources[i % 12], 0, T0);
    if (i % 7 == 3) continue;
    x = x * 6364136223846793005u + 1442695040888963407u;
    int orders = 1 + (int)((x >> 33) % 4);
    for (int o = 0; o < orders; o++) {
      int64_t day = 1 + (int64_t)((x >> (20 + 3 * o)) % 6) * 10;
      int64_t amount = amounts[(x >> (40 + 2 * o)) % 5];
      if (i % 97 == 0) amount += INT64_C(5000000000); /* past 2^32 */
      uint64_t id = mt_order(s, u, amount, T0 + day * DAY + o * 3600);
      if (i % 41 == 0) mt_refund(s, id, amount, T0 + 70 * DAY);
    }
  }
  return s;
}

static void scores_follow_the_definition_on_every_thread_count(void **st) {
  (void)st;
  uint32_t sources[12];
  pd_store *s = tied_store(sources);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0 + 90 * DAY;
  pd_rows *first = NULL;
  for (int32_t threads = 1; threads <= 3; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    pd_rows *rows = NULL;
    assert_int_equal(pd_rfm_compute(s, &f, &rows), PD_OK);
    assert_true(pd_rows_count(rows) > 2000);
    assert_scores_by_definition(rows);
    if (!first) {
      first = rows;
      continue;
    }
    assert_int_equal(pd_rows_count(rows), pd_rows_count(first));
    for (size_t i = 0; i < pd_rows_count(rows); i++) {
      pd_rfm_row a = PD_RFM_ROW_INIT, b = PD_RFM_ROW_INIT;
      pd_rfm_row_get(first, i, &a);
      pd_rfm_row_get(rows, i, &b);
      assert_memory_equal(&a, &b, sizeof a);
    }
    pd_rows_free(rows);
  }
  pd_rows_free(first);
  /* A filtered population: the buyers of one source. */
  f.source = sources[5];
  pd_rows *rows = NULL;
  assert_int_equal(pd_rfm_compute(s, &f, &rows), PD_OK);
  assert_true(pd_rows_count(rows) > 150 && pd_rows_count(rows) < 300);
  assert_scores_by_definition(rows);
  pd_rows_free(rows);
  pd_store_free(s);
}

/* Populations of 1 to 12 buyers, where boundaries share a rank or fall
 * past the last buyer, with ties among them. */
static void small_populations_follow_the_definition(void **st) {
  (void)st;
  for (int n = 1; n <= 12; n++) {
    pd_store *s = NULL;
    assert_int_equal(pd_store_new(NULL, &s), PD_OK);
    assert_int_equal(pd_store_set_threads(s, 2), PD_OK);
    for (int i = 0; i < n; i++) {
      char key[16];
      snprintf(key, sizeof key, "u%d", i);
      pd_user_id u = mt_user(s, key);
      for (int o = 0; o <= i % 2; o++)
        mt_order(s, u, 1000 + 500 * (i % 3), T0 + (i % 4 + o) * DAY);
    }
    pd_metrics_filter f = PD_METRICS_FILTER_INIT;
    f.as_of = T0 + 30 * DAY;
    pd_rows *rows = NULL;
    assert_int_equal(pd_rfm_compute(s, &f, &rows), PD_OK);
    assert_int_equal(pd_rows_count(rows), (size_t)n);
    assert_scores_by_definition(rows);
    pd_rows_free(rows);
    pd_store_free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(scores_follow_the_definition_on_every_thread_count),
      cmocka_unit_test(small_populations_follow_the_definition),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
