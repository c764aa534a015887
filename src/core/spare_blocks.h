/* Large freed blocks kept for reuse.
 *
 * Why: a fresh large block costs a page fault per 4 KiB page on its first
 * write (the kernel zeroes the page; under a hypervisor that takes freed
 * memory back, a host fault too: 1.6-7.5 s per GB on the virtual machine
 * of docs/PERFORMANCE.md), and the C library hands blocks of more than a
 * few MiB back to the system when they are freed. A computation that
 * allocates the same working arrays as the one before it pays those
 * faults again. Blocks kept here are reused while their pages are still
 * there.
 *
 * The set knows nothing of what the blocks hold or who allocated them: it
 * is given a block and its capacity, and a function to release blocks it
 * pushes out. Safe to use from several threads at once (a mutex guards
 * it). */
#ifndef PD_CORE_SPARE_BLOCKS_H
#define PD_CORE_SPARE_BLOCKS_H

#include <stddef.h>
#include <stdint.h>
#include <threads.h>

/* Blocks kept at most; past that the oldest is released. */
#define PD_SPARE_MAX 64

typedef void (*pd_spare_release_fn)(void *ctx, void *block);

typedef struct pd_spare_blocks {
  mtx_t lock;
  struct {
    void *block;
    size_t cap;
  } kept[PD_SPARE_MAX]; /* oldest first */
  size_t n;
  uint64_t bytes; /* sum of kept[].cap */
  pd_spare_release_fn release;
  void *ctx;
} pd_spare_blocks;

/* An empty set whose blocks are released with release(ctx, block).
 * Returns 0, or -1 if the mutex cannot be made. */
int pd_spare_init(pd_spare_blocks *sp, pd_spare_release_fn release,
                  void *ctx);

/* Release every kept block and the mutex. */
void pd_spare_destroy(pd_spare_blocks *sp);

/* A kept block of at least `bytes` and at most twice that, the smallest
 * there is, taken out of the set with its capacity in *cap; NULL if none
 * fits (a much larger block stays for a request of its size). */
void *pd_spare_take(pd_spare_blocks *sp, size_t bytes, size_t *cap);

/* Keep `block` (of `cap` bytes), then release the oldest blocks until at
 * most `limit` bytes are kept; a block larger than `limit` is released at
 * once. */
void pd_spare_give(pd_spare_blocks *sp, void *block, size_t cap,
                   uint64_t limit);

/* Release the oldest blocks until at most `limit` bytes are kept. */
void pd_spare_trim(pd_spare_blocks *sp, uint64_t limit);

/* Bytes kept now. */
uint64_t pd_spare_bytes(pd_spare_blocks *sp);

#endif
