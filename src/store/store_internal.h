/* The store's internal state: plain arrays that the store layer writes and
 * the metrics and io layers read directly (under the store's lock).
 *
 * Layout in one paragraph. Users are numbered from 1; users[u] holds the
 * union-find parent, the circular list of the merge set and, per kind of
 * event, the head of a singly linked chain of that user id's events. Each
 * kind of event lives in its own column: an array of event ids (eid[i])
 * beside an array of packed records (rec[i]), appended in arrival order and
 * never moved, so an event's index is stable for the store's lifetime.
 * Records carry the user id they were recorded under (not the survivor of
 * a later merge), so per-user questions walk every member of the merge set
 * and, for each member, its chain of that kind. Times are stored as uint32
 * seconds since the epoch (PD_TIME_MAX < 2^32); an erased event keeps its
 * event id (so a retry is answered PD_E_ERASED) but its time becomes
 * PD_ST_ERASED and its other payload is zeroed.
 *
 * Readers' contract: take pd_st_lock() / pd_st_unlock() around reads when
 * other threads may record; skip events whose time is PD_ST_ERASED; use
 * pd_st_find() for the canonical id of a user; an index or chain link equal
 * to PD_ST_NIL means "none". */
#ifndef PD_STORE_STORE_INTERNAL_H
#define PD_STORE_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <threads.h>

#include <privdomain/store.h>
#include <privdomain/users.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/sha256.h"
#include "core/spare_blocks.h"

#define PD_ST_MAGIC 0x50445354u       /* "PDST": a live store */
#define PD_ST_MAGIC_DEAD 0x44454144u  /* "DEAD": freed */

/* "No event / no user / end of chain". */
#define PD_ST_NIL UINT32_MAX
/* The time of an erased event (greater than any valid time). */
#define PD_ST_ERASED UINT32_MAX

/* Kinds of event. Also the tag in the event-id index, so they fit in 4
 * bits, start at 1 and are never renumbered (snapshots may store them). */
enum {
  PD_EV_LINK = 1,
  PD_EV_UNLINK = 2,
  PD_EV_TOUCH = 3,
  PD_EV_ORDER = 4,
  PD_EV_REFUND = 5,
  PD_EV_REFERRAL = 6, /* chained on the referrer; see users[].referral_in */
  PD_EV_BIND = 7,
  PD_EV_HANDOVER = 8, /* not per user */
  PD_EV_DEACTIVATE = 9,
  PD_EV_REACH = 10,
  PD_EV_COST = 11,
  PD_EV_CONSENT = 12, /* consent granted or withdrawn (consent.c) */
  PD_EV_KINDS = 13 /* one past the last kind */
};

/* Kinds that are chained per user: users[u].head[kind] for 1..7 and for
 * PD_EV_CONSENT (slots 8..11, kinds that are not per user, stay NIL);
 * slot 0 of head[] chains the user's identities. */
#define PD_ST_CHAIN_IDENTITY 0
#define PD_ST_USER_CHAINS (PD_EV_CONSENT + 1)

/* Capacity limits: the index tag keeps 28 bits of event index per kind. */
#define PD_ST_INDEX_BITS 28
#define PD_ST_MAX_EVENTS_PER_KIND ((uint32_t)1 << PD_ST_INDEX_BITS)
#define PD_ST_MAX_USERS (UINT32_MAX - 2u)

/* users[].flags */
enum { PD_ST_USER_ERASED = 1u };

typedef struct pd_st_user {
  uint32_t parent;      /* union-find parent; == own id for a survivor */
  uint32_t next_member; /* next id of the same merge set (circular) */
  uint32_t referral_in; /* referral naming this id as referee, or NIL */
  uint32_t flags;       /* PD_ST_USER_* */
  uint32_t head[PD_ST_USER_CHAINS]; /* newest event of each kind, or NIL */
} pd_st_user;

/* One identity (namespace, key). The key bytes live in
 * store->ident_bytes at [off, off + len) (not NUL-terminated). */
typedef struct pd_st_identity {
  uint64_t off;
  uint32_t len;
  uint32_t user; /* the id it was attached to; 0 once erased */
  uint32_t next; /* next identity of the same user id, or NIL */
  uint32_t ns;   /* index into store->namespaces */
} pd_st_identity;

/* ---- event records (one packed struct per kind) ---------------------- */

typedef struct pd_st_link {
  uint32_t user, next, time;
  uint32_t source, campaign, guide;
  uint16_t channel, pad;
} pd_st_link;

typedef struct pd_st_unlink {
  uint32_t user, next, time, guide;
  uint16_t channel;
  uint8_t initiator, pad;
} pd_st_unlink;

typedef struct pd_st_touch {
  uint32_t user, next, time, guide, campaign;
  uint16_t channel;
  uint8_t kind, purpose;
  uint8_t rating[4]; /* expertise, reliability, intimacy, self-orientation */
} pd_st_touch;

typedef struct pd_st_order {
  uint64_t order_id;
  int64_t amount;
  int64_t refunded; /* sum of the order's live refunds */
  uint32_t user, next, time, guide, shop;
  uint16_t channel, pad;
} pd_st_order;

typedef struct pd_st_refund {
  int64_t amount;
  uint32_t order; /* index into the order column */
  uint32_t user;  /* the order's user id */
  uint32_t next, time;
} pd_st_refund;

typedef struct pd_st_referral {
  uint32_t referrer, referee;
  uint32_t next; /* next referral made by the same referrer id */
  uint32_t time, campaign;
} pd_st_referral;

typedef struct pd_st_bind {
  uint32_t user, next, time, guide;
} pd_st_bind;

typedef struct pd_st_handover {
  uint32_t from, to, time;
} pd_st_handover;

typedef struct pd_st_deactivate {
  uint32_t guide, time;
} pd_st_deactivate;

typedef struct pd_st_reach {
  uint64_t reached;
  uint32_t period_start, period_end, source;
  uint16_t channel, pad;
} pd_st_reach;

typedef struct pd_st_consent {
  uint32_t user, next, time;
  uint8_t purpose, granted;
  uint16_t pad;
} pd_st_consent;

typedef struct pd_st_cost {
  int64_t amount;
  uint32_t period_start, period_end, source;
  uint16_t channel, pad;
} pd_st_cost;

/* One kind's column: eid[i] and rec[i] (of rec_size bytes) for i < n. */
typedef struct pd_st_column {
  uint64_t *eid;
  void *rec;
  uint32_t n;    /* events recorded, erased ones included */
  uint32_t live; /* events not erased */
  size_t cap;
  size_t rec_size;
} pd_st_column;

/* The event-id index: buckets of one cache line, each holding up to
 * PD_ST_BUCKET_SLOTS tags (kind << 28 | index) and, beside them, a
 * one-byte fingerprint of each tag's event id (0 = empty). The key (the
 * event id) is read from the event's column only when a fingerprint
 * matches, so an index probe costs one cache miss. Slots of a bucket fill
 * in order; a full bucket overflows into the next (linear probing over
 * buckets), load <= 7/8. Tags cost 4 bytes, 64/12 per slot with the
 * fingerprints (about 6-12 bytes per event; 6.1 when reserved). */
#define PD_ST_BUCKET_SLOTS 12
typedef struct pd_st_bucket {
  uint8_t fp[16]; /* fp[0..11]; 12..15 stay 0 */
  uint32_t tag[PD_ST_BUCKET_SLOTS];
} pd_st_bucket;

typedef struct pd_st_index {
  void *mem;             /* the allocation; buckets is mem aligned to 64 */
  pd_st_bucket *buckets;
  size_t nbuckets;       /* 0, or any count from 64 up to 2^32 */
  size_t limit;          /* events nbuckets hold at load 7/8 */
  size_t len;
  /* The last id looked up and not found, and the first bucket with room
   * on its probe path, so that appending it does not probe again (0 =
   * none; cleared when the buckets are rebuilt). */
  uint64_t hint_eid;
  size_t hint_bucket;
  /* What pd_store_reserve promised room for: reserved[k] events of kind
   * k in all (recorded ones included), reserved[0] events of any kinds.
   * A reservation sizes the index for every promise still open. */
  size_t reserved[PD_EV_KINDS];
} pd_st_index;

/* A table of names with stable NUL-terminated copies (pointers handed to
 * callers stay valid until the store is freed); ids are dense from 0. */
typedef struct pd_st_names {
  char **str;
  uint32_t *len;
  size_t n, cap;
  uint32_t *slots; /* open addressing, id + 1, 0 = empty */
  size_t slots_cap;
} pd_st_names;

/* Channels: public id -> kind. Built-ins are ids 1..PD_CHANNEL_BUILTIN_LAST;
 * custom ones PD_CHANNEL_CUSTOM_FIRST + k, where k indexes channel_names
 * after the built-ins. Ids fit in uint16 (custom ids up to 65535). */
#define PD_ST_CHANNEL_ID_MAX 65535

struct pd_store {
  uint32_t magic;
  int32_t currency_exponent;
  mtx_t lock;
  int depth; /* > 0 while a callback runs: recording is refused */
  int batch_prefetched; /* pd_record_events prefetched the current event */

  pd_allocator caller_alloc; /* what the caller gave (or libc) */
  pd_allocator alloc;        /* counting wrapper used for everything */
  uint64_t memory_bytes;     /* held by live blocks (store_memory.c) */
  /* Freed blocks of spare_from bytes and more kept for the next
   * computation, up to pd_store_set_spare_limit() (spare_limit, -1 =
   * automatic), while spare_keeping: set by pd_st_enter() for the calls
   * that do not record (recording only grows structures, so what it
   * frees would not be asked for again). spare_poison fills a reused
   * block with 0xA5 (tests). */
  pd_spare_blocks spare;
  int64_t spare_limit;
  size_t spare_from;
  int spare_keeping;
  int spare_poison;
  pd_errbuf err;

  /* users[0] is unused so that ids index directly. */
  pd_st_user *users;
  uint32_t n_users; /* ids 1..n_users-1 exist; n_users >= 1 */
  size_t users_cap;
  uint64_t live_users, merged_users, erased_users;

  /* identities */
  pd_st_identity *idents;
  uint32_t n_idents;
  size_t idents_cap;
  uint64_t live_idents;
  char *ident_bytes;
  uint64_t ident_bytes_len;
  size_t ident_bytes_cap;
  uint64_t *ident_slots; /* index + 1 | low 32 hash bits << 32; 0 = empty */
  size_t ident_slots_cap;
  size_t ident_slots_len;
  pd_st_names namespaces;
  /* With identity_key (pd_store_options): keys are kept as the hex HMAC
   * of (namespace, key) under this key; see pd_st_identity_key_set. */
  int ident_hashed;
  pd_hmac_sha256_key ident_key;
  /* > 0 while keys given to find/ensure/attach are pseudonyms already:
   * journal replay applies logged mutations, which carry the stored
   * (hashed) form, and must not hash them twice. */
  int ident_prehashed;

  /* channels, labels, guides */
  pd_st_names channel_names; /* built-ins first (index = id - 1) */
  uint8_t *channel_kind;     /* by channel_names index */
  size_t channel_kind_cap;
  pd_st_names labels[4];     /* by PD_LABEL_* (1..3); id = index + 1 */
  pd_st_names guide_codes;   /* guide id = index + 1 */
  uint32_t *guide_shop;      /* by guide index */
  uint32_t *guide_deactivation; /* deactivation event index, or NIL */
  uint32_t *guide_last_assigned; /* latest bind/handover-to time, or 0 */
  size_t guide_cap;
  /* commission rate per guide index in basis points, -1 = unset
   * (guide_settings.c); NULL until a rate is first set */
  int32_t *guide_commission;
  size_t guide_commission_cap;

  /* events */
  pd_st_column col[PD_EV_KINDS];
  /* Makes the columns' reserved room resident on a background thread
   * while recording fills it (column_prefault.c), or NULL. Whoever moves
   * or frees a column's memory calls pd_st_prefault_stop() first. */
  struct pd_prefault_async *column_prefault;
  pd_st_index index;
  /* order id -> order index + 1 (0 = empty) in the low 32 bits, 32 bits
   * of the order id's hash above them (orders.c) */
  uint64_t *order_slots;
  size_t order_slots_cap;
  size_t order_slots_len;
  /* handover indices sorted by (time, event id): user guide lookups merge
   * them with the user's binds. */
  uint32_t *handover_sorted;
  size_t handover_sorted_cap;
  /* Handovers grouped by the guide they move users away from, each group
   * in (time, event id) order with the key copied beside it: from_off[g]
   * .. from_off[g + 1] index from_list/from_time/from_eid for guides 1 ..
   * from_guides. Derived and rebuilt by pd_st_guide_index_refresh() when
   * from_built differs from the number of handovers; pd_st_guide_at()
   * falls back to a full walk while it does. */
  struct {
    uint32_t *off, *list, *time;
    uint64_t *eid;
    uint32_t guides, built, valid;
  } hfrom;
  int64_t order_total; /* sum of live order amounts: bounds every sum */
  int64_t cost_total;  /* sum of live acquisition costs */

  /* reusable scratch for queries that do not call back */
  void *scratch;
  size_t scratch_cap;

  /* the journal's view of every change (mutation_hook.h), or NULL */
  struct pd_st_hook *hook;

  /* pd_store_set_threads() value minus 1, so that the zeroed handle
   * means 1 thread (store_threads.c; a runtime setting, not data) */
  int32_t threads_minus_one;
};

/* ---- counted allocation and spare blocks (store_memory.c) ------------ */

/* Blocks from this size on are kept for reuse when freed. */
#define PD_ST_SPARE_FROM ((size_t)1 << 20)

/* Set up s->alloc (counting, over s->caller_alloc) and the spare blocks
 * (automatic limit, blocks from PD_ST_SPARE_FROM): 0, or -1. */
int pd_st_memory_init(pd_store *s);
/* Release the spare blocks; later frees go straight to the caller's
 * allocator. */
void pd_st_memory_destroy(pd_store *s);
/* Tests: keep blocks from `from` bytes on, and poison reused ones when
 * `poison` is set. Call before the store allocates anything large. */
void pd_st_memory_debug(pd_store *s, size_t from, int poison);

/* ---- handle, lock and errors (store.c) ------------------------------- */

/* 1 if s is a live store handle. */
static inline int pd_st_valid(const pd_store *s) {
  return s != NULL && s->magic == PD_ST_MAGIC;
}
/* Check the handle and take the lock; `recording` calls are refused from
 * inside a callback. On error nothing is held. */
pd_status pd_st_enter(pd_store *s, int recording);
/* Clear the message on success, release the lock, return `status`. */
pd_status pd_st_leave(pd_store *s, pd_status status);
void pd_st_lock(pd_store *s);
void pd_st_unlock(pd_store *s);
/* Scratch memory of at least `bytes` (contents undefined), or NULL. */
void *pd_st_scratch(pd_store *s, size_t bytes);
/* Grow a column to hold `count` more events; PD_E_FULL / PD_E_NOMEM. */
pd_status pd_st_column_reserve(pd_store *s, int kind, size_t count);
/* The columns' room beyond their events made resident on a background
 * thread while the caller records (a reservation of `kind` was just
 * made), replacing any such thread already running. On a store set to
 * one thread nothing is (pages fault as recording reaches them); where
 * the background thread cannot run, only kind's room is made resident,
 * before returning, on the store's threads. */
void pd_st_prefault_columns(pd_store *s, int kind);
/* 1 if kind's chains mostly run down neighbouring records, as
 * pd_store_cluster() leaves them (of records sampled evenly over the
 * column, three in four link to the record just before or end a chain),
 * so that walking them reads the column in order; 0 otherwise and for
 * kinds that are not clustered (cluster.c). A hint for choosing between
 * two ways to the same figures, never for what they are. */
int pd_st_chains_run_down(const pd_store *s, int kind);
/* pd_store_cluster() with at most max_buckets (>= 1) buckets of user ids
 * (pd_store_cluster() uses 1024): the layout is the same for any; tests
 * use few to reach the widths only stores of millions of users get. */
pd_status pd_st_cluster(pd_store *s, size_t max_buckets);
/* Stop and join the background thread of pd_st_prefault_columns(), if
 * any; called by computations (pd_st_enter), clustering, column growth
 * and pd_store_free. */
void pd_st_prefault_stop(pd_store *s);
/* Check a caller struct's size: >= `known` and any bytes beyond it zero. */
pd_status pd_st_check_size(pd_store *s, const void *rec, size_t known,
                           const char *what);
/* PD_E_RANGE unless t is in [PD_TIME_MIN, PD_TIME_MAX]. */
pd_status pd_st_check_time(pd_store *s, int64_t t, const char *what);

/* ---- columns ---------------------------------------------------------- */

static inline void *pd_st_rec(const pd_store *s, int kind, uint32_t i) {
  return (char *)s->col[kind].rec + (size_t)i * s->col[kind].rec_size;
}
#define PD_ST_COL(s, kind, type) ((type *)(s)->col[kind].rec)
#define pd_st_links(s) PD_ST_COL(s, PD_EV_LINK, pd_st_link)
#define pd_st_unlinks(s) PD_ST_COL(s, PD_EV_UNLINK, pd_st_unlink)
#define pd_st_touches(s) PD_ST_COL(s, PD_EV_TOUCH, pd_st_touch)
#define pd_st_orders(s) PD_ST_COL(s, PD_EV_ORDER, pd_st_order)
#define pd_st_refunds(s) PD_ST_COL(s, PD_EV_REFUND, pd_st_refund)
#define pd_st_referrals(s) PD_ST_COL(s, PD_EV_REFERRAL, pd_st_referral)
#define pd_st_binds(s) PD_ST_COL(s, PD_EV_BIND, pd_st_bind)
#define pd_st_handovers(s) PD_ST_COL(s, PD_EV_HANDOVER, pd_st_handover)
#define pd_st_deactivations(s) \
  PD_ST_COL(s, PD_EV_DEACTIVATE, pd_st_deactivate)
#define pd_st_reaches(s) PD_ST_COL(s, PD_EV_REACH, pd_st_reach)
#define pd_st_costs(s) PD_ST_COL(s, PD_EV_COST, pd_st_cost)
#define pd_st_consents(s) PD_ST_COL(s, PD_EV_CONSENT, pd_st_consent)

/* The time of event i of a kind (PD_ST_ERASED if erased); for reach and
 * cost records, the period start. */
uint32_t pd_st_event_time(const pd_store *s, int kind, uint32_t i);

/* ---- users (identity.c) ----------------------------------------------- */

/* Canonical id of an existing user id (path halving). */
static inline uint32_t pd_st_find(pd_store *s, uint32_t u) {
  pd_st_user *us = s->users;
  while (us[u].parent != u) {
    us[u].parent = us[us[u].parent].parent;
    u = us[u].parent;
  }
  return u;
}

/* Identity-key pseudonymisation: 0 if (key, len) is acceptable as
 * pd_store_options.identity_key (none, or 16-1024 bytes), else -1; and
 * keying a new store with it (no-op for none). */
int pd_st_identity_key_check(const uint8_t *key, size_t len);
void pd_st_identity_key_set(pd_store *s, const uint8_t *key, size_t len);

/* Erase event i of a per-user kind (PD_EV_LINK .. PD_EV_BIND,
 * PD_EV_CONSENT): its time becomes PD_ST_ERASED, its payload is zeroed
 * (ids and chain links stay so that the index and chains remain walkable),
 * and the store-wide counts drop. Used by erasure (identity.c) and the
 * retention purge (purge.c). Returns 0 if it was erased already. */
int pd_st_erase_event(pd_store *s, int kind, uint32_t i);

/* Whether a caller's user id denotes the same user now as the id stored
 * with an event (replays compare users through merges). */
static inline int pd_st_same_user(pd_store *s, uint32_t stored,
                                  pd_user_id given) {
  if (given == 0 || given >= s->n_users) return 0;
  return pd_st_find(s, stored) == pd_st_find(s, (uint32_t)given);
}

/* Resolve a caller's user id to an existing id that is not erased:
 * PD_OK with *out = the id itself (not canonical), or PD_E_NOT_FOUND /
 * PD_E_ERASED with a message naming `what`. */
pd_status pd_st_user_check(pd_store *s, pd_user_id user, const char *what,
                           uint32_t *out);

/* Start loading the order-index slot of `order_id` (orders.c): a hint
 * for batches, called under the lock. */
void pd_st_order_prefetch(const pd_store *s, uint64_t order_id);
/* Size the order-id index for `count` more orders (pd_store_reserve);
 * PD_OK or PD_E_NOMEM. */
pd_status pd_st_order_reserve(pd_store *s, size_t count);

/* Room for `count` more users with one identity each (pd_store_reserve,
 * PD_RESERVE_USERS; identity.c): PD_OK, PD_E_FULL or PD_E_NOMEM. */
pd_status pd_st_users_reserve(pd_store *s, size_t count);

/* ---- references named by events (channels.c, guides.c) ----------------- */

/* PD_OK if `channel` names a channel (or is 0 and allow_zero). Else
 * PD_E_INVALID (0 when not allowed) / PD_E_NOT_FOUND. */
pd_status pd_st_channel_check(pd_store *s, int32_t channel, int allow_zero,
                              const char *what);
/* PD_OK if `id` is 0 or a label of `kind`, else PD_E_NOT_FOUND. */
pd_status pd_st_label_check(pd_store *s, int32_t kind, uint32_t id,
                            const char *what);
/* PD_OK if `guide` is 0 (and allow_zero) or an existing guide. */
pd_status pd_st_guide_check(pd_store *s, uint32_t guide, int allow_zero,
                            const char *what);
/* Check a name of 1-128 bytes of UTF-8 without NUL; resolves PD_NTS. */
pd_status pd_st_check_name(pd_store *s, const char *name, size_t *len,
                           const char *what);

#endif
