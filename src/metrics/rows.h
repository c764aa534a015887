/* The pd_rows handle (breakdown.h): an immutable array of one kind of row
 * struct, made by a figure and read with that figure's typed getter. */
#ifndef PD_METRICS_ROWS_H
#define PD_METRICS_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/breakdown.h>

#include "core/alloc.h"

/* Kinds of row a pd_rows may hold (never 0, so a zeroed handle is none). */
enum {
  PD_MB_ROWS_LINK_RETENTION = 1,
  PD_MB_ROWS_FUNNEL = 2,
  PD_MB_ROWS_REPURCHASE = 3,
  PD_MB_ROWS_GUIDE = 4,
  PD_MB_ROWS_HANDOVER = 5,
  PD_MB_ROWS_RFM = 6
};

struct pd_rows {
  uint32_t magic;
  int32_t kind;
  pd_allocator alloc; /* the store's caller allocator, copied */
  size_t n;
  size_t row_size;
  void *data; /* n rows of row_size bytes, each starting with its size */
};

/* A rows handle for n rows of row_size bytes (zeroed), or NULL when out of
 * memory. */
pd_rows *pd_mb_rows_new(const pd_allocator *a, int32_t kind, size_t row_size,
                        size_t n);

static inline void *pd_mb_row(pd_rows *r, size_t i) {
  return (char *)r->data + i * r->row_size;
}

/* The typed getters' body: copy row i (row_size bytes) into out, keeping
 * the caller's size field. */
pd_status pd_mb_rows_get(const pd_rows *r, int32_t kind, size_t i, void *out);

#endif
