/* pd_parallel_for: blocks handed out from a shared atomic counter to
 * threads started for the call. */
#if !defined(_POSIX_C_SOURCE) && !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* sysconf */
#endif

#include "core/parallel.h"

#include <stdatomic.h>
#include <threads.h>

#if !defined(_WIN32)
#include <unistd.h>
#endif

typedef struct parallel_job {
  pd_parallel_block_fn fn;
  void *ctx;
  size_t nblocks;
  atomic_size_t next; /* the next block nobody has taken */
} parallel_job;

/* Takes blocks until none is left; the order in which blocks are taken
 * does not matter because each writes only its own partial result. */
static void drain(parallel_job *job) {
  for (;;) {
    size_t b = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
    if (b >= job->nblocks) return;
    job->fn(job->ctx, b);
  }
}

static int worker(void *arg) {
  drain(arg);
  return 0;
}

void pd_parallel_for(int32_t threads, size_t nblocks, pd_parallel_block_fn fn,
                     void *ctx) {
  if (nblocks == 0) return;
  if (threads > PD_PARALLEL_MAX_THREADS) threads = PD_PARALLEL_MAX_THREADS;
  if (threads > 1 && (size_t)threads > nblocks) threads = (int32_t)nblocks;
  if (threads <= 1) {
    for (size_t b = 0; b < nblocks; b++) fn(ctx, b);
    return;
  }
  parallel_job job = {fn, ctx, nblocks, 0};
  atomic_init(&job.next, 0);
  thrd_t helpers[PD_PARALLEL_MAX_THREADS];
  int started = 0;
  for (int32_t i = 1; i < threads; i++) {
    if (thrd_create(&helpers[started], worker, &job) != thrd_success) break;
    started++;
  }
  drain(&job);
  /* thrd_join's status is ignored: a helper cannot fail, and the job's
   * memory must stay alive until every helper has returned anyway. */
  for (int i = 0; i < started; i++) thrd_join(helpers[i], NULL);
}

int32_t pd_parallel_resolve_threads(int32_t requested) {
  if (requested != 0) return requested;
#if defined(_SC_NPROCESSORS_ONLN)
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  if (n > PD_PARALLEL_MAX_THREADS) return PD_PARALLEL_MAX_THREADS;
  return (int32_t)n;
#else
  return 1;
#endif
}
