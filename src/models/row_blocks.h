/* Work over customer rows cut into fixed blocks, run on several threads.
 *
 * Blocks hold PD_ROW_BLOCK consecutive rows whatever the thread count, so
 * a sum is always the block partials added in block order and one thread
 * or many produce bit-identical results. Inputs of fewer than
 * PD_ROW_PARALLEL_MIN rows run on the calling thread (starting a thread
 * costs about as much as a few hundred rows of likelihood), through the
 * same blocks. Nothing here allocates: partials live on the stack, a wave
 * of PD_ROW_WAVE blocks at a time. */
#ifndef PD_MODELS_ROW_BLOCKS_H
#define PD_MODELS_ROW_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#define PD_ROW_BLOCK ((size_t)8192)
#define PD_ROW_PARALLEL_MIN ((size_t)32768)
#define PD_ROW_WAVE 64
/* The most sums one pass may carry (value, gradient, Hessian …). */
#define PD_ROW_MAX_SUMS 24
/* "No block failed". */
#define PD_ROW_NONE ((size_t)-1)

/* Writes the sums of rows [begin, end) to sums[0..nsums-1] (assigning,
 * not adding). Runs concurrently with other blocks: it may only read
 * shared state. */
typedef void (*pd_row_sum_fn)(void *ctx, size_t begin, size_t end,
                              double *sums);

/* Per-row work on rows [begin, end) (writing only those rows' outputs);
 * returns 0 on success, nonzero when a row failed. */
typedef int (*pd_row_map_fn)(void *ctx, size_t begin, size_t end);

/* The number of threads to use for n rows under the caller's option
 * (0 = one per online processor). */
int32_t pd_row_threads(int32_t threads, size_t n);

/* sums[k] = Σ over blocks, in block order, of the block's sum k, for the
 * n rows. nsums <= PD_ROW_MAX_SUMS. */
void pd_row_sums(int32_t threads, size_t n, size_t nsums, pd_row_sum_fn fn,
                 void *ctx, double *sums);

/* Runs fn over every block of the n rows; returns the first block (in
 * row order) that failed, or PD_ROW_NONE. Later blocks still run. */
size_t pd_row_map(int32_t threads, size_t n, pd_row_map_fn fn, void *ctx);

#endif
