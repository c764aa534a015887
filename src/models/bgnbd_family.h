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

#endif
