/* What BG/NBD and MBG/NBD share: the likelihood kernel (they differ only in
 * whether a customer may drop out before the first repeat purchase) and the
 * Beta-geometric expectation and count probabilities. Parameters are
 * natural-scale (r, alpha, a, b). */
#ifndef PD_MODELS_BGNBD_FAMILY_H
#define PD_MODELS_BGNBD_FAMILY_H

#include <stdint.h>

#include "models/model.h"

/* 0: BG/NBD (dropout only after a repeat purchase); 1: MBG/NBD (also at
 * time 0, i.e. after the first purchase). */
typedef enum { PD_BGNBD_PLAIN = 0, PD_BGNBD_MODIFIED = 1 } pd_bgnbd_variant;

/* r, alpha, a, b: the parameters of both variants, in this order. */
extern const char *const pd_bgnbd_family_param_names[4];

pd_status pd_bgnbd_family_validate(pd_model_input *in, pd_errbuf *err);
size_t pd_bgnbd_family_workspace(const pd_model_input *in);
void pd_bgnbd_family_prepare(pd_model_input *in);
void pd_bgnbd_family_start(const pd_model_input *in, double *logp);
/* Weighted sum of -log L over rows and its gradient over log-parameters. */
double pd_bgnbd_family_negll(pd_bgnbd_variant v, const pd_model_input *in,
                             const double *logp, double *grad);
/* The same, also writing the Hessian over log-parameters (4x4,
 * row-major) analytically, for standard errors. */
double pd_bgnbd_family_negll_hessian(pd_bgnbd_variant v,
                                     const pd_model_input *in,
                                     const double *logp, double *grad,
                                     double *hess);
/* log L of one customer (natural-scale parameters), straight from the
 * definition; used by tests and by the kernel for very large x. */
double pd_bgnbd_family_loglik1(pd_bgnbd_variant v, const double *p, double x,
                               double t_x, double T);

/* (a-1+b)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]: the expected
 * purchases in (0, t] of a customer alive at 0 with purchase rate
 * ~ Gamma(r, α) and dropout probability ~ Beta(a, b) after each purchase.
 * Finite through a = 1. NaN if the series fails. */
double pd_bgnbd_expect_alive(double r, double alpha, double a, double b,
                             double t);
/* P(alive at T | x, t_x, T). */
double pd_bgnbd_family_p_alive(pd_bgnbd_variant v, const double *p, double x,
                               double t_x, double T);
/* BG/NBD P(X(t) = n) (Fader, Hardie & Lee 2005 eq. 8). */
double pd_bgnbd_pmf(double r, double alpha, double a, double b, uint32_t n,
                    double t);

pd_status pd_bgnbd_family_expected(pd_bgnbd_variant v, const double *p,
                                   const pd_customer_data *d, double horizon,
                                   double *out, pd_errbuf *err);
pd_status pd_bgnbd_family_p_alive_all(pd_bgnbd_variant v, const double *p,
                                      const pd_customer_data *d, double *out,
                                      pd_errbuf *err);

/* Defines the const pd_model_def DEF of variant V (model kind KIND, named
 * NAME) with the model file's own unconditional and count-probability
 * functions UNCOND and PPURCH; everything else is the family's. The
 * entry points that only fix the variant become static functions of the
 * including file: the model table passes no variant, so each model needs
 * its own adapters to the kernel above, and this writes them once. */
#define PD_BGNBD_FAMILY_MODEL(DEF, V, KIND, NAME, UNCOND, PPURCH)              \
  static double family_negll(const pd_model_input *in, const double *logp,    \
                             double *grad) {                                   \
    return pd_bgnbd_family_negll((V), in, logp, grad);                         \
  }                                                                            \
  static double family_negll_hessian(const pd_model_input *in,                \
                                     const double *logp, double *grad,         \
                                     double *hess) {                           \
    return pd_bgnbd_family_negll_hessian((V), in, logp, grad, hess);           \
  }                                                                            \
  static pd_status family_expected(const double *p, const pd_customer_data *d, \
                                   double horizon, double *out,                \
                                   pd_errbuf *err) {                           \
    return pd_bgnbd_family_expected((V), p, d, horizon, out, err);             \
  }                                                                            \
  static pd_status family_p_alive(const double *p, const pd_customer_data *d,  \
                                  double *out, pd_errbuf *err) {               \
    return pd_bgnbd_family_p_alive_all((V), p, d, out, err);                   \
  }                                                                            \
  const pd_model_def DEF = {                                                   \
      .kind = (KIND),                                                          \
      .name = (NAME),                                                          \
      .n_params = 4,                                                           \
      .param_names = pd_bgnbd_family_param_names,                              \
      .validate = pd_bgnbd_family_validate,                                    \
      .workspace = pd_bgnbd_family_workspace,                                  \
      .prepare = pd_bgnbd_family_prepare,                                      \
      .start = pd_bgnbd_family_start,                                          \
      .negll = family_negll,                                                   \
      .negll_hessian = family_negll_hessian,                                   \
      .expected_purchases = family_expected,                                   \
      .p_alive = family_p_alive,                                               \
      .unconditional_purchases = (UNCOND),                                     \
      .p_purchases = (PPURCH),                                                 \
  };

#endif
