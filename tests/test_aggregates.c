/* Specification of the store aggregates (aggregates.h): the funnel, link
 * cohort and RFM figures of users split over several stores, merged, are
 * the figures of one store holding them all; the serialised form is
 * stable and refuses damaged bytes; a failed merge changes nothing. */
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

#include "sim_rng.h"
#include "testutil_alloc.h"

#define DAY INT64_C(86400)
#define T0 INT64_C(1704067200) /* 2024-01-01, a Monday */
#define AS_OF (T0 + 250 * DAY)
#define MAX_SHARDS 4

/* The frozen bytes of the_byte_layout_is_frozen(). */
#define EXPECTED_RFM_HEX \
  "5044414701001200ec000000000000008097db66000000000000000000000000" \
  "00000000000000007b14ae47e17a843f02000000000000000200000000000000" \
  "d00700000000000002000000000000000000000000000000000000000000f03f" \
  "0000000000002440020000000000000001000000000000007400000001000000" \
  "000000000000000002000000000000000000000000000000000000000000f03f" \
  "000000000000f03f010000000000000002000000000000000000000002000000" \
  "0000000000000000000000000000000000407f40000000000070974002000000" \
  "3701000001000000000000006e010000010000000000000000000000d39c3c1c"

/* ---- a deterministic synthetic chain ---------------------------------- */

enum { E_LINK = 1, E_UNLINK, E_ORDER, E_REFUND, E_REFERRAL, E_REACH, E_COST };

typedef struct ev {
  int kind;
  uint64_t eid;
  uint32_t user, other; /* global user indices (1-based); other = referee */
  int32_t channel;
  uint32_t source, guide;
  int64_t time, amount;
  uint64_t order; /* refunds: the order's id */
} ev;

typedef struct chain {
  ev *v;
  size_t n, cap;
  uint32_t users;
} chain;

static void push(chain *c, ev e) {
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 1024;
    c->v = realloc(c->v, c->cap * sizeof *c->v);
    assert_non_null(c->v);
  }
  e.eid = c->n + 1;
  c->v[c->n++] = e;
}

static int64_t uniform_time(sim_rng *r, int64_t from, int64_t days) {
  return from + (int64_t)(sim_uniform(r) * (double)(days * DAY));
}

/* Users whose index is congruent modulo `stride` refer one another, so a
 * referral never crosses the shards of a split by index modulo stride. */
static chain make_chain(uint32_t users, uint64_t seed, uint32_t stride) {
  static const int32_t channels[3] = {PD_CHANNEL_WECHAT, PD_CHANNEL_WECOM,
                                      PD_CHANNEL_MINI_PROGRAM};
  chain c = {NULL, 0, 0, users};
  sim_rng r = {seed};
  for (uint32_t u = 1; u <= users; u++) {
    int64_t lt = 0;
    if (sim_uniform(&r) < 0.9) {
      int32_t ch = channels[sim_next(&r) % 3];
      lt = uniform_time(&r, T0, 240);
      push(&c, (ev){E_LINK, 0, u, 0, ch, (uint32_t)(sim_next(&r) % 3),
                    (uint32_t)(sim_next(&r) % 4), lt, 0, 0});
      if (sim_uniform(&r) < 0.35) {
        int64_t ut = lt + 1 + (int64_t)(sim_uniform(&r) * 90 * DAY);
        push(&c, (ev){E_UNLINK, 0, u, 0, ch,
                      sim_uniform(&r) < 0.7 ? PD_UNLINK_USER_DELETED
                                            : PD_UNLINK_STAFF_REMOVED,
                      0, ut, 0, 0});
        if (sim_uniform(&r) < 0.4)
          push(&c, (ev){E_LINK, 0, u, 0, ch, 0, 0,
                        ut + 1 + (int64_t)(sim_uniform(&r) * 30 * DAY), 0,
                        0});
      }
      if (sim_uniform(&r) < 0.3)
        push(&c, (ev){E_LINK, 0, u, 0, channels[sim_next(&r) % 3], 1, 0,
                      lt + (int64_t)(sim_uniform(&r) * 60 * DAY) + 7, 0, 0});
      if (sim_uniform(&r) < 0.1 && u + stride <= users)
        push(&c, (ev){E_REFERRAL, 0, u, u + stride, 0, 0, 0,
                      lt + (int64_t)(sim_uniform(&r) * 20 * DAY), 0, 0});
    }
    uint32_t orders = (uint32_t)(sim_next(&r) % 7);
    if (sim_uniform(&r) < 0.4) orders = 0;
    for (uint32_t k = 0; k < orders; k++) {
      int64_t ot = lt && sim_uniform(&r) < 0.5
                       ? lt + (int64_t)(sim_uniform(&r) * 45 * DAY)
                       : uniform_time(&r, T0 - 30 * DAY, 300);
      int64_t amount = 100 + (int64_t)(sim_next(&r) % 9900);
      push(&c, (ev){E_ORDER, 0, u, 0, 0, 0, 0, ot, amount, 0});
      uint64_t oid = c.n;
      if (sim_uniform(&r) < 0.1)
        push(&c, (ev){E_REFUND, 0, 0, 0, 0, 0, 0,
                      ot + (int64_t)(sim_uniform(&r) * 10 * DAY),
                      1 + (int64_t)(sim_next(&r) % (uint64_t)amount), oid});
    }
  }
  for (int k = 0; k < 24; k++) {
    int32_t ch = k % 4 == 3 ? 0 : channels[k % 3];
    push(&c, (ev){E_REACH, 0, 0, 0, channels[k % 3], (uint32_t)(k % 3), 0,
                  uniform_time(&r, T0, 260),
                  1000 + (int64_t)(sim_next(&r) % 5000), 0});
    ev cost = {E_COST, 0, 0, 0, ch, (uint32_t)(k % 3), 0,
               uniform_time(&r, T0, 260), 500 + (int64_t)(sim_next(&r) % 50000),
               0};
    push(&c, cost);
  }
  return c;
}

/* Which store of a split holds a user, or a store-level record. */
static int shard_of(uint32_t user_or_record, int shards) {
  return (int)(user_or_record % (uint32_t)shards);
}

/* Record into `s` the events of the users with shard_of() == shard (every
 * user when shards = 1) and its share of the reach and cost records. Users
 * are created in increasing global order, labels and guides identically
 * everywhere, so ids of channels, sources and guides agree. */
static pd_store *build(const chain *c, int shards, int shard,
                       const pd_allocator *alloc) {
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.allocator = alloc;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&so, &s), PD_OK);
  uint32_t l = 0, g = 0;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "qr", PD_NTS, &l), PD_OK);
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "ad", PD_NTS, &l), PD_OK);
  assert_int_equal(l, 2);
  for (int k = 1; k <= 3; k++) {
    char code[8];
    snprintf(code, sizeof code, "G%d", k);
    pd_guide_ensure(s, code, PD_NTS, 0, &g);
    assert_int_equal(g, (uint32_t)k);
  }
  pd_user_id *local = calloc(c->users + 1, sizeof *local);
  assert_non_null(local);
  for (uint32_t u = 1; u <= c->users; u++) {
    if (shard_of(u, shards) != shard) continue;
    char key[16];
    snprintf(key, sizeof key, "u%u", (unsigned)u);
    assert_int_equal(pd_user_ensure(s, "t", PD_NTS, key, PD_NTS, &local[u]),
                     PD_OK);
  }
  uint32_t record = 0;
  for (size_t i = 0; i < c->n; i++) {
    const ev *e = &c->v[i];
    pd_status st = PD_OK;
    if (e->kind == E_REACH || e->kind == E_COST) {
      if (shard_of(record++, shards) != shard) continue;
    } else if (e->kind == E_REFUND) {
      if (shard_of(c->v[e->order - 1].user, shards) != shard) continue;
    } else if (shard_of(e->user, shards) != shard) {
      continue;
    }
    switch (e->kind) {
      case E_LINK: {
        pd_link_event x = PD_LINK_EVENT_INIT;
        x.event_id = e->eid, x.user = local[e->user], x.channel = e->channel;
        x.source = e->source, x.guide = e->guide, x.time = e->time;
        st = pd_record_link(s, &x);
        break;
      }
      case E_UNLINK: {
        pd_unlink_event x = PD_UNLINK_EVENT_INIT;
        x.event_id = e->eid, x.user = local[e->user], x.channel = e->channel;
        x.initiator = (int32_t)e->source, x.time = e->time;
        st = pd_record_unlink(s, &x);
        break;
      }
      case E_ORDER: {
        pd_order x = PD_ORDER_INIT;
        x.event_id = e->eid, x.order_id = e->eid, x.user = local[e->user];
        x.time = e->time, x.amount = e->amount;
        st = pd_record_order(s, &x);
        break;
      }
      case E_REFUND: {
        pd_refund x = PD_REFUND_INIT;
        x.event_id = e->eid, x.order_id = e->order, x.time = e->time;
        x.amount = e->amount;
        st = pd_record_refund(s, &x);
        break;
      }
      case E_REFERRAL: {
        pd_referral x = PD_REFERRAL_INIT;
        x.event_id = e->eid, x.referrer = local[e->user];
        x.referee = local[e->other], x.time = e->time;
        st = pd_record_referral(s, &x);
        break;
      }
      case E_REACH: {
        pd_reach x = PD_REACH_INIT;
        x.event_id = e->eid, x.channel = e->channel, x.source = e->source;
        x.period_start = e->time, x.period_end = e->time + DAY;
        x.reached = (uint64_t)e->amount;
        st = pd_record_reach(s, &x);
        break;
      }
      default: {
        pd_acquisition_cost x = PD_ACQUISITION_COST_INIT;
        x.event_id = e->eid, x.channel = e->channel, x.source = e->source;
        x.period_start = e->time, x.period_end = e->time + DAY;
        x.amount = e->amount;
        st = pd_record_cost(s, &x);
        break;
      }
    }
    if (st != PD_OK)
      fail_msg("event %zu kind %d: %s", i, e->kind, pd_store_errmsg(s));
  }
  free(local);
  return s;
}

/* ---- helpers ------------------------------------------------------------ */

/* The filter of the split tests: as_of, and the acquisition channel when
 * filter_channel is set. */
static int32_t filter_channel;

static pd_aggregate *compute(pd_store *s, int32_t kind,
                             const pd_aggregate_spec *spec) {
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  f.channel = filter_channel;
  pd_aggregate *a = NULL;
  pd_status st = pd_aggregate_compute(s, kind, &f, spec, &a);
  if (st != PD_OK) fail_msg("compute: %s", pd_store_errmsg(s));
  return a;
}

static pd_bytes *save(const pd_aggregate *a) {
  pd_bytes *b = NULL;
  assert_int_equal(pd_aggregate_save(a, &b), PD_OK);
  return b;
}

static int same_bytes(const pd_bytes *x, const pd_bytes *y) {
  return pd_bytes_size(x) == pd_bytes_size(y) &&
         memcmp(pd_bytes_data(x), pd_bytes_data(y), pd_bytes_size(x)) == 0;
}

static int bits_equal(double x, double y) {
  return memcmp(&x, &y, sizeof x) == 0;
}

/* The shards' aggregates merged in shard order (first is consumed). */
static pd_aggregate *merged(pd_store **shard, int n, int32_t kind,
                            const pd_aggregate_spec *spec) {
  pd_aggregate *m = compute(shard[0], kind, spec);
  for (int k = 1; k < n; k++) {
    pd_aggregate *p = compute(shard[k], kind, spec);
    assert_int_equal(pd_aggregate_merge(m, p), PD_OK);
    pd_aggregate_free(p);
  }
  return m;
}

typedef struct split {
  chain c;
  pd_store *whole;
  pd_store *shard[MAX_SHARDS];
  int n;
} split;

static split make_split(uint32_t users, uint64_t seed, int shards) {
  split x;
  memset(&x, 0, sizeof x);
  x.c = make_chain(users, seed, (uint32_t)shards);
  x.n = shards;
  x.whole = build(&x.c, 1, 0, NULL);
  for (int k = 0; k < shards; k++) x.shard[k] = build(&x.c, shards, k, NULL);
  return x;
}

static void free_split(split *x) {
  pd_store_free(x->whole);
  for (int k = 0; k < x->n; k++) pd_store_free(x->shard[k]);
  free(x->c.v);
}

/* ---- the funnel --------------------------------------------------------- */

static void check_funnel(split *x, int32_t by) {
  pd_funnel_options fo = PD_FUNNEL_OPTIONS_INIT;
  fo.group_by = by;
  pd_aggregate_spec spec = PD_AGGREGATE_SPEC_INIT;
  spec.funnel = &fo;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  f.channel = filter_channel;
  pd_rows *want = NULL, *got = NULL;
  assert_int_equal(pd_funnel_compute(x->whole, &f, &fo, &want), PD_OK);
  pd_aggregate *m = merged(x->shard, x->n, PD_AGGREGATE_FUNNEL, &spec);
  assert_int_equal(pd_aggregate_funnel_rows(m, &got), PD_OK);
  assert_int_equal(pd_rows_count(got), pd_rows_count(want));
  assert_true(pd_rows_count(want) > 0);
  for (size_t i = 0; i < pd_rows_count(want); i++) {
    pd_funnel_row w = PD_FUNNEL_ROW_INIT, g = PD_FUNNEL_ROW_INIT;
    assert_int_equal(pd_funnel_row_get(want, i, &w), PD_OK);
    assert_int_equal(pd_funnel_row_get(got, i, &g), PD_OK);
    assert_int_equal(g.key, w.key);
    assert_int_equal(g.reached, w.reached);
    assert_int_equal(g.linked, w.linked);
    assert_int_equal(g.converted, w.converted);
    assert_int_equal(g.repeat, w.repeat);
    assert_int_equal(g.referrers, w.referrers);
    assert_int_equal(g.revenue, w.revenue);
    assert_int_equal(g.cost, w.cost);
    assert_true(bits_equal(g.link_rate, w.link_rate));
    assert_true(bits_equal(g.conversion_rate, w.conversion_rate));
    assert_true(bits_equal(g.repeat_rate, w.repeat_rate));
    assert_true(bits_equal(g.referral_rate, w.referral_rate));
    assert_true(bits_equal(g.ltv, w.ltv));
    assert_true(bits_equal(g.cac, w.cac));
    assert_true(bits_equal(g.ltv_cac, w.ltv_cac));
    assert_float_equal(g.days_to_first_purchase_mean,
                       w.days_to_first_purchase_mean,
                       1e-12 * (1 + w.days_to_first_purchase_mean));
    /* The median from the sketch: both middles within 1%. */
    assert_true(fabs(g.days_to_first_purchase_median -
                     w.days_to_first_purchase_median) <=
                0.01 * w.days_to_first_purchase_median + 1e-12);
  }
  /* The merged aggregate is the whole store's, byte for byte. */
  pd_aggregate *one = compute(x->whole, PD_AGGREGATE_FUNNEL, &spec);
  pd_bytes *bm = save(m), *bo = save(one);
  assert_true(same_bytes(bm, bo));
  pd_bytes_free(bm);
  pd_bytes_free(bo);
  pd_aggregate_free(one);
  pd_aggregate_free(m);
  pd_rows_free(want);
  pd_rows_free(got);
}

static void merged_funnel_equals_the_funnel_of_one_store(void **state) {
  (void)state;
  for (int shards = 2; shards <= 4; shards++) {
    split x = make_split(1500, 7 + (uint64_t)shards, shards);
    for (int32_t by = PD_BY_ALL; by <= PD_BY_COHORT_MONTH; by++)
      check_funnel(&x, by);
    /* Users acquired on WeCom only: reach and cost follow the filter. */
    filter_channel = PD_CHANNEL_WECOM;
    check_funnel(&x, PD_BY_SOURCE);
    check_funnel(&x, PD_BY_CHANNEL);
    filter_channel = 0;
    free_split(&x);
  }
}

/* ---- link cohorts ------------------------------------------------------- */

static void check_cohorts(split *x, int32_t unit, uint32_t periods,
                          int32_t channel) {
  pd_link_retention_options lo = PD_LINK_RETENTION_OPTIONS_INIT;
  lo.cohort_unit = unit;
  lo.periods = periods;
  lo.channel = channel;
  pd_aggregate_spec spec = PD_AGGREGATE_SPEC_INIT;
  spec.link_retention = &lo;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  f.channel = filter_channel;
  pd_rows *want = NULL, *got = NULL;
  assert_int_equal(pd_link_retention_compute(x->whole, &f, &lo, &want), PD_OK);
  pd_aggregate *m = merged(x->shard, x->n, PD_AGGREGATE_LINK_COHORTS, &spec);
  assert_int_equal(pd_aggregate_link_retention_rows(m, &got), PD_OK);
  assert_int_equal(pd_rows_count(got), pd_rows_count(want));
  assert_true(pd_rows_count(want) > periods);
  for (size_t i = 0; i < pd_rows_count(want); i++) {
    pd_link_retention_row w = PD_LINK_RETENTION_ROW_INIT;
    pd_link_retention_row g = PD_LINK_RETENTION_ROW_INIT;
    assert_int_equal(pd_link_retention_row_get(want, i, &w), PD_OK);
    assert_int_equal(pd_link_retention_row_get(got, i, &g), PD_OK);
    assert_int_equal(g.channel, w.channel);
    assert_int_equal(g.cohort_start, w.cohort_start);
    assert_int_equal(g.period, w.period);
    assert_int_equal(g.cohort_size, w.cohort_size);
    assert_int_equal(g.observed, w.observed);
    assert_int_equal(g.retained, w.retained);
    assert_true(bits_equal(g.rate, w.rate));
  }
  pd_aggregate *one = compute(x->whole, PD_AGGREGATE_LINK_COHORTS, &spec);
  pd_bytes *bm = save(m), *bo = save(one);
  assert_true(same_bytes(bm, bo));
  pd_bytes_free(bm);
  pd_bytes_free(bo);
  pd_aggregate_free(one);
  pd_aggregate_free(m);
  pd_rows_free(want);
  pd_rows_free(got);
}

static void merged_cohort_table_equals_the_table_of_one_store(void **state) {
  (void)state;
  for (int shards = 2; shards <= 4; shards++) {
    split x = make_split(1500, 100 + (uint64_t)shards, shards);
    check_cohorts(&x, PD_COHORT_MONTH, 12, 0);
    check_cohorts(&x, PD_COHORT_WEEK, 30, PD_CHANNEL_WECOM);
    check_cohorts(&x, PD_COHORT_DAY, 5, 0);
    filter_channel = PD_CHANNEL_WECHAT;
    check_cohorts(&x, PD_COHORT_WEEK, 10, 0);
    filter_channel = 0;
    free_split(&x);
  }
}

/* ---- repurchase ----------------------------------------------------------- */

static void check_repurchase(split *x, int32_t by) {
  pd_repurchase_options ro = PD_REPURCHASE_OPTIONS_INIT;
  ro.group_by = by;
  pd_aggregate_spec spec = PD_AGGREGATE_SPEC_INIT;
  spec.repurchase = &ro;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  f.channel = filter_channel;
  pd_rows *want = NULL, *got = NULL;
  assert_int_equal(pd_repurchase_compute(x->whole, &f, &ro, &want), PD_OK);
  pd_aggregate *m = merged(x->shard, x->n, PD_AGGREGATE_REPURCHASE, &spec);
  assert_int_equal(pd_aggregate_repurchase_rows(m, &got), PD_OK);
  assert_int_equal(pd_rows_count(got), pd_rows_count(want));
  assert_true(pd_rows_count(want) > 0);
  uint64_t shortening = 0;
  for (size_t i = 0; i < pd_rows_count(want); i++) {
    pd_repurchase_row w = PD_REPURCHASE_ROW_INIT, g = PD_REPURCHASE_ROW_INIT;
    assert_int_equal(pd_repurchase_row_get(want, i, &w), PD_OK);
    assert_int_equal(pd_repurchase_row_get(got, i, &g), PD_OK);
    assert_int_equal(g.key, w.key);
    assert_int_equal(g.buyers, w.buyers);
    assert_int_equal(g.repeat_buyers, w.repeat_buyers);
    assert_int_equal(g.purchases, w.purchases);
    assert_int_equal(g.revenue, w.revenue);
    assert_int_equal(g.repeat_revenue, w.repeat_revenue);
    assert_int_equal(g.intervals, w.intervals);
    assert_int_equal(g.trend_buyers, w.trend_buyers);
    assert_int_equal(g.shortening_buyers, w.shortening_buyers);
    assert_true(bits_equal(g.repurchase_rate, w.repurchase_rate));
    assert_true(bits_equal(g.frequency, w.frequency));
    assert_true(bits_equal(g.average_order_value, w.average_order_value));
    assert_true(bits_equal(g.shortening_share, w.shortening_share));
    assert_true(bits_equal(g.repeat_revenue_share, w.repeat_revenue_share));
    assert_float_equal(g.interval_mean_days, w.interval_mean_days,
                       1e-12 * (1 + w.interval_mean_days));
    assert_true(fabs(g.interval_median_days - w.interval_median_days) <=
                0.01 * w.interval_median_days + 1e-12);
    shortening += w.shortening_buyers;
  }
  assert_true(shortening > 0);
  pd_aggregate *one = compute(x->whole, PD_AGGREGATE_REPURCHASE, &spec);
  pd_bytes *bm = save(m), *bo = save(one);
  assert_true(same_bytes(bm, bo));
  pd_bytes_free(bm);
  pd_bytes_free(bo);
  pd_aggregate_free(one);
  pd_aggregate_free(m);
  pd_rows_free(want);
  pd_rows_free(got);
}

static void merged_repurchase_equals_the_figures_of_one_store(void **state) {
  (void)state;
  for (int shards = 2; shards <= 4; shards++) {
    split x = make_split(1500, 200 + (uint64_t)shards, shards);
    for (int32_t by = PD_BY_ALL; by <= PD_BY_COHORT_MONTH; by++)
      check_repurchase(&x, by);
    filter_channel = PD_CHANNEL_WECOM;
    check_repurchase(&x, PD_BY_GUIDE);
    filter_channel = 0;
    free_split(&x);
  }
}

/* ---- RFM ---------------------------------------------------------------- */

static int32_t count_above(const double t[4], double v) {
  int32_t n = 0;
  for (int k = 0; k < 4; k++) n += v > t[k];
  return n;
}

static int32_t count_below(const double t[4], double v) {
  int32_t n = 0;
  for (int k = 0; k < 4; k++) n += v < t[k];
  return n;
}

static void shards_score_buyers_on_the_chain_wide_scale(void **state) {
  (void)state;
  split x = make_split(3000, 42, 3);
  pd_aggregate *m = merged(x.shard, x.n, PD_AGGREGATE_RFM, NULL);
  pd_aggregate *one = compute(x.whole, PD_AGGREGATE_RFM, NULL);
  pd_bytes *bm = save(m), *bo = save(one);
  assert_true(same_bytes(bm, bo));
  pd_bytes_free(bm);
  pd_bytes_free(bo);
  pd_rfm_thresholds th = PD_RFM_THRESHOLDS_INIT;
  assert_int_equal(pd_aggregate_rfm_thresholds(m, &th), PD_OK);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  /* The whole store's buyers: the measures of pd_rfm_compute(). */
  pd_rows *exact = NULL, *whole = NULL;
  assert_int_equal(pd_rfm_compute(x.whole, &f, &exact), PD_OK);
  assert_int_equal(pd_rfm_score_with_thresholds(x.whole, &f, &th, &whole),
                   PD_OK);
  size_t n = pd_rows_count(exact);
  assert_int_equal(pd_rows_count(whole), n);
  assert_int_equal(th.buyers, n);
  uint64_t orders = 0;
  int64_t revenue = 0;
  int32_t score_of[3001][3];
  memset(score_of, 0, sizeof score_of);
  for (size_t i = 0; i < n; i++) {
    pd_rfm_row e = PD_RFM_ROW_INIT, w = PD_RFM_ROW_INIT;
    assert_int_equal(pd_rfm_row_get(exact, i, &e), PD_OK);
    assert_int_equal(pd_rfm_row_get(whole, i, &w), PD_OK);
    assert_int_equal(w.user, e.user);
    assert_true(bits_equal(w.recency_days, e.recency_days));
    assert_int_equal(w.frequency, e.frequency);
    assert_int_equal(w.monetary, e.monetary);
    assert_int_equal(w.r_score, 1 + count_below(th.recency, w.recency_days));
    assert_int_equal(w.f_score,
                     1 + count_above(th.frequency, (double)w.frequency));
    assert_int_equal(w.m_score,
                     1 + count_above(th.monetary, (double)w.monetary));
    assert_int_equal(w.segment, pd_segment_from_scores(w.r_score, w.f_score));
    orders += e.frequency;
    revenue += e.monetary;
    /* Whole-store ids are the global indices (users made in order). */
    score_of[w.user][0] = w.r_score;
    score_of[w.user][1] = w.f_score;
    score_of[w.user][2] = w.m_score;
  }
  assert_int_equal(th.orders, orders);
  assert_int_equal(th.revenue, revenue);
  /* Each shard scores its buyers exactly as the whole store does. */
  size_t seen = 0;
  for (int k = 0; k < x.n; k++) {
    pd_rows *rows = NULL;
    assert_int_equal(pd_rfm_score_with_thresholds(x.shard[k], &f, &th, &rows),
                     PD_OK);
    for (size_t i = 0; i < pd_rows_count(rows); i++) {
      pd_rfm_row r = PD_RFM_ROW_INIT;
      assert_int_equal(pd_rfm_row_get(rows, i, &r), PD_OK);
      /* Local id j of shard k is global user k + 3 (j - 1), or 3 j for
       * shard 0. */
      uint32_t global = k == 0 ? 3 * (uint32_t)r.user
                               : (uint32_t)k + 3 * ((uint32_t)r.user - 1);
      assert_int_equal(r.r_score, score_of[global][0]);
      assert_int_equal(r.f_score, score_of[global][1]);
      assert_int_equal(r.m_score, score_of[global][2]);
      seen++;
    }
    pd_rows_free(rows);
  }
  assert_int_equal(seen, n);
  /* Roughly a fifth of the buyers per monetary score (few ties there). */
  for (int32_t sc = 1; sc <= 5; sc++) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
      pd_rfm_row w = PD_RFM_ROW_INIT;
      assert_int_equal(pd_rfm_row_get(whole, i, &w), PD_OK);
      c += w.m_score == sc;
    }
    assert_true(c > n / 5 - n / 25 && c < n / 5 + n / 25);
  }
  pd_rows_free(exact);
  pd_rows_free(whole);
  pd_aggregate_free(m);
  pd_aggregate_free(one);
  free_split(&x);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Every quantile in steps of 0.01 within relative error a of the exact
 * value of rank floor(q (n - 1)), for tens of thousands of buyers. */
static void quantiles_are_within_the_relative_error_bound(void **state) {
  (void)state;
  chain c = make_chain(40000, 9, 1);
  pd_store *s = build(&c, 1, 0, NULL);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  pd_rows *rows = NULL;
  assert_int_equal(pd_rfm_compute(s, &f, &rows), PD_OK);
  size_t n = pd_rows_count(rows);
  assert_true(n > 15000);
  double *v[3];
  for (int d = 0; d < 3; d++) v[d] = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    pd_rfm_row r = PD_RFM_ROW_INIT;
    assert_int_equal(pd_rfm_row_get(rows, i, &r), PD_OK);
    v[0][i] = r.recency_days;
    v[1][i] = (double)r.frequency;
    v[2][i] = (double)r.monetary;
  }
  for (int d = 0; d < 3; d++) qsort(v[d], n, sizeof(double), cmp_double);
  const double accuracies[3] = {0.01, 0.002, 0.05};
  for (int t = 0; t < 3; t++) {
    pd_aggregate_spec spec = PD_AGGREGATE_SPEC_INIT;
    spec.accuracy = accuracies[t];
    pd_aggregate *a = compute(s, PD_AGGREGATE_RFM, &spec);
    for (int d = 0; d < 3; d++)
      for (int k = 0; k <= 100; k++) {
        double q = k / 100.0, got = 0;
        assert_int_equal(pd_aggregate_quantile(a, d + 1, q, &got), PD_OK);
        double want = v[d][(size_t)floor(q * (double)(n - 1))];
        if (fabs(got - want) > accuracies[t] * fabs(want) * (1 + 1e-9))
          fail_msg("a=%g dim %d q=%g: %.17g vs exact %.17g", accuracies[t],
                   d + 1, q, got, want);
      }
    pd_aggregate_free(a);
  }
  for (int d = 0; d < 3; d++) free(v[d]);
  pd_rows_free(rows);
  pd_store_free(s);
  free(c.v);
}

/* ---- merging ------------------------------------------------------------ */

static void merge_order_does_not_matter(void **state) {
  (void)state;
  split x = make_split(800, 5, 4);
  for (int32_t kind = PD_AGGREGATE_FUNNEL; kind <= PD_AGGREGATE_REPURCHASE; kind++) {
    pd_aggregate *p[4];
    for (int k = 0; k < 4; k++) p[k] = compute(x.shard[k], kind, NULL);
    /* ((0 + 1) + 2) + 3 against (3 + 1) + (2 + 0). */
    pd_aggregate *a = compute(x.shard[0], kind, NULL);
    for (int k = 1; k < 4; k++)
      assert_int_equal(pd_aggregate_merge(a, p[k]), PD_OK);
    pd_aggregate *b = compute(x.shard[3], kind, NULL);
    pd_aggregate *c2 = compute(x.shard[2], kind, NULL);
    assert_int_equal(pd_aggregate_merge(b, p[1]), PD_OK);
    assert_int_equal(pd_aggregate_merge(c2, p[0]), PD_OK);
    assert_int_equal(pd_aggregate_merge(b, c2), PD_OK);
    pd_bytes *ba = save(a), *bb = save(b);
    assert_true(same_bytes(ba, bb));
    pd_bytes_free(ba);
    pd_bytes_free(bb);
    for (int k = 0; k < 4; k++) pd_aggregate_free(p[k]);
    pd_aggregate_free(a);
    pd_aggregate_free(b);
    pd_aggregate_free(c2);
  }
  free_split(&x);
}

static void aggregates_of_different_figures_do_not_merge(void **state) {
  (void)state;
  split x = make_split(200, 3, 2);
  pd_aggregate *fun = compute(x.shard[0], PD_AGGREGATE_FUNNEL, NULL);
  pd_aggregate *rfm = compute(x.shard[1], PD_AGGREGATE_RFM, NULL);
  assert_int_equal(pd_aggregate_merge(fun, rfm), PD_E_CONFLICT);
  assert_non_null(strstr(pd_aggregate_errmsg(fun), "kind"));
  pd_funnel_options fo = PD_FUNNEL_OPTIONS_INIT;
  fo.group_by = PD_BY_CHANNEL;
  pd_aggregate_spec spec = PD_AGGREGATE_SPEC_INIT;
  spec.funnel = &fo;
  pd_aggregate *by_channel = compute(x.shard[1], PD_AGGREGATE_FUNNEL, &spec);
  assert_int_equal(pd_aggregate_merge(fun, by_channel), PD_E_CONFLICT);
  assert_non_null(strstr(pd_aggregate_errmsg(fun), "funnel options"));
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF - DAY;
  pd_aggregate *earlier = NULL;
  assert_int_equal(
      pd_aggregate_compute(x.shard[1], PD_AGGREGATE_FUNNEL, &f, NULL, &earlier),
      PD_OK);
  assert_int_equal(pd_aggregate_merge(fun, earlier), PD_E_CONFLICT);
  assert_non_null(strstr(pd_aggregate_errmsg(fun), "as_of"));
  spec.funnel = NULL;
  spec.accuracy = 0.02;
  pd_aggregate *coarse = compute(x.shard[1], PD_AGGREGATE_RFM, &spec);
  assert_int_equal(pd_aggregate_merge(rfm, coarse), PD_E_CONFLICT);
  assert_int_equal(pd_aggregate_merge(rfm, rfm), PD_E_INVALID);
  assert_int_equal(pd_aggregate_merge(rfm, NULL), PD_E_INVALID);
  assert_int_equal(pd_aggregate_merge(NULL, rfm), PD_E_INVALID);
  pd_aggregate_free(fun);
  pd_aggregate_free(rfm);
  pd_aggregate_free(by_channel);
  pd_aggregate_free(earlier);
  pd_aggregate_free(coarse);
  free_split(&x);
}

/* Fail each allocation of a merge in turn: the merge reports
 * PD_E_NOMEM and the destination saves to the same bytes as before. */
static void a_failed_merge_leaves_the_destination_unchanged(void **state) {
  (void)state;
  chain c = make_chain(300, 11, 2);
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator al = test_alloc_allocator(&ta);
  pd_store *s0 = build(&c, 2, 0, &al), *s1 = build(&c, 2, 1, &al);
  for (int32_t kind = PD_AGGREGATE_FUNNEL; kind <= PD_AGGREGATE_REPURCHASE; kind++) {
    pd_aggregate *dst = compute(s0, kind, NULL);
    pd_aggregate *src = compute(s1, kind, NULL);
    pd_bytes *before = save(dst);
    int failed = 0;
    for (long k = 1;; k++) {
      atomic_store(&ta.fail_at, atomic_load(&ta.calls) + k);
      pd_status st = pd_aggregate_merge(dst, src);
      atomic_store(&ta.fail_at, 0);
      if (st == PD_OK) break;
      assert_int_equal(st, PD_E_NOMEM);
      failed++;
      pd_bytes *now = save(dst);
      assert_true(same_bytes(before, now));
      pd_bytes_free(now);
    }
    assert_true(failed > 0);
    pd_bytes_free(before);
    pd_aggregate_free(dst);
    pd_aggregate_free(src);
  }
  pd_store_free(s0);
  pd_store_free(s1);
  assert_int_equal(atomic_load(&ta.live), 0);
  free(c.v);
}

/* Compute and load under every single allocation failure: PD_E_NOMEM,
 * nothing leaked. */
static void out_of_memory_anywhere_is_reported_and_leaks_nothing(void **st) {
  (void)st;
  chain c = make_chain(200, 13, 1);
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator al = test_alloc_allocator(&ta);
  pd_store *s = build(&c, 1, 0, &al);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  for (int32_t kind = PD_AGGREGATE_FUNNEL; kind <= PD_AGGREGATE_REPURCHASE; kind++) {
    long live = atomic_load(&ta.live);
    pd_aggregate *a = NULL;
    for (long k = 1;; k++) {
      atomic_store(&ta.fail_at, atomic_load(&ta.calls) + k);
      pd_status r = pd_aggregate_compute(s, kind, &f, NULL, &a);
      atomic_store(&ta.fail_at, 0);
      if (r == PD_OK) break;
      assert_int_equal(r, PD_E_NOMEM);
      assert_int_equal(atomic_load(&ta.live), live);
    }
    pd_bytes *b = save(a);
    for (long k = 1;; k++) {
      pd_aggregate *l = NULL;
      atomic_store(&ta.fail_at, atomic_load(&ta.calls) + k);
      pd_status r = pd_aggregate_load(pd_bytes_data(b), pd_bytes_size(b), &al,
                                      NULL, 0, &l);
      atomic_store(&ta.fail_at, 0);
      if (r == PD_OK) {
        pd_aggregate_free(l);
        break;
      }
      assert_int_equal(r, PD_E_NOMEM);
    }
    pd_bytes_free(b);
    pd_aggregate_free(a);
    assert_int_equal(atomic_load(&ta.live), live);
  }
  pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
  free(c.v);
}

/* ---- the serialised form ------------------------------------------------ */

static void saved_aggregates_load_back_equal(void **state) {
  (void)state;
  split x = make_split(500, 21, 2);
  for (int32_t kind = PD_AGGREGATE_FUNNEL; kind <= PD_AGGREGATE_REPURCHASE; kind++) {
    pd_aggregate *a = compute(x.shard[0], kind, NULL);
    pd_bytes *b = save(a);
    pd_aggregate *l = NULL;
    char why[128];
    assert_int_equal(pd_aggregate_load(pd_bytes_data(b), pd_bytes_size(b),
                                       NULL, why, sizeof why, &l),
                     PD_OK);
    assert_int_equal(pd_aggregate_kind(l), kind);
    pd_bytes *b2 = save(l);
    assert_true(same_bytes(b, b2));
    /* A loaded aggregate merges like a computed one. */
    pd_aggregate *other = compute(x.shard[1], kind, NULL);
    assert_int_equal(pd_aggregate_merge(l, other), PD_OK);
    assert_int_equal(pd_aggregate_merge(a, other), PD_OK);
    pd_bytes *m1 = save(a), *m2 = save(l);
    assert_true(same_bytes(m1, m2));
    pd_bytes_free(m1);
    pd_bytes_free(m2);
    pd_bytes_free(b);
    pd_bytes_free(b2);
    pd_aggregate_free(a);
    pd_aggregate_free(l);
    pd_aggregate_free(other);
  }
  free_split(&x);
}

static void every_bit_flip_and_truncation_is_refused(void **state) {
  (void)state;
  split x = make_split(40, 23, 2);
  for (int32_t kind = PD_AGGREGATE_FUNNEL; kind <= PD_AGGREGATE_REPURCHASE; kind++) {
    pd_aggregate *a = compute(x.shard[0], kind, NULL);
    pd_bytes *b = save(a);
    size_t n = pd_bytes_size(b);
    unsigned char *buf = malloc(n + 1);
    memcpy(buf, pd_bytes_data(b), n);
    char why[128];
    for (size_t i = 0; i < n; i++)
      for (int bit = 0; bit < 8; bit++) {
        buf[i] ^= (unsigned char)(1u << bit);
        pd_aggregate *l = NULL;
        pd_status r = pd_aggregate_load(buf, n, NULL, why, sizeof why, &l);
        if (r != PD_E_CORRUPT && r != PD_E_VERSION)
          fail_msg("kind %d: flip of byte %zu bit %d gave %d", kind, i, bit,
                   r);
        assert_null(l);
        buf[i] ^= (unsigned char)(1u << bit);
      }
    for (size_t len = 0; len < n; len++) {
      pd_aggregate *l = NULL;
      assert_int_equal(pd_aggregate_load(buf, len, NULL, why, sizeof why, &l),
                       PD_E_CORRUPT);
      assert_non_null(strstr(why, "aggregate refused"));
    }
    buf[n] = 0;
    pd_aggregate *l = NULL;
    assert_int_equal(pd_aggregate_load(buf, n + 1, NULL, why, sizeof why, &l),
                     PD_E_CORRUPT);
    assert_non_null(strstr(why, "extra bytes"));
    free(buf);
    pd_bytes_free(b);
    pd_aggregate_free(a);
  }
  free_split(&x);
}

/* A tiny RFM aggregate: two buyers, one order each of 500 and 1500, 1 and
 * 10 days before as_of. Its bytes are frozen: a change of layout must
 * change this test (and the format version). */
static void the_byte_layout_is_frozen(void **state) {
  (void)state;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_user_id u1 = 0, u2 = 0;
  assert_int_equal(pd_user_ensure(s, "t", PD_NTS, "a", PD_NTS, &u1), PD_OK);
  assert_int_equal(pd_user_ensure(s, "t", PD_NTS, "b", PD_NTS, &u2), PD_OK);
  pd_order o = PD_ORDER_INIT;
  o.event_id = 1, o.order_id = 1, o.user = u1, o.time = AS_OF - DAY;
  o.amount = 500;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  o.event_id = 2, o.order_id = 2, o.user = u2, o.time = AS_OF - 10 * DAY;
  o.amount = 1500;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  pd_aggregate *a = compute(s, PD_AGGREGATE_RFM, NULL);
  pd_bytes *b = save(a);
  static const char expect[] = EXPECTED_RFM_HEX;
  char hex[2 * 1024 + 1];
  size_t n = pd_bytes_size(b);
  assert_true(n < 1024);
  const unsigned char *p = pd_bytes_data(b);
  for (size_t i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", p[i]);
  hex[2 * n] = 0;
  if (strcmp(hex, expect) != 0) fail_msg("layout changed:\n%s", hex);
  double q = 0;
  assert_int_equal(pd_aggregate_quantile(a, PD_AGGREGATE_MONETARY, 1.0, &q),
                   PD_OK);
  assert_true(q == 1500.0); /* clamped to the largest value */
  pd_bytes_free(b);
  pd_aggregate_free(a);
  pd_store_free(s);
}

/* ---- argument checks ------------------------------------------------------ */

static void bad_arguments_are_refused(void **state) {
  (void)state;
  split x = make_split(50, 31, 1);
  pd_store *s = x.whole;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = AS_OF;
  pd_aggregate *a = NULL;
  assert_int_equal(pd_aggregate_compute(s, 0, &f, NULL, &a), PD_E_INVALID);
  assert_int_equal(pd_aggregate_compute(s, 5, &f, NULL, &a), PD_E_INVALID);
  assert_int_equal(pd_aggregate_compute(s, PD_AGGREGATE_RFM, &f, NULL, NULL),
                   PD_E_INVALID);
  pd_aggregate_spec spec = PD_AGGREGATE_SPEC_INIT;
  spec.accuracy = NAN;
  assert_int_equal(pd_aggregate_compute(s, PD_AGGREGATE_RFM, &f, &spec, &a),
                   PD_E_INVALID);
  spec.accuracy = 0.5;
  assert_int_equal(pd_aggregate_compute(s, PD_AGGREGATE_RFM, &f, &spec, &a),
                   PD_E_INVALID);
  spec.accuracy = 0;
  spec.size = sizeof spec - 1;
  assert_int_equal(pd_aggregate_compute(s, PD_AGGREGATE_RFM, &f, &spec, &a),
                   PD_E_INVALID);
  /* A newer caller's larger spec: zero extra bytes are accepted, others
   * refused. */
  struct {
    pd_aggregate_spec spec;
    uint64_t extra;
  } newer = {PD_AGGREGATE_SPEC_INIT, 0};
  newer.spec.size = sizeof newer;
  assert_int_equal(
      pd_aggregate_compute(s, PD_AGGREGATE_RFM, &f, &newer.spec, &a), PD_OK);
  pd_aggregate_free(a);
  a = NULL;
  newer.extra = 1;
  assert_int_equal(
      pd_aggregate_compute(s, PD_AGGREGATE_RFM, &f, &newer.spec, &a),
      PD_E_INVALID);
  spec.size = sizeof spec;
  pd_funnel_options fo = PD_FUNNEL_OPTIONS_INIT;
  fo.conversion_window = 0;
  spec.funnel = &fo;
  assert_int_equal(pd_aggregate_compute(s, PD_AGGREGATE_FUNNEL, &f, &spec, &a),
                   PD_E_INVALID);
  pd_link_retention_options lo = PD_LINK_RETENTION_OPTIONS_INIT;
  lo.periods = 0;
  spec.link_retention = &lo;
  assert_int_equal(
      pd_aggregate_compute(s, PD_AGGREGATE_LINK_COHORTS, &f, &spec, &a),
      PD_E_INVALID);
  f.as_of = -1;
  assert_int_equal(pd_aggregate_compute(s, PD_AGGREGATE_RFM, &f, NULL, &a),
                   PD_E_RANGE);
  assert_null(a);
  f.as_of = AS_OF;
  pd_aggregate *r = compute(s, PD_AGGREGATE_RFM, NULL);
  pd_aggregate *fu = compute(s, PD_AGGREGATE_FUNNEL, NULL);
  double q;
  assert_int_equal(pd_aggregate_quantile(r, PD_AGGREGATE_RECENCY, 1.5, &q),
                   PD_E_INVALID);
  assert_int_equal(pd_aggregate_quantile(r, PD_AGGREGATE_RECENCY, NAN, &q),
                   PD_E_INVALID);
  assert_int_equal(pd_aggregate_quantile(r, 4, 0.5, &q), PD_E_INVALID);
  assert_int_equal(pd_aggregate_quantile(fu, PD_AGGREGATE_RECENCY, 0.5, &q),
                   PD_E_MISUSE);
  pd_rows *rows = NULL;
  assert_int_equal(pd_aggregate_funnel_rows(r, &rows), PD_E_MISUSE);
  assert_int_equal(pd_aggregate_link_retention_rows(fu, &rows), PD_E_MISUSE);
  assert_int_equal(pd_aggregate_repurchase_rows(fu, &rows), PD_E_MISUSE);
  pd_rfm_thresholds th = PD_RFM_THRESHOLDS_INIT;
  th.size = 8;
  assert_int_equal(pd_aggregate_rfm_thresholds(r, &th), PD_E_INVALID);
  th.size = sizeof th;
  assert_int_equal(pd_aggregate_rfm_thresholds(fu, &th), PD_E_MISUSE);
  assert_int_equal(pd_aggregate_rfm_thresholds(r, &th), PD_OK);
  th.monetary[2] = INFINITY;
  assert_int_equal(pd_rfm_score_with_thresholds(s, &f, &th, &rows),
                   PD_E_INVALID);
  assert_int_equal(pd_aggregate_kind(NULL), 0);
  assert_string_equal(pd_aggregate_errmsg(NULL), "");
  assert_int_equal(pd_aggregate_load(NULL, 0, NULL, NULL, 0, &a), PD_E_CORRUPT);
  assert_int_equal(pd_aggregate_load(NULL, 5, NULL, NULL, 0, &a), PD_E_INVALID);
  pd_aggregate_free(NULL);
  pd_aggregate_free(r);
  pd_aggregate_free(fu);
  free_split(&x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(merged_funnel_equals_the_funnel_of_one_store),
      cmocka_unit_test(merged_cohort_table_equals_the_table_of_one_store),
      cmocka_unit_test(merged_repurchase_equals_the_figures_of_one_store),
      cmocka_unit_test(shards_score_buyers_on_the_chain_wide_scale),
      cmocka_unit_test(quantiles_are_within_the_relative_error_bound),
      cmocka_unit_test(merge_order_does_not_matter),
      cmocka_unit_test(aggregates_of_different_figures_do_not_merge),
      cmocka_unit_test(a_failed_merge_leaves_the_destination_unchanged),
      cmocka_unit_test(out_of_memory_anywhere_is_reported_and_leaks_nothing),
      cmocka_unit_test(saved_aggregates_load_back_equal),
      cmocka_unit_test(every_bit_flip_and_truncation_is_refused),
      cmocka_unit_test(the_byte_layout_is_frozen),
      cmocka_unit_test(bad_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
