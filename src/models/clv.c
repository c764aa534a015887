#include "models/clv.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/spend.h>

#include "core/alloc.h"
#include "models/fit_internal.h"
#include "models/gammagamma.h"
#include "models/model.h"

#include "models/specfun.h"

double pd_clv_discounted(pd_clv_expected_fn expected, const void *model,
                         double x, double t_x, double T, double spend,
                         size_t months, double d, double units_per_month) {
  double clv = 0.0, prev = 0.0, disc = 1.0;
  for (size_t m = 1; m <= months; m++) {
    double cum = expected(model, x, t_x, T, (double)m * units_per_month);
    disc /= 1.0 + d;
    clv += (cum - prev) * spend * disc;
    prev = cum;
  }
  return clv;
}

/* log(e^z Γ(a, z)) by Legendre's continued fraction (modified Lentz);
 * converges quickly for z > 1.5 and any real a. */
static double log_scaled_upper_gamma_cf(double a, double z) {
  const double tiny = 1e-300;
  double b = z + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 10000; i++) {
    double an = -(double)i * ((double)i - a);
    b += 2.0;
    d = an * d + b;
    if (fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < 1e-16) break;
  }
  return a * log(z) + log(h);
}

/* Γ(a, z) for −1 < a < 1 and small z from Γ(a) − Σ (−1)^n z^(a+n)/(n!(a+n)).
 * The n = 0 term and Γ(a) both blow up as a → 0; their difference is
 * taken as ((Γ(1+a) − 1) − (z^a − 1))/a, which stays accurate. */
static double upper_gamma_series(double a, double z) {
  double lz = log(z), head;
  if (fabs(a) < 1e-10)
    head = -0.57721566490153286 - lz; /* the a → 0 limit: −γ_E − log z */
  else
    head = (expm1(pd_lgamma(1.0 + a)) - expm1(a * lz)) / a;
  double sum = 0.0, term = 1.0;
  for (int n = 1; n < 200; n++) {
    term *= -z / n;
    double t = term / (a + n);
    sum += t;
    if (fabs(t) <= 1e-17 * fabs(sum)) break;
  }
  return head - exp(a * lz) * sum;
}

double pd_log_tricomi_u_ss(double s, double z) {
  double a = 1.0 - s;
  if (!(s > 0.0) || !(z > 0.0) || !isfinite(s) || !isfinite(z)) return NAN;
  if (z > 1.5) return log_scaled_upper_gamma_cf(a, z);
  /* Shift a into (−1, 1) for the series, then step back down with
   * Γ(a−1, z) = (Γ(a, z) − z^(a−1) e^−z)/(a−1). */
  double a0 = a;
  int steps = 0;
  while (a0 <= -1.0) {
    a0 += 1.0;
    steps++;
  }
  double g = upper_gamma_series(a0, z), ez = exp(-z);
  for (int i = 0; i < steps; i++) {
    g = (g - exp((a0 - 1.0) * log(z)) * ez) / (a0 - 1.0);
    a0 -= 1.0;
  }
  return z + log(g);
}

double pd_pnbd_dert(double r, double alpha, double s, double beta, double x,
                    double T, double delta, double p_alive) {
  double bt = beta + T;
  double lu = pd_log_tricomi_u_ss(s, delta * bt);
  return p_alive * (r + x) / (alpha + T) *
         exp(s * log(bt) + (s - 1.0) * log(delta) + lu);
}

/* ---- public entry points (spend.h) --------------------------------- */

/* Customers are processed in blocks so the per-month buffers stay in cache
 * and memory beyond the result grows by a constant. */
enum { CLV_BLOCK = 1024 };

static pd_customer_data block_of(const pd_customer_data *d, size_t off,
                                 size_t len) {
  pd_customer_data v = *d;
  v.n = len;
  v.x = d->x + off;
  v.t_x = d->t_x + off;
  v.T = d->T + off;
  v.monetary = d->monetary ? d->monetary + off : NULL;
  v.weight = d->weight ? d->weight + off : NULL;
  return v;
}

pd_status pd_predict_clv(pd_fit *transactions, pd_fit *spend,
                         const pd_customer_data *data, uint32_t months,
                         double discount_rate, double units_per_month,
                         double *out) {
  pd_fit *tf = transactions;
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(tf, &def);
  if (st != PD_OK) return st;
  if (!pd_fit_is_live(spend))
    return pd_err(&tf->err, PD_E_MISUSE, "the spend fit is not a live handle");
  if (spend->model != PD_MODEL_GAMMAGAMMA)
    return pd_err(&tf->err, PD_E_INVALID,
                  "CLV needs a gammagamma spend fit, not %s",
                  spend->model ? pd_model_name(spend->model) : "an empty fit");
  if (!def || !def->expected_purchases)
    return pd_err(&tf->err, PD_E_INVALID,
                  "CLV needs a transaction model (bgnbd, mbgnbd, paretonbd, "
                  "bgbb), not %s", pd_model_name(tf->model));
  if (!out) return pd_err(&tf->err, PD_E_INVALID, "out is NULL");
  if (!isfinite(discount_rate) || discount_rate < 0.0)
    return pd_err(&tf->err, PD_E_RANGE,
                  "monthly discount rate %g must be finite and >= 0",
                  discount_rate);
  if (!isfinite(units_per_month) || !(units_per_month > 0.0))
    return pd_err(&tf->err, PD_E_RANGE,
                  "units_per_month %g must be finite and > 0", units_per_month);
  st = pd_gg_check(data, &tf->err, NULL);
  if (st != PD_OK) return st;

  size_t n = data->n;
  if (n > SIZE_MAX / sizeof(double) - 3 * CLV_BLOCK)
    return pd_err(&tf->err, PD_E_NOMEM, "too many customers for one call");
  double *acc = pd_malloc(&tf->alloc, (n + 3 * CLV_BLOCK) * sizeof *acc);
  if (!acc) return pd_err(&tf->err, PD_E_NOMEM, "CLV: out of memory");
  double *sp = acc + n, *prev = sp + CLV_BLOCK, *cur = prev + CLV_BLOCK;

  for (size_t off = 0; off < n && st == PD_OK; off += CLV_BLOCK) {
    size_t len = n - off < CLV_BLOCK ? n - off : CLV_BLOCK;
    pd_customer_data v = block_of(data, off, len);
    st = pd_gg_expected_spend_all(spend->params, &v, sp, &tf->err);
    double *a = acc + off, disc = 1.0;
    for (size_t i = 0; i < len; i++) a[i] = prev[i] = 0.0;
    for (uint32_t m = 1; m <= months && st == PD_OK; m++) {
      st = def->expected_purchases(tf->params, &v, (double)m * units_per_month,
                                   cur, &tf->err);
      disc /= 1.0 + discount_rate;
      for (size_t i = 0; st == PD_OK && i < len; i++) {
        a[i] += (cur[i] - prev[i]) * sp[i] * disc;
        prev[i] = cur[i];
      }
    }
  }
  if (st == PD_OK) {
    for (size_t i = 0; i < n; i++)
      if (!isfinite(acc[i])) {
        st = pd_err(&tf->err, PD_E_NUMERIC, "customer %zu: CLV is not finite",
                    i);
        break;
      }
  }
  if (st == PD_OK) {
    memcpy(out, acc, n * sizeof *out);
    pd_err_clear(&tf->err);
  }
  pd_free(&tf->alloc, acc);
  return st;
}

pd_status pd_predict_dert(pd_fit *fit, const pd_customer_data *data,
                          double discount_rate, double *out) {
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (fit->model != PD_MODEL_PARETONBD || !def || !def->p_alive)
    return pd_err(&fit->err, PD_E_INVALID,
                  "DERT needs a paretonbd fit, not %s",
                  pd_model_name(fit->model));
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  if (!isfinite(discount_rate) || !(discount_rate > 0.0))
    return pd_err(&fit->err, PD_E_RANGE,
                  "discount rate %g must be finite and > 0", discount_rate);
  st = pd_model_check_customers(data, 1, &fit->err, NULL);
  if (st != PD_OK) return st;
  size_t n = data->n;
  if (n > SIZE_MAX / sizeof(double))
    return pd_err(&fit->err, PD_E_NOMEM, "too many customers for one call");
  double *buf = pd_malloc(&fit->alloc, n * sizeof *buf);
  if (!buf) return pd_err(&fit->err, PD_E_NOMEM, "DERT: out of memory");
  st = def->p_alive(fit->params, data, buf, &fit->err);
  const double *p = fit->params;
  for (size_t i = 0; st == PD_OK && i < n; i++) {
    double v = pd_pnbd_dert(p[0], p[1], p[2], p[3], data->x[i], data->T[i],
                            discount_rate, buf[i]);
    if (!isfinite(v))
      st = pd_err(&fit->err, PD_E_NUMERIC,
                  "customer %zu: DERT is not finite (s = %g, delta (beta+T) "
                  "= %g)", i, p[2], discount_rate * (p[3] + data->T[i]));
    buf[i] = v;
  }
  if (st == PD_OK) {
    memcpy(out, buf, n * sizeof *out);
    pd_err_clear(&fit->err);
  }
  pd_free(&fit->alloc, buf);
  return st;
}
