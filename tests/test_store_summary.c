/* Specification of store -> customer summaries (store_summary.h): the
 * BTYD convention of summary.h applied to a store's orders (refunds and
 * filters included), the CDNOW sample recorded in a store giving exactly
 * the summary and the BG/NBD fit of pd_summary on the same transactions,
 * and value by acquisition channel. */
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

#include "datasets_path.h"
#include "metrics_testutil.h"

static const int64_t T0 = 1700006400; /* a UTC midnight + 6400 s */

static int setup(void **state) {
  pd_store *s;
  if (pd_store_new(NULL, &s) != PD_OK) return -1;
  *state = s;
  return 0;
}

static int teardown(void **state) {
  pd_store_free(*state);
  return 0;
}

static pd_store_summary *summarise(pd_store *s, const pd_metrics_filter *f,
                                   int64_t cal_end, int64_t obs_end) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = cal_end;
  spec.observation_end = obs_end;
  spec.unit = PD_TIME_UNIT_DAY;
  pd_metrics_filter all = PD_METRICS_FILTER_INIT;
  all.as_of = cal_end;
  pd_store_summary *h = NULL;
  assert_int_equal(pd_store_summary_new(s, f ? f : &all, &spec, &h), PD_OK);
  return h;
}

static void the_btyd_convention_applies_to_orders(void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b"), c = mt_user(s, "c");
  /* a: day 0 (two orders: one period), day 3, day 10; holdout day 12 */
  mt_order(s, a, 1000, T0);
  mt_order(s, a, 500, T0 + HOUR);
  mt_order(s, a, 2000, T0 + 3 * DAY);
  mt_order(s, a, 4000, T0 + 10 * DAY);
  mt_order(s, a, 999, T0 + 12 * DAY);
  /* b: one order only; c: first order after the calibration end */
  mt_order(s, b, 300, T0 + 2 * DAY);
  mt_order(s, c, 300, T0 + 11 * DAY);
  int64_t cal = T0 + 10 * DAY + 7 * HOUR, obs = T0 + 20 * DAY;
  pd_store_summary *h = summarise(s, NULL, cal, obs);
  assert_int_equal(pd_store_summary_rows(h), 2);
  const pd_user_id *users;
  assert_int_equal(pd_store_summary_users(h, &users), PD_OK);
  assert_int_equal(users[0], a);
  assert_int_equal(users[1], b);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  assert_int_equal(pd_store_summary_data(h, &d), PD_OK);
  assert_int_equal(d.n, 2);
  assert_true(d.x[0] == 2 && d.t_x[0] == 10 && d.T[0] == 10);
  /* spend in yuan (exponent 2): repeat days 20.00 and 40.00 */
  assert_float_equal(d.monetary[0], 30.0, 1e-12);
  assert_true(d.x[1] == 0 && d.t_x[1] == 0 && d.T[1] == 8);
  assert_true(d.monetary[1] == 0);
  const double *xh;
  assert_int_equal(pd_store_summary_holdout(h, &xh), PD_OK);
  assert_true(xh[0] == 1 && xh[1] == 0);
  pd_store_summary_free(h);
  h = summarise(s, NULL, cal, PD_SUMMARY_NO_HOLDOUT);
  assert_int_equal(pd_store_summary_holdout(h, &xh), PD_E_NOT_FOUND);
  pd_store_summary_free(h);
  (void)c;
}

static void fully_refunded_orders_are_not_purchases(void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a");
  mt_order(s, a, 1000, T0);
  uint64_t o2 = mt_order(s, a, 2000, T0 + 2 * DAY);
  uint64_t o3 = mt_order(s, a, 3000, T0 + 4 * DAY);
  uint64_t o4 = mt_order(s, a, 5000, T0 + 6 * DAY);
  mt_refund(s, o2, 2000, T0 + 3 * DAY);      /* full: day 2 is no purchase */
  mt_refund(s, o3, 1000, T0 + 5 * DAY);      /* partial: day 4 spends 20 */
  mt_refund(s, o4, 5000, T0 + 30 * DAY);     /* full, but after the end */
  pd_store_summary *h = summarise(s, NULL, T0 + 10 * DAY, PD_SUMMARY_NO_HOLDOUT);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  assert_int_equal(pd_store_summary_data(h, &d), PD_OK);
  assert_int_equal(d.n, 1);
  assert_true(d.x[0] == 2);  /* days 4 and 6 */
  assert_true(d.t_x[0] == 6);
  assert_float_equal(d.monetary[0], (20.0 + 50.0) / 2, 1e-12);
  pd_store_summary_free(h);
  /* Seen from after the late refund, day 6 is no purchase either. */
  h = summarise(s, NULL, T0 + 40 * DAY, PD_SUMMARY_NO_HOLDOUT);
  assert_int_equal(pd_store_summary_data(h, &d), PD_OK);
  assert_true(d.x[0] == 1 && d.t_x[0] == 4);
  pd_store_summary_free(h);
}

/* Rows are made on several threads with bounded buffers; a customer with
 * more purchases (or refunds) than a buffer holds is summarised on the
 * calling thread, between users with short histories: the rows are the
 * same, in user order, for every thread count. */
static void customers_with_hundreds_of_purchases_are_summarised(
    void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), big = mt_user(s, "big"),
             z = mt_user(s, "z");
  mt_order(s, a, 1000, T0);
  mt_order(s, a, 1000, T0 + DAY);
  /* big: 600 orders, two a day over 300 days (600 > a walk's 256), and
   * 300 refunds (one in full, every other day's second order). */
  for (int d = 0; d < 300; d++) {
    mt_order(s, big, 100, T0 + d * DAY);
    uint64_t o = mt_order(s, big, 200, T0 + d * DAY + HOUR);
    mt_refund(s, o, d % 2 ? 200 : 50, T0 + d * DAY + 2 * HOUR);
  }
  mt_order(s, z, 700, T0 + 5 * DAY);
  int64_t cal = T0 + 299 * DAY + 3 * HOUR;
  for (int32_t threads = 1; threads <= 3; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    pd_store_summary *h = summarise(s, NULL, cal, PD_SUMMARY_NO_HOLDOUT);
    const pd_user_id *users;
    assert_int_equal(pd_store_summary_users(h, &users), PD_OK);
    pd_customer_data d = PD_CUSTOMER_DATA_INIT;
    assert_int_equal(pd_store_summary_data(h, &d), PD_OK);
    assert_int_equal(d.n, 3);
    assert_true(users[0] == a && users[1] == big && users[2] == z);
    assert_true(d.x[0] == 1 && d.t_x[0] == 1);
    /* 299 repeat days; odd days spend 1.00, even days 1.00 + 1.50. */
    assert_true(d.x[1] == 299 && d.t_x[1] == 299 && d.T[1] == 299);
    assert_float_equal(d.monetary[1], (149 * 2.5 + 150 * 1.0) / 299, 1e-12);
    assert_true(d.x[2] == 0 && d.T[2] == 294);
    pd_store_summary_free(h);
  }
}

static void the_filter_selects_users_by_acquisition(void **state) {
  pd_store *s = *state;
  uint32_t src = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "bait", PD_NTS, &src),
                   PD_OK);
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b"), c = mt_user(s, "c");
  mt_link_src(s, a, PD_CHANNEL_WECOM, src, 0, T0 - DAY);
  mt_link_src(s, b, PD_CHANNEL_WECHAT, 0, 0, T0 - DAY);
  mt_link_src(s, b, PD_CHANNEL_WECOM, src, 0, T0); /* second link: not
                                                      acquisition */
  for (pd_user_id u = a; u <= c; u++) mt_order(s, u, 100, T0);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0 + DAY;
  f.channel = PD_CHANNEL_WECOM;
  pd_store_summary *h = summarise(s, &f, T0 + DAY, PD_SUMMARY_NO_HOLDOUT);
  const pd_user_id *users;
  assert_int_equal(pd_store_summary_rows(h), 1);
  pd_store_summary_users(h, &users);
  assert_int_equal(users[0], a);
  pd_store_summary_free(h);
  f.channel = 0;
  f.source = src;
  h = summarise(s, &f, T0 + DAY, PD_SUMMARY_NO_HOLDOUT);
  assert_int_equal(pd_store_summary_rows(h), 1);
  pd_store_summary_free(h);
  int32_t m = -1;
  assert_int_equal(pd_metrics_filter_match(s, c, &f, &m), PD_OK);
  assert_int_equal(m, 0);
  f.source = 0;
  assert_int_equal(pd_metrics_filter_match(s, c, &f, &m), PD_OK);
  assert_int_equal(m, 1);
}

static void bad_specs_are_rejected(void **state) {
  pd_store *s = *state;
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = T0;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0;
  pd_store_summary *h = NULL;
  assert_int_equal(pd_store_summary_new(s, &f, &spec, NULL), PD_E_INVALID);
  assert_int_equal(pd_store_summary_new(s, NULL, &spec, &h), PD_E_INVALID);
  spec.unit = 9;
  assert_int_equal(pd_store_summary_new(s, &f, &spec, &h), PD_E_INVALID);
  spec.unit = PD_TIME_UNIT_DAY;
  spec.observation_end = T0 - 1;
  assert_int_equal(pd_store_summary_new(s, &f, &spec, &h), PD_E_INVALID);
  spec.observation_end = PD_SUMMARY_NO_HOLDOUT;
  f.guide = 5;
  assert_int_equal(pd_store_summary_new(s, &f, &spec, &h), PD_E_NOT_FOUND);
  f.guide = 0;
  /* An empty store gives an empty summary, which cannot be fitted. */
  assert_int_equal(pd_store_summary_new(s, &f, &spec, &h), PD_OK);
  assert_int_equal(pd_store_summary_rows(h), 0);
  assert_int_equal(pd_store_summary_predict(h, NULL), PD_E_INVALID);
  const double *col;
  assert_int_equal(pd_store_summary_column(h, PD_VALUE_CLV, &col),
                   PD_E_NOT_FOUND);
  pd_store_summary_free(h);
  pd_store_summary_free(NULL);
  assert_int_equal(pd_store_summary_predict(NULL, NULL), PD_E_MISUSE);
}

/* ---- CDNOW ------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

typedef struct cdnow {
  size_t n;
  char (*id)[8];
  int64_t *time;
  double *dollars;
} cdnow;

static int load_cdnow(cdnow *c) {
  FILE *f = open_dataset("CDNOW_sample.txt");
  if (!f) return 0;
  size_t cap = 8000;
  c->id = malloc(cap * sizeof *c->id);
  c->time = malloc(cap * sizeof *c->time);
  c->dollars = malloc(cap * sizeof *c->dollars);
  assert_non_null(c->id);
  c->n = 0;
  unsigned master, sample, ymd, cds;
  double usd;
  while (fscanf(f, "%u %u %u %u %lf", &master, &sample, &ymd, &cds, &usd) ==
         5) {
    assert_true(c->n < cap);
    snprintf(c->id[c->n], 8, "%u", sample);
    c->time[c->n] =
        days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100) * DAY;
    c->dollars[c->n] = usd;
    c->n++;
  }
  fclose(f);
  assert_int_equal(c->n, 6919);
  return 1;
}

static void free_cdnow(cdnow *c) {
  free(c->id);
  free(c->time);
  free(c->dollars);
}

/* Every prediction column against a per-customer computation with the
 * summary's own fitted parameters (no distinct rows): P(alive) and
 * expected purchases in 52 weeks from the model, Gamma-Gamma's mean spend
 * in closed form, CLV as 12 months of expected purchase increments
 * discounted at 1% a month, times the spend. */
static void assert_predictions_per_customer(const pd_store_summary *h,
                                            const pd_customer_data *d) {
  pd_fit_info ti = PD_FIT_INFO_INIT, gi = PD_FIT_INFO_INIT;
  assert_int_equal(pd_store_summary_fit(h, 0, &ti), PD_OK);
  assert_int_equal(pd_store_summary_fit(h, 1, &gi), PD_OK);
  pd_fit *tx = NULL;
  assert_int_equal(pd_fit_new(NULL, &tx), PD_OK);
  assert_int_equal(pd_fit_set_params(tx, ti.model, ti.params, ti.n_params),
                   PD_OK);
  size_t n = d->n;
  double *want = malloc(n * sizeof *want), *prev = calloc(n, sizeof *prev),
         *cur = malloc(n * sizeof *cur), *clv = calloc(n, sizeof *clv);
  assert_true(want && prev && cur && clv);
  const double *col;
  assert_int_equal(pd_predict_p_alive(tx, d, want), PD_OK);
  assert_int_equal(pd_store_summary_column(h, PD_VALUE_P_ALIVE, &col), PD_OK);
  for (size_t i = 0; i < n; i++) assert_float_equal(col[i], want[i], 1e-12);
  assert_int_equal(pd_predict_expected_purchases(tx, d, 52.0, want), PD_OK);
  assert_int_equal(
      pd_store_summary_column(h, PD_VALUE_EXPECTED_PURCHASES, &col), PD_OK);
  for (size_t i = 0; i < n; i++) assert_float_equal(col[i], want[i], 1e-12);
  double disc = 1;
  for (int m = 1; m <= 12; m++) {
    disc *= 1.01;
    assert_int_equal(pd_predict_expected_purchases(tx, d, 4.345 * m, cur),
                     PD_OK);
    for (size_t i = 0; i < n; i++) {
      clv[i] += (cur[i] - prev[i]) / disc;
      prev[i] = cur[i];
    }
  }
  double p = gi.params[0], q = gi.params[1], g = gi.params[2];
  const double *spend, *got_clv;
  assert_int_equal(pd_store_summary_column(h, PD_VALUE_EXPECTED_SPEND, &spend),
                   PD_OK);
  assert_int_equal(pd_store_summary_column(h, PD_VALUE_CLV, &got_clv), PD_OK);
  for (size_t i = 0; i < n; i++) {
    int has = d->x[i] > 0 && d->monetary[i] > 0;
    double x = has ? d->x[i] : 0, m = has ? d->monetary[i] : 0;
    double s = p * (g + x * m) / (p * x + q - 1);
    assert_float_equal(spend[i], s, 1e-9 * s);
    assert_float_equal(got_clv[i], clv[i] * s, 1e-9 * (1 + clv[i] * s));
  }
  free(clv);
  free(cur);
  free(prev);
  free(want);
  pd_fit_free(tx);
}

/* Predicting again on 1, 2 and 3 threads writes the same bits. */
static void assert_predictions_thread_free(pd_store_summary *h) {
  size_t n = pd_store_summary_rows(h);
  double *first = malloc(4 * n * sizeof *first);
  assert_non_null(first);
  for (int32_t threads = 1; threads <= 3; threads++) {
    pd_fit_options fo = PD_FIT_OPTIONS_INIT;
    fo.threads = threads;
    pd_value_options vo = PD_VALUE_OPTIONS_INIT;
    vo.fit_options = &fo;
    assert_int_equal(pd_store_summary_predict(h, &vo), PD_OK);
    for (int c = 0; c < 4; c++) {
      const double *col;
      assert_int_equal(pd_store_summary_column(h, PD_VALUE_P_ALIVE + c, &col),
                       PD_OK);
      if (threads == 1)
        memcpy(first + c * n, col, n * sizeof *col);
      else
        assert_memory_equal(first + c * n, col, n * sizeof *col);
    }
  }
  free(first);
}

static void the_cdnow_sample_in_a_store_matches_pd_summary(void **state) {
  pd_store *s = *state;
  cdnow c;
  if (!load_cdnow(&c)) {
    skip();
    return;
  }
  /* The store: one user per customer, one order per transaction, cents. */
  for (size_t i = 0; i < c.n; i++) {
    pd_user_id u = mt_user(s, c.id[i]);
    mt_order(s, u, (int64_t)llround(c.dollars[i] * 100), c.time[i]);
  }
  int64_t cal = days_from_civil(1997, 9, 30) * DAY + DAY - 1;
  int64_t obs = days_from_civil(1998, 6, 30) * DAY + DAY - 1;
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = cal;
  spec.observation_end = obs;
  spec.unit = PD_TIME_UNIT_WEEK;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = cal;
  pd_store_summary *h = NULL;
  assert_int_equal(pd_store_summary_new(s, &f, &spec, &h), PD_OK);
  /* The same transactions through pd_summary. */
  pd_summary *ps = NULL;
  assert_int_equal(pd_summary_new(NULL, &ps), PD_OK);
  const char **ids = malloc(c.n * sizeof *ids);
  for (size_t i = 0; i < c.n; i++) ids[i] = c.id[i];
  assert_int_equal(pd_summary_add(ps, ids, NULL, c.time, c.dollars, c.n),
                   PD_OK);
  assert_int_equal(pd_summary_compute(ps, &spec), PD_OK);
  pd_customer_data a = PD_CUSTOMER_DATA_INIT, b = PD_CUSTOMER_DATA_INIT;
  assert_int_equal(pd_store_summary_data(h, &a), PD_OK);
  assert_int_equal(pd_summary_data(ps, &b), PD_OK);
  assert_int_equal(a.n, 2357);
  assert_int_equal(b.n, 2357);
  const double *xha, *xhb;
  assert_int_equal(pd_store_summary_holdout(h, &xha), PD_OK);
  assert_int_equal(pd_summary_column(ps, PD_SUMMARY_X_HOLDOUT, &xhb), PD_OK);
  /* Users were created in order of first appearance, as pd_summary's rows
   * are ordered. */
  size_t repeaters = 0;
  for (size_t i = 0; i < a.n; i++) {
    const char *id;
    assert_int_equal(pd_summary_id(ps, i, &id, NULL), PD_OK);
    pd_user_id u = 0;
    assert_int_equal(pd_user_find(s, "phone", PD_NTS, id, PD_NTS, &u), PD_OK);
    const pd_user_id *users;
    pd_store_summary_users(h, &users);
    assert_int_equal(users[i], u);
    assert_true(a.x[i] == b.x[i]);
    assert_true(a.t_x[i] == b.t_x[i]);
    assert_true(a.T[i] == b.T[i]);
    assert_true(xha[i] == xhb[i]);
    assert_float_equal(a.monetary[i], b.monetary[i], 1e-9);
    repeaters += a.x[i] > 0;
  }
  assert_int_equal(repeaters, 946);
  /* The same BG/NBD fit, and the published one (Fader, Hardie & Lee 2005:
   * r = 0.243, α = 4.414, a = 0.793, b = 2.426). */
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGNBD, &b), PD_OK);
  pd_fit_info ref = PD_FIT_INFO_INIT, got = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &ref);
  assert_int_equal(pd_store_summary_predict(h, NULL), PD_OK);
  assert_int_equal(pd_store_summary_fit(h, 0, &got), PD_OK);
  const double published[4] = {0.243, 4.414, 0.793, 2.426};
  for (int k = 0; k < 4; k++) {
    assert_float_equal(got.params[k], ref.params[k], 1e-6);
    assert_float_equal(got.params[k], published[k], 0.0015);
  }
  /* Gamma-Gamma on the 946 repeat customers: p = 6.25, q = 3.74,
   * γ = 15.44 (Fader, Hardie & Lee 2005, "RFM and CLV"). */
  assert_int_equal(pd_store_summary_fit(h, 1, &got), PD_OK);
  assert_float_equal(got.params[0], 6.25, 0.01);
  assert_float_equal(got.params[1], 3.74, 0.01);
  assert_float_equal(got.params[2], 15.44, 0.01);
  /* Predictions agree with the models' own functions. */
  const double *pa, *clv;
  assert_int_equal(pd_store_summary_column(h, PD_VALUE_P_ALIVE, &pa), PD_OK);
  assert_int_equal(pd_store_summary_column(h, PD_VALUE_CLV, &clv), PD_OK);
  double *ref_pa = malloc(a.n * sizeof *ref_pa);
  assert_int_equal(pd_predict_p_alive(fit, &b, ref_pa), PD_OK);
  for (size_t i = 0; i < a.n; i++) {
    assert_float_equal(pa[i], ref_pa[i], 1e-6);
    assert_true(isfinite(clv[i]) && clv[i] >= 0);
  }
  assert_predictions_per_customer(h, &a);
  /* Key customers: the top 3 by CLV, in decreasing order. */
  pd_user_id top[3];
  double topv[3];
  size_t got_n = 0;
  assert_int_equal(pd_store_summary_top(h, 3, top, topv, &got_n), PD_OK);
  assert_int_equal(got_n, 3);
  double maxv = 0;
  for (size_t i = 0; i < a.n; i++)
    if (clv[i] > maxv) maxv = clv[i];
  assert_true(topv[0] == maxv);
  assert_true(topv[0] >= topv[1] && topv[1] >= topv[2]);
  /* Any k: the first k of the full ranking (CLV down, ties by user id;
   * CDNOW has many identical histories, so many ties), found here by
   * selection. */
  const pd_user_id *su;
  assert_int_equal(pd_store_summary_users(h, &su), PD_OK);
  const size_t ks[] = {1, 7, 50, a.n - 1, a.n, a.n + 5};
  pd_user_id *kt = malloc((a.n + 5) * sizeof *kt);
  double *kv = malloc((a.n + 5) * sizeof *kv);
  char *taken = calloc(a.n, 1);
  for (size_t q = 0; q < sizeof ks / sizeof *ks; q++) {
    size_t kn = 0;
    assert_int_equal(pd_store_summary_top(h, ks[q], kt, kv, &kn), PD_OK);
    assert_int_equal(kn, ks[q] < a.n ? ks[q] : a.n);
    memset(taken, 0, a.n);
    for (size_t r = 0; r < kn; r++) {
      size_t best = a.n;
      for (size_t i = 0; i < a.n; i++)
        if (!taken[i] && (best == a.n || clv[i] > clv[best] ||
                          (clv[i] == clv[best] && su[i] < su[best])))
          best = i;
      taken[best] = 1;
      assert_int_equal(kt[r], su[best]);
      assert_true(kv[r] == clv[best]);
    }
  }
  assert_predictions_thread_free(h);
  free(taken);
  free(kv);
  free(kt);
  free(ref_pa);
  free(ids);
  pd_fit_free(fit);
  pd_summary_free(ps);
  pd_store_summary_free(h);
  free_cdnow(&c);
}

typedef struct groups {
  int n;
  pd_value_group g[4];
} groups;

static int collect(void *user, const pd_value_group *g) {
  groups *gs = user;
  if (gs->n < 4) gs->g[gs->n++] = *g;
  return 0;
}

static void value_by_channel_averages_the_predictions(void **state) {
  pd_store *s = *state;
  /* 40 customers with varied histories, acquired on WeCom (even) or
   * WeChat (odd); the last 4 never linked. */
  for (int k = 0; k < 40; k++) {
    char key[8];
    snprintf(key, sizeof key, "c%d", k);
    pd_user_id u = mt_user(s, key);
    if (k < 36)
      mt_link(s, u, k % 2 ? PD_CHANNEL_WECHAT : PD_CHANNEL_WECOM, T0 - DAY);
    int orders = 1 + k % 5;
    for (int j = 0; j < orders; j++)
      mt_order(s, u, 1000 + 137 * k + 50 * j, T0 + (k % 7 + 9 * j) * DAY);
  }
  int64_t cal = T0 + 60 * DAY;
  pd_store_summary *h = summarise(s, NULL, cal, PD_SUMMARY_NO_HOLDOUT);
  assert_int_equal(pd_store_summary_rows(h), 40);
  pd_value_options vo = PD_VALUE_OPTIONS_INIT;
  vo.horizon = 30;
  assert_int_equal(pd_store_summary_predict(h, &vo), PD_OK);
  const double *clv, *pa;
  pd_store_summary_column(h, PD_VALUE_CLV, &clv);
  pd_store_summary_column(h, PD_VALUE_P_ALIVE, &pa);
  double sum[3] = {0, 0, 0}, psum[3] = {0, 0, 0};
  int cnt[3] = {0, 0, 0};
  for (int k = 0; k < 40; k++) {
    int g = k >= 36 ? 0 : k % 2 ? 1 : 2; /* none, WeChat (1), WeCom (2) */
    sum[g] += clv[k];
    psum[g] += pa[k];
    cnt[g]++;
  }
  /* The sums are taken in row order on every thread count: the same
   * bits as the loop above. */
  groups gs;
  for (int32_t threads = 1; threads <= 3; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    memset(&gs, 0, sizeof gs);
    assert_int_equal(
        pd_store_value_by(s, h, PD_VALUE_BY_CHANNEL, cal, collect, &gs),
        PD_OK);
    assert_int_equal(gs.n, 3);
    for (int g = 0; g < 3; g++) {
      assert_int_equal(gs.g[g].key, (uint32_t)g); /* 0, WECHAT=1, WECOM=2 */
      assert_int_equal(gs.g[g].customers, (uint64_t)cnt[g]);
      assert_true(gs.g[g].total_clv == sum[g]);
      assert_true(gs.g[g].mean_clv == sum[g] / cnt[g]);
      assert_true(gs.g[g].mean_p_alive == psum[g] / cnt[g]);
    }
  }
  assert_int_equal(pd_store_value_by(s, h, 9, cal, collect, &gs),
                   PD_E_INVALID);
  pd_store_summary_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(the_btyd_convention_applies_to_orders,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          customers_with_hundreds_of_purchases_are_summarised, setup,
          teardown),
      cmocka_unit_test_setup_teardown(fully_refunded_orders_are_not_purchases,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(the_filter_selects_users_by_acquisition,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(bad_specs_are_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(
          the_cdnow_sample_in_a_store_matches_pd_summary, setup, teardown),
      cmocka_unit_test_setup_teardown(
          value_by_channel_averages_the_predictions, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
