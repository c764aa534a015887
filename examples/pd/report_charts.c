/* pd report: the SVG charts (examples/pd/svg.c draws them). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "args.h"
#include "svg.h"

static int open_chart(const char *dir, const char *file, FILE **f) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
    return pd_fail(1, "report: --svg: directory name too long");
  *f = fopen(path, "wb");
  if (!*f)
    return pd_fail(1, "report: cannot write %s: %s", path, strerror(errno));
  return 0;
}

static int close_chart(const char *dir, const char *file, FILE *f) {
  int bad = ferror(f);
  if (fclose(f) != 0 || bad)
    return pd_fail(1, "report: error writing %s/%s", dir, file);
  return 0;
}

static void chart_skipped(chart_result *c, const section *s) {
  c->written = 0;
  snprintf(c->reason, sizeof c->reason, "%s: %s",
           s->state == SEC_FAILED ? "could not be computed" : "not applicable",
           s->reason);
}

/* Writes one chart with `draw`; 0 on success (or when `draw` had nothing
 * to draw, noted in c->reason). */
static int write_chart(const char *dir, chart_result *c,
                       int (*draw)(FILE *, const report *), const report *r) {
  FILE *f = NULL;
  int rc = open_chart(dir, c->file, &f);
  if (rc)
    return rc;
  int drawn = draw(f, r);
  rc = close_chart(dir, c->file, f);
  if (rc)
    return rc;
  if (drawn != 0) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, c->file);
    remove(path);
    snprintf(c->reason, sizeof c->reason, "no data to draw");
    return 0;
  }
  c->written = 1;
  return 0;
}

static int draw_retention(FILE *f, const report *r) {
  svg_series series[REPORT_MAX_CHANNELS];
  double values[REPORT_MAX_CHANNELS][REPORT_PERIODS + 1];
  size_t n = 0;
  for (size_t i = 0; i < r->n_curves; i++) {
    const curve *c = &r->curves[i];
    if (!c->pairs || report_channel_kind(r, c->channel) != PD_CHANNEL_PRIVATE)
      continue;
    for (size_t k = 0; k <= REPORT_PERIODS; k++)
      values[n][k] = 100.0 * report_curve_rate(c, k);
    series[n].name = report_channel_name(r, c->channel);
    series[n].y = values[n];
    series[n].n = REPORT_PERIODS + 1;
    n++;
  }
  char date[32], sub[160];
  report_format_date(r->as_of, date, sizeof date);
  snprintf(sub, sizeof sub,
           "Share still linked, private channels, monthly cohorts pooled; "
           "drawn while a quarter of the links are observed; as of %s",
           date);
  svg_line_chart c = {"Link retention by channel (留存)",
                      sub,
                      "months since linking (30-day periods)",
                      "still linked (%)",
                      series,
                      n,
                      0.0,
                      100.0,
                      "%"};
  return svg_write_line_chart(f, &c);
}

static int draw_heatmap(FILE *f, const report *r) {
  static double values[REPORT_MAX_COHORTS * (REPORT_PERIODS + 1)];
  char row_text[REPORT_MAX_COHORTS][32], col_text[REPORT_PERIODS + 1][8];
  const char *rows[REPORT_MAX_COHORTS], *cols[REPORT_PERIODS + 1];
  for (size_t c = 0; c < r->n_cohorts; c++) {
    report_format_date(r->cohorts[c], row_text[c], sizeof row_text[c]);
    row_text[c][7] = '\0'; /* YYYY-MM */
    rows[c] = row_text[c];
    for (size_t k = 0; k <= REPORT_PERIODS; k++)
      values[c * (REPORT_PERIODS + 1) + k] =
          r->cohort_observed[c][k]
              ? report_share(r->cohort_retained[c][k], r->cohort_observed[c][k])
              : NAN;
  }
  for (size_t k = 0; k <= REPORT_PERIODS; k++) {
    snprintf(col_text[k], sizeof col_text[k], "%zu", k);
    cols[k] = col_text[k];
  }
  svg_heat_map c = {"Cohort retention (留存): private channels",
                    "Share of each month's newly linked users still linked "
                    "k months later; blank = not yet observed",
                    "months since linking",
                    "cohort (month of first link)",
                    rows,
                    r->n_cohorts,
                    cols,
                    REPORT_PERIODS + 1,
                    values,
                    0.0,
                    1.0,
                    100.0,
                    "%"};
  return svg_write_heat_map(f, &c);
}

static int draw_funnel(FILE *f, const report *r) {
  const pd_funnel_row *fr = &r->funnel_all;
  char notes[5][96];
  snprintf(notes[0], sizeof notes[0], "people reached by the channels");
  snprintf(notes[1], sizeof notes[1], "link rate %.1f%% of reached",
           100.0 * fr->link_rate);
  snprintf(notes[2], sizeof notes[2], "%.1f%% of linked",
           100.0 * fr->conversion_rate);
  snprintf(notes[3], sizeof notes[3], "%.1f%% of first purchases",
           100.0 * fr->repeat_rate);
  snprintf(notes[4], sizeof notes[4], "%.1f%% of linked referred someone",
           100.0 * fr->referral_rate);
  svg_bar bars[5] = {{"reached 触达", (double)fr->reached, notes[0]},
                     {"linked 加好友", (double)fr->linked, notes[1]},
                     {"first purchase 成交", (double)fr->converted, notes[2]},
                     {"repurchase 复购", (double)fr->repeat, notes[3]},
                     {"referred 转介绍", (double)fr->referrers, notes[4]}};
  svg_bar_chart c = {"Private-domain funnel (引流 → 成交 → 复购 → 转介绍)",
                     "Users at each step, all channels; first purchase "
                     "within 30 days of linking",
                     "users", bars, 5};
  return svg_write_bar_chart(f, &c);
}

static int draw_trust(FILE *f, const report *r) {
  double counts[PD_TRUST_BINS];
  for (int k = 0; k < PD_TRUST_BINS; k++)
    counts[k] = (double)r->trust_dist.histogram[k];
  char sub[160];
  snprintf(sub, sizeof sub,
           "信任 = 专业 × 靠谱 × 亲密度 / 自私度 on a 0–100 score; "
           "%" PRIu64 " users, mean %.1f",
           r->trust_dist.users, r->trust_dist.mean_score);
  svg_histogram c = {"Trust distribution (信任)",
                     sub,
                     "trust score (0–100)",
                     "users",
                     0.0,
                     100.0,
                     counts,
                     PD_TRUST_BINS};
  return svg_write_histogram(f, &c);
}

/* mkdir -p: creates dir and any missing parents. */
static int make_dirs(const char *dir) {
  char path[4096];
  size_t len = strlen(dir);
  if (len >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(path, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    char c = path[i];
    path[i] = '\0';
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
      return -1;
    path[i] = c;
  }
  return 0;
}

int report_write_charts(const char *dir, const report *r,
                        chart_result charts[REPORT_N_CHARTS]) {
  if (make_dirs(dir) != 0)
    return pd_fail(1, "report: --svg: cannot create %s: %s", dir,
                   strerror(errno));
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return pd_fail(1, "report: --svg: %s is not a directory", dir);
  static const char *const files[REPORT_N_CHARTS] = {
      "retention_by_channel.svg", "cohort_heatmap.svg", "funnel.svg",
      "trust_distribution.svg"};
  for (int i = 0; i < REPORT_N_CHARTS; i++)
    charts[i].file = files[i];
  int rc = 0;
  if (r->retention.state == SEC_OK) {
    rc = write_chart(dir, &charts[0], draw_retention, r);
    if (!rc)
      rc = write_chart(dir, &charts[1], draw_heatmap, r);
  } else {
    chart_skipped(&charts[0], &r->retention);
    chart_skipped(&charts[1], &r->retention);
  }
  if (!rc && r->funnel.state == SEC_OK)
    rc = write_chart(dir, &charts[2], draw_funnel, r);
  else
    chart_skipped(&charts[2], &r->funnel);
  if (!rc && r->trust.state == SEC_OK)
    rc = write_chart(dir, &charts[3], draw_trust, r);
  else
    chart_skipped(&charts[3], &r->trust);
  return rc;
}
