/* Specification of the optimiser (src/models/optim.h): BFGS finds known
 * minima, reports non-convergence and undefined starts, the Hessian of a
 * quadratic is exact, the SPD inverse inverts, and every allocation failure
 * is reported cleanly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "models/optim.h"
#include "testutil_alloc.h"
#include "testutil_models.h"

static pd_allocator libc(void) {
  pd_allocator a;
  pd_alloc_init(&a, NULL);
  return a;
}

static double rosenbrock(void *ctx, const double *x, double *g) {
  (void)ctx;
  double a = 1.0 - x[0], b = x[1] - x[0] * x[0];
  if (g) {
    g[0] = -2.0 * a - 400.0 * x[0] * b;
    g[1] = 200.0 * b;
  }
  return a * a + 100.0 * b * b;
}

/* f(x) = ½ xᵀ Q x - cᵀ x with Q = [[4,1,0],[1,3,0.5],[0,0.5,2]]. */
static const double Q[9] = {4, 1, 0, 1, 3, 0.5, 0, 0.5, 2};
static const double C[3] = {1, -2, 0.5};
static double quadratic(void *ctx, const double *x, double *g) {
  int *evals = ctx;
  if (evals) (*evals)++;
  double f = 0.0;
  for (int i = 0; i < 3; i++) {
    double qi = 0.0;
    for (int j = 0; j < 3; j++) qi += Q[i * 3 + j] * x[j];
    if (g) g[i] = qi - C[i];
    f += 0.5 * x[i] * qi - C[i] * x[i];
  }
  return f;
}

static double undefined_below_zero(void *ctx, const double *x, double *g) {
  (void)ctx;
  /* f = x - log x, minimum at 1; undefined for x <= 0. */
  if (x[0] <= 0.0) return NAN;
  if (g) g[0] = 1.0 - 1.0 / x[0];
  return x[0] - log(x[0]);
}

static void bfgs_finds_the_rosenbrock_minimum(void **state) {
  (void)state;
  pd_allocator a = libc();
  double x[2] = {-1.2, 1.0};
  pd_optim_result r;
  assert_int_equal(pd_optim_bfgs(&a, 2, x, rosenbrock, NULL, NULL, &r), PD_OK);
  assert_true(r.converged);
  assert_true(fabs(x[0] - 1.0) < 1e-7 && fabs(x[1] - 1.0) < 1e-7);
  assert_true(r.f < 1e-14);
}

static void bfgs_solves_a_quadratic_exactly(void **state) {
  (void)state;
  pd_allocator a = libc();
  double x[3] = {5, -5, 5};
  int evals = 0;
  pd_optim_result r;
  assert_int_equal(pd_optim_bfgs(&a, 3, x, quadratic, &evals, NULL, &r), PD_OK);
  /* The minimiser solves Q x = c; check the residual and the known
   * solution (computed by hand elimination). */
  double g[3];
  quadratic(NULL, x, g);
  for (int i = 0; i < 3; i++) assert_true(fabs(g[i]) < 1e-8);
  const double want[3] = {10.0 / 21, -19.0 / 21, 10.0 / 21};
  for (int i = 0; i < 3; i++) assert_true(fabs(x[i] - want[i]) < 1e-7);
  assert_true(evals < 40);
}

static void bfgs_backs_off_where_the_objective_is_undefined(void **state) {
  (void)state;
  pd_allocator a = libc();
  double x[1] = {30.0}; /* the first gradient step lands below zero */
  pd_optim_result r;
  assert_int_equal(pd_optim_bfgs(&a, 1, x, undefined_below_zero, NULL, NULL, &r), PD_OK);
  assert_true(fabs(x[0] - 1.0) < 1e-8);
}

static void bfgs_reports_an_undefined_start(void **state) {
  (void)state;
  pd_allocator a = libc();
  double x[1] = {-1.0};
  pd_optim_result r = {0};
  assert_int_equal(pd_optim_bfgs(&a, 1, x, undefined_below_zero, NULL, NULL, &r),
                   PD_E_NUMERIC);
}

static void bfgs_reports_the_iteration_limit_and_keeps_the_last_iterate(void **state) {
  (void)state;
  pd_allocator a = libc();
  double x[2] = {-1.2, 1.0};
  pd_optim_options o = PD_OPTIM_OPTIONS_DEFAULT;
  o.max_iterations = 3;
  pd_optim_result r;
  assert_int_equal(pd_optim_bfgs(&a, 2, x, rosenbrock, NULL, &o, &r),
                   PD_E_NO_CONVERGENCE);
  assert_int_equal(r.iterations, 3);
  assert_false(r.converged);
  assert_true(r.f < rosenbrock(NULL, (double[]){-1.2, 1.0}, NULL));
  assert_true(fabs(rosenbrock(NULL, x, NULL) - r.f) < 1e-12);
}

static void bfgs_rejects_invalid_arguments(void **state) {
  (void)state;
  pd_allocator a = libc();
  double x[2] = {0, 0};
  pd_optim_result r;
  assert_int_equal(pd_optim_bfgs(&a, 0, x, rosenbrock, NULL, NULL, &r), PD_E_INVALID);
  assert_int_equal(pd_optim_bfgs(&a, 2, NULL, rosenbrock, NULL, NULL, &r), PD_E_INVALID);
  assert_int_equal(pd_optim_bfgs(&a, 2, x, NULL, NULL, NULL, &r), PD_E_INVALID);
  pd_optim_options o = PD_OPTIM_OPTIONS_DEFAULT;
  o.max_iterations = 0;
  assert_int_equal(pd_optim_bfgs(&a, 2, x, rosenbrock, NULL, &o, &r), PD_E_INVALID);
}

static void hessian_of_a_quadratic_is_its_matrix(void **state) {
  (void)state;
  pd_allocator a = libc();
  double x[3] = {0.3, -0.7, 2.0}, H[9];
  assert_int_equal(pd_optim_hessian(&a, 3, x, quadratic, NULL, H), PD_OK);
  for (int i = 0; i < 9; i++) assert_true(fabs(H[i] - Q[i]) < 1e-8);
}

static void spd_inverse_inverts_and_rejects_indefinite_matrices(void **state) {
  (void)state;
  pd_allocator a = libc();
  double m[9];
  memcpy(m, Q, sizeof m);
  assert_int_equal(pd_optim_spd_inverse(&a, 3, m), PD_OK);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double v = 0.0;
      for (int k = 0; k < 3; k++) v += Q[i * 3 + k] * m[k * 3 + j];
      assert_true(fabs(v - (i == j)) < 1e-14);
    }
  double bad[4] = {1, 2, 2, 1}; /* eigenvalues 3 and -1 */
  assert_int_equal(pd_optim_spd_inverse(&a, 2, bad), PD_E_NUMERIC);
}

static void every_allocation_failure_is_reported_without_leaks(void **state) {
  (void)state;
  for (long k = 1;; k++) {
    test_alloc f;
    test_alloc_init(&f);
    pd_allocator a = test_alloc_allocator(&f);
    test_alloc_fail_in(&f, k);
    double x[3] = {1, 1, 1}, H[9];
    pd_optim_result r;
    pd_status s1 = pd_optim_bfgs(&a, 3, x, quadratic, NULL, NULL, &r);
    pd_status s2 = pd_optim_hessian(&a, 3, x, quadratic, NULL, H);
    memcpy(H, Q, sizeof H);
    pd_status s3 = pd_optim_spd_inverse(&a, 3, H);
    assert_int_equal(atomic_load(&f.live), 0);
    assert_true(s1 == PD_OK || s1 == PD_E_NOMEM);
    assert_true(s2 == PD_OK || s2 == PD_E_NOMEM);
    assert_true(s3 == PD_OK || s3 == PD_E_NOMEM);
    if (s1 == PD_OK && s2 == PD_OK && s3 == PD_OK) break;
    assert_true(k < 10);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bfgs_finds_the_rosenbrock_minimum),
      cmocka_unit_test(bfgs_solves_a_quadratic_exactly),
      cmocka_unit_test(bfgs_backs_off_where_the_objective_is_undefined),
      cmocka_unit_test(bfgs_reports_an_undefined_start),
      cmocka_unit_test(bfgs_reports_the_iteration_limit_and_keeps_the_last_iterate),
      cmocka_unit_test(bfgs_rejects_invalid_arguments),
      cmocka_unit_test(hessian_of_a_quadratic_is_its_matrix),
      cmocka_unit_test(spd_inverse_inverts_and_rejects_indefinite_matrices),
      cmocka_unit_test(every_allocation_failure_is_reported_without_leaks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
