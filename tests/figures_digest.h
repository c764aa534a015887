/* Every metric figure of a store digested byte for byte (every field of
 * every result and row), on the `pd demo` domain: tests compare two
 * stores, or one store under two settings, by their digests. Header-only
 * (static functions); the test must compile examples/pd/demo_data.c in. */
#ifndef PD_TESTS_FIGURES_DIGEST_H
#define PD_TESTS_FIGURES_DIGEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "demo_store.h"


typedef struct digest {
  uint64_t h;
  uint64_t bytes;
} digest;

static void put(digest *d, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    d->h ^= b[i];
    d->h *= 0x100000001b3ull; /* FNV-1a */
  }
  d->bytes += n;
}

/* Row structs are zeroed before the copy so padding digests alike. */
#define PUT_ROWS(d, rows, type, get)                       \
  do {                                                     \
    size_t n_ = pd_rows_count(rows);                       \
    put(d, &n_, sizeof n_);                                \
    for (size_t i_ = 0; i_ < n_; i_++) {                   \
      type r_;                                             \
      memset(&r_, 0, sizeof r_);                           \
      r_.size = sizeof r_;                                 \
      assert_int_equal(get(rows, i_, &r_), PD_OK);         \
      put(d, &r_, sizeof r_);                              \
    }                                                      \
    pd_rows_free(rows);                                    \
  } while (0)

static int put_plan(void *user, const pd_followup_item *it) {
  put(user, it, sizeof *it);
  return 0;
}

static int put_group(void *user, const pd_value_group *g) {
  put(user, g, sizeof *g);
  return 0;
}

static void put_doubles(digest *d, const double *v, size_t n) {
  put(d, v, n * sizeof *v);
}

enum { FIGURES = 20 };
static const char *const figure_names[FIGURES] = {
    "trust_distribution", "pressure_stats",   "store_summary",
    "store_value_predict", "value_by_source", "followup_plan",
    "link_retention",     "link_survival_km", "unlink_rate",
    "campaign_health",    "funnel",           "repurchase",
    "referral_stats",     "referral_top",     "guide_figures",
    "guide_handovers",    "rfm",              "super_users",
    "trust_distribution_guide", "repurchase_by_guide"};

/* Every figure of the store as of the end of the demo year, digested. */
static void figures(pd_store *s, const demo_data *dd, const demo_ids *ids,
                    digest *out) {
  memset(out, 0, sizeof(digest) * FIGURES);
  for (int k = 0; k < FIGURES; k++) out[k].h = 0xcbf29ce484222325ull;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = DEMO_T_END;
  int64_t mid = DEMO_T_BEGIN + 180 * DEMO_DAY;

  pd_trust_distribution td;
  memset(&td, 0, sizeof td);
  td.size = sizeof td;
  assert_int_equal(pd_trust_distribution_get(s, &f, NULL, &td), PD_OK);
  assert_true(td.users > 0);
  put(&out[0], &td, sizeof td);

  pd_pressure_stats ps;
  memset(&ps, 0, sizeof ps);
  ps.size = sizeof ps;
  assert_int_equal(pd_pressure_stats_get(s, &f, 7 * DEMO_DAY, NULL, &ps),
                   PD_OK);
  put(&out[1], &ps, sizeof ps);

  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = DEMO_T_END;
  spec.unit = PD_TIME_UNIT_WEEK;
  pd_store_summary *h = NULL;
  assert_int_equal(pd_store_summary_new(s, &f, &spec, &h), PD_OK);
  pd_customer_data cd = PD_CUSTOMER_DATA_INIT;
  const pd_user_id *users = NULL;
  assert_int_equal(pd_store_summary_data(h, &cd), PD_OK);
  assert_int_equal(pd_store_summary_users(h, &users), PD_OK);
  size_t rows = pd_store_summary_rows(h);
  assert_true(rows > 0);
  put(&out[2], users, rows * sizeof *users);
  put_doubles(&out[2], cd.x, rows);
  put_doubles(&out[2], cd.t_x, rows);
  put_doubles(&out[2], cd.T, rows);

  assert_int_equal(pd_store_summary_predict(h, NULL), PD_OK);
  for (int32_t c = PD_VALUE_P_ALIVE; c <= PD_VALUE_CLV; c++) {
    const double *v = NULL;
    assert_int_equal(pd_store_summary_column(h, c, &v), PD_OK);
    put_doubles(&out[3], v, rows);
  }
  assert_int_equal(
      pd_store_value_by(s, h, PD_VALUE_BY_SOURCE, DEMO_T_END, put_group,
                        &out[4]),
      PD_OK);
  assert_int_equal(pd_followup_plan(s, h, &f, NULL, put_plan, &out[5]), PD_OK);
  pd_store_summary_free(h);

  pd_rows *r = NULL;
  assert_int_equal(pd_link_retention_compute(s, &f, NULL, &r), PD_OK);
  PUT_ROWS(&out[6], r, pd_link_retention_row, pd_link_retention_row_get);

  pd_km *km = NULL;
  assert_int_equal(pd_km_new(NULL, &km), PD_OK);
  assert_int_equal(pd_link_survival_km(s, &f, 0, km), PD_OK);
  pd_km_curve kc = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(km, &kc), PD_OK);
  put(&out[7], &kc.n, sizeof kc.n);
  put_doubles(&out[7], kc.time, kc.n);
  put_doubles(&out[7], kc.at_risk, kc.n);
  put_doubles(&out[7], kc.survival, kc.n);
  pd_km_free(km);

  pd_unlink_rate ur;
  memset(&ur, 0, sizeof ur);
  ur.size = sizeof ur;
  assert_int_equal(pd_unlink_rate_compute(s, &f, 0, mid, mid + 30 * DEMO_DAY,
                                          &ur),
                   PD_OK);
  put(&out[8], &ur, sizeof ur);

  pd_campaign_health ch;
  memset(&ch, 0, sizeof ch);
  ch.size = sizeof ch;
  assert_int_equal(pd_campaign_health_compute(s, &f, ids->campaign,
                                              dd->flash_start, dd->flash_end,
                                              NULL, &ch),
                   PD_OK);
  put(&out[9], &ch, sizeof ch);

  assert_int_equal(pd_funnel_compute(s, &f, NULL, &r), PD_OK);
  PUT_ROWS(&out[10], r, pd_funnel_row, pd_funnel_row_get);
  assert_int_equal(pd_repurchase_compute(s, &f, NULL, &r), PD_OK);
  PUT_ROWS(&out[11], r, pd_repurchase_row, pd_repurchase_row_get);

  pd_referral_stats rs;
  memset(&rs, 0, sizeof rs);
  rs.size = sizeof rs;
  assert_int_equal(pd_referral_stats_compute(s, &f, DEMO_T_BEGIN, DEMO_T_END,
                                             &rs),
                   PD_OK);
  put(&out[12], &rs, sizeof rs);

  pd_referrer_row top[50];
  memset(top, 0, sizeof top);
  top[0].size = sizeof top[0];
  size_t n = 0;
  assert_int_equal(pd_referral_top(s, &f, 50, top, 50, &n), PD_OK);
  put(&out[13], top, n * sizeof top[0]);

  assert_int_equal(pd_guide_figures_compute(s, &f, NULL, &r), PD_OK);
  PUT_ROWS(&out[14], r, pd_guide_figures_row, pd_guide_figures_row_get);
  assert_int_equal(pd_guide_handover_history(s, &f, &r), PD_OK);
  PUT_ROWS(&out[15], r, pd_handover_row, pd_handover_row_get);
  assert_int_equal(pd_rfm_compute(s, &f, &r), PD_OK);
  PUT_ROWS(&out[16], r, pd_rfm_row, pd_rfm_row_get);

  pd_super_user su[50];
  memset(su, 0, sizeof su);
  su[0].size = sizeof su[0];
  assert_int_equal(pd_super_users(s, &f, NULL, 50, su, 50, &n), PD_OK);
  put(&out[17], su, n * sizeof su[0]);

  /* Filtered: the guide filter takes the per-user filter path. */
  pd_metrics_filter fg = f;
  fg.guide = ids->guide;
  memset(&td, 0, sizeof td);
  td.size = sizeof td;
  assert_int_equal(pd_trust_distribution_get(s, &fg, NULL, &td), PD_OK);
  put(&out[18], &td, sizeof td);
  pd_repurchase_options ro = PD_REPURCHASE_OPTIONS_INIT;
  ro.group_by = PD_BY_GUIDE;
  assert_int_equal(pd_repurchase_compute(s, &fg, &ro, &r), PD_OK);
  PUT_ROWS(&out[19], r, pd_repurchase_row, pd_repurchase_row_get);
}

/* 1 if the two digests of every figure are equal; else 0 and the first
 * figure that differs in *which. */
static int figures_equal(const digest *a, const digest *b, int *which) {
  for (int k = 0; k < FIGURES; k++) {
    assert_true(a[k].bytes > 0);
    if (a[k].h != b[k].h || a[k].bytes != b[k].bytes) {
      *which = k;
      return 0;
    }
  }
  return 1;
}

#endif
