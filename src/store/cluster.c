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
 * The passes are split by ranges of user ids: each range reads the whole
 * column and writes only its own owners' events, so ranges run on the
 * store's threads without sharing a write. The index's tags are remapped
 * once, after every kind has moved: one pass over the whole index instead
 * of one per kind. */
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

/* Each reads the whole column, so more ranges than this cost more reading
 * than they save. */
#define MAX_RANGES 8

typedef struct cluster_job {
  const pd_st_column *c;
  int kind;
  uint32_t n_users;
  uint32_t bound[MAX_RANGES + 1]; /* range r owns user ids [bound[r], bound[r+1]) */
  uint32_t *cursor; /* [n_users]: count, then next slot, then end */
  uint32_t *moved;  /* [n]: old index -> new index */
  uint64_t *eid;    /* the new columns */
  unsigned char *rec;
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

/* Records ahead whose owner's counter (and, when moving, whose new slot)
 * a pass starts loading: owners come in arrival order, so both are
 * random accesses, and overlapping their misses is most of the speed of
 * a large store's passes. */
enum { CLUSTER_PF = 16 };

static void count_range(void *p, size_t r) {
  cluster_job *j = p;
  const unsigned char *rec = j->c->rec;
  size_t rs = j->c->rec_size;
  uint32_t lo = j->bound[r], hi = j->bound[r + 1], n = j->c->n;
  for (uint32_t i = 0; i < n; i++) {
    if (i + CLUSTER_PF < n) {
      uint32_t v = owner_of(rec + (size_t)(i + CLUSTER_PF) * rs);
      if (v >= lo && v < hi) PD_PREFETCH(&j->cursor[v]);
    }
    uint32_t u = owner_of(rec + (size_t)i * rs);
    if (u >= lo && u < hi) j->cursor[u]++;
  }
}

/* Copies the range's events to their new slots. Each record's link
 * points at the slot before it; the first of each owner is unlinked
 * afterwards (relink_heads). Inline, so that with a constant record size
 * each copy is a few moves instead of a call. */
static inline void move_records(cluster_job *j, size_t r, size_t rs) {
  const unsigned char *rec = j->c->rec;
  const uint64_t *eid = j->c->eid;
  uint32_t lo = j->bound[r], hi = j->bound[r + 1], n = j->c->n;
  for (uint32_t i = 0; i < n; i++) {
    /* The owner's counter two strides ahead, its new slot one ahead (the
     * slot may have moved on by then if the owner comes again first:
     * then the prefetch was only early). */
    if (i + 2 * CLUSTER_PF < n) {
      uint32_t v = owner_of(rec + (size_t)(i + 2 * CLUSTER_PF) * rs);
      if (v >= lo && v < hi) PD_PREFETCH(&j->cursor[v]);
    }
    if (i + CLUSTER_PF < n) {
      uint32_t v = owner_of(rec + (size_t)(i + CLUSTER_PF) * rs);
      if (v >= lo && v < hi) {
        uint32_t at = j->cursor[v];
        PD_PREFETCH(j->rec + (size_t)at * rs);
        PD_PREFETCH(&j->eid[at]);
      }
    }
    const unsigned char *from = rec + (size_t)i * rs;
    uint32_t u = owner_of(from);
    if (u < lo || u >= hi) continue;
    uint32_t to = j->cursor[u]++;
    unsigned char *dst = j->rec + (size_t)to * rs;
    memcpy(dst, from, rs);
    uint32_t link = to - 1; /* wraps to NIL for slot 0 */
    memcpy(dst + LINK_AT, &link, sizeof link);
    j->eid[to] = eid[i];
    j->moved[i] = to;
  }
}

static void move_range(void *p, size_t r) {
  cluster_job *j = p;
  switch (j->c->rec_size) {
    case 16: move_records(j, r, 16); break; /* binds, consents */
    case 20: move_records(j, r, 20); break; /* unlinks */
    case 28: move_records(j, r, 28); break; /* links, touchpoints */
    default: move_records(j, r, j->c->rec_size); break;
  }
}

/* cursor[u] now holds the end of u's run, which starts at the previous
 * id's end: ends each run's chain and points u's head at its newest. */
static void relink_heads(cluster_job *j, pd_st_user *users) {
  uint32_t begin = 0;
  for (uint32_t u = 1; u < j->n_users; u++) {
    uint32_t end = j->cursor[u];
    users[u].head[j->kind] = end > begin ? end - 1 : PD_ST_NIL;
    if (end > begin) {
      uint32_t nil = PD_ST_NIL;
      memcpy(j->rec + (size_t)begin * j->c->rec_size + LINK_AT, &nil,
             sizeof nil);
    }
    begin = end;
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

/* Splits user ids 1..n_users-1 into `ranges` ranges of about equal event
 * counts (cursor holds each id's count). */
static void split_by_events(cluster_job *j, size_t ranges) {
  uint64_t total = j->c->n, seen = 0;
  size_t r = 1;
  j->bound[0] = 1;
  for (uint32_t u = 1; u < j->n_users && r < ranges; u++) {
    seen += j->cursor[u];
    if (seen * ranges >= total * r) j->bound[r++] = u + 1;
  }
  while (r <= ranges) j->bound[r++] = j->n_users;
}

/* Moves kind's events into runs by owner; their old index -> new index
 * goes to a new array *moved (NULL when nothing moves) for the retag
 * pass. */
static pd_status cluster_kind(pd_store *s, int kind, int32_t threads,
                              uint32_t **moved) {
  pd_st_column *c = &s->col[kind];
  *moved = NULL;
  if (c->n < 2) return PD_OK;
  cluster_job j;
  memset(&j, 0, sizeof j);
  j.c = c;
  j.kind = kind;
  j.n_users = s->n_users;
  j.cursor = pd_calloc(&s->alloc, s->n_users, sizeof *j.cursor);
  j.moved = pd_realloc_array(&s->alloc, NULL, c->n, sizeof *j.moved);
  j.eid = pd_realloc_array(&s->alloc, NULL, c->cap, sizeof *j.eid);
  j.rec = pd_realloc_array(&s->alloc, NULL, c->cap, c->rec_size);
  if (!j.cursor || !j.moved || !j.eid || !j.rec) {
    pd_free(&s->alloc, j.cursor);
    pd_free(&s->alloc, j.moved);
    pd_free(&s->alloc, j.eid);
    pd_free(&s->alloc, j.rec);
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  /* Nothing can fail from here on. */
  pd_advise_random_large(&s->caller_alloc, j.rec, c->cap * c->rec_size);
  size_t ranges = threads < 1 ? 1 : (size_t)threads;
  if (ranges > MAX_RANGES) ranges = MAX_RANGES;

  /* Count each owner's events: one range per thread by user id. */
  for (size_t r = 0; r <= ranges; r++)
    j.bound[r] = (uint32_t)(1 + (uint64_t)(s->n_users - 1) * r / ranges);
  pd_parallel_for(threads, ranges, count_range, &j);
  /* Each owner's first slot, and ranges of equal work for the move. */
  split_by_events(&j, ranges);
  uint32_t next = 0;
  for (uint32_t u = 1; u < s->n_users; u++) {
    uint32_t k = j.cursor[u];
    j.cursor[u] = next;
    next += k;
  }
  pd_parallel_for(threads, ranges, move_range, &j);
  relink_heads(&j, s->users);

  pd_free(&s->alloc, c->eid);
  pd_free(&s->alloc, c->rec);
  c->eid = j.eid;
  c->rec = j.rec;
  pd_free(&s->alloc, j.cursor);
  *moved = j.moved;
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

pd_status pd_store_cluster(pd_store *s) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  pd_st_prefault_stop(s); /* the columns are about to move */
  int32_t threads = pd_st_threads(s);
  enum { N = sizeof clustered_kinds / sizeof *clustered_kinds };
  int kinds[N];
  memcpy(kinds, clustered_kinds, sizeof kinds);
  largest_first(s, kinds, N);
  retag_job rt;
  memset(&rt, 0, sizeof rt);
  uint32_t *moved[N] = {NULL};
  for (size_t k = 0; k < N; k++) {
    /* On failure the kinds moved so far stay clustered (and are retagged
     * below): the store is whole either way. */
    if ((st = cluster_kind(s, kinds[k], threads, &moved[k])) != PD_OK) break;
    rt.moved[kinds[k]] = moved[k];
  }
  rt.buckets = s->index.buckets;
  rt.nbuckets = s->index.nbuckets;
  int any_moved = 0;
  for (size_t k = 0; k < N; k++) any_moved |= moved[k] != NULL;
  if (any_moved) pd_parallel_for(threads, RETAG_RANGES, retag_range, &rt);
  for (size_t k = 0; k < N; k++) pd_free(&s->alloc, moved[k]);
  return pd_st_leave(s, st);
}

/* Records sampled: enough to tell a clustered column from one in arrival
 * order (where almost no link is to the record before), few enough to
 * cost nothing beside a pass over the column. */
#define SAMPLES 1024

int pd_st_chains_run_down(const pd_store *s, int kind) {
  int clustered = 0;
  for (size_t k = 0; k < sizeof clustered_kinds / sizeof *clustered_kinds;
       k++)
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
