/* Specification of customer-summary partials
 * (include/privdomain/summary_partial.h) and of the exact sums under them
 * (src/core/exact_sum.h): partitions summarised apart and merged give the
 * very rows one summary over everything gives. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "core/crc32c.h"
#include "core/exact_sum.h"
#include "sim_rng.h"
#include "testutil_alloc.h"

#define DAY INT64_C(86400)

/* ---- transactions ---- */

typedef struct tx {
  char id[16];
  int64_t time;
  double amount;
  size_t ord; /* the customer's rank in order of first appearance */
} tx;

typedef struct txs {
  tx *t;
  size_t n, customers;
} txs;

/* Seconds at 00:00 UTC of yyyymmdd, written independently of the library. */
static int64_t ymd(long v) {
  int y = (int)(v / 10000), m = (int)(v / 100 % 100), d = (int)(v % 100);
  static const int cum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304,
                            334};
  int64_t days = 0;
  for (int yy = 1970; yy < y; yy++)
    days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
  days += cum[m - 1] + d - 1;
  if (m > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) days++;
  return days * DAY;
}

/* The path of a shared data set, or NULL (skip; a failure when CI=true). */
static const char *dataset(char *buf, size_t cap, const char *name) {
  const char *dir = getenv("PD_DATASETS");
  if (dir) {
    snprintf(buf, cap, "%s/%s", dir, name);
    FILE *f = fopen(buf, "rb");
    if (f) {
      fclose(f);
      return buf;
    }
  }
  const char *ci = getenv("CI");
  if (ci && strcmp(ci, "true") == 0)
    fail_msg("data set %s not found (PD_DATASETS=%s)", name,
             dir ? dir : "(unset)");
  return NULL;
}

/* CDNOW's 1/10 sample in file order (customer, then date). Each purchase
 * gets a time of day of its own, so cuts inside a day split real days. */
static int load_cdnow(txs *out) {
  char path[1024];
  if (!dataset(path, sizeof path, "CDNOW_sample.txt")) return 0;
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t cap = 8192;
  out->t = calloc(cap, sizeof *out->t);
  out->n = out->customers = 0;
  long id, id2, date, cds;
  double amount;
  while (fscanf(f, "%ld %ld %ld %ld %lf", &id, &id2, &date, &cds, &amount) ==
         5) {
    assert_true(out->n < cap);
    tx *t = &out->t[out->n];
    snprintf(t->id, sizeof t->id, "%ld", id);
    /* The file is grouped by customer: a new id is a new customer. */
    if (out->n == 0 || strcmp(t->id, out->t[out->n - 1].id) != 0)
      out->customers++;
    t->ord = out->customers - 1;
    t->time = ymd(date) + (int64_t)((out->n * 7919u) % 86400u);
    t->amount = amount;
    out->n++;
  }
  fclose(f);
  assert_int_equal(out->n, 6919);
  assert_int_equal(out->customers, 2357);
  return 1;
}

/* A synthetic domain with many purchases per day and amounts of very
 * different sizes, where summing in another order changes the bits. */
static void make_synthetic(txs *out, size_t customers, uint64_t seed) {
  sim_rng r = {seed};
  size_t cap = customers * 40;
  out->t = calloc(cap, sizeof *out->t);
  out->n = 0;
  out->customers = customers;
  for (size_t c = 0; c < customers; c++) {
    size_t k = 1 + (size_t)(sim_uniform(&r) * 30);
    int64_t day = ymd(19970101) / DAY + (int64_t)(sim_uniform(&r) * 300);
    for (size_t i = 0; i < k; i++) {
      tx *t = &out->t[out->n++];
      snprintf(t->id, sizeof t->id, "c%zu", c);
      t->ord = c;
      if (sim_uniform(&r) < 0.4) day += 1 + (int64_t)(sim_uniform(&r) * 40);
      t->time = day * DAY + (int64_t)(sim_uniform(&r) * 86400);
      double u = sim_uniform(&r);
      t->amount = u < 0.1   ? 0.0
                  : u < 0.2 ? 1e9 * sim_uniform(&r)
                            : 0.01 * (double)(1 + (int)(u * 9999));
    }
  }
}

static pd_summary *new_summary(void) {
  pd_summary *s = NULL;
  assert_int_equal(pd_summary_new(NULL, &s), PD_OK);
  return s;
}

static void add_range(pd_summary *s, const txs *d, const size_t *idx,
                      size_t n) {
  for (size_t i = 0; i < n; i++) {
    const tx *t = &d->t[idx ? idx[i] : i];
    const char *id = t->id;
    assert_int_equal(pd_summary_add(s, &id, NULL, &t->time, &t->amount, 1),
                     PD_OK);
  }
}

static pd_summary_spec cdnow_spec(int holdout) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = ymd(19970930) + DAY - 1;
  spec.observation_end = holdout ? ymd(19980630) + DAY - 1
                                 : PD_SUMMARY_NO_HOLDOUT;
  spec.unit = PD_TIME_UNIT_WEEK;
  return spec;
}

/* Serialises the transactions idx[0, n) of d as one partition. */
static pd_bytes *partial_of(const txs *d, const size_t *idx, size_t n,
                            const pd_summary_spec *spec) {
  pd_summary *s = new_summary();
  add_range(s, d, idx, n);
  pd_bytes *b = NULL;
  assert_int_equal(pd_summary_partial_save(s, spec, &b), PD_OK);
  pd_summary_free(s);
  return b;
}

/* ---- comparing results ---- */

static const double *col(const pd_summary *s, int32_t c) {
  const double *v = NULL;
  assert_int_equal(pd_summary_column(s, c, &v), PD_OK);
  return v;
}

static size_t row_of(const pd_summary *s, const char *id) {
  for (size_t r = 0; r < pd_summary_rows(s); r++) {
    const char *x;
    assert_int_equal(pd_summary_id(s, r, &x, NULL), PD_OK);
    if (strcmp(x, id) == 0) return r;
  }
  fail_msg("customer %s has no row", id);
  return 0;
}

/* Every row of `got` equals the row of the same customer in `want`, bit
 * for bit; with same_order also in the same position. */
static void assert_same_rows(const pd_summary *want, const pd_summary *got,
                             int holdout, int same_order) {
  size_t n = pd_summary_rows(want);
  assert_int_equal(pd_summary_rows(got), n);
  static const int32_t cols[] = {PD_SUMMARY_X, PD_SUMMARY_T_X, PD_SUMMARY_T,
                                 PD_SUMMARY_MONETARY, PD_SUMMARY_X_HOLDOUT};
  for (size_t r = 0; r < n; r++) {
    const char *id;
    assert_int_equal(pd_summary_id(want, r, &id, NULL), PD_OK);
    size_t g = same_order ? r : row_of(got, id);
    if (same_order) {
      const char *gid;
      assert_int_equal(pd_summary_id(got, g, &gid, NULL), PD_OK);
      assert_string_equal(gid, id);
    }
    for (size_t c = 0; c < (holdout ? 5u : 4u); c++) {
      double a = col(want, cols[c])[r], b = col(got, cols[c])[g];
      if (memcmp(&a, &b, sizeof a) != 0)
        fail_msg("customer %s column %d: %.17g merged, %.17g in one summary",
                 id, (int)cols[c], b, a);
    }
  }
}

static pd_summary *whole(const txs *d, const pd_summary_spec *spec) {
  pd_summary *s = new_summary();
  add_range(s, d, NULL, d->n);
  assert_int_equal(pd_summary_compute(s, spec), PD_OK);
  return s;
}

/* Loads parts[order[i]] for i < k into a fresh handle and computes. */
static pd_summary *merged(pd_bytes **parts, const size_t *order, size_t k,
                          const pd_summary_spec *spec) {
  pd_summary *s = new_summary();
  for (size_t i = 0; i < k; i++) {
    pd_bytes *b = parts[order ? order[i] : i];
    pd_status st = pd_summary_partial_load(s, pd_bytes_data(b),
                                           pd_bytes_size(b));
    if (st != PD_OK) fail_msg("load %zu: %s", i, pd_summary_errmsg(s));
  }
  assert_int_equal(pd_summary_compute(s, spec), PD_OK);
  return s;
}

static void free_parts(pd_bytes **parts, size_t k) {
  for (size_t i = 0; i < k; i++) pd_bytes_free(parts[i]);
}

/* Splits d into k partitions by a function of the transaction. */
typedef size_t (*part_fn)(const txs *d, size_t i, size_t k, void *ctx);

static void split(const txs *d, size_t k, part_fn f, void *ctx,
                  const pd_summary_spec *spec, pd_bytes **parts) {
  size_t *idx = malloc(d->n * sizeof *idx);
  for (size_t p = 0; p < k; p++) {
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
      if (f(d, i, k, ctx) == p) idx[n++] = i;
    parts[p] = partial_of(d, idx, n, spec);
  }
  free(idx);
}

static size_t by_customer(const txs *d, size_t i, size_t k, void *ctx) {
  (void)ctx;
  /* Contiguous ranges of the file's customers: keeps first appearance. */
  return d->t[i].ord * k / d->customers;
}

static size_t by_chunk(const txs *d, size_t i, size_t k, void *ctx) {
  (void)ctx;
  return i * k / d->n;
}

/* Time cuts: partition p holds times in (cuts[p-1], cuts[p]]. */
static size_t by_time(const txs *d, size_t i, size_t k, void *ctx) {
  const int64_t *cuts = ctx;
  size_t p = 0;
  while (p + 1 < k && d->t[i].time > cuts[p]) p++;
  return p;
}

static const size_t shuffled7[] = {4, 1, 6, 0, 3, 5, 2};

/* ---- exact sums ---- */

static double xsum(const double *v, size_t n) {
  pd_xacc a;
  pd_xacc_init(&a);
  for (size_t i = 0; i < n; i++) pd_xacc_add(&a, v[i]);
  return pd_xacc_value(&a);
}

static void exact_sum_rounds_once_to_nearest_even(void **state) {
  (void)state;
  const double big = 9007199254740992.0; /* 2^53 */
  const double a[] = {big, 1.0, 1.0};
  assert_true(xsum(a, 3) == big + 2.0); /* doubles: (2^53+1)+1 = 2^53 */
  const double tie[] = {big, 1.0};
  assert_true(xsum(tie, 2) == big); /* tie to even */
  const double up[] = {big, 3.0};
  assert_true(xsum(up, 2) == big + 4.0);
  const double sticky[] = {big, 1.0, 0x1p-60};
  assert_true(xsum(sticky, 3) == big + 2.0); /* above the tie: up */
  const double cents[] = {0.1, 0.2};
  assert_true(xsum(cents, 2) == 0.1 + 0.2);
  const double tiny[] = {0x1p-1074, 0x1p-1074, 0x1p-1074};
  assert_true(xsum(tiny, 3) == 0x3p-1074);
  const double huge[] = {0x1.fffffffffffffp1023, 0x1p970};
  assert_true(xsum(huge, 2) == INFINITY); /* beyond DBL_MAX: rounds up */
  const double wide[] = {1e300, 1e-300, 1e-300};
  assert_true(xsum(wide, 3) == 1e300);
}

static void exact_sum_does_not_depend_on_order_or_grouping(void **state) {
  (void)state;
  sim_rng r = {42};
  enum { N = 2000 };
  double v[N];
  for (size_t i = 0; i < N; i++)
    v[i] = sim_uniform(&r) * pow(10.0, (int)(sim_uniform(&r) * 30) - 10);
  double forward = xsum(v, N);
  double rev[N];
  for (size_t i = 0; i < N; i++) rev[i] = v[N - 1 - i];
  assert_true(xsum(rev, N) == forward);
  /* Partial sums stored and added back give the same bits. */
  pd_xacc a, b, t;
  pd_xacc_init(&a);
  pd_xacc_init(&b);
  pd_xacc_init(&t);
  uint32_t xa[PD_XNUM_MAX_WORDS], xb[PD_XNUM_MAX_WORDS];
  for (size_t i = 0; i < N / 3; i++) pd_xacc_add(&a, v[i]);
  for (size_t i = N / 3; i < N; i++) pd_xacc_add(&b, v[i]);
  pd_xacc_store(&a, xa);
  pd_xacc_store(&b, xb);
  pd_xacc_add_xnum(&t, xb);
  pd_xacc_add_xnum(&t, xa);
  assert_true(pd_xacc_value(&t) == forward);
  pd_xacc_sub_xnum(&t, xb);
  assert_true(pd_xacc_value(&t) == xsum(v, N / 3));
  /* The plain double sum differs here: the point of exact sums. */
  double plain = 0, plain_rev = 0;
  for (size_t i = 0; i < N; i++) plain += v[i];
  for (size_t i = 0; i < N; i++) plain_rev += rev[i];
  assert_true(plain != plain_rev || plain != forward);
}

/* ---- merging CDNOW ---- */

static void cdnow_split_by_customer_merges_to_the_single_summary(
    void **state) {
  (void)state;
  txs d;
  if (!load_cdnow(&d)) {
    print_message("CDNOW_sample.txt not found: set PD_DATASETS\n");
    skip();
  }
  for (int holdout = 0; holdout <= 1; holdout++) {
    pd_summary_spec spec = cdnow_spec(holdout);
    pd_summary *want = whole(&d, &spec);
    assert_int_equal(pd_summary_rows(want), 2357);
    pd_bytes *parts[7];
    split(&d, 7, by_customer, NULL, &spec, parts);
    pd_summary *got = merged(parts, NULL, 7, &spec);
    assert_same_rows(want, got, holdout, 1);
    pd_summary_free(got);
    got = merged(parts, shuffled7, 7, &spec);
    assert_same_rows(want, got, holdout, 0);
    pd_summary_free(got);
    free_parts(parts, 7);
    pd_summary_free(want);
  }
  free(d.t);
}

static void cdnow_file_chunks_merge_in_order_and_in_any_order(void **state) {
  (void)state;
  txs d;
  if (!load_cdnow(&d)) {
    print_message("CDNOW_sample.txt not found: set PD_DATASETS\n");
    skip();
  }
  pd_summary_spec spec = cdnow_spec(1);
  pd_summary *want = whole(&d, &spec);
  pd_bytes *parts[7];
  split(&d, 7, by_chunk, NULL, &spec, parts);
  pd_summary *got = merged(parts, NULL, 7, &spec);
  assert_same_rows(want, got, 1, 1);
  pd_summary_free(got);
  got = merged(parts, shuffled7, 7, &spec);
  assert_same_rows(want, got, 1, 0);
  pd_summary_free(got);
  free_parts(parts, 7);
  /* Chunks of 7 transactions: customers span several chunks. */
  size_t k = (d.n + 6) / 7;
  pd_bytes **small = calloc(k, sizeof *small);
  size_t *order = calloc(k, sizeof *order);
  for (size_t p = 0; p < k; p++) {
    size_t idx[7], n = 0;
    for (size_t i = p * 7; i < d.n && i < p * 7 + 7; i++) idx[n++] = i;
    small[p] = partial_of(&d, idx, n, &spec);
    order[p] = (p * 389) % k; /* a permutation: 389 is prime to k */
  }
  got = merged(small, NULL, k, &spec);
  assert_same_rows(want, got, 1, 1);
  pd_summary_free(got);
  got = merged(small, order, k, &spec);
  assert_same_rows(want, got, 1, 0);
  pd_summary_free(got);
  free_parts(small, k);
  free(small);
  free(order);
  pd_summary_free(want);
  free(d.t);
}

static void cdnow_split_by_time_at_day_boundaries_and_inside_days(
    void **state) {
  (void)state;
  txs d;
  if (!load_cdnow(&d)) {
    print_message("CDNOW_sample.txt not found: set PD_DATASETS\n");
    skip();
  }
  pd_summary_spec spec = cdnow_spec(1);
  pd_summary *want = whole(&d, &spec);
  /* A calibration day boundary, cuts inside days (calibration, the
   * calibration end's own second, holdout), and a holdout boundary. */
  int64_t cuts[6] = {ymd(19970201) - 1,          ymd(19970315) + 43210,
                     ymd(19970601) + 7,          spec.calibration_end,
                     ymd(19980101) + 50000,      ymd(19980401) - 1};
  pd_bytes *parts[7];
  split(&d, 7, by_time, cuts, &spec, parts);
  pd_summary *got = merged(parts, NULL, 7, &spec);
  assert_same_rows(want, got, 1, 0);
  pd_summary_free(got);
  got = merged(parts, shuffled7, 7, &spec);
  assert_same_rows(want, got, 1, 0);
  pd_summary_free(got);
  free_parts(parts, 7);
  pd_summary_free(want);
  free(d.t);
}

static void many_purchases_a_day_cut_inside_days_merge_bit_for_bit(
    void **state) {
  (void)state;
  txs d;
  make_synthetic(&d, 400, 7);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = ymd(19970801) + 40000;
  spec.observation_end = ymd(19980101) + 1000;
  pd_summary *want = whole(&d, &spec);
  int64_t cuts[6];
  for (int i = 0; i < 6; i++)
    cuts[i] = ymd(19970201) + i * 45 * DAY + 1000 * (i + 1);
  pd_bytes *parts[7];
  split(&d, 7, by_time, cuts, &spec, parts);
  pd_summary *got = merged(parts, shuffled7, 7, &spec);
  assert_same_rows(want, got, 1, 0);
  pd_summary_free(got);
  free_parts(parts, 7);
  /* Added in reverse, the transactions give the same bits too. */
  pd_summary *rev = new_summary();
  size_t *idx = malloc(d.n * sizeof *idx);
  for (size_t i = 0; i < d.n; i++) idx[i] = d.n - 1 - i;
  add_range(rev, &d, idx, d.n);
  assert_int_equal(pd_summary_compute(rev, &spec), PD_OK);
  assert_same_rows(want, rev, 1, 0);
  pd_summary_free(rev);
  free(idx);
  pd_summary_free(want);
  free(d.t);
}

static void partials_of_partials_reduce_like_a_tree(void **state) {
  (void)state;
  txs d;
  make_synthetic(&d, 300, 11);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = ymd(19970901);
  spec.observation_end = ymd(19980201);
  pd_summary *want = whole(&d, &spec);
  int64_t cuts[3] = {ymd(19970301) + 500, ymd(19970601) + 600,
                     ymd(19971001) + 700};
  pd_bytes *parts[4];
  split(&d, 4, by_time, cuts, &spec, parts);
  /* (0 + 2) and (1 + 3), saved again, then merged: runs that did not
   * touch at the first level join at the second. */
  pd_bytes *level[2];
  for (int i = 0; i < 2; i++) {
    pd_summary *s = new_summary();
    for (int j = i; j < 4; j += 2)
      assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(parts[j]),
                                               pd_bytes_size(parts[j])),
                       PD_OK);
    assert_int_equal(pd_summary_partial_save(s, &spec, &level[i]), PD_OK);
    pd_summary_free(s);
  }
  pd_summary *got = merged(level, NULL, 2, &spec);
  assert_same_rows(want, got, 1, 0);
  pd_summary_free(got);
  free_parts(level, 2);
  free_parts(parts, 4);
  pd_summary_free(want);
  free(d.t);
}

static void a_handle_merges_its_own_transactions_with_loaded_partials(
    void **state) {
  (void)state;
  txs d;
  make_synthetic(&d, 200, 5);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = ymd(19970901) + 100;
  spec.observation_end = ymd(19980201);
  pd_summary *want = whole(&d, &spec);
  int64_t cut = ymd(19970501) + 3000;
  size_t *early = malloc(d.n * sizeof *early);
  size_t *late = malloc(d.n * sizeof *late);
  size_t ne = 0, nl = 0;
  for (size_t i = 0; i < d.n; i++) {
    if (d.t[i].time <= cut)
      early[ne++] = i;
    else
      late[nl++] = i;
  }
  pd_bytes *b = partial_of(&d, late, nl, &spec);
  pd_summary *s = new_summary();
  add_range(s, &d, early, ne);
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(b),
                                           pd_bytes_size(b)),
                   PD_OK);
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  assert_same_rows(want, s, 1, 0);
  /* Computing in weeks uses the same state. */
  spec.unit = PD_TIME_UNIT_WEEK;
  assert_int_equal(pd_summary_compute(want, &spec), PD_OK);
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  assert_same_rows(want, s, 1, 0);
  pd_summary_free(s);
  pd_bytes_free(b);
  free(early);
  free(late);
  pd_summary_free(want);
  free(d.t);
}

/* ---- refusals ---- */

static pd_bytes *save_bytes(pd_summary *s, const pd_summary_spec *spec) {
  pd_bytes *b = NULL;
  assert_int_equal(pd_summary_partial_save(s, spec, &b), PD_OK);
  return b;
}

static void assert_same_bytes(const pd_bytes *a, const pd_bytes *b) {
  assert_int_equal(pd_bytes_size(a), pd_bytes_size(b));
  assert_memory_equal(pd_bytes_data(a), pd_bytes_data(b), pd_bytes_size(a));
}

static pd_bytes *one(const char *id, const int64_t *days, size_t n,
                     const pd_summary_spec *spec) {
  pd_summary *s = new_summary();
  for (size_t i = 0; i < n; i++) {
    int64_t t = days[i] * DAY + 3600;
    double amount = 10.0 + (double)i;
    assert_int_equal(pd_summary_add(s, &id, NULL, &t, &amount, 1), PD_OK);
  }
  pd_bytes *b = save_bytes(s, spec);
  pd_summary_free(s);
  return b;
}

static void overlapping_pieces_of_a_customer_are_refused_unchanged(
    void **state) {
  (void)state;
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = 100 * DAY;
  int64_t a_days[] = {10, 20}, b_days[] = {15}, c_days[] = {20, 30},
          e_days[] = {5, 10};
  pd_bytes *a = one("alice", a_days, 2, &spec);
  pd_bytes *b = one("alice", b_days, 1, &spec);
  pd_bytes *c = one("alice", c_days, 2, &spec);
  pd_bytes *e = one("alice", e_days, 2, &spec);
  pd_summary *s = new_summary();
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(a),
                                           pd_bytes_size(a)),
                   PD_OK);
  pd_bytes *before = save_bytes(s, &spec);
  /* Day 15 lies inside alice's days 10..20: was it a purchase day? */
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(b),
                                           pd_bytes_size(b)),
                   PD_E_CONFLICT);
  assert_non_null(strstr(pd_summary_errmsg(s), "alice"));
  pd_bytes *after = save_bytes(s, &spec);
  assert_same_bytes(before, after);
  pd_bytes_free(after);
  /* Sharing one end day on both sides is exact: 5, 10, 20, 30. */
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(c),
                                           pd_bytes_size(c)),
                   PD_OK);
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(e),
                                           pd_bytes_size(e)),
                   PD_OK);
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  assert_true(col(s, PD_SUMMARY_X)[0] == 3.0);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 25.0);
  /* Repeat days 10 (10 + 11), 20 (11 + 10), 30 (11): 53 / 3. */
  assert_true(col(s, PD_SUMMARY_MONETARY)[0] == 53.0 / 3.0);
  /* Own transactions inside a loaded run: found by compute and save. */
  const char *id = "alice";
  int64_t t = 12 * DAY;
  double amount = 1;
  assert_int_equal(pd_summary_add(s, &id, NULL, &t, &amount, 1), PD_OK);
  assert_int_equal(pd_summary_compute(s, &spec), PD_E_CONFLICT);
  assert_true(col(s, PD_SUMMARY_X)[0] == 3.0); /* previous result kept */
  pd_bytes *out = NULL;
  assert_int_equal(pd_summary_partial_save(s, &spec, &out), PD_E_CONFLICT);
  assert_null(out);
  pd_summary_free(s);
  pd_bytes_free(before);
  pd_bytes_free(a);
  pd_bytes_free(b);
  pd_bytes_free(c);
  pd_bytes_free(e);
}

static void partials_for_other_ends_do_not_mix(void **state) {
  (void)state;
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT, other = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = 100 * DAY;
  other.calibration_end = 101 * DAY;
  int64_t days[] = {10};
  pd_bytes *a = one("bob", days, 1, &spec), *b = one("carol", days, 1, &other);
  pd_summary *s = new_summary();
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(a),
                                           pd_bytes_size(a)),
                   PD_OK);
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(b),
                                           pd_bytes_size(b)),
                   PD_E_CONFLICT);
  assert_int_equal(pd_summary_compute(s, &other), PD_E_CONFLICT);
  pd_bytes *out = NULL;
  assert_int_equal(pd_summary_partial_save(s, &other, &out), PD_E_CONFLICT);
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  assert_int_equal(pd_summary_rows(s), 1);
  size_t n = 0;
  int64_t ce = 0, oe = 0;
  assert_int_equal(pd_summary_partial_customers(pd_bytes_data(b),
                                                pd_bytes_size(b), &ce, &oe,
                                                &n),
                   PD_OK);
  assert_int_equal(n, 1);
  assert_true(ce == 101 * DAY && oe == PD_SUMMARY_NO_HOLDOUT);
  pd_summary_free(s);
  pd_bytes_free(a);
  pd_bytes_free(b);
}

/* A small partial: two customers, calibration and holdout runs. */
static pd_bytes *small_partial(pd_summary_spec *spec) {
  *spec = (pd_summary_spec)PD_SUMMARY_SPEC_INIT;
  spec->calibration_end = 50 * DAY;
  spec->observation_end = 80 * DAY;
  pd_summary *s = new_summary();
  const char *ids[] = {"x1", "x2", "x1", "x1"};
  int64_t t[] = {3 * DAY, 9 * DAY, 20 * DAY + 5, 60 * DAY};
  double m[] = {1.25, 2.5, 0.1, 7};
  assert_int_equal(pd_summary_add(s, ids, NULL, t, m, 4), PD_OK);
  pd_bytes *b = save_bytes(s, spec);
  pd_summary_free(s);
  return b;
}

static void every_bit_flip_and_every_truncation_is_refused(void **state) {
  (void)state;
  pd_summary_spec spec;
  pd_bytes *b = small_partial(&spec);
  size_t n = pd_bytes_size(b);
  unsigned char *copy = malloc(n);
  pd_summary *s = new_summary();
  pd_bytes *empty = save_bytes(s, &spec);
  for (size_t bit = 0; bit < n * 8; bit++) {
    memcpy(copy, pd_bytes_data(b), n);
    copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    pd_status st = pd_summary_partial_load(s, copy, n);
    if (st != PD_E_CORRUPT && st != PD_E_VERSION)
      fail_msg("bit %zu flipped: status %d", bit, (int)st);
  }
  for (size_t len = 0; len < n; len++) {
    assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(b), len),
                     PD_E_CORRUPT);
    size_t k;
    assert_int_equal(pd_summary_partial_customers(pd_bytes_data(b), len,
                                                  NULL, NULL, &k),
                     PD_E_CORRUPT);
  }
  assert_non_null(strstr(pd_summary_errmsg(s), "truncated"));
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  assert_int_equal(pd_summary_rows(s), 0);
  pd_bytes *after = save_bytes(s, &spec);
  assert_same_bytes(empty, after);
  assert_int_equal(pd_summary_partial_load(s, pd_bytes_data(b), n), PD_OK);
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  assert_int_equal(pd_summary_rows(s), 2);
  pd_bytes_free(after);
  pd_bytes_free(empty);
  pd_summary_free(s);
  free(copy);
  pd_bytes_free(b);
}

/* Recomputes the envelope's CRC after a change, as a careless or hostile
 * writer would: what is left to refuse it are the checks of the layout. */
static void reseal(unsigned char *p, size_t n) {
  uint32_t crc = pd_crc32c(0, p, n - 4);
  for (int i = 0; i < 4; i++) p[n - 4 + i] = (unsigned char)(crc >> (8 * i));
}

static void damage_behind_a_good_crc_is_refused_or_harmless(void **state) {
  (void)state;
  pd_summary_spec spec;
  pd_bytes *b = small_partial(&spec);
  size_t n = pd_bytes_size(b);
  unsigned char *copy = malloc(n);
  static const unsigned char values[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff};
  size_t refused = 0, loaded = 0;
  for (size_t at = 16; at < n - 4; at++) {
    for (size_t v = 0; v < sizeof values; v++) {
      memcpy(copy, pd_bytes_data(b), n);
      if (copy[at] == values[v]) continue;
      copy[at] = values[v];
      reseal(copy, n);
      pd_summary *s = new_summary();
      pd_status st = pd_summary_partial_load(s, copy, n);
      if (st == PD_OK) {
        /* Accepted: then it is a consistent partial, and rows are sane. */
        loaded++;
        st = pd_summary_compute(s, &spec);
        if (st == PD_OK) {
          for (size_t r = 0; r < pd_summary_rows(s); r++)
            for (int32_t c = PD_SUMMARY_X; c <= PD_SUMMARY_X_HOLDOUT; c++) {
              double x = col(s, c)[r];
              assert_true(isfinite(x) && x >= 0);
            }
        } else {
          assert_int_equal(st, PD_E_CONFLICT); /* its ends changed */
        }
      } else {
        refused++;
        if (st != PD_E_CORRUPT && st != PD_E_VERSION)
          fail_msg("byte %zu = %u: status %d", at, values[v], (int)st);
        assert_int_equal(pd_summary_rows(s), 0);
      }
      pd_summary_free(s);
    }
  }
  assert_true(refused > loaded);
  /* A customer listed twice is refused. */
  pd_summary *one_tx = new_summary();
  const char *id = "z";
  int64_t t = DAY;
  double m = 2;
  assert_int_equal(pd_summary_add(one_tx, &id, NULL, &t, &m, 1), PD_OK);
  pd_bytes *z = save_bytes(one_tx, &spec);
  size_t zn = pd_bytes_size(z), rec = zn - 16 - 4 - 28; /* one record */
  unsigned char *twice = malloc(zn + rec);
  memcpy(twice, pd_bytes_data(z), zn - 4);
  memcpy(twice + zn - 4, (const unsigned char *)pd_bytes_data(z) + 44, rec);
  twice[36] = 2; /* customers */
  uint64_t len = zn - 20 + rec;
  for (int i = 0; i < 8; i++) twice[8 + i] = (unsigned char)(len >> (8 * i));
  reseal(twice, zn + rec);
  pd_summary *s = new_summary();
  assert_int_equal(pd_summary_partial_load(s, twice, zn + rec), PD_E_CORRUPT);
  assert_non_null(strstr(pd_summary_errmsg(s), "twice"));
  pd_summary_free(s);
  pd_summary_free(one_tx);
  pd_bytes_free(z);
  free(twice);
  free(copy);
  pd_bytes_free(b);
}

static void out_of_memory_anywhere_leaves_dst_unchanged(void **state) {
  (void)state;
  pd_summary_spec spec;
  pd_bytes *b = small_partial(&spec);
  int loaded = 0;
  for (long fail_at = 1; !loaded && fail_at < 200; fail_at++) {
    test_alloc ta;
    test_alloc_init(&ta);
    pd_allocator al = test_alloc_allocator(&ta);
    pd_summary_options o = PD_SUMMARY_OPTIONS_INIT;
    o.allocator = &al;
    pd_summary *s = NULL;
    assert_int_equal(pd_summary_new(&o, &s), PD_OK);
    const char *id = "x2";
    int64_t t = 40 * DAY;
    double m = 3;
    assert_int_equal(pd_summary_add(s, &id, NULL, &t, &m, 1), PD_OK);
    pd_bytes *before = save_bytes(s, &spec);
    atomic_store(&ta.fail_at, atomic_load(&ta.calls) + fail_at);
    pd_status st = pd_summary_partial_load(s, pd_bytes_data(b),
                                           pd_bytes_size(b));
    atomic_store(&ta.fail_at, 0);
    if (st == PD_OK) {
      loaded = 1;
    } else {
      assert_int_equal(st, PD_E_NOMEM);
      pd_bytes *after = save_bytes(s, &spec);
      assert_same_bytes(before, after);
      pd_bytes_free(after);
    }
    /* Saving under the same pressure fails cleanly too. */
    atomic_store(&ta.fail_at, atomic_load(&ta.calls) + fail_at);
    pd_bytes *out = NULL;
    st = pd_summary_partial_save(s, &spec, &out);
    atomic_store(&ta.fail_at, 0);
    assert_true(st == PD_OK || st == PD_E_NOMEM);
    if (st == PD_OK) pd_bytes_free(out);
    pd_bytes_free(before);
    pd_summary_free(s);
    assert_int_equal(atomic_load(&ta.live), 0);
  }
  assert_true(loaded);
  pd_bytes_free(b);
}

/* The byte layout is fixed and little-endian: one customer "a" with 1.50
 * on day 0 and 0.25 on day 2, calibration to the end of day 2. Expected
 * bytes written out by hand from docs/FORMAT.md (CRC-32C computed by an
 * independent implementation). */
static void the_serialised_form_is_fixed_and_little_endian(void **state) {
  (void)state;
  static const char expect_hex[] =
      "50444147010001004900000000000000" /* PDAG v1 kind 1, 73 bytes */
      "01000000"                         /* layout 1 */
      "7ff4030000000000"                 /* calibration_end 259199 */
      "ffffffffffffffff"                 /* no holdout */
      "0100000000000000"                 /* 1 customer */
      "0100000061"                       /* id "a" */
      "01000000000000000200000002000000" /* 1 run: days 0..2, 2 days */
      "21020000008001000000"             /* first-day spend 1.5 */
      "2102000000c001000000"             /* total 1.75 */
      "00000000"                         /* no holdout runs */
      "02bc427c";                        /* CRC-32C */
  pd_summary *s = new_summary();
  const char *ids[] = {"a", "a"};
  int64_t t[] = {0, 2 * DAY + 7};
  double m[] = {1.5, 0.25};
  assert_int_equal(pd_summary_add(s, ids, NULL, t, m, 2), PD_OK);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = 3 * DAY - 1;
  pd_bytes *b = save_bytes(s, &spec);
  size_t n = strlen(expect_hex) / 2;
  assert_int_equal(pd_bytes_size(b), n);
  const unsigned char *p = pd_bytes_data(b);
  char hex[3];
  for (size_t i = 0; i < n; i++) {
    snprintf(hex, sizeof hex, "%02x", p[i]);
    if (memcmp(hex, expect_hex + 2 * i, 2) != 0)
      fail_msg("byte %zu is %s, expected %.2s", i, hex, expect_hex + 2 * i);
  }
  pd_bytes_free(b);
  pd_summary_free(s);
}

static void bad_arguments_are_refused(void **state) {
  (void)state;
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  pd_bytes *out = NULL;
  assert_int_equal(pd_summary_partial_save(NULL, &spec, &out), PD_E_MISUSE);
  assert_int_equal(pd_summary_partial_load(NULL, "x", 1), PD_E_MISUSE);
  pd_summary *s = new_summary();
  assert_int_equal(pd_summary_partial_save(s, NULL, &out), PD_E_INVALID);
  assert_int_equal(pd_summary_partial_save(s, &spec, NULL), PD_E_INVALID);
  spec.unit = 9;
  assert_int_equal(pd_summary_partial_save(s, &spec, &out), PD_E_INVALID);
  assert_int_equal(pd_summary_partial_load(s, NULL, 3), PD_E_INVALID);
  assert_int_equal(pd_summary_partial_load(s, "PDAG", 4), PD_E_CORRUPT);
  size_t n;
  assert_int_equal(pd_summary_partial_customers(NULL, 0, NULL, NULL, NULL),
                   PD_E_INVALID);
  assert_int_equal(pd_summary_partial_customers(NULL, 0, NULL, NULL, &n),
                   PD_E_CORRUPT);
  pd_summary_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exact_sum_rounds_once_to_nearest_even),
      cmocka_unit_test(exact_sum_does_not_depend_on_order_or_grouping),
      cmocka_unit_test(cdnow_split_by_customer_merges_to_the_single_summary),
      cmocka_unit_test(cdnow_file_chunks_merge_in_order_and_in_any_order),
      cmocka_unit_test(cdnow_split_by_time_at_day_boundaries_and_inside_days),
      cmocka_unit_test(many_purchases_a_day_cut_inside_days_merge_bit_for_bit),
      cmocka_unit_test(partials_of_partials_reduce_like_a_tree),
      cmocka_unit_test(
          a_handle_merges_its_own_transactions_with_loaded_partials),
      cmocka_unit_test(overlapping_pieces_of_a_customer_are_refused_unchanged),
      cmocka_unit_test(partials_for_other_ends_do_not_mix),
      cmocka_unit_test(every_bit_flip_and_every_truncation_is_refused),
      cmocka_unit_test(damage_behind_a_good_crc_is_refused_or_harmless),
      cmocka_unit_test(out_of_memory_anywhere_leaves_dst_unchanged),
      cmocka_unit_test(the_serialised_form_is_fixed_and_little_endian),
      cmocka_unit_test(bad_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
