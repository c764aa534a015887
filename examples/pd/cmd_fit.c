/* pd fit: maximum-likelihood fits of the customer-base models. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "args.h"
#include "commands.h"
#include "json.h"
#include "summary_input.h"

static const char help[] =
    "usage: pd fit MODEL --summary FILE [--json]\n"
    "       pd fit sbg --survivors N0,N1,...,Nk [--project H] [--discount D]\n"
    "                  [--renewals N] [--json]\n\n"
    "MODEL: bgnbd, mbgnbd, paretonbd, gammagamma, bgbb (from a summary "
    "CSV)\n"
    "or sbg (from a cohort's survivor counts).\n"
    "FILE is CSV with a header; columns by name: frequency or x; recency "
    "or\n"
    "t_x; T (or periods, for bgbb); monetary_value or zbar (gammagamma, "
    "fitted\n"
    "on the rows with x > 0); optional weights. Other columns are ignored.\n"
    "sbg: --project H adds projected_survivors for periods k+1..k+H (counts\n"
    "in, counts out); --discount D (per period, e.g. 0.1) adds derl, the\n"
    "discounted expected residual lifetime in periods of a member who has\n"
    "renewed N times (--renewals, default 0).\n"
    "--json prints one JSON object; otherwise a readable table.\n"
    "Exit status: 0 fitted, 1 error, 2 bad usage, 3 printed but not "
    "converged.\n";

/* Prints the fit as JSON or as a table; the extras are sBG's. */
static void print_fit(pd_fit *fit, int json, const double *projected,
                      size_t n_projected, const double *derl) {
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  const char *model = pd_model_name(info.model);
  if (json) {
    pd_json_writer w;
    pd_json_init(&w, stdout);
    pd_json_begin_object(&w);
    pd_json_key(&w, "model");
    pd_json_string(&w, model, strlen(model));
    pd_json_key(&w, "n");
    pd_json_number(&w, info.n_customers);
    pd_json_key(&w, "params");
    pd_json_begin_object(&w);
    for (uint32_t i = 0; i < info.n_params; i++) {
      pd_json_key(&w, pd_model_param_name(info.model, i));
      pd_json_number(&w, info.params[i]);
    }
    pd_json_end_object(&w);
    pd_json_key(&w, "log_likelihood");
    pd_json_number(&w, info.log_likelihood);
    pd_json_key(&w, "standard_errors");
    pd_json_begin_object(&w);
    for (uint32_t i = 0; i < info.n_params; i++) {
      pd_json_key(&w, pd_model_param_name(info.model, i));
      if (info.has_std_errors)
        pd_json_number(&w, info.std_errors[i]);
      else
        pd_json_null(&w);
    }
    pd_json_end_object(&w);
    pd_json_key(&w, "converged");
    pd_json_bool(&w, info.converged);
    pd_json_key(&w, "iterations");
    pd_json_int(&w, info.iterations);
    if (projected) {
      pd_json_key(&w, "projected_survivors");
      pd_json_begin_array(&w);
      for (size_t i = 0; i < n_projected; i++)
        pd_json_number(&w, projected[i]);
      pd_json_end_array(&w);
    }
    if (derl) {
      pd_json_key(&w, "derl");
      pd_json_number(&w, *derl);
    }
    pd_json_end_object(&w);
    return;
  }
  printf("model           %s\n", model);
  printf("customers       %.10g\n", info.n_customers);
  printf("log-likelihood  %.4f\n", info.log_likelihood);
  printf("converged       %s (%d iterations)\n\n", info.converged ? "yes" : "no",
         (int)info.iterations);
  printf("%-10s %14s %14s\n", "parameter", "estimate", "std. error");
  for (uint32_t i = 0; i < info.n_params; i++) {
    printf("%-10s %14.6g ", pd_model_param_name(info.model, i),
           info.params[i]);
    if (info.has_std_errors)
      printf("%14.6g\n", info.std_errors[i]);
    else
      printf("%14s\n", "-");
  }
  if (projected) {
    printf("\n%-10s %14s\n", "period", "projected");
    for (size_t i = 0; i < n_projected; i++)
      printf("%-10s %14.6g\n", "", projected[i]);
  }
  if (derl) printf("\nDERL            %.6g periods\n", *derl);
}

/* "1000,631,468" into a new array. */
static double *parse_list(const char *text, size_t *n) {
  size_t cap = 1;
  for (const char *p = text; *p; p++) cap += *p == ',';
  double *v = malloc(cap * sizeof *v);
  if (!v) return NULL;
  const char *p = text;
  for (size_t i = 0; i < cap; i++) {
    char *end;
    v[i] = strtod(p, &end);
    if (end == p || !isfinite(v[i]) || (*end != ',' && *end != '\0')) {
      free(v);
      return NULL;
    }
    p = end + (*end == ',');
  }
  *n = cap;
  return v;
}

static int fit_sbg(pd_fit *fit, const char *survivors, const char *project,
                   const char *discount, const char *renewals, int json) {
  size_t k1;
  double *s = parse_list(survivors, &k1);
  if (!s)
    return pd_fail(2, "fit: --survivors '%s' is not a list of numbers N0,N1,"
                   "...", survivors);
  unsigned long h = 0, ren = 0;
  double d = 0, derl = 0;
  int rc = 0;
  if ((project && (rc = pd_arg_uint("--project", project, &h))) ||
      (discount && (rc = pd_arg_double("--discount", discount, &d))) ||
      (renewals && (rc = pd_arg_uint("--renewals", renewals, &ren)))) {
    free(s);
    return rc;
  }
  pd_status st = pd_fit_estimate_sbg(fit, s, k1);
  if (st != PD_OK && st != PD_E_NO_CONVERGENCE) {
    free(s);
    return pd_fail(1, "fit sbg: %s", pd_fit_errmsg(fit));
  }
  double *proj = NULL;
  if (project) {
    proj = malloc((h ? h : 1) * sizeof *proj);
    if (!proj || pd_retention_project(fit, s[0], k1, h, proj) != PD_OK) {
      free(proj);
      free(s);
      return pd_fail(1, "fit sbg: projection failed: %s", pd_fit_errmsg(fit));
    }
  }
  if (discount &&
      pd_retention_derl(fit, d, (uint32_t)ren, &derl) != PD_OK) {
    free(proj);
    free(s);
    return pd_fail(1, "fit sbg: %s", pd_fit_errmsg(fit));
  }
  print_fit(fit, json, proj, h, discount ? &derl : NULL);
  free(proj);
  free(s);
  if (st == PD_E_NO_CONVERGENCE)
    return pd_fail(3, "fit sbg: did not converge: %s", pd_fit_errmsg(fit));
  return 0;
}

int cmd_fit(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    fputs(help, stdout);
    return 0;
  }
  const char *summary = NULL, *survivors = NULL, *project = NULL,
             *discount = NULL, *renewals = NULL;
  int json = 0;
  const pd_opt opts[] = {
      {"--summary", 1, &summary, NULL},
      {"--survivors", 1, &survivors, NULL},
      {"--project", 1, &project, NULL},
      {"--discount", 1, &discount, NULL},
      {"--renewals", 1, &renewals, NULL},
      {"--json", 0, NULL, &json},
  };
  int32_t model;
  const char *name;
  int rc = pd_args_parse_model(argc, argv, opts, sizeof opts / sizeof opts[0],
                               "fit: which MODEL? (try pd fit --help)",
                               &model, &name);
  if (rc) return rc;
  if (!model) return pd_fail(2, "fit: unknown model '%s'", name);
  pd_fit *fit = NULL;
  if (pd_fit_new(NULL, &fit) != PD_OK) return pd_fail(1, "out of memory");
  if (model == PD_MODEL_SBG) {
    if (!survivors)
      rc = pd_fail(2, "fit sbg: --survivors N0,N1,... is required");
    else
      rc = fit_sbg(fit, survivors, project, discount, renewals, json);
    pd_fit_free(fit);
    return rc;
  }
  if (!summary) {
    pd_fit_free(fit);
    return pd_fail(2, "fit %s: --summary FILE is required", name);
  }
  if (project || discount || renewals || survivors) {
    pd_fit_free(fit);
    return pd_fail(2, "fit %s: --survivors, --project, --discount and "
                   "--renewals are for sbg", name);
  }
  int gg = model == PD_MODEL_GAMMAGAMMA;
  summary_input in;
  if (summary_input_load(&in, summary, gg, gg, gg)) {
    summary_input_free(&in);
    pd_fit_free(fit);
    return 1;
  }
  pd_status st = pd_fit_estimate(fit, model, &in.data);
  if (st != PD_OK && st != PD_E_NO_CONVERGENCE) {
    rc = pd_fail(1, "fit %s: %s", name, pd_fit_errmsg(fit));
  } else {
    print_fit(fit, json, NULL, 0, NULL);
    if (st == PD_E_NO_CONVERGENCE)
      rc = pd_fail(3, "fit %s: did not converge: %s", name,
                   pd_fit_errmsg(fit));
  }
  summary_input_free(&in);
  pd_fit_free(fit);
  return rc;
}
