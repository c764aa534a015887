/* The pd_fit handle's layout and the estimation driver, for model files
 * that add their own public entry points on the same handle (for example
 * pd_fit_estimate_sbg, which takes survivor counts instead of customer
 * summaries). */
#ifndef PD_MODELS_FIT_INTERNAL_H
#define PD_MODELS_FIT_INTERNAL_H

#include <stdint.h>

#include <privdomain/alloc.h>
#include <privdomain/fit.h>

#include "core/error.h"
#include "models/model.h"

#define PD_FIT_MAGIC 0x50444649u  /* "PDFI" while live */
#define PD_FIT_DEAD 0xDEADF17Eu   /* after pd_fit_free */

struct pd_fit {
  uint32_t magic;
  pd_allocator alloc;
  int32_t max_iterations;
  double tolerance;
  int32_t threads;

  int32_t model; /* 0: none yet */
  uint32_t n_params;
  double params[PD_FIT_MAX_PARAMS];
  double std_errors[PD_FIT_MAX_PARAMS];
  double log_likelihood;
  double n_customers;
  int32_t iterations;
  int32_t converged;
  int32_t estimated;
  int32_t has_std_errors;

  pd_errbuf err;
};

/* 1 when `fit` looks like a live handle. */
int pd_fit_is_live(const pd_fit *fit);

/* Validates `in` with def->validate, allocates the workspace, optimises,
 * computes standard errors and stores the result in `fit` (the whole
 * contract of pd_fit_estimate after the handle check: fit unchanged on
 * failure except PD_E_NO_CONVERGENCE, which stores the last iterate). */
pd_status pd_fit_run(pd_fit *fit, const pd_model_def *def, pd_model_input *in);

/* For prediction entry points: checks the handle (PD_E_MISUSE) and that it
 * holds parameters (PD_E_INVALID), recording the message on the fit, and
 * returns the model's definition (NULL if that kind is not built into the
 * table; its parameters are then still in fit->params). */
pd_status pd_fit_current_model(pd_fit *fit, const pd_model_def **def);

#endif
