/* pd_rows: the rows a broken-down figure hands to its caller. */
#include "rows.h"

#include <string.h>

#define PD_ROWS_MAGIC 0x50445257u      /* "PDRW" */
#define PD_ROWS_MAGIC_DEAD 0x44454144u /* "DEAD" */

pd_rows *pd_mb_rows_new(const pd_allocator *a, int32_t kind, size_t row_size,
                        size_t n) {
  pd_rows *r = pd_malloc(a, sizeof *r);
  if (!r) return NULL;
  /* One spare row so that an empty table still owns a valid pointer. */
  r->data = pd_calloc(a, n + 1, row_size);
  if (!r->data) {
    pd_free(a, r);
    return NULL;
  }
  r->magic = PD_ROWS_MAGIC;
  r->kind = kind;
  r->alloc = *a;
  r->n = n;
  r->row_size = row_size;
  for (size_t i = 0; i < n; i++) memcpy(pd_mb_row(r, i), &row_size, sizeof row_size);
  return r;
}

static int rows_valid(const pd_rows *r) {
  return r != NULL && r->magic == PD_ROWS_MAGIC;
}

size_t pd_rows_count(const pd_rows *r) { return rows_valid(r) ? r->n : 0; }

void pd_rows_free(pd_rows *r) {
  if (!rows_valid(r)) return;
  pd_allocator a = r->alloc;
  r->magic = PD_ROWS_MAGIC_DEAD;
  pd_free(&a, r->data);
  pd_free(&a, r);
}

pd_status pd_mb_rows_get(const pd_rows *r, int32_t kind, size_t i,
                         void *out) {
  if (r == NULL || out == NULL) return PD_E_INVALID;
  if (!rows_valid(r) || r->kind != kind) return PD_E_MISUSE;
  size_t size;
  memcpy(&size, out, sizeof size);
  if (size < r->row_size) return PD_E_INVALID;
  if (i >= r->n) return PD_E_RANGE;
  memcpy(out, (const char *)r->data + i * r->row_size, r->row_size);
  memcpy(out, &size, sizeof size);
  return PD_OK;
}
