#include "models/gammagamma.h"

#include <math.h>

#include <privdomain/spend.h>

#include "models/fit_internal.h"
#include "models/model.h"
#include "models/specfun.h"

double pd_gg_loglik(double p, double q, double g, double x, double m,
                    double grad[3]) {
  double px = p * x;
  double s = g + x * m;
  double log_s = log(s);
  double ll = pd_lgamma(px + q) - pd_lgamma(px) - pd_lgamma(q) + q * log(g) +
              (px - 1.0) * log(m) + px * log(x) - (px + q) * log_s;
  if (grad) {
    double psi_all = pd_digamma(px + q);
    grad[0] = x * (psi_all - pd_digamma(px) + log(m) + log(x) - log_s);
    grad[1] = psi_all - pd_digamma(q) + log(g) - log_s;
    grad[2] = q / g - (px + q) / s;
  }
  return ll;
}

double pd_gg_negll(const double lp[3], size_t n, const double *x,
                   const double *m, const double *weight, double grad[3]) {
  double p = exp(lp[0]), q = exp(lp[1]), g = exp(lp[2]);
  double sum = 0.0, gs[3] = {0.0, 0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    double w = weight ? weight[i] : 1.0;
    /* Customers without repeat purchases carry no spend information. */
    if (x[i] <= 0.0 || w == 0.0) continue;
    double gi[3];
    sum += w * pd_gg_loglik(p, q, g, x[i], m[i], grad ? gi : NULL);
    if (grad)
      for (int k = 0; k < 3; k++) gs[k] += w * gi[k];
  }
  if (grad) {
    /* Chain rule to log-parameters: d/d log θ = θ d/dθ. */
    grad[0] = -gs[0] * p;
    grad[1] = -gs[1] * q;
    grad[2] = -gs[2] * g;
  }
  return -sum;
}

double pd_gg_expected_spend(double p, double q, double g, double x,
                            double m) {
  double den = p * x + q - 1.0;
  if (!(den > 0.0)) return NAN;
  if (x <= 0.0) return p * g / den;
  return p * (g + x * m) / den;
}

/* ---- the model table entry and the public prediction --------------- */

static const char *const gg_param_names[] = {"p", "q", "gamma"};

pd_status pd_gg_check(const pd_customer_data *d, pd_errbuf *err,
                      double *repeat_weight) {
  double total = 0.0;
  pd_status st = pd_model_check_customers(d, 1, err, NULL);
  if (st != PD_OK) return st;
  if (!d->monetary)
    return pd_err(err, PD_E_INVALID,
                  "gammagamma: monetary (mean spend of repeat purchases) "
                  "must be given");
  for (size_t i = 0; i < d->n; i++) {
    double m = d->monetary[i];
    if (!isfinite(m))
      return pd_err(err, PD_E_RANGE, "customer %zu: monetary value %g is not "
                    "finite", i, m);
    if (d->x[i] > 0.0) {
      if (!(m > 0.0))
        return pd_err(err, PD_E_RANGE,
                      "customer %zu: monetary value %g must be > 0 for a "
                      "customer with repeat purchases", i, m);
      total += pd_model_weight(d, i);
    }
  }
  if (repeat_weight) *repeat_weight = total;
  return PD_OK;
}

static pd_status gg_validate(pd_model_input *in, pd_errbuf *err) {
  if (!in->customers)
    return pd_err(err, PD_E_INVALID, "gammagamma: customer data is NULL");
  pd_status st = pd_gg_check(in->customers, err, &in->total_weight);
  if (st != PD_OK) return st;
  if (!(in->total_weight > 0.0))
    return pd_err(err, PD_E_RANGE,
                  "gammagamma: no customer with repeat purchases (x > 0); "
                  "the spend model has nothing to fit");
  return PD_OK;
}

/* p = 1, q = 2 and γ = the mean spend put the population mean p γ/(q−1)
 * at the observed mean whatever the currency unit. */
static void gg_start(const pd_model_input *in, double *logp) {
  const pd_customer_data *d = in->customers;
  double sw = 0.0, sm = 0.0;
  for (size_t i = 0; i < d->n; i++)
    if (d->x[i] > 0.0) {
      double w = pd_model_weight(d, i);
      sw += w;
      sm += w * d->monetary[i];
    }
  logp[0] = 0.0;
  logp[1] = log(2.0);
  logp[2] = sw > 0.0 && sm > 0.0 ? log(sm / sw) : 0.0;
}

static double gg_model_negll(const pd_model_input *in, const double *logp,
                             double *grad) {
  const pd_customer_data *d = in->customers;
  return pd_gg_negll(logp, d->n, d->x, d->monetary, d->weight, grad);
}

const pd_model_def pd_model_gammagamma = {
    .kind = PD_MODEL_GAMMAGAMMA,
    .name = "gammagamma",
    .n_params = 3,
    .param_names = gg_param_names,
    .validate = gg_validate,
    .start = gg_start,
    .negll = gg_model_negll,
};

pd_status pd_gg_expected_spend_all(const double *params,
                                   const pd_customer_data *d, double *out,
                                   pd_errbuf *err) {
  double p = params[0], q = params[1], g = params[2];
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i];
    double v = pd_gg_expected_spend(p, q, g, x, x > 0.0 ? d->monetary[i] : 0.0);
    if (!isfinite(v))
      return pd_err(err, PD_E_NUMERIC,
                    "customer %zu: expected spend does not exist (p x + q = "
                    "%g <= 1: the population mean spend is infinite)",
                    i, p * x + q);
  }
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i];
    out[i] = pd_gg_expected_spend(p, q, g, x, x > 0.0 ? d->monetary[i] : 0.0);
  }
  return PD_OK;
}

pd_status pd_predict_expected_spend(pd_fit *fit, const pd_customer_data *data,
                                    double *out) {
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (fit->model != PD_MODEL_GAMMAGAMMA)
    return pd_err(&fit->err, PD_E_INVALID,
                  "expected spend needs a gammagamma fit, not %s",
                  pd_model_name(fit->model));
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  st = pd_gg_check(data, &fit->err, NULL);
  if (st != PD_OK) return st;
  st = pd_gg_expected_spend_all(fit->params, data, out, &fit->err);
  if (st == PD_OK) pd_err_clear(&fit->err);
  return st;
}
