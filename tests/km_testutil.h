/* Comparing two Kaplan–Meier curves (survival.h) in tests; include after
 * <cmocka.h> and <privdomain/privdomain.h>. */
#ifndef PD_TESTS_KM_TESTUTIL_H
#define PD_TESTS_KM_TESTUTIL_H

/* The same rows, every column bit for bit. */
static inline void assert_same_km_curves(const pd_km_curve *a,
                                         const pd_km_curve *b) {
  assert_int_equal(a->n, b->n);
  const double *x[] = {a->time,     a->at_risk, a->events, a->censored,
                       a->survival, a->lower,   a->upper};
  const double *y[] = {b->time,     b->at_risk, b->events, b->censored,
                       b->survival, b->lower,   b->upper};
  for (int k = 0; k < 7; k++)
    assert_memory_equal(x[k], y[k], a->n * sizeof(double));
}

#endif
