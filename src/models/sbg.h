/* Shifted-beta-geometric retention model (Fader & Hardie 2007, "How to
 * Project Customer Retention"): each customer churns at the end of every
 * period with probability θ ~ Beta(α, β). Periods are counted from
 * acquisition (t = 0). Pure kernels on plain values. */
#ifndef PD_MODELS_SBG_H
#define PD_MODELS_SBG_H

#include <stddef.h>

/* Negative log-likelihood of the survivor counts s[0] >= s[1] >= ... >=
 * s[k] (k = count − 1) as a function of lp = (log α, log β); grad (if not
 * NULL) over lp. Inputs must have been validated. */
double pd_sbg_negll(const double lp[2], size_t count, const double *s,
                    double grad[2]);

/* S(t) = P(still a customer after t periods) = B(α, β+t)/B(α, β);
 * t >= 0 need not be an integer. */
double pd_sbg_survival(double alpha, double beta, double t);

/* r(t) = S(t)/S(t−1) = (β+t−1)/(α+β+t−1), the share of those alive in
 * period t−1 who renew into period t, t >= 1. */
double pd_sbg_retention(double alpha, double beta, double t);

/* Discounted expected residual lifetime of a customer who has made
 * `renewals` renewals (so is in period renewals+1), at per-period discount
 * rate d > 0: Σ_{j>=0} S(renewals+j+1)/S(renewals) / (1+d)^j, i.e. the
 * next period counts undiscounted (Fader & Hardie 2010). Closed form
 * (β+n−1)/(α+β+n−1) · 2F1(1, β+n; α+β+n; 1/(1+d)) with n = renewals+1.
 * NaN if the hypergeometric function cannot be evaluated. */
double pd_sbg_derl(double alpha, double beta, double d, double renewals);

#endif
