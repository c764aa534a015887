/* Fuzz target: the transaction importer (pd_import_transactions) on a
 * buffer. First byte picks the format; the rest is the file. Invariants:
 * all or nothing (an error adds no transaction), an error always has a
 * message, and importing the same bytes twice doubles the count. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int32_t format = 1 + data[0] % 3;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  pd_summary *s = NULL;
  if (pd_summary_new(NULL, &s) != PD_OK) return 0;
  pd_status st = pd_import_transactions(s, format, text, len);
  if (st != PD_OK) {
    FUZZ_CHECK(st < 0);
    FUZZ_CHECK(pd_summary_transactions(s) == 0);
    FUZZ_CHECK(pd_summary_errmsg(s)[0] != '\0');
  } else {
    size_t n = pd_summary_transactions(s);
    FUZZ_CHECK(pd_import_transactions(s, format, text, len) == PD_OK);
    FUZZ_CHECK(pd_summary_transactions(s) == 2 * n);
    pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
    spec.calibration_end = INT64_C(4102444800);
    FUZZ_CHECK(pd_summary_compute(s, &spec) == PD_OK);
    const double *x = NULL, *tx = NULL, *T = NULL;
    size_t rows = pd_summary_rows(s);
    FUZZ_CHECK(rows <= n);
    if (rows > 0) {
      FUZZ_CHECK(pd_summary_column(s, PD_SUMMARY_X, &x) == PD_OK);
      FUZZ_CHECK(pd_summary_column(s, PD_SUMMARY_T_X, &tx) == PD_OK);
      FUZZ_CHECK(pd_summary_column(s, PD_SUMMARY_T, &T) == PD_OK);
      for (size_t i = 0; i < rows; i++) {
        /* x repeat periods, 0 <= t_x <= T: the summary convention. */
        FUZZ_CHECK(x[i] >= 0 && tx[i] >= 0 && tx[i] <= T[i]);
        FUZZ_CHECK(x[i] == 0 ? tx[i] == 0 : tx[i] > 0);
      }
    }
  }
  pd_summary_free(s);
  return 0;
}
