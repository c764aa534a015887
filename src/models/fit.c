/* The pd_fit handle: model names, options, estimation through the model
 * table (BFGS over log-parameters, then standard errors from the Hessian)
 * and dispatch of predictions. */
#include <math.h>
#include <string.h>

#include <privdomain/fit.h>

#include "core/alloc.h"
#include "core/error.h"
#include "models/fit_internal.h"
#include "models/model.h"
#include "models/optim.h"
#include "models/row_blocks.h"

/* Names are part of the API (files, CLI, bindings), so they live here for
 * every kind even before its model file is built. */
typedef struct model_meta {
  const char *name;
  uint32_t n_params;
  const char *params[4];
} model_meta;

static const model_meta meta[] = {
    [PD_MODEL_BGNBD] = {"bgnbd", 4, {"r", "alpha", "a", "b"}},
    [PD_MODEL_MBGNBD] = {"mbgnbd", 4, {"r", "alpha", "a", "b"}},
    [PD_MODEL_PARETONBD] = {"paretonbd", 4, {"r", "alpha", "s", "beta"}},
    [PD_MODEL_GAMMAGAMMA] = {"gammagamma", 3, {"p", "q", "gamma", NULL}},
    [PD_MODEL_BGBB] = {"bgbb", 4, {"alpha", "beta", "gamma", "delta"}},
    [PD_MODEL_SBG] = {"sbg", 2, {"alpha", "beta", NULL, NULL}},
};
#define N_KINDS ((int32_t)(sizeof meta / sizeof meta[0]))

/* One line per model built into the library (see model.h). */
static const pd_model_def *const model_table[] = {
    [PD_MODEL_BGNBD] = &pd_model_bgnbd,
    [PD_MODEL_MBGNBD] = &pd_model_mbgnbd,
    [PD_MODEL_PARETONBD] = &pd_model_paretonbd,
    [PD_MODEL_GAMMAGAMMA] = &pd_model_gammagamma,
    [PD_MODEL_BGBB] = &pd_model_bgbb,
    [PD_MODEL_SBG] = &pd_model_sbg,
};
#define N_TABLE ((int32_t)(sizeof model_table / sizeof model_table[0]))

static const model_meta *meta_of(int32_t model) {
  if (model <= 0 || model >= N_KINDS || !meta[model].name) return NULL;
  return &meta[model];
}

const pd_model_def *pd_model_lookup(int32_t kind) {
  if (kind <= 0 || kind >= N_TABLE) return NULL;
  return model_table[kind];
}

const char *pd_model_name(int32_t model) {
  const model_meta *m = meta_of(model);
  return m ? m->name : NULL;
}

int32_t pd_model_from_name(const char *name) {
  if (!name) return 0;
  for (int32_t k = 1; k < N_KINDS; k++)
    if (meta[k].name && strcmp(meta[k].name, name) == 0) return k;
  return 0;
}

uint32_t pd_model_param_count(int32_t model) {
  const model_meta *m = meta_of(model);
  return m ? m->n_params : 0;
}

const char *pd_model_param_name(int32_t model, uint32_t index) {
  const model_meta *m = meta_of(model);
  if (!m || index >= m->n_params) return NULL;
  return m->params[index];
}

/* ---- the handle ---------------------------------------------------- */

int pd_fit_is_live(const pd_fit *fit) {
  return fit != NULL && fit->magic == PD_FIT_MAGIC;
}

/* Accepts a caller struct of `size` bytes whose known part is `known`
 * bytes: too small is an error, extra bytes must be zero. */
static int size_ok(const void *p, size_t size, size_t known) {
  if (size < known) return 0;
  const unsigned char *extra = (const unsigned char *)p + known;
  for (size_t i = 0; i < size - known; i++)
    if (extra[i]) return 0;
  return 1;
}

pd_status pd_fit_new(const pd_fit_options *opts, pd_fit **out) {
  if (!out) return PD_E_INVALID;
  pd_fit_options o = PD_FIT_OPTIONS_INIT;
  if (opts) {
    if (!size_ok(opts, opts->size, sizeof *opts)) return PD_E_INVALID;
    o = *opts;
  }
  if (o.max_iterations < 1 || !(o.tolerance > 0.0) || !isfinite(o.tolerance) ||
      o.threads < 0 || o.threads > 64)
    return PD_E_INVALID;
  pd_allocator alloc;
  if (pd_alloc_init(&alloc, o.allocator) != 0) return PD_E_INVALID;
  pd_fit *fit = pd_malloc(&alloc, sizeof *fit);
  if (!fit) return PD_E_NOMEM;
  memset(fit, 0, sizeof *fit);
  fit->magic = PD_FIT_MAGIC;
  fit->alloc = alloc;
  fit->max_iterations = o.max_iterations;
  fit->tolerance = o.tolerance;
  fit->threads = o.threads;
  pd_err_clear(&fit->err);
  *out = fit;
  return PD_OK;
}

void pd_fit_free(pd_fit *fit) {
  if (!pd_fit_is_live(fit)) return;
  pd_allocator a = fit->alloc;
  fit->magic = PD_FIT_DEAD;
  pd_free(&a, fit);
}

const char *pd_fit_errmsg(const pd_fit *fit) {
  if (!fit) return "fit handle is NULL";
  if (!pd_fit_is_live(fit)) return "not a live pd_fit handle (freed or foreign)";
  return fit->err.msg;
}

/* ---- estimation ---------------------------------------------------- */

/* The optimiser minimises the mean (not total) negative log-likelihood so
 * its gradient tolerance means the same for 100 customers as for 10M. */
typedef struct objective_ctx {
  const pd_model_def *def;
  const pd_model_input *in;
  double inv_weight;
} objective_ctx;

static double mean_negll(void *vctx, const double *logp, double *grad) {
  const objective_ctx *c = vctx;
  double v = c->def->negll(c->in, logp, grad);
  if (grad)
    for (uint32_t i = 0; i < c->def->n_params; i++) grad[i] *= c->inv_weight;
  return v * c->inv_weight;
}

/* Inputs with at least this many (distinct) rows are first fitted on an
 * evenly strided sample of about PD_FIT_SAMPLE_ROWS rows: the sample's
 * optimum and inverse Hessian start the full fit a few Newton steps from
 * its optimum, so the full data is passed over a handful of times instead
 * of once per iteration from a cold start. */
#define PD_FIT_SAMPLE_MIN ((size_t)1 << 19)
#define PD_FIT_SAMPLE_ROWS ((size_t)1 << 16)

/* The inverse Hessian of the mean objective at logp into h0 (1 when
 * positive definite, 0 when not, or PD_E_NOMEM). */
static pd_status inverse_hessian(pd_fit *fit, const pd_model_def *def,
                                 const pd_model_input *in, double inv_weight,
                                 const double *logp, double *h0, int *ok) {
  uint32_t np = def->n_params;
  objective_ctx ctx = {def, in, inv_weight};
  pd_status hs;
  *ok = 0;
  if (def->negll_hessian) {
    double g[PD_FIT_MAX_PARAMS];
    double v = def->negll_hessian(in, logp, g, h0);
    hs = isfinite(v) ? PD_OK : PD_E_NUMERIC;
    for (uint32_t i = 0; i < np * np; i++) {
      h0[i] *= inv_weight;
      if (!isfinite(h0[i])) hs = PD_E_NUMERIC;
    }
  } else {
    hs = pd_optim_hessian(&fit->alloc, np, logp, mean_negll, &ctx, h0);
  }
  if (hs == PD_OK) hs = pd_optim_spd_inverse(&fit->alloc, np, h0);
  if (hs == PD_E_NOMEM) return hs;
  *ok = hs == PD_OK;
  return PD_OK;
}

/* Moves logp to the optimum of a strided sample of a large input and
 * writes that sample's inverse Hessian to h0 (*have_h0 = 1) when it
 * exists. Leaves logp alone when the input is small or the sample fit
 * fails (the full fit then starts cold). Fails only with PD_E_NOMEM. */
static pd_status warm_start(pd_fit *fit, const pd_model_def *def,
                            const pd_model_input *in, double *logp,
                            double *h0, int *have_h0) {
  *have_h0 = 0;
  const pd_customer_data *d = in->customers;
  if (!d || d->n < PD_FIT_SAMPLE_MIN) return PD_OK;
  size_t stride = d->n / PD_FIT_SAMPLE_ROWS, m = d->n / stride;
  size_t cols = 3 + (d->monetary != NULL) + (d->weight != NULL);
  double *mem = pd_malloc(&fit->alloc, m * cols * sizeof *mem);
  if (!mem)
    return pd_err(&fit->err, PD_E_NOMEM, "%s: out of memory for the sample",
                  def->name);
  pd_customer_data s = *d;
  double *x = mem, *tx = x + m, *T = tx + m, *next = T + m;
  double *mon = d->monetary ? next : NULL;
  double *w = d->weight ? (mon ? mon + m : next) : NULL;
  for (size_t j = 0; j < m; j++) {
    size_t i = j * stride;
    x[j] = d->x[i], tx[j] = d->t_x[i], T[j] = d->T[i];
    if (mon) mon[j] = d->monetary[i];
    if (w) w[j] = d->weight[i];
  }
  s.size = sizeof s, s.n = m, s.x = x, s.t_x = tx, s.T = T;
  s.monetary = mon, s.weight = w;
  pd_model_input sin = *in;
  sin.customers = &s;
  sin.work = NULL;
  /* The model's own total (Gamma-Gamma counts repeat buyers only), so the
   * sample's mean objective and curvature are on the full one's scale;
   * the rows passed the same rules already. */
  pd_errbuf ignored;
  double total = 0.0;
  if (def->validate(&sin, &ignored) == PD_OK) total = sin.total_weight;
  sin.work_size = def->workspace ? def->workspace(&sin) : 0;
  pd_status st = PD_OK;
  if (sin.work_size) {
    sin.work = pd_malloc(&fit->alloc, sin.work_size);
    if (!sin.work) {
      st = pd_err(&fit->err, PD_E_NOMEM, "%s: out of memory for the sample",
                  def->name);
      goto done;
    }
  }
  if (def->prepare) def->prepare(&sin);
  if (total > 0.0) {
    double lp[PD_FIT_MAX_PARAMS];
    memcpy(lp, logp, sizeof lp);
    objective_ctx ctx = {def, &sin, 1.0 / total};
    pd_optim_options oo = PD_OPTIM_OPTIONS_DEFAULT;
    oo.max_iterations = fit->max_iterations;
    /* The sample's optimum is only within its sampling error of the
     * full one: a loose tolerance is enough. */
    oo.gtol = fmax(fit->tolerance, 1e-6);
    pd_optim_result res = {0};
    pd_status os = pd_optim_bfgs(&fit->alloc, def->n_params, lp, mean_negll,
                                 &ctx, &oo, &res);
    if (os == PD_E_NOMEM) {
      st = pd_err(&fit->err, PD_E_NOMEM, "%s: out of memory in the optimiser",
                  def->name);
      goto done;
    }
    if (os == PD_OK) {
      st = inverse_hessian(fit, def, &sin, 1.0 / total, lp, h0, have_h0);
      if (st != PD_OK) {
        st = pd_err(&fit->err, PD_E_NOMEM,
                    "%s: out of memory computing the sample's curvature",
                    def->name);
        goto done;
      }
      memcpy(logp, lp, def->n_params * sizeof *lp);
    }
  }
done:
  pd_free(&fit->alloc, sin.work);
  pd_free(&fit->alloc, mem);
  return st;
}

pd_status pd_fit_run(pd_fit *fit, const pd_model_def *def, pd_model_input *in) {
  uint32_t np = def->n_params;
  in->threads = fit->threads;
  pd_status st = def->validate(in, &fit->err);
  if (st != PD_OK) return st;
  if (!(in->total_weight > 0.0) || !isfinite(in->total_weight))
    return pd_err(&fit->err, PD_E_RANGE,
                  "%s: the total weight of the data is %g; it must be > 0",
                  def->name, in->total_weight);

  /* Merge identical summaries first: the likelihood then costs once per
   * distinct row (validation above already saw every row). */
  void *pack = NULL;
  pd_customer_data packed;
  size_t pack_size = in->customers ? pd_model_pack_bytes(in->customers) : 0;
  if (pack_size) {
    pack = pd_malloc(&fit->alloc, pack_size);
    if (!pack)
      return pd_err(&fit->err, PD_E_NOMEM,
                    "%s: out of memory merging identical rows", def->name);
    if (pd_model_pack(in->customers, pack, &packed) == 0) {
      in->customers = &packed;
    } else { /* mostly distinct rows: packing would save nothing */
      pd_free(&fit->alloc, pack);
      pack = NULL;
    }
  }

  in->work = NULL;
  in->work_size = def->workspace ? def->workspace(in) : 0;
  if (in->work_size) {
    in->work = pd_malloc(&fit->alloc, in->work_size);
    if (!in->work) {
      pd_free(&fit->alloc, pack);
      return pd_err(&fit->err, PD_E_NOMEM, "%s: out of memory for the workspace",
                    def->name);
    }
  }
  if (def->prepare) def->prepare(in);

  double logp[PD_FIT_MAX_PARAMS] = {0};
  double hess[PD_FIT_MAX_PARAMS * PD_FIT_MAX_PARAMS];
  double h0[PD_FIT_MAX_PARAMS * PD_FIT_MAX_PARAMS];
  def->start(in, logp);
  int have_h0 = 0;
  st = warm_start(fit, def, in, logp, h0, &have_h0);
  if (st != PD_OK) goto done;
  objective_ctx ctx = {def, in, 1.0 / in->total_weight};
  pd_optim_options oo = PD_OPTIM_OPTIONS_DEFAULT;
  oo.max_iterations = fit->max_iterations;
  oo.gtol = fit->tolerance;
  oo.h0 = have_h0 ? h0 : NULL;
  pd_optim_result res = {0};
  st = pd_optim_bfgs(&fit->alloc, np, logp, mean_negll, &ctx, &oo, &res);
  if (st == PD_E_NOMEM) {
    pd_err(&fit->err, st, "%s: out of memory in the optimiser", def->name);
    goto done;
  }
  if (st == PD_E_NUMERIC || st == PD_E_INVALID) {
    pd_err(&fit->err, PD_E_NUMERIC,
           "%s: the log-likelihood is not finite at the starting point",
           def->name);
    st = PD_E_NUMERIC;
    goto done;
  }
  int converged = st == PD_OK;
  int has_se = 0;
  double se[PD_FIT_MAX_PARAMS] = {0};
  if (converged) {
    pd_status hs;
    if (def->negll_hessian) {
      double g[PD_FIT_MAX_PARAMS];
      double v = def->negll_hessian(in, logp, g, hess);
      hs = isfinite(v) ? PD_OK : PD_E_NUMERIC;
      for (uint32_t i = 0; i < np * np; i++) {
        hess[i] *= ctx.inv_weight; /* to the mean, as the optimiser's */
        if (!isfinite(hess[i])) hs = PD_E_NUMERIC;
      }
    } else {
      hs = pd_optim_hessian(&fit->alloc, np, logp, mean_negll, &ctx, hess);
    }
    if (hs == PD_OK) hs = pd_optim_spd_inverse(&fit->alloc, np, hess);
    if (hs == PD_E_NOMEM) {
      st = pd_err(&fit->err, PD_E_NOMEM,
                  "%s: out of memory computing standard errors", def->name);
      goto done;
    }
    if (hs == PD_OK) {
      /* Covariance of log-parameters = inverse Hessian of the total
       * negative log-likelihood = (W * mean Hessian)^-1; then the delta
       * method: se(θ) = θ se(log θ). */
      has_se = 1;
      for (uint32_t i = 0; i < np; i++) {
        double v = hess[i * np + i] * ctx.inv_weight;
        if (!(v >= 0.0) || !isfinite(v)) has_se = 0;
        else se[i] = exp(logp[i]) * sqrt(v);
      }
    }
  }
  double params[PD_FIT_MAX_PARAMS] = {0};
  for (uint32_t i = 0; i < np; i++) {
    params[i] = exp(logp[i]);
    if (!isfinite(params[i]) || params[i] <= 0.0) {
      st = pd_err(&fit->err, PD_E_NUMERIC,
                  "%s: parameter %s ran to %g; the data do not identify the "
                  "model",
                  def->name, def->param_names[i], params[i]);
      goto done;
    }
  }
  fit->model = def->kind;
  fit->n_params = np;
  memset(fit->params, 0, sizeof fit->params);
  memset(fit->std_errors, 0, sizeof fit->std_errors);
  memcpy(fit->params, params, np * sizeof *params);
  if (has_se) memcpy(fit->std_errors, se, np * sizeof *se);
  fit->has_std_errors = has_se;
  fit->log_likelihood = -res.f * in->total_weight;
  fit->n_customers = in->total_weight;
  fit->iterations = res.iterations;
  fit->converged = converged;
  fit->estimated = 1;
  if (converged) {
    pd_err_clear(&fit->err);
    st = PD_OK;
  } else {
    st = pd_err(&fit->err, PD_E_NO_CONVERGENCE,
                "%s: no convergence after %d iterations; the fit holds the "
                "last iterate",
                def->name, res.iterations);
  }
done:
  pd_free(&fit->alloc, in->work);
  pd_free(&fit->alloc, pack);
  in->work = NULL;
  return st;
}

pd_status pd_fit_estimate(pd_fit *fit, int32_t model,
                          const pd_customer_data *data) {
  if (!pd_fit_is_live(fit)) return PD_E_MISUSE;
  const pd_model_def *def = pd_model_lookup(model);
  if (!def) {
    if (pd_model_name(model))
      return pd_err(&fit->err, PD_E_INVALID,
                    "model %s is not estimated from customer summaries by "
                    "pd_fit_estimate in this build",
                    pd_model_name(model));
    return pd_err(&fit->err, PD_E_INVALID, "unknown model kind %d", (int)model);
  }
  if (!data) return pd_err(&fit->err, PD_E_INVALID, "customer data is NULL");
  pd_model_input in;
  memset(&in, 0, sizeof in);
  in.customers = data;
  return pd_fit_run(fit, def, &in);
}

pd_status pd_fit_set_params(pd_fit *fit, int32_t model, const double *params,
                            size_t n) {
  if (!pd_fit_is_live(fit)) return PD_E_MISUSE;
  const model_meta *m = meta_of(model);
  if (!m) return pd_err(&fit->err, PD_E_INVALID, "unknown model kind %d", (int)model);
  if (!params) return pd_err(&fit->err, PD_E_INVALID, "params is NULL");
  if (n != m->n_params)
    return pd_err(&fit->err, PD_E_INVALID, "%s takes %u parameters, not %zu",
                  m->name, (unsigned)m->n_params, n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(params[i]) || !(params[i] > 0.0))
      return pd_err(&fit->err, PD_E_RANGE,
                    "%s: parameter %s = %g must be finite and > 0", m->name,
                    m->params[i], params[i]);
  fit->model = model;
  fit->n_params = m->n_params;
  memset(fit->params, 0, sizeof fit->params);
  memset(fit->std_errors, 0, sizeof fit->std_errors);
  memcpy(fit->params, params, n * sizeof *params);
  fit->log_likelihood = 0.0;
  fit->n_customers = 0.0;
  fit->iterations = 0;
  fit->converged = 0;
  fit->estimated = 0;
  fit->has_std_errors = 0;
  pd_err_clear(&fit->err);
  return PD_OK;
}

pd_status pd_fit_get(const pd_fit *fit, pd_fit_info *out) {
  if (!pd_fit_is_live(fit)) return PD_E_MISUSE;
  if (!out || out->size < sizeof *out) return PD_E_INVALID;
  out->model = fit->model;
  out->converged = fit->converged;
  out->iterations = fit->iterations;
  out->n_params = fit->n_params;
  memcpy(out->params, fit->params, sizeof out->params);
  memcpy(out->std_errors, fit->std_errors, sizeof out->std_errors);
  out->log_likelihood = fit->log_likelihood;
  out->n_customers = fit->n_customers;
  out->estimated = fit->estimated;
  out->has_std_errors = fit->has_std_errors;
  return PD_OK;
}

/* ---- predictions --------------------------------------------------- */

pd_status pd_fit_current_model(pd_fit *fit, const pd_model_def **def) {
  if (!pd_fit_is_live(fit)) return PD_E_MISUSE;
  if (fit->model == 0)
    return pd_err(&fit->err, PD_E_INVALID,
                  "the fit holds no parameters: estimate or set them first");
  *def = pd_model_lookup(fit->model);
  return PD_OK;
}

static pd_status unsupported(pd_fit *fit, const char *what) {
  return pd_err(&fit->err, PD_E_INVALID, "model %s does not offer %s",
                pd_model_name(fit->model), what);
}

/* A per-customer prediction over row blocks: each block is a view of its
 * rows handed to the model's function, so every row's value is the same
 * whatever the blocks and threads. */
typedef struct predict_job {
  const pd_model_def *def;
  const double *params;
  const pd_customer_data *d;
  double horizon; /* < 0: P(alive) */
  double *out;
} predict_job;

static pd_status predict_rows(const predict_job *j, const pd_customer_data *v,
                              double *out, pd_errbuf *err) {
  if (j->horizon < 0.0) return j->def->p_alive(j->params, v, out, err);
  return j->def->expected_purchases(j->params, v, j->horizon, out, err);
}

static int predict_block(void *vctx, size_t begin, size_t end) {
  const predict_job *j = vctx;
  pd_customer_data v = pd_model_rows(j->d, begin, end - begin);
  pd_errbuf err; /* the message is made again on the caller's thread */
  return predict_rows(j, &v, j->out + begin, &err) != PD_OK;
}

static pd_status predict_all(pd_fit *fit, const pd_model_def *def,
                             const pd_customer_data *data, double horizon,
                             double *out) {
  if (def->check_rows) {
    pd_status st = def->check_rows(data, &fit->err);
    if (st != PD_OK) return st;
  }
  predict_job j = {def, fit->params, data, horizon, out};
  size_t bad = pd_row_map(fit->threads, data->n, predict_block, &j);
  if (bad == PD_ROW_NONE) return PD_OK;
  /* Rows before the failing block succeeded: redoing them and the block
   * in one view reports the first failing customer by its own index. */
  size_t end = (bad + 1) * PD_ROW_BLOCK;
  if (end > data->n) end = data->n;
  pd_customer_data v = pd_model_rows(data, 0, end);
  pd_status st = predict_rows(&j, &v, out, &fit->err);
  if (st != PD_OK) return st;
  return pd_err(&fit->err, PD_E_NUMERIC, "%s: a prediction did not evaluate",
                def->name);
}

pd_status pd_predict_expected_purchases(pd_fit *fit, const pd_customer_data *data,
                                        double horizon, double *out) {
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (!def || !def->expected_purchases)
    return unsupported(fit, "expected purchases per customer");
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  if (!isfinite(horizon) || horizon < 0.0)
    return pd_err(&fit->err, PD_E_RANGE,
                  "horizon %g must be finite and >= 0", horizon);
  st = pd_model_check_customers(data, 1, &fit->err, NULL);
  if (st != PD_OK) return st;
  return predict_all(fit, def, data, horizon, out);
}

pd_status pd_predict_p_alive(pd_fit *fit, const pd_customer_data *data,
                             double *out) {
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (!def || !def->p_alive) return unsupported(fit, "P(alive)");
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  st = pd_model_check_customers(data, 1, &fit->err, NULL);
  if (st != PD_OK) return st;
  return predict_all(fit, def, data, -1.0, out);
}

pd_status pd_predict_unconditional_purchases(pd_fit *fit, double t, double *out) {
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (!def || !def->unconditional_purchases)
    return unsupported(fit, "unconditional expected purchases");
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  if (!isfinite(t) || t < 0.0)
    return pd_err(&fit->err, PD_E_RANGE, "t = %g must be finite and >= 0", t);
  return def->unconditional_purchases(fit->params, t, out, &fit->err);
}

pd_status pd_predict_p_purchases(pd_fit *fit, uint32_t n, double t, double *out) {
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (!def || !def->p_purchases)
    return unsupported(fit, "P(X(t) = n)");
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  if (!isfinite(t) || t < 0.0)
    return pd_err(&fit->err, PD_E_RANGE, "t = %g must be finite and >= 0", t);
  return def->p_purchases(fit->params, n, t, out, &fit->err);
}
