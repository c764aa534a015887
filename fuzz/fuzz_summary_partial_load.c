/* Fuzz target: pd_summary_partial_customers and pd_summary_partial_load
 * on arbitrary bytes. Invariants: what the check refuses, the load
 * refuses too; a refused load leaves the handle empty and says why; an
 * accepted partial computes for its own ends, saves as a partial that
 * loads into a new handle, and both handles give the same rows. Each
 * input is also tried resealed (fuzz_reseal.h). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"
#include "fuzz_reseal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compute s for the ends; PD_OK or the status. */
static pd_status compute(pd_summary *s, int64_t cal, int64_t obs) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  spec.calibration_end = cal;
  spec.observation_end = obs;
  return pd_summary_compute(s, &spec);
}

static void same_rows(pd_summary *a, pd_summary *b) {
  size_t n = pd_summary_rows(a);
  FUZZ_CHECK(pd_summary_rows(b) == n);
  if (n == 0) return;
  const int32_t cols[] = {PD_SUMMARY_X, PD_SUMMARY_T_X, PD_SUMMARY_T};
  for (int c = 0; c < 3; c++) {
    const double *x = NULL, *y = NULL;
    FUZZ_CHECK(pd_summary_column(a, cols[c], &x) == PD_OK);
    FUZZ_CHECK(pd_summary_column(b, cols[c], &y) == PD_OK);
    FUZZ_CHECK(memcmp(x, y, n * sizeof *x) == 0);
  }
}

static void one_input(const uint8_t *data, size_t size) {
  int64_t cal = 0, obs = 0;
  size_t customers = 0;
  pd_status checked =
      pd_summary_partial_customers(data, size, &cal, &obs, &customers);
  FUZZ_CHECK(checked <= PD_OK);
  pd_summary *s = NULL;
  if (pd_summary_new(NULL, &s) != PD_OK) return;
  pd_status st = pd_summary_partial_load(s, data, size);
  if (st != PD_OK) {
    FUZZ_CHECK(st < 0);
    FUZZ_CHECK(pd_summary_errmsg(s)[0] != '\0');
    FUZZ_CHECK(pd_summary_transactions(s) == 0);
    pd_summary_free(s);
    return;
  }
  FUZZ_CHECK(checked == PD_OK);
  st = compute(s, cal, obs);
  if (st == PD_OK) {
    FUZZ_CHECK(pd_summary_rows(s) <= customers);
    pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
    spec.calibration_end = cal;
    spec.observation_end = obs;
    pd_bytes *b = NULL;
    if (pd_summary_partial_save(s, &spec, &b) == PD_OK) {
      pd_summary *t = NULL;
      if (pd_summary_new(NULL, &t) == PD_OK) {
        FUZZ_CHECK(pd_summary_partial_load(t, pd_bytes_data(b),
                                           pd_bytes_size(b)) == PD_OK);
        FUZZ_CHECK(compute(t, cal, obs) == PD_OK);
        same_rows(s, t);
        pd_summary_free(t);
      }
      pd_bytes_free(b);
    }
  } else {
    FUZZ_CHECK(st < 0 && pd_summary_errmsg(s)[0] != '\0');
  }
  pd_summary_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_also_resealed(data, size, one_input);
  return 0;
}
