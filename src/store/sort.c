/* A stable merge sort over uint32 values with a context comparator (C11
 * has no qsort_r). Used for the few events of one user, so simplicity
 * wins over speed; small runs use insertion sort. */
#include "store_query.h"

#include <string.h>

static void insertion(uint32_t *v, size_t n,
                      int (*cmp)(const void *, uint32_t, uint32_t),
                      const void *ctx) {
  for (size_t i = 1; i < n; i++) {
    uint32_t x = v[i];
    size_t j = i;
    while (j > 0 && cmp(ctx, v[j - 1], x) > 0) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

void pd_st_sort_u32(uint32_t *v, size_t n, uint32_t *tmp,
                    int (*cmp)(const void *ctx, uint32_t a, uint32_t b),
                    const void *ctx) {
  if (n <= 16) {
    insertion(v, n, cmp, ctx);
    return;
  }
  size_t h = n / 2;
  pd_st_sort_u32(v, h, tmp, cmp, ctx);
  pd_st_sort_u32(v + h, n - h, tmp, cmp, ctx);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = cmp(ctx, v[j], v[i]) < 0 ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}
