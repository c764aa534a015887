/* BFGS on the inverse Hessian with a strong-Wolfe line search (Nocedal &
 * Wright, Numerical Optimization, algorithms 3.5, 3.6 and 6.1), the
 * finite-difference Hessian used for standard errors, and a Cholesky
 * inverse. All scratch memory is one block from the caller's allocator. */
#include "models/optim.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

#define WOLFE_C1 1e-4
#define WOLFE_C2 0.9
#define LINE_SEARCH_MAX 30

typedef struct line_ctx {
  size_t n;
  pd_objective_fn f;
  void *ctx;
  const double *x;  /* start point */
  const double *d;  /* search direction */
  double *xt;       /* trial point */
  double *gt;       /* gradient at the trial point */
  int evaluations;
} line_ctx;

static double dot(size_t n, const double *a, const double *b) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static double max_abs(size_t n, const double *v) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) {
    double a = fabs(v[i]);
    if (a > m || a != a) m = a;
  }
  return m;
}

/* phi(step) = f(x + step d); writes phi'(step) and leaves the trial point
 * and its gradient in lc->xt / lc->gt. A non-finite value means "undefined
 * there". */
static double phi_eval(line_ctx *lc, double step, double *dphi) {
  for (size_t i = 0; i < lc->n; i++) lc->xt[i] = lc->x[i] + step * lc->d[i];
  lc->evaluations++;
  double v = lc->f(lc->ctx, lc->xt, lc->gt);
  *dphi = dot(lc->n, lc->gt, lc->d);
  if (!isfinite(v) || !isfinite(*dphi)) return INFINITY;
  return v;
}

/* The minimiser of the quadratic through (lo, flo, dlo) and (hi, fhi),
 * kept well inside the bracket so the interval always shrinks. */
static double interpolate(double lo, double flo, double dlo, double hi,
                          double fhi) {
  double w = hi - lo;
  double denom = 2.0 * (fhi - flo - dlo * w);
  double t = 0.5;
  if (isfinite(fhi) && denom > 0.0) t = -dlo * w / denom / w;
  if (!(t >= 0.1 && t <= 0.9)) t = 0.5;
  return lo + t * w;
}

/* Strong-Wolfe line search. On success returns 1 with the accepted point in
 * xbest/gbest and its value in *fbest. Returns 0 if no point with
 * sufficient decrease was found. */
static int line_search(line_ctx *lc, double f0, double dphi0, double step,
                       double *xbest, double *gbest, double *fbest) {
  double prev = 0.0, fprev = f0, dprev = dphi0;
  double lo, flo, dlo, hi, fhi;
  int have_decrease = 0; /* xbest holds a point satisfying Armijo */
  for (int it = 0;; it++) {
    if (it >= LINE_SEARCH_MAX) return have_decrease;
    double dphi;
    double fv = phi_eval(lc, step, &dphi);
    if (!isfinite(fv)) {
      /* Left the region where f is defined: back off towards the last
       * good step. */
      step = prev + 0.25 * (step - prev);
      if (step - prev <= 1e-20) return have_decrease;
      continue;
    }
    if (fv > f0 + WOLFE_C1 * step * dphi0 || (it > 0 && fv >= fprev)) {
      lo = prev, flo = fprev, dlo = dprev, hi = step, fhi = fv;
      break;
    }
    memcpy(xbest, lc->xt, lc->n * sizeof *xbest);
    memcpy(gbest, lc->gt, lc->n * sizeof *gbest);
    *fbest = fv;
    have_decrease = 1;
    if (fabs(dphi) <= -WOLFE_C2 * dphi0) return 1;
    if (dphi >= 0.0) {
      lo = step, flo = fv, dlo = dphi, hi = prev, fhi = fprev;
      break;
    }
    prev = step, fprev = fv, dprev = dphi;
    step *= 2.0;
  }
  /* Zoom: lo always satisfies sufficient decrease and has the lowest value
   * seen; the bracket [lo, hi] contains a strong-Wolfe point. */
  for (int it = 0; it < LINE_SEARCH_MAX; it++) {
    double a = interpolate(lo, flo, dlo, hi, fhi);
    double dphi;
    double fv = phi_eval(lc, a, &dphi);
    if (!isfinite(fv) || fv > f0 + WOLFE_C1 * a * dphi0 || fv >= flo) {
      hi = a, fhi = fv;
    } else {
      memcpy(xbest, lc->xt, lc->n * sizeof *xbest);
      memcpy(gbest, lc->gt, lc->n * sizeof *gbest);
      *fbest = fv;
      have_decrease = 1;
      if (fabs(dphi) <= -WOLFE_C2 * dphi0) return 1;
      if (dphi * (hi - lo) >= 0.0) hi = lo, fhi = flo;
      lo = a, flo = fv, dlo = dphi;
    }
    /* The bracket has shrunk below what changes x at double precision. */
    double dmax = 0.0, xmax = 0.0;
    for (size_t i = 0; i < lc->n; i++) {
      dmax = fmax(dmax, fabs(lc->d[i]));
      xmax = fmax(xmax, fabs(lc->x[i]));
    }
    if (fabs(hi - lo) * dmax <= 1e-15 * (1.0 + xmax)) break;
  }
  return have_decrease;
}

pd_status pd_optim_bfgs(const pd_allocator *a, size_t n, double *x,
                        pd_objective_fn f, void *ctx,
                        const pd_optim_options *opts, pd_optim_result *out) {
  if (!a || !x || !f || !out || n == 0 || n > 1024) return PD_E_INVALID;
  pd_optim_options o = PD_OPTIM_OPTIONS_DEFAULT;
  if (opts) o = *opts;
  if (o.max_iterations <= 0 || !(o.gtol >= 0.0) || !(o.ftol >= 0.0))
    return PD_E_INVALID;

  /* H (n*n), g, d, xt, gt, xn, gn, s, y. */
  double *mem = pd_calloc(a, n * n + 8 * n, sizeof *mem);
  if (!mem) return PD_E_NOMEM;
  double *H = mem, *g = H + n * n, *d = g + n, *xt = d + n, *gt = xt + n;
  double *xn = gt + n, *gn = xn + n, *s = gn + n, *y = s + n;

  pd_status st = PD_OK;
  double fx = f(ctx, x, g);
  if (!isfinite(fx) || !isfinite(max_abs(n, g))) {
    st = PD_E_NUMERIC;
    goto done;
  }
  int converged = 0, iter = 0, fresh_h = 1;
  if (o.h0) {
    memcpy(H, o.h0, n * n * sizeof *H);
    fresh_h = 0; /* full steps: the curvature is known */
  } else {
    for (size_t i = 0; i < n; i++) H[i * n + i] = 1.0;
  }
  line_ctx lc = {n, f, ctx, x, d, xt, gt, 0};
  while (iter < o.max_iterations) {
    if (max_abs(n, g) <= o.gtol) {
      converged = 1;
      break;
    }
    for (size_t i = 0; i < n; i++) {
      double v = 0.0;
      for (size_t j = 0; j < n; j++) v -= H[i * n + j] * g[j];
      d[i] = v;
    }
    double dphi0 = dot(n, g, d);
    if (!(dphi0 < 0.0)) {
      /* H lost positive definiteness numerically: restart from steepest
       * descent. */
      memset(H, 0, n * n * sizeof *H);
      for (size_t i = 0; i < n; i++) H[i * n + i] = 1.0, d[i] = -g[i];
      dphi0 = -dot(n, g, g);
      fresh_h = 1;
    }
    double step = 1.0;
    if (fresh_h) {
      double gmax = max_abs(n, g);
      if (gmax > 1.0) step = 1.0 / gmax;
    }
    double fn = fx;
    iter++;
    if (!line_search(&lc, fx, dphi0, step, xn, gn, &fn)) {
      if (!fresh_h) {
        /* A stale curvature model can point badly; retry once from the
         * gradient before giving up. */
        memset(H, 0, n * n * sizeof *H);
        for (size_t i = 0; i < n; i++) H[i * n + i] = 1.0;
        fresh_h = 1;
        continue;
      }
      /* No descent possible even along -g: x is a minimum to working
       * precision if the gradient is small relative to f. */
      converged = max_abs(n, g) <= 1e-6 * fmax(1.0, fabs(fx));
      break;
    }
    for (size_t i = 0; i < n; i++) {
      s[i] = xn[i] - x[i];
      y[i] = gn[i] - g[i];
    }
    double fold = fx;
    memcpy(x, xn, n * sizeof *x);
    memcpy(g, gn, n * sizeof *g);
    fx = fn;
    double sy = dot(n, s, y);
    if (sy > 1e-300 && isfinite(sy)) {
      if (fresh_h) {
        /* Scale the identity to the observed curvature before the first
         * update (Nocedal & Wright eq. 6.20). */
        double scale = sy / dot(n, y, y);
        for (size_t i = 0; i < n * n; i++) H[i] *= scale;
        fresh_h = 0;
      }
      /* H+ = (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ, using Hy. */
      double rho = 1.0 / sy;
      double *hy = d; /* d is free until the next iteration */
      for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        for (size_t j = 0; j < n; j++) v += H[i * n + j] * y[j];
        hy[i] = v;
      }
      double yhy = dot(n, y, hy);
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
          H[i * n + j] += rho * ((1.0 + rho * yhy) * s[i] * s[j] -
                                 hy[i] * s[j] - s[i] * hy[j]);
    }
    if (fabs(fold - fx) <= o.ftol * fmax(1.0, fmax(fabs(fold), fabs(fx))) &&
        max_abs(n, g) <= sqrt(o.gtol)) {
      converged = 1;
      break;
    }
  }
  out->f = fx;
  out->iterations = iter;
  out->converged = converged;
  st = converged ? PD_OK : PD_E_NO_CONVERGENCE;
done:
  pd_free(a, mem);
  return st;
}

pd_status pd_optim_hessian(const pd_allocator *a, size_t n, const double *x,
                           pd_objective_fn f, void *ctx, double *hess) {
  if (!a || !x || !f || !hess || n == 0) return PD_E_INVALID;
  double *mem = pd_calloc(a, 3 * n, sizeof *mem);
  if (!mem) return PD_E_NOMEM;
  double *xs = mem, *gp = mem + n, *gm = mem + 2 * n;
  pd_status st = PD_OK;
  memcpy(xs, x, n * sizeof *xs);
  for (size_t i = 0; i < n; i++) {
    /* Step ~ cube root of machine epsilon balances truncation against
     * rounding for a central difference. */
    double h = 6e-6 * fmax(1.0, fabs(x[i]));
    xs[i] = x[i] + h;
    double fp = f(ctx, xs, gp);
    xs[i] = x[i] - h;
    double fm = f(ctx, xs, gm);
    xs[i] = x[i];
    if (!isfinite(fp) || !isfinite(fm)) {
      st = PD_E_NUMERIC;
      goto done;
    }
    double h2 = (x[i] + h) - (x[i] - h);
    for (size_t j = 0; j < n; j++) hess[i * n + j] = (gp[j] - gm[j]) / h2;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      double v = 0.5 * (hess[i * n + j] + hess[j * n + i]);
      hess[i * n + j] = hess[j * n + i] = v;
    }
  for (size_t i = 0; i < n * n; i++)
    if (!isfinite(hess[i])) st = PD_E_NUMERIC;
done:
  pd_free(a, mem);
  return st;
}

pd_status pd_optim_spd_inverse(const pd_allocator *a, size_t n, double *m) {
  if (!a || !m || n == 0) return PD_E_INVALID;
  double *L = pd_calloc(a, n * n, sizeof *L);
  if (!L) return PD_E_NOMEM;
  pd_status st = PD_OK;
  /* Cholesky m = L Lᵀ. */
  for (size_t j = 0; j < n; j++) {
    double diag = m[j * n + j];
    for (size_t k = 0; k < j; k++) diag -= L[j * n + k] * L[j * n + k];
    if (!(diag > 0.0) || !isfinite(diag)) {
      st = PD_E_NUMERIC;
      goto done;
    }
    double ljj = sqrt(diag);
    L[j * n + j] = ljj;
    for (size_t i = j + 1; i < n; i++) {
      double v = m[i * n + j];
      for (size_t k = 0; k < j; k++) v -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = v / ljj;
    }
  }
  /* L⁻¹ in place (lower triangular), then m⁻¹ = L⁻ᵀ L⁻¹. */
  for (size_t j = 0; j < n; j++) {
    L[j * n + j] = 1.0 / L[j * n + j];
    for (size_t i = j + 1; i < n; i++) {
      double v = 0.0;
      for (size_t k = j; k < i; k++) v -= L[i * n + k] * L[k * n + j];
      L[i * n + j] = v / L[i * n + i];
    }
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j <= i; j++) {
      double v = 0.0;
      for (size_t k = i; k < n; k++) v += L[k * n + i] * L[k * n + j];
      m[i * n + j] = m[j * n + i] = v;
    }
done:
  pd_free(a, L);
  return st;
}
