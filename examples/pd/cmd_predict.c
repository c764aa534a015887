/* pd predict: per-customer predictions from a fitted model. */
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
    "usage: pd predict MODEL --summary FILE --params JSON_FILE --horizon T\n"
    "                  [--spend-params GG_JSON_FILE [--months M]\n"
    "                  [--discount D] [--units-per-month U]] [--json]\n\n"
    "MODEL: bgnbd, mbgnbd, paretonbd, bgbb. JSON_FILE is what `pd fit MODEL\n"
    "--json` printed (its \"params\" are used). For each customer of FILE\n"
    "(columns as for pd fit; the id from an ID or id column, else the row\n"
    "number): expected_purchases in the next T time units (the unit of the\n"
    "summary) and p_alive. With --spend-params (what `pd fit gammagamma\n"
    "--json` printed) and a monetary_value/zbar column: expected_spend and\n"
    "clv, the value of the next M months (default 12) discounted at D per\n"
    "month (default 0.01), with U time units per month (default 4.345, for\n"
    "weeks; 30 for days). Totals are weighted by a weights column.\n"
    "--json prints {\"model\", \"horizon\", \"customers\": [...], \"totals\"};\n"
    "otherwise a readable table.\n";

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    char *nb = realloc(buf, cap *= 2);
    if (!nb) free(buf);
    buf = nb;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* Sets fit's parameters from a pd fit JSON file for `model`. */
static int load_params(pd_fit *fit, int32_t model, const char *path) {
  size_t len;
  char *text = read_all(path, &len);
  if (!text) return pd_fail(1, "predict: cannot read '%s'", path);
  char err[128];
  pd_json_value *root = pd_json_parse(text, len, err, sizeof err);
  free(text);
  if (!root) return pd_fail(1, "predict: %s: %s", path, err);
  int rc = 0;
  const pd_json_value *m = pd_json_get(root, "model");
  const pd_json_value *params = pd_json_get(root, "params");
  double p[PD_FIT_MAX_PARAMS];
  uint32_t n = pd_model_param_count(model);
  if (m && (m->type != PD_JSON_STRING ||
            pd_model_from_name(m->string) != model)) {
    rc = pd_fail(1, "predict: %s holds a fit of another model than %s", path,
                 pd_model_name(model));
    goto done;
  }
  if (!params || params->type != PD_JSON_OBJECT) {
    rc = pd_fail(1, "predict: %s has no \"params\" object", path);
    goto done;
  }
  for (uint32_t i = 0; i < n; i++) {
    const char *name = pd_model_param_name(model, i);
    const pd_json_value *v = pd_json_get(params, name);
    if (!v || v->type != PD_JSON_NUMBER) {
      rc = pd_fail(1, "predict: %s: params has no number \"%s\"", path, name);
      goto done;
    }
    p[i] = v->number;
  }
  if (pd_fit_set_params(fit, model, p, n) != PD_OK)
    rc = pd_fail(1, "predict: %s: %s", path, pd_fit_errmsg(fit));
done:
  pd_json_free(root);
  return rc;
}

int cmd_predict(int argc, char **argv) {
  if (pd_args_want_help(argc, argv)) {
    fputs(help, stdout);
    return 0;
  }
  const char *summary = NULL, *params = NULL, *horizon_s = NULL,
             *spend_params = NULL, *months_s = NULL, *discount_s = NULL,
             *upm_s = NULL;
  int json = 0;
  const pd_opt opts[] = {
      {"--summary", 1, &summary, NULL},
      {"--params", 1, &params, NULL},
      {"--horizon", 1, &horizon_s, NULL},
      {"--spend-params", 1, &spend_params, NULL},
      {"--months", 1, &months_s, NULL},
      {"--discount", 1, &discount_s, NULL},
      {"--units-per-month", 1, &upm_s, NULL},
      {"--json", 0, NULL, &json},
  };
  int32_t model;
  const char *name;
  int rc = pd_args_parse_model(argc, argv, opts, sizeof opts / sizeof opts[0],
                               "predict: which MODEL? (try --help)", &model,
                               &name);
  if (rc) return rc;
  if (!model || model == PD_MODEL_GAMMAGAMMA || model == PD_MODEL_SBG)
    return pd_fail(2, "predict: MODEL must be bgnbd, mbgnbd, paretonbd or "
                   "bgbb, not '%s'", name);
  if (!summary || !params || !horizon_s)
    return pd_fail(2, "predict: --summary, --params and --horizon are "
                   "required");
  double horizon, discount = 0.01, upm = 4.345;
  unsigned long months = 12;
  if ((rc = pd_arg_double("--horizon", horizon_s, &horizon)) ||
      (months_s && (rc = pd_arg_uint("--months", months_s, &months))) ||
      (discount_s && (rc = pd_arg_double("--discount", discount_s,
                                         &discount))) ||
      (upm_s && (rc = pd_arg_double("--units-per-month", upm_s, &upm))))
    return rc;
  if (horizon < 0) return pd_fail(2, "--horizon: must be >= 0");
  if ((months_s || discount_s || upm_s) && !spend_params)
    return pd_fail(2, "predict: --months, --discount and --units-per-month "
                   "need --spend-params");

  pd_fit *fit = NULL, *gg = NULL;
  summary_input in;
  memset(&in, 0, sizeof in);
  double *ep = NULL, *pa = NULL, *es = NULL, *clv = NULL;
  if (pd_fit_new(NULL, &fit) != PD_OK ||
      (spend_params && pd_fit_new(NULL, &gg) != PD_OK)) {
    rc = pd_fail(1, "out of memory");
    goto done;
  }
  if ((rc = load_params(fit, model, params))) goto done;
  if (spend_params &&
      (rc = load_params(gg, PD_MODEL_GAMMAGAMMA, spend_params)))
    goto done;
  if ((rc = summary_input_load(&in, summary, gg != NULL, 0, 0))) goto done;
  size_t n = in.data.n;
  ep = malloc(n * sizeof *ep);
  pa = malloc(n * sizeof *pa);
  if (gg) {
    es = malloc(n * sizeof *es);
    clv = malloc(n * sizeof *clv);
  }
  if (!ep || !pa || (gg && (!es || !clv))) {
    rc = pd_fail(1, "out of memory");
    goto done;
  }
  if (pd_predict_expected_purchases(fit, &in.data, horizon, ep) != PD_OK ||
      pd_predict_p_alive(fit, &in.data, pa) != PD_OK) {
    rc = pd_fail(1, "predict %s: %s", name, pd_fit_errmsg(fit));
    goto done;
  }
  if (gg && (pd_predict_expected_spend(gg, &in.data, es) != PD_OK ||
             pd_predict_clv(fit, gg, &in.data, (uint32_t)months, discount,
                            upm, clv) != PD_OK)) {
    rc = pd_fail(1, "predict %s: %s", name,
                 pd_fit_errmsg(gg)[0] ? pd_fit_errmsg(gg) : pd_fit_errmsg(fit));
    goto done;
  }
  double t_n = 0, t_ep = 0, t_pa = 0, t_clv = 0;
  for (size_t i = 0; i < n; i++) {
    double w = in.data.weight ? in.data.weight[i] : 1.0;
    t_n += w;
    t_ep += w * ep[i];
    t_pa += w * pa[i];
    if (gg) t_clv += w * clv[i];
  }
  char idbuf[32];
  if (json) {
    pd_json_writer w;
    pd_json_init(&w, stdout);
    pd_json_begin_object(&w);
    pd_json_key(&w, "model");
    pd_json_string(&w, name, strlen(name));
    pd_json_key(&w, "horizon");
    pd_json_number(&w, horizon);
    pd_json_key(&w, "customers");
    pd_json_begin_array(&w);
    for (size_t i = 0; i < n; i++) {
      const char *id = summary_input_id(&in, i);
      if (!id) {
        snprintf(idbuf, sizeof idbuf, "%zu", in.row[i] + 1);
        id = idbuf;
      }
      pd_json_begin_object(&w);
      pd_json_key(&w, "id");
      pd_json_string(&w, id, strlen(id));
      pd_json_key(&w, "expected_purchases");
      pd_json_number(&w, ep[i]);
      pd_json_key(&w, "p_alive");
      pd_json_number(&w, pa[i]);
      if (gg) {
        pd_json_key(&w, "expected_spend");
        pd_json_number(&w, es[i]);
        pd_json_key(&w, "clv");
        pd_json_number(&w, clv[i]);
      }
      pd_json_end_object(&w);
    }
    pd_json_end_array(&w);
    pd_json_key(&w, "totals");
    pd_json_begin_object(&w);
    pd_json_key(&w, "customers");
    pd_json_number(&w, t_n);
    pd_json_key(&w, "expected_purchases");
    pd_json_number(&w, t_ep);
    pd_json_key(&w, "expected_alive");
    pd_json_number(&w, t_pa);
    if (gg) {
      pd_json_key(&w, "clv");
      pd_json_number(&w, t_clv);
    }
    pd_json_end_object(&w);
    pd_json_end_object(&w);
  } else {
    printf("%-16s %18s %10s", "id", "expected_purchases", "p_alive");
    if (gg) printf(" %14s %14s", "expected_spend", "clv");
    putchar('\n');
    for (size_t i = 0; i < n; i++) {
      const char *id = summary_input_id(&in, i);
      if (!id) {
        snprintf(idbuf, sizeof idbuf, "%zu", in.row[i] + 1);
        id = idbuf;
      }
      printf("%-16s %18.6f %10.6f", id, ep[i], pa[i]);
      if (gg) printf(" %14.4f %14.4f", es[i], clv[i]);
      putchar('\n');
    }
    printf("%-16s %18.6f %10.6f", "TOTAL", t_ep, t_pa);
    if (gg) printf(" %14s %14.4f", "", t_clv);
    printf("\n(%.10g customers, horizon %g)\n", t_n, horizon);
  }
  if (fflush(stdout) != 0) rc = pd_fail(1, "predict: cannot write output");
done:
  free(ep);
  free(pa);
  free(es);
  free(clv);
  summary_input_free(&in);
  pd_fit_free(fit);
  pd_fit_free(gg);
  return rc;
}
