/* Benchmark of the "metrics A" figures (trust, pressure, contact checks,
 * store summaries and value, follow-up plans) on a synthetic private
 * domain: by default 1 million users and about 20 million events, recorded
 * interleaved in time order (as a live store receives them, so each user's
 * events are scattered through memory). Prints one line per figure:
 *   bench=<figure> users=… events=… seconds=… cpu=…
 * (store_value_predict also prints both fits' iterations, the Gamma-Gamma
 * parameters and the sums of expected spend and CLV, to check that a
 * faster fit gives the same answer).
 * Usage: bench_metrics_a [users] [threads,...]
 * (each figure is run once per thread count of the comma-separated list,
 * default 1; 0 = one per online processor; lines carry threads=). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <privdomain/privdomain.h>

#include "bench_clock.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double uniform(void) { return (double)(next() >> 11) * 0x1p-53; }

#define DAY INT64_C(86400)
static const int64_t T_BEGIN = INT64_C(1735689600); /* 2025-01-01 */
#define ROUNDS 18

static int check(pd_status st, const char *what, pd_store *s) {
  if (st == PD_OK || st == PD_REPLAYED) return 0;
  fprintf(stderr, "%s: %s (%s)\n", what, pd_status_str(st),
          s ? pd_store_errmsg(s) : "");
  return -1;
}

static int collect_plan(void *user, const pd_followup_item *it) {
  (void)it;
  ++*(uint64_t *)user;
  return 0;
}

static int ignore_group(void *user, const pd_value_group *g) {
  (void)g;
  ++*(uint64_t *)user;
  return 0;
}

/* Every figure once, computed on `threads` threads (the store's setting);
 * one line each. */
static int figures(pd_store *s, const pd_user_id *ids, uint32_t n_users,
                   uint64_t events, int32_t threads) {
  int64_t as_of = T_BEGIN + (ROUNDS + 1) * 18 * DAY;
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = as_of;

  double a = bench_wall_now(), c = bench_cpu_now();
  pd_trust_distribution td = PD_TRUST_DISTRIBUTION_INIT;
  if (check(pd_trust_distribution_get(s, &f, NULL, &td), "trust", s)) return 1;
  printf("bench=trust_distribution threads=%d users=%llu events=%llu seconds=%.3f cpu=%.3f "
         "mean_score=%.2f\n", (int)threads,
         (unsigned long long)td.users, (unsigned long long)events,
         bench_wall_now() - a, bench_cpu_now() - c, td.mean_score);

  a = bench_wall_now();
  c = bench_cpu_now();
  pd_pressure_stats ps = PD_PRESSURE_STATS_INIT;
  if (check(pd_pressure_stats_get(s, &f, 7 * DAY, NULL, &ps), "pressure", s))
    return 1;
  printf("bench=pressure_stats threads=%d users=%llu events=%llu seconds=%.3f cpu=%.3f mean=%.3f "
         "over_cap=%llu\n", (int)threads,
         (unsigned long long)ps.users, (unsigned long long)events, bench_wall_now() - a, bench_cpu_now() - c,
         ps.mean, (unsigned long long)ps.over_cap_pushes);

  a = bench_wall_now();
  c = bench_cpu_now();
  uint64_t allowed = 0;
  for (uint32_t i = 0; i < n_users; i++) {
    pd_contact_verdict v = PD_CONTACT_VERDICT_INIT;
    if (check(pd_contact_check(s, ids[i], PD_CHANNEL_WECOM,
                               PD_PURPOSE_PROMOTION, as_of, NULL, &v),
              "contact", s))
      return 1;
    allowed += (uint64_t)v.allowed;
  }
  printf("bench=contact_check_all threads=%d users=%u events=%llu seconds=%.3f cpu=%.3f "
         "allowed=%llu\n", (int)threads,
         n_users, (unsigned long long)events, bench_wall_now() - a, bench_cpu_now() - c,
         (unsigned long long)allowed);

  a = bench_wall_now();
  c = bench_cpu_now();
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = as_of;
  spec.unit = PD_TIME_UNIT_WEEK;
  pd_store_summary *h = NULL;
  if (check(pd_store_summary_new(s, &f, &spec, &h), "summary", s)) return 1;
  printf("bench=store_summary threads=%d users=%u rows=%zu events=%llu seconds=%.3f cpu=%.3f\n", (int)threads,
         n_users, pd_store_summary_rows(h), (unsigned long long)events,
         bench_wall_now() - a, bench_cpu_now() - c);

  a = bench_wall_now();
  c = bench_cpu_now();
  pd_status st = pd_store_summary_predict(h, NULL);
  if (st != PD_OK) {
    fprintf(stderr, "predict: %s\n", pd_store_summary_errmsg(h));
    return 1;
  }
  double dt_pred = bench_wall_now() - a, dc_pred = bench_cpu_now() - c;
  /* The fitted parameters, so a faster fit can be checked for the same
   * answer. */
  pd_fit_info fi_tx = PD_FIT_INFO_INIT, fi_gg = PD_FIT_INFO_INIT;
  if (check(pd_store_summary_fit(h, 0, &fi_tx), "fit tx", s) ||
      check(pd_store_summary_fit(h, 1, &fi_gg), "fit gg", s))
    return 1;
  const double *spend = NULL, *clv = NULL;
  if (check(pd_store_summary_column(h, PD_VALUE_EXPECTED_SPEND, &spend),
            "spend", s) ||
      check(pd_store_summary_column(h, PD_VALUE_CLV, &clv), "clv", s))
    return 1;
  double sum_spend = 0, sum_clv = 0;
  for (size_t i = 0; i < pd_store_summary_rows(h); i++) {
    sum_spend += spend[i];
    sum_clv += clv[i];
  }
  printf("bench=store_value_predict threads=%d rows=%zu seconds=%.3f cpu=%.3f "
         "tx_iter=%d gg_iter=%d gg=%.10g,%.10g,%.10g gg_se=%.6g,%.6g,%.6g "
         "gg_ll=%.12g sum_spend=%.10g sum_clv=%.10g\n", (int)threads,
         pd_store_summary_rows(h), dt_pred, dc_pred, fi_tx.iterations,
         fi_gg.iterations, fi_gg.params[0], fi_gg.params[1], fi_gg.params[2],
         fi_gg.std_errors[0], fi_gg.std_errors[1], fi_gg.std_errors[2],
         fi_gg.log_likelihood, sum_spend, sum_clv);

  a = bench_wall_now();
  c = bench_cpu_now();
  uint64_t groups = 0;
  if (check(pd_store_value_by(s, h, PD_VALUE_BY_SOURCE, as_of, ignore_group,
                              &groups),
            "value_by", s))
    return 1;
  printf("bench=value_by_source threads=%d rows=%zu groups=%llu seconds=%.3f cpu=%.3f\n", (int)threads,
         pd_store_summary_rows(h), (unsigned long long)groups, bench_wall_now() - a, bench_cpu_now() - c);

  a = bench_wall_now();
  c = bench_cpu_now();
  uint64_t listed = 0;
  if (check(pd_followup_plan(s, h, &f, NULL, collect_plan, &listed),
            "followup", s))
    return 1;
  printf("bench=followup_plan threads=%d users=%u events=%llu seconds=%.3f cpu=%.3f listed=%llu\n", (int)threads,
         n_users, (unsigned long long)events, bench_wall_now() - a, bench_cpu_now() - c,
         (unsigned long long)listed);
  pd_store_summary_free(h);
  return 0;
}

int main(int argc, char **argv) {
  uint32_t n_users = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
  pd_store *s;
  if (check(pd_store_new(NULL, &s), "store", NULL)) return 1;
  uint32_t guides[200], sources[4];
  for (int g = 0; g < 200; g++) {
    char code[16];
    snprintf(code, sizeof code, "g%d", g);
    if (check(pd_guide_ensure(s, code, PD_NTS, 0, &guides[g]), "guide", s))
      return 1;
  }
  const char *src_names[4] = {"store_qr", "package_card", "live", "referral"};
  for (int k = 0; k < 4; k++)
    if (check(pd_label_ensure(s, PD_LABEL_SOURCE, src_names[k], PD_NTS,
                              &sources[k]),
              "label", s))
      return 1;
  double t0 = bench_wall_now();
  pd_user_id *ids = malloc((size_t)n_users * sizeof *ids);
  uint8_t *rate = malloc(n_users), *churn = malloc(n_users);
  if (!ids || !rate || !churn) return 1;
  for (uint32_t i = 0; i < n_users; i++) {
    char key[24];
    snprintf(key, sizeof key, "1%010u", i);
    if (check(pd_user_ensure(s, "phone", PD_NTS, key, PD_NTS, &ids[i]),
              "user", s))
      return 1;
    rate[i] = (uint8_t)(next() % 4); /* 0 = quiet … 3 = busy */
    /* BG/NBD-like dropout: after round churn[i] the user buys no more. */
    churn[i] = (uint8_t)(1 + (uint32_t)(-log(uniform()) * 6));
  }
  uint64_t eid = 1, events = 0;
  /* Round 0: acquisition (link + bind); rounds 1..: touches, orders,
   * refunds and the odd consent, interleaved across users. */
  for (uint32_t i = 0; i < n_users; i++) {
    int64_t t = T_BEGIN + (int64_t)(uniform() * 20 * DAY);
    pd_link_event l = PD_LINK_EVENT_INIT;
    l.event_id = eid++;
    l.user = ids[i];
    l.channel = next() % 3 ? PD_CHANNEL_WECOM : PD_CHANNEL_WECHAT;
    l.source = sources[next() % 4];
    l.time = t;
    pd_guide_bind b = PD_GUIDE_BIND_INIT;
    b.event_id = eid++;
    b.user = ids[i];
    b.guide = guides[next() % 200];
    b.time = t;
    if (check(pd_record_link(s, &l), "link", s) ||
        check(pd_record_guide_bind(s, &b), "bind", s))
      return 1;
    events += 2;
  }
  static const int32_t kinds[8] = {
      PD_TOUCH_BROADCAST,       PD_TOUCH_POST_EXPOSURE, PD_TOUCH_OUTBOUND_1TO1,
      PD_TOUCH_INBOUND_MESSAGE, PD_TOUCH_CONTENT_VIEW,  PD_TOUCH_BROADCAST,
      PD_TOUCH_PROMISE_KEPT,    PD_TOUCH_CONTENT_ENGAGEMENT};
  for (int r = 1; r <= ROUNDS; r++) {
    int64_t base = T_BEGIN + (int64_t)r * 18 * DAY;
    for (uint32_t i = 0; i < n_users; i++) {
      int64_t t = base + (int64_t)(uniform() * 18 * DAY);
      uint64_t x = next();
      if (r <= churn[i] && x % 100 < 5u + 10u * rate[i]) { /* an order */
        pd_order o = PD_ORDER_INIT;
        o.event_id = eid++;
        o.order_id = o.event_id;
        o.user = ids[i];
        o.amount = 1000 + (int64_t)(next() % 50000);
        o.time = t;
        o.channel = PD_CHANNEL_MINI_PROGRAM;
        if (check(pd_record_order(s, &o), "order", s)) return 1;
        events++;
        if (next() % 20 == 0) {
          pd_refund f = PD_REFUND_INIT;
          f.event_id = eid++;
          f.order_id = o.order_id;
          f.amount = o.amount;
          f.time = t + DAY;
          if (check(pd_record_refund(s, &f), "refund", s)) return 1;
          events++;
        }
      } else {
        pd_touchpoint tp = PD_TOUCHPOINT_INIT;
        tp.event_id = eid++;
        tp.user = ids[i];
        tp.kind = kinds[x % 8];
        tp.purpose =
            tp.kind == PD_TOUCH_BROADCAST || tp.kind == PD_TOUCH_OUTBOUND_1TO1 ||
                    tp.kind == PD_TOUCH_POST_EXPOSURE
                ? (int32_t)(1 + next() % 3)
                : PD_PURPOSE_NONE;
        tp.channel = PD_CHANNEL_WECOM;
        tp.time = t;
        if (check(pd_record_touchpoint(s, &tp), "touch", s)) return 1;
        events++;
      }
      if (r == ROUNDS / 2 && next() % 50 == 0) {
        pd_consent c = PD_CONSENT_INIT;
        c.event_id = eid++;
        c.user = ids[i];
        c.purpose = PD_CONSENT_MARKETING;
        c.granted = 0;
        c.time = t;
        if (check(pd_record_consent(s, &c), "consent", s)) return 1;
        events++;
      }
    }
  }
  double t_build = bench_wall_now() - t0;
  printf("bench=metrics_a_build users=%u events=%llu seconds=%.3f\n",
         n_users, (unsigned long long)events, t_build);
  /* Every figure once per thread count of the list (default "1"). */
  const char *list = argc > 2 ? argv[2] : "1";
  for (const char *p = list; *p;) {
    char *end;
    long th = strtol(p, &end, 10);
    if (end == p) break;
    if (check(pd_store_set_threads(s, (int32_t)th), "threads", s) ||
        figures(s, ids, n_users, events, (int32_t)th))
      return 1;
    p = *end == ',' ? end + 1 : end;
  }
  pd_store_free(s);
  free(ids);
  free(rate);
  free(churn);
  return 0;
}
