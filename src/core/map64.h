/* Open-addressing hash map from uint64 keys to uint64 values, linear
 * probing, power-of-two capacity, load kept at or below 3/4. Key 0 is
 * reserved as "empty": callers map their keys to non-zero values (e.g.
 * through pd_mix64 with a fixup) or store key+1. Deletion uses backward
 * shift, so there are no tombstones. Not thread-safe. */
#ifndef PD_CORE_MAP64_H
#define PD_CORE_MAP64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

typedef struct pd_map64 {
  uint64_t *keys;
  uint64_t *vals;
  size_t cap; /* 0 or a power of two */
  size_t len;
} pd_map64;

void pd_map64_init(pd_map64 *m);
void pd_map64_free(pd_map64 *m, const pd_allocator *a);
/* Pointer to the value of key, or NULL. */
uint64_t *pd_map64_get(const pd_map64 *m, uint64_t key);
/* Make room for `extra` more keys, so the next `extra` puts of new keys
 * cannot fail. Returns 0 or -1 (out of memory, map unchanged). */
int pd_map64_reserve(pd_map64 *m, const pd_allocator *a, size_t extra);
/* Insert or overwrite. Returns 0 or -1 (out of memory, map unchanged). */
int pd_map64_put(pd_map64 *m, const pd_allocator *a, uint64_t key,
                 uint64_t val);
/* Remove key if present; returns whether it was. */
bool pd_map64_del(pd_map64 *m, uint64_t key);
/* Bytes allocated by the map. */
size_t pd_map64_bytes(const pd_map64 *m);

#endif
