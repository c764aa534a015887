/* MBG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but the
 * customer may also drop out right after the first purchase, so a customer
 * with no repeat purchase is not assumed alive. Shares its kernel with
 * BG/NBD (bgnbd_family.c). */
#include "models/bgnbd_family.h"

#include <math.h>

static const char *const names[] = {"r", "alpha", "a", "b"};

static double negll(const pd_model_input *in, const double *logp, double *grad) {
  return pd_bgnbd_family_negll(PD_BGNBD_MODIFIED, in, logp, grad);
}

static double negll_hessian(const pd_model_input *in, const double *logp,
                            double *grad, double *hess) {
  return pd_bgnbd_family_negll_hessian(PD_BGNBD_MODIFIED, in, logp, grad, hess);
}

static pd_status expected(const double *p, const pd_customer_data *d,
                          double horizon, double *out, pd_errbuf *err) {
  return pd_bgnbd_family_expected(PD_BGNBD_MODIFIED, p, d, horizon, out, err);
}

static pd_status p_alive(const double *p, const pd_customer_data *d,
                         double *out, pd_errbuf *err) {
  return pd_bgnbd_family_p_alive_all(PD_BGNBD_MODIFIED, p, d, out, err);
}

/* Alive after the first purchase with probability b/(a+b) (posterior
 * Beta(a, b+1)), then a BG/NBD customer. */
static pd_status unconditional(const double *p, double t, double *out,
                               pd_errbuf *err) {
  double a = p[2], b = p[3];
  double e = b / (a + b) * pd_bgnbd_expect_alive(p[0], p[1], a, b + 1.0, t);
  if (!isfinite(e))
    return pd_err(err, PD_E_NUMERIC, "mbgnbd: E[X(%g)] did not evaluate", t);
  *out = e < 0.0 ? 0.0 : e;
  return PD_OK;
}

static pd_status p_purchases(const double *p, uint32_t n, double t,
                             double *out, pd_errbuf *err) {
  double a = p[2], b = p[3];
  double v = b / (a + b) * pd_bgnbd_pmf(p[0], p[1], a, b + 1.0, n, t);
  if (n == 0) v += a / (a + b);
  if (!isfinite(v))
    return pd_err(err, PD_E_NUMERIC, "mbgnbd: P(X(%g) = %u) did not evaluate", t, n);
  *out = v;
  return PD_OK;
}

const pd_model_def pd_model_mbgnbd = {
    .kind = PD_MODEL_MBGNBD,
    .name = "mbgnbd",
    .n_params = 4,
    .param_names = names,
    .validate = pd_bgnbd_family_validate,
    .workspace = pd_bgnbd_family_workspace,
    .prepare = pd_bgnbd_family_prepare,
    .start = pd_bgnbd_family_start,
    .negll = negll,
    .negll_hessian = negll_hessian,
    .expected_purchases = expected,
    .p_alive = p_alive,
    .unconditional_purchases = unconditional,
    .p_purchases = p_purchases,
};
