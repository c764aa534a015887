/* Internal questions about one user at a time, shared by the store's
 * public queries and by the metrics layer. All take the store's lock
 * already held and a canonical user id (pd_st_find) that is not erased;
 * times are seconds since the epoch. */
#ifndef PD_STORE_STORE_QUERY_H
#define PD_STORE_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/events.h>

#include "store_internal.h"

/* Visit every id of the merge set whose survivor is `root` (root first):
 *   PD_ST_FOREACH_MEMBER(s, root, m) { ... s->users[m] ... } */
#define PD_ST_FOREACH_MEMBER(s, root, m)                            \
  for (uint32_t m = (root), m##_done_ = 0; !m##_done_;              \
       m = (s)->users[m].next_member, m##_done_ = (m == (root)))

/* Visit the chain of `kind` of user id m (newest recorded first):
 *   PD_ST_FOREACH_EVENT(s, m, PD_EV_ORDER, i) { pd_st_orders(s)[i] ... }
 * Erased events are in the chain too: skip them by their time. */
#define PD_ST_FOREACH_EVENT(s, m, kind, i)                          \
  for (uint32_t i = (s)->users[m].head[kind]; i != PD_ST_NIL;       \
       i = pd_st_chain_next(s, kind, i))

static inline uint32_t pd_st_chain_next(const pd_store *s, int kind,
                                        uint32_t i) {
  switch (kind) {
    case PD_EV_LINK: return pd_st_links(s)[i].next;
    case PD_EV_UNLINK: return pd_st_unlinks(s)[i].next;
    case PD_EV_TOUCH: return pd_st_touches(s)[i].next;
    case PD_EV_ORDER: return pd_st_orders(s)[i].next;
    case PD_EV_REFUND: return pd_st_refunds(s)[i].next;
    case PD_EV_REFERRAL: return pd_st_referrals(s)[i].next;
    case PD_EV_BIND: return pd_st_binds(s)[i].next;
    case PD_EV_CONSENT: return pd_st_consents(s)[i].next;
    default: return PD_ST_NIL;
  }
}

/* The guide (id, 0 = none) bound to canonical user `root` at time t:
 * the user's binds and the handovers, in time order (ties by event id),
 * events after t ignored. */
uint32_t pd_st_guide_at(const pd_store *s, uint32_t root, uint32_t t);

/* Brings the by-guide handover index up to date (cheap when it is; called
 * by every reading entry, on the thread holding the lock, so that worker
 * threads only read it). Out of memory leaves it invalid: pd_st_guide_at()
 * is then slower, never wrong. */
void pd_st_guide_index_refresh(pd_store *s);

/* The first handover away from guide g after position (pt, pe) in (time,
 * event id) order and at or before t, or NIL: a binary search in g's
 * group of the index (a scan of every handover while it is invalid).
 * Handovers are never erased. Read-only: safe on worker threads. */
uint32_t pd_st_next_handover_from(const pd_store *s, uint32_t g, uint32_t pt,
                                  uint64_t pe, uint32_t t);
void pd_st_guide_index_free(pd_store *s);

/* The link state of `root` on `channel` at `as_of` (see
 * pd_user_link_state). `out` must be a full pd_link_state; its size
 * field is left as it is. Needs scratch memory: PD_OK or PD_E_NOMEM. */
pd_status pd_st_link_state_at(pd_store *s, uint32_t root, int32_t channel,
                              uint32_t as_of, pd_link_state *out);
/* pd_st_link_state_at() without the store's scratch, for workers reading
 * the store at once: buf[0..cap) is the caller's room (twice root's links
 * and unlinks, plus 2). 0, or -1 when cap is too small (out untouched). */
int pd_st_link_state_into(const pd_store *s, uint32_t root, int32_t channel,
                          uint32_t as_of, uint32_t *buf, size_t cap,
                          pd_link_state *out);

/* How many channels `root` is linked on at `as_of`. Uses scratch memory:
 * PD_OK or PD_E_NOMEM. */
pd_status pd_st_channels_linked(pd_store *s, uint32_t root, uint32_t as_of,
                                uint32_t *count);
/* pd_st_channels_linked() without the store's scratch, for workers
 * reading the store at once: buf[0..cap) as in pd_st_link_state_into().
 * 0, or -1 when cap is too small (count untouched). */
int pd_st_channels_linked_into(const pd_store *s, uint32_t root,
                               uint32_t as_of, uint32_t *buf, size_t cap,
                               uint32_t *count);

/* The canonical referrer of canonical user `root` (0 if none), ignoring
 * time; *event receives the referral's index (PD_ST_NIL if none). */
uint32_t pd_st_referrer_of(pd_store *s, uint32_t root, uint32_t *event);

/* Sort n uint32 values by cmp(ctx, a, b) (< 0, 0, > 0), stably, using tmp
 * (n values) as workspace. */
void pd_st_sort_u32(uint32_t *v, size_t n, uint32_t *tmp,
                    int (*cmp)(const void *ctx, uint32_t a, uint32_t b),
                    const void *ctx);

#endif
