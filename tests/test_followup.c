/* Specification of follow-up plans (followup.h): each guide's list for
 * the day, limited by capacity and ranked by value at risk, with a reason
 * per user; users who cannot or must not be contacted are never listed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_b_testutil.h" /* mb_filter */
#include "metrics_testutil.h"
#include "testutil_alloc.h"
#include "metrics_nomem.h"
#include "sim_rng.h"

static const int64_t T0 = 1700006400;
#define A (T0 + 100 * DAY) /* the day planned for */

typedef struct fixture {
  pd_store *s;
  uint32_t g1, g2;
  pd_user_id u[10];
} fixture;

typedef struct plan {
  int n;
  pd_followup_item it[32];
} plan;

static int collect(void *user, const pd_followup_item *it) {
  plan *p = user;
  if (p->n < 32) p->it[p->n++] = *it;
  return 0;
}

static const pd_followup_item *find(const plan *p, pd_user_id u) {
  for (int k = 0; k < p->n; k++)
    if (p->it[k].user == u) return &p->it[k];
  return NULL;
}

/* u1 (g1, WeCom): bought 3 days ago            -> after-sales check
 * u2 (g1, WeChat): every 10 days, last 20 d ago -> repurchase due
 * u3 (g1, WeCom): twice, last 90 days ago       -> no reason (3 cycles)
 * u4 (g2): bought 3 days ago, opted out          -> never listed
 * u5 (g2): bought 3 days ago, unlinked           -> never listed
 * u6 (g2): bought 3 days ago, only a public link -> never listed
 * u7 (g2): bought 3 days ago, pushed an hour ago -> capped, not listed
 * u8 (no guide): bought 3 days 1 hour ago       -> after-sales, guide 0
 * u9: erased. */
static int setup(void **state) {
  static fixture f;
  memset(&f, 0, sizeof f);
  if (pd_store_new(NULL, &f.s) != PD_OK) return -1;
  pd_guide_ensure(f.s, "g1", PD_NTS, 0, &f.g1);
  pd_guide_ensure(f.s, "g2", PD_NTS, 0, &f.g2);
  *state = &f;
  return 0;
}

static void build(fixture *f) {
  pd_store *s = f->s;
  for (int k = 1; k <= 9; k++) {
    char key[8];
    snprintf(key, sizeof key, "u%d", k);
    f->u[k] = mt_user(s, key);
    mt_link(s, f->u[k],
            k == 2 ? PD_CHANNEL_WECHAT : k == 6 ? PD_CHANNEL_STORE
                                                : PD_CHANNEL_WECOM,
            T0);
    if (k <= 3) mt_bind(s, f->u[k], f->g1, T0);
    if (k >= 4 && k <= 7) mt_bind(s, f->u[k], f->g2, T0);
  }
  mt_order(s, f->u[1], 10000, A - 3 * DAY);
  for (int j = 0; j < 3; j++)
    mt_order(s, f->u[2], 5000, A - (40 - 10 * j) * DAY);
  mt_order(s, f->u[3], 2000, A - 100 * DAY);
  mt_order(s, f->u[3], 2000, A - 90 * DAY);
  for (int k = 4; k <= 7; k++) mt_order(s, f->u[k], 9000, A - 3 * DAY);
  mt_consent(s, f->u[4], PD_CONSENT_MARKETING, 0, A - 2 * DAY);
  mt_unlink(s, f->u[5], PD_CHANNEL_WECOM, A - DAY);
  mt_touch(s, f->u[7], PD_TOUCH_BROADCAST, PD_PURPOSE_PROMOTION, A - HOUR);
  mt_order(s, f->u[8], 7000, A - 3 * DAY - HOUR);
  mt_order(s, f->u[9], 7000, A - 3 * DAY);
  assert_int_equal(pd_user_erase(s, f->u[9]), PD_OK);
}

static int teardown(void **state) {
  fixture *f = *state;
  pd_store_free(f->s);
  return 0;
}

static plan run(fixture *f, const pd_store_summary *h,
                const pd_followup_options *o, uint32_t guide) {
  pd_metrics_filter flt = PD_METRICS_FILTER_INIT;
  flt.as_of = A;
  flt.guide = guide;
  plan p;
  memset(&p, 0, sizeof p);
  assert_int_equal(pd_followup_plan(f->s, h, &flt, o, collect, &p), PD_OK);
  return p;
}

static void each_guide_gets_a_ranked_list_with_reasons(void **state) {
  fixture *f = *state;
  build(f);
  plan p = run(f, NULL, NULL, 0);
  assert_int_equal(p.n, 3);
  /* guide 0 first, then g1's list by value at risk (spend 150 > 100). */
  assert_int_equal(p.it[0].guide, 0);
  assert_int_equal(p.it[0].user, f->u[8]);
  assert_int_equal(p.it[0].reason, PD_FOLLOWUP_AFTER_SALES);
  assert_int_equal(p.it[1].guide, f->g1);
  assert_int_equal(p.it[1].user, f->u[2]);
  assert_int_equal(p.it[1].rank, 1);
  assert_int_equal(p.it[1].reason, PD_FOLLOWUP_REPURCHASE_DUE);
  assert_int_equal(p.it[1].channel, PD_CHANNEL_WECHAT);
  assert_float_equal(p.it[1].value, 150.0, 1e-12);
  assert_float_equal(p.it[1].p_alive, 1.0, 0);
  assert_float_equal(p.it[1].value_at_risk, 150.0 * 0.05, 1e-12);
  assert_int_equal(p.it[1].last_purchase, A - 20 * DAY);
  assert_int_equal(p.it[2].user, f->u[1]);
  assert_int_equal(p.it[2].rank, 2);
  assert_int_equal(p.it[2].reason, PD_FOLLOWUP_AFTER_SALES);
  assert_int_equal(p.it[2].channel, PD_CHANNEL_WECOM);
}

static void users_who_must_not_be_contacted_are_never_listed(void **state) {
  fixture *f = *state;
  build(f);
  plan p = run(f, NULL, NULL, 0);
  for (int k = 3; k <= 7; k++) assert_null(find(&p, f->u[k]));
  assert_null(find(&p, f->u[9]));
  /* The capped user comes back once the day has passed (1 a day, 2 a
   * week: one push in the week leaves room). */
  pd_metrics_filter flt = PD_METRICS_FILTER_INIT;
  flt.as_of = A + DAY;
  plan q;
  memset(&q, 0, sizeof q);
  pd_followup_options o = PD_FOLLOWUP_OPTIONS_INIT;
  o.after_sales_delay = 4 * DAY;
  assert_int_equal(pd_followup_plan(f->s, NULL, &flt, &o, collect, &q), PD_OK);
  assert_non_null(find(&q, f->u[7]));
  assert_null(find(&q, f->u[4]));
}

static void the_guides_capacity_limits_the_list(void **state) {
  fixture *f = *state;
  build(f);
  pd_followup_options o = PD_FOLLOWUP_OPTIONS_INIT;
  o.guide_capacity = 1;
  plan p = run(f, NULL, &o, f->g1);
  assert_int_equal(p.n, 1);
  assert_int_equal(p.it[0].user, f->u[2]); /* the higher value at risk */
  o.guide_capacity = 0;
  pd_metrics_filter flt = PD_METRICS_FILTER_INIT;
  flt.as_of = A;
  assert_int_equal(pd_followup_plan(f->s, NULL, &flt, &o, collect, &p),
                   PD_E_INVALID);
}

static void a_product_usage_cycle_replaces_the_own_interval(void **state) {
  fixture *f = *state;
  build(f);
  pd_followup_options o = PD_FOLLOWUP_OPTIONS_INIT;
  o.usage_cycle = 50 * DAY;
  plan p = run(f, NULL, &o, f->g1);
  assert_null(find(&p, f->u[2])); /* 20 days < 50 */
  const pd_followup_item *it = find(&p, f->u[3]);
  assert_non_null(it); /* 90 days in [50, 150) */
  assert_int_equal(it->reason, PD_FOLLOWUP_REPURCHASE_DUE);
}

static void predictions_bring_win_back_and_key_customers(void **state) {
  fixture *f = *state;
  build(f);
  pd_store *s = f->s;
  /* Customers never linked (never listed) give the models data: BG/NBD
   * buyers (rate ~ Gamma(0.5, 1/20 per day), dropout p ~ Beta(1, 3)). */
  sim_rng rng = {7};
  for (int k = 0; k < 300; k++) {
    char key[8];
    snprintf(key, sizeof key, "x%d", k);
    pd_user_id u = mt_user(s, key);
    double lambda = sim_gamma(&rng, 0.5) / 20.0, p = sim_beta(&rng, 1, 3);
    int64_t t = T0 + (int64_t)(sim_uniform(&rng) * 30) * DAY;
    for (;;) {
      mt_order(s, u, 1000 + (int64_t)(sim_uniform(&rng) * 5000), t);
      if (sim_uniform(&rng) < p) break;
      t += (int64_t)(-log(sim_uniform(&rng)) / lambda * DAY) + DAY;
      if (t > A) break;
    }
  }
  /* u10: a big regular spender, linked to g2, last bought 7 days ago. */
  pd_user_id big = mt_user(s, "big");
  mt_link(s, big, PD_CHANNEL_WECOM, T0);
  mt_bind(s, big, f->g2, T0);
  for (int j = 0; j < 12; j++)
    mt_order(s, big, 90000, A - (7 + 5 * j) * DAY);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = A;
  pd_metrics_filter all = PD_METRICS_FILTER_INIT;
  all.as_of = A;
  pd_store_summary *h = NULL;
  assert_int_equal(pd_store_summary_new(s, &all, &spec, &h), PD_OK);
  pd_status pst = pd_store_summary_predict(h, NULL);
  if (pst != PD_OK)
    fail_msg("predict: %d %s", (int)pst, pd_store_summary_errmsg(h));
  pd_user_id top;
  size_t n;
  assert_int_equal(pd_store_summary_top(h, 1, &top, NULL, &n), PD_OK);
  assert_int_equal(top, big);
  pd_followup_options o = PD_FOLLOWUP_OPTIONS_INIT;
  o.usage_cycle = 1000 * DAY; /* no repurchase reminders */
  o.key_customers = 1;
  o.win_back_p_alive = 1.0;   /* every repeat buyer below 1 is slipping */
  plan p = run(f, h, &o, 0);
  const pd_user_id *users;
  const double *clv, *pa;
  pd_store_summary_users(h, &users);
  pd_store_summary_column(h, PD_VALUE_CLV, &clv);
  pd_store_summary_column(h, PD_VALUE_P_ALIVE, &pa);
  for (int k = 0; k < p.n; k++) {
    size_t row = 0;
    while (users[row] != p.it[k].user) row++;
    assert_float_equal(p.it[k].value, clv[row], 0);
    assert_float_equal(p.it[k].p_alive, pa[row], 0);
    double risk = 1 - pa[row] > 0.05 ? 1 - pa[row] : 0.05;
    assert_float_equal(p.it[k].value_at_risk, clv[row] * risk, 1e-12);
  }
  const pd_followup_item *it = find(&p, f->u[3]);
  assert_non_null(it);
  assert_int_equal(it->reason, PD_FOLLOWUP_WIN_BACK);
  it = find(&p, big);
  assert_non_null(it);
  assert_true(it->reason == PD_FOLLOWUP_WIN_BACK ||
              it->reason == PD_FOLLOWUP_KEY_CUSTOMER);
  /* With no win-back threshold the big spender is listed as a key
   * customer, until a guide has talked to them 1:1. */
  o.win_back_p_alive = 0.0;
  p = run(f, h, &o, 0);
  it = find(&p, big);
  assert_non_null(it);
  assert_int_equal(it->reason, PD_FOLLOWUP_KEY_CUSTOMER);
  assert_int_equal(it->guide, f->g2);
  assert_null(find(&p, f->u[3]));
  mt_touch(s, big, PD_TOUCH_OUTBOUND_1TO1, PD_PURPOSE_SERVICE, A - DAY);
  p = run(f, h, &o, 0);
  assert_null(find(&p, big));
  pd_store_summary_free(h);
}

typedef struct stopper {
  int calls;
} stopper;

static int stop_at_first(void *user, const pd_followup_item *it) {
  (void)it;
  ((stopper *)user)->calls++;
  return 1;
}

/* Plans are made on several threads, each user within a bounded room;
 * users with longer histories (here 300 orders, or 200 unlink and re-link
 * cycles) are planned on the calling thread, and the plan is the same as
 * for short histories, for every thread count. */
static void users_with_long_histories_are_planned_alike(void **state) {
  fixture *f = *state;
  build(f);
  pd_store *s = f->s;
  pd_user_id buyer = mt_user(s, "buyer"), flaky = mt_user(s, "flaky");
  mt_link(s, buyer, PD_CHANNEL_WECOM, T0);
  mt_bind(s, buyer, f->g2, T0);
  for (int d = 0; d < 300; d++)
    mt_order(s, buyer, 100, A - (302 - d) * DAY - HOUR);
  /* the last of them 3 days and an hour before A: an after-sales check */
  mt_link(s, flaky, PD_CHANNEL_WECOM, T0);
  for (int k = 0; k < 200; k++) {
    mt_unlink(s, flaky, PD_CHANNEL_WECOM, T0 + (2 * k + 1) * HOUR);
    mt_link(s, flaky, PD_CHANNEL_WECOM, T0 + (2 * k + 2) * HOUR);
  }
  mt_bind(s, flaky, f->g2, T0);
  mt_order(s, flaky, 4000, A - 3 * DAY);
  for (int32_t threads = 1; threads <= 3; threads++) {
    assert_int_equal(pd_store_set_threads(s, threads), PD_OK);
    plan p = run(f, NULL, NULL, 0);
    assert_int_equal(p.n, 5);
    const pd_followup_item *b = find(&p, buyer), *fl = find(&p, flaky);
    assert_non_null(b);
    assert_non_null(fl);
    assert_int_equal(b->guide, f->g2);
    assert_int_equal(b->reason, PD_FOLLOWUP_AFTER_SALES);
    assert_float_equal(b->value, 300.0, 1e-9);
    assert_int_equal(b->last_purchase, A - 3 * DAY - HOUR);
    assert_int_equal(fl->guide, f->g2);
    assert_int_equal(fl->reason, PD_FOLLOWUP_AFTER_SALES);
    assert_int_equal(fl->channel, PD_CHANNEL_WECOM);
    /* g2's list by value at risk: the buyer (300) before flaky (40). */
    assert_true(b->rank == 1 && fl->rank == 2);
  }
}

static void the_callback_can_stop_the_plan(void **state) {
  fixture *f = *state;
  build(f);
  pd_metrics_filter flt = PD_METRICS_FILTER_INIT;
  flt.as_of = A;
  stopper st = {0};
  assert_int_equal(
      pd_followup_plan(f->s, NULL, &flt, NULL, stop_at_first, &st), PD_OK);
  assert_int_equal(st.calls, 1);
  assert_int_equal(pd_followup_plan(f->s, NULL, &flt, NULL, NULL, &st),
                   PD_E_INVALID);
}

static void out_of_memory_is_reported_and_leaks_nothing(void **state) {
  (void)state;
  test_alloc ta;
  pd_allocator a;
  pd_store *s = nomem_store(&ta, &a, A);
  pd_metrics_filter f = mb_filter(A);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = A;
  pd_store_summary *h = NULL;
  EVERY_ALLOCATION_FAILS_CLEANLY(ta, pd_store_summary_new(s, &f, &spec, &h));
  assert_int_equal(pd_store_summary_rows(h), 12);
  plan p;
  memset(&p, 0, sizeof p);
  /* A week later, when the pushes no longer cap anyone. */
  f.as_of = A + 8 * DAY;
  pd_followup_options o = PD_FOLLOWUP_OPTIONS_INIT;
  o.usage_cycle = 40 * DAY;
  EVERY_ALLOCATION_FAILS_CLEANLY(ta, (p.n = 0, pd_followup_plan(s, h, &f, &o,
                                                                collect, &p)));
  assert_true(p.n > 0);
  pd_store_summary_free(h);
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          each_guide_gets_a_ranked_list_with_reasons, setup, teardown),
      cmocka_unit_test_setup_teardown(
          users_who_must_not_be_contacted_are_never_listed, setup, teardown),
      cmocka_unit_test_setup_teardown(the_guides_capacity_limits_the_list,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          a_product_usage_cycle_replaces_the_own_interval, setup, teardown),
      cmocka_unit_test_setup_teardown(
          predictions_bring_win_back_and_key_customers, setup, teardown),
      cmocka_unit_test_setup_teardown(
          users_with_long_histories_are_planned_alike, setup, teardown),
      cmocka_unit_test_setup_teardown(the_callback_can_stop_the_plan, setup,
                                      teardown),
      cmocka_unit_test(out_of_memory_is_reported_and_leaks_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
