/* The event-id index: which event (kind, index) carries a caller's event
 * id. It is what makes recording idempotent. Slots hold (kind << 28 |
 * index) in cache-line buckets beside one-byte fingerprints of their ids;
 * the event id itself is read from the event's column, so the index costs
 * 64/12 bytes per slot (about 6-12 bytes per event at load 7/16 to 7/8,
 * 6.1 after pd_store_reserve) and one cache miss per lookup. */
#ifndef PD_STORE_EVENT_INDEX_H
#define PD_STORE_EVENT_INDEX_H

#include <stdint.h>

#include "core/prefetch.h"
#include "store_internal.h"

static inline uint32_t pd_st_tag(int kind, uint32_t index) {
  return (uint32_t)kind << PD_ST_INDEX_BITS | index;
}
static inline int pd_st_tag_kind(uint32_t tag) {
  return (int)(tag >> PD_ST_INDEX_BITS);
}
static inline uint32_t pd_st_tag_index(uint32_t tag) {
  return tag & (PD_ST_MAX_EVENTS_PER_KIND - 1);
}

/* The tag of the event with this id, or 0. */
uint32_t pd_st_index_find(const pd_store *s, uint64_t eid);

/* Start loading the index bucket of `eid` and the record of `user` (if it
 * exists), which recording an event of that user will read: issued
 * together, the two cache misses overlap. Only a hint; call under the
 * lock (it reads the index and user arrays). */
void pd_st_index_prefetch(const pd_store *s, uint64_t eid);
static inline void pd_st_event_prefetch(const pd_store *s, uint64_t eid,
                                        uint64_t user) {
  pd_st_index_prefetch(s, eid);
  if (user != 0 && user < s->n_users) {
    PD_PREFETCH(&s->users[user]);
    PD_PREFETCH((const char *)&s->users[user + 1] - 1);
  }
}

/* Look an event id up for recording an event of `kind`:
 * - PD_OK, *index = PD_ST_NIL: the id is new;
 * - PD_OK, *index = i: event i of this kind has it (the caller compares
 *   content: PD_REPLAYED or PD_E_DUPLICATE);
 * - PD_E_ERASED: the event with this id was erased;
 * - PD_E_DUPLICATE: an event of another kind has it;
 * - PD_E_INVALID: eid is 0. */
pd_status pd_st_event_lookup(pd_store *s, uint64_t eid, int kind,
                             uint32_t *index);

/* Reserve room for one more event of `kind` (column and index) so that
 * pd_st_event_append cannot fail. PD_OK, PD_E_NOMEM or PD_E_FULL; on
 * error nothing observable changed. */
pd_status pd_st_event_reserve(pd_store *s, int kind);

/* Reserve room for `count` more events of `kind` at once, each structure
 * sized exactly (pd_store_reserve): a bulk load that says how much is
 * coming then grows nothing while it records. Kind 0 sizes the index
 * only. Same statuses. */
pd_status pd_st_event_reserve_many(pd_store *s, int kind, size_t count);

/* Append a new event id to the column of `kind` and the index; returns
 * its index. The caller fills rec[index]. Reserve first. */
uint32_t pd_st_event_append(pd_store *s, int kind, uint64_t eid);

/* The index rebuilt from loaded columns in ranges of buckets that can run
 * on several threads (event_index.c says how the result stays the same
 * for any thread count):
 *   pd_st_index_build_begin   calling thread: allocates (0, or -1 out of
 *                             memory with nothing left allocated);
 *   pd_st_index_build_range   range r in [0, nranges), on any thread, each
 *                             range once; allocates nothing, touches only
 *                             the build and reads the columns;
 *   pd_st_index_build_end     calling thread, after every range: installs
 *                             the index (0) or frees it (-2: an id is 0 or
 *                             repeated);
 *   pd_st_index_build_abandon calling thread, instead of end: frees. */
/* Ranges of a large index: 8, so that the calling thread, which checks
 * the loaded store meanwhile, still finds ranges to take when it is done
 * (with 2, one helper built both while the caller waited). */
#define PD_ST_INDEX_RANGES 8
#define PD_ST_INDEX_MAX_RANGES 64 /* what a build can hold (tests use more) */
/* Pairs of tags a range notes before comparing their ids (32 KB). */
#define PD_ST_INDEX_SUSPECTS 4096
typedef struct pd_st_index_build {
  pd_store *s;
  void *mem;
  pd_st_bucket *bk;
  size_t n, nb, bytes, nranges;
  uint32_t *deferred; /* nranges lists of defer_cap tags */
  size_t defer_cap;
  size_t ndeferred[PD_ST_INDEX_MAX_RANGES];
  /* nranges lists of pairs of tags whose ids are yet to be compared
   * (event_index.c), in the block of deferred, each compared when it
   * holds suspect_cap pairs (PD_ST_INDEX_SUSPECTS; tests set fewer) */
  uint32_t *suspects;
  size_t suspect_cap;
  size_t nsuspects[PD_ST_INDEX_MAX_RANGES];
  size_t nlanes; /* a fed build's lanes (1 otherwise) */
  int result[PD_ST_INDEX_MAX_RANGES]; /* 0, -2 repeated, -3 overflowed */
  const uint64_t *eid[PD_EV_KINDS]; /* each kind's ids */
} pd_st_index_build;

int pd_st_index_build_begin(pd_store *s, pd_st_index_build *b);
/* begin() with a given number of ranges, 1..PD_ST_INDEX_MAX_RANGES (for
 * tests; the layout depends on the number of ranges, never on which
 * thread ran which range or in what order). */
int pd_st_index_build_begin_ranges(pd_store *s, pd_st_index_build *b,
                                   size_t nranges);
void pd_st_index_build_range(pd_st_index_build *b, size_t r);

/* The same build fed while the columns are being read, with the same
 * result. Its ranges are shared out among `lanes` lanes (at most
 * nranges), each fed by one thread, never two; lanes touch disjoint
 * buckets, so they run side by side:
 *   pd_st_index_build_begin_fed     calling thread: as begin(), for the
 *                                   n events the input declares;
 *   pd_st_index_build_zero          lane l's thread, first: clears the
 *                                   lane's buckets;
 *   pd_st_index_build_feed_column   before any lane is fed kind k: its
 *                                   column is eid (it may not be the
 *                                   store's yet); the lanes' threads must
 *                                   see this call happen before theirs;
 *   pd_st_index_build_feed          lane l's thread: ids [from, to) of
 *                                   kind k; a lane's calls go in order of
 *                                   kind and index, covering each column
 *                                   whole;
 * then end() or abandon() as above, end() only when the columns fed are
 * the store's and hold n events in all. */
int pd_st_index_build_begin_fed(pd_store *s, pd_st_index_build *b,
                                size_t n, size_t lanes);
void pd_st_index_build_zero(pd_st_index_build *b, size_t lane);
void pd_st_index_build_feed_column(pd_st_index_build *b, int k,
                                   const uint64_t *eid);
void pd_st_index_build_feed(pd_st_index_build *b, size_t lane, int k,
                            uint32_t from, uint32_t to);
int pd_st_index_build_end(pd_st_index_build *b);
void pd_st_index_build_abandon(pd_st_index_build *b);

/* Common shape of a replay answer: PD_REPLAYED when `same`, else
 * PD_E_DUPLICATE with a message. */
pd_status pd_st_replay(pd_store *s, int same, uint64_t eid,
                       const char *what);

#endif
