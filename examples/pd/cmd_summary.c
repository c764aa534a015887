/* pd summary: transactions in, one CSV row per customer out. */
#include <stdio.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "args.h"
#include "commands.h"
#include "json.h"

static const char help[] =
    "usage: pd summary --transactions FILE [--format csv|cdnow-sample|"
    "cdnow-master]\n"
    "                  --calibration-end YYYY-MM-DD [--observation-end "
    "YYYY-MM-DD]\n"
    "                  [--unit day|week]\n\n"
    "Writes CSV to stdout: id,x,t_x,T,monetary_value (and x_holdout with\n"
    "--observation-end). Purchases on the same UTC day count once; x = "
    "repeat\n"
    "days, t_x = last - first purchase day, T = calibration end - first "
    "day,\n"
    "in days (default) or weeks; monetary_value = mean spend of the repeat\n"
    "days. Both end dates are inclusive: every transaction of that whole "
    "day\n"
    "(up to 23:59:59 UTC) counts. Customers whose first purchase is after "
    "the\n"
    "calibration end are left out. --format csv (default) needs columns\n"
    "customer_id, date, amount.\n";

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void put_csv_field(const char *s, size_t len) {
  if (strcspn(s, ",\"\r\n") >= len) {
    fwrite(s, 1, len, stdout);
    return;
  }
  putchar('"');
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"') putchar('"');
    putchar(s[i]);
  }
  putchar('"');
}

static int parse_end(const char *flag, const char *text, int64_t *out) {
  int64_t t;
  if (pd_date_parse(text, strlen(text), &t) != PD_OK)
    return pd_fail(2, "%s: '%s' is not a date YYYY-MM-DD between 1970 and "
                   "2100", flag, text);
  *out = t + 86399; /* the whole day */
  return 0;
}

int cmd_summary(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    fputs(help, stdout);
    return 0;
  }
  const char *tx = NULL, *format = "csv", *cal = NULL, *obs = NULL,
             *unit = "day";
  const pd_opt opts[] = {
      {"--transactions", 1, &tx, NULL},
      {"--format", 1, &format, NULL},
      {"--calibration-end", 1, &cal, NULL},
      {"--observation-end", 1, &obs, NULL},
      {"--unit", 1, &unit, NULL},
  };
  size_t np;
  int rc = pd_args_parse(argc, argv, opts, sizeof opts / sizeof opts[0],
                         NULL, 0, &np);
  if (rc) return rc;
  if (!tx) return pd_fail(2, "summary: --transactions FILE is required");
  if (!cal) return pd_fail(2, "summary: --calibration-end is required");
  int32_t fmt = pd_import_format_from_name(format);
  if (!fmt)
    return pd_fail(2, "summary: unknown --format '%s' (csv, cdnow-sample, "
                   "cdnow-master)", format);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  if (strcmp(unit, "day") == 0)
    spec.unit = PD_TIME_UNIT_DAY;
  else if (strcmp(unit, "week") == 0)
    spec.unit = PD_TIME_UNIT_WEEK;
  else
    return pd_fail(2, "summary: unknown --unit '%s' (day, week)", unit);
  if ((rc = parse_end("--calibration-end", cal, &spec.calibration_end)))
    return rc;
  if (obs && (rc = parse_end("--observation-end", obs,
                             &spec.observation_end)))
    return rc;
  if (obs && spec.observation_end < spec.calibration_end)
    return pd_fail(2, "summary: --observation-end is before "
                   "--calibration-end");

  pd_summary *s = NULL;
  if (pd_summary_new(NULL, &s) != PD_OK)
    return pd_fail(1, "summary: out of memory");
  if (pd_import_transactions_file(s, fmt, tx) != PD_OK ||
      pd_summary_compute(s, &spec) != PD_OK) {
    rc = pd_fail(1, "summary: %s: %s", tx, pd_summary_errmsg(s));
    pd_summary_free(s);
    return rc;
  }
  const double *x, *t_x, *T, *m, *xh = NULL;
  pd_summary_column(s, PD_SUMMARY_X, &x);
  pd_summary_column(s, PD_SUMMARY_T_X, &t_x);
  pd_summary_column(s, PD_SUMMARY_T, &T);
  pd_summary_column(s, PD_SUMMARY_MONETARY, &m);
  if (obs) pd_summary_column(s, PD_SUMMARY_X_HOLDOUT, &xh);
  printf("id,x,t_x,T,monetary_value%s\n", xh ? ",x_holdout" : "");
  for (size_t i = 0; i < pd_summary_rows(s); i++) {
    const char *id;
    size_t len;
    char b1[40], b2[40], b3[40];
    pd_summary_id(s, i, &id, &len);
    put_csv_field(id, len);
    pd_json_format_number(t_x[i], b1, sizeof b1);
    pd_json_format_number(T[i], b2, sizeof b2);
    pd_json_format_number(m[i], b3, sizeof b3);
    printf(",%.0f,%s,%s,%s", x[i], b1, b2, b3);
    if (xh) printf(",%.0f", xh[i]);
    putchar('\n');
  }
  pd_summary_free(s);
  if (fflush(stdout) != 0) return pd_fail(1, "summary: cannot write output");
  return 0;
}
