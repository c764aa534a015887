/*
 * libprivdomain — fitting and using customer-base probability models.
 *
 * A pd_fit holds one model (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma,
 * BG/BB or sBG) and its parameters: estimated from customer summaries by
 * maximum likelihood with pd_fit_estimate(), or set directly with
 * pd_fit_set_params(). The predictions (expected purchases, probability
 * alive, …) then read those parameters.
 *
 * Customer summaries follow the lifetimes/BTYD convention (see
 * pd_customer_data). Times are in one unit of the caller's choice (days,
 * weeks …); every time argument and result is in that same unit.
 *
 * Thread safety: a pd_fit may be read by several threads at once (the
 * pd_predict_* functions, pd_fit_get); a failing call records its message
 * on the fit, so concurrent failing calls may garble that message (the
 * status codes stay exact). pd_fit_estimate and pd_fit_set_params must not
 * run concurrently with any other call on the same fit. Distinct fits are
 * independent.
 */
#ifndef PRIVDOMAIN_FIT_H
#define PRIVDOMAIN_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "export.h"
#include "status.h"

PD_BEGIN_DECLS

/** Model kinds, passed as int32_t. Never renumbered; new kinds appended. */
#define PD_MODEL_BGNBD 1      /**< BG/NBD, Fader, Hardie & Lee (2005). */
#define PD_MODEL_MBGNBD 2     /**< MBG/NBD, Batislam, Denizel & Filiztekin (2007). */
#define PD_MODEL_PARETONBD 3  /**< Pareto/NBD, Schmittlein, Morrison & Colombo (1987). */
#define PD_MODEL_GAMMAGAMMA 4 /**< Gamma-Gamma spend, Fader, Hardie & Lee (2005). */
#define PD_MODEL_BGBB 5       /**< BG/BB discrete time, Fader, Hardie & Shang (2010). */
#define PD_MODEL_SBG 6        /**< shifted-beta-geometric, Fader & Hardie (2007). */

/** The largest number of parameters of any model (array size in
 *  pd_fit_info). */
#define PD_FIT_MAX_PARAMS 8

/**
 * pd_model_name - the short name of a model kind: "bgnbd", "mbgnbd",
 * "paretonbd", "gammagamma", "bgbb" or "sbg".
 *
 * Returns a static string owned by the library, or NULL for an unknown
 * kind. Thread safety: safe from any thread.
 */
PD_API const char *pd_model_name(int32_t model);

/**
 * pd_model_from_name - the model kind named `name` (NUL-terminated,
 * exactly as pd_model_name spells it, case-sensitive).
 *
 * Returns the kind (> 0), or 0 when `name` is NULL or unknown.
 * Thread safety: safe from any thread.
 */
PD_API int32_t pd_model_from_name(const char *name);

/**
 * pd_model_param_count - how many parameters a model has (bgnbd, mbgnbd,
 * paretonbd: 4; gammagamma: 3; bgbb: 4; sbg: 2). Returns 0 for an unknown
 * kind. Thread safety: safe from any thread.
 */
PD_API uint32_t pd_model_param_count(int32_t model);

/**
 * pd_model_param_name - the name of parameter `index` of a model, in the
 * order the parameters are stored everywhere in this API:
 *   bgnbd, mbgnbd: r alpha a b
 *   paretonbd:     r alpha s beta
 *   gammagamma:    p q gamma
 *   bgbb:          alpha beta gamma delta
 *   sbg:           alpha beta
 * alpha (BG/NBD, MBG/NBD, Pareto/NBD) and beta (Pareto/NBD) are scale
 * parameters in the caller's time unit.
 *
 * Returns a static string, or NULL for an unknown kind or index.
 * Thread safety: safe from any thread.
 */
PD_API const char *pd_model_param_name(int32_t model, uint32_t index);

/** An opaque fitted (or parameterised) model. */
typedef struct pd_fit pd_fit;

/**
 * Options for pd_fit_new(). Initialise with PD_FIT_OPTIONS_INIT, then
 * change fields.
 *
 * - size: sizeof(pd_fit_options), set by the INIT macro. A smaller value is
 *   rejected (PD_E_INVALID); a larger value (a newer caller) is accepted
 *   when the extra bytes are all zero.
 * - allocator: every allocation of the fit goes through it (copied); NULL
 *   means malloc/realloc/free.
 * - max_iterations: optimiser iterations per estimate, >= 1 (default 500).
 * - tolerance: convergence threshold on the largest gradient component of
 *   the mean negative log-likelihood over log-parameters, > 0 and finite
 *   (default 1e-8).
 * - threads: how many threads the fit's row-by-row work may use, 0..64
 *   (default 1; 0 means one per online processor). It applies to the
 *   likelihood, gradient and Hessian sums of pd_fit_estimate for every
 *   customer model (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB; the
 *   sBG's survivor series is too short to split) and to the per-customer
 *   predictions pd_predict_expected_purchases, pd_predict_p_alive,
 *   pd_predict_expected_spend, pd_predict_dert and pd_predict_clv (the
 *   transactions fit's setting). Inputs of fewer than 32768 rows (distinct
 *   rows, for an estimate) run on the calling thread, because starting a
 *   thread costs as much as a few hundred rows of work; larger ones start
 *   threads for the call and join them before it returns. Determinism:
 *   rows are cut into blocks of 8192 whatever the thread count, and the
 *   blocks' partial sums are added in block order on the calling thread,
 *   so every result (parameters, log-likelihood, iterations, standard
 *   errors, predictions, error messages) is bit-identical for every value
 *   of threads. The threads are internal: the thread-safety rules at the
 *   top of this header are unchanged.
 */
typedef struct pd_fit_options {
  size_t size;
  const pd_allocator *allocator;
  int32_t max_iterations;
  double tolerance;
  int32_t threads;
} pd_fit_options;

#define PD_FIT_OPTIONS_INIT \
  { sizeof(pd_fit_options), NULL, 500, 1e-8, 1 }

/**
 * Customer summaries: n customers as parallel arrays (structure of
 * arrays, so callers pass their own columns without copying).
 *
 * - size: sizeof(pd_customer_data), set by PD_CUSTOMER_DATA_INIT; smaller
 *   is rejected (PD_E_INVALID), larger accepted if the extra bytes are 0.
 * - n: number of rows, >= 1.
 * - x: frequency, the number of repeat purchase periods (whole numbers >= 0;
 *   purchases on the same period count once, the first purchase is not
 *   counted). For BG/BB: the number of transactions.
 * - t_x: recency, time of the last purchase measured from the first
 *   (0 <= t_x <= T; ignored when x = 0). For BG/BB: the opportunity of the
 *   last transaction (whole number, 0 when x = 0).
 * - T: age, end of observation minus first purchase (>= 0; 0 only when
 *   x = 0: a customer acquired at the end, whose likelihood is 1). For BG/BB: the
 *   number of opportunities (whole number >= 1).
 * - monetary: mean value of the repeat purchases (Gamma-Gamma only; NULL
 *   for the other models, and ignored by them).
 * - weight: how many customers share this row (finite, >= 0), so identical
 *   summaries can be passed once; NULL means 1 for every row. Results are
 *   identical to passing each row `weight` times.
 * The arrays are read during the call only and never kept.
 */
typedef struct pd_customer_data {
  size_t size;
  size_t n;
  const double *x;
  const double *t_x;
  const double *T;
  const double *monetary;
  const double *weight;
} pd_customer_data;

#define PD_CUSTOMER_DATA_INIT \
  { sizeof(pd_customer_data), 0, NULL, NULL, NULL, NULL, NULL }

/**
 * What a fit holds, copied out by pd_fit_get().
 *
 * - size: set by the caller to sizeof(pd_fit_info) (PD_FIT_INFO_INIT);
 *   smaller is rejected, larger accepted (bytes beyond this version's
 *   struct are left untouched).
 * - model: the model kind, or 0 when the fit holds no model yet.
 * - converged: 1 when the last estimate met the convergence test; 0 when it
 *   did not (parameters are the last iterate) or the parameters were set
 *   with pd_fit_set_params.
 * - iterations: optimiser iterations of the last estimate (0 when set).
 * - n_params: pd_model_param_count(model); params[0..n_params-1] in the
 *   order of pd_model_param_name, unused entries 0.
 * - std_errors: asymptotic standard errors of params on their natural
 *   scale (inverse Hessian of the log-likelihood over log-parameters,
 *   delta method); meaningful only when has_std_errors is 1, else 0.
 * - log_likelihood: total log-likelihood over the (weighted) customers at
 *   params; meaningful only when estimated is 1, else 0.
 * - n_customers: total weight of the data estimated on (0 when set).
 * - estimated: 1 when the parameters come from pd_fit_estimate (converged
 *   or not), 0 when set with pd_fit_set_params or none.
 * - has_std_errors: 1 when std_errors are available (the Hessian was
 *   positive definite at the estimate), else 0.
 */
typedef struct pd_fit_info {
  size_t size;
  int32_t model;
  int32_t converged;
  int32_t iterations;
  uint32_t n_params;
  double params[PD_FIT_MAX_PARAMS];
  double std_errors[PD_FIT_MAX_PARAMS];
  double log_likelihood;
  double n_customers;
  int32_t estimated;
  int32_t has_std_errors;
} pd_fit_info;

#define PD_FIT_INFO_INIT \
  { sizeof(pd_fit_info), 0, 0, 0, 0, {0}, {0}, 0.0, 0.0, 0, 0 }

/**
 * pd_fit_new - create an empty fit.
 *
 * `opts` may be NULL for the defaults. On success writes a new handle to
 * *out; release it with pd_fit_free().
 *
 * Errors: PD_E_INVALID (out NULL, bad size, allocator with a NULL function,
 * max_iterations < 1, tolerance not finite and > 0, threads outside 0..64),
 * PD_E_NOMEM. Thread safety: safe from any thread.
 */
PD_API pd_status pd_fit_new(const pd_fit_options *opts, pd_fit **out);

/**
 * pd_fit_free - release a fit and everything it owns. NULL is a no-op; a
 * pointer that is not a live fit is ignored where detectable.
 */
PD_API void pd_fit_free(pd_fit *fit);

/**
 * pd_fit_errmsg - English message describing the last failure on `fit`
 * (empty after a success).
 *
 * The string is owned by the fit and valid until the next call on it.
 * Returns a static message for NULL or a handle that is not a live fit.
 */
PD_API const char *pd_fit_errmsg(const pd_fit *fit);

/**
 * pd_fit_estimate - maximum-likelihood estimate of `model` from customer
 * summaries.
 *
 * Maximises the (weighted) log-likelihood over the logarithms of the
 * parameters with BFGS and analytic gradients, then computes standard
 * errors from the Hessian. Data rules (checked first; the message names the
 * first bad row): n >= 1; x, t_x and T non-NULL; every value finite; x a
 * whole number >= 0; 0 <= t_x <= T; T >= 0, and T > 0 when x > 0; weight >= 0 with a positive
 * total. Gamma-Gamma additionally needs monetary (> 0 for rows with x > 0)
 * and BG/BB whole-number t_x and T. Models supported here: BG/NBD,
 * MBG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB; sBG takes survivor counts
 * instead (see its own entry point).
 *
 * Errors: PD_E_MISUSE (fit not a live handle), PD_E_INVALID (data NULL or
 * too small a size, a NULL array, unknown or unsupported model, empty data,
 * a non-whole x), PD_E_RANGE (a NaN/infinite value, a negative count or
 * weight, t_x > T, T <= 0, zero total weight), PD_E_NOMEM, PD_E_NUMERIC
 * (the likelihood is not finite at the starting point, or a parameter ran
 * to 0 or infinity), PD_E_NO_CONVERGENCE (iteration limit reached, or no
 * further descent possible away from a stationary point: the fit then
 * holds the last iterate with converged = 0 and no standard errors). After
 * any other failure the fit is unchanged (except its message). When the
 * estimate converges but the Hessian is not positive definite (a parameter
 * drifting to a boundary), the call succeeds with has_std_errors = 0.
 *
 * Identical rows are merged internally when n <= 2^20 (about 48 bytes per
 * row for the duration of the call); larger inputs are read in place with
 * no per-row copy. Each optimiser iteration costs time linear in the
 * number of distinct rows. From 2^19 distinct rows on, the model is first
 * fitted to an evenly strided sample of about 65,536 of them, and that
 * fit's optimum and curvature start the full fit, which then needs a few
 * passes over the data instead of tens (iterations reports the full
 * fit's; the sample adds about 40 bytes per sampled row for the call).
 * The work is spread over pd_fit_options.threads threads.
 *
 * Thread safety: must not run concurrently with other calls on the same
 * fit.
 */
PD_API pd_status pd_fit_estimate(pd_fit *fit, int32_t model,
                                 const pd_customer_data *data);

/**
 * pd_fit_set_params - give the fit known parameters of `model` (for
 * predicting without estimating). `params` holds n values in the order of
 * pd_model_param_name; n must equal pd_model_param_count(model). Each value
 * must be finite and > 0. Clears log-likelihood, standard errors and
 * iteration count.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (unknown model, params NULL, wrong n),
 * PD_E_RANGE (a value not finite or <= 0). The fit is unchanged on error.
 */
PD_API pd_status pd_fit_set_params(pd_fit *fit, int32_t model,
                                   const double *params, size_t n);

/**
 * pd_fit_get - copy what the fit holds into *out (see pd_fit_info).
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL or out->size too small).
 * Works on an empty fit (model 0).
 */
PD_API pd_status pd_fit_get(const pd_fit *fit, pd_fit_info *out);

/**
 * pd_predict_expected_purchases - for each customer i of `data`, the
 * expected number of repeat purchase periods in the next `horizon` time
 * units after T[i], given the customer's history (x, t_x, T):
 *   BG/NBD  — Fader, Hardie & Lee (2005) eq. 10;
 *   MBG/NBD — Batislam et al. (2007), the same form with the posterior
 *             Beta(a, b + x + 1);
 *   Pareto/NBD — Schmittlein et al. (1987), Fader & Hardie (2005 note)
 *             eq. 14 (for s = 1 the limit (r+x)(β+T)/(α+T) log(1+t/(β+T))
 *             times P(alive)).
 *   BG/BB   — Fader, Hardie & Shang (2010) eq. 13: the expected number of
 *             transactions in the next `horizon` opportunities n+1 ..
 *             n+horizon (horizon a whole number of opportunities, at most
 *             1e9), for the history (x, t_x, n = T[i]).
 * Writes data->n values to out (caller-owned, length >= data->n).
 * monetary and weight are ignored. horizon >= 0 and finite (0 gives 0).
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (no parameters set, a model without
 * this prediction, NULL data/out/arrays, n = 0, bad size), PD_E_RANGE (the
 * data rules of pd_fit_estimate, horizon negative or not finite; for
 * BG/BB a horizon that is not a whole number, or a row that is not a
 * possible history), PD_E_NUMERIC (a series failed to converge; the
 * message names the customer). Every argument and data check happens
 * before the first write, so out is untouched after PD_E_MISUSE,
 * PD_E_INVALID and PD_E_RANGE; after PD_E_NUMERIC (found part-way through
 * the customers) the contents of out are unspecified. Thread safety: see
 * the top of this header.
 */
PD_API pd_status pd_predict_expected_purchases(pd_fit *fit,
                                               const pd_customer_data *data,
                                               double horizon, double *out);

/**
 * pd_predict_p_alive - for each customer, the probability that the customer
 * is still active at T given (x, t_x, T):
 *   BG/NBD  — 1 / (1 + [x > 0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x));
 *   MBG/NBD — 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x));
 *   Pareto/NBD — the ratio of the "alive at T" term of the likelihood to
 *             the likelihood (Fader & Hardie 2005 note, eq. 11).
 *   BG/BB   — the probability of being alive at opportunity n = T[i]
 *             (still alive after the last of the n opportunities observed,
 *             as the lifetimes tool reports it): the "alive through all n
 *             opportunities" term's share of the likelihood. Fader, Hardie
 *             & Shang's P(alive at n+1) is this times E[1 − θ | history].
 * Writes data->n probabilities in [0, 1] to out.
 *
 * Errors as pd_predict_expected_purchases.
 */
PD_API pd_status pd_predict_p_alive(pd_fit *fit, const pd_customer_data *data,
                                    double *out);

/**
 * pd_predict_unconditional_purchases - expected number of repeat purchase
 * periods in (0, t] for a customer just acquired at time 0 (no history):
 *   BG/NBD  — (a+b-1)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]
 *             (Fader, Hardie & Lee 2005 eq. 9; evaluated in a form that
 *             stays finite at a = 1);
 *   MBG/NBD — b/(a-1) [1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))];
 *   Pareto/NBD — rβ/(α(s-1)) [1 - (β/(β+t))^(s-1)] (s = 1: (rβ/α)
 *             log(1 + t/β)).
 * Writes one value to *out. t >= 0 and finite.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (no parameters, unsupported model, out
 * NULL), PD_E_RANGE (t negative or not finite), PD_E_NUMERIC.
 */
PD_API pd_status pd_predict_unconditional_purchases(pd_fit *fit, double t,
                                                    double *out);

/**
 * pd_predict_p_purchases - P(X(t) = n): the probability that a customer just
 * acquired at time 0 makes exactly n repeat purchases in (0, t]:
 *   BG/NBD  — Fader, Hardie & Lee (2005) eq. 8;
 *   MBG/NBD — a/(a+b) [n = 0] + b/(a+b) P_BG/NBD(n; r, α, a, b+1);
 *   Pareto/NBD — NBD(n; t) (β/(β+t))^s + ∫_0^t NBD(n; τ) g(τ) dτ with g
 *             the Pareto(s, β) dropout density, the integral by adaptive
 *             quadrature (relative accuracy about 1e-12).
 * Writes one probability to *out. t >= 0 and finite.
 *
 * Errors as pd_predict_unconditional_purchases.
 */
PD_API pd_status pd_predict_p_purchases(pd_fit *fit, uint32_t n, double t,
                                        double *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_FIT_H */
