/*
 * libprivdomain — Kaplan–Meier survival of links (how long a customer stays
 * linked to the brand's WeChat, WeCom, mini-program … before unlinking),
 * with right-censoring: a link still alive at the end of observation is
 * censored at its observed duration.
 *
 * Definitions (binding for every function below):
 * - At each distinct time t with at least one event: n(t) = total weight of
 *   durations >= t (at risk), d(t) = total weight of events at t, and
 *   S(t) = prod over event times u <= t of (1 - d(u) / n(u)). A censoring at
 *   the same time as an event counts as still at risk at that time.
 * - Greenwood variance: Var[log S(t)] = sum over u <= t of
 *   d(u) / (n(u) (n(u) - d(u))). With weights the same sums of weights are
 *   used (a common approximation; exact for integer frequency weights).
 * - Confidence band: pointwise, on the log-log scale (Kalbfleisch &
 *   Prentice; as R's survfit conf.type = "log-log"):
 *   lower = S^exp(+z se), upper = S^exp(-z se), se = sqrt(Var[log S]) /
 *   |log S|, z the standard normal quantile of (1 + confidence) / 2. Where
 *   S = 1 the band is [1, 1]; where S = 0 it is [0, 0].
 * - Median survival: the first event time with S(t) <= 0.5.
 *
 * A pd_km handle holds the allocator, the last estimate and the last error
 * message. Not thread-safe: one thread per handle at a time; distinct
 * handles are independent.
 */
#ifndef PRIVDOMAIN_SURVIVAL_H
#define PRIVDOMAIN_SURVIVAL_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "export.h"
#include "status.h"

PD_BEGIN_DECLS

/** A Kaplan–Meier estimator. Opaque; pd_km_new() / pd_km_free(). */
typedef struct pd_km pd_km;

/** Options for pd_km_new(). Initialise with PD_KM_OPTIONS_INIT. A larger
 *  size from a newer caller is accepted when the unknown tail is zero. */
typedef struct pd_km_options {
  /** sizeof(pd_km_options) as the caller compiled it. */
  size_t size;
  /** Allocator for everything the handle allocates; NULL = malloc/free. */
  const pd_allocator *allocator;
  /** Confidence level of the band, in (0, 1); default 0.95. */
  double confidence;
} pd_km_options;

#define PD_KM_OPTIONS_INIT {sizeof(pd_km_options), NULL, 0.95}

/** The estimated step function: n rows, one per distinct event time in
 *  increasing order. Every pointer is owned by the handle and valid until
 *  the next pd_km_estimate() or pd_km_free() on it. */
typedef struct pd_km_curve {
  /** sizeof(pd_km_curve) as the caller compiled it (set before the call). */
  size_t size;
  size_t n;
  const double *time;     /**< distinct event times, in the input's unit */
  const double *at_risk;  /**< n(t): weight of durations >= t */
  const double *events;   /**< d(t): weight of events at t */
  const double *censored; /**< weight censored in [t, next event time) */
  const double *survival; /**< S(t), right after the events at t */
  const double *lower;    /**< lower end of the log-log band */
  const double *upper;    /**< upper end of the log-log band */
} pd_km_curve;

#define PD_KM_CURVE_INIT {sizeof(pd_km_curve), 0, NULL, NULL, NULL, NULL, \
                          NULL, NULL, NULL}

/**
 * pd_km_new - create an estimator.
 *
 * Errors: PD_E_INVALID (out NULL, bad opts->size, incomplete allocator,
 * confidence not in (0, 1)), PD_E_NOMEM. Thread safety: any thread.
 */
PD_API pd_status pd_km_new(const pd_km_options *opts, pd_km **out);

/** pd_km_free - release the estimator; NULL is a no-op. */
PD_API void pd_km_free(pd_km *km);

/** pd_km_errmsg - message of the last error on km ("" after success);
 *  owned by the handle, never NULL. */
PD_API const char *pd_km_errmsg(const pd_km *km);

/**
 * pd_km_estimate - estimate S(t) from n observed durations.
 *
 * @durations: n durations (any time unit, e.g. days), finite and >= 0.
 * @events: n flags: 1 = the link ended (unlinked) at that duration, 0 =
 *          censored (still linked when observation stopped).
 * @weights: n frequency weights, finite and >= 0, or NULL for 1 each.
 *
 * Replaces the previous estimate. With no events at all the curve has no
 * rows (S = 1 throughout). -0 durations read as 0.
 * Cost: linear in n (a radix sort); working memory 16 bytes per
 * observation, 32 with weights, freed before it returns. Durations
 * already in ascending order are taken as they come, with no working
 * memory.
 * Errors: PD_E_MISUSE (km NULL), PD_E_INVALID (durations or events NULL,
 * n = 0, an event flag other than 0/1, all weights 0), PD_E_RANGE (a
 * duration or weight negative, NaN or infinite; the message gives its
 * index), PD_E_NOMEM. On error the previous estimate is kept.
 */
PD_API pd_status pd_km_estimate(pd_km *km, const double *durations,
                                const int32_t *events, const double *weights,
                                size_t n);

/**
 * pd_km_get_curve - the current estimate.
 *
 * @out: set out->size = sizeof(pd_km_curve) (PD_KM_CURVE_INIT) first.
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL or out->size too small, or
 * nothing estimated yet).
 */
PD_API pd_status pd_km_get_curve(const pd_km *km, pd_km_curve *out);

/**
 * pd_km_survival_at - S(t) of the current estimate at time t (a right-
 * continuous step: the events at t are included).
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL, or nothing estimated yet),
 * PD_E_RANGE (t NaN or negative).
 */
PD_API pd_status pd_km_survival_at(const pd_km *km, double t, double *out);

/**
 * pd_km_median - the median survival time: the first event time at which
 * S(t) <= 0.5.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL, or nothing estimated yet),
 * PD_E_NOT_FOUND (the median is not reached: S stays above 0.5 up to the
 * last event time). *out is written only on PD_OK.
 */
PD_API pd_status pd_km_median(const pd_km *km, double *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_SURVIVAL_H */
