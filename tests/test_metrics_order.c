/* Specification shared by every "metrics A" figure (trust.h, pressure.h,
 * store_summary.h, followup.h): the answer does not depend on the order in
 * which events arrived. Two stores get the same random events, one in time
 * order and one in reverse, and must give the same figures. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_testutil.h"
#include "sim_rng.h"

static const int64_t T0 = 1700006400;
#define USERS 60
#define EVENTS 3000

typedef struct ev {
  int kind; /* 0 link, 1 touch, 2 order, 3 consent */
  int user;
  int32_t a, b;
  int64_t amount, time;
  uint64_t eid;
} ev;

static ev evs[EVENTS];

static void generate(void) {
  sim_rng r = {42};
  for (int i = 0; i < EVENTS; i++) {
    ev *e = &evs[i];
    e->eid = 1000 + (uint64_t)i;
    e->user = i < USERS ? i : (int)(sim_next(&r) % USERS);
    e->time = T0 + (int64_t)(sim_uniform(&r) * 120 * DAY);
    if (i < USERS) { /* everyone linked, on one of two channels */
      e->kind = 0;
      e->a = i % 3 ? PD_CHANNEL_WECOM : PD_CHANNEL_WECHAT;
      e->time = T0 - DAY;
      continue;
    }
    double u = sim_uniform(&r);
    if (u < 0.75) {
      static const int32_t kinds[] = {
          PD_TOUCH_INBOUND_MESSAGE, PD_TOUCH_OUTBOUND_1TO1, PD_TOUCH_BROADCAST,
          PD_TOUCH_POST_EXPOSURE,   PD_TOUCH_CONTENT_VIEW,  PD_TOUCH_PROMISE_KEPT,
          PD_TOUCH_PROMISE_BROKEN,  PD_TOUCH_CONTENT_ENGAGEMENT};
      e->kind = 1;
      e->a = kinds[sim_next(&r) % 8];
      int brand = e->a == PD_TOUCH_OUTBOUND_1TO1 ||
                  e->a == PD_TOUCH_BROADCAST || e->a == PD_TOUCH_POST_EXPOSURE;
      e->b = brand ? (int32_t)(1 + sim_next(&r) % 3) : PD_PURPOSE_NONE;
    } else if (u < 0.98) {
      e->kind = 2;
      e->amount = 100 + (int64_t)(sim_next(&r) % 20000);
    } else {
      e->kind = 3;
      e->a = PD_CONSENT_MARKETING;
      e->b = (int32_t)(sim_next(&r) % 2);
    }
  }
}

static void record(pd_store *s, const pd_user_id *ids, const ev *e) {
  switch (e->kind) {
    case 0: {
      pd_link_event l = PD_LINK_EVENT_INIT;
      l.event_id = e->eid;
      l.user = ids[e->user];
      l.channel = e->a;
      l.time = e->time;
      assert_int_equal(pd_record_link(s, &l), PD_OK);
      break;
    }
    case 1: {
      pd_touchpoint t = PD_TOUCHPOINT_INIT;
      t.event_id = e->eid;
      t.user = ids[e->user];
      t.kind = e->a;
      t.purpose = e->b;
      t.channel = PD_CHANNEL_WECOM;
      t.time = e->time;
      assert_int_equal(pd_record_touchpoint(s, &t), PD_OK);
      break;
    }
    case 2: {
      pd_order o = PD_ORDER_INIT;
      o.event_id = o.order_id = e->eid;
      o.user = ids[e->user];
      o.amount = e->amount;
      o.time = e->time;
      assert_int_equal(pd_record_order(s, &o), PD_OK);
      break;
    }
    default: {
      pd_consent c = PD_CONSENT_INIT;
      c.event_id = e->eid;
      c.user = ids[e->user];
      c.purpose = e->a;
      c.granted = e->b;
      c.time = e->time;
      assert_int_equal(pd_record_consent(s, &c), PD_OK);
    }
  }
}

static pd_store *build(int reverse) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_user_id ids[USERS];
  for (int u = 0; u < USERS; u++) {
    char key[8];
    snprintf(key, sizeof key, "u%d", u);
    ids[u] = mt_user(s, key);
  }
  for (int i = 0; i < EVENTS; i++)
    record(s, ids, &evs[reverse ? EVENTS - 1 - i : i]);
  return s;
}

typedef struct plan {
  int n;
  pd_followup_item it[256];
} plan;

static int collect(void *user, const pd_followup_item *it) {
  plan *p = user;
  if (p->n < 256) p->it[p->n++] = *it;
  return 0;
}

static void every_figure_is_independent_of_arrival_order(void **state) {
  (void)state;
  generate();
  pd_store *s[2] = {build(0), build(1)};
  const int64_t as_of[3] = {T0 + 30 * DAY, T0 + 90 * DAY, T0 + 130 * DAY};
  uint64_t over_cap = 0;
  for (int k = 0; k < 3; k++) {
    pd_metrics_filter f = PD_METRICS_FILTER_INIT;
    f.as_of = as_of[k];
    pd_trust_distribution td[2];
    pd_pressure_stats ps[2];
    plan p[2];
    pd_store_summary *h[2];
    for (int j = 0; j < 2; j++) {
      td[j] = (pd_trust_distribution)PD_TRUST_DISTRIBUTION_INIT;
      ps[j] = (pd_pressure_stats)PD_PRESSURE_STATS_INIT;
      assert_int_equal(pd_trust_distribution_get(s[j], &f, NULL, &td[j]),
                       PD_OK);
      assert_int_equal(pd_pressure_stats_get(s[j], &f, 60 * DAY, NULL, &ps[j]),
                       PD_OK);
      pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
      spec.calibration_end = as_of[k];
      assert_int_equal(pd_store_summary_new(s[j], &f, &spec, &h[j]), PD_OK);
      memset(&p[j], 0, sizeof p[j]);
      pd_followup_options o = PD_FOLLOWUP_OPTIONS_INIT;
      o.usage_cycle = 10 * DAY;
      assert_int_equal(
          pd_followup_plan(s[j], NULL, &f, &o, collect, &p[j]), PD_OK);
    }
    assert_int_equal(td[0].users, USERS);
    assert_float_equal(td[0].mean_score, td[1].mean_score, 1e-9);
    for (int b = 0; b < PD_TRUST_BINS; b++)
      assert_int_equal(td[0].histogram[b], td[1].histogram[b]);
    for (int d = 0; d < 9; d++)
      assert_float_equal(td[0].deciles[d], td[1].deciles[d], 1e-9);
    assert_int_equal(ps[0].pushes, ps[1].pushes);
    assert_true(ps[0].p50 == ps[1].p50 && ps[0].p90 == ps[1].p90);
    assert_int_equal(ps[0].max, ps[1].max);
    assert_int_equal(ps[0].over_cap_pushes, ps[1].over_cap_pushes);
    assert_int_equal(ps[0].users_over_cap, ps[1].users_over_cap);
    pd_customer_data a = PD_CUSTOMER_DATA_INIT, b = PD_CUSTOMER_DATA_INIT;
    pd_store_summary_data(h[0], &a);
    pd_store_summary_data(h[1], &b);
    assert_int_equal(a.n, b.n);
    assert_true(a.n > 0);
    for (size_t i = 0; i < a.n; i++) {
      assert_true(a.x[i] == b.x[i] && a.t_x[i] == b.t_x[i] && a.T[i] == b.T[i]);
      assert_float_equal(a.monetary[i], b.monetary[i], 1e-9);
    }
    assert_int_equal(p[0].n, p[1].n);
    assert_true(p[0].n > 0);
    over_cap += ps[0].over_cap_pushes; /* the data must exercise the caps */
    for (int i = 0; i < p[0].n; i++) {
      assert_int_equal(p[0].it[i].user, p[1].it[i].user);
      assert_int_equal(p[0].it[i].reason, p[1].it[i].reason);
      assert_float_equal(p[0].it[i].value, p[1].it[i].value, 1e-9);
    }
    pd_store_summary_free(h[0]);
    pd_store_summary_free(h[1]);
  }
  assert_true(over_cap > 0);
  pd_store_free(s[0]);
  pd_store_free(s[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_figure_is_independent_of_arrival_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
