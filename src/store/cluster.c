/* pd_store_cluster: reorder the per-user columns so that each user id's
 * events lie side by side.
 *
 * Recording appends in arrival order, so a user's chain of one kind jumps
 * across the whole column and every step of a per-user walk is a cache
 * (often a TLB) miss. After clustering, a chain is a run of neighbouring
 * records that the hardware streams.
 *
 * Why it changes no answer: a chain lists its owner's events newest
 * first, that is by descending index. Clustering keeps, within each
 * owner, the order of the indices, so every chain visits the same events
 * in the same order; only indices change, and nothing outside the store
 * layer holds them. What holds them inside is remapped here: the chain
 * links, users[].head and the event-id index's tags. Kinds that other
 * records or indexes point into by position (orders: refunds and the
 * order-id index; referrals: users[].referral_in) are left in place.
 *
 * How, in place, so that clustering needs no second copy of a column
 * (fresh memory costs more than the moves) and no step writes to more
 * places at once than the caches hold. Buckets are ranges of a few
 * thousand user ids; a bucket's events will fill one range of the column.
 *  1. Each event's new place, without moving it: its place in a copy
 *     grouped by bucket (kept in arrival order), then, bucket by bucket,
 *     its place among its bucket's events sorted by owner. Only owner
 *     ids (4 bytes an event) are copied.
 *  2. The events are swapped into their buckets' ranges (an "American
 *     flag" pass: each bucket's next free slot is one of a thousand
 *     places written at once), each carrying its new place.
 *  3. Bucket by bucket, the range is copied aside and each event copied
 *     back to its new place: a range the caches hold.
 * Step 1 runs on the store's threads by contiguous pieces of the column
 * (each piece has its own slots in every bucket, after the earlier
 * pieces') and by bucket; step 3 by bucket; step 2 on one thread.
 *
 * The index's tags are remapped once, after every kind has moved: one
 * pass over the whole index instead of one per kind. */
#include <string.h>

#include <privdomain/store.h>

#include "core/parallel.h"
#include "core/prefetch.h"
#include "store/event_index.h"
#include "store/store_internal.h"
#include "store/store_threads.h"

/* The kinds clustered, each a record that starts with its owner's user id
 * and its chain link. */
static const int clustered_kinds[] = {PD_EV_LINK, PD_EV_UNLINK, PD_EV_TOUCH,
                                      PD_EV_BIND, PD_EV_CONSENT};
enum { N_CLUSTERED = sizeof clustered_kinds / sizeof *clustered_kinds };

#define OWNER_AND_LINK_FIRST(type)                    \
  _Static_assert(offsetof(type, user) == 0 &&         \
                     offsetof(type, next) == 4,       \
                 #type " starts with user and next")
OWNER_AND_LINK_FIRST(pd_st_link);
OWNER_AND_LINK_FIRST(pd_st_unlink);
OWNER_AND_LINK_FIRST(pd_st_touch);
OWNER_AND_LINK_FIRST(pd_st_bind);
OWNER_AND_LINK_FIRST(pd_st_consent);

/* Where each clustered record keeps its chain link. */
#define LINK_AT offsetof(pd_st_touch, next)

/* The largest record clustered (links and touchpoints). */
#define MAX_REC 28
#define FITS(type) \
  _Static_assert(sizeof(type) <= MAX_REC, #type " fits in MAX_REC bytes")
FITS(pd_st_link);
FITS(pd_st_unlink);
FITS(pd_st_touch);
FITS(pd_st_bind);
FITS(pd_st_consent);

/* User ids per bucket: 2^BUCKET_BITS at least, so that a bucket's
 * counters (4 bytes an id) stay in the first-level cache... */
#define BUCKET_BITS 12
/* ...and buckets at most this many, so that the passes writing to every
 * bucket at once write to few enough places for the caches and TLB
 * (larger stores get wider buckets). */
#define MAX_BUCKETS 1024

/* Pieces of the column step 1 is cut into, at most: one per thread; more
 * would only add counters. */
#define MAX_PIECES 8

typedef struct cluster_job {
  pd_st_column *c;
  int kind;
  pd_st_user *users;
  unsigned shift;  /* bucket b holds user ids [b << shift, (b + 1) << shift) */
  size_t nbuckets;
  size_t npieces;
  /* [npieces][nbuckets]: each piece's count per bucket, then the piece's
   * next slot in each bucket */
  uint32_t *slot;
  uint32_t *start;  /* [nbuckets + 1]: bucket b is [start[b], start[b + 1]) */
  uint32_t *count;  /* [workers][1 << shift]: per-owner counters */
  /* [n]: the owners grouped by bucket, then there each event's new place;
   * in steps 2-3, the new place of the event at each index */
  uint32_t *seq;
  uint32_t *moved;  /* [n]: old index -> place grouped by bucket, then ->
                     * new place */
  /* [workers][aside_cap]: step 3's copy of a bucket's records and ids */
  unsigned char *aside_rec;
  uint64_t *aside_eid;
  size_t aside_cap; /* events: the largest bucket's so far */
  int32_t workers;
} cluster_job;

/* The one remap of the index's tags: moved[kind] maps a clustered kind's
 * old indices to new ones (NULL: the kind did not move). */
typedef struct retag_job {
  pd_st_bucket *buckets;
  size_t nbuckets;
  const uint32_t *moved[PD_EV_KINDS];
} retag_job;

static inline uint32_t owner_of(const unsigned char *rec) {
  uint32_t u;
  memcpy(&u, rec, sizeof u);
  return u;
}

static inline void piece_bounds(const cluster_job *j, size_t piece,
                                uint32_t *from, uint32_t *to) {
  uint64_t n = j->c->n;
  *from = (uint32_t)(n * piece / j->npieces);
  *to = (uint32_t)(n * (piece + 1) / j->npieces);
}

/* Step 1a, over one piece of the column: counts its events per bucket
 * (place == 0), or (place == 1, slot holding the piece's next slot in
 * each bucket) notes each event's place grouped by bucket and its owner
 * there. */
static inline void scan_piece(cluster_job *j, size_t piece, int place) {
  const unsigned char *rec = j->c->rec;
  size_t rs = j->c->rec_size;
  uint32_t *slot = j->slot + piece * j->nbuckets;
  uint32_t from, to;
  piece_bounds(j, piece, &from, &to);
  for (uint32_t i = from; i < to; i++) {
    uint32_t u = owner_of(rec + (size_t)i * rs);
    if (!place) {
      slot[u >> j->shift]++;
      continue;
    }
    uint32_t at = slot[u >> j->shift]++;
    j->seq[at] = u;
    j->moved[i] = at;
  }
}

static void count_piece(void *p, size_t piece) { scan_piece(p, piece, 0); }
static void group_piece(void *p, size_t piece) { scan_piece(p, piece, 1); }

/* Step 1b for one bucket: a counting sort of its owners, which are in
 * arrival order, gives each of its events its new place. */
static void place_bucket(void *p, size_t b, int32_t worker) {
  cluster_job *j = p;
  uint32_t *count = j->count + ((size_t)worker << j->shift);
  uint32_t lo = (uint32_t)(b << j->shift);
  uint32_t begin = j->start[b], end = j->start[b + 1];
  size_t width = (size_t)1 << j->shift;
  memset(count, 0, width * sizeof *count);
  for (uint32_t at = begin; at < end; at++) count[j->seq[at] - lo]++;
  uint32_t next = begin;
  for (size_t k = 0; k < width; k++) {
    uint32_t c = count[k];
    count[k] = next;
    next += c;
  }
  for (uint32_t at = begin; at < end; at++)
    j->seq[at] = count[j->seq[at] - lo]++;
}

/* Step 1c: old index -> new place, through the place grouped by bucket. */
static void compose_piece(void *p, size_t piece) {
  cluster_job *j = p;
  uint32_t from, to;
  piece_bounds(j, piece, &from, &to);
  for (uint32_t i = from; i < to; i++) j->moved[i] = j->seq[j->moved[i]];
}

/* Slots ahead of a bucket's next one that step 2 starts loading. */
enum { FLAG_PF = 8 };

/* Step 2: swaps every event into its bucket's range, carrying its new
 * place (seq[i] = moved[i] on entry). Within a range the order is
 * arbitrary; step 3 puts it right. */
static inline void sort_into_buckets(cluster_job *j, uint32_t *next,
                                     size_t rs) {
  unsigned char *rec = j->c->rec;
  uint64_t *eid = j->c->eid;
  uint32_t *to = j->seq;
  size_t n = j->c->n;
  for (size_t b = 0; b < j->nbuckets; b++) {
    uint32_t end = j->start[b + 1];
    while (next[b] < end) {
      /* The event at b's next slot travels until a bucket-b event is
       * found for the slot; each swap settles one event in its range. */
      size_t at = next[b];
      unsigned char r[MAX_REC];
      memcpy(r, rec + at * rs, rs);
      uint64_t e = eid[at];
      uint32_t t = to[at];
      size_t d;
      while ((d = owner_of(r) >> j->shift) != b) {
        size_t q = next[d]++;
        /* Each swap depends on the record it takes out: fetch a bucket's
         * coming slots before they are needed, or every step waits on
         * memory. */
        if (q + FLAG_PF < n) {
          PD_PREFETCH(rec + (q + FLAG_PF) * rs);
          PD_PREFETCH(&eid[q + FLAG_PF]);
          PD_PREFETCH(&to[q + FLAG_PF]);
        }
        unsigned char r2[MAX_REC];
        memcpy(r2, rec + q * rs, rs);
        memcpy(rec + q * rs, r, rs);
        memcpy(r, r2, rs);
        uint64_t e2 = eid[q];
        eid[q] = e;
        e = e2;
        uint32_t t2 = to[q];
        to[q] = t;
        t = t2;
      }
      memcpy(rec + at * rs, r, rs);
      eid[at] = e;
      to[at] = t;
      next[b]++;
    }
  }
}

/* Step 3 for one bucket: its range is copied aside (worker's scratch) and
 * each event copied back to its new place: independent writes within a
 * range the caches hold (swapping along the permutation's cycles instead
 * would wait on each swap before the next). Then each run is linked: a
 * record's link points at the slot before it, a run's first at nothing,
 * and the owner's head at its run's last. */
static inline void settle_bucket(cluster_job *j, size_t b, int32_t worker,
                                 size_t rs) {
  unsigned char *rec = j->c->rec;
  uint64_t *eid = j->c->eid;
  const uint32_t *to = j->seq;
  uint32_t begin = j->start[b], end = j->start[b + 1];
  size_t len = end - begin;
  uint64_t *aside_eid = j->aside_eid + (size_t)worker * j->aside_cap;
  unsigned char *aside_rec = j->aside_rec + (size_t)worker * j->aside_cap * rs;
  memcpy(aside_eid, eid + begin, len * sizeof *eid);
  memcpy(aside_rec, rec + (size_t)begin * rs, len * rs);
  for (size_t k = 0; k < len; k++) {
    uint32_t at = to[begin + k];
    memcpy(rec + (size_t)at * rs, aside_rec + k * rs, rs);
    eid[at] = aside_eid[k];
  }
  for (uint32_t at = begin; at < end; at++) {
    unsigned char *r = rec + (size_t)at * rs;
    uint32_t u = owner_of(r);
    uint32_t link = at > begin && owner_of(r - rs) == u ? at - 1 : PD_ST_NIL;
    memcpy(r + LINK_AT, &link, sizeof link);
    if (at + 1 == end || owner_of(r + rs) != u) j->users[u].head[j->kind] = at;
  }
}

static void settle_block(void *p, size_t b, int32_t worker) {
  cluster_job *j = p;
  switch (j->c->rec_size) {
    case 16: settle_bucket(j, b, worker, 16); break; /* binds, consents */
    case 20: settle_bucket(j, b, worker, 20); break; /* unlinks */
    case 28: settle_bucket(j, b, worker, 28); break; /* links, touchpoints */
    default: settle_bucket(j, b, worker, j->c->rec_size); break;
  }
}

static void sort_into_buckets_of(cluster_job *j, uint32_t *next) {
  switch (j->c->rec_size) {
    case 16: sort_into_buckets(j, next, 16); break;
    case 20: sort_into_buckets(j, next, 20); break;
    case 28: sort_into_buckets(j, next, 28); break;
    default: sort_into_buckets(j, next, j->c->rec_size); break;
  }
}
/* Ranges of buckets the retag pass is cut into (more than threads, so
 * that a slow range does not hold the others up). */
#define RETAG_RANGES 16

/* Buckets ahead whose tags' new indices the retag pass starts loading:
 * the buckets stream, but each tag's entry of moved[] is a random read. */
enum { RETAG_PF = 4 };

static inline const uint32_t *moved_entry(const retag_job *j, uint32_t tag) {
  const uint32_t *m = j->moved[pd_st_tag_kind(tag)];
  return m ? &m[pd_st_tag_index(tag)] : NULL;
}

static void retag_range(void *p, size_t r) {
  const retag_job *j = p;
  size_t per = (j->nbuckets + RETAG_RANGES - 1) / RETAG_RANGES;
  size_t b0 = r * per < j->nbuckets ? r * per : j->nbuckets;
  size_t b1 = b0 + per < j->nbuckets ? b0 + per : j->nbuckets;
  for (size_t b = b0; b < b1; b++) {
    if (b + RETAG_PF < b1) {
      const pd_st_bucket *ahead = &j->buckets[b + RETAG_PF];
      for (int slot = 0; slot < PD_ST_BUCKET_SLOTS && ahead->fp[slot];
           slot++) {
        const uint32_t *e = moved_entry(j, ahead->tag[slot]);
        if (e) PD_PREFETCH_READ(e);
      }
    }
    pd_st_bucket *k = &j->buckets[b];
    /* Slots fill in order: the first empty one ends the bucket. */
    for (int slot = 0; slot < PD_ST_BUCKET_SLOTS && k->fp[slot]; slot++) {
      const uint32_t *e = moved_entry(j, k->tag[slot]);
      if (e) k->tag[slot] = pd_st_tag(pd_st_tag_kind(k->tag[slot]), *e);
    }
  }
}


/* Makes each worker's room for step 3 hold the kind's largest bucket. */
static pd_status grow_aside(pd_store *s, cluster_job *j) {
  size_t most = 0;
  for (size_t b = 0; b < j->nbuckets; b++)
    if (j->start[b + 1] - j->start[b] > most)
      most = j->start[b + 1] - j->start[b];
  if (most <= j->aside_cap) return PD_OK;
  size_t total = (size_t)j->workers * most;
  if (total / most != (size_t)j->workers) return PD_E_NOMEM;
  void *r = pd_realloc_array(&s->alloc, j->aside_rec, total, MAX_REC);
  if (!r) return PD_E_NOMEM;
  j->aside_rec = r;
  void *e = pd_realloc_array(&s->alloc, j->aside_eid, total, sizeof(uint64_t));
  if (!e) return PD_E_NOMEM;
  j->aside_eid = e;
  j->aside_cap = most;
  return PD_OK;
}

/* Moves kind's events into runs by owner; their old index -> new index
 * goes to a new array *moved (NULL when nothing moves) for the retag
 * pass. j holds what the kinds share (seq, the counters). */
static pd_status cluster_kind(pd_store *s, int kind, int32_t threads,
                              cluster_job *j, uint32_t **moved) {
  pd_st_column *c = &s->col[kind];
  *moved = NULL;
  if (c->n < 2) return PD_OK;
  j->c = c;
  j->kind = kind;
  j->moved = pd_realloc_array(&s->alloc, NULL, c->n, sizeof *j->moved);
  if (!j->moved) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  memset(j->slot, 0, j->npieces * j->nbuckets * sizeof *j->slot);
  pd_parallel_for(threads, j->npieces, count_piece, j);
  /* Each piece's first slot in each bucket: the buckets in order of user
   * id, within one the pieces in order of the column. */
  uint32_t next = 0;
  for (size_t b = 0; b < j->nbuckets; b++) {
    j->start[b] = next;
    for (size_t piece = 0; piece < j->npieces; piece++) {
      uint32_t *slot = &j->slot[piece * j->nbuckets + b];
      uint32_t k = *slot;
      *slot = next;
      next += k;
    }
  }
  j->start[j->nbuckets] = next;
  if (grow_aside(s, j) != PD_OK) {
    pd_free(&s->alloc, j->moved);
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  /* Nothing can fail from here on. */
  pd_parallel_for(threads, j->npieces, group_piece, j);
  pd_parallel_for_workers(threads, j->nbuckets, place_bucket, j);
  pd_parallel_for(threads, j->npieces, compose_piece, j);
  memcpy(j->seq, j->moved, (size_t)c->n * sizeof *j->seq);
  /* The pieces' slots are free again: they serve as the buckets' next
   * free slots. */
  memcpy(j->slot, j->start, j->nbuckets * sizeof *j->slot);
  sort_into_buckets_of(j, j->slot);
  pd_parallel_for_workers(threads, j->nbuckets, settle_block, j);
  *moved = j->moved;
  return PD_OK;
}

/* Kinds with more events first: while the largest moves, when memory
 * peaks, no other kind's map is held yet. */
static void largest_first(const pd_store *s, int *kinds, size_t n) {
  for (size_t i = 1; i < n; i++) {
    int k = kinds[i];
    size_t j = i;
    for (; j > 0 && s->col[kinds[j - 1]].n < s->col[k].n; j--)
      kinds[j] = kinds[j - 1];
    kinds[j] = k;
  }
}

/* Sizes the buckets for the store's user ids and allocates what every
 * kind shares: seq (room for the largest kind), the pieces' slots, the
 * buckets' starts and the per-owner counters. */
static pd_status cluster_scratch(pd_store *s, int32_t threads,
                                 size_t max_buckets, cluster_job *j) {
  memset(j, 0, sizeof *j);
  j->users = s->users;
  j->shift = BUCKET_BITS;
  while (((uint64_t)s->n_users >> j->shift) >= max_buckets) j->shift++;
  j->nbuckets = (size_t)(((uint64_t)s->n_users >> j->shift) + 1);
  j->npieces = threads < 1 ? 1 : (size_t)threads;
  if (j->npieces > MAX_PIECES) j->npieces = MAX_PIECES;
  size_t most = 0;
  for (size_t k = 0; k < N_CLUSTERED; k++)
    if (s->col[clustered_kinds[k]].n > most) most = s->col[clustered_kinds[k]].n;
  int32_t workers = pd_parallel_workers(threads, j->nbuckets);
  j->workers = workers;
  j->slot = pd_realloc_array(&s->alloc, NULL, j->npieces * j->nbuckets,
                             sizeof *j->slot);
  j->start = pd_realloc_array(&s->alloc, NULL, j->nbuckets + 1,
                              sizeof *j->start);
  j->count = pd_realloc_array(&s->alloc, NULL, (size_t)workers << j->shift,
                              sizeof *j->count);
  j->seq = pd_realloc_array(&s->alloc, NULL, most, sizeof *j->seq);
  if (!j->slot || !j->start || !j->count || !j->seq)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  return PD_OK;
}

static void cluster_scratch_free(pd_store *s, cluster_job *j) {
  pd_free(&s->alloc, j->slot);
  pd_free(&s->alloc, j->start);
  pd_free(&s->alloc, j->count);
  pd_free(&s->alloc, j->seq);
  pd_free(&s->alloc, j->aside_rec);
  pd_free(&s->alloc, j->aside_eid);
}

pd_status pd_store_cluster(pd_store *s) {
  return pd_st_cluster(s, MAX_BUCKETS);
}

pd_status pd_st_cluster(pd_store *s, size_t max_buckets) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  pd_st_prefault_stop(s); /* the columns are about to move */
  int32_t threads = pd_st_threads(s);
  int kinds[N_CLUSTERED];
  memcpy(kinds, clustered_kinds, sizeof kinds);
  largest_first(s, kinds, N_CLUSTERED);
  cluster_job j;
  uint32_t *moved[N_CLUSTERED] = {NULL};
  retag_job rt;
  memset(&rt, 0, sizeof rt);
  st = cluster_scratch(s, threads, max_buckets < 1 ? 1 : max_buckets, &j);
  for (size_t k = 0; st == PD_OK && k < N_CLUSTERED; k++) {
    /* On failure the kinds moved so far stay clustered (and are retagged
     * below): the store is whole either way. */
    st = cluster_kind(s, kinds[k], threads, &j, &moved[k]);
    rt.moved[kinds[k]] = moved[k];
  }
  cluster_scratch_free(s, &j);
  rt.buckets = s->index.buckets;
  rt.nbuckets = s->index.nbuckets;
  int any_moved = 0;
  for (size_t k = 0; k < N_CLUSTERED; k++) any_moved |= moved[k] != NULL;
  if (any_moved) pd_parallel_for(threads, RETAG_RANGES, retag_range, &rt);
  for (size_t k = 0; k < N_CLUSTERED; k++) pd_free(&s->alloc, moved[k]);
  return pd_st_leave(s, st);
}

/* Records sampled: enough to tell a clustered column from one in arrival
 * order (where almost no link is to the record before), few enough to
 * cost nothing beside a pass over the column. */
#define SAMPLES 1024

int pd_st_chains_run_down(const pd_store *s, int kind) {
  int clustered = 0;
  for (size_t k = 0; k < N_CLUSTERED; k++)
    clustered |= clustered_kinds[k] == kind;
  const pd_st_column *c = &s->col[kind];
  if (!clustered || c->n == 0) return 0;
  uint32_t step = c->n / SAMPLES + 1, seen = 0, down = 0;
  for (uint32_t i = step / 2; i < c->n; i += step) {
    uint32_t next;
    memcpy(&next, (const unsigned char *)c->rec + (size_t)i * c->rec_size +
                      LINK_AT,
           sizeof next);
    seen++;
    down += next == i - 1 || next == PD_ST_NIL;
  }
  return down * 4 >= seen * 3;
}
