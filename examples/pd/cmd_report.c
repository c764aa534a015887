/*
 * pd report — one readable overview of a private domain: the pool by
 * channel, link rates, retention and unlinks, marketing pressure, the
 * funnel, repurchase, referral, trust, guides, segments, lifetime value
 * and today's follow-up plan; as text, as one JSON object (--json), and as
 * SVG charts (--svg DIR).
 *
 * Without input it reports on the `pd demo` private domain; with
 * --transactions FILE on a plain order log recorded into a store (see
 * report_orders.h), where only the order-based sections apply. Every
 * figure comes from the library's public API (the metrics layer; the pool
 * from users' link states, report_compute.c); the tool only chooses the
 * windows, collects and prints. A section that does not apply to the
 * input, or whose model cannot be fitted to it, says so instead of showing
 * numbers. This file reads the arguments and builds the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "args.h"
#include "commands.h"
#include "demo_data.h"
#include "report.h"
#include "report_orders.h"

static void usage(void) {
  printf(
      "usage: pd report [--json] [--svg DIR] [--as-of YYYY-MM-DD]\n"
      "       pd report --transactions FILE [--format csv|cdnow-sample|"
      "cdnow-master]\n"
      "                 [--json] [--svg DIR] [--as-of YYYY-MM-DD]\n\n"
      "An overview of a private domain: pool by channel, link rates,\n"
      "retention, unlink rate, marketing pressure, funnel, repurchase,\n"
      "referral, trust, guides, segments, lifetime value and follow-ups.\n"
      "Without --transactions it reports on the `pd demo` private domain.\n"
      "  --transactions FILE  an order log (customer_id,date,amount CSV or a\n"
      "                       CDNOW file); only order-based sections apply\n"
      "  --format F           csv (default), cdnow-sample or cdnow-master\n"
      "  --as-of DATE         report as of the end of that UTC day (default:\n"
      "                       the end of the demo year / of the last order)\n"
      "  --json               print one JSON object instead of text\n"
      "  --svg DIR            write retention_by_channel.svg,\n"
      "                       cohort_heatmap.svg, funnel.svg and\n"
      "                       trust_distribution.svg into DIR (created if\n"
      "                       missing)\n");
}

static int build_demo(pd_store *store, report *r) {
  demo_data d;
  if (demo_generate(DEMO_DEFAULT_SEED, DEMO_DEFAULT_USERS, &d))
    return pd_fail(1, "report: out of memory generating the demo");
  char err[256];
  int rc = demo_record_all(&d, store, err, sizeof err) ? 1 : 0;
  demo_free(&d);
  if (rc)
    return pd_fail(1, "report: demo: %s", err);
  r->demo = 1;
  r->seed = DEMO_DEFAULT_SEED;
  r->users_requested = DEMO_DEFAULT_USERS;
  return 0;
}

int cmd_report(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    usage();
    return 0;
  }
  int json = 0;
  const char *svg_dir = NULL, *as_of_text = NULL, *path = NULL, *format = NULL;
  const pd_opt opts[] = {{"--json", 0, NULL, &json},
                         {"--svg", 1, &svg_dir, NULL},
                         {"--as-of", 1, &as_of_text, NULL},
                         {"--transactions", 1, &path, NULL},
                         {"--format", 1, &format, NULL}};
  const char *positional[1];
  size_t n_positional = 0;
  int rc = pd_args_parse(argc, argv, opts, sizeof opts / sizeof opts[0],
                         positional, 0, &n_positional);
  if (rc)
    return rc;
  if (format && !path)
    return pd_fail(2, "report: --format needs --transactions FILE");
  int32_t fmt = pd_import_format_from_name(format ? format : "csv");
  if (!fmt)
    return pd_fail(2,
                   "report: --format: unknown format '%s' (csv, "
                   "cdnow-sample, cdnow-master)",
                   format);
  if (svg_dir && !*svg_dir)
    return pd_fail(2, "report: --svg: empty directory name");
  int64_t as_of = -1;
  if (as_of_text) {
    if (pd_date_parse(as_of_text, strlen(as_of_text), &as_of) != PD_OK ||
        as_of + REPORT_DAY - 1 > PD_TIME_MAX)
      return pd_fail(2, "report: --as-of: '%s' is not a date YYYY-MM-DD",
                     as_of_text);
    as_of += REPORT_DAY - 1;
  }

  pd_store *store = NULL;
  pd_status st = pd_store_new(NULL, &store);
  if (st != PD_OK)
    return pd_fail(1, "report: creating the store: %s", pd_status_str(st));
  report *r = calloc(1, sizeof *r);
  if (!r) {
    pd_store_free(store);
    return pd_fail(1, "report: out of memory");
  }
  if (path) {
    report_orders o;
    char err[512];
    if (report_orders_load(store, fmt, path, &o, err, sizeof err)) {
      rc = pd_fail(1, "report: %s", err);
    } else {
      r->path = path;
      r->format = format ? format : "csv";
      if (as_of < 0) /* the end of the last order's day */
        as_of = o.last - o.last % REPORT_DAY + REPORT_DAY - 1;
    }
  } else {
    rc = build_demo(store, r);
    if (as_of < 0)
      as_of = DEMO_T_END;
  }
  r->as_of = as_of;
  if (!rc)
    rc = report_compute(store, r);
  chart_result charts[REPORT_N_CHARTS];
  memset(charts, 0, sizeof charts);
  if (!rc && svg_dir)
    rc = report_write_charts(svg_dir, r, charts);
  if (!rc) {
    if (json) {
      report_print_json(r, svg_dir, charts);
    } else {
      report_print_text(r, svg_dir, charts);
    }
    if (fflush(stdout) != 0)
      rc = pd_fail(1, "report: cannot write the output");
  }
  free(r);
  pd_store_free(store);
  return rc;
}
