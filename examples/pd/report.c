/* pd report: helpers shared by the parts of the report. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

double report_share(uint64_t part, uint64_t whole) {
  return whole ? (double)part / (double)whole : 0.0;
}

/* The UTC date of t as YYYY-MM-DD (days to civil, proleptic Gregorian). */
void report_format_date(int64_t t, char *buf, size_t cap) {
  int64_t z = (t >= 0 ? t : t - (REPORT_DAY - 1)) / REPORT_DAY + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  /* Times are within 1970–2100 (store.h), so y has four digits. */
  snprintf(buf, cap, "%04u-%02u-%02u", (unsigned)(y % 10000),
           (unsigned)(m % 100), (unsigned)(d % 100));
}

static void format_count(uint64_t v, char *buf, size_t cap) {
  char digits[32];
  int nd = snprintf(digits, sizeof digits, "%" PRIu64, v);
  size_t k = 0;
  for (int i = 0; i < nd && k + 2 < cap; i++) {
    if (i > 0 && (nd - i) % 3 == 0)
      buf[k++] = ',';
    buf[k++] = digits[i];
  }
  buf[k] = '\0';
}

/* Money in major units with two decimals and grouping: 1,234,567.89. */
void report_format_major(double v, char *buf, size_t cap) {
  if (!isfinite(v)) {
    snprintf(buf, cap, "-");
    return;
  }
  double r = round(fabs(v) * 100.0);
  char whole[40];
  format_count((uint64_t)(r / 100.0), whole, sizeof whole);
  snprintf(buf, cap, "%s%s.%02d", v < 0 && r > 0 ? "-" : "", whole,
           (int)fmod(r, 100.0));
}

double report_to_major(const report *r, int64_t minor) {
  double scale = 1.0;
  for (int32_t i = 0; i < r->exponent; i++)
    scale *= 10.0;
  return (double)minor / scale;
}

const char *report_channel_name(const report *r, int32_t id) {
  for (size_t i = 0; i < r->n_channels; i++)
    if (r->channels[i].id == id)
      return r->channels[i].name;
  return id == 0 ? "(none)" : "(unknown)";
}

int report_channel_kind(const report *r, int32_t id) {
  for (size_t i = 0; i < r->n_channels; i++)
    if (r->channels[i].id == id)
      return r->channels[i].kind;
  return PD_CHANNEL_PUBLIC;
}

/* The share still linked k periods after linking, pooled over cohorts;
 * NAN once fewer than a quarter of the channel's links are old enough to be
 * observed at k: beyond that the few earliest cohorts alone would make the
 * curve (a big campaign cohort dropping out makes it jump). */
double report_curve_rate(const curve *c, size_t k) {
  if (c->observed[k] == 0 || 4 * c->observed[k] < c->pairs)
    return NAN;
  return (double)c->retained[k] / (double)c->observed[k];
}
