/* BG/NBD (Fader, Hardie & Lee 2005): Poisson purchasing at rate
 * λ ~ Gamma(r, α) while active; after each repeat purchase the customer
 * drops out with probability p ~ Beta(a, b). The likelihood kernel is
 * shared with MBG/NBD in bgnbd_family.c. */
#include "models/bgnbd_family.h"

#include <math.h>

static const char *const names[] = {"r", "alpha", "a", "b"};

static double negll(const pd_model_input *in, const double *logp, double *grad) {
  return pd_bgnbd_family_negll(PD_BGNBD_PLAIN, in, logp, grad);
}

static double negll_hessian(const pd_model_input *in, const double *logp,
                            double *grad, double *hess) {
  return pd_bgnbd_family_negll_hessian(PD_BGNBD_PLAIN, in, logp, grad, hess);
}

static pd_status expected(const double *p, const pd_customer_data *d,
                          double horizon, double *out, pd_errbuf *err) {
  return pd_bgnbd_family_expected(PD_BGNBD_PLAIN, p, d, horizon, out, err);
}

static pd_status p_alive(const double *p, const pd_customer_data *d,
                         double *out, pd_errbuf *err) {
  return pd_bgnbd_family_p_alive_all(PD_BGNBD_PLAIN, p, d, out, err);
}

static pd_status unconditional(const double *p, double t, double *out,
                               pd_errbuf *err) {
  double e = pd_bgnbd_expect_alive(p[0], p[1], p[2], p[3], t);
  if (!isfinite(e))
    return pd_err(err, PD_E_NUMERIC, "bgnbd: E[X(%g)] did not evaluate", t);
  *out = e < 0.0 ? 0.0 : e;
  return PD_OK;
}

static pd_status p_purchases(const double *p, uint32_t n, double t,
                             double *out, pd_errbuf *err) {
  double v = pd_bgnbd_pmf(p[0], p[1], p[2], p[3], n, t);
  if (!isfinite(v))
    return pd_err(err, PD_E_NUMERIC, "bgnbd: P(X(%g) = %u) did not evaluate", t, n);
  *out = v;
  return PD_OK;
}

const pd_model_def pd_model_bgnbd = {
    .kind = PD_MODEL_BGNBD,
    .name = "bgnbd",
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
