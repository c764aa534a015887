/* Customer ids for summaries: each distinct byte string gets a dense id
 * 0, 1, 2 … in order of first appearance, and the table can be rolled back
 * to an earlier count without allocating, so a failed batch leaves no
 * trace. Not thread-safe. */
#ifndef PD_MODELS_CUSTOMER_IDS_H
#define PD_MODELS_CUSTOMER_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

#define PD_CUSTOMER_NONE UINT32_MAX
/* Ids up to this many bytes live in their hash slot, so looking one up
 * reads a single cache line. */
#define PD_CUSTOMER_INLINE 16

/* One hash slot: 32 bytes, two to a cache line. key 0 = empty. */
typedef struct pd_customer_slot {
  uint64_t key; /* hash of the text; equal keys may hold different texts */
  uint32_t id;
  uint32_t len;
  union {
    char text[PD_CUSTOMER_INLINE]; /* len <= PD_CUSTOMER_INLINE */
    uint64_t off;                  /* else: where the text is in bytes */
  } at;
} pd_customer_slot;

typedef struct pd_customer_ids {
  char *bytes;       /* every id followed by NUL */
  size_t bytes_len, bytes_cap;
  uint64_t *offsets; /* id -> start in bytes; offsets[count] = bytes_len */
  size_t offsets_cap;
  size_t count;
  pd_customer_slot *slots; /* open addressing, linear probing */
  size_t cap;              /* 0 or a power of two; load <= 3/4 */
} pd_customer_ids;

void pd_customer_ids_init(pd_customer_ids *t);
void pd_customer_ids_free(pd_customer_ids *t, const pd_allocator *a);
uint32_t pd_customer_ids_find(const pd_customer_ids *t, const char *s,
                              size_t len);
/* Id of s, added if new (*added set to 1 then). Returns 0, or -1 when out
 * of memory or full (table unchanged). */
int pd_customer_ids_add(pd_customer_ids *t, const pd_allocator *a,
                        const char *s, size_t len, uint32_t *id, int *added);
/* The hash key of s that the _keyed and prefetch calls take (never 0). */
uint64_t pd_customer_ids_key(const char *s, size_t len);
/* pd_customer_ids_add() with key = pd_customer_ids_key(s, len). */
int pd_customer_ids_add_keyed(pd_customer_ids *t, const pd_allocator *a,
                              uint64_t key, const char *s, size_t len,
                              uint32_t *id, int *added);

/* Stages of pd_customer_ids_prefetch(), issued in this order some
 * lookups apart: the second reads the line the first fetched. */
enum {
  PD_CUSTOMER_PREFETCH_SLOT, /* the key's home slot */
  PD_CUSTOMER_PREFETCH_TEXT  /* the text of a long id found there */
};
/* A hint that the id of key will be looked up soon, so that the memory
 * latencies of the lookups of a batch overlap; no effect on results. */
void pd_customer_ids_prefetch(const pd_customer_ids *t, uint64_t key,
                              int stage);
/* Forgets ids >= count. */
void pd_customer_ids_truncate(pd_customer_ids *t, size_t count);
const char *pd_customer_ids_str(const pd_customer_ids *t, uint32_t id,
                                size_t *len);

#endif
