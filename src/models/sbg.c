#include "models/sbg.h"

#include <math.h>
#include <string.h>

#include <privdomain/retention.h>

#include "models/fit_internal.h"
#include "models/model.h"
#include "models/specfun.h"

/* log P(T = t) and log S(t) follow from t−1 by one rational factor each,
 * so the likelihood and its gradient need no special functions. */
double pd_sbg_negll(const double lp[2], size_t count, const double *s,
                    double grad[2]) {
  double a = exp(lp[0]), b = exp(lp[1]);
  /* t = 1: P(T=1) = α/(α+β), S(1) = β/(α+β). */
  double lpt = log(a) - log(a + b);
  double dpa = 1.0 / a - 1.0 / (a + b), dpb = -1.0 / (a + b);
  double lst = log(b) - log(a + b);
  double dsa = -1.0 / (a + b), dsb = 1.0 / b - 1.0 / (a + b);
  double ll = 0.0, ga = 0.0, gb = 0.0;
  size_t k = count - 1;
  for (size_t t = 1; t <= k; t++) {
    if (t > 1) {
      double bt = b + (double)t - 2.0, abt = a + b + (double)t - 1.0;
      lpt += log(bt) - log(abt);
      dpa += -1.0 / abt;
      dpb += 1.0 / bt - 1.0 / abt;
      lst += log(b + (double)t - 1.0) - log(abt);
      dsa += -1.0 / abt;
      dsb += 1.0 / (b + (double)t - 1.0) - 1.0 / abt;
    }
    double lost = s[t - 1] - s[t];
    if (lost > 0.0) {
      ll += lost * lpt;
      ga += lost * dpa;
      gb += lost * dpb;
    }
  }
  if (s[k] > 0.0) {
    ll += s[k] * lst;
    ga += s[k] * dsa;
    gb += s[k] * dsb;
  }
  if (grad) {
    grad[0] = -ga * a;
    grad[1] = -gb * b;
  }
  return -ll;
}

double pd_sbg_survival(double alpha, double beta, double t) {
  if (t <= 0.0) return 1.0;
  return exp(pd_lbeta(alpha, beta + t) - pd_lbeta(alpha, beta));
}

double pd_sbg_retention(double alpha, double beta, double t) {
  return (beta + t - 1.0) / (alpha + beta + t - 1.0);
}

double pd_sbg_derl(double alpha, double beta, double d, double renewals) {
  double n = renewals + 1.0;
  double lh = pd_log_hyp2f1(1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + d));
  return exp(log(beta + n - 1.0) - log(alpha + beta + n - 1.0) + lh);
}

/* ---- the model table entry ----------------------------------------- */

static const char *const sbg_param_names[] = {"alpha", "beta"};

static pd_status sbg_validate(pd_model_input *in, pd_errbuf *err) {
  if (in->customers || !in->survivors)
    return pd_err(err, PD_E_INVALID,
                  "sbg is estimated from survivor counts: use "
                  "pd_fit_estimate_sbg");
  const double *s = in->survivors;
  size_t n = in->n_survivors;
  if (n < 2)
    return pd_err(err, PD_E_INVALID,
                  "sbg needs at least two survivor counts (period 0 and 1), "
                  "got %zu", n);
  for (size_t t = 0; t < n; t++) {
    if (!isfinite(s[t]) || s[t] < 0.0)
      return pd_err(err, PD_E_RANGE,
                    "survivors[%zu] = %g must be finite and >= 0", t, s[t]);
    if (t > 0 && s[t] > s[t - 1])
      return pd_err(err, PD_E_RANGE,
                    "survivors[%zu] = %g exceeds survivors[%zu] = %g: "
                    "survivor counts never grow", t, s[t], t - 1, s[t - 1]);
  }
  if (!(s[0] > 0.0))
    return pd_err(err, PD_E_RANGE, "survivors[0] (the cohort size) must be > 0");
  in->total_weight = s[0];
  return PD_OK;
}

static void sbg_start(const pd_model_input *in, double *logp) {
  (void)in;
  logp[0] = 0.0;
  logp[1] = 0.0;
}

static double sbg_model_negll(const pd_model_input *in, const double *logp,
                              double *grad) {
  return pd_sbg_negll(logp, in->n_survivors, in->survivors, grad);
}

const pd_model_def pd_model_sbg = {
    .kind = PD_MODEL_SBG,
    .name = "sbg",
    .n_params = 2,
    .param_names = sbg_param_names,
    .validate = sbg_validate,
    .start = sbg_start,
    .negll = sbg_model_negll,
};

/* ---- public entry points (retention.h) ----------------------------- */

pd_status pd_fit_estimate_sbg(pd_fit *fit, const double *survivors,
                              size_t k_plus_1) {
  if (!pd_fit_is_live(fit)) return PD_E_MISUSE;
  if (!survivors)
    return pd_err(&fit->err, PD_E_INVALID, "survivors is NULL");
  pd_model_input in;
  memset(&in, 0, sizeof in);
  in.survivors = survivors;
  in.n_survivors = k_plus_1;
  return pd_fit_run(fit, &pd_model_sbg, &in);
}

/* The handle checks every retention function starts with. */
static pd_status sbg_params(pd_fit *fit, const void *out, double *a,
                            double *b) {
  /* Set first: the compiler cannot see that pd_err never returns PD_OK, so
   * callers would otherwise read possibly uninitialised values (-O3). */
  *a = 0.0;
  *b = 0.0;
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (fit->model != PD_MODEL_SBG)
    return pd_err(&fit->err, PD_E_INVALID,
                  "retention projections need an sbg fit, not %s",
                  pd_model_name(fit->model));
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  *a = fit->params[0];
  *b = fit->params[1];
  return PD_OK;
}

/* Writes scale * S(first), scale * S(first + 1), ... by the retention
 * recurrence, which keeps each step to one division. */
static void survival_run(double a, double b, double scale, size_t first,
                         size_t count, double *out) {
  double s = scale * pd_sbg_survival(a, b, (double)first);
  for (size_t i = 0; i < count; i++) {
    if (i > 0) s *= pd_sbg_retention(a, b, (double)(first + i));
    out[i] = s;
  }
}

pd_status pd_retention_survival(pd_fit *fit, size_t periods, double *out) {
  double a, b;
  pd_status st = sbg_params(fit, out, &a, &b);
  if (st != PD_OK) return st;
  survival_run(a, b, 1.0, 1, periods, out);
  pd_err_clear(&fit->err);
  return PD_OK;
}

pd_status pd_retention_rate(pd_fit *fit, size_t periods, double *out) {
  double a, b;
  pd_status st = sbg_params(fit, out, &a, &b);
  if (st != PD_OK) return st;
  for (size_t i = 0; i < periods; i++)
    out[i] = pd_sbg_retention(a, b, (double)(i + 1));
  pd_err_clear(&fit->err);
  return PD_OK;
}

pd_status pd_retention_project(pd_fit *fit, double initial,
                               size_t first_period, size_t count,
                               double *out) {
  double a, b;
  pd_status st = sbg_params(fit, out, &a, &b);
  if (st != PD_OK) return st;
  if (!isfinite(initial) || initial < 0.0)
    return pd_err(&fit->err, PD_E_RANGE,
                  "initial cohort size %g must be finite and >= 0", initial);
  survival_run(a, b, initial, first_period, count, out);
  pd_err_clear(&fit->err);
  return PD_OK;
}

pd_status pd_retention_derl(pd_fit *fit, double discount_rate,
                            uint32_t renewals, double *out) {
  double a, b;
  pd_status st = sbg_params(fit, out, &a, &b);
  if (st != PD_OK) return st;
  if (!isfinite(discount_rate) || !(discount_rate > 0.0))
    return pd_err(&fit->err, PD_E_RANGE,
                  "discount rate %g must be finite and > 0", discount_rate);
  double v = pd_sbg_derl(a, b, discount_rate, (double)renewals);
  if (!isfinite(v))
    return pd_err(&fit->err, PD_E_NUMERIC,
                  "DERL: the hypergeometric series could not be evaluated "
                  "(alpha %g, beta %g, d %g)", a, b, discount_rate);
  *out = v;
  pd_err_clear(&fit->err);
  return PD_OK;
}
