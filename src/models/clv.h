/* Customer lifetime value from a transaction model and a spend model:
 * discounted CLV over a horizon of months (the lifetimes convention) and
 * Pareto/NBD discounted expected residual transactions (DERT, Fader,
 * Hardie & Lee 2005). Pure kernels on plain values. */
#ifndef PD_MODELS_CLV_H
#define PD_MODELS_CLV_H

#include <stddef.h>

/* A transaction model's E[purchases in (T, T + t] | x, t_x, T], t in the
 * data's time unit; `model` is whatever the caller needs to evaluate it. */
typedef double (*pd_clv_expected_fn)(const void *model, double x,
                                     double t_x, double T, double t);

/* Σ_{m=1..months} (E(m u) − E((m−1) u)) · spend / (1+d)^m with
 * u = units_per_month (e.g. 4.345 for weeks, 30 for days). */
double pd_clv_discounted(pd_clv_expected_fn expected, const void *model,
                         double x, double t_x, double T, double spend,
                         size_t months, double d, double units_per_month);

/* log U(s, s, z), Tricomi's confluent hypergeometric function of the second
 * kind with equal parameters, s > 0, z > 0: U(s, s, z) = e^z Γ(1−s, z). */
double pd_log_tricomi_u_ss(double s, double z);

/* Pareto/NBD DERT at continuously compounded discount rate delta > 0 per
 * time unit, given the customer's P(alive at T):
 * P(alive) (r+x)/(α+T) (β+T)^s δ^(s−1) U(s, s; δ(β+T)). */
double pd_pnbd_dert(double r, double alpha, double s, double beta, double x,
                    double T, double delta, double p_alive);

#endif
