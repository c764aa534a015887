/* pd report: the JSON form (one object; examples/pd/json.c writes it). */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static void json_u(pd_json_writer *w, const char *key, uint64_t v) {
  pd_json_key(w, key);
  pd_json_int(w, (int64_t)v);
}

static void json_i(pd_json_writer *w, const char *key, int64_t v) {
  pd_json_key(w, key);
  pd_json_int(w, v);
}

static void json_s(pd_json_writer *w, const char *key, const char *v) {
  pd_json_key(w, key);
  pd_json_string(w, v, strlen(v));
}

static void json_d(pd_json_writer *w, const char *key, double v) {
  pd_json_key(w, key);
  pd_json_number(w, v);
}

/* Opens the section's object; returns 1 (object closed already) when the
 * section has no figures. */
static int json_section(pd_json_writer *w, const char *key, const section *s) {
  pd_json_key(w, key);
  pd_json_begin_object(w);
  pd_json_key(w, "available");
  pd_json_bool(w, s->state == SEC_OK);
  if (s->state == SEC_OK)
    return 0;
  json_s(w, "status", s->state == SEC_FAILED ? "failed" : "not_applicable");
  json_s(w, "reason", s->reason);
  pd_json_end_object(w);
  return 1;
}

static void json_rates(pd_json_writer *w, const char *key, const char *name,
                       const rate_row *rows, size_t n) {
  pd_json_key(w, key);
  pd_json_begin_array(w);
  for (size_t i = 0; i < n; i++) {
    pd_json_begin_object(w);
    json_s(w, name, rows[i].name);
    json_u(w, "reached", rows[i].reached);
    json_u(w, "linked", rows[i].linked);
    pd_json_key(w, "link_rate");
    if (rows[i].reached)
      pd_json_number(w, rows[i].link_rate);
    else
      pd_json_null(w);
    pd_json_end_object(w);
  }
  pd_json_end_array(w);
}

void report_print_json(const report *r, const char *svg_dir,
                       const chart_result *charts) {
  pd_json_writer w;
  char date[32], buf[64];
  pd_json_init(&w, stdout);
  pd_json_begin_object(&w);
  pd_json_key(&w, "input");
  pd_json_begin_object(&w);
  json_s(&w, "kind", r->demo ? "demo" : "transactions");
  if (r->demo) {
    json_u(&w, "seed", r->seed);
    json_u(&w, "users_requested", r->users_requested);
  } else {
    json_s(&w, "path", r->path);
    json_s(&w, "format", r->format);
  }
  pd_json_end_object(&w);
  report_format_date(r->as_of, date, sizeof date);
  snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", date,
           (int)(r->as_of % REPORT_DAY / 3600), (int)(r->as_of % 3600 / 60),
           (int)(r->as_of % 60));
  json_s(&w, "as_of", buf);
  json_i(&w, "as_of_unix", r->as_of);
  json_u(&w, "currency_exponent", (uint64_t)r->exponent);

  pd_json_key(&w, "overview");
  pd_json_begin_object(&w);
  json_u(&w, "users", r->stats.users);
  json_u(&w, "identities", r->stats.identities);
  json_u(&w, "merged_users", r->stats.merged_users);
  json_u(&w, "orders", r->stats.orders);
  json_u(&w, "refunds", r->stats.refunds);
  json_u(&w, "links", r->stats.links);
  json_u(&w, "unlinks", r->stats.unlinks);
  json_u(&w, "touchpoints", r->stats.touchpoints);
  json_u(&w, "guides", r->stats.guides);
  json_u(&w, "referrals", r->stats.referrals);
  pd_json_end_object(&w);

  if (!json_section(&w, "pool", &r->pool)) {
    json_u(&w, "reachable_users", r->reachable);
    pd_json_key(&w, "channels");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_pool; i++) {
      const pool_row *p = &r->pool_rows[i];
      if (!p->ever)
        continue;
      pd_json_begin_object(&w);
      json_s(&w, "channel", report_channel_name(r, p->channel));
      json_s(&w, "kind",
             report_channel_kind(r, p->channel) == PD_CHANNEL_PRIVATE
                 ? "private"
                 : "public");
      json_u(&w, "users_ever_linked", p->ever);
      json_u(&w, "linked_now", p->now);
      json_d(&w, "kept_share", report_share(p->now, p->ever));
      json_u(&w, "ended_by_user", p->by_user);
      json_u(&w, "ended_by_staff", p->by_staff);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "link_rates", &r->link_rates)) {
    json_rates(&w, "by_source", "source", r->by_source, r->n_by_source);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "retention", &r->retention)) {
    json_s(&w, "period", "30 days");
    pd_json_key(&w, "by_channel");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_curves; i++) {
      const curve *c = &r->curves[i];
      pd_json_begin_object(&w);
      json_s(&w, "channel", report_channel_name(r, c->channel));
      json_u(&w, "linked", c->pairs);
      pd_json_key(&w, "observed");
      pd_json_begin_array(&w);
      for (size_t k = 0; k <= REPORT_PERIODS; k++)
        pd_json_int(&w, (int64_t)c->observed[k]);
      pd_json_end_array(&w);
      pd_json_key(&w, "retained");
      pd_json_begin_array(&w);
      for (size_t k = 0; k <= REPORT_PERIODS; k++)
        pd_json_int(&w, (int64_t)c->retained[k]);
      pd_json_end_array(&w);
      pd_json_key(&w, "retained_share");
      pd_json_begin_array(&w);
      for (size_t k = 0; k <= REPORT_PERIODS; k++) {
        double v = report_curve_rate(c, k);
        if (isfinite(v))
          pd_json_number(&w, v);
        else
          pd_json_null(&w);
      }
      pd_json_end_array(&w);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_key(&w, "cohorts_private_channels");
    pd_json_begin_array(&w);
    for (size_t c = 0; c < r->n_cohorts; c++) {
      pd_json_begin_object(&w);
      report_format_date(r->cohorts[c], date, sizeof date);
      json_s(&w, "cohort", date);
      json_u(&w, "linked", r->cohort_observed[c][0]);
      pd_json_key(&w, "retained_share");
      pd_json_begin_array(&w);
      for (size_t k = 0; k <= REPORT_PERIODS; k++) {
        if (r->cohort_observed[c][k])
          pd_json_number(&w, report_share(r->cohort_retained[c][k],
                                          r->cohort_observed[c][k]));
        else
          pd_json_null(&w);
      }
      pd_json_end_array(&w);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "unlink_rate", &r->unlinks)) {
    const pd_unlink_rate *u[2] = {&r->unlink_30, &r->unlink_90};
    static const char *const keys[2] = {"last_30_days", "last_90_days"};
    for (int i = 0; i < 2; i++) {
      pd_json_key(&w, keys[i]);
      pd_json_begin_object(&w);
      json_u(&w, "base", u[i]->base);
      json_u(&w, "user_unlinks", u[i]->user_unlinks);
      json_u(&w, "staff_unlinks", u[i]->staff_unlinks);
      json_d(&w, "user_rate", u[i]->user_rate);
      json_d(&w, "staff_rate", u[i]->staff_rate);
      json_d(&w, "rate", u[i]->rate);
      pd_json_end_object(&w);
    }
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "pressure", &r->pressure)) {
    const pd_pressure_stats *p[2] = {&r->pressure_7, &r->pressure_30};
    json_u(&w, "cap_per_day", r->policy.per_day);
    json_u(&w, "cap_per_week", r->policy.per_week);
    static const char *const keys[2] = {"last_7_days", "last_30_days"};
    for (int i = 0; i < 2; i++) {
      pd_json_key(&w, keys[i]);
      pd_json_begin_object(&w);
      json_u(&w, "users", p[i]->users);
      json_u(&w, "pushes", p[i]->pushes);
      json_d(&w, "mean", p[i]->mean);
      json_d(&w, "p50", p[i]->p50);
      json_d(&w, "p90", p[i]->p90);
      json_u(&w, "max", p[i]->max);
      json_u(&w, "over_cap_pushes", p[i]->over_cap_pushes);
      json_u(&w, "users_over_cap", p[i]->users_over_cap);
      pd_json_end_object(&w);
    }
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "funnel", &r->funnel)) {
    const pd_funnel_row *f = &r->funnel_all;
    json_u(&w, "reached", f->reached);
    json_u(&w, "linked", f->linked);
    json_u(&w, "converted", f->converted);
    json_u(&w, "repeat", f->repeat);
    json_u(&w, "referrers", f->referrers);
    json_d(&w, "link_rate", f->link_rate);
    json_d(&w, "conversion_rate", f->conversion_rate);
    json_d(&w, "repeat_rate", f->repeat_rate);
    json_d(&w, "referral_rate", f->referral_rate);
    json_d(&w, "days_to_first_purchase_median",
           f->days_to_first_purchase_median);
    json_i(&w, "revenue_minor", f->revenue);
    json_i(&w, "cost_minor", f->cost);
    json_d(&w, "ltv_minor", f->ltv);
    json_d(&w, "cac_minor", f->cac);
    pd_json_key(&w, "ltv_cac");
    if (f->ltv_cac >= 0)
      pd_json_number(&w, f->ltv_cac);
    else
      pd_json_null(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "repurchase", &r->repurchase)) {
    const pd_repurchase_row *p = &r->repurchase_all;
    json_u(&w, "buyers", p->buyers);
    json_u(&w, "repeat_buyers", p->repeat_buyers);
    json_d(&w, "repurchase_rate", p->repurchase_rate);
    json_u(&w, "purchases", p->purchases);
    json_d(&w, "frequency", p->frequency);
    json_i(&w, "revenue_minor", p->revenue);
    json_d(&w, "average_order_value_minor", p->average_order_value);
    json_d(&w, "interval_median_days", p->interval_median_days);
    json_d(&w, "interval_mean_days", p->interval_mean_days);
    json_u(&w, "trend_buyers", p->trend_buyers);
    json_d(&w, "shortening_share", p->shortening_share);
    json_d(&w, "repeat_revenue_share", p->repeat_revenue_share);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "referral", &r->referral)) {
    const pd_referral_stats *s = &r->referral_stats;
    json_u(&w, "referrals", s->referrals);
    json_u(&w, "referrers", s->referrers);
    json_u(&w, "trees", s->trees);
    json_u(&w, "largest_tree", s->largest_tree);
    json_d(&w, "mean_tree_size", s->mean_tree_size);
    json_u(&w, "max_depth", s->max_depth);
    json_u(&w, "window_days", 30);
    json_u(&w, "window_referrals", s->window_referrals);
    json_u(&w, "base", s->base);
    json_d(&w, "k_factor", s->k_factor);
    json_i(&w, "referee_revenue_minor", s->referee_revenue);
    pd_json_key(&w, "top_referrers");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_top_referrers; i++) {
      pd_json_begin_object(&w);
      json_u(&w, "user", r->top_referrers[i].user);
      json_u(&w, "referrals", r->top_referrers[i].referrals);
      json_u(&w, "descendants", r->top_referrers[i].descendants);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "trust", &r->trust)) {
    const pd_trust_distribution *d = &r->trust_dist;
    json_u(&w, "users", d->users);
    json_d(&w, "mean_score", d->mean_score);
    json_d(&w, "median_score", d->deciles[4]);
    json_d(&w, "mean_expertise", d->mean_expertise);
    json_d(&w, "mean_reliability", d->mean_reliability);
    json_d(&w, "mean_intimacy", d->mean_intimacy);
    json_d(&w, "mean_self_orientation", d->mean_self_orientation);
    pd_json_key(&w, "histogram");
    pd_json_begin_array(&w);
    for (int k = 0; k < PD_TRUST_BINS; k++)
      pd_json_int(&w, (int64_t)d->histogram[k]);
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "guides", &r->guides)) {
    json_u(&w, "total", r->guides_total);
    json_u(&w, "active", r->guides_active);
    pd_json_key(&w, "top_by_users_bound");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_top_guides; i++) {
      const guide_row *g = &r->top_guides[i];
      pd_json_begin_object(&w);
      json_s(&w, "code", g->code);
      json_s(&w, "shop", g->shop);
      pd_json_key(&w, "active");
      pd_json_bool(&w, g->active == 1);
      json_u(&w, "users_bound", g->users_bound);
      if (g->has_figures) {
        json_u(&w, "orders", g->orders);
        json_i(&w, "revenue_minor", g->revenue);
        json_i(&w, "commission_minor", g->commission);
        json_d(&w, "reply_rate", g->reply_rate);
      }
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "segments", &r->segments)) {
    json_u(&w, "buyers", r->buyers);
    pd_json_key(&w, "rfm");
    pd_json_begin_array(&w);
    for (int32_t seg = 1; seg <= PD_SEGMENT_LAST; seg++) {
      const pd_segment_count *c = &r->segment_counts[seg];
      pd_json_begin_object(&w);
      json_s(&w, "segment", pd_segment_name(seg));
      json_u(&w, "users", c->users);
      json_d(&w, "share", report_share(c->users, r->buyers));
      json_i(&w, "revenue_minor", c->revenue);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_key(&w, "super_users");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_super_users; i++) {
      const pd_super_user *u = &r->super_users[i];
      pd_json_begin_object(&w);
      json_u(&w, "user", u->user);
      json_s(&w, "name", r->super_names[i]);
      json_d(&w, "score", u->score);
      json_i(&w, "spend_minor", u->spend);
      json_u(&w, "orders", u->orders);
      json_u(&w, "referrals", u->referrals);
      json_u(&w, "engagement", u->engagement);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "clv", &r->clv)) {
    json_s(&w, "unit", "week");
    json_u(&w, "customers", r->customers);
    pd_json_key(&w, "bgnbd");
    pd_json_begin_object(&w);
    static const char *const bn[4] = {"r", "alpha", "a", "b"};
    for (int i = 0; i < 4; i++)
      json_d(&w, bn[i], r->bgnbd.params[i]);
    pd_json_key(&w, "converged");
    pd_json_bool(&w, r->bgnbd.converged);
    pd_json_end_object(&w);
    pd_json_key(&w, "gammagamma");
    pd_json_begin_object(&w);
    static const char *const gn[3] = {"p", "q", "gamma"};
    for (int i = 0; i < 3; i++)
      json_d(&w, gn[i], r->gg.params[i]);
    pd_json_key(&w, "converged");
    pd_json_bool(&w, r->gg.converged);
    pd_json_end_object(&w);
    json_d(&w, "mean_p_alive", r->mean_p_alive);
    json_d(&w, "mean_expected_purchases_52_weeks", r->mean_expected);
    json_d(&w, "mean_expected_spend", r->mean_spend);
    json_d(&w, "mean_clv_12_months", r->mean_clv);
    json_d(&w, "total_clv_12_months", r->total_clv);
    pd_json_key(&w, "top_customers");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_top_users; i++) {
      pd_json_begin_object(&w);
      json_u(&w, "user", r->top_users[i]);
      json_s(&w, "name", r->top_names[i]);
      json_d(&w, "clv", r->top_clv[i]);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "followup", &r->followup)) {
    json_u(&w, "users", r->followup_total);
    json_u(&w, "guide_lists", r->followup_guides);
    json_u(&w, "after_sales", r->followup_by_reason[PD_FOLLOWUP_AFTER_SALES]);
    json_u(&w, "win_back", r->followup_by_reason[PD_FOLLOWUP_WIN_BACK]);
    json_u(&w, "repurchase_due",
           r->followup_by_reason[PD_FOLLOWUP_REPURCHASE_DUE]);
    json_u(&w, "key_customer", r->followup_by_reason[PD_FOLLOWUP_KEY_CUSTOMER]);
    pd_json_end_object(&w);
  }
  if (svg_dir) {
    pd_json_key(&w, "charts");
    pd_json_begin_array(&w);
    for (int i = 0; i < REPORT_N_CHARTS; i++) {
      pd_json_begin_object(&w);
      json_s(&w, "file", charts[i].file);
      pd_json_key(&w, "written");
      pd_json_bool(&w, charts[i].written);
      if (!charts[i].written)
        json_s(&w, "reason", charts[i].reason);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
  }
  pd_json_end_object(&w);
}
