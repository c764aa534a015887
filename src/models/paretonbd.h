/* Pareto/NBD internals shared with tests. */
#ifndef PD_MODELS_PARETONBD_H
#define PD_MODELS_PARETONBD_H

/* One customer's log-likelihood at natural parameters (r, α, s, β). */
double pd_paretonbd_loglik1(const double *p, double x, double t_x, double T);

#endif
