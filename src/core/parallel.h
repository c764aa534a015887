/* Running independent blocks of work on several threads.
 *
 * Why blocks: results must not depend on the thread count. Callers cut
 * their work into blocks whose boundaries depend only on the data (never
 * on the number of threads), let each block write its own partial result,
 * and combine the partials in block order on the calling thread. Then one
 * thread and eight threads add the same numbers in the same order and get
 * bit-identical results.
 *
 * Threads are started for each call and joined before it returns (no pool
 * that would outlive a handle, nothing global). Starting a thread costs
 * tens of microseconds, so callers run small inputs on one thread. */
#ifndef PD_CORE_PARALLEL_H
#define PD_CORE_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

/* The largest thread count any option accepts. */
#define PD_PARALLEL_MAX_THREADS 64

/* Work for one block; blocks run in any order and concurrently, so a block
 * may write only its own slots of shared memory. */
typedef void (*pd_parallel_block_fn)(void *ctx, size_t block);

/* Runs fn(ctx, b) once for every b in [0, nblocks) on up to `threads`
 * threads, the calling thread included, and returns when every block has
 * run. threads <= 1 (or nblocks <= 1) runs everything on the calling
 * thread. A thread that cannot be started (out of resources) is simply
 * not used: the work is done by the threads that did start, so this never
 * fails. */
void pd_parallel_for(int32_t threads, size_t nblocks, pd_parallel_block_fn fn,
                     void *ctx);

/* Work for one block, told which worker runs it: an index in
 * [0, threads) that no other block running at the same time has, so a
 * block may use per-worker scratch memory allocated beforehand. */
typedef void (*pd_parallel_worker_fn)(void *ctx, size_t block, int32_t worker);

/* pd_parallel_for, with the worker index passed to fn (0 on the calling
 * thread), below pd_parallel_workers(threads, nblocks). */
void pd_parallel_for_workers(int32_t threads, size_t nblocks,
                             pd_parallel_worker_fn fn, void *ctx);

/* How many workers pd_parallel_for_workers() runs for nblocks blocks on
 * `threads` (never more than the blocks or PD_PARALLEL_MAX_THREADS, at
 * least 1): the count to size per-worker scratch by. */
int32_t pd_parallel_workers(int32_t threads, size_t nblocks);

/* Resolves a user's thread-count option: 0 means "one per online
 * processor" (capped at PD_PARALLEL_MAX_THREADS; 1 where the count is
 * unknown), any other value is returned unchanged. */
int32_t pd_parallel_resolve_threads(int32_t requested);

#endif
