/* Taking a large block's page faults up front, on several threads.
 *
 * Why: the first write to each page of a fresh block costs a page fault
 * (the kernel zeroes the page; under a hypervisor that hands free memory
 * back to its host, a host fault too: 1.6-7.5 s per GB on the virtual
 * machine of docs/PERFORMANCE.md). A single thread that later fills the
 * block would take those faults one by one. Taken here, beforehand, they
 * run on every thread the caller allows, and the filling thread then
 * writes to memory already there. */
#ifndef PD_CORE_PREFAULT_H
#define PD_CORE_PREFAULT_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/alloc.h>

/* Blocks smaller than this are left to fault as they are used: starting
 * threads costs more than they would save. */
#define PD_PREFAULT_FROM ((size_t)32 << 20)

/* Make the pages of [p, p + bytes) resident and writable, keeping every
 * byte's value, on up to `threads` threads (the calling thread
 * included). With one thread it does nothing: the faults would cost the
 * same later, and the memory would be committed before it is needed.
 * Only a hint: where it cannot be done it does nothing, and it
 * never fails. The caller must own the range (no other thread reads or
 * writes it meanwhile). */
void pd_prefault(void *p, size_t bytes, int32_t threads);

/* memset(p, value, bytes), large blocks on up to `threads` threads (so
 * that their page faults are taken in parallel too). */
void pd_memset_parallel(void *p, int value, size_t bytes, int32_t threads);

/* A new block of count * size zero bytes for a table probed at random (a
 * hash index), from allocator a: advised for huge pages
 * (pd_advise_random_large, with the caller's allocator `caller`) before
 * it is cleared on up to `threads` threads. NULL when count * size
 * overflows or the allocation fails. Free with pd_free(a, ...). */
void *pd_alloc_random_zeroed(const pd_allocator *a, const pd_allocator *caller,
                             size_t count, size_t size, int32_t threads);

#endif
