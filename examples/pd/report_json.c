/* pd report: the JSON form (one object; examples/pd/json.c writes it). */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

/* Opens the section's object; returns 1 (object closed already) when the
 * section has no figures. */
static int json_section(pd_json_writer *w, const char *key, const section *s) {
  pd_json_key(w, key);
  pd_json_begin_object(w);
  pd_json_key(w, "available");
  pd_json_bool(w, s->state == SEC_OK);
  if (s->state == SEC_OK)
    return 0;
  pd_json_member_string(w, "status",
                        s->state == SEC_FAILED ? "failed" : "not_applicable");
  pd_json_member_string(w, "reason", s->reason);
  pd_json_end_object(w);
  return 1;
}

static void json_rates(pd_json_writer *w, const char *key, const char *name,
                       const rate_row *rows, size_t n) {
  pd_json_key(w, key);
  pd_json_begin_array(w);
  for (size_t i = 0; i < n; i++) {
    pd_json_begin_object(w);
    pd_json_member_string(w, name, rows[i].name);
    pd_json_member_uint(w, "reached", rows[i].reached);
    pd_json_member_uint(w, "linked", rows[i].linked);
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
  pd_json_member_string(&w, "kind", r->demo ? "demo" : "transactions");
  if (r->demo) {
    pd_json_member_uint(&w, "seed", r->seed);
    pd_json_member_uint(&w, "users_requested", r->users_requested);
  } else {
    pd_json_member_string(&w, "path", r->path);
    pd_json_member_string(&w, "format", r->format);
  }
  pd_json_end_object(&w);
  report_format_date(r->as_of, date, sizeof date);
  snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", date,
           (int)(r->as_of % REPORT_DAY / 3600), (int)(r->as_of % 3600 / 60),
           (int)(r->as_of % 60));
  pd_json_member_string(&w, "as_of", buf);
  pd_json_member_int(&w, "as_of_unix", r->as_of);
  pd_json_member_uint(&w, "currency_exponent", (uint64_t)r->exponent);

  pd_json_key(&w, "overview");
  pd_json_begin_object(&w);
  pd_json_member_uint(&w, "users", r->stats.users);
  pd_json_member_uint(&w, "identities", r->stats.identities);
  pd_json_member_uint(&w, "merged_users", r->stats.merged_users);
  pd_json_member_uint(&w, "orders", r->stats.orders);
  pd_json_member_uint(&w, "refunds", r->stats.refunds);
  pd_json_member_uint(&w, "links", r->stats.links);
  pd_json_member_uint(&w, "unlinks", r->stats.unlinks);
  pd_json_member_uint(&w, "touchpoints", r->stats.touchpoints);
  pd_json_member_uint(&w, "guides", r->stats.guides);
  pd_json_member_uint(&w, "referrals", r->stats.referrals);
  pd_json_end_object(&w);

  if (!json_section(&w, "pool", &r->pool)) {
    pd_json_member_uint(&w, "reachable_users", r->reachable);
    pd_json_key(&w, "channels");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_pool; i++) {
      const pool_row *p = &r->pool_rows[i];
      if (!p->ever)
        continue;
      pd_json_begin_object(&w);
      pd_json_member_string(&w, "channel", report_channel_name(r, p->channel));
      pd_json_member_string(
          &w, "kind",
          report_channel_kind(r, p->channel) == PD_CHANNEL_PRIVATE ? "private"
                                                                   : "public");
      pd_json_member_uint(&w, "users_ever_linked", p->ever);
      pd_json_member_uint(&w, "linked_now", p->now);
      pd_json_member_number(&w, "kept_share", report_share(p->now, p->ever));
      pd_json_member_uint(&w, "ended_by_user", p->by_user);
      pd_json_member_uint(&w, "ended_by_staff", p->by_staff);
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
    pd_json_member_string(&w, "period", "30 days");
    pd_json_key(&w, "by_channel");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_curves; i++) {
      const curve *c = &r->curves[i];
      pd_json_begin_object(&w);
      pd_json_member_string(&w, "channel", report_channel_name(r, c->channel));
      pd_json_member_uint(&w, "linked", c->pairs);
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
      pd_json_member_string(&w, "cohort", date);
      pd_json_member_uint(&w, "linked", r->cohort_observed[c][0]);
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
      pd_json_member_uint(&w, "base", u[i]->base);
      pd_json_member_uint(&w, "user_unlinks", u[i]->user_unlinks);
      pd_json_member_uint(&w, "staff_unlinks", u[i]->staff_unlinks);
      pd_json_member_number(&w, "user_rate", u[i]->user_rate);
      pd_json_member_number(&w, "staff_rate", u[i]->staff_rate);
      pd_json_member_number(&w, "rate", u[i]->rate);
      pd_json_end_object(&w);
    }
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "pressure", &r->pressure)) {
    const pd_pressure_stats *p[2] = {&r->pressure_7, &r->pressure_30};
    pd_json_member_uint(&w, "cap_per_day", r->policy.per_day);
    pd_json_member_uint(&w, "cap_per_week", r->policy.per_week);
    static const char *const keys[2] = {"last_7_days", "last_30_days"};
    for (int i = 0; i < 2; i++) {
      pd_json_key(&w, keys[i]);
      pd_json_begin_object(&w);
      pd_json_member_uint(&w, "users", p[i]->users);
      pd_json_member_uint(&w, "pushes", p[i]->pushes);
      pd_json_member_number(&w, "mean", p[i]->mean);
      pd_json_member_number(&w, "p50", p[i]->p50);
      pd_json_member_number(&w, "p90", p[i]->p90);
      pd_json_member_uint(&w, "max", p[i]->max);
      pd_json_member_uint(&w, "over_cap_pushes", p[i]->over_cap_pushes);
      pd_json_member_uint(&w, "users_over_cap", p[i]->users_over_cap);
      pd_json_end_object(&w);
    }
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "funnel", &r->funnel)) {
    const pd_funnel_row *f = &r->funnel_all;
    pd_json_member_uint(&w, "reached", f->reached);
    pd_json_member_uint(&w, "linked", f->linked);
    pd_json_member_uint(&w, "converted", f->converted);
    pd_json_member_uint(&w, "repeat", f->repeat);
    pd_json_member_uint(&w, "referrers", f->referrers);
    pd_json_member_number(&w, "link_rate", f->link_rate);
    pd_json_member_number(&w, "conversion_rate", f->conversion_rate);
    pd_json_member_number(&w, "repeat_rate", f->repeat_rate);
    pd_json_member_number(&w, "referral_rate", f->referral_rate);
    pd_json_member_number(&w, "days_to_first_purchase_median",
                          f->days_to_first_purchase_median);
    pd_json_member_int(&w, "revenue_minor", f->revenue);
    pd_json_member_int(&w, "cost_minor", f->cost);
    pd_json_member_number(&w, "ltv_minor", f->ltv);
    pd_json_member_number(&w, "cac_minor", f->cac);
    pd_json_key(&w, "ltv_cac");
    if (f->ltv_cac >= 0)
      pd_json_number(&w, f->ltv_cac);
    else
      pd_json_null(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "repurchase", &r->repurchase)) {
    const pd_repurchase_row *p = &r->repurchase_all;
    pd_json_member_uint(&w, "buyers", p->buyers);
    pd_json_member_uint(&w, "repeat_buyers", p->repeat_buyers);
    pd_json_member_number(&w, "repurchase_rate", p->repurchase_rate);
    pd_json_member_uint(&w, "purchases", p->purchases);
    pd_json_member_number(&w, "frequency", p->frequency);
    pd_json_member_int(&w, "revenue_minor", p->revenue);
    pd_json_member_number(&w, "average_order_value_minor",
                          p->average_order_value);
    pd_json_member_number(&w, "interval_median_days", p->interval_median_days);
    pd_json_member_number(&w, "interval_mean_days", p->interval_mean_days);
    pd_json_member_uint(&w, "trend_buyers", p->trend_buyers);
    pd_json_member_number(&w, "shortening_share", p->shortening_share);
    pd_json_member_number(&w, "repeat_revenue_share", p->repeat_revenue_share);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "referral", &r->referral)) {
    const pd_referral_stats *s = &r->referral_stats;
    pd_json_member_uint(&w, "referrals", s->referrals);
    pd_json_member_uint(&w, "referrers", s->referrers);
    pd_json_member_uint(&w, "trees", s->trees);
    pd_json_member_uint(&w, "largest_tree", s->largest_tree);
    pd_json_member_number(&w, "mean_tree_size", s->mean_tree_size);
    pd_json_member_uint(&w, "max_depth", s->max_depth);
    pd_json_member_uint(&w, "window_days", 30);
    pd_json_member_uint(&w, "window_referrals", s->window_referrals);
    pd_json_member_uint(&w, "base", s->base);
    pd_json_member_number(&w, "k_factor", s->k_factor);
    pd_json_member_int(&w, "referee_revenue_minor", s->referee_revenue);
    pd_json_key(&w, "top_referrers");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_top_referrers; i++) {
      pd_json_begin_object(&w);
      pd_json_member_uint(&w, "user", r->top_referrers[i].user);
      pd_json_member_uint(&w, "referrals", r->top_referrers[i].referrals);
      pd_json_member_uint(&w, "descendants", r->top_referrers[i].descendants);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "trust", &r->trust)) {
    const pd_trust_distribution *d = &r->trust_dist;
    pd_json_member_uint(&w, "users", d->users);
    pd_json_member_number(&w, "mean_score", d->mean_score);
    pd_json_member_number(&w, "median_score", d->deciles[4]);
    pd_json_member_number(&w, "mean_expertise", d->mean_expertise);
    pd_json_member_number(&w, "mean_reliability", d->mean_reliability);
    pd_json_member_number(&w, "mean_intimacy", d->mean_intimacy);
    pd_json_member_number(&w, "mean_self_orientation",
                          d->mean_self_orientation);
    pd_json_key(&w, "histogram");
    pd_json_begin_array(&w);
    for (int k = 0; k < PD_TRUST_BINS; k++)
      pd_json_int(&w, (int64_t)d->histogram[k]);
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "guides", &r->guides)) {
    pd_json_member_uint(&w, "total", r->guides_total);
    pd_json_member_uint(&w, "active", r->guides_active);
    pd_json_key(&w, "top_by_users_bound");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_top_guides; i++) {
      const guide_row *g = &r->top_guides[i];
      pd_json_begin_object(&w);
      pd_json_member_string(&w, "code", g->code);
      pd_json_member_string(&w, "shop", g->shop);
      pd_json_key(&w, "active");
      pd_json_bool(&w, g->active == 1);
      pd_json_member_uint(&w, "users_bound", g->users_bound);
      if (g->has_figures) {
        pd_json_member_uint(&w, "orders", g->orders);
        pd_json_member_int(&w, "revenue_minor", g->revenue);
        pd_json_member_int(&w, "commission_minor", g->commission);
        pd_json_member_number(&w, "reply_rate", g->reply_rate);
      }
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "segments", &r->segments)) {
    pd_json_member_uint(&w, "buyers", r->buyers);
    pd_json_key(&w, "rfm");
    pd_json_begin_array(&w);
    for (int32_t seg = 1; seg <= PD_SEGMENT_LAST; seg++) {
      const pd_segment_count *c = &r->segment_counts[seg];
      pd_json_begin_object(&w);
      pd_json_member_string(&w, "segment", pd_segment_name(seg));
      pd_json_member_uint(&w, "users", c->users);
      pd_json_member_number(&w, "share", report_share(c->users, r->buyers));
      pd_json_member_int(&w, "revenue_minor", c->revenue);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_key(&w, "super_users");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_super_users; i++) {
      const pd_super_user *u = &r->super_users[i];
      pd_json_begin_object(&w);
      pd_json_member_uint(&w, "user", u->user);
      pd_json_member_string(&w, "name", r->super_names[i]);
      pd_json_member_number(&w, "score", u->score);
      pd_json_member_int(&w, "spend_minor", u->spend);
      pd_json_member_uint(&w, "orders", u->orders);
      pd_json_member_uint(&w, "referrals", u->referrals);
      pd_json_member_uint(&w, "engagement", u->engagement);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "clv", &r->clv)) {
    pd_json_member_string(&w, "unit", "week");
    pd_json_member_uint(&w, "customers", r->customers);
    pd_json_key(&w, "bgnbd");
    pd_json_begin_object(&w);
    static const char *const bn[4] = {"r", "alpha", "a", "b"};
    for (int i = 0; i < 4; i++)
      pd_json_member_number(&w, bn[i], r->bgnbd.params[i]);
    pd_json_key(&w, "converged");
    pd_json_bool(&w, r->bgnbd.converged);
    pd_json_end_object(&w);
    pd_json_key(&w, "gammagamma");
    pd_json_begin_object(&w);
    static const char *const gn[3] = {"p", "q", "gamma"};
    for (int i = 0; i < 3; i++)
      pd_json_member_number(&w, gn[i], r->gg.params[i]);
    pd_json_key(&w, "converged");
    pd_json_bool(&w, r->gg.converged);
    pd_json_end_object(&w);
    pd_json_member_number(&w, "mean_p_alive", r->mean_p_alive);
    pd_json_member_number(&w, "mean_expected_purchases_52_weeks",
                          r->mean_expected);
    pd_json_member_number(&w, "mean_expected_spend", r->mean_spend);
    pd_json_member_number(&w, "mean_clv_12_months", r->mean_clv);
    pd_json_member_number(&w, "total_clv_12_months", r->total_clv);
    pd_json_key(&w, "top_customers");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < r->n_top_users; i++) {
      pd_json_begin_object(&w);
      pd_json_member_uint(&w, "user", r->top_users[i]);
      pd_json_member_string(&w, "name", r->top_names[i]);
      pd_json_member_number(&w, "clv", r->top_clv[i]);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_end_object(&w);
  }

  if (!json_section(&w, "followup", &r->followup)) {
    pd_json_member_uint(&w, "users", r->followup_total);
    pd_json_member_uint(&w, "guide_lists", r->followup_guides);
    pd_json_member_uint(&w, "after_sales",
                        r->followup_by_reason[PD_FOLLOWUP_AFTER_SALES]);
    pd_json_member_uint(&w, "win_back",
                        r->followup_by_reason[PD_FOLLOWUP_WIN_BACK]);
    pd_json_member_uint(&w, "repurchase_due",
                        r->followup_by_reason[PD_FOLLOWUP_REPURCHASE_DUE]);
    pd_json_member_uint(&w, "key_customer",
                        r->followup_by_reason[PD_FOLLOWUP_KEY_CUSTOMER]);
    pd_json_end_object(&w);
  }
  if (svg_dir) {
    pd_json_key(&w, "charts");
    pd_json_begin_array(&w);
    for (int i = 0; i < REPORT_N_CHARTS; i++) {
      pd_json_begin_object(&w);
      pd_json_member_string(&w, "file", charts[i].file);
      pd_json_key(&w, "written");
      pd_json_bool(&w, charts[i].written);
      if (!charts[i].written)
        pd_json_member_string(&w, "reason", charts[i].reason);
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
  }
  pd_json_end_object(&w);
}
