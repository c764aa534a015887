/* pd report: the text form. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static void heading(const char *title) { printf("\n== %s\n", title); }

/* Prints the reason and returns 1 when the section has no figures. */
static int skipped(const section *s) {
  if (s->state == SEC_OK)
    return 0;
  if (s->state == SEC_FAILED)
    printf("  could not be computed: %s\n", s->reason);
  else
    printf("  not applicable: %s\n", s->reason);
  return 1;
}

static void print_rate(double v) {
  if (isfinite(v))
    printf(" %7.1f%%", 100.0 * v);
  else
    printf(" %8s", "-");
}

static void print_charts_text(const char *dir, const chart_result *charts) {
  heading("Charts");
  for (int i = 0; i < REPORT_N_CHARTS; i++) {
    if (charts[i].written)
      printf("  wrote %s/%s\n", dir, charts[i].file);
    else
      printf("  skipped %s (%s)\n", charts[i].file, charts[i].reason);
  }
}

void report_print_text(const report *r, const char *svg_dir,
                       const chart_result *charts) {
  char a[48], b[48], date[32], when[48];
  report_format_date(r->as_of, date, sizeof date);
  snprintf(when, sizeof when, "%s %02d:%02d:%02d UTC", date,
           (int)(r->as_of % REPORT_DAY / 3600), (int)(r->as_of % 3600 / 60),
           (int)(r->as_of % 60));
  if (r->demo)
    printf("pd report: demo private domain (seed %" PRIu64
           ", %u users requested), as of %s\n",
           r->seed, r->users_requested, when);
  else
    printf("pd report: %s (%s), as of %s\n", r->path, r->format, when);

  heading("Overview");
  printf("  users            %" PRIu64 " (identities %" PRIu64
         ", merged %" PRIu64 ")\n",
         r->stats.users, r->stats.identities, r->stats.merged_users);
  printf("  orders           %" PRIu64 " (refunds %" PRIu64 ")\n",
         r->stats.orders, r->stats.refunds);
  printf("  links            %" PRIu64 " link events, %" PRIu64
         " unlink events\n",
         r->stats.links, r->stats.unlinks);
  printf("  touchpoints      %" PRIu64 "\n", r->stats.touchpoints);
  printf("  guides           %" PRIu64 ", referrals %" PRIu64 "\n",
         r->stats.guides, r->stats.referrals);

  heading("Pool by channel (私域池)");
  if (!skipped(&r->pool)) {
    printf("  reachable now    %" PRIu64
           " users linked on at least one private channel\n",
           r->reachable);
    printf("  %-18s %-8s %9s %10s %8s %9s %8s\n", "channel", "kind", "ever",
           "linked now", "kept", "by user", "by staff");
    for (size_t i = 0; i < r->n_pool; i++) {
      const pool_row *p = &r->pool_rows[i];
      if (!p->ever)
        continue;
      printf("  %-18s %-8s %9" PRIu64 " %10" PRIu64,
             report_channel_name(r, p->channel),
             report_channel_kind(r, p->channel) == PD_CHANNEL_PRIVATE
                 ? "private"
                 : "public",
             p->ever, p->now);
      print_rate(report_share(p->now, p->ever));
      printf(" %9" PRIu64 " %8" PRIu64 "\n", p->by_user, p->by_staff);
    }
  }

  heading("Link rate (吸粉率 = linked / reached)");
  if (!skipped(&r->link_rates)) {
    printf("  %-24s %9s %9s %8s\n", "acquisition source", "reached", "linked",
           "rate");
    for (size_t i = 0; i < r->n_by_source; i++) {
      const rate_row *s = &r->by_source[i];
      printf("  %-24s %9" PRIu64 " %9" PRIu64, s->name, s->reached, s->linked);
      if (s->reached)
        print_rate(s->link_rate);
      else
        printf(" %8s", "-");
      printf("\n");
    }
  }

  heading("Link retention (留存): share still linked, months since linking");
  if (!skipped(&r->retention)) {
    static const size_t ks[] = {1, 3, 6, 12};
    printf("  %-18s %9s", "channel", "linked");
    for (size_t j = 0; j < 4; j++)
      printf(" %5s %2zu", "month", ks[j]);
    printf("\n");
    for (size_t i = 0; i < r->n_curves; i++) {
      const curve *c = &r->curves[i];
      printf("  %-18s %9" PRIu64, report_channel_name(r, c->channel), c->pairs);
      for (size_t j = 0; j < 4; j++)
        print_rate(report_curve_rate(c, ks[j]));
      printf("\n");
    }
    printf("  (30-day months; - = fewer than a quarter of the links are that "
           "old)\n");
  }

  heading("Unlink rate (删粉率)");
  if (!skipped(&r->unlinks)) {
    const pd_unlink_rate *u[2] = {&r->unlink_30, &r->unlink_90};
    static const int days[2] = {30, 90};
    for (int i = 0; i < 2; i++)
      printf("  last %2d days     %5.1f%% by users, %5.1f%% by staff "
             "(%" PRIu64 " + %" PRIu64 " unlinks, %" PRIu64
             " user-channel links in the window)\n",
             days[i], 100.0 * u[i]->user_rate, 100.0 * u[i]->staff_rate,
             u[i]->user_unlinks, u[i]->staff_unlinks, u[i]->base);
  }

  heading("Marketing pressure (营销压力): promotional pushes per user");
  if (!skipped(&r->pressure)) {
    const pd_pressure_stats *p[2] = {&r->pressure_7, &r->pressure_30};
    static const int days[2] = {7, 30};
    for (int i = 0; i < 2; i++)
      printf("  last %2d days     mean %.2f, median %.0f, p90 %.0f, max %u; "
             "over the cap (%u a day, %u a week): %" PRIu64
             " pushes to %" PRIu64 " users\n",
             days[i], p[i]->mean, p[i]->p50, p[i]->p90, p[i]->max,
             r->policy.per_day, r->policy.per_week, p[i]->over_cap_pushes,
             p[i]->users_over_cap);
  }

  heading("Funnel (引流 → 成交 → 复购 → 转介绍)");
  if (!skipped(&r->funnel)) {
    const pd_funnel_row *f = &r->funnel_all;
    printf("  reached          %" PRIu64 "\n", f->reached);
    printf("  linked           %" PRIu64 " (link rate %.1f%%)\n", f->linked,
           100.0 * f->link_rate);
    printf("  first purchase   %" PRIu64
           " (%.1f%% of linked, median %.1f days after linking)\n",
           f->converted, 100.0 * f->conversion_rate,
           f->days_to_first_purchase_median);
    printf("  repurchase       %" PRIu64 " (%.1f%% of converted)\n", f->repeat,
           100.0 * f->repeat_rate);
    printf("  referred others  %" PRIu64 " (%.1f%% of linked)\n", f->referrers,
           100.0 * f->referral_rate);
    report_format_major(f->ltv / pow(10.0, r->exponent), a, sizeof a);
    report_format_major(f->cac / pow(10.0, r->exponent), b, sizeof b);
    printf("  LTV / CAC        %s / %s per linked user", a, b);
    if (f->ltv_cac >= 0)
      printf(" (%.1f×)\n", f->ltv_cac);
    else
      printf(" (no cost recorded)\n");
  }

  heading("Repurchase (复购)");
  if (!skipped(&r->repurchase)) {
    const pd_repurchase_row *p = &r->repurchase_all;
    printf("  repurchase rate  %.1f%% (%" PRIu64 " of %" PRIu64
           " buyers bought twice or more)\n",
           100.0 * p->repurchase_rate, p->repeat_buyers, p->buyers);
    report_format_major(report_to_major(r, p->revenue), a, sizeof a);
    report_format_major(p->average_order_value / pow(10.0, r->exponent), b,
                        sizeof b);
    printf("  purchases        %" PRIu64 " (%.2f per buyer), revenue %s, "
           "average order %s\n",
           p->purchases, p->frequency, a, b);
    printf("  interval         median %.1f days, mean %.1f days\n",
           p->interval_median_days, p->interval_mean_days);
    printf("  shortening       %.1f%% of %" PRIu64
           " buyers with 3+ purchases buy at shorter intervals\n",
           100.0 * p->shortening_share, p->trend_buyers);
    printf("  repeat revenue   %.1f%% of revenue comes from repeat buyers\n",
           100.0 * p->repeat_revenue_share);
  }

  heading("Referral and fission (转介绍, 裂变)");
  if (!skipped(&r->referral)) {
    const pd_referral_stats *s = &r->referral_stats;
    printf("  referrals        %" PRIu64 " by %" PRIu64 " referrers\n",
           s->referrals, s->referrers);
    printf("  trees            %" PRIu64 ", largest %" PRIu64
           " users, mean %.2f, deepest generation %u\n",
           s->trees, s->largest_tree, s->mean_tree_size, s->max_depth);
    printf("  K-factor         %.3f over the last 30 days (%" PRIu64
           " referrals / %" PRIu64 " linked users)\n",
           s->k_factor, s->window_referrals, s->base);
    report_format_major(report_to_major(r, s->referee_revenue), a, sizeof a);
    printf("  referee revenue  %s\n", a);
  }

  heading("Trust (信任 = 专业 × 靠谱 × 亲密度 / 自私度), score 0–100");
  if (!skipped(&r->trust)) {
    const pd_trust_distribution *d = &r->trust_dist;
    printf("  users            %" PRIu64 ", mean score %.1f, median %.1f\n",
           d->users, d->mean_score, d->deciles[4]);
    printf("  components       expertise %.2f, reliability %.2f, intimacy "
           "%.2f, self-orientation %.2f (1–10)\n",
           d->mean_expertise, d->mean_reliability, d->mean_intimacy,
           d->mean_self_orientation);
    printf("  histogram       ");
    for (int k = 0; k < PD_TRUST_BINS; k++)
      printf(" %d–%d:%" PRIu64, 10 * k, 10 * k + 10, d->histogram[k]);
    printf("\n");
  }

  heading("Guides (导购)");
  if (!skipped(&r->guides)) {
    printf("  guides           %" PRIu64 " (%" PRIu64 " active)\n",
           r->guides_total, r->guides_active);
    for (size_t i = 0; i < r->n_top_guides; i++) {
      const guide_row *g = &r->top_guides[i];
      printf("  %zu. %-8s %-8s %5" PRIu64 " users bound", i + 1, g->code,
             g->shop, g->users_bound);
      if (g->has_figures) {
        report_format_major(report_to_major(r, g->revenue), a, sizeof a);
        report_format_major(report_to_major(r, g->commission), b, sizeof b);
        printf(", %" PRIu64 " orders, revenue %s, commission %s, replies "
               "%.0f%%",
               g->orders, a, b, 100.0 * g->reply_rate);
      }
      printf("%s\n", g->active ? "" : " (left)");
    }
  }

  heading("Segments (RFM) and super users (超级用户)");
  if (!skipped(&r->segments)) {
    printf("  %-20s %8s %8s %16s\n", "segment", "buyers", "share", "revenue");
    for (int32_t seg = 1; seg <= PD_SEGMENT_LAST; seg++) {
      const pd_segment_count *c = &r->segment_counts[seg];
      report_format_major(report_to_major(r, c->revenue), a, sizeof a);
      printf("  %-20s %8" PRIu64, pd_segment_name(seg), c->users);
      print_rate(report_share(c->users, r->buyers));
      printf(" %16s\n", a);
    }
    for (size_t i = 0; i < r->n_super_users; i++) {
      const pd_super_user *u = &r->super_users[i];
      report_format_major(report_to_major(r, u->spend), a, sizeof a);
      printf("  super user %zu: %-16s score %5.1f, spend %s, %" PRIu64
             " orders, %" PRIu64 " referred\n",
             i + 1, r->super_names[i], u->score, a, u->orders, u->referrals);
    }
  }

  heading("Lifetime value (BG/NBD + Gamma-Gamma, weeks)");
  if (!skipped(&r->clv)) {
    printf("  customers        %" PRIu64 "\n", r->customers);
    printf("  BG/NBD           r %.4g, alpha %.4g, a %.4g, b %.4g%s\n",
           r->bgnbd.params[0], r->bgnbd.params[1], r->bgnbd.params[2],
           r->bgnbd.params[3], r->bgnbd.converged ? "" : " (not converged)");
    printf("  Gamma-Gamma      p %.4g, q %.4g, gamma %.4g%s\n", r->gg.params[0],
           r->gg.params[1], r->gg.params[2],
           r->gg.converged ? "" : " (not converged)");
    printf("  mean P(alive)    %.3f\n", r->mean_p_alive);
    printf("  purchases        %.3f expected per customer in the next 52 "
           "weeks\n",
           r->mean_expected);
    report_format_major(r->mean_spend, a, sizeof a);
    printf("  spend            %s expected per purchase\n", a);
    report_format_major(r->mean_clv, a, sizeof a);
    report_format_major(r->total_clv, b, sizeof b);
    printf("  12-month CLV     %s per customer, %s in total (1%%/month "
           "discount)\n",
           a, b);
    for (size_t i = 0; i < r->n_top_users; i++) {
      report_format_major(r->top_clv[i], a, sizeof a);
      printf("  %zu. %-20s CLV %s\n", i + 1, r->top_names[i], a);
    }
  }

  heading("Follow-up plan for the day (日常维护)");
  if (!skipped(&r->followup)) {
    printf("  users to contact %" PRIu64 " across %" PRIu64 " guide lists\n",
           r->followup_total, r->followup_guides);
    printf("  reasons          after-sales %" PRIu64 ", win-back %" PRIu64
           ", repurchase due %" PRIu64 ", key customer %" PRIu64 "\n",
           r->followup_by_reason[PD_FOLLOWUP_AFTER_SALES],
           r->followup_by_reason[PD_FOLLOWUP_WIN_BACK],
           r->followup_by_reason[PD_FOLLOWUP_REPURCHASE_DUE],
           r->followup_by_reason[PD_FOLLOWUP_KEY_CUSTOMER]);
  }
  if (svg_dir)
    print_charts_text(svg_dir, charts);
}
