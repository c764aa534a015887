#include "models/clv.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/spend.h>

#include "core/alloc.h"
#include "models/fit_internal.h"
#include "models/gammagamma.h"
#include "models/model.h"
#include "models/row_blocks.h"

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

/* Within a row block (row_blocks.h), customers go through the months in
 * sub-blocks of CLV_SUB, so the per-month buffers live on the stack and
 * stay in cache. Every customer's value depends only on its own row, so
 * neither size changes a result. */
enum { CLV_SUB = 256 };

typedef struct clv_job {
  const pd_model_def *def;
  const double *tparams, *sparams;
  const pd_customer_data *d;
  uint32_t months;
  double discount_rate, units_per_month;
  double *acc;
} clv_job;

/* The CLV of rows [begin, end) into acc; 1 when a prediction failed. */
static int clv_block(void *vctx, size_t begin, size_t end) {
  const clv_job *j = vctx;
  double sp[CLV_SUB], prev[CLV_SUB], cur[CLV_SUB];
  pd_errbuf err; /* the failure is reported again on the caller's thread */
  for (size_t off = begin; off < end; off += CLV_SUB) {
    size_t len = end - off < CLV_SUB ? end - off : CLV_SUB;
    pd_customer_data v = pd_model_rows(j->d, off, len);
    if (pd_gg_expected_spend_all(j->sparams, &v, sp, &err) != PD_OK) return 1;
    double *a = j->acc + off, disc = 1.0;
    for (size_t i = 0; i < len; i++) a[i] = prev[i] = 0.0;
    for (uint32_t m = 1; m <= j->months; m++) {
      if (j->def->expected_purchases(j->tparams, &v,
                                     (double)m * j->units_per_month, cur,
                                     &err) != PD_OK)
        return 1;
      disc /= 1.0 + j->discount_rate;
      for (size_t i = 0; i < len; i++) {
        a[i] += (cur[i] - prev[i]) * sp[i] * disc;
        prev[i] = cur[i];
      }
    }
  }
  return 0;
}

/* After a failed block: the same predictions over rows [0, end) in one
 * view on the calling thread, so the message names the first failing
 * customer by its own index; buf holds end doubles. */
static pd_status clv_report(const clv_job *j, size_t end, double *buf,
                            pd_errbuf *err) {
  pd_customer_data v = pd_model_rows(j->d, 0, end);
  pd_status st = pd_gg_expected_spend_all(j->sparams, &v, buf, err);
  for (uint32_t m = 1; st == PD_OK && m <= j->months; m++)
    st = j->def->expected_purchases(j->tparams, &v,
                                    (double)m * j->units_per_month, buf, err);
  if (st != PD_OK) return st;
  return pd_err(err, PD_E_NUMERIC, "CLV: a prediction did not evaluate");
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
  if (def->check_rows) {
    st = def->check_rows(data, &tf->err);
    if (st != PD_OK) return st;
  }

  size_t n = data->n;
  if (n > SIZE_MAX / sizeof(double))
    return pd_err(&tf->err, PD_E_NOMEM, "too many customers for one call");
  double *acc = pd_malloc(&tf->alloc, n * sizeof *acc);
  if (!acc) return pd_err(&tf->err, PD_E_NOMEM, "CLV: out of memory");
  clv_job j = {def, tf->params, spend->params, data, months, discount_rate,
               units_per_month, acc};
  size_t bad = pd_row_map(tf->threads, n, clv_block, &j);
  if (bad != PD_ROW_NONE) {
    size_t end = (bad + 1) * PD_ROW_BLOCK;
    st = clv_report(&j, end < n ? end : n, acc, &tf->err);
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

typedef struct dert_job {
  const pd_model_def *def;
  const double *params;
  const pd_customer_data *d;
  double discount_rate;
  double *buf;
} dert_job;

/* DERT of the customers of view v into buf (messages index v's rows). */
static pd_status dert_rows(const dert_job *j, const pd_customer_data *v,
                           double *buf, pd_errbuf *err) {
  pd_status st = j->def->p_alive(j->params, v, buf, err);
  const double *p = j->params;
  for (size_t i = 0; st == PD_OK && i < v->n; i++) {
    double r = pd_pnbd_dert(p[0], p[1], p[2], p[3], v->x[i], v->T[i],
                            j->discount_rate, buf[i]);
    if (!isfinite(r))
      st = pd_err(err, PD_E_NUMERIC,
                  "customer %zu: DERT is not finite (s = %g, delta (beta+T) "
                  "= %g)", i, p[2], j->discount_rate * (p[3] + v->T[i]));
    buf[i] = r;
  }
  return st;
}

static int dert_block(void *vctx, size_t begin, size_t end) {
  const dert_job *j = vctx;
  pd_customer_data v = pd_model_rows(j->d, begin, end - begin);
  pd_errbuf err;
  return dert_rows(j, &v, j->buf + begin, &err) != PD_OK;
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
  dert_job j = {def, fit->params, data, discount_rate, buf};
  size_t bad = pd_row_map(fit->threads, n, dert_block, &j);
  if (bad != PD_ROW_NONE) {
    /* Redo the rows up to the failing block in one view: the message then
     * names the first failing customer by its own index. */
    size_t end = (bad + 1) * PD_ROW_BLOCK;
    pd_customer_data v = pd_model_rows(data, 0, end < n ? end : n);
    st = dert_rows(&j, &v, buf, &fit->err);
    if (st == PD_OK)
      st = pd_err(&fit->err, PD_E_NUMERIC, "DERT did not evaluate");
  }
  if (st == PD_OK) {
    memcpy(out, buf, n * sizeof *out);
    pd_err_clear(&fit->err);
  }
  pd_free(&fit->alloc, buf);
  return st;
}
