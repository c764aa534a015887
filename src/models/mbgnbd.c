/* MBG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but the
 * customer may also drop out right after the first purchase, so a customer
 * with no repeat purchase is not assumed alive. Shares its kernel with
 * BG/NBD (bgnbd_family.c). */
#include "models/bgnbd_family.h"

#include <math.h>

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

PD_BGNBD_FAMILY_MODEL(pd_model_mbgnbd, PD_BGNBD_MODIFIED, PD_MODEL_MBGNBD, "mbgnbd",
                      unconditional, p_purchases)
