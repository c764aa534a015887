/* Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using
 * Iso-value Curves for Customer Base Analysis"): a customer's spend per
 * transaction is Gamma(p, ν) around a personal mean p/ν, and ν is
 * Gamma(q, γ) across customers. Pure kernels on plain arrays. */
#ifndef PD_MODELS_GAMMAGAMMA_H
#define PD_MODELS_GAMMAGAMMA_H

#include <stddef.h>

/* Log-likelihood of one customer with x > 0 repeat transactions of mean
 * spend m > 0, and (when grad != NULL) its gradient over (p, q, γ). */
double pd_gg_loglik(double p, double q, double g, double x, double m,
                    double grad[3]);

/* Negative weighted log-likelihood over the customers with x > 0 (others
 * contribute nothing), as a function of the log-parameters
 * lp = (log p, log q, log γ); grad (if not NULL) is over lp. weight may be
 * NULL (all ones). Inputs must have been validated. */
double pd_gg_negll(const double lp[3], size_t n, const double *x,
                   const double *m, const double *weight, double grad[3]);

/* E[mean spend per transaction | x, m]: the posterior mean
 * p (γ + x m) / (p x + q − 1). For x = 0 this is the population mean
 * p γ / (q − 1). Returns NaN when that mean does not exist
 * (p x + q <= 1); callers turn that into an error. */
double pd_gg_expected_spend(double p, double q, double g, double x,
                            double m);

#include <privdomain/fit.h>

#include "core/error.h"

/* The data rules of a Gamma-Gamma fit: pd_model_check_customers plus a
 * finite monetary value for every row, > 0 where x > 0. Writes the total
 * weight of the rows with x > 0 to *repeat_weight (may be NULL). */
pd_status pd_gg_check(const pd_customer_data *d, pd_errbuf *err,
                      double *repeat_weight);

/* Expected spend of every row of checked data into out (written only on
 * success; PD_E_NUMERIC when the mean does not exist for some row). */
pd_status pd_gg_expected_spend_all(const double *params,
                                   const pd_customer_data *d, double *out,
                                   pd_errbuf *err);

#endif
