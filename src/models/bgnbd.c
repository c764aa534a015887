/* BG/NBD (Fader, Hardie & Lee 2005): Poisson purchasing at rate
 * λ ~ Gamma(r, α) while active; after each repeat purchase the customer
 * drops out with probability p ~ Beta(a, b). The likelihood kernel is
 * shared with MBG/NBD in bgnbd_family.c. */
#include "models/bgnbd_family.h"

#include <math.h>

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

PD_BGNBD_FAMILY_MODEL(pd_model_bgnbd, PD_BGNBD_PLAIN, PD_MODEL_BGNBD, "bgnbd",
                      unconditional, p_purchases)
