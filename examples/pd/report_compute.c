/* pd report: filling the sections from a store through the public API. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "channel_ids.h"
#include "report_orders.h"

static void set_state(section *s, int state, const char *reason) {
  s->state = state;
  snprintf(s->reason, sizeof s->reason, "%s", reason);
}

#define LIB_CHECK(store, call)                                                 \
  do {                                                                         \
    pd_status st_ = (call);                                                    \
    if (st_ != PD_OK)                                                          \
      return pd_fail(1, "report: %s: %s", pd_status_str(st_),                  \
                     pd_store_errmsg(store));                                  \
  } while (0)

static pd_metrics_filter *filter_at(pd_metrics_filter *f, int64_t as_of) {
  pd_metrics_filter init = PD_METRICS_FILTER_INIT;
  *f = init;
  f->as_of = as_of;
  return f;
}

static int list_channels(pd_store *store, report *r) {
  int32_t ids[REPORT_MAX_CHANNELS];
  size_t n =
      channel_ids(r->stats.channels, ids, REPORT_MAX_CHANNELS - r->n_channels);
  for (size_t k = 0; k < n; k++) {
    int32_t id = ids[k];
    channel_info *c = &r->channels[r->n_channels++];
    c->id = id;
    LIB_CHECK(store, pd_channel_info(store, id, &c->name, &c->kind));
  }
  return 0;
}

typedef struct id_list {
  pd_user_id *ids;
  size_t n, cap;
  int failed;
} id_list;

static int collect_user(void *user_data, pd_user_id id) {
  id_list *l = user_data;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 1024;
    pd_user_id *p = realloc(l->ids, cap * sizeof *p);
    if (!p) {
      l->failed = 1;
      return 1;
    }
    l->ids = p;
    l->cap = cap;
  }
  l->ids[l->n++] = id;
  return 0;
}

static int is_user_initiated(int32_t initiator) {
  return initiator == PD_UNLINK_USER_DELETED ||
         initiator == PD_UNLINK_USER_BLOCKED ||
         initiator == PD_UNLINK_USER_UNFOLLOWED;
}

/* Pool by channel: read straight from each user's link state. */
static int section_pool(pd_store *store, report *r) {
  if (r->stats.links == 0) {
    set_state(&r->pool, SEC_NOT_APPLICABLE,
              "no links recorded (an order log has no channels)");
    return 0;
  }
  id_list l = {NULL, 0, 0, 0};
  pd_status st = pd_store_foreach_user(store, collect_user, &l);
  if (st != PD_OK || l.failed) {
    free(l.ids);
    return pd_fail(1, "report: listing users: %s",
                   st != PD_OK ? pd_store_errmsg(store) : "out of memory");
  }
  r->n_pool = r->n_channels;
  for (size_t c = 0; c < r->n_channels; c++)
    r->pool_rows[c].channel = r->channels[c].id;
  for (size_t i = 0; i < l.n; i++) {
    int reachable = 0;
    for (size_t c = 0; c < r->n_channels; c++) {
      pool_row *row = &r->pool_rows[c];
      pd_link_state ls = PD_LINK_STATE_INIT;
      st = pd_user_link_state(store, l.ids[i], row->channel, r->as_of, &ls);
      if (st != PD_OK) {
        free(l.ids);
        return pd_fail(1, "report: link state: %s", pd_store_errmsg(store));
      }
      if (ls.links == 0)
        continue;
      row->ever++;
      if (ls.linked) {
        row->now++;
        reachable |= r->channels[c].kind == PD_CHANNEL_PRIVATE;
      } else if (ls.last_unlinked >= 0) {
        if (is_user_initiated(ls.last_initiator))
          row->by_user++;
        else
          row->by_staff++;
      }
    }
    r->reachable += reachable;
  }
  free(l.ids);
  return 0;
}

static int funnel_rows(pd_store *store, report *r, int32_t by, rate_row *out,
                       size_t cap, size_t *n) {
  pd_metrics_filter f;
  pd_funnel_options o = PD_FUNNEL_OPTIONS_INIT;
  o.group_by = by;
  pd_rows *rows = NULL;
  LIB_CHECK(store,
            pd_funnel_compute(store, filter_at(&f, r->as_of), &o, &rows));
  size_t count = pd_rows_count(rows);
  for (size_t i = 0; i < count && *n < cap; i++) {
    pd_funnel_row fr = PD_FUNNEL_ROW_INIT;
    if (pd_funnel_row_get(rows, i, &fr) != PD_OK)
      continue;
    if (by == PD_BY_ALL) {
      r->funnel_all = fr;
      continue;
    }
    rate_row *row = &out[(*n)++];
    row->reached = fr.reached;
    row->linked = fr.linked;
    row->link_rate = fr.link_rate;
    row->name = "(unknown)";
    if (fr.key > 0)
      pd_label_name(store, PD_LABEL_SOURCE, (uint32_t)fr.key, &row->name, NULL);
  }
  pd_rows_free(rows);
  return 0;
}

static int section_funnel(pd_store *store, report *r) {
  if (r->stats.links == 0) {
    set_state(&r->funnel, SEC_NOT_APPLICABLE,
              "the funnel starts at a link; an order log has none");
    set_state(&r->link_rates, SEC_NOT_APPLICABLE, "no links or reach recorded");
    return 0;
  }
  size_t n = 0;
  int rc = funnel_rows(store, r, PD_BY_ALL, NULL, 1, &n);
  if (!rc)
    rc = funnel_rows(store, r, PD_BY_SOURCE, r->by_source, REPORT_MAX_SOURCES,
                     &r->n_by_source);
  return rc;
}

static int section_retention(pd_store *store, report *r) {
  if (r->stats.links == 0) {
    set_state(&r->retention, SEC_NOT_APPLICABLE,
              "retention is measured on links; an order log has none");
    set_state(&r->unlinks, SEC_NOT_APPLICABLE,
              "no links recorded (an order log has no channels)");
    return 0;
  }
  pd_metrics_filter f;
  pd_link_retention_options o = PD_LINK_RETENTION_OPTIONS_INIT;
  o.cohort_unit = PD_COHORT_MONTH;
  o.periods = REPORT_PERIODS;
  pd_rows *rows = NULL;
  LIB_CHECK(store, pd_link_retention_compute(store, filter_at(&f, r->as_of), &o,
                                             &rows));
  size_t count = pd_rows_count(rows);
  for (size_t i = 0; i < count; i++) {
    pd_link_retention_row row = PD_LINK_RETENTION_ROW_INIT;
    if (pd_link_retention_row_get(rows, i, &row) != PD_OK ||
        row.period > REPORT_PERIODS)
      continue;
    curve *cv = NULL;
    for (size_t k = 0; k < r->n_curves && !cv; k++)
      if (r->curves[k].channel == row.channel)
        cv = &r->curves[k];
    if (!cv && r->n_curves < REPORT_MAX_CHANNELS) {
      cv = &r->curves[r->n_curves++];
      cv->channel = row.channel;
    }
    if (!cv)
      continue;
    if (row.period == 0)
      cv->pairs += row.cohort_size;
    cv->retained[row.period] += row.retained;
    cv->observed[row.period] += row.observed;
    /* The heat map pools the private channels of each cohort. */
    if (report_channel_kind(r, row.channel) != PD_CHANNEL_PRIVATE)
      continue;
    size_t c = 0;
    while (c < r->n_cohorts && r->cohorts[c] != row.cohort_start)
      c++;
    if (c == r->n_cohorts) {
      if (r->n_cohorts == REPORT_MAX_COHORTS)
        continue;
      /* Insert in order: rows are sorted by channel first. */
      while (c > 0 && r->cohorts[c - 1] > row.cohort_start) {
        r->cohorts[c] = r->cohorts[c - 1];
        memcpy(r->cohort_retained[c], r->cohort_retained[c - 1],
               sizeof r->cohort_retained[0]);
        memcpy(r->cohort_observed[c], r->cohort_observed[c - 1],
               sizeof r->cohort_observed[0]);
        c--;
      }
      r->cohorts[c] = row.cohort_start;
      memset(r->cohort_retained[c], 0, sizeof r->cohort_retained[0]);
      memset(r->cohort_observed[c], 0, sizeof r->cohort_observed[0]);
      r->n_cohorts++;
    }
    r->cohort_retained[c][row.period] += row.retained;
    r->cohort_observed[c][row.period] += row.observed;
  }
  pd_rows_free(rows);

  pd_unlink_rate u30 = PD_UNLINK_RATE_INIT, u90 = PD_UNLINK_RATE_INIT;
  int64_t end = r->as_of < PD_TIME_MAX ? r->as_of + 1 : PD_TIME_MAX;
  int64_t from30 = end - 30 * REPORT_DAY > 0 ? end - 30 * REPORT_DAY : 0;
  int64_t from90 = end - 90 * REPORT_DAY > 0 ? end - 90 * REPORT_DAY : 0;
  LIB_CHECK(store, pd_unlink_rate_compute(store, &f, 0, from30, end, &u30));
  LIB_CHECK(store, pd_unlink_rate_compute(store, &f, 0, from90, end, &u90));
  r->unlink_30 = u30;
  r->unlink_90 = u90;
  return 0;
}

static int section_pressure(pd_store *store, report *r) {
  if (r->stats.touchpoints == 0) {
    set_state(&r->pressure, SEC_NOT_APPLICABLE,
              "no touchpoints recorded (an order log has no messages)");
    return 0;
  }
  pd_metrics_filter f;
  pd_pressure_stats p7 = PD_PRESSURE_STATS_INIT, p30 = PD_PRESSURE_STATS_INIT;
  filter_at(&f, r->as_of);
  pd_contact_policy policy = PD_CONTACT_POLICY_INIT;
  r->policy = policy;
  LIB_CHECK(store,
            pd_pressure_stats_get(store, &f, 7 * REPORT_DAY, &r->policy, &p7));
  LIB_CHECK(store, pd_pressure_stats_get(store, &f, 30 * REPORT_DAY, &r->policy,
                                         &p30));
  r->pressure_7 = p7;
  r->pressure_30 = p30;
  return 0;
}

static int section_repurchase(pd_store *store, report *r) {
  pd_metrics_filter f;
  pd_rows *rows = NULL;
  LIB_CHECK(store,
            pd_repurchase_compute(store, filter_at(&f, r->as_of), NULL, &rows));
  pd_repurchase_row row = PD_REPURCHASE_ROW_INIT;
  if (pd_rows_count(rows) > 0 && pd_repurchase_row_get(rows, 0, &row) == PD_OK)
    r->repurchase_all = row;
  pd_rows_free(rows);
  return 0;
}

static int section_referral(pd_store *store, report *r) {
  if (r->stats.referrals == 0 && r->stats.links == 0) {
    set_state(&r->referral, SEC_NOT_APPLICABLE,
              "no referrals recorded (an order log has none)");
    return 0;
  }
  pd_metrics_filter f;
  pd_referral_stats s = PD_REFERRAL_STATS_INIT;
  int64_t end = r->as_of < PD_TIME_MAX ? r->as_of + 1 : PD_TIME_MAX;
  int64_t from = end - 30 * REPORT_DAY > 0 ? end - 30 * REPORT_DAY : 0;
  filter_at(&f, r->as_of);
  LIB_CHECK(store, pd_referral_stats_compute(store, &f, from, end, &s));
  r->referral_stats = s;
  pd_referrer_row top[REPORT_TOP_N];
  for (size_t i = 0; i < REPORT_TOP_N; i++) {
    pd_referrer_row init = PD_REFERRER_ROW_INIT;
    top[i] = init;
  }
  size_t n = 0;
  if (s.referrers > 0)
    LIB_CHECK(store,
              pd_referral_top(store, &f, REPORT_TOP_N, top, REPORT_TOP_N, &n));
  memcpy(r->top_referrers, top, sizeof top);
  r->n_top_referrers = n;
  return 0;
}

static int section_trust(pd_store *store, report *r) {
  if (r->stats.touchpoints == 0) {
    set_state(&r->trust, SEC_NOT_APPLICABLE,
              "trust is derived from touchpoints; an order log has none");
    return 0;
  }
  pd_metrics_filter f;
  pd_trust_distribution d = PD_TRUST_DISTRIBUTION_INIT;
  LIB_CHECK(store, pd_trust_distribution_get(store, filter_at(&f, r->as_of),
                                             NULL, &d));
  r->trust_dist = d;
  return 0;
}

/* Insert into the top list: most users bound first, then staff code. */
static void top_guide_insert(report *r, const guide_row *row) {
  size_t pos = r->n_top_guides;
  while (pos > 0 && (r->top_guides[pos - 1].users_bound < row->users_bound ||
                     (r->top_guides[pos - 1].users_bound == row->users_bound &&
                      strcmp(r->top_guides[pos - 1].code, row->code) > 0)))
    pos--;
  if (pos >= REPORT_TOP_N)
    return;
  size_t last =
      r->n_top_guides < REPORT_TOP_N ? r->n_top_guides : REPORT_TOP_N - 1;
  memmove(&r->top_guides[pos + 1], &r->top_guides[pos],
          (last - pos) * sizeof *row);
  r->top_guides[pos] = *row;
  if (r->n_top_guides < REPORT_TOP_N)
    r->n_top_guides++;
}

static int section_guides(pd_store *store, report *r) {
  if (r->stats.guides == 0) {
    set_state(&r->guides, SEC_NOT_APPLICABLE, "no guides recorded");
    return 0;
  }
  r->guides_total = r->stats.guides;
  pd_metrics_filter f;
  pd_rows *rows = NULL;
  LIB_CHECK(store, pd_guide_figures_compute(store, filter_at(&f, r->as_of),
                                            NULL, &rows));
  size_t count = pd_rows_count(rows);
  for (size_t i = 0; i < count; i++) {
    pd_guide_figures_row g = PD_GUIDE_FIGURES_ROW_INIT;
    pd_guide_info gi = PD_GUIDE_INFO_INIT;
    if (pd_guide_figures_row_get(rows, i, &g) != PD_OK ||
        pd_guide_get(store, g.guide, r->as_of, &gi) != PD_OK)
      continue;
    guide_row row = {gi.code,       "",           g.active,
                     g.users_bound, g.orders,     g.revenue,
                     g.commission,  g.reply_rate, 1};
    if (g.shop)
      pd_label_name(store, PD_LABEL_SHOP, g.shop, &row.shop, NULL);
    r->guides_active += g.active == 1;
    top_guide_insert(r, &row);
  }
  pd_rows_free(rows);
  return 0;
}

typedef struct name_buf {
  char *buf;
  size_t cap;
} name_buf;

/* An order log's customer id names its customer in the report. Other
 * identities (phone numbers, WeChat ids) are personal data and stay out
 * of it: those users are shown by user id. */
static int order_log_id(void *user_data, const char *ns, size_t ns_len,
                        const char *key, size_t key_len) {
  name_buf *b = user_data;
  if (ns_len != strlen(REPORT_ORDERS_NS) ||
      memcmp(ns, REPORT_ORDERS_NS, ns_len) != 0)
    return 0;
  snprintf(b->buf, b->cap, "customer %.*s", (int)(key_len > 48 ? 48 : key_len),
           key);
  return 1;
}

/* "customer <id>" for an order log's customer, else "user <id>". */
static void user_label(pd_store *store, pd_user_id user, char *buf,
                       size_t cap) {
  name_buf nb = {buf, cap};
  snprintf(buf, cap, "user %" PRIu64, user);
  pd_user_identities(store, user, order_log_id, &nb);
}

static int count_followup(void *user_data, const pd_followup_item *item) {
  report *r = user_data;
  r->followup_total++;
  if (item->reason >= 1 && item->reason <= 4)
    r->followup_by_reason[item->reason]++;
  if (item->rank == 1)
    r->followup_guides++;
  return 0;
}

/* Lifetime value (BG/NBD + Gamma-Gamma on the orders, weeks) and the
 * follow-up plan that ranks users by it. */
static int section_value(pd_store *store, report *r) {
  if (r->stats.orders == 0) {
    set_state(&r->clv, SEC_NOT_APPLICABLE, "no orders recorded");
    set_state(&r->followup, SEC_NOT_APPLICABLE, "no orders recorded");
    return 0;
  }
  pd_metrics_filter f;
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = r->as_of;
  spec.unit = PD_TIME_UNIT_WEEK;
  pd_store_summary *h = NULL;
  LIB_CHECK(store,
            pd_store_summary_new(store, filter_at(&f, r->as_of), &spec, &h));
  int rc = 0;
  pd_status st = pd_store_summary_predict(h, NULL);
  const double *p_alive = NULL, *expected = NULL, *spend = NULL, *clv = NULL;
  if (st == PD_OK)
    st = pd_store_summary_column(h, PD_VALUE_P_ALIVE, &p_alive);
  if (st == PD_OK)
    st = pd_store_summary_column(h, PD_VALUE_EXPECTED_PURCHASES, &expected);
  if (st == PD_OK)
    st = pd_store_summary_column(h, PD_VALUE_EXPECTED_SPEND, &spend);
  if (st == PD_OK)
    st = pd_store_summary_column(h, PD_VALUE_CLV, &clv);
  pd_fit_info b = PD_FIT_INFO_INIT, g = PD_FIT_INFO_INIT;
  if (st == PD_OK)
    st = pd_store_summary_fit(h, 0, &b);
  if (st == PD_OK)
    st = pd_store_summary_fit(h, 1, &g);
  if (st != PD_OK) {
    /* A model that cannot be fitted to this data is a finding, not a
     * failure of the report: say why and go on without predictions. */
    snprintf(r->clv.reason, sizeof r->clv.reason, "%s: %s", pd_status_str(st),
             pd_store_summary_errmsg(h));
    r->clv.state = SEC_FAILED;
    goto followup;
  }
  size_t n = pd_store_summary_rows(h);
  r->customers = n;
  r->bgnbd = b;
  r->gg = g;
  for (size_t i = 0; i < n; i++) {
    r->mean_p_alive += p_alive[i];
    r->mean_expected += expected[i];
    r->mean_spend += spend[i];
    r->total_clv += clv[i];
  }
  if (n) {
    r->mean_p_alive /= (double)n;
    r->mean_expected /= (double)n;
    r->mean_spend /= (double)n;
    r->mean_clv = r->total_clv / (double)n;
  }
  size_t top = 0;
  st = pd_store_summary_top(h, REPORT_TOP_N, r->top_users, r->top_clv, &top);
  if (st != PD_OK) {
    rc = pd_fail(1, "report: key customers: %s", pd_store_summary_errmsg(h));
    goto out;
  }
  r->n_top_users = top;
  for (size_t i = 0; i < top; i++)
    user_label(store, r->top_users[i], r->top_names[i], sizeof r->top_names[i]);
followup:
  if (r->stats.links == 0) {
    set_state(&r->followup, SEC_NOT_APPLICABLE,
              "follow-ups go to linked users; an order log has no links");
  } else {
    /* Without predictions the plan ranks by spend to date. */
    st = pd_followup_plan(store, r->clv.state == SEC_OK ? h : NULL, &f, NULL,
                          count_followup, r);
    if (st != PD_OK)
      rc = pd_fail(1, "report: follow-up plan: %s", pd_store_errmsg(store));
  }
out:
  pd_store_summary_free(h);
  return rc;
}

static int section_segments(pd_store *store, report *r) {
  if (r->stats.orders == 0) {
    set_state(&r->segments, SEC_NOT_APPLICABLE, "no orders recorded");
    return 0;
  }
  pd_metrics_filter f;
  pd_rows *rows = NULL;
  LIB_CHECK(store, pd_rfm_compute(store, filter_at(&f, r->as_of), &rows));
  r->buyers = pd_rows_count(rows);
  for (int32_t seg = 1; seg <= PD_SEGMENT_LAST; seg++) {
    pd_segment_count c = PD_SEGMENT_COUNT_INIT;
    pd_status st = pd_rfm_segment_count(rows, seg, &c);
    if (st != PD_OK) {
      pd_rows_free(rows);
      return pd_fail(1, "report: segments: %s", pd_status_str(st));
    }
    r->segment_counts[seg] = c;
  }
  pd_rows_free(rows);
  pd_super_user top[REPORT_TOP_N];
  for (size_t i = 0; i < REPORT_TOP_N; i++) {
    pd_super_user init = PD_SUPER_USER_INIT;
    top[i] = init;
  }
  size_t n = 0;
  LIB_CHECK(store, pd_super_users(store, &f, NULL, REPORT_TOP_N, top,
                                  REPORT_TOP_N, &n));
  memcpy(r->super_users, top, sizeof top);
  r->n_super_users = n;
  for (size_t i = 0; i < n; i++)
    user_label(store, top[i].user, r->super_names[i], sizeof r->super_names[i]);
  return 0;
}

int report_compute(pd_store *store, report *r) {
  pd_store_stats stats = PD_STORE_STATS_INIT;
  LIB_CHECK(store, pd_store_get_stats(store, &stats));
  r->stats = stats;
  r->exponent = pd_store_currency_exponent(store);
  int rc = list_channels(store, r);
  if (!rc)
    rc = section_pool(store, r);
  if (!rc)
    rc = section_funnel(store, r);
  if (!rc)
    rc = section_retention(store, r);
  if (!rc)
    rc = section_pressure(store, r);
  if (!rc)
    rc = section_repurchase(store, r);
  if (!rc)
    rc = section_referral(store, r);
  if (!rc)
    rc = section_trust(store, r);
  if (!rc)
    rc = section_guides(store, r);
  if (!rc)
    rc = section_segments(store, r);
  if (!rc)
    rc = section_value(store, r);
  return rc;
}
