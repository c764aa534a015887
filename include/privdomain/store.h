/*
 * libprivdomain — the store: a brand's private domain in memory.
 *
 * A pd_store holds users and their identities, channels, links,
 * touchpoints, orders, refunds, guides, referrals, reach counts and
 * acquisition costs (see users.h, channels.h, events.h, guides.h). It never
 * reads the clock: every query takes an `as_of` time.
 *
 * Conventions that hold for every pd_store_* / pd_user_* / pd_record_* /
 * pd_guide_* function:
 * - Time is int64_t seconds since 1970-01-01T00:00:00Z. Valid times lie in
 *   [PD_TIME_MIN, PD_TIME_MAX]; others give PD_E_RANGE.
 * - Money is int64_t in minor units (fen, cents) of the store's currency,
 *   whose exponent is set at creation (2 = hundredths). Sums are overflow
 *   checked (PD_E_OVERFLOW), never wrap.
 * - Text is UTF-8 with an explicit byte length, or NUL-terminated when the
 *   length is PD_NTS. The store copies what it keeps.
 * - On any error the store is exactly as it was before the call, the
 *   status says what is wrong and pd_store_errmsg() explains it. Output
 *   parameters are written only on success (PD_OK or PD_REPLAYED).
 * - Thread safety: a store may be used from several threads at once; every
 *   call is serialised on the store's internal (recursive) lock. Callbacks
 *   run while the lock is held: they may call query functions on the same
 *   store, but a recording function called from a callback gets
 *   PD_E_MISUSE.
 */
#ifndef PRIVDOMAIN_STORE_H
#define PRIVDOMAIN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "export.h"
#include "status.h"
#include "types.h"

PD_BEGIN_DECLS

/** A store handle. Opaque; create with pd_store_new(), release with
 *  pd_store_free(). */
typedef struct pd_store pd_store;

/** Options for pd_store_new(). Initialise with PD_STORE_OPTIONS_INIT. */
typedef struct pd_store_options {
  /** sizeof(pd_store_options) as the caller compiled it. */
  size_t size;
  /** Allocator for everything this store allocates; NULL = malloc/free.
   *  The struct is copied; its `user` pointer must outlive the store. */
  const pd_allocator *allocator;
  /** Decimal exponent of the currency's minor unit, 0–4 (2 for CNY fen). */
  int32_t currency_exponent;
  /** Pseudonymise identity keys (PIPL): when set, the store never keeps
   *  an identity key as given. It keeps instead the 64 lowercase hex
   *  digits of HMAC-SHA-256(identity_key, namespace || 0x00 || key) and
   *  hashes every lookup the same way, so pd_user_find(), pd_user_ensure()
   *  and pd_user_attach() work as without a key, while
   *  pd_user_identities() reports the hashed form. The namespace is kept
   *  as given. identity_key_len must then be 16–1024 bytes (32 random
   *  bytes recommended); the key is copied into the store and wiped when
   *  the store is freed. The same key must be given whenever a store
   *  holding hashed identities is rebuilt (it is never saved with the
   *  store's data): with another key, existing identities are not found.
   *  NULL (with identity_key_len 0) keeps keys as given. Added in 0.1
   *  after currency_exponent: callers compiled without these fields pass a
   *  smaller size and get keys as given. */
  const uint8_t *identity_key;
  size_t identity_key_len;
} pd_store_options;

#define PD_STORE_OPTIONS_INIT {sizeof(pd_store_options), NULL, 2, NULL, 0}

/**
 * pd_store_new - create an empty store.
 *
 * @opts: options, or NULL for the defaults of PD_STORE_OPTIONS_INIT.
 * @out: receives the new store, owned by the caller; release it with
 *       pd_store_free().
 *
 * A larger opts->size (a newer caller) is accepted when the bytes this
 * version does not know are all zero. A smaller size that ends after
 * currency_exponent (a caller compiled before identity_key existed) is
 * accepted and the missing fields take their PD_STORE_OPTIONS_INIT values.
 * Errors: PD_E_INVALID (out is NULL, opts->size too small or unknown
 * trailing bytes non-zero, an incomplete allocator, currency_exponent
 * outside 0–4, identity_key NULL with a non-zero length or set with a
 * length outside 16–1024), PD_E_NOMEM. There is no
 * handle to hold a message on failure; pd_status_str() describes the code.
 * Thread safety: safe from any thread.
 */
PD_API pd_status pd_store_new(const pd_store_options *opts, pd_store **out);

/**
 * pd_store_free - release a store and everything it owns; identity strings
 * are overwritten before their memory is released. NULL, or a pointer that
 * is not a live store (bad magic), is a no-op. No other thread may be
 * using the store.
 */
PD_API void pd_store_free(pd_store *store);

/**
 * pd_store_errmsg - the message of the most recent failed call on @store.
 *
 * Returns a NUL-terminated English sentence owned by the store, valid until
 * the next call on the store; "" when the last call succeeded. For a NULL
 * or invalid handle returns a static message saying so. When several
 * threads share a store, use pd_store_errmsg_copy(): another thread's call
 * may replace the message.
 */
PD_API const char *pd_store_errmsg(const pd_store *store);

/**
 * pd_store_errmsg_copy - copy the last error message into @buf (at most
 * @cap bytes including the terminating NUL, truncated if needed) under the
 * store's lock. Returns PD_OK, PD_E_INVALID (buf NULL or cap 0) or
 * PD_E_MISUSE (bad handle).
 */
PD_API pd_status pd_store_errmsg_copy(const pd_store *store, char *buf,
                                      size_t cap);

/**
 * pd_event_id_from_string - a stable 64-bit event id for a text id (an
 * order number, a message id, a UUID).
 *
 * The same bytes always give the same non-zero id, on every platform and
 * version. Distinct texts collide with probability about n²/2⁶⁵ for n ids
 * (about 1e-5 for 20 million ids); callers who cannot accept that pass
 * their own unique 64-bit ids. Returns 0 only when @text is NULL.
 * Thread safety: safe from any thread.
 */
PD_API uint64_t pd_event_id_from_string(const char *text, size_t len);

/** Store-wide counts, as recorded (erased users and their events are not
 *  counted). Initialise `size` with PD_STORE_STATS_INIT before the call. */
typedef struct pd_store_stats {
  size_t size;
  uint64_t users;          /**< live users, merged users counted once */
  uint64_t merged_users;   /**< live user ids absorbed by a merge */
  uint64_t erased_users;   /**< user ids erased (users + merged_users +
                                erased_users = ids ever created) */
  uint64_t identities;     /**< identities of live users */
  uint64_t channels;       /**< built-in and custom channels */
  uint64_t guides;
  uint64_t links;          /**< link events */
  uint64_t unlinks;        /**< unlink events */
  uint64_t touchpoints;
  uint64_t orders;
  uint64_t refunds;
  uint64_t referrals;
  uint64_t guide_events;   /**< binds, handovers, deactivations */
  uint64_t reach_records;
  uint64_t cost_records;
  uint64_t events;         /**< all recorded events (sum of the above kinds) */
  uint64_t memory_bytes;   /**< bytes currently allocated by the store
                                (including 16 bytes of bookkeeping per
                                allocation and the handle), not counting
                                spare_bytes */
  uint64_t spare_bytes;    /**< freed working memory kept for the next
                                computations (pd_store_set_spare_limit());
                                added in 0.2 */
} pd_store_stats;

#define PD_STORE_STATS_INIT {sizeof(pd_store_stats), 0, 0, 0, 0, 0, 0, 0, \
                             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/**
 * pd_store_get_stats - store-wide counts into @out. out->size must be at
 * least the struct's size in 0.1 (up to memory_bytes; PD_STORE_STATS_INIT
 * sets this version's): only the fields that fit in out->size are
 * written, and bytes beyond this version's struct (a newer caller's
 * fields) are not written. Changed in 0.2 (spare_bytes). Errors: PD_E_MISUSE, PD_E_INVALID (out NULL or size too small).
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_store_get_stats(pd_store *store, pd_store_stats *out);

/** pd_store_reserve()'s kind for users (not an event kind). Added in 0.2. */
#define PD_RESERVE_USERS 100

/**
 * pd_store_reserve - make room for @count more events of @kind (or more
 * users) before a bulk load, so that recording them allocates nothing and
 * wastes no capacity.
 *
 * @kind: a PD_EVENT_* (events.h): the kind's column of records, the
 *        event-id index and, for PD_EVENT_ORDER, the order-id index are
 *        each sized for @count more events, exactly. 0: events of kinds
 *        not said; only the event-id index is sized (call again per kind
 *        when the mix is known, which also sizes the columns).
 *        PD_RESERVE_USERS: @count more users with one identity each (the
 *        user table, the identity table and its hash index; identity key
 *        bytes still grow as keys arrive); users with several identities
 *        grow the identity tables as usual for the extra ones.
 * @count: events (or users) about to be recorded (replays and rejected
 *         events need no room); 0 does nothing.
 *
 * Without a reservation the store grows as events arrive (columns by half
 * while small and by an eighth once large, the event-id index by
 * doubling), which costs index rebuilds and leaves up to an eighth of a
 * large column and half of the index unused. With one, a bulk load of
 * touchpoints holds 42.1 bytes per event (28 of record, 8 of event id,
 * 6.1 of index). A reservation larger than what arrives keeps the
 * surplus allocated until the store is freed (pd_store_stats.memory_bytes
 * counts it); room already available is not allocated again. Nothing
 * recorded changes: it is not journaled and not saved in snapshots.
 * On a store set to several threads (pd_store_set_threads()), the new
 * room of 32 MB and more per structure is also made resident, so that
 * recording into it takes no page faults (Linux; elsewhere, and on one
 * thread, pages are faulted in as recording reaches them): the user
 * tables and the event-id index before this returns, on those threads;
 * the columns of records on one background thread that starts here and
 * runs while the caller records (Linux 5.14 and later; older kernels
 * take the columns' faults before returning too). That thread never
 * writes a byte of the store; it is stopped and joined by the next call
 * that is not a recording (a computation, pd_store_cluster(),
 * pd_store_free()) or that grows a column beyond its room. A child of
 * fork() has no copy of that thread: stop it before forking (any
 * computation does, pd_store_get_stats() is the cheapest) if the child
 * will use or free the store. For a bulk
 * load of several kinds, reserve their total with @kind 0 first, so that
 * the index is built once. With 2 threads, the 10M-user bulk load of
 * docs/PERFORMANCE.md took 45-60 s in four runs (70-75 s with the faults
 * taken here and the index rebuilt for each kind). The memory is then committed, so
 * reserve only what is coming. Changed in 0.2.
 * Errors: PD_E_MISUSE (@store NULL or not a live store, or called from
 * inside one of its callbacks), PD_E_INVALID (@kind is neither 0, a
 * PD_EVENT_* nor PD_RESERVE_USERS), PD_E_FULL (more than 2^28 events of
 * one kind in all, 12 × 2^28 for @kind 0, or 2^32 - 2 users or
 * identities), PD_E_NOMEM (the store is unchanged except that structures
 * already enlarged stay so).
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_store_reserve(pd_store *store, int32_t kind,
                                  uint64_t count);

/**
 * pd_store_cluster - lay out @store's links, unlinks, touchpoints, guide
 * binds and consent records so that each user id's events of a kind are
 * neighbours in memory, as a maintenance step after a bulk load (like
 * SQL's CLUSTER).
 *
 * The store records events in arrival order, so the events of one user
 * are spread over the whole store, and a computation that visits users
 * one by one (trust, pressure, follow-up plans, guide figures …) waits on
 * a memory read per event once the store is larger than the processor's
 * caches. After clustering, those reads are sequential. Events recorded
 * afterwards are appended in arrival order again; cluster again after the
 * next large load. Orders, refunds and referrals keep their places. On a
 * clustered store, guide figures also skip grouping the touchpoints by
 * user (pd_guide_figures_compute()).
 *
 * Nothing observable changes: every query and computation gives the same
 * answers, bit for bit, before and after; recording an event id again is
 * still answered PD_REPLAYED; nothing is journaled; a snapshot saves the
 * new layout and loads it as it is.
 *
 * Cost: the events are moved in place, so clustering needs no second
 * copy of the store. For each clustered kind: a few passes over the
 * owners' ids (4 bytes an event) to find each event's new place, one
 * pass that swaps each event into the range of its group of a few
 * thousand user ids (on one thread), and one that puts each range in
 * order (on the threads of pd_store_set_threads()); then one pass over
 * the event-id index. While it runs it holds 4 bytes per event of the
 * largest clustered kind, 4 bytes per clustered event (each event's new
 * place, kept for the index), and per thread room for one range's
 * records and ids. Added in 0.2.
 *
 * Errors: PD_E_MISUSE (@store NULL or not a live store, or called from
 * inside one of its callbacks), PD_E_NOMEM (the store is unchanged; kinds
 * already clustered stay so, which changes nothing observable).
 * Thread safety: serialised on the store's lock, which it holds
 * throughout.
 */
PD_API pd_status pd_store_cluster(pd_store *store);

/**
 * pd_store_currency_exponent - the store's currency exponent (0–4), or -1
 * for an invalid handle.
 */
PD_API int32_t pd_store_currency_exponent(const pd_store *store);

/**
 * pd_store_set_threads - how many threads the metric computations on
 * @store use (trust, pressure, summaries, retention, funnels, repurchase,
 * referral, guide figures, RFM, super users … and the fits of
 * pd_store_summary_predict), and on which pd_store_reserve() takes the
 * page faults of what it reserves and the store clears an index of 32 MB
 * or more that it enlarges (so a recording call may start threads).
 *
 * @threads: 1 = the calling thread only (the default of a new store);
 * 0 = one thread per online processor; 2..64 = that many threads, the
 * calling thread included. Threads are started for each computation and
 * joined before it returns; while they run, the calling thread holds the
 * store's lock, so other threads' calls on the store wait as usual. The
 * one exception is the thread pd_store_reserve() leaves making the
 * reserved columns resident while the caller records (see there).
 * Results are bit-identical for every thread count: the work is cut into
 * blocks that depend only on the data, and partial results are combined
 * in block order.
 *
 * This is a runtime setting of this process, not data: it is neither
 * journaled nor saved in snapshots, and a loaded store starts at 1.
 * Errors: PD_E_MISUSE (@store NULL or not a live store), PD_E_INVALID
 * (@threads outside 0..64; the setting is unchanged).
 * Thread safety: serialised on the store's lock; may be called from
 * inside the store's callbacks (it then applies to the next computation).
 */
PD_API pd_status pd_store_set_threads(pd_store *store, int32_t threads);

/**
 * pd_store_threads - the thread count last given to pd_store_set_threads()
 * (1 if never set; 0 means one per online processor), or -1 when @store is
 * NULL or not a live store.
 * Thread safety: serialised on the store's lock; does not change the
 * store's message.
 */
PD_API int32_t pd_store_threads(const pd_store *store);

/** pd_store_set_spare_limit()'s automatic limit, the default. Added in
 * 0.2. */
#define PD_SPARE_AUTO (-1)

/**
 * pd_store_set_spare_limit - how much freed working memory @store keeps
 * for its next computations.
 *
 * A computation over a large store (a metric, a summary, clustering, a
 * snapshot load) works in blocks of tens to hundreds of MB that it frees
 * before it returns. The C library gives blocks that large back to the
 * system, so the next computation's first write to each 4 KiB page of
 * its own blocks costs a page fault again (1.6-7.5 s per GB on the
 * virtual machine of docs/PERFORMANCE.md, whose host takes freed memory
 * back). Instead, the store keeps the blocks of 1 MiB and more that its
 * computations free (every call that does not record: metrics,
 * summaries, queries), up to this limit, and serves a later request of
 * at least half a kept block's size and at most its size from it.
 * Recording calls (and pd_store_reserve(), pd_store_cluster()) give what
 * they free back at once: their structures only grow, so nothing would
 * ask for those blocks again. A block that would
 * take the kept total over the limit pushes the oldest ones back to the
 * allocator. Kept blocks stay allocated from the store's allocator
 * (pd_store_options.allocator) until reused, pushed out or the store is
 * freed; pd_store_stats.spare_bytes says how much is kept. Results do
 * not depend on the setting.
 *
 * @bytes: PD_SPARE_AUTO (the default of every new or loaded store): a
 * quarter of pd_store_stats.memory_bytes at the time a block is freed
 * (a store of 100 MB keeps at most 25 MB; one of a few MB keeps
 * nothing, as its blocks are smaller than 1 MiB); 0: keep nothing; > 0:
 * at most that many bytes. A limit lower than what is kept gives the
 * excess back at once (0: everything).
 *
 * This is a runtime setting of this process, not data: it is neither
 * journaled nor saved in snapshots. Added in 0.2.
 * Errors: PD_E_MISUSE (@store NULL or not a live store), PD_E_INVALID
 * (@bytes below PD_SPARE_AUTO; the setting is unchanged).
 * Thread safety: serialised on the store's lock; may be called from
 * inside the store's callbacks (it then applies to the blocks freed
 * next).
 */
PD_API pd_status pd_store_set_spare_limit(pd_store *store, int64_t bytes);

PD_END_DECLS

#endif /* PRIVDOMAIN_STORE_H */
