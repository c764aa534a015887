/*
 * libprivdomain — spend and customer lifetime value: the Gamma-Gamma spend
 * model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-value Curves for
 * Customer Base Analysis"), discounted CLV, and Pareto/NBD discounted
 * expected residual transactions (DERT).
 *
 * Gamma-Gamma: a customer's spend per transaction varies around a personal
 * mean; transactions are Gamma(p, ν) and ν is Gamma(q, gamma) across
 * customers, independent of how often the customer buys. It is estimated
 * with pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, data) (fit.h) from
 * pd_customer_data with x (repeat purchase periods) and monetary (mean
 * value of those repeat purchases): rows with x = 0 carry no spend
 * information and are skipped, not rejected (as in the literature);
 * n_customers of the fit is the weight of the rows with x > 0. Data rules
 * beyond those of pd_fit_estimate: monetary non-NULL and finite for every
 * row, and > 0 where x > 0 (PD_E_RANGE otherwise; at least one row with
 * x > 0 and positive weight). Parameters: "p", "q", "gamma" (gamma in the
 * currency unit of monetary). Money is a double here, in whatever unit the
 * caller chose (yuan, fen …); results come back in that unit.
 *
 * Thread safety: the functions below only read their fits and may run
 * concurrently with each other; a failing call records its message on a
 * fit (see fit.h).
 */
#ifndef PRIVDOMAIN_SPEND_H
#define PRIVDOMAIN_SPEND_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "fit.h"
#include "status.h"

PD_BEGIN_DECLS

/**
 * pd_predict_expected_spend - each customer's expected mean value per
 * transaction given his repeat purchases, from a Gamma-Gamma fit:
 *   E[M | x, m] = p (gamma + x m) / (p x + q − 1),
 * a weighted average of the population mean p gamma / (q − 1) and the
 * customer's own mean m (x = monetary value of row i). Rows with x = 0 get
 * the population mean. Writes data->n values to out (caller-owned), in the
 * unit of monetary.
 *
 * Errors: PD_E_MISUSE (not a live fit), PD_E_INVALID (the fit holds no
 * parameters or not gammagamma; data or out NULL; bad data size; n = 0;
 * monetary NULL; x not whole), PD_E_RANGE (the data rules above and those
 * of pd_fit_estimate), PD_E_NUMERIC (the mean does not exist for a row:
 * p x + q <= 1, e.g. q <= 1 for x = 0). out is written only on success.
 * Large inputs run on the fit's threads (pd_fit_options.threads), with
 * results identical for every thread count.
 */
PD_API pd_status pd_predict_expected_spend(pd_fit *fit,
                                           const pd_customer_data *data,
                                           double *out);

/**
 * pd_predict_clv - each customer's discounted lifetime value over the next
 * `months` months, as the lifetimes tool computes it:
 *   CLV = Σ_{m=1..months} (E[X(m u)] − E[X((m−1) u)]) × spend
 *         / (1 + discount_rate)^m
 * where E[X(t)] is the `transactions` fit's expected purchases in the next
 * t time units given the customer's history (pd_predict_expected_purchases),
 * u = units_per_month converts months into the data's time unit (4.345 for
 * weeks, 30 for days, 1 when the unit is a month), and spend is the
 * `spend` fit's expected spend (pd_predict_expected_spend). The result is
 * in the unit of monetary; use a margin rather than revenue as monetary
 * for a profit CLV.
 *
 * - transactions: a fit of BG/NBD, MBG/NBD, Pareto/NBD or BG/BB (for BG/BB
 *   the time unit is the transaction opportunity, and every m × u must be
 *   a whole number).
 * - spend: a Gamma-Gamma fit.
 * - data: x, t_x, T for the transaction model and monetary for the spend
 *   model (rules of both apply).
 * - months: horizon in whole months (0 gives 0).
 * - discount_rate: per month, finite and >= 0 (lifetimes uses 0.01).
 * - units_per_month: finite and > 0.
 * Writes data->n values to out.
 *
 * Errors (the message is recorded on `transactions`): PD_E_MISUSE (either
 * fit not live), PD_E_INVALID (a fit without parameters or of the wrong
 * model, data or out NULL, the data errors of either model), PD_E_RANGE
 * (discount_rate or units_per_month out of range, the data rules of either
 * model), PD_E_NUMERIC (a prediction failed), PD_E_NOMEM (a working buffer
 * of data->n doubles is allocated through the transactions fit's
 * allocator). out is written only on success. Large inputs run on the
 * transactions fit's threads (pd_fit_options.threads), with results
 * identical for every thread count.
 */
PD_API pd_status pd_predict_clv(pd_fit *transactions, pd_fit *spend,
                                const pd_customer_data *data, uint32_t months,
                                double discount_rate, double units_per_month,
                                double *out);

/**
 * pd_predict_dert - Pareto/NBD discounted expected residual transactions
 * (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 2): the present value at T
 * of the customer's future purchases, continuously discounted,
 *   DERT = ∫_0^∞ e^(−δ t) E[purchase rate at T + t | x, t_x, T] dt
 *        = P(alive) (r+x)/(alpha+T) (beta+T)^s δ^(s−1) U(s, s; δ(beta+T))
 * with U Tricomi's confluent hypergeometric function. δ = discount_rate is
 * the continuously compounded rate per time unit of the data (an annual
 * rate R with weeks: δ = log(1 + R) / 52). Multiply by the expected spend
 * (pd_predict_expected_spend) for a lifetime value over an unlimited
 * horizon. Writes data->n values to out.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (the fit holds no parameters or not
 * paretonbd, data or out NULL, the data errors of
 * pd_predict_p_alive), PD_E_RANGE (discount_rate not finite or <= 0, the
 * data rules), PD_E_NUMERIC, PD_E_NOMEM (a buffer of data->n doubles
 * through the fit's allocator). out is written only on success. Large
 * inputs run on the fit's threads (pd_fit_options.threads), with results
 * identical for every thread count.
 */
PD_API pd_status pd_predict_dert(pd_fit *fit, const pd_customer_data *data,
                                 double discount_rate, double *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_SPEND_H */
