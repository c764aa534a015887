/* A customer's purchases as the value figures see them: orders up to a
 * time, net of the refunds made by then, fully refunded ones left out,
 * sorted by time. Shared by store summaries and follow-up plans. */
#ifndef PD_METRICS_PURCHASES_H
#define PD_METRICS_PURCHASES_H

#include <stddef.h>
#include <stdint.h>

#include "core/prefetch.h"
#include "pushes.h"
#include "store/store_internal.h"

/* One purchase: net spend in minor units at a time. */
typedef struct pd_mx_purchase {
  uint32_t time;
  int64_t net;
} pd_mx_purchase;

/* A refund of the customer's up to the time: (order index, amount). */
typedef struct pd_mx_refund_ref {
  uint32_t order;
  int64_t amount;
} pd_mx_refund_ref;

/* The purchases of canonical root up to `end` into p[0..cap) (rf[0..rcap)
 * is scratch for its refunds), sorted by (time, net): 0 and *n, or -1
 * when root has more than cap orders or rcap refunds up to end. Reads the
 * store only: safe on several threads at once. */
int pd_mx_purchases_into(const pd_store *s, uint32_t root, uint32_t end,
                         pd_mx_purchase *p, size_t cap, pd_mx_refund_ref *rf,
                         size_t rcap, size_t *n);

/* Start loading the newest order of user id u, whose read is a cache
 * miss (orders lie in arrival order): a pass over users calls it a few
 * users ahead of pd_mx_purchases_into. Only a hint. */
static inline void pd_mx_purchases_prefetch(const pd_store *s, uint32_t u) {
  uint32_t o = s->users[u].head[PD_EV_ORDER];
  if (o == PD_ST_NIL) return;
  const pd_st_order *os = pd_st_orders(s);
  /* both lines of a record that straddles two */
  PD_PREFETCH_READ(&os[o]);
  PD_PREFETCH_READ((const char *)&os[o + 1] - 1);
}

/* The same into buffers that grow as needed (b of pd_mx_purchase, rb of
 * pd_mx_refund_ref): PD_OK or PD_E_NOMEM (message set). */
pd_status pd_mx_purchases(pd_store *s, uint32_t root, uint32_t end,
                          pd_mx_buf *b, pd_mx_buf *rb, size_t *n);

#endif
