/* Unconstrained minimisation by BFGS (quasi-Newton) with a line search
 * satisfying the Wolfe conditions. Models minimise the negative
 * log-likelihood over log-parameters, so positivity needs no constraint.
 * Reentrant: all state lives in the caller's arrays and `a`. */
#ifndef PD_MODELS_OPTIM_H
#define PD_MODELS_OPTIM_H

#include <stddef.h>

#include <privdomain/alloc.h>
#include <privdomain/status.h>

/* Objective: returns f(x) and, when grad != NULL, writes the gradient.
 * Returns a non-finite value where f is undefined; the line search then
 * backs off. */
typedef double (*pd_objective_fn)(void *ctx, const double *x, double *grad);

typedef struct pd_optim_options {
  int max_iterations; /* default 500 */
  double gtol;        /* stop when max |grad_i| <= gtol; default 1e-8 */
  double ftol;        /* stop on relative f change <= ftol; default 1e-14 */
  /* Optional starting inverse Hessian (n*n, row-major, symmetric positive
   * definite; e.g. from a fit on a sample), NULL: the identity. A good one
   * makes the first steps Newton steps. */
  const double *h0;
} pd_optim_options;

#define PD_OPTIM_OPTIONS_DEFAULT {500, 1e-8, 1e-14, NULL}

typedef struct pd_optim_result {
  double f;        /* objective at the returned x */
  int iterations;
  int converged;   /* 1 when a stopping test was met */
} pd_optim_result;

/* Minimise f from x[0..n-1] (overwritten by the minimiser). Returns PD_OK,
 * PD_E_NO_CONVERGENCE (x holds the last iterate), PD_E_NUMERIC (f or its
 * gradient is not finite at the start), PD_E_NOMEM or PD_E_INVALID. */
pd_status pd_optim_bfgs(const pd_allocator *a, size_t n, double *x,
                        pd_objective_fn f, void *ctx,
                        const pd_optim_options *opts, pd_optim_result *out);

/* Hessian of f at x by central differences of the analytic gradient,
 * symmetrised; hess is n*n row-major. Returns PD_OK, PD_E_NUMERIC or
 * PD_E_NOMEM. */
pd_status pd_optim_hessian(const pd_allocator *a, size_t n, const double *x,
                           pd_objective_fn f, void *ctx, double *hess);

/* Inverts the symmetric positive-definite n*n matrix m in place
 * (Cholesky). Returns PD_OK or PD_E_NUMERIC if not positive definite. */
pd_status pd_optim_spd_inverse(const pd_allocator *a, size_t n, double *m);

#endif
