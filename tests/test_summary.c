/* Specification of customer summaries (include/privdomain/summary.h):
 * the lifetimes/BTYD convention, rule by rule. */
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

/* cmocka's assert_float_equal compares in single precision; this one
 * compares doubles. */
#define assert_near(a, b, tol)                                            \
  do {                                                                    \
    double a_ = (a), b_ = (b);                                            \
    if (!(fabs(a_ - b_) <= (tol)))                                        \
      fail_msg("%s = %.17g, expected %.17g within %g", #a, a_, b_,        \
               (double)(tol));                                            \
  } while (0)

#define DAY INT64_C(86400)

/* Seconds at 00:00 UTC of a civil date (proleptic Gregorian), written
 * independently of the library's own date code. */
static int64_t date(int y, int m, int d) {
  static const int cum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304,
                            334};
  int64_t days = 0;
  for (int yy = 1970; yy < y; yy++)
    days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
  days += cum[m - 1] + d - 1;
  if (m > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) days++;
  return days * DAY;
}

static pd_summary *new_summary(void) {
  pd_summary *s = NULL;
  assert_int_equal(pd_summary_new(NULL, &s), PD_OK);
  return s;
}

static void add(pd_summary *s, const char *id, int64_t t, double amount) {
  assert_int_equal(pd_summary_add(s, &id, NULL, &t, &amount, 1), PD_OK);
}

static void compute(pd_summary *s, int64_t cal_end, int64_t obs_end,
                    int32_t unit) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = cal_end;
  spec.observation_end = obs_end;
  spec.unit = unit;
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
}

static const double *col(pd_summary *s, int32_t c) {
  const double *p = NULL;
  assert_int_equal(pd_summary_column(s, c, &p), PD_OK);
  return p;
}

/* Row of a customer id, or -1. */
static long row_of(pd_summary *s, const char *id) {
  for (size_t r = 0; r < pd_summary_rows(s); r++) {
    const char *got;
    size_t len;
    assert_int_equal(pd_summary_id(s, r, &got, &len), PD_OK);
    if (len == strlen(id) && memcmp(got, id, len) == 0) return (long)r;
  }
  return -1;
}

static void purchases_on_the_same_day_count_once(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  int64_t d0 = date(2024, 3, 1);
  add(s, "alice", d0 + 3600, 10);
  add(s, "alice", d0 + 7200, 5); /* same day as the first: not a repeat */
  add(s, "alice", d0 + 2 * DAY + 60, 7);
  add(s, "alice", d0 + 2 * DAY + 23 * 3600, 3); /* same repeat day */
  compute(s, d0 + 9 * DAY, PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_rows(s), 1);
  assert_true(col(s, PD_SUMMARY_X)[0] == 1.0);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 2.0);
  assert_true(col(s, PD_SUMMARY_T)[0] == 9.0);
  /* The repeat day's spend is the sum of its purchases. */
  assert_true(col(s, PD_SUMMARY_MONETARY)[0] == 10.0);
  pd_summary_free(s);
}

static void days_are_utc_calendar_days(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  int64_t d0 = date(2024, 3, 1);
  add(s, "bob", d0 + DAY - 1, 1);  /* 23:59:59 */
  add(s, "bob", d0 + DAY, 1);      /* 00:00:00 next day: a repeat */
  compute(s, d0 + 5 * DAY, PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_true(col(s, PD_SUMMARY_X)[0] == 1.0);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 1.0);
  assert_true(col(s, PD_SUMMARY_T)[0] == 5.0);
  pd_summary_free(s);
}

static void weeks_are_seven_days(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  int64_t d0 = date(1997, 1, 1);
  add(s, "1", d0, 29.33);
  add(s, "1", date(1997, 1, 18), 29.73);
  add(s, "1", date(1997, 8, 2), 14.96);
  add(s, "1", date(1997, 12, 12), 26.48); /* after calibration */
  compute(s, date(1997, 9, 30) + DAY - 1, PD_SUMMARY_NO_HOLDOUT,
          PD_TIME_UNIT_WEEK);
  /* CDNOW customer 1: 2, 30.43, 38.86 in cdnow_customers_summary.csv. */
  assert_true(col(s, PD_SUMMARY_X)[0] == 2.0);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 213.0 / 7.0);
  assert_true(col(s, PD_SUMMARY_T)[0] == 272.0 / 7.0);
  assert_near(col(s, PD_SUMMARY_MONETARY)[0], (29.73 + 14.96) / 2,
                     1e-12);
  pd_summary_free(s);
}

static void monetary_value_is_zero_without_repeats(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  add(s, "once", date(2024, 1, 5), 99);
  add(s, "once", date(2024, 1, 5) + 10, 1);
  compute(s, date(2024, 2, 1), PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_true(col(s, PD_SUMMARY_X)[0] == 0.0);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 0.0);
  assert_true(col(s, PD_SUMMARY_MONETARY)[0] == 0.0);
  pd_summary_free(s);
}

static void calibration_end_instant_is_inclusive(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  int64_t end = date(2024, 1, 10) + 12 * 3600;
  add(s, "c", date(2024, 1, 1), 1);
  add(s, "c", end, 1);     /* exactly at the end: in */
  add(s, "c", end + 1, 1); /* one second later: out (same day, ignored) */
  compute(s, end, PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_true(col(s, PD_SUMMARY_X)[0] == 1.0);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 9.0);
  assert_true(col(s, PD_SUMMARY_T)[0] == 9.0);
  assert_true(col(s, PD_SUMMARY_MONETARY)[0] == 1.0);
  pd_summary_free(s);
}

static void customers_first_buying_after_calibration_are_left_out(
    void **state) {
  (void)state;
  pd_summary *s = new_summary();
  add(s, "early", date(2024, 1, 1), 1);
  add(s, "late", date(2024, 3, 1), 1);
  compute(s, date(2024, 2, 1), date(2024, 4, 1), PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_rows(s), 1);
  assert_int_equal(row_of(s, "early"), 0);
  assert_int_equal(row_of(s, "late"), -1);
  pd_summary_free(s);
}

static void holdout_counts_distinct_purchase_days_up_to_observation_end(
    void **state) {
  (void)state;
  pd_summary *s = new_summary();
  int64_t cal = date(2024, 1, 31) + DAY - 1, obs = date(2024, 2, 29) + DAY - 1;
  add(s, "h", date(2024, 1, 2), 1);
  add(s, "h", date(2024, 2, 3), 1);
  add(s, "h", date(2024, 2, 3) + 100, 1); /* same holdout day */
  add(s, "h", date(2024, 2, 29) + 5, 1);  /* last holdout day: in */
  add(s, "h", date(2024, 3, 1), 1);       /* after observation end */
  compute(s, cal, obs, PD_TIME_UNIT_DAY);
  assert_true(col(s, PD_SUMMARY_X)[0] == 0.0);
  assert_true(col(s, PD_SUMMARY_X_HOLDOUT)[0] == 2.0);
  pd_summary_free(s);
}

static void x_holdout_is_absent_without_observation_end(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  add(s, "h", date(2024, 1, 2), 1);
  compute(s, date(2024, 2, 1), PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  const double *p = NULL;
  assert_int_equal(pd_summary_column(s, PD_SUMMARY_X_HOLDOUT, &p),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_summary_column(s, PD_SUMMARY_WEIGHT, &p),
                   PD_E_NOT_FOUND);
  assert_null(p);
  pd_summary_free(s);
}

/* A small random transaction log. */
enum { LOG_N = 3000, LOG_CUSTOMERS = 150 };
typedef struct tx {
  char id[16];
  int64_t t;
  double amount;
} tx;

static void random_log(tx *log, uint64_t seed) {
  uint64_t r = seed;
  for (int i = 0; i < LOG_N; i++) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    snprintf(log[i].id, sizeof log[i].id, "cust-%u",
             (unsigned)((r >> 33) % LOG_CUSTOMERS));
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    log[i].t = date(2023, 1, 1) + (int64_t)((r >> 20) % (400 * DAY));
    log[i].amount = (double)((r >> 8) % 10000) / 100.0;
  }
}

static pd_summary *summarise_log(const tx *log, const size_t *order,
                                 int64_t cal, int64_t obs, int32_t unit) {
  pd_summary *s = new_summary();
  for (int i = 0; i < LOG_N; i++) {
    const tx *e = &log[order ? order[i] : (size_t)i];
    add(s, e->id, e->t, e->amount);
  }
  compute(s, cal, obs, unit);
  return s;
}

static void order_of_transactions_does_not_matter(void **state) {
  (void)state;
  static tx log[LOG_N];
  static size_t order[LOG_N];
  random_log(log, 7);
  for (size_t i = 0; i < LOG_N; i++) order[i] = LOG_N - 1 - i;
  int64_t cal = date(2023, 10, 1), obs = date(2024, 1, 15);
  pd_summary *a = summarise_log(log, NULL, cal, obs, PD_TIME_UNIT_WEEK);
  pd_summary *b = summarise_log(log, order, cal, obs, PD_TIME_UNIT_WEEK);
  assert_int_equal(pd_summary_rows(a), pd_summary_rows(b));
  for (size_t r = 0; r < pd_summary_rows(a); r++) {
    const char *id;
    assert_int_equal(pd_summary_id(a, r, &id, NULL), PD_OK);
    long rb = row_of(b, id);
    assert_true(rb >= 0);
    for (int32_t c = PD_SUMMARY_X; c <= PD_SUMMARY_X_HOLDOUT; c++)
      /* Bit-for-bit: the sums are taken in a canonical order. */
      assert_memory_equal(&col(a, c)[r], &col(b, c)[rb], sizeof(double));
  }
  pd_summary_free(a);
  pd_summary_free(b);
}

static void agrees_with_a_brute_force_summary(void **state) {
  (void)state;
  static tx log[LOG_N];
  random_log(log, 99);
  int64_t cal = date(2023, 9, 1) + DAY - 1, obs = date(2024, 1, 31) + DAY - 1;
  pd_summary *s = summarise_log(log, NULL, cal, obs, PD_TIME_UNIT_DAY);
  size_t seen = 0;
  for (int c = 0; c < LOG_CUSTOMERS; c++) {
    char id[16];
    snprintf(id, sizeof id, "cust-%d", c);
    /* Brute force: per calendar day of the range, the spend that day. */
    enum { DAYS = 500 };
    double spend[DAYS];
    int bought[DAYS];
    memset(spend, 0, sizeof spend);
    memset(bought, 0, sizeof bought);
    int64_t base = date(2023, 1, 1) / DAY;
    for (int i = 0; i < LOG_N; i++)
      if (strcmp(log[i].id, id) == 0) {
        int64_t d = log[i].t / DAY - base;
        bought[d] |= log[i].t <= cal ? 1 : (log[i].t <= obs ? 2 : 0);
        if (log[i].t <= cal) spend[d] += log[i].amount;
      }
    int first = -1, last = -1, x = 0, hold = 0;
    double sum = 0;
    for (int d = 0; d < DAYS; d++) {
      if (bought[d] & 1) {
        if (first < 0) first = d;
        else { x++; sum += spend[d]; }
        last = d;
      } else if (bought[d] == 2) {
        hold++;
      }
    }
    long r = row_of(s, id);
    if (first < 0) {
      assert_int_equal(r, -1);
      continue;
    }
    assert_true(r >= 0);
    seen++;
    assert_true(col(s, PD_SUMMARY_X)[r] == x);
    assert_true(col(s, PD_SUMMARY_T_X)[r] == last - first);
    assert_true(col(s, PD_SUMMARY_T)[r] == (double)(cal / DAY - base - first));
    assert_near(col(s, PD_SUMMARY_MONETARY)[r], x ? sum / x : 0.0,
                       1e-9);
    assert_true(col(s, PD_SUMMARY_X_HOLDOUT)[r] == hold);
  }
  assert_int_equal(seen, pd_summary_rows(s));
  assert_true(seen > 100);
  pd_summary_free(s);
}

static void bad_transactions_reject_the_whole_batch(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  add(s, "keep", date(2024, 1, 1), 1);
  const char *ids[3] = {"new1", "new2", "new3"};
  int64_t times[3] = {date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)};
  double amounts[3] = {1, 2, 3};

  amounts[2] = 0.0 / 0.0;
  assert_int_equal(pd_summary_add(s, ids, NULL, times, amounts, 3),
                   PD_E_RANGE);
  assert_non_null(strstr(pd_summary_errmsg(s), "transaction 2"));
  amounts[2] = -1;
  assert_int_equal(pd_summary_add(s, ids, NULL, times, amounts, 3),
                   PD_E_RANGE);
  amounts[2] = 3;
  times[1] = -1; /* before 1970 */
  assert_int_equal(pd_summary_add(s, ids, NULL, times, amounts, 3),
                   PD_E_RANGE);
  times[1] = INT64_C(4102444801); /* after 2100: milliseconds by mistake */
  assert_int_equal(pd_summary_add(s, ids, NULL, times, amounts, 3),
                   PD_E_RANGE);
  assert_int_equal(pd_summary_add(s, NULL, NULL, times, amounts, 3),
                   PD_E_INVALID);
  assert_int_equal(pd_summary_add(NULL, ids, NULL, times, amounts, 3),
                   PD_E_MISUSE);

  assert_int_equal(pd_summary_transactions(s), 1);
  compute(s, date(2024, 2, 1), PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_rows(s), 1);
  assert_int_equal(row_of(s, "new1"), -1);
  pd_summary_free(s);
}

static void ids_are_byte_strings_with_explicit_lengths(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  const char *ids[3] = {"a\0x", "a\0y", "顾客"};
  size_t lens[3] = {3, 3, strlen("顾客")};
  int64_t t[3] = {date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1)};
  assert_int_equal(pd_summary_add(s, ids, lens, t, NULL, 3), PD_OK);
  compute(s, date(2024, 1, 2), PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_rows(s), 3);
  const char *id;
  size_t len;
  assert_int_equal(pd_summary_id(s, 1, &id, &len), PD_OK);
  assert_int_equal(len, 3);
  assert_memory_equal(id, "a\0y", 3);
  assert_int_equal(pd_summary_id(s, 3, &id, &len), PD_E_NOT_FOUND);
  pd_summary_free(s);
}

static void compress_counts_customers_per_distinct_tuple(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  int64_t d0 = date(2024, 1, 1);
  add(s, "a", d0, 1);
  add(s, "b", d0, 2);
  add(s, "c", d0, 3);
  add(s, "c", d0 + 3 * DAY, 3);
  add(s, "d", d0 + DAY, 1);
  compute(s, d0 + 10 * DAY, PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_compress(s), PD_OK);
  /* Sorted by x, t_x, T: (0,0,9)x1 d, (0,0,10)x2 a b, (1,3,10)x1 c. */
  assert_int_equal(pd_summary_rows(s), 3);
  const double *x = col(s, PD_SUMMARY_X), *tx = col(s, PD_SUMMARY_T_X),
               *T = col(s, PD_SUMMARY_T), *w = col(s, PD_SUMMARY_WEIGHT);
  assert_true(x[0] == 0 && tx[0] == 0 && T[0] == 9 && w[0] == 1);
  assert_true(x[1] == 0 && tx[1] == 0 && T[1] == 10 && w[1] == 2);
  assert_true(x[2] == 1 && tx[2] == 3 && T[2] == 10 && w[2] == 1);
  const double *m;
  assert_int_equal(pd_summary_column(s, PD_SUMMARY_MONETARY, &m),
                   PD_E_NOT_FOUND);
  const char *id;
  assert_int_equal(pd_summary_id(s, 0, &id, NULL), PD_E_NOT_FOUND);
  /* The same rows as a pd_customer_data view for the fitters. */
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  assert_int_equal(pd_summary_data(s, &d), PD_OK);
  assert_int_equal(d.n, 3);
  assert_true(d.x == x && d.t_x == tx && d.T == T && d.weight == w);
  assert_null(d.monetary);
  d.size = sizeof d - 1;
  assert_int_equal(pd_summary_data(s, &d), PD_E_INVALID);
  assert_int_equal(pd_summary_compress(s), PD_OK); /* idempotent */
  assert_int_equal(pd_summary_rows(s), 3);
  pd_summary_free(s);
}

static void merging_disjoint_parts_equals_summarising_the_whole(
    void **state) {
  (void)state;
  static tx log[LOG_N];
  random_log(log, 2024);
  int64_t cal = date(2023, 10, 1), obs = date(2024, 1, 1);
  pd_summary *whole = summarise_log(log, NULL, cal, obs, PD_TIME_UNIT_DAY);
  /* Split customers by the parity of the last digit of their id. */
  pd_summary *even = new_summary(), *odd = new_summary();
  for (int i = 0; i < LOG_N; i++) {
    size_t l = strlen(log[i].id);
    add((log[i].id[l - 1] - '0') % 2 ? odd : even, log[i].id, log[i].t,
        log[i].amount);
  }
  compute(even, cal, obs, PD_TIME_UNIT_DAY);
  compute(odd, cal, obs, PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_merge(even, odd), PD_OK);
  assert_int_equal(pd_summary_rows(even), pd_summary_rows(whole));
  for (size_t r = 0; r < pd_summary_rows(whole); r++) {
    const char *id;
    assert_int_equal(pd_summary_id(whole, r, &id, NULL), PD_OK);
    long m = row_of(even, id);
    assert_true(m >= 0);
    for (int32_t c = PD_SUMMARY_X; c <= PD_SUMMARY_X_HOLDOUT; c++)
      assert_true(col(whole, c)[r] == col(even, c)[m]);
  }
  /* Compressed parts merge into the compressed whole. */
  double customers = (double)pd_summary_rows(whole);
  compute(odd, cal, obs, PD_TIME_UNIT_DAY);
  compute(even, cal, obs, PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_compress(odd), PD_OK);
  assert_int_equal(pd_summary_merge(even, odd), PD_OK);
  assert_int_equal(pd_summary_compress(whole), PD_OK);
  assert_int_equal(pd_summary_rows(even), pd_summary_rows(whole));
  double total = 0;
  for (size_t r = 0; r < pd_summary_rows(whole); r++) {
    for (int32_t c = PD_SUMMARY_X; c <= PD_SUMMARY_T; c++)
      assert_true(col(whole, c)[r] == col(even, c)[r]);
    assert_true(col(whole, PD_SUMMARY_WEIGHT)[r] ==
                col(even, PD_SUMMARY_WEIGHT)[r]);
    total += col(even, PD_SUMMARY_WEIGHT)[r];
  }
  assert_true(total == customers);
  pd_summary_free(whole);
  pd_summary_free(even);
  pd_summary_free(odd);
}

static void merge_refuses_overlapping_customers_and_different_specs(
    void **state) {
  (void)state;
  pd_summary *a = new_summary(), *b = new_summary();
  add(a, "same", date(2024, 1, 1), 1);
  add(b, "same", date(2024, 1, 5), 1);
  add(b, "other", date(2024, 1, 5), 1);
  compute(a, date(2024, 2, 1), PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  compute(b, date(2024, 2, 1), PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_WEEK);
  assert_int_equal(pd_summary_merge(a, b), PD_E_CONFLICT);
  compute(b, date(2024, 2, 1), PD_SUMMARY_NO_HOLDOUT, PD_TIME_UNIT_DAY);
  assert_int_equal(pd_summary_merge(a, b), PD_E_DUPLICATE);
  assert_non_null(strstr(pd_summary_errmsg(a), "same"));
  assert_int_equal(pd_summary_rows(a), 1); /* unchanged */
  assert_int_equal(row_of(a, "other"), -1);
  assert_int_equal(pd_summary_merge(a, a), PD_E_MISUSE);
  pd_summary_free(a);
  pd_summary_free(b);
}

static void spec_is_validated(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  add(s, "a", date(2024, 1, 1), 1);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = date(2024, 2, 1);
  spec.unit = 3;
  assert_int_equal(pd_summary_compute(s, &spec), PD_E_INVALID);
  spec.unit = PD_TIME_UNIT_DAY;
  spec.observation_end = spec.calibration_end - 1;
  assert_int_equal(pd_summary_compute(s, &spec), PD_E_INVALID);
  spec.observation_end = PD_SUMMARY_NO_HOLDOUT;
  spec.calibration_end = -5;
  assert_int_equal(pd_summary_compute(s, &spec), PD_E_RANGE);
  spec.calibration_end = date(2024, 2, 1);
  spec.size = sizeof spec - 1;
  assert_int_equal(pd_summary_compute(s, &spec), PD_E_INVALID);
  assert_int_equal(pd_summary_rows(s), 0);
  /* A newer caller's larger struct is fine when the unknown tail is 0. */
  struct {
    pd_summary_spec spec;
    int64_t future;
  } big;
  memset(&big, 0, sizeof big);
  big.spec = (pd_summary_spec)PD_SUMMARY_SPEC_INIT;
  big.spec.size = sizeof big;
  big.spec.calibration_end = date(2024, 2, 1);
  assert_int_equal(pd_summary_compute(s, &big.spec), PD_OK);
  big.future = 1;
  assert_int_equal(pd_summary_compute(s, &big.spec), PD_E_INVALID);
  assert_int_equal(pd_summary_rows(s), 1);
  pd_summary_free(NULL);
  assert_non_null(pd_summary_errmsg(NULL));
  pd_summary_free(s);
}

/* Allocator failing the n-th allocation (counting from 1). */
typedef struct failing {
  long countdown;
  long calls;
} failing;
static void *f_malloc(void *u, size_t n) {
  failing *f = u;
  f->calls++;
  if (--f->countdown == 0) return NULL;
  return malloc(n);
}
static void *f_realloc(void *u, void *p, size_t n) {
  failing *f = u;
  f->calls++;
  if (--f->countdown == 0) return NULL;
  return realloc(p, n);
}
static void f_free(void *u, void *p) {
  (void)u;
  free(p);
}

static void every_allocation_failure_is_reported_and_harmless(void **state) {
  (void)state;
  static tx log[LOG_N];
  random_log(log, 5);
  int64_t cal = date(2023, 10, 1), obs = date(2024, 1, 1);
  pd_summary *ref = summarise_log(log, NULL, cal, obs, PD_TIME_UNIT_DAY);
  int failures = 0;
  for (long n = 1;; n++) {
    failing f = {n, 0};
    pd_allocator al = {f_malloc, f_realloc, f_free, &f};
    pd_summary_options o = PD_SUMMARY_OPTIONS_INIT;
    o.allocator = &al;
    pd_summary *s = NULL;
    pd_status st = pd_summary_new(&o, &s);
    if (st == PD_E_NOMEM) { failures++; continue; }
    assert_int_equal(st, PD_OK);
    /* Add in batches of 500: a failed batch leaves nothing behind. */
    size_t added = 0;
    for (size_t i = 0; i < LOG_N; i += 500) {
      const char *ids[500];
      int64_t t[500];
      double am[500];
      for (size_t k = 0; k < 500; k++) {
        ids[k] = log[i + k].id;
        t[k] = log[i + k].t;
        am[k] = log[i + k].amount;
      }
      st = pd_summary_add(s, ids, NULL, t, am, 500);
      if (st == PD_E_NOMEM) {
        failures++;
        assert_int_equal(pd_summary_transactions(s), added);
        /* Retry the same batch once the failure has passed. */
        assert_int_equal(pd_summary_add(s, ids, NULL, t, am, 500), PD_OK);
      } else {
        assert_int_equal(st, PD_OK);
      }
      added += 500;
    }
    pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
    spec.calibration_end = cal;
    spec.observation_end = obs;
    st = pd_summary_compute(s, &spec);
    if (st == PD_E_NOMEM) {
      failures++;
      assert_int_equal(pd_summary_rows(s), 0);
      assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
    }
    assert_int_equal(pd_summary_rows(s), pd_summary_rows(ref));
    for (size_t r = 0; r < pd_summary_rows(ref); r += 17)
      assert_true(col(s, PD_SUMMARY_MONETARY)[r] ==
                  col(ref, PD_SUMMARY_MONETARY)[r]);
    st = pd_summary_compress(s);
    if (st == PD_E_NOMEM) {
      failures++;
      assert_int_equal(pd_summary_rows(s), pd_summary_rows(ref));
    }
    pd_summary_free(s);
    if (f.countdown > 0) break; /* the n-th allocation never came */
  }
  assert_true(failures > 10);
  pd_summary_free(ref);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(purchases_on_the_same_day_count_once),
      cmocka_unit_test(days_are_utc_calendar_days),
      cmocka_unit_test(weeks_are_seven_days),
      cmocka_unit_test(monetary_value_is_zero_without_repeats),
      cmocka_unit_test(calibration_end_instant_is_inclusive),
      cmocka_unit_test(customers_first_buying_after_calibration_are_left_out),
      cmocka_unit_test(
          holdout_counts_distinct_purchase_days_up_to_observation_end),
      cmocka_unit_test(x_holdout_is_absent_without_observation_end),
      cmocka_unit_test(order_of_transactions_does_not_matter),
      cmocka_unit_test(agrees_with_a_brute_force_summary),
      cmocka_unit_test(bad_transactions_reject_the_whole_batch),
      cmocka_unit_test(ids_are_byte_strings_with_explicit_lengths),
      cmocka_unit_test(compress_counts_customers_per_distinct_tuple),
      cmocka_unit_test(merging_disjoint_parts_equals_summarising_the_whole),
      cmocka_unit_test(
          merge_refuses_overlapping_customers_and_different_specs),
      cmocka_unit_test(spec_is_validated),
      cmocka_unit_test(every_allocation_failure_is_reported_and_harmless),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
