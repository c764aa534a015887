/* Customer ids for summaries: each distinct byte string gets a dense id
 * 0, 1, 2 … in order of first appearance, and the table can be rolled back
 * to an earlier count without allocating, so a failed batch leaves no
 * trace. Not thread-safe. */
#ifndef PD_MODELS_CUSTOMER_IDS_H
#define PD_MODELS_CUSTOMER_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/map64.h"

#define PD_CUSTOMER_NONE UINT32_MAX

typedef struct pd_customer_ids {
  char *bytes;       /* every id followed by NUL */
  size_t bytes_len, bytes_cap;
  uint64_t *offsets; /* id -> start in bytes; offsets[count] = bytes_len */
  size_t offsets_cap;
  uint32_t *next;    /* earlier id whose text hashes alike, or NONE */
  size_t next_cap;
  size_t count;
  pd_map64 heads;    /* hash -> latest id with that hash */
} pd_customer_ids;

void pd_customer_ids_init(pd_customer_ids *t);
void pd_customer_ids_free(pd_customer_ids *t, const pd_allocator *a);
uint32_t pd_customer_ids_find(const pd_customer_ids *t, const char *s,
                              size_t len);
/* Id of s, added if new (*added set to 1 then). Returns 0, or -1 when out
 * of memory or full (table unchanged). */
int pd_customer_ids_add(pd_customer_ids *t, const pd_allocator *a,
                        const char *s, size_t len, uint32_t *id, int *added);
/* Forgets ids >= count. */
void pd_customer_ids_truncate(pd_customer_ids *t, size_t count);
const char *pd_customer_ids_str(const pd_customer_ids *t, uint32_t id,
                                size_t *len);

#endif
