/* Specification of the special functions (src/models/specfun.h): values
 * against references computed to 40 digits with mpmath, identities, and
 * closed forms of Gauss's hypergeometric function. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "models/specfun.h"

#define EULER_GAMMA 0.57721566490153286061
#define PI 3.14159265358979323846

static void assert_rel(double got, double want, double tol) {
  double err = fabs(got - want) / fmax(fabs(want), 1e-300);
  if (!(err <= tol))
    fail_msg("got %.17g want %.17g (relative error %.3g > %.3g)", got, want, err, tol);
}

static void assert_abs(double got, double want, double tol) {
  if (!(fabs(got - want) <= tol))
    fail_msg("got %.17g want %.17g (error %.3g > %.3g)", got, want,
             fabs(got - want), tol);
}

/* x, lgamma(x), digamma(x), trigamma(x) from mpmath at 40 digits. */
static const double ref[][4] = {
    {1e-8, 18.420680738180208905, -100000000.57721564845, 10000000000000001.645},
    {0.1, 2.2527126517342059599, -10.423754940411076795, 101.43329915079275882},
    {0.5, 0.57236494292470008707, -1.9635100260214234794, 4.9348022005446793094},
    {1.5, -0.12078223763524522235, 0.036489973978576520559, 0.93480220054467930942},
    {2.5, 0.28468287047291915963, 0.70315664064524318723, 0.49035775610023486497},
    {3, 0.69314718055994530942, 0.92278433509846713939, 0.39493406684822643647},
    {7.7, 7.9265413562690044281, 1.974882094913101819, 0.13866710857111123718},
    {9.99, 12.77931521435019288, 2.2507003728312010995, 0.10527695014824178675},
    {10, 12.801827480081469611, 2.2517525890667211076, 0.10516633568168574612},
    {12.5, 18.734347511936445702, 2.4851956512749120482, 0.083285224601578370444},
    {100, 359.13420536957539878, 4.6001618527380874002, 0.010050166663333571395},
    {1e5, 1051287.7089736568949, 11.512920464961895087, 0.000010000050000166666667},
};

static void lgamma_matches_reference_values(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++)
    assert_rel(pd_lgamma(ref[i][0]), ref[i][1], 1e-13);
}

static void lgamma_of_one_half_is_log_sqrt_pi(void **state) {
  (void)state;
  assert_rel(pd_lgamma(0.5), 0.5 * log(PI), 1e-14);
}

static void lgamma_is_exact_zero_at_one_and_two_and_small_near_them(void **state) {
  (void)state;
  assert_true(pd_lgamma(1.0) == 0.0);
  assert_true(pd_lgamma(2.0) == 0.0);
  /* lgamma(1 + e) ≈ -γ e: full relative accuracy next to the zeros. */
  double e1 = (1.0 + 1e-9) - 1.0, e2 = (2.0 + 1e-9) - 2.0; /* exact offsets */
  assert_rel(pd_lgamma(1.0 + e1), -EULER_GAMMA * e1 + 1.6449340668482264 / 2 * e1 * e1, 1e-13);
  assert_rel(pd_lgamma(2.0 + e2), (1.0 - EULER_GAMMA) * e2, 1e-8);
}

static void lgamma_satisfies_the_recurrence(void **state) {
  (void)state;
  for (double x = 0.05; x < 40.0; x *= 1.37)
    assert_abs(pd_lgamma(x + 1.0), pd_lgamma(x) + log(x), 1e-13 * fmax(1.0, fabs(pd_lgamma(x + 1.0))));
}

static void digamma_and_trigamma_match_reference_values(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
    assert_rel(pd_digamma(ref[i][0]), ref[i][2], 1e-13);
    assert_rel(pd_trigamma(ref[i][0]), ref[i][3], 1e-13);
  }
  assert_rel(pd_digamma(1.0), -EULER_GAMMA, 1e-15);
  assert_rel(pd_trigamma(1.0), PI * PI / 6.0, 1e-15);
}

static void digamma_is_the_derivative_of_lgamma(void **state) {
  (void)state;
  for (double x = 0.3; x < 300.0; x *= 2.1) {
    double h = 1e-5 * x;
    double fd = (pd_lgamma(x + h) - pd_lgamma(x - h)) / (2 * h);
    assert_rel(pd_digamma(x), fd, 1e-7);
    double fd2 = (pd_digamma(x + h) - pd_digamma(x - h)) / (2 * h);
    assert_rel(pd_trigamma(x), fd2, 1e-7);
  }
}

static void lbeta_matches_reference_values_including_lopsided_arguments(void **state) {
  (void)state;
  assert_rel(pd_lbeta(0.5, 0.5), log(PI), 1e-14);
  assert_rel(pd_lbeta(3, 1e6), -40.753387493330377006, 1e-14);
  assert_rel(pd_lbeta(1e6, 3), -40.753387493330377006, 1e-14);
  assert_rel(pd_lbeta(20, 30), -33.968820791977382963, 1e-14);
  assert_rel(pd_lbeta(1e-3, 50), 6.9032768856098271896, 1e-14);
  assert_rel(pd_lbeta(200, 0.7), -3.4474300855106177825, 1e-13);
  assert_rel(pd_lbeta(1e4, 1e4), -13866.28325676140964, 1e-14);
}

static void invalid_arguments_give_nan_not_garbage(void **state) {
  (void)state;
  assert_true(isnan(pd_lgamma(0.0)));
  assert_true(isnan(pd_lgamma(-1.5)));
  assert_true(isnan(pd_lgamma(NAN)));
  assert_true(isnan(pd_digamma(0.0)));
  assert_true(isnan(pd_trigamma(-2.0)));
  assert_true(isnan(pd_lbeta(0.0, 1.0)));
  assert_true(isnan(pd_log_hyp2f1(1, 1, 2, 1.0)));  /* z = 1 is outside */
  assert_true(isnan(pd_log_hyp2f1(1, 1, -0.5, 0.3))); /* c <= 0 */
  assert_true(isnan(pd_log_hyp2f1(1, 1, 2, NAN)));
}

static void hyp2f1_matches_closed_forms(void **state) {
  (void)state;
  /* 2F1(1,1;2;z) = -log(1-z)/z on both sides of 0. */
  const double zs[] = {-20.0, -3.0, -0.5, -1e-6, 1e-6, 0.3, 0.7, 0.95};
  for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
    double z = zs[i];
    double want = log(-log1p(-z) / z);
    assert_abs(pd_log_hyp2f1(1, 1, 2, z), want, 1e-13 * fmax(1.0, fabs(want)));
  }
  /* 2F1(a,b;b;z) = (1-z)^-a. */
  assert_rel(pd_log_hyp2f1(2.7, 1.3, 1.3, 0.4), -2.7 * log1p(-0.4), 1e-13);
  assert_rel(pd_log_hyp2f1(2.7, 1.3, 1.3, -2.0), -2.7 * log1p(2.0), 1e-13);
  /* 2F1(1/2,1/2;3/2;z²) = asin(z)/z. */
  assert_rel(pd_log_hyp2f1(0.5, 0.5, 1.5, 0.25), log(asin(0.5) / 0.5), 1e-13);
  assert_true(pd_log_hyp2f1(3, 4, 5, 0.0) == 0.0);
}

static void hyp2f1_matches_reference_values_in_the_models_region(void **state) {
  (void)state;
  /* mpmath at 40 digits; the first is the Pareto/NBD shape with x = 5000. */
  assert_rel(pd_log_hyp2f1(5000.5, 0.7, 5001.5, 0.3), 0.24961248568709319107, 1e-12);
  assert_rel(pd_log_hyp2f1(0.8, 2.4, 3.2, 0.6), 0.51248656190490958613, 1e-13);
  assert_rel(pd_log_hyp2f1(1.5, 2.5, 3.5, -0.7), -0.58748951306596525718, 1e-13);
  assert_rel(pd_log_hyp2f1(1, 30.3, 31.9, 0.95), 2.4394043270628930861, 1e-12);
  assert_rel(pd_log_hyp2f1(0.3, 1.7, 0.9, -4), -0.74440918006496434864, 1e-12);
  assert_rel(pd_log_hyp2f1(12, 0.5, 13, 0.99), 1.4789230760581673921, 1e-12);
}

static void hyp2f1_agrees_with_the_brute_force_series(void **state) {
  (void)state;
  const double cases[][4] = {{0.55, 1.6, 2.3, 0.2}, {3.5, 0.6, 5.1, 0.45},
                             {0.25, 0.75, 1.1, -0.35}, {7.0, 2.0, 9.5, 0.1}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    double a = cases[k][0], b = cases[k][1], c = cases[k][2], z = cases[k][3];
    double term = 1.0, sum = 1.0;
    for (int n = 0; n < 2000; n++) {
      term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
      sum += term;
    }
    assert_rel(pd_log_hyp2f1(a, b, c, z), log(sum), 1e-13);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lgamma_matches_reference_values),
      cmocka_unit_test(lgamma_of_one_half_is_log_sqrt_pi),
      cmocka_unit_test(lgamma_is_exact_zero_at_one_and_two_and_small_near_them),
      cmocka_unit_test(lgamma_satisfies_the_recurrence),
      cmocka_unit_test(digamma_and_trigamma_match_reference_values),
      cmocka_unit_test(digamma_is_the_derivative_of_lgamma),
      cmocka_unit_test(lbeta_matches_reference_values_including_lopsided_arguments),
      cmocka_unit_test(invalid_arguments_give_nan_not_garbage),
      cmocka_unit_test(hyp2f1_matches_closed_forms),
      cmocka_unit_test(hyp2f1_matches_reference_values_in_the_models_region),
      cmocka_unit_test(hyp2f1_agrees_with_the_brute_force_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
