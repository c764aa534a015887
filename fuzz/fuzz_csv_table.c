/* Fuzz target: the summary-file reader (pd_csv_table_load) and numeric
 * columns. Invariants: a failed load keeps the previous content; every
 * cell of a loaded table is reachable and NUL-terminated at its length;
 * numbers are finite. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pd_csv_table *t = NULL;
  if (pd_csv_table_new(NULL, &t) != PD_OK) return 0;
  static const char prev[] = "a,b\n1,2\n";
  FUZZ_CHECK(pd_csv_table_load(t, prev, sizeof prev - 1) == PD_OK);
  pd_status st = pd_csv_table_load(t, (const char *)data, size);
  if (st != PD_OK) {
    FUZZ_CHECK(st < 0);
    FUZZ_CHECK(pd_csv_table_errmsg(t)[0] != '\0');
    FUZZ_CHECK(pd_csv_table_rows(t) == 1 && pd_csv_table_columns(t) == 2);
    pd_csv_table_free(t);
    return 0;
  }
  size_t rows = pd_csv_table_rows(t), cols = pd_csv_table_columns(t);
  FUZZ_CHECK(cols > 0);
  for (size_t c = 0; c < cols; c++) {
    const char *text;
    size_t len;
    FUZZ_CHECK(pd_csv_table_cell(t, SIZE_MAX, c, &text, &len) == PD_OK);
    FUZZ_CHECK(text[len] == '\0');
    size_t found;
    /* Names are unique, so a header name finds its own column only when
     * it holds no NUL (find takes a NUL-terminated name). */
    if (strlen(text) == len) {
      FUZZ_CHECK(pd_csv_table_find(t, text, &found) == PD_OK);
      FUZZ_CHECK(found == c);
    }
    for (size_t r = 0; r < rows && r < 64; r++) {
      FUZZ_CHECK(pd_csv_table_cell(t, r, c, &text, &len) == PD_OK);
      FUZZ_CHECK(text[len] == '\0');
    }
    const double *v = NULL;
    st = pd_csv_table_numbers(t, c, &v);
    if (st == PD_OK) {
      for (size_t r = 0; r < rows; r++) FUZZ_CHECK(isfinite(v[r]));
    } else {
      FUZZ_CHECK(st == PD_E_CORRUPT || st == PD_E_NOMEM);
    }
  }
  const char *text;
  FUZZ_CHECK(pd_csv_table_cell(t, rows, 0, &text, NULL) == PD_E_NOT_FOUND);
  pd_csv_table_free(t);
  return 0;
}
