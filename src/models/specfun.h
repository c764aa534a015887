/* Special functions for the probability models, in double precision.
 * Pure and reentrant. */
#ifndef PD_MODELS_SPECFUN_H
#define PD_MODELS_SPECFUN_H

/* log Γ(x) for x > 0 (libm's lgamma is not reentrant on every libc: it
 * writes signgam, so the models use this one). */
double pd_lgamma(double x);
/* ψ(x), the digamma function, for x > 0. */
double pd_digamma(double x);
/* ψ'(x), the trigamma function, for x > 0. */
double pd_trigamma(double x);
/* log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), accurate when one
 * argument is much larger than the other. */
double pd_lbeta(double a, double b);
/* log of the Gauss hypergeometric function 2F1(a, b; c; z) for the
 * parameter region the models need (c > 0, z < 1, series made convergent
 * by transformation); returns NaN outside what it can evaluate. */
double pd_log_hyp2f1(double a, double b, double c, double z);

#endif
