/* BG/BB (Fader, Hardie & Shang 2010, "Customer-Base Analysis in a
 * Discrete-Time Noncontractual Setting"): at each of n transaction
 * opportunities an alive customer buys with probability p ~ Beta(α, β)
 * and, after each opportunity, dies with probability θ ~ Beta(γ, δ).
 * A customer's history is (x, t_x, n): x purchases, the last at
 * opportunity t_x, out of n opportunities. Pure kernels on plain values. */
#ifndef PD_MODELS_BGBB_H
#define PD_MODELS_BGBB_H

#include <stddef.h>

/* True when (x, t_x, n) is a possible history: integers with
 * 0 <= x <= t_x <= n, n >= 1, and t_x = 0 exactly when x = 0. */
int pd_bgbb_history_ok(double x, double t_x, double n);

/* Log-likelihood of one history at θ = (α, β, γ, δ) and, when grad is not
 * NULL, its gradient over θ. */
double pd_bgbb_loglik(const double th[4], double x, double t_x, double n,
                      double grad[4]);

/* Negative weighted log-likelihood as a function of the log-parameters;
 * grad (if not NULL) over the log-parameters. weight may be NULL; t_x is
 * read as 0 where x = 0. */
double pd_bgbb_negll(const double lp[4], size_t count, const double *x,
                     const double *t_x, const double *n,
                     const double *weight, double grad[4]);

/* P(alive at opportunity n | x, t_x, n): the "alive through all n
 * opportunities" term's share of the likelihood (as the lifetimes tool;
 * Fader, Hardie & Shang's P(alive at n+1) is this times E[1−θ | ·]). */
double pd_bgbb_alive(const double th[4], double x, double t_x, double n);

/* E[purchases in opportunities n+1 .. n+n_star | x, t_x, n], n_star >= 0
 * an integer. */
double pd_bgbb_expected(const double th[4], double x, double t_x, double n,
                        double n_star);

/* P(X(n) = x): a new customer makes exactly x purchases in the first n
 * opportunities (x <= n whole numbers). */
double pd_bgbb_p_purchases(const double th[4], double x, double n);

#endif
