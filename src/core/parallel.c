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
  pd_parallel_worker_fn fn;
  void *ctx;
  size_t nblocks;
  atomic_size_t next; /* the next block nobody has taken */
} parallel_job;

/* One thread's view of the job: which worker it is. */
typedef struct parallel_worker {
  parallel_job *job;
  int32_t index;
} parallel_worker;

/* Takes blocks until none is left; the order in which blocks are taken
 * does not matter because each writes only its own partial result. */
static void drain(parallel_job *job, int32_t index) {
  for (;;) {
    size_t b = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
    if (b >= job->nblocks) return;
    job->fn(job->ctx, b, index);
  }
}

static int worker(void *arg) {
  const parallel_worker *w = arg;
  drain(w->job, w->index);
  return 0;
}

int32_t pd_parallel_workers(int32_t threads, size_t nblocks) {
  if (threads > PD_PARALLEL_MAX_THREADS) threads = PD_PARALLEL_MAX_THREADS;
  if (threads < 1 || nblocks <= 1) return 1;
  return (size_t)threads > nblocks ? (int32_t)nblocks : threads;
}

void pd_parallel_for_workers(int32_t threads, size_t nblocks,
                             pd_parallel_worker_fn fn, void *ctx) {
  if (nblocks == 0) return;
  threads = pd_parallel_workers(threads, nblocks);
  if (threads <= 1) {
    for (size_t b = 0; b < nblocks; b++) fn(ctx, b, 0);
    return;
  }
  parallel_job job = {fn, ctx, nblocks, 0};
  atomic_init(&job.next, 0);
  thrd_t helpers[PD_PARALLEL_MAX_THREADS];
  parallel_worker who[PD_PARALLEL_MAX_THREADS];
  int started = 0;
  for (int32_t i = 1; i < threads; i++) {
    who[started] = (parallel_worker){&job, started + 1};
    if (thrd_create(&helpers[started], worker, &who[started]) != thrd_success)
      break;
    started++;
  }
  drain(&job, 0);
  /* thrd_join's status is ignored: a helper cannot fail, and the job's
   * memory must stay alive until every helper has returned anyway. */
  for (int i = 0; i < started; i++) thrd_join(helpers[i], NULL);
}

/* pd_parallel_for's callback, carried through the worker form. */
typedef struct plain_call {
  pd_parallel_block_fn fn;
  void *ctx;
} plain_call;

static void call_plain(void *ctx, size_t block, int32_t worker_index) {
  (void)worker_index;
  const plain_call *c = ctx;
  c->fn(c->ctx, block);
}

void pd_parallel_for(int32_t threads, size_t nblocks, pd_parallel_block_fn fn,
                     void *ctx) {
  plain_call c = {fn, ctx};
  pd_parallel_for_workers(threads, nblocks, call_plain, &c);
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
