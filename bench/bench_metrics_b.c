/* Metrics B benchmark: retention and unlinks, campaign health, funnel,
 * repurchase, referral, guides' figures, RFM and super users on a store of
 * 1M users and about 20M events (one year, events recorded in random
 * order).
 *
 *   bench_metrics_b [users] [events] [figure|all] [threads,...]
 *
 * Prints one machine-readable line per figure:
 *   bench=<figure> users=… events=… seconds=…
 * (wall and CPU time of one call on one thread, as of the end of the
 * year; with a figure name, only that figure is run, five times, for
 * profiling;
 * year; the CPU time is the figure to compare when the machine is busy).
 * Each figure runs once per thread count of the comma-separated list
 * (default 1; 0 = one per online processor); lines carry threads=. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <privdomain/privdomain.h>

#include "bench_clock.h"

static double cpu0;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) { return next() % n; }

#define DAY INT64_C(86400)
static const int64_t T0 = INT64_C(1704067200); /* 2024-01-01 */
static const int64_t YEAR = 365 * DAY;
enum { GUIDES = 2000, SHOPS = 100, SOURCES = 10, CAMPAIGNS = 5 };

static uint64_t eid;
static uint64_t events;

static void check(pd_status st, pd_store *s, const char *what) {
  if (st == PD_OK) {
    events++;
    return;
  }
  fprintf(stderr, "bench_metrics_b: %s: %s\n", what, pd_store_errmsg(s));
  exit(1);
}

static void build(pd_store *s, uint64_t users, uint64_t target) {
  uint32_t shop[SHOPS], src[SOURCES], camp[CAMPAIGNS];
  char name[32];
  for (int i = 0; i < SHOPS; i++) {
    snprintf(name, sizeof name, "shop%d", i);
    pd_label_ensure(s, PD_LABEL_SHOP, name, PD_NTS, &shop[i]);
  }
  for (int i = 0; i < SOURCES; i++) {
    snprintf(name, sizeof name, "source%d", i);
    pd_label_ensure(s, PD_LABEL_SOURCE, name, PD_NTS, &src[i]);
  }
  for (int i = 0; i < CAMPAIGNS; i++) {
    snprintf(name, sizeof name, "campaign%d", i);
    pd_label_ensure(s, PD_LABEL_CAMPAIGN, name, PD_NTS, &camp[i]);
  }
  for (int g = 0; g < GUIDES; g++) {
    uint32_t id;
    snprintf(name, sizeof name, "G%d", g);
    pd_guide_ensure(s, name, PD_NTS, shop[g % SHOPS], &id);
  }
  for (uint64_t u = 1; u <= users; u++) {
    pd_user_id id;
    snprintf(name, sizeof name, "u%llu", (unsigned long long)u);
    check(pd_user_ensure(s, "bench", PD_NTS, name, PD_NTS, &id), s, "user");
    events--;
  }
  static const int32_t chans[4] = {PD_CHANNEL_WECOM, PD_CHANNEL_WECHAT,
                                   PD_CHANNEL_OFFICIAL_ACCOUNT,
                                   PD_CHANNEL_MINI_PROGRAM};
  int64_t *acq = malloc((users + 1) * sizeof *acq);
  /* Links, unlinks, re-links and binds. */
  for (uint64_t u = 1; u <= users; u++) {
    int64_t t = T0 + (int64_t)below((uint64_t)YEAR - DAY);
    acq[u] = t;
    pd_link_event l = PD_LINK_EVENT_INIT;
    l.event_id = ++eid, l.user = u, l.channel = chans[below(4)];
    l.source = src[below(SOURCES)], l.guide = 1 + (uint32_t)below(GUIDES);
    l.campaign = below(10) == 0 ? camp[below(CAMPAIGNS)] : 0;
    l.time = t;
    check(pd_record_link(s, &l), s, "link");
    if (below(4) == 0) {
      pd_link_event l2 = l;
      l2.event_id = ++eid, l2.channel = chans[below(4)], l2.campaign = 0;
      l2.time = t + (int64_t)below(30 * DAY);
      check(pd_record_link(s, &l2), s, "link");
    }
    if (below(5) == 0) {
      pd_unlink_event x = PD_UNLINK_EVENT_INIT;
      x.event_id = ++eid, x.user = u, x.channel = l.channel;
      x.initiator = 1 + (int32_t)below(4);
      x.time = t + 1 + (int64_t)below((uint64_t)(T0 + YEAR - t - 1));
      check(pd_record_unlink(s, &x), s, "unlink");
      if (below(4) == 0) {
        pd_link_event l3 = l;
        l3.event_id = ++eid, l3.time = x.time + DAY;
        if (l3.time < T0 + YEAR) check(pd_record_link(s, &l3), s, "link");
      }
    }
    if (below(5) != 0) {
      pd_guide_bind b = PD_GUIDE_BIND_INIT;
      b.event_id = ++eid, b.user = u, b.guide = 1 + (uint32_t)below(GUIDES);
      b.time = t;
      check(pd_record_guide_bind(s, &b), s, "bind");
    }
  }
  for (uint32_t g = 1; g <= 20; g++) {
    pd_guide_handover h = PD_GUIDE_HANDOVER_INIT;
    h.event_id = ++eid, h.from_guide = g, h.to_guide = g + 20;
    h.time = T0 + YEAR / 2 + g * DAY;
    check(pd_record_guide_handover(s, &h), s, "handover");
  }
  /* Referrals: referee u (every 5th user) referred by a smaller id. */
  for (uint64_t u = 5; u <= users; u += 5) {
    pd_referral r = PD_REFERRAL_INIT;
    r.event_id = ++eid, r.referrer = 1 + below(u - 1), r.referee = u;
    r.time = acq[u];
    check(pd_record_referral(s, &r), s, "referral");
  }
  /* Orders (15% of the events) and a few refunds. */
  uint64_t n_orders = target * 15 / 100;
  for (uint64_t i = 0; i < n_orders; i++) {
    uint64_t u = 1 + below(users);
    pd_order o = PD_ORDER_INIT;
    o.event_id = ++eid, o.order_id = eid, o.user = u;
    o.time = acq[u] + (int64_t)below((uint64_t)(T0 + YEAR - acq[u]));
    o.amount = 1000 + (int64_t)below(50000);
    o.guide = below(2) ? 1 + (uint32_t)below(GUIDES) : 0;
    o.channel = PD_CHANNEL_MINI_PROGRAM;
    check(pd_record_order(s, &o), s, "order");
    if (below(30) == 0) {
      pd_refund r = PD_REFUND_INIT;
      r.event_id = ++eid, r.order_id = o.order_id;
      r.time = o.time + DAY, r.amount = o.amount / 2;
      check(pd_record_refund(s, &r), s, "refund");
    }
  }
  for (int m = 0; m < 12; m++)
    for (int k = 0; k < SOURCES; k++) {
      pd_reach r = PD_REACH_INIT;
      r.event_id = ++eid, r.channel = chans[k % 4], r.source = src[k];
      r.period_start = T0 + m * 30 * DAY, r.period_end = r.period_start + 30 * DAY;
      r.reached = 100000;
      check(pd_record_reach(s, &r), s, "reach");
      pd_acquisition_cost c = PD_ACQUISITION_COST_INIT;
      c.event_id = ++eid, c.channel = chans[k % 4], c.source = src[k];
      c.period_start = r.period_start, c.period_end = r.period_end;
      c.amount = 10000000;
      check(pd_record_cost(s, &c), s, "cost");
    }
  /* Touchpoints for the rest. */
  while (events < target) {
    uint64_t u = 1 + below(users);
    pd_touchpoint x = PD_TOUCHPOINT_INIT;
    uint64_t k = below(100);
    x.kind = k < 10   ? PD_TOUCH_INBOUND_MESSAGE
             : k < 25 ? PD_TOUCH_OUTBOUND_1TO1
             : k < 55 ? PD_TOUCH_BROADCAST
             : k < 80 ? PD_TOUCH_POST_EXPOSURE
             : k < 90 ? PD_TOUCH_CONTENT_VIEW
             : k < 95 ? PD_TOUCH_CONTENT_ENGAGEMENT
                      : PD_TOUCH_LIVE_VIEW;
    if (x.kind == PD_TOUCH_OUTBOUND_1TO1 || x.kind == PD_TOUCH_BROADCAST ||
        x.kind == PD_TOUCH_POST_EXPOSURE)
      x.purpose = 1 + (int32_t)below(3);
    x.event_id = ++eid, x.user = u, x.channel = PD_CHANNEL_WECOM;
    x.guide = x.kind == PD_TOUCH_OUTBOUND_1TO1 ? 1 + (uint32_t)below(GUIDES) : 0;
    x.campaign = x.kind == PD_TOUCH_BROADCAST && below(5) == 0
                     ? camp[below(CAMPAIGNS)]
                     : 0;
    x.time = acq[u] + (int64_t)below((uint64_t)(T0 + YEAR - acq[u]));
    check(pd_record_touchpoint(s, &x), s, "touchpoint");
  }
  free(acq);
}

static uint64_t n_users;
static const char *only;
static int32_t threads = 1; /* the store's setting for this round */

/* Whether to run figure `name` (all unless one was named). */
static int want(const char *name) { return !only || strcmp(only, name) == 0; }
#define FIGURE(name) \
  for (int rep_ = 0; want(name) && rep_ < (only ? 5 : 1); rep_++)

static void report(const char *name, double t0, pd_status st, pd_store *s) {
  double dt = bench_wall_now() - t0, dc = bench_cpu_now() - cpu0;
  if (st != PD_OK) {
    fprintf(stderr, "bench_metrics_b: %s: %s\n", name, pd_store_errmsg(s));
    exit(1);
  }
  printf("bench=%s threads=%d users=%llu events=%llu seconds=%.3f "
         "cpu_seconds=%.3f\n",
         name, (int)threads, (unsigned long long)n_users,
         (unsigned long long)events, dt, dc);
  fflush(stdout);
}

int main(int argc, char **argv) {
  n_users = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  uint64_t target = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000000;
  only = argc > 3 && strcmp(argv[3], "all") != 0 ? argv[3] : NULL;
  const char *list = argc > 4 ? argv[4] : "1";
  pd_store *s = NULL;
  if (pd_store_new(NULL, &s) != PD_OK) return 1;
  double t0 = bench_wall_now();
  build(s, n_users, target);
  printf("bench=metrics_b_build users=%llu events=%llu seconds=%.3f\n",
         (unsigned long long)n_users, (unsigned long long)events, bench_wall_now() - t0);
  fflush(stdout);

  /* Every figure once per thread count of the list. */
  for (const char *p = list; *p;) {
    char *end;
    threads = (int32_t)strtol(p, &end, 10);
    if (end == p) break;
    p = *end == ',' ? end + 1 : end;
    if (pd_store_set_threads(s, threads) != PD_OK) {
      fprintf(stderr, "bench_metrics_b: threads: %s\n", pd_store_errmsg(s));
      return 1;
    }
    pd_metrics_filter f = PD_METRICS_FILTER_INIT;
    f.as_of = T0 + YEAR;
    pd_rows *rows = NULL;
    pd_status st;
    size_t n = 0;

    FIGURE("link_retention") {
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_link_retention_compute(s, &f, NULL, &rows);
      report("link_retention", t0, st, s);
      pd_rows_free(rows);
    }
    FIGURE("link_survival_km") {
      pd_km *km = NULL;
      pd_km_new(NULL, &km);
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_link_survival_km(s, &f, 0, km);
      report("link_survival_km", t0, st, s);
      pd_km_free(km);
    }
    FIGURE("link_retention_sbg") {
      pd_fit *fit = NULL;
      pd_fit_new(NULL, &fit);
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_link_retention_fit_sbg(s, &f, NULL, T0, T0 + 31 * DAY, fit);
      report("link_retention_sbg", t0, st, s);
      pd_fit_free(fit);
    }
    FIGURE("unlink_rate") {
      pd_unlink_rate ur = PD_UNLINK_RATE_INIT;
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_unlink_rate_compute(s, &f, 0, T0 + 180 * DAY, T0 + 210 * DAY,
                                  &ur);
      report("unlink_rate", t0, st, s);
    }
    FIGURE("campaign_health") {
      pd_campaign_health ch = PD_CAMPAIGN_HEALTH_INIT;
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_campaign_health_compute(s, &f, 1, T0 + 100 * DAY, T0 + 103 * DAY,
                                      NULL, &ch);
      report("campaign_health", t0, st, s);
    }
    FIGURE("funnel_by_source") {
      pd_funnel_options fo = PD_FUNNEL_OPTIONS_INIT;
      fo.group_by = PD_BY_SOURCE;
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_funnel_compute(s, &f, &fo, &rows);
      report("funnel_by_source", t0, st, s);
      pd_rows_free(rows);
    }
    FIGURE("repurchase") {
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_repurchase_compute(s, &f, NULL, &rows);
      report("repurchase", t0, st, s);
      pd_rows_free(rows);
    }
    FIGURE("referral_stats") {
      pd_referral_stats rs = PD_REFERRAL_STATS_INIT;
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_referral_stats_compute(s, &f, T0 + 180 * DAY, T0 + 210 * DAY,
                                     &rs);
      report("referral_stats", t0, st, s);
    }
    FIGURE("referral_top") {
      pd_referrer_row top[100];
      top[0].size = sizeof top[0];
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_referral_top(s, &f, 100, top, 100, &n);
      report("referral_top", t0, st, s);
    }
    FIGURE("guide_figures") {
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_guide_figures_compute(s, &f, NULL, &rows);
      report("guide_figures", t0, st, s);
      pd_rows_free(rows);
    }
    FIGURE("guide_handovers") {
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_guide_handover_history(s, &f, &rows);
      report("guide_handovers", t0, st, s);
      pd_rows_free(rows);
    }
    FIGURE("rfm") {
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_rfm_compute(s, &f, &rows);
      report("rfm", t0, st, s);
      pd_rows_free(rows);
    }
    FIGURE("super_users") {
      pd_super_user su[100];
      su[0].size = sizeof su[0];
      t0 = bench_wall_now(), cpu0 = bench_cpu_now();
      st = pd_super_users(s, &f, NULL, 100, su, 100, &n);
      report("super_users", t0, st, s);
    }
  }
  pd_store_free(s);
  return 0;
}
