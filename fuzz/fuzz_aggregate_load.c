/* Fuzz target: pd_aggregate_load on arbitrary bytes. Invariants: a
 * refusal is a negative status with a message and no aggregate; an
 * accepted aggregate saves to bytes that load again and save to the same
 * bytes (the serialised form depends only on the contents), answers every
 * question of its kind without crashing, and merges with a copy of itself
 * (a refused merge leaves the destination's bytes as they were). Each
 * input is also tried resealed (fuzz_reseal.h). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "fuzz_check.h"
#include "fuzz_reseal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pd_bytes *saved(const pd_aggregate *a) {
  pd_bytes *b = NULL;
  pd_status st = pd_aggregate_save(a, &b);
  FUZZ_CHECK(st == PD_OK || st == PD_E_NOMEM);
  return b;
}

static int same_bytes(const pd_bytes *x, const pd_bytes *y) {
  return pd_bytes_size(x) == pd_bytes_size(y) &&
         memcmp(pd_bytes_data(x), pd_bytes_data(y), pd_bytes_size(x)) == 0;
}

/* Every question an aggregate of its kind answers. */
static void ask(const pd_aggregate *a) {
  pd_rows *rows = NULL;
  switch (pd_aggregate_kind(a)) {
    case PD_AGGREGATE_FUNNEL:
      if (pd_aggregate_funnel_rows(a, &rows) == PD_OK) pd_rows_free(rows);
      break;
    case PD_AGGREGATE_LINK_COHORTS:
      if (pd_aggregate_link_retention_rows(a, &rows) == PD_OK)
        pd_rows_free(rows);
      break;
    case PD_AGGREGATE_REPURCHASE:
      if (pd_aggregate_repurchase_rows(a, &rows) == PD_OK) pd_rows_free(rows);
      break;
    case PD_AGGREGATE_RFM: {
      pd_rfm_thresholds th = PD_RFM_THRESHOLDS_INIT;
      if (pd_aggregate_rfm_thresholds(a, &th) == PD_OK)
        for (int k = 0; k < 3; k++)
          FUZZ_CHECK(th.recency[k] <= th.recency[k + 1] &&
                     th.frequency[k] <= th.frequency[k + 1] &&
                     th.monetary[k] <= th.monetary[k + 1]);
      for (int32_t d = PD_AGGREGATE_RECENCY; d <= PD_AGGREGATE_MONETARY; d++) {
        double v;
        pd_status st = pd_aggregate_quantile(a, d, 0.5, &v);
        FUZZ_CHECK(st == PD_OK ? v == v : st < 0);
      }
      break;
    }
    default:
      FUZZ_CHECK(0 && "a loaded aggregate of an unknown kind");
  }
}

static void one_input(const uint8_t *data, size_t size) {
  char why[256];
  why[0] = '\0';
  pd_aggregate *a = NULL;
  pd_status st = pd_aggregate_load(data, size, NULL, why, sizeof why, &a);
  if (st != PD_OK) {
    FUZZ_CHECK(st < 0);
    FUZZ_CHECK(a == NULL);
    FUZZ_CHECK(st == PD_E_NOMEM || why[0] != '\0');
    return;
  }
  ask(a);
  pd_bytes *b1 = saved(a);
  if (b1 != NULL) {
    pd_aggregate *again = NULL;
    FUZZ_CHECK(pd_aggregate_load(pd_bytes_data(b1), pd_bytes_size(b1), NULL,
                                 NULL, 0, &again) == PD_OK);
    pd_bytes *b2 = saved(again);
    FUZZ_CHECK(b2 == NULL || same_bytes(b1, b2));
    pd_bytes_free(b2);
    /* merged with itself: the counts double, or it is refused as a whole */
    st = pd_aggregate_merge(again, a);
    if (st != PD_OK) {
      FUZZ_CHECK(st == PD_E_OVERFLOW || st == PD_E_NOMEM);
      pd_bytes *b3 = saved(again);
      FUZZ_CHECK(b3 == NULL || same_bytes(b1, b3));
      pd_bytes_free(b3);
    } else {
      ask(again);
    }
    pd_aggregate_free(again);
    pd_bytes_free(b1);
  }
  pd_aggregate_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_also_resealed(data, size, one_input);
  return 0;
}
