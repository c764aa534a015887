/* How the metrics layer cuts its big passes into blocks for
 * pd_parallel_for (core/parallel.h). Block sizes are constants, so the
 * blocks, and therefore every partial sum and the order in which the
 * partials are combined, depend only on the data: any thread count gives
 * bit-identical figures. Workers only read the store (the calling thread
 * holds its lock) and never allocate: everything a block writes is
 * allocated before the parallel call, on the calling thread, because the
 * store's allocator keeps unsynchronised counts. */
#ifndef PD_METRICS_PAR_H
#define PD_METRICS_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/parallel.h"
#include "store/store_internal.h"
#include "store/store_threads.h"

/* Events per block of a column scan (a few MB of records: long enough to
 * amortise a block's start, short enough to balance two to eight
 * threads). */
#ifndef PD_MX_EVENT_BLOCK_BITS /* tests build some files with small blocks */
#define PD_MX_EVENT_BLOCK_BITS 18
#endif
#define PD_MX_EVENT_BLOCK ((size_t)1 << PD_MX_EVENT_BLOCK_BITS)
/* Users per block of a pass over user ids: a block's per-user arrays
 * (a few hundred KB) stay in cache while its events are scattered. */
#ifndef PD_MX_USER_BLOCK_BITS /* tests build some files with small blocks */
#define PD_MX_USER_BLOCK_BITS 15
#endif
#define PD_MX_USER_BLOCK ((size_t)1 << PD_MX_USER_BLOCK_BITS)

static inline size_t pd_mx_blocks(size_t n, size_t per) {
  return n == 0 ? 0 : (n - 1) / per + 1;
}

/* Block b of n items cut into blocks of `per`: items [*lo, *hi). */
static inline void pd_mx_block_range(size_t b, size_t per, uint32_t n,
                                     uint32_t *lo, uint32_t *hi) {
  *lo = (uint32_t)(b * per);
  *hi = n - *lo > per ? *lo + (uint32_t)per : n;
}

/* The thread count of the store's computations (lock held). */
static inline int32_t pd_mx_threads(const pd_store *s) {
  return pd_st_threads(s);
}

/* The canonical id of u without path halving: safe from several threads
 * reading the store at once (pd_st_find writes). */
static inline uint32_t pd_mx_find_ro(const pd_store *s, uint32_t u) {
  const pd_st_user *us = s->users;
  while (us[u].parent != u) u = us[u].parent;
  return u;
}

#endif
