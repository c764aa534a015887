/* The internal model table: what fit.c needs from each probability model.
 *
 * HOW TO ADD A MODEL (one file, three one-line edits):
 *   1. In src/models/<name>.c define `const pd_model_def pd_model_<name> =
 *      { … };` filling the fields below (NULL for predictions the model does
 *      not offer).
 *   2. Declare it at the end of this file:
 *      `extern const pd_model_def pd_model_<name>;`
 *   3. Add `[PD_MODEL_<NAME>] = &pd_model_<name>,` to `model_table` in
 *      src/models/fit.c (and the .c file to src/models/meson.build).
 * The public names and parameter names of every kind live in fit.c's
 * `model_meta` already, so pd_model_name() works before a model is built.
 *
 * Conventions every entry follows:
 * - Parameters are stored in the order of pd_model_param_name; the
 *   optimiser works on their logarithms (`logp`), so positivity needs no
 *   constraint.
 * - negll returns the weighted SUM over rows of minus the log-likelihood
 *   and writes its gradient with respect to logp; it returns a non-finite
 *   value where undefined (the line search then backs off). It must not
 *   allocate: scratch it needs is requested by `workspace` and handed in as
 *   `in->work` (allocated once per estimate through the fit's allocator).
 * - validate checks the rows (message names the first bad index, through
 *   pd_err) and sets in->total_weight. pd_model_check_customers below does
 *   the common checks.
 * - Predictions take natural-scale parameters and validated data; they
 *   return PD_OK or PD_E_NUMERIC with a message. */
#ifndef PD_MODELS_MODEL_H
#define PD_MODELS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/fit.h>
#include <privdomain/status.h>

#include "core/error.h"

/* What a model is estimated from. Customer models read `customers`; the sBG
 * reads the survivor series instead (customers NULL). */
typedef struct pd_model_input {
  const pd_customer_data *customers;
  const double *survivors; /* sBG: survivors[0..n_survivors-1] */
  size_t n_survivors;
  double total_weight;     /* set by validate */
  void *work;              /* workspace() bytes, or NULL */
  size_t work_size;
  /* The fit's thread option (0: one per processor): sums over rows go
   * through row_blocks.h, so the result does not depend on it. */
  int32_t threads;
} pd_model_input;

typedef struct pd_model_def {
  int32_t kind;             /* PD_MODEL_* */
  const char *name;         /* as pd_model_name(kind) */
  uint32_t n_params;
  const char *const *param_names;

  pd_status (*validate)(pd_model_input *in, pd_errbuf *err);
  /* Bytes of scratch negll needs for this input (may be NULL: none). */
  size_t (*workspace)(const pd_model_input *in);
  /* Optional: fill in->work from the data once before the optimisation
   * (parameter-free precomputation). */
  void (*prepare)(pd_model_input *in);
  /* A starting point (log-parameters) from which the optimiser converges. */
  void (*start)(const pd_model_input *in, double *logp);
  double (*negll)(const pd_model_input *in, const double *logp, double *grad);
  /* Optional: negll with its analytic Hessian over logp (n_params^2,
   * row-major) for the standard errors; NULL: finite differences of the
   * gradient (2 n_params more evaluations). */
  double (*negll_hessian)(const pd_model_input *in, const double *logp,
                          double *grad, double *hess);

  /* Predictions; NULL when the model has none of that kind. */
  pd_status (*expected_purchases)(const double *params,
                                  const pd_customer_data *d, double horizon,
                                  double *out, pd_errbuf *err);
  pd_status (*p_alive)(const double *params, const pd_customer_data *d,
                       double *out, pd_errbuf *err);
  pd_status (*unconditional_purchases)(const double *params, double t,
                                       double *out, pd_errbuf *err);
  pd_status (*p_purchases)(const double *params, uint32_t n, double t,
                           double *out, pd_errbuf *err);
  /* Optional: row rules of the per-customer predictions beyond
   * pd_model_check_customers, run over all rows before the rows are cut
   * into blocks, so a bad row is reported before any output is written. */
  pd_status (*check_rows)(const pd_customer_data *d, pd_errbuf *err);
} pd_model_def;

/* Common rules for customer summaries: the struct size, non-NULL x/t_x/T,
 * n >= 1, finite values, x >= 0 (a whole number when whole_x), 0 <= t_x <=
 * T, T > 0, weight >= 0. Writes the total weight to *total_weight (may be
 * NULL). Does not reject a zero total: estimation does that. */
pd_status pd_model_check_customers(const pd_customer_data *d, int whole_x,
                                   pd_errbuf *err, double *total_weight);

/* Estimation merges identical rows (same x, t_x, T and monetary; t_x
 * taken as 0 when x = 0) into one weighted row before the optimisation, so
 * repeated summaries cost once per iteration, however many rows the
 * input has. The scratch holds at most PD_MODEL_PACK_MAX distinct rows (so
 * its memory stays bounded for inputs of tens of millions of rows); rows
 * of weight 0 are dropped. pd_model_pack_bytes gives the scratch size and
 * pd_model_pack fills it, pointing *out's arrays into `mem`, and returns
 * 0; it returns -1 when the input has more distinct rows than that, and
 * the input is then used as given. */
#define PD_MODEL_PACK_MAX ((size_t)1 << 20)
size_t pd_model_pack_bytes(const pd_customer_data *d);
int pd_model_pack(const pd_customer_data *d, void *mem, pd_customer_data *out);

/* The weight of row i (1 when the data carry none). */
static inline double pd_model_weight(const pd_customer_data *d, size_t i) {
  return d->weight ? d->weight[i] : 1.0;
}

/* Rows [off, off+len) of d as customer data of their own. */
static inline pd_customer_data pd_model_rows(const pd_customer_data *d,
                                             size_t off, size_t len) {
  pd_customer_data v = *d;
  v.n = len;
  v.x = d->x + off;
  v.t_x = d->t_x + off;
  v.T = d->T + off;
  v.monetary = d->monetary ? d->monetary + off : NULL;
  v.weight = d->weight ? d->weight + off : NULL;
  return v;
}

/* The entry for a kind, or NULL when unknown or not built. */
const pd_model_def *pd_model_lookup(int32_t kind);

extern const pd_model_def pd_model_bgnbd;
extern const pd_model_def pd_model_mbgnbd;
extern const pd_model_def pd_model_paretonbd;
extern const pd_model_def pd_model_gammagamma;
extern const pd_model_def pd_model_bgbb;
extern const pd_model_def pd_model_sbg;

#endif
