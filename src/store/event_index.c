/* The event-id index (see event_index.h and pd_st_index): cache-line
 * buckets of tags with one-byte fingerprints, linear probing over buckets,
 * load at most 7/8. The bucket count is any number (a hash is mapped onto
 * it by multiplication, not a mask), so that a reservation sizes the
 * index exactly: at chain scale it is the largest structure after the
 * columns. Entries are never removed
 * (an erased event keeps its id so that retries get PD_E_ERASED), so the
 * slots of a bucket fill in order and a bucket is full when its last
 * fingerprint is set. */
#include "event_index.h"

#include <string.h>

#include "core/hash.h"
#include "core/prefault.h"
#include "core/prefetch.h"
#include "store_restore.h"
#include "store_threads.h"

#define LAST (PD_ST_BUCKET_SLOTS - 1)

static inline uint64_t eid_of(const pd_store *s, uint32_t tag) {
  return s->col[pd_st_tag_kind(tag)].eid[pd_st_tag_index(tag)];
}

/* High bits for the fingerprint, low 32 bits for the bucket: independent. */
static inline uint8_t fingerprint(uint64_t h) {
  uint8_t f = (uint8_t)(h >> 56);
  return f ? f : 1;
}

/* The home bucket of hash h among nb (nb <= 2^32): the low 32 bits scaled
 * to [0, nb), uniform for any nb. */
static inline size_t home(uint64_t h, size_t nb) {
  return (size_t)(((h & UINT32_MAX) * (uint64_t)nb) >> 32);
}

static inline size_t next_bucket(size_t i, size_t nb) {
  return i + 1 == nb ? 0 : i + 1;
}

/* Events nb buckets hold at load 7/8. */
static inline size_t capacity(size_t nb) {
  return nb / 8 * 7 * PD_ST_BUCKET_SLOTS +
         nb % 8 * 7 * PD_ST_BUCKET_SLOTS / 8;
}

/* The fewest buckets (at least 64) holding n events at load <= 7/8, or 0
 * if that is more than the mapping allows (2^32). */
static size_t buckets_for(size_t n) {
  size_t nb = n / (7 * PD_ST_BUCKET_SLOTS) * 8 + 8;
  if (nb < 64) nb = 64;
  while (nb > 64 && capacity(nb - 1) >= n) nb--;
  return nb > (size_t)UINT32_MAX ? 0 : nb;
}

/* Bytes i..i+7 of a bucket's fingerprints as a word, byte i lowest. */
static inline uint64_t fp_word(const pd_st_bucket *b, int i) {
  uint64_t w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(&w, b->fp + i, sizeof w);
#else
  for (int k = 7; k >= 0; k--) w = w << 8 | b->fp[i + k];
#endif
  return w;
}

/* 0x80 in each byte of w that equals f, 0 elsewhere (exact: no false
 * alarms, which matters because a false alarm costs a random read). */
static inline uint64_t match_bytes(uint64_t w, uint8_t f) {
  const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL;
  uint64_t x = w ^ (0x0101010101010101ULL * f);
  return ~(((x & lo7) + lo7) | x | lo7);
}

/* Index of the lowest byte flagged in a non-zero match_bytes() mask. */
static inline int first_byte(uint64_t m) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(m) >> 3;
#else
  int j = 0;
  while (!(m & 0x80)) m >>= 8, j++;
  return j;
#endif
}

/* The tag among slots flagged in m (offset by base) whose event id is
 * eid, or 0. */
static inline uint32_t check(const pd_store *s, const pd_st_bucket *b,
                             uint64_t m, int base, uint64_t eid) {
  for (; m != 0; m &= m - 1) {
    uint32_t tag = b->tag[base + first_byte(m)];
    if (eid_of(s, tag) == eid) return tag;
  }
  return 0;
}

/* The tag of eid, or 0 with *room = the first bucket with a free slot
 * on its probe path (where it would be placed). */
static uint32_t find(const pd_store *s, uint64_t eid, size_t *room) {
  const pd_st_index *x = &s->index;
  uint64_t h = pd_mix64(eid);
  uint8_t f = fingerprint(h);
  size_t nb = x->nbuckets;
  for (size_t i = home(h, nb);; i = next_bucket(i, nb)) {
    const pd_st_bucket *b = &x->buckets[i];
    /* fp[12..15] are 0 and f never is, so all 16 bytes can be tested. */
    uint64_t m0 = match_bytes(fp_word(b, 0), f);
    uint64_t m1 = match_bytes(fp_word(b, 8), f);
    if ((m0 | m1) != 0) {
      uint32_t tag = check(s, b, m0, 0, eid);
      if (!tag) tag = check(s, b, m1, 8, eid);
      if (tag) return tag;
    }
    if (b->fp[LAST] == 0) {
      *room = i;
      return 0;
    }
  }
}

uint32_t pd_st_index_find(const pd_store *s, uint64_t eid) {
  size_t room;
  return s->index.nbuckets ? find(s, eid, &room) : 0;
}

void pd_st_index_prefetch(const pd_store *s, uint64_t eid) {
  const pd_st_index *x = &s->index;
  if (x->nbuckets == 0) return;
  PD_PREFETCH(&x->buckets[home(pd_mix64(eid), x->nbuckets)]);
}

/* Put tag in the first bucket with room from bucket i on (i is h's home
 * bucket, or a bucket of its probe path before which all are full). */
static inline void place(pd_st_bucket *bk, size_t nb, size_t i,
                         uint64_t h, uint32_t tag) {
  while (bk[i].fp[LAST] != 0) i = next_bucket(i, nb);
  pd_st_bucket *b = &bk[i];
  /* The first free slot: slots fill in order, and fp[LAST] is free. */
  uint64_t z = match_bytes(fp_word(b, 0), 0);
  int j = z ? first_byte(z) : 8 + first_byte(match_bytes(fp_word(b, 8), 0));
  b->fp[j] = fingerprint(h);
  b->tag[j] = tag;
}

/* place() for a rebuild from a snapshot (its deferred ids), which must
 * also refuse an event id held twice: the first holder, if any, is in a
 * bucket on the probe path up to the first bucket with room, so the walk
 * that finds room sees it (a fingerprint match costs one read of the
 * column's id). Returns 0, or -2 for a repeated id. */
static inline int place_unique(const pd_store *s, pd_st_bucket *bk, size_t nb,
                               size_t i, uint64_t h, uint64_t eid,
                               uint32_t tag) {
  uint8_t f = fingerprint(h);
  for (;; i = next_bucket(i, nb)) {
    const pd_st_bucket *b = &bk[i];
    uint64_t m0 = match_bytes(fp_word(b, 0), f);
    uint64_t m1 = match_bytes(fp_word(b, 8), f);
    if ((m0 | m1) != 0 && (check(s, b, m0, 0, eid) || check(s, b, m1, 8, eid)))
      return -2;
    if (b->fp[LAST] == 0) break;
  }
  place(bk, nb, i, h, tag);
  return 0;
}

/* Rebuild with nb buckets from the columns, read in order (sequential
 * reads of the event ids), prefetching each bucket a few events ahead. */
static int rebuild(pd_store *s, size_t nb) {
  pd_st_index *x = &s->index;
  if (nb == 0 || nb > SIZE_MAX / sizeof(pd_st_bucket) - 1) return -1;
  size_t bytes = nb * sizeof(pd_st_bucket);
  /* Every event probes a random bucket: huge pages spare a TLB miss. */
  void *mem = pd_alloc_random_zeroed(&s->alloc, &s->caller_alloc, bytes + 63,
                                     1, pd_st_threads(s));
  if (!mem) return -1;
  pd_st_bucket *bk =
      (pd_st_bucket *)((char *)mem + ((64 - (uintptr_t)mem % 64) % 64));
  for (int k = 1; k < PD_EV_KINDS; k++) {
    const pd_st_column *c = &s->col[k];
    for (uint32_t i = 0; i < c->n; i++) {
      if (i + PD_PREFETCH_AHEAD < c->n)
        PD_PREFETCH(
            &bk[home(pd_mix64(c->eid[i + PD_PREFETCH_AHEAD]), nb)]);
      uint64_t h = pd_mix64(c->eid[i]);
      place(bk, nb, home(h, nb), h, pd_st_tag(k, i));
    }
  }
  pd_free(&s->alloc, x->mem);
  x->mem = mem;
  x->buckets = bk;
  x->nbuckets = nb;
  x->limit = capacity(nb);
  x->hint_eid = 0;
  return 0;
}

pd_status pd_st_event_lookup(pd_store *s, uint64_t eid, int kind,
                             uint32_t *index) {
  if (eid == 0)
    return pd_err(&s->err, PD_E_INVALID, "event_id 0 is not an event id");
  size_t room;
  uint32_t tag = s->index.nbuckets ? find(s, eid, &room) : 0;
  if (tag == 0) {
    if (s->index.nbuckets) {
      s->index.hint_eid = eid;
      s->index.hint_bucket = room;
    }
    *index = PD_ST_NIL;
    return PD_OK;
  }
  int k = pd_st_tag_kind(tag);
  uint32_t i = pd_st_tag_index(tag);
  if (pd_st_event_time(s, k, i) == PD_ST_ERASED)
    return pd_err(&s->err, PD_E_ERASED,
                  "event %llu was erased (with its user, or by the retention "
                  "purge) and cannot be "
                  "recorded again",
                  (unsigned long long)eid);
  if (k != kind)
    return pd_err(&s->err, PD_E_DUPLICATE,
                  "event id %llu is already used by an event of another "
                  "kind",
                  (unsigned long long)eid);
  *index = i;
  return PD_OK;
}

/* Room for `more` events beyond those indexed. Growing one event at a
 * time, the index doubles, because a rebuild (a random write per event)
 * is the costliest step of recording: growing by half cost a third more
 * recording CPU (1M users, 20M events: 6.0 s, not 4.6 s) to save about a
 * byte per event. A bulk load that counts bytes reserves
 * (pd_store_reserve) and rebuilds nothing. */
static int index_reserve(pd_store *s, size_t more) {
  pd_st_index *x = &s->index;
  if (more <= x->limit - x->len) return 0;
  if (more > SIZE_MAX - x->len) return -1;
  size_t nb = buckets_for(x->len + more);
  if (more == 1 && nb < x->nbuckets * 2 && x->nbuckets <= UINT32_MAX / 2)
    nb = x->nbuckets * 2;
  return rebuild(s, nb);
}

pd_status pd_st_event_reserve(pd_store *s, int kind) {
  pd_status st = pd_st_column_reserve(s, kind, 1);
  if (st) return st;
  if (index_reserve(s, 1) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  return PD_OK;
}

/* Events the index must hold to keep every open promise of
 * pd_store_reserve: those indexed plus those still to come of each
 * reserved kind, and at least the total reserved without a kind. */
static size_t promised(const pd_store *s) {
  const pd_st_index *x = &s->index;
  size_t n = x->len;
  for (int k = 1; k < PD_EV_KINDS; k++)
    if (x->reserved[k] > s->col[k].n) n += x->reserved[k] - s->col[k].n;
  return n > x->reserved[0] ? n : x->reserved[0];
}

pd_status pd_st_event_reserve_many(pd_store *s, int kind, size_t count) {
  pd_status st = kind ? pd_st_column_reserve(s, kind, count) : PD_OK;
  if (st) return st;
  pd_st_index *x = &s->index;
  /* Counts fit: at most 2^28 per kind, 12 × 2^28 in all. */
  size_t was = x->reserved[kind];
  size_t want = (kind ? s->col[kind].n : x->len) + count;
  if (want > was) x->reserved[kind] = want;
  size_t need = promised(s);
  if (need > x->limit && rebuild(s, buckets_for(need)) != 0) {
    x->reserved[kind] = was;
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  return PD_OK;
}

uint32_t pd_st_event_append(pd_store *s, int kind, uint64_t eid) {
  pd_st_column *c = &s->col[kind];
  uint32_t i = c->n++;
  c->live++;
  c->eid[i] = eid;
  pd_st_index *x = &s->index;
  uint64_t h = pd_mix64(eid);
  size_t nb = x->nbuckets;
  /* Start where the lookup found room, unless the buckets were rebuilt
   * since: buckets before it on the probe path were full and stay so. */
  size_t from = x->hint_eid == eid ? x->hint_bucket : home(h, nb);
  place(x->buckets, nb, from, h, pd_st_tag(kind, i));
  x->hint_eid = 0;
  x->len++;
  return i;
}

pd_status pd_st_replay(pd_store *s, int same, uint64_t eid,
                       const char *what) {
  if (same) return PD_REPLAYED;
  return pd_err(&s->err, PD_E_DUPLICATE,
                "event id %llu was recorded as a different %s",
                (unsigned long long)eid, what);
}

/* ---- the rebuild after a snapshot load, by bucket ranges ----------------
 *
 * The buckets are cut into ranges that depend only on the event count.
 * Each range is one block of work: it scans every event id in column
 * order and places those whose home bucket lies in the range, never
 * reading or writing a bucket outside it. An id whose probe would leave
 * the range (or wrap) is deferred to the range's list, placed afterwards
 * on the calling thread in range order. So the buckets come out the same
 * whichever thread ran which range, and whatever the thread count.
 *
 * Repeated ids are still refused: an id and its repeat share a home
 * bucket, so the one placed second walks past the first, in the range or
 * among the deferred (buckets only fill, so if the first was deferred,
 * the second finds the same full buckets and is deferred after it). */

/* Events below which one range is used (each range scans every id,
 * which costs more than a second thread saves on a small index). */
#define RANGES_FROM ((size_t)1 << 16)

/* Deferred ids a range can hold before the whole build falls back to one
 * sequential pass (only crafted ids overflow: a probe leaves its range
 * only from the last few buckets of it). */
static size_t defer_cap(size_t n) { return 1024 + n / 1024; }

/* ---- suspects: fingerprint matches, their ids compared in batches ------
 *
 * A new id whose fingerprint matches a slot on its probe path may repeat
 * that slot's id. Comparing the two ids at once costs a read of the old
 * one's column at random, which the probe cannot prefetch; with one
 * match in fifty ids that stalled read was about a quarter of a fed
 * build's time. So
 * the pair of tags is noted and placement goes on; each range's pairs
 * are compared in a batch, their reads prefetched, when the list fills
 * and before the range's result is read. A repeat is refused as before
 * (the build fails with -2), only later. */

static inline const uint64_t *build_id(const pd_st_index_build *x,
                                       uint32_t tag) {
  return &x->eid[pd_st_tag_kind(tag)][pd_st_tag_index(tag)];
}

/* Range r's list: pairs (slot's tag, new tag), nsuspects[r] of them. */
static inline uint32_t *suspect_list(const pd_st_index_build *x, size_t r) {
  return x->suspects + r * 2 * PD_ST_INDEX_SUSPECTS;
}

/* 1 if a pair of tags in the n pairs of range r's list names one id
 * twice; the list is emptied. */
static int suspects_repeat(pd_st_index_build *x, size_t r) {
  const uint32_t *pair = suspect_list(x, r);
  size_t n = x->nsuspects[r];
  x->nsuspects[r] = 0;
  for (size_t p = 0; p < n; p++) {
    if (p + PD_PREFETCH_AHEAD < n)
      PD_PREFETCH_READ(build_id(x, pair[2 * (p + PD_PREFETCH_AHEAD)]));
    if (*build_id(x, pair[2 * p]) == *build_id(x, pair[2 * p + 1]))
      return 1;
  }
  return 0;
}

/* Note the slots flagged in m (offset by base) of bucket b as suspects
 * of tag, in range r: 0, or -2 when a full list compared held a repeat. */
static inline int suspect(pd_st_index_build *x, size_t r,
                          const pd_st_bucket *b, uint64_t m, int base,
                          uint32_t tag) {
  for (; m != 0; m &= m - 1) {
    if (x->nsuspects[r] == x->suspect_cap && suspects_repeat(x, r))
      return -2;
    uint32_t *pair = suspect_list(x, r) + 2 * x->nsuspects[r]++;
    pair[0] = b->tag[base + first_byte(m)];
    pair[1] = tag;
  }
  return 0;
}

/* Place tag (hash h) from its home i in range r, which ends at hi: 0,
 * -2 for a repeated id, or 1 when the probe reaches hi before a bucket
 * with room (deferred). */
static inline int place_in_range(pd_st_index_build *x, size_t r, size_t i,
                                 size_t hi, uint64_t h, uint32_t tag) {
  pd_st_bucket *bk = x->bk;
  uint8_t f = fingerprint(h);
  for (;; i++) {
    if (i == hi) return 1;
    pd_st_bucket *b = &bk[i];
    uint64_t m0 = match_bytes(fp_word(b, 0), f);
    uint64_t m1 = match_bytes(fp_word(b, 8), f);
    if ((m0 | m1) != 0 &&
        (suspect(x, r, b, m0, 0, tag) || suspect(x, r, b, m1, 8, tag)))
      return -2;
    if (b->fp[LAST] == 0) break;
  }
  pd_st_bucket *b = &bk[i];
  uint64_t z = match_bytes(fp_word(b, 0), 0);
  int j = z ? first_byte(z) : 8 + first_byte(match_bytes(fp_word(b, 8), 0));
  b->fp[j] = f;
  b->tag[j] = tag;
  return 0;
}

/* Range r's result once its suspects are compared. */
static void settle_range(pd_st_index_build *x, size_t r) {
  if (suspects_repeat(x, r) && x->result[r] == 0) x->result[r] = -2;
}

int pd_st_index_build_begin(pd_store *s, pd_st_index_build *b) {
  size_t n = 0;
  for (int k = 1; k < PD_EV_KINDS; k++) n += s->col[k].n;
  return pd_st_index_build_begin_ranges(
      s, b, n < RANGES_FROM ? 1 : PD_ST_INDEX_RANGES);
}

static int begin_sized(pd_store *s, pd_st_index_build *b, size_t n,
                       size_t nranges);

int pd_st_index_build_begin_ranges(pd_store *s, pd_st_index_build *b,
                                   size_t nranges) {
  size_t n = 0;
  for (int k = 1; k < PD_EV_KINDS; k++) n += s->col[k].n;
  int r = begin_sized(s, b, n, nranges);
  for (int k = 1; r == 0 && k < PD_EV_KINDS; k++) b->eid[k] = s->col[k].eid;
  return r;
}

int pd_st_index_build_begin_fed(pd_store *s, pd_st_index_build *b,
                                size_t n, size_t lanes) {
  int r = begin_sized(s, b, n, n < RANGES_FROM ? 1 : PD_ST_INDEX_RANGES);
  if (r == 0) b->nlanes = lanes < 1 ? 1 : lanes > b->nranges ? b->nranges
                                                              : lanes;
  return r;
}

static int begin_sized(pd_store *s, pd_st_index_build *b, size_t n,
                       size_t nranges) {
  memset(b, 0, sizeof *b);
  b->s = s;
  b->n = n;
  /* every event and an eighth more, so that recording after the load
   * does not rebuild the index at once */
  size_t nb = buckets_for(n + n / 8 + 1);
  if (nb == 0 || nb > SIZE_MAX / sizeof(pd_st_bucket) - 1) return -1;
  if (nranges < 1 || nranges > PD_ST_INDEX_MAX_RANGES || nranges > nb)
    nranges = 1;
  b->nranges = nranges;
  b->nlanes = 1;
  b->nb = nb;
  b->bytes = nb * sizeof(pd_st_bucket) + 63;
  b->mem = pd_malloc(&s->alloc, b->bytes);
  if (!b->mem) return -1;
  b->defer_cap = defer_cap(n);
  /* one block: the deferred lists, then the suspect lists */
  b->deferred = pd_malloc(&s->alloc, b->nranges * (b->defer_cap +
                                                   2 * PD_ST_INDEX_SUSPECTS) *
                                         sizeof *b->deferred);
  if (!b->deferred) {
    pd_free(&s->alloc, b->mem);
    b->mem = NULL;
    return -1;
  }
  b->suspects = b->deferred + b->nranges * b->defer_cap;
  b->suspect_cap = PD_ST_INDEX_SUSPECTS;
  pd_advise_random_large(&s->caller_alloc, b->mem, b->bytes);
  b->bk = (pd_st_bucket *)((char *)b->mem +
                           ((64 - (uintptr_t)b->mem % 64) % 64));
  /* the alignment slack; each range zeroes its own buckets */
  memset(b->mem, 0, (size_t)((char *)b->bk - (char *)b->mem));
  char *end = (char *)(b->bk + nb);
  memset(end, 0, (size_t)((char *)b->mem + b->bytes - end));
  return 0;
}

/* Ids a span looks at per filter step. The filter is branch-free: with
 * a branch per id on "is its home in my range", taken at random, each
 * range beyond the first added 1.1 s to a one-thread build of 201M ids;
 * this way 0.5 s, which lets a build use 8 ranges (PD_ST_INDEX_RANGES). */
#define FILTER 64

/* The ids of a span whose buckets are being prefetched, placed in the
 * order they entered. */
typedef struct span_window {
  uint32_t index[PD_PREFETCH_AHEAD];
  uint64_t hash[PD_PREFETCH_AHEAD];
  uint32_t head, tail;
} span_window;

/* Place id j of kind k (hash h, home bucket i) in its range r, which
 * ends at hi, or append it to the range's deferred list when its probe
 * would leave the range: 0, -2 for a repeated id (or 0), -3 when the
 * list is full. */
static inline int place_or_defer(pd_st_index_build *b, size_t r, int k,
                                 uint32_t j, uint64_t h, size_t i,
                                 size_t hi) {
  uint32_t tag = pd_st_tag(k, j);
  int p = b->eid[k][j] == 0 ? -2 : place_in_range(b, r, i, hi, h, tag);
  if (p != 1) return p;
  if (b->ndeferred[r] == b->defer_cap) return -3;
  b->deferred[r * b->defer_cap + b->ndeferred[r]++] = tag;
  return 0;
}

/* The range holding bucket i, and where it ends: ranges start at
 * multiples of per = nb / nranges (the last one runs to nb); counted by a
 * few comparisons rather than a division per id. */
static inline size_t range_of_bucket(const pd_st_index_build *b, size_t per,
                                     size_t i, size_t *hi) {
  size_t r = 0;
  for (size_t q = 1; q < b->nranges; q++) r += i >= per * q;
  *hi = r + 1 == b->nranges ? b->nb : per * (r + 1);
  return r;
}

/* The first bucket of range r (r = nranges: the end of the buckets). */
static size_t range_start(const pd_st_index_build *b, size_t r) {
  return r == b->nranges ? b->nb : b->nb / b->nranges * r;
}

/* Place the oldest id of the window (of kind k) in its range, unless
 * that range has failed already (after which it places nothing more). */
static void place_oldest(pd_st_index_build *b, size_t per, span_window *w,
                         int k) {
  uint32_t j = w->index[w->tail % PD_PREFETCH_AHEAD];
  uint64_t h = w->hash[w->tail % PD_PREFETCH_AHEAD];
  w->tail++;
  size_t hi, i = home(h, b->nb);
  size_t r = range_of_bucket(b, per, i, &hi);
  if (b->result[r] == 0) b->result[r] = place_or_defer(b, r, k, j, h, i, hi);
}

/* Place the ids [from, to) of kind k whose home bucket is in ranges
 * [r0, r1), in column order, each bucket prefetched a few ids ahead.
 * Touches only those ranges' buckets, lists and results. */
static void place_span(pd_st_index_build *b, size_t r0, size_t r1, int k,
                       uint32_t from, uint32_t to) {
  size_t nb = b->nb, per = nb / b->nranges;
  size_t lo = range_start(b, r0), span = range_start(b, r1) - lo;
  const uint64_t *eid = b->eid[k];
  pd_st_bucket *bk = b->bk;
  span_window w = {.head = 0, .tail = 0};
  for (uint32_t i0 = from; i0 < to; i0 += FILTER) {
    uint32_t i1 = to - i0 < FILTER ? to : i0 + FILTER;
    uint32_t cand[FILTER], nc = 0;
    uint64_t cand_h[FILTER];
    for (uint32_t i = i0; i < i1; i++) {
      uint64_t h = pd_mix64(eid[i]);
      cand[nc] = i;
      cand_h[nc] = h;
      nc += home(h, nb) - lo < span;
    }
    for (uint32_t q = 0; q < nc; q++) {
      if (w.head - w.tail == PD_PREFETCH_AHEAD) place_oldest(b, per, &w, k);
      PD_PREFETCH(&bk[home(cand_h[q], nb)]);
      w.index[w.head % PD_PREFETCH_AHEAD] = cand[q];
      w.hash[w.head % PD_PREFETCH_AHEAD] = cand_h[q];
      w.head++;
    }
  }
  while (w.tail != w.head) place_oldest(b, per, &w, k);
  for (size_t r = r0; r < r1; r++) settle_range(b, r);
}

/* Clear the buckets of ranges [r0, r1). */
static void clear_ranges(pd_st_index_build *b, size_t r0, size_t r1) {
  size_t lo = range_start(b, r0), hi = range_start(b, r1);
  memset(b->bk + lo, 0, (hi - lo) * sizeof *b->bk);
}

void pd_st_index_build_range(pd_st_index_build *b, size_t r) {
  clear_ranges(b, r, r + 1);
  for (int k = 1; k < PD_EV_KINDS && b->result[r] == 0; k++)
    place_span(b, r, r + 1, k, 0, b->s->col[k].n);
}

/* ---- the build fed while the columns are read ---------------------------
 *
 * The ranges are shared out among a few lanes, each fed on a thread of
 * its own: a lane places every id of its ranges, in column order,
 * deferring the ids whose probe would leave their range, exactly as that
 * range's own pass would. Every range sees its ids in the same order, so
 * the buckets and deferred lists come out as the ranged build's (a test
 * compares them byte for byte). A lane reads each id once, where the
 * ranged build reads every id once per range. */

/* Lane l's ranges: [*r0, *r1). */
static void lane_ranges(const pd_st_index_build *b, size_t l, size_t *r0,
                        size_t *r1) {
  *r0 = b->nranges * l / b->nlanes;
  *r1 = b->nranges * (l + 1) / b->nlanes;
}

void pd_st_index_build_zero(pd_st_index_build *b, size_t lane) {
  size_t r0, r1;
  lane_ranges(b, lane, &r0, &r1);
  clear_ranges(b, r0, r1);
}

void pd_st_index_build_feed_column(pd_st_index_build *b, int k,
                                   const uint64_t *eid) {
  b->eid[k] = eid;
}

void pd_st_index_build_feed(pd_st_index_build *b, size_t lane, int k,
                            uint32_t from, uint32_t to) {
  size_t r0, r1;
  lane_ranges(b, lane, &r0, &r1);
  place_span(b, r0, r1, k, from, to);
}

/* Every range ran: place the deferred ids, or redo everything in one
 * sequential pass when a range's list overflowed. */
static int build_finish(pd_st_index_build *b) {
  pd_store *s = b->s;
  int overflow = 0;
  for (size_t r = 0; r < b->nranges; r++) {
    if (b->result[r] == -2) return -2;
    if (b->result[r] == -3) overflow = 1;
  }
  size_t nb = b->nb;
  pd_st_bucket *bk = b->bk;
  if (overflow) {
    memset(bk, 0, nb * sizeof *bk);
    for (int k = 1; k < PD_EV_KINDS; k++) {
      const pd_st_column *c = &s->col[k];
      for (uint32_t i = 0; i < c->n; i++) {
        uint64_t eid = c->eid[i], h = pd_mix64(eid);
        if (eid == 0 ||
            place_unique(s, bk, nb, home(h, nb), h, eid, pd_st_tag(k, i)))
          return -2;
      }
    }
    return 0;
  }
  for (size_t r = 0; r < b->nranges; r++) {
    const uint32_t *def = b->deferred + r * b->defer_cap;
    for (size_t d = 0; d < b->ndeferred[r]; d++) {
      uint32_t tag = def[d];
      uint64_t eid = eid_of(s, tag), h = pd_mix64(eid);
      if (place_unique(s, bk, nb, home(h, nb), h, eid, tag) != 0) return -2;
    }
  }
  return 0;
}

int pd_st_index_build_end(pd_st_index_build *b) {
  pd_store *s = b->s;
  int r = b->mem ? build_finish(b) : -1;
  pd_free(&s->alloc, b->deferred);
  b->deferred = NULL;
  if (r != 0) {
    pd_free(&s->alloc, b->mem);
    b->mem = NULL;
    return r;
  }
  pd_st_index *x = &s->index;
  pd_free(&s->alloc, x->mem);
  x->mem = b->mem;
  x->buckets = b->bk;
  x->nbuckets = b->nb;
  x->limit = capacity(b->nb);
  x->hint_eid = 0;
  x->len = b->n;
  b->mem = NULL;
  return 0;
}

void pd_st_index_build_abandon(pd_st_index_build *b) {
  pd_free(&b->s->alloc, b->deferred);
  pd_free(&b->s->alloc, b->mem);
  b->deferred = NULL;
  b->mem = NULL;
}
