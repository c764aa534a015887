/* What the population figures of the metrics layer share (retention,
 * unlinks, campaign health, funnel, repurchase, referral, guides, RFM):
 * one pass over the users that resolves canonical ids and the filter, the
 * events of each canonical user gathered from the columns (sequential
 * scans, so a figure over millions of users and events stays fast), link
 * spells replayed from them, group keys and medians. Everything runs with
 * the store's lock held and allocates through the store's allocator. */
#ifndef PD_METRICS_POPULATION_H
#define PD_METRICS_POPULATION_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/breakdown.h>
#include <privdomain/events.h>
#include <privdomain/metrics.h>

#include "core/map64.h"
#include "core/prefetch.h"
#include "filter.h"
#include "store/store_internal.h"

#define PD_MB_DAY 86400.0

/* A figure's view of the users. */
typedef struct pd_mb_ctx {
  pd_store *s;
  pd_mx_filter f;
  uint32_t n;        /* s->n_users: ids are 1 .. n-1 */
  uint32_t *root_of; /* [n] canonical id of each id, 0 if erased */
  uint8_t *pass;     /* [n] 1 for canonical ids that pass the filter */
  uint32_t *in_root; /* [n] root_of[u] if that root passes, else 0: one
                        lookup per event in the column scans */
  int32_t threads;   /* the store's thread count, resolved (par.h) */
} pd_mb_ctx;

/* Check the filter and resolve every user. Store lock held; on error the
 * store's message is set and nothing is held. */
pd_status pd_mb_ctx_init(pd_mb_ctx *c, pd_store *s,
                         const pd_metrics_filter *filter);
void pd_mb_ctx_free(pd_mb_ctx *c);

static inline const pd_allocator *pd_mb_alloc(const pd_mb_ctx *c) {
  return &c->s->alloc;
}
pd_status pd_mb_nomem(pd_mb_ctx *c);

/* Grow *v (items of elem bytes, capacity *cap) to hold at least n items,
 * the new ones zeroed: per-group counters that appear as groups do.
 * PD_OK, or PD_E_NOMEM with the store's message and *v unchanged. The
 * passes call it for every user or spell, so the check that nothing needs
 * to grow is inline. */
pd_status pd_mb_grow_zeroed_slow(pd_mb_ctx *c, void **v, size_t *cap,
                                 size_t n, size_t elem);
static inline pd_status pd_mb_grow_zeroed(pd_mb_ctx *c, void **v,
                                          size_t *cap, size_t n,
                                          size_t elem) {
  return n <= *cap ? PD_OK : pd_mb_grow_zeroed_slow(c, v, cap, n, elem);
}

/* The output arguments of a top-k figure (pd_referral_top, pd_super_users):
 * rows and n non-NULL, 1 <= k <= cap, and rows[0].size (every row struct
 * starts with its size) at least row_size, else PD_E_INVALID with the
 * store's message naming the row's init macro @init. Writes rows[0].size,
 * the caller's row stride, to *stride. Does not take or leave the lock. */
pd_status pd_mb_top_k_args(pd_store *s, const void *rows, const size_t *n,
                           size_t k, size_t cap, size_t row_size,
                           const char *init, size_t *stride);

/* The (recorded) user id of event i of a kind (the referrer for
 * referrals). */
uint32_t pd_mb_event_user(const pd_store *s, int kind, uint32_t i);
uint64_t pd_mb_event_eid(const pd_store *s, int kind, uint32_t i);

/* Events of one kind grouped by canonical user: the events of root r are
 * key[off[r]] .. key[off[r+1]-1], in time order (ties by event id). A key
 * packs the event's time (high 32 bits), a 4-bit tag the builder chose
 * (bits 28-31) and the event's index (low 28 bits, PD_ST_INDEX_BITS), so
 * readers get time and tag without touching the event's record. Only
 * events at or before `upto` of users passing the filter are kept, and
 * only those the tag function keeps. */
typedef struct pd_mb_csr {
  uint32_t *off; /* [n + 1] */
  uint64_t *key;
} pd_mb_csr;

/* Tags of touchpoints by their kind (PD_TOUCH_*): 0-15, or -1 to leave
 * a kind out. A table, not a callback: the grouping reads it for each of
 * a large column's touchpoints. */
typedef struct pd_mb_touch_tags {
  int8_t of_kind[256];
} pd_mb_touch_tags;

static inline uint32_t pd_mb_key_index(uint64_t k) {
  return (uint32_t)k & ((UINT32_C(1) << PD_ST_INDEX_BITS) - 1);
}
static inline uint32_t pd_mb_key_time(uint64_t k) {
  return (uint32_t)(k >> 32);
}
static inline uint32_t pd_mb_key_tag(uint64_t k) {
  return (uint32_t)k >> PD_ST_INDEX_BITS;
}
static inline uint64_t pd_mb_key(uint32_t time, uint32_t tag, uint32_t i) {
  return (uint64_t)time << 32 | (uint64_t)tag << PD_ST_INDEX_BITS | i;
}

/* Put one user's keys v[0..n) in the grouping's order: by time, ties by
 * event id (eid: the kind's event ids by index). */
void pd_mb_sort_keys(const uint64_t *eid, uint64_t *v, size_t n);

/* Events of `kind` up to `upto`, grouped by canonical user. tags (only
 * for PD_EV_TOUCH) keeps the touchpoints of tagged kinds, with their tag
 * in the keys; NULL keeps every event, tag 0. */
pd_status pd_mb_csr_build(pd_mb_ctx *c, int kind, uint32_t upto,
                          const pd_mb_touch_tags *tags, pd_mb_csr *out);
void pd_mb_csr_free(pd_mb_ctx *c, pd_mb_csr *csr);

/* Refunds at or before as_of per order index, or *out = NULL when every
 * live refund is (then the order's `refunded` field is right). */
pd_status pd_mb_refunds_at(pd_mb_ctx *c, uint32_t as_of, int64_t **out);

/* Net amount of order i given pd_mb_refunds_at()'s array. */
static inline int64_t pd_mb_net(const pd_store *s, const int64_t *ref,
                                uint32_t i) {
  const pd_st_order *o = &pd_st_orders(s)[i];
  return o->amount - (ref ? ref[i] : o->refunded);
}

/* A link spell: linked on `channel` from `start` until `end` (an effective
 * unlink by `initiator`), or still open (end = PD_ST_NIL, initiator 0). */
typedef struct pd_mb_spell {
  uint32_t channel, start, end;
  uint32_t initiator;
} pd_mb_spell;

/* Reusable buffers for one user's spells. */
typedef struct pd_mb_spells {
  pd_mb_spell *v;
  size_t n, cap;
  uint32_t *refs; /* sort workspace */
  size_t refs_cap;
} pd_mb_spells;

/* The spells of `root` from the link and unlink CSRs, on `channel` (0 =
 * every channel), sorted by (channel, start). */
pd_status pd_mb_spells_of(pd_mb_ctx *c, const pd_mb_csr *links,
                          const pd_mb_csr *unlinks, uint32_t root,
                          int32_t channel, pd_mb_spells *sp);
void pd_mb_spells_free(pd_mb_ctx *c, pd_mb_spells *sp);

/* Events of one user whose records a pass prefetches, at most: a user with
 * a long history is rare, and the first few cover most of its reads. */
#define PD_MB_PREFETCH_EVENTS 4

/* Start loading the records and event ids of the first few events that
 * grouping g (of events of `kind`) holds for `root`. Only a hint. */
static inline void pd_mb_csr_prefetch(const pd_store *s, const pd_mb_csr *g,
                                      int kind, uint32_t root) {
  const pd_st_column *col = &s->col[kind];
  uint32_t a = g->off[root], b = g->off[root + 1];
  for (uint32_t k = a; k < b && k < a + PD_MB_PREFETCH_EVENTS; k++) {
    uint32_t i = pd_mb_key_index(g->key[k]);
    PD_PREFETCH_READ((const char *)col->rec + (size_t)i * col->rec_size);
    PD_PREFETCH_READ(&col->eid[i]);
  }
}

/* Start loading the records and event ids pd_mb_spells_of() will read for
 * `root`. Passes over users call it some users ahead of the one they work
 * on, so that the random reads of several users overlap instead of
 * waiting for each other (at millions of users they miss every cache).
 * Only a hint: it changes no result. */
static inline void pd_mb_spells_prefetch(const pd_mb_ctx *c,
                                         const pd_mb_csr *links,
                                         const pd_mb_csr *unlinks,
                                         uint32_t root) {
  if (links->off[root] == links->off[root + 1]) return;
  pd_mb_csr_prefetch(c->s, links, PD_EV_LINK, root);
  pd_mb_csr_prefetch(c->s, unlinks, PD_EV_UNLINK, root);
}

static inline int pd_mb_user_initiated(uint32_t initiator) {
  return initiator != 0 && initiator != PD_UNLINK_STAFF_REMOVED;
}

/* Group keys (breakdown.h PD_BY_*). */
int pd_mb_group_by_valid(int32_t by);
int64_t pd_mb_user_key(const pd_mb_ctx *c, int32_t by, uint32_t root);

/* Dense group indices for keys, in order of first appearance. */
typedef struct pd_mb_groups {
  pd_map64 map;
  int64_t *keys;
  size_t n, cap;
} pd_mb_groups;

void pd_mb_groups_init(pd_mb_groups *g);
void pd_mb_groups_free(pd_mb_ctx *c, pd_mb_groups *g);
/* The index of key (added if new): PD_OK or PD_E_NOMEM. */
pd_status pd_mb_group(pd_mb_ctx *c, pd_mb_groups *g, int64_t key,
                      uint32_t *idx);
/* The group indices sorted by key, into a new array (pd_free it). */
uint32_t *pd_mb_groups_sorted(pd_mb_ctx *c, const pd_mb_groups *g);

/* Values tagged with a group, for per-group medians. */
typedef struct pd_mb_tagged {
  uint32_t *tag;
  double *val;
  size_t n, tag_cap, val_cap;
} pd_mb_tagged;

pd_status pd_mb_tagged_push(pd_mb_ctx *c, pd_mb_tagged *t, uint32_t tag,
                            double v);
/* Room for `more` values beyond those held, so that that many pushes
 * allocate nothing: one allocation each of the exact size (which a spare
 * block may serve), rather than a chain of doublings that each take
 * fresh memory. */
pd_status pd_mb_tagged_reserve(pd_mb_ctx *c, pd_mb_tagged *t, size_t more);
void pd_mb_tagged_free(pd_mb_ctx *c, pd_mb_tagged *t);
/* median[g] and mean[g] for g < groups (0 for a group without values).
 * Reorders the values. */
pd_status pd_mb_tagged_stats(pd_mb_ctx *c, pd_mb_tagged *t, size_t groups,
                             double *median, double *mean);

/* The median of v[0..n-1] (reorders v); 0 for n = 0. */
double pd_mb_median(double *v, size_t n);

/* Start of the PD_COHORT_* period containing t (t a valid store time). */
int64_t pd_mb_cohort_start(int32_t unit, int64_t t);

/* x / y, or 0 when y is 0. */
static inline double pd_mb_ratio(double x, double y) {
  return y > 0 ? x / y : 0.0;
}

#endif
