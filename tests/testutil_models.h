/* Helpers for the model tests: the CDNOW summary loader and a
 * central-difference gradient check for model kernels (the failing
 * allocator is tests/testutil_alloc.h).
 * Test-only, header-only; include after <cmocka.h>. */
#ifndef PD_TESTS_TESTUTIL_MODELS_H
#define PD_TESTS_TESTUTIL_MODELS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <privdomain/alloc.h>

#include "datasets_path.h"

/* ---- CDNOW --------------------------------------------------------- */

enum { CDNOW_N = 2357 };
typedef struct cdnow {
  size_t n;
  double x[CDNOW_N], t_x[CDNOW_N], T[CDNOW_N];
} cdnow;

/* Loads cdnow_customers_summary.csv (weeks); returns 0 after skip() or
 * fail() when the data are missing (the caller returns). */
static inline int load_cdnow(cdnow *c) {
  FILE *f = open_dataset("cdnow_customers_summary.csv");
  if (!f) {
    skip();
    return 0;
  }
  char line[256];
  assert_non_null(fgets(line, sizeof line, f));
  c->n = 0;
  long id;
  while (c->n < CDNOW_N && fscanf(f, "%ld,%lf,%lf,%lf", &id, &c->x[c->n],
                                  &c->t_x[c->n], &c->T[c->n]) == 4)
    c->n++;
  fclose(f);
  assert_int_equal(c->n, CDNOW_N);
  return 1;
}

/* ---- numerical checks ---------------------------------------------- */

static inline void assert_close(double got, double want, double rel) {
  double err = fabs(got - want) / fmax(fabs(want), 1e-300);
  if (!(err <= rel))
    fail_msg("got %.12g want %.12g (relative error %.3g > %.3g)", got, want, err, rel);
}

#endif
