/* Rebuilding what the store derives from its arrays (hash indexes, sorted
 * handovers, deactivation links, totals), after the io layer has filled
 * the arrays from a snapshot. Each index is rebuilt by the module that
 * owns its hashing, so the probing rules live in one place. */
#ifndef PD_STORE_STORE_RESTORE_H
#define PD_STORE_STORE_RESTORE_H

#include <stdatomic.h>
#include <threads.h>

#include "event_index.h"
#include "store_internal.h"

/* Rebuild every derived structure of a store whose arrays were filled
 * directly, in two calls so that the largest part, the event-id index,
 * runs on helper threads while the calling thread checks the loaded
 * arrays (reading only, allocating as it likes):
 *
 *   pd_st_restore r;
 *   pd_st_restore_begin(&r, s, threads);  // allocates, starts helpers
 *   pd_status st = ...checks...;
 *   st = pd_st_restore_finish(&r, st);    // the rest; joins; reports
 *
 * threads >= 1 (resolved); helpers are started only for indexes large
 * enough to be cut into ranges. finish() with a failed `prior` waits for
 * the helpers, frees what begin() allocated and returns `prior`. Else it
 * returns PD_OK, PD_E_NOMEM, or PD_E_CORRUPT when the arrays hold a
 * duplicate key (event id, order id, identity) or a guide deactivated
 * twice, the message in s->err; the first failure in this order is
 * reported: event ids, identities, order ids, guides, totals. The store
 * and the answer are the same for every thread count. Nothing here
 * allocates off the calling thread. */
typedef struct pd_st_restore {
  pd_store *s;
  pd_st_index_build ib;
  int ib_status;        /* 0, or -1 when begin() could not allocate */
  atomic_size_t next;   /* the next range no thread has taken */
  thrd_t helpers[PD_ST_INDEX_RANGES];
  int started;
} pd_st_restore;

void pd_st_restore_begin(pd_st_restore *r, pd_store *s, int32_t threads);
pd_status pd_st_restore_finish(pd_st_restore *r, pd_status prior);

/* The two halves of finish() for a caller that orders its own work:
 * everything but the event-id index (identities, order ids, guides,
 * totals; the message in s->err), and the event-id index alone: `built`
 * when every range of one was placed already (a fed build, taken over),
 * else NULL to build it on `threads` threads now (a built index only has
 * its deferred ids placed before it is installed). Both on the calling
 * thread, the
 * first safe to run while other threads read the store's arrays. */
pd_status pd_st_restore_rest(pd_store *s);
pd_status pd_st_restore_event_index(pd_store *s,
                                    const pd_st_index_build *built,
                                    int32_t threads);

/* The other parts, each 0, -1 (out of memory) or -2 (a key is 0 or
 * repeated); the event-id index is event_index.h's pd_st_index_build. */
int pd_st_ident_index_rebuild(pd_store *s); /* identity.c */
int pd_st_order_index_rebuild(pd_store *s); /* orders.c */

#endif
