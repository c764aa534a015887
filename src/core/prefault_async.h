/* Taking page faults on a background thread while the caller goes on.
 *
 * Why: a bulk load reserves its columns and then fills them front to back
 * on one thread. Taking their faults before it starts (prefault.h) costs
 * the load that whole time (the 10M-user reservation of
 * docs/PERFORMANCE.md took 14.7-16.4 s that way, 3.3 s without the
 * columns' faults); one otherwise idle core can
 * take them while the filling thread records, staying ahead of it.
 *
 * How: Linux's MADV_POPULATE_WRITE (5.14) makes pages resident and
 * writable without writing a byte, so the caller may read and write the
 * same memory meanwhile. Where it is missing, pd_prefault_async_start()
 * answers NULL and the caller falls back to pd_prefault(). */
#ifndef PD_CORE_PREFAULT_ASYNC_H
#define PD_CORE_PREFAULT_ASYNC_H

#include <stddef.h>

#include "core/alloc.h"

typedef struct pd_prefault_range {
  void *p;
  size_t bytes;
} pd_prefault_range;

typedef struct pd_prefault_async pd_prefault_async;

/* Starts making the n ranges resident on one new thread and returns at
 * once. The ranges are taken in turns, a 64th of each per turn and each
 * from its start, so that a caller filling them all at proportional
 * rates from their starts keeps finding its pages there. The ranges are
 * copied; their memory must stay mapped until pd_prefault_async_stop().
 * Returns NULL, having started nothing, when it cannot: not Linux, a
 * kernel without MADV_POPULATE_WRITE, no ranges, no memory (from `a`) or
 * no thread. */
pd_prefault_async *pd_prefault_async_start(const pd_allocator *a,
                                           const pd_prefault_range *ranges,
                                           size_t n);

/* Waits until every range is resident (or the thread gave up), then
 * stops as pd_prefault_async_stop(). */
void pd_prefault_async_finish(pd_prefault_async *job);

/* Stops the thread within one step (2 MiB of faults), joins it and frees
 * the job; what was not made resident faults when first used. NULL does
 * nothing. */
void pd_prefault_async_stop(pd_prefault_async *job);

#endif
