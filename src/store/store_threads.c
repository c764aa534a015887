/* pd_store_set_threads / pd_store_threads: the thread count of metric
 * computations, a runtime setting kept in the handle only. */
#include "store/store_threads.h"

#include <privdomain/store.h>

#include "core/parallel.h"
#include "core/prefault.h"

pd_status pd_store_set_threads(pd_store *s, int32_t threads) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (threads < 0 || threads > PD_PARALLEL_MAX_THREADS)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "threads %d is outside 0..%d (0 = one per "
                                 "online processor)",
                                 (int)threads, PD_PARALLEL_MAX_THREADS));
  s->threads_minus_one = threads - 1;
  return pd_st_leave(s, PD_OK);
}

uint64_t *pd_st_alloc_slots(pd_store *s, size_t cap) {
  return pd_alloc_random_zeroed(&s->alloc, &s->caller_alloc, cap,
                                sizeof(uint64_t), pd_st_threads(s));
}

int32_t pd_store_threads(const pd_store *cs) {
  if (!pd_st_valid(cs)) return -1;
  /* Locked (not a bare read) so a concurrent set is not a data race; the
   * store's message is left alone, as for the other plain getters. */
  pd_store *s = (pd_store *)cs;
  pd_st_lock(s);
  int32_t t = s->threads_minus_one + 1;
  pd_st_unlock(s);
  return t;
}

int32_t pd_st_threads(const pd_store *s) {
  return pd_parallel_resolve_threads(s->threads_minus_one + 1);
}
