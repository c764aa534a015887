/*
 * pd report: what the report holds, and the parts that fill and print it
 * (report_compute.c, report_text.c, report_json.c, report_charts.c; the
 * command itself is cmd_report.c).
 */
#ifndef PD_TOOL_REPORT_H
#define PD_TOOL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/privdomain.h>

#define REPORT_DAY INT64_C(86400)
#define REPORT_MAX_CHANNELS 32
#define REPORT_MAX_SOURCES 48
#define REPORT_MAX_COHORTS 36
#define REPORT_PERIODS 12 /* months of retention */
#define REPORT_TOP_N 5

/* A section has figures (OK), or it does not apply to the input (an order
 * log has no links), or its model could not be fitted to this data
 * (FAILED: the library's reason is shown instead of numbers). */
enum { SEC_OK = 0, SEC_NOT_APPLICABLE = 1, SEC_FAILED = 2 };

typedef struct section {
  int state;
  char reason[200];
} section;

typedef struct channel_info {
  int32_t id;
  const char *name;
  int32_t kind;
} channel_info;

typedef struct pool_row {
  int32_t channel;
  uint64_t ever, now, by_user, by_staff;
} pool_row;

typedef struct rate_row {
  const char *name;
  uint64_t reached, linked;
  double link_rate;
} rate_row;

typedef struct curve {
  int32_t channel;
  uint64_t pairs; /* (user, channel) pairs ever linked */
  uint64_t retained[REPORT_PERIODS + 1], observed[REPORT_PERIODS + 1];
} curve;

typedef struct guide_row {
  const char *code;
  const char *shop;
  int32_t active;
  uint64_t users_bound, orders;
  int64_t revenue, commission;
  double reply_rate;
  int has_figures;
} guide_row;

typedef struct report {
  /* input */
  int demo;
  uint64_t seed;
  uint32_t users_requested;
  const char *path, *format;
  int64_t as_of;
  int32_t exponent;
  pd_store_stats stats;
  channel_info channels[REPORT_MAX_CHANNELS];
  size_t n_channels;

  section pool;
  pool_row pool_rows[REPORT_MAX_CHANNELS];
  size_t n_pool;
  uint64_t reachable; /* users linked on a private channel at as_of */

  section link_rates;
  /* By source only: reach is recorded where people were reached (a shop,
   * a package card) while their links land on WeCom or WeChat, so a link
   * rate by channel would divide unrelated counts. */
  rate_row by_source[REPORT_MAX_SOURCES];
  size_t n_by_source;

  section retention;
  curve curves[REPORT_MAX_CHANNELS];
  size_t n_curves;
  int64_t cohorts[REPORT_MAX_COHORTS];
  size_t n_cohorts;
  uint64_t cohort_retained[REPORT_MAX_COHORTS][REPORT_PERIODS + 1];
  uint64_t cohort_observed[REPORT_MAX_COHORTS][REPORT_PERIODS + 1];

  section unlinks;
  pd_unlink_rate unlink_30, unlink_90;

  section pressure;
  pd_contact_policy policy; /* the caps pushes are counted against */
  pd_pressure_stats pressure_7, pressure_30;

  section funnel;
  pd_funnel_row funnel_all;

  section repurchase;
  pd_repurchase_row repurchase_all;

  section referral;
  pd_referral_stats referral_stats;
  pd_referrer_row top_referrers[REPORT_TOP_N];
  size_t n_top_referrers;

  section trust;
  pd_trust_distribution trust_dist;

  section guides;
  uint64_t guides_total, guides_active;
  guide_row top_guides[REPORT_TOP_N];
  size_t n_top_guides;

  section segments;
  uint64_t buyers;
  pd_segment_count segment_counts[PD_SEGMENT_LAST + 1];
  pd_super_user super_users[REPORT_TOP_N];
  char super_names[REPORT_TOP_N][64];
  size_t n_super_users;

  section clv;
  uint64_t customers;
  pd_fit_info bgnbd, gg;
  double mean_p_alive, mean_expected, mean_spend, mean_clv, total_clv;
  pd_user_id top_users[REPORT_TOP_N];
  char top_names[REPORT_TOP_N][64];
  double top_clv[REPORT_TOP_N];
  size_t n_top_users;

  section followup;
  uint64_t followup_total, followup_by_reason[5], followup_guides;
} report;

typedef struct chart_result {
  const char *file;
  int written;
  char reason[300];
} chart_result;

#define REPORT_N_CHARTS 4

/* Fills every section of @r (r->as_of and the input fields set) from
 * @store. Returns 0, or 1 after reporting a library error on stderr. */
int report_compute(pd_store *store, report *r);

/* The report as text / as one JSON object on stdout; with @svg_dir, what
 * report_write_charts() wrote or skipped. */
void report_print_text(const report *r, const char *svg_dir,
                       const chart_result *charts);
void report_print_json(const report *r, const char *svg_dir,
                       const chart_result *charts);

/* Writes the charts into @dir (created with its parents if missing).
 * Returns 0, or 1 after reporting the error on stderr. */
int report_write_charts(const char *dir, const report *r,
                        chart_result charts[REPORT_N_CHARTS]);

/* Shared helpers. */
double report_share(uint64_t part, uint64_t whole);
void report_format_date(int64_t t, char *buf, size_t cap);
void report_format_major(double v, char *buf, size_t cap);
double report_to_major(const report *r, int64_t minor);
const char *report_channel_name(const report *r, int32_t id);
int report_channel_kind(const report *r, int32_t id);
double report_curve_rate(const curve *c, size_t k);

#endif
