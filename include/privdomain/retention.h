/*
 * libprivdomain — contractual retention: the shifted-beta-geometric (sBG)
 * model of Fader & Hardie (2007), "How to Project Customer Retention".
 *
 * A cohort is acquired in period 0 (for example a month's new WeChat
 * friends, or new members of a paid membership) and counted again at the
 * end of each later period: survivors[0] >= survivors[1] >= ... >=
 * survivors[k]. Each member leaves at the end of any period with a
 * personal probability θ that stays fixed over time, and θ varies across
 * members as Beta(alpha, beta). The fit therefore expects retention rates
 * to rise with tenure, as the less loyal leave first.
 *
 * Definitions (periods t = 1, 2, ... counted from acquisition):
 *   S(t) = P(still a member after t periods) = B(alpha, beta + t) /
 *          B(alpha, beta), S(0) = 1;
 *   r(t) = S(t) / S(t − 1) = (beta + t − 1) / (alpha + beta + t − 1), the
 *          share of period t − 1's members who renew into period t;
 *   projected members in period t = initial × S(t), in the units of
 *          `initial` (counts in, counts out).
 *
 * The fit is a pd_fit (fit.h) holding model PD_MODEL_SBG with parameters
 * "alpha", "beta"; pd_fit_get() reports them with standard errors and the
 * log-likelihood. The functions below other than pd_fit_estimate_sbg need
 * a fit holding PD_MODEL_SBG (estimated, or set with pd_fit_set_params).
 *
 * Thread safety: as for every pd_fit (see fit.h) — the projections only
 * read the fit; pd_fit_estimate_sbg must not run concurrently with other
 * calls on the same fit.
 */
#ifndef PRIVDOMAIN_RETENTION_H
#define PRIVDOMAIN_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "fit.h"
#include "status.h"

PD_BEGIN_DECLS

/**
 * pd_fit_estimate_sbg - maximum-likelihood sBG fit from a cohort's
 * survivor counts.
 *
 * survivors[0] is the cohort size at acquisition (> 0), survivors[t] the
 * number still members after t periods, for t = 1 .. k_plus_1 − 1; values
 * are finite, >= 0 and never increase. They need not be whole numbers
 * (shares or percentages work: only proportions matter, but standard
 * errors scale with the counts). The log-likelihood is
 *   Σ_{t=1..k} (survivors[t−1] − survivors[t]) log P(T = t)
 *   + survivors[k] log S(k),  P(T = t) = B(alpha+1, beta+t−1)/B(alpha, beta).
 * On success the fit holds PD_MODEL_SBG with n_customers = survivors[0].
 *
 * Errors: PD_E_MISUSE (fit not a live handle), PD_E_INVALID (survivors
 * NULL, k_plus_1 < 2), PD_E_RANGE (a value NaN, infinite or negative, a
 * count above the one before it, survivors[0] = 0), PD_E_NUMERIC (a
 * parameter runs to 0 or infinity, as when nobody or everybody leaves),
 * PD_E_NO_CONVERGENCE (as pd_fit_estimate), PD_E_NOMEM. The message is on
 * the fit (pd_fit_errmsg). The fit is unchanged on failure except after
 * PD_E_NO_CONVERGENCE.
 */
PD_API pd_status pd_fit_estimate_sbg(pd_fit *fit, const double *survivors,
                                     size_t k_plus_1);

/**
 * pd_retention_survival - S(1), S(2), ..., S(periods) into out[0 ..
 * periods−1] (caller-owned): the probability that a member acquired in
 * period 0 is still one after t periods. periods = 0 writes nothing.
 *
 * Errors: PD_E_MISUSE (not a live fit), PD_E_INVALID (the fit holds no
 * parameters or a model other than sbg, out NULL). out is written only on
 * success.
 */
PD_API pd_status pd_retention_survival(pd_fit *fit, size_t periods,
                                       double *out);

/**
 * pd_retention_rate - the retention rates r(1), ..., r(periods) into
 * out[0 .. periods−1]: r(t) is the share of the members of period t − 1
 * who are still members in period t.
 *
 * Errors as pd_retention_survival.
 */
PD_API pd_status pd_retention_rate(pd_fit *fit, size_t periods, double *out);

/**
 * pd_retention_project - projected cohort sizes: out[i] = initial ×
 * S(first_period + i) for i = 0 .. count−1, in the units of `initial`.
 * To extend observed counts survivors[0..k] by H periods pass initial =
 * survivors[0], first_period = k + 1, count = H.
 *
 * Errors as pd_retention_survival, plus PD_E_RANGE (initial NaN, infinite
 * or negative).
 */
PD_API pd_status pd_retention_project(pd_fit *fit, double initial,
                                      size_t first_period, size_t count,
                                      double *out);

/**
 * pd_retention_derl - discounted expected residual lifetime, in periods,
 * of a member who has renewed `renewals` times (so is now in period
 * renewals + 1, just before the next renewal decision), at discount rate
 * discount_rate per period (e.g. 0.1 for 10%):
 *   DERL = Σ_{j>=0} S(n + j) / S(n − 1) / (1 + d)^j,  n = renewals + 1,
 *        = (beta+n−1)/(alpha+beta+n−1) · 2F1(1, beta+n; alpha+beta+n;
 *          1/(1+d))
 * (Fader & Hardie 2010, "Customer-Base Valuation in a Contractual
 * Setting"): the next renewal's payment counts undiscounted. Multiply by
 * the margin per period to value the member; renewals = 0 values a member
 * just acquired (before the first renewal).
 *
 * Errors as pd_retention_survival, plus PD_E_RANGE (discount_rate not
 * finite or <= 0) and PD_E_NUMERIC (the hypergeometric series failed).
 * *out is written only on success.
 */
PD_API pd_status pd_retention_derl(pd_fit *fit, double discount_rate,
                                   uint32_t renewals, double *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_RETENTION_H */
