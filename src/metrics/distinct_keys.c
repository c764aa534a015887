/* Distinct keys by open addressing with linear probing
 * (distinct_keys.h). A slot holds half of the key's hash beside the key's
 * number, so that a probe reads the key itself only when they agree.
 * Rows are taken a few ahead: the slot of a row LOOKAHEAD rows on is
 * prefetched, and half-way there the key it points at, so that the misses
 * of consecutive rows overlap (the table outgrows the caches on a chain's
 * customers). */
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/prefetch.h"
#include "distinct_keys.h"

#define LOOKAHEAD 16 /* a power of two */
#define FIRST_SLOTS 1024

typedef struct pending {
  double k[3];
  uint64_t hash;
  int has;
} pending;

void pd_mx_distinct_init(pd_mx_distinct *d, const pd_allocator *alloc) {
  memset(d, 0, sizeof *d);
  d->alloc = *alloc;
}

void pd_mx_distinct_free(pd_mx_distinct *d) {
  pd_free(&d->alloc, d->keys);
  pd_free(&d->alloc, d->slots);
  pd_allocator a = d->alloc;
  pd_mx_distinct_init(d, &a);
}

static uint64_t bits_of(double v) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  return b;
}

static uint64_t hash_key(const double k[3]) {
  uint64_t h = pd_mix64(bits_of(k[0]));
  h = pd_mix64(h ^ bits_of(k[1]));
  return pd_mix64(h ^ bits_of(k[2]));
}

/* Adding 0.0 turns -0.0 into 0.0, so keys equal by value hash alike. */
static void take(const void *ctx, pd_mx_key_fn key, size_t i, pending *p) {
  p->has = key(ctx, i, p->k);
  if (!p->has) return;
  for (int j = 0; j < 3; j++) p->k[j] += 0.0;
  p->hash = hash_key(p->k);
}

/* A slot: the key's number + 1 in the top half (never 0 in a used slot),
 * the hash's low half below, which holds the slot position's bits: slots
 * are placed again without reading the keys. (Positions take only those
 * 32 bits, so a table past 2^32 slots would crowd, never err.) */
static uint64_t slot_of(uint64_t hash, size_t number) {
  return (uint64_t)(number + 1) << 32 | (uint32_t)hash;
}

static size_t home(uint64_t hash, size_t mask) {
  return (size_t)(uint32_t)hash & mask;
}

/* The slots, twice as many. Taking the old slots in order places them in
 * two ascending runs, so the new table is written nearly in sequence. */
static int grow_slots(pd_mx_distinct *d) {
  size_t n = d->nslots ? 2 * d->nslots : FIRST_SLOTS, mask = n - 1;
  uint64_t *s = pd_realloc_array(&d->alloc, NULL, n, sizeof *s);
  if (!s) return -1;
  memset(s, 0, n * sizeof *s);
  for (size_t j = 0; j < d->nslots; j++) {
    uint64_t v = d->slots[j];
    if (v == 0) continue;
    size_t pos = home(v, mask);
    while (s[pos] != 0) pos = (pos + 1) & mask;
    s[pos] = v;
  }
  pd_free(&d->alloc, d->slots);
  d->slots = s;
  d->nslots = n;
  return 0;
}

static int find_or_add(pd_mx_distinct *d, const pending *p, uint32_t *out) {
  size_t mask = d->nslots - 1, pos = home(p->hash, mask);
  for (;;) {
    uint64_t s = d->slots[pos];
    if (s == 0) break;
    if ((uint32_t)s == (uint32_t)p->hash) {
      size_t j = (size_t)(s >> 32) - 1;
      double *q = d->keys + 4 * j;
      if (q[0] == p->k[0] && q[1] == p->k[1] && q[2] == p->k[2]) {
        q[3] += 1;
        *out = (uint32_t)j;
        return 0;
      }
    }
    pos = (pos + 1) & mask;
  }
  if (d->m + 1 >= (size_t)PD_MX_NO_KEY) return -1;
  if (pd_grow(&d->alloc, (void **)&d->keys, &d->cap, 4 * (d->m + 1),
              sizeof *d->keys) != 0)
    return -1;
  if (2 * (d->m + 1) > d->nslots) {
    if (grow_slots(d) != 0) return -1;
    mask = d->nslots - 1;
    pos = home(p->hash, mask);
    while (d->slots[pos] != 0) pos = (pos + 1) & mask;
  }
  double *q = d->keys + 4 * d->m;
  q[0] = p->k[0];
  q[1] = p->k[1];
  q[2] = p->k[2];
  q[3] = 1;
  d->slots[pos] = slot_of(p->hash, d->m);
  *out = (uint32_t)d->m++;
  return 0;
}

int pd_mx_distinct_index(pd_mx_distinct *d, size_t n, pd_mx_key_fn key,
                         const void *ctx, uint32_t *index) {
  if (d->nslots == 0 && grow_slots(d) != 0) return -1;
  pending ring[LOOKAHEAD];
  for (size_t i = 0; i < LOOKAHEAD && i < n; i++) take(ctx, key, i, &ring[i]);
  for (size_t i = 0; i < n; i++) {
    pending *p = &ring[i % LOOKAHEAD];
    if (!p->has) {
      index[i] = PD_MX_NO_KEY;
    } else if (find_or_add(d, p, &index[i]) != 0) {
      return -1;
    }
    size_t mask = d->nslots - 1;
    if (i + LOOKAHEAD < n) {
      take(ctx, key, i + LOOKAHEAD, p);
      if (p->has) PD_PREFETCH_READ(&d->slots[home(p->hash, mask)]);
    }
    /* Half-way: the slot has arrived; start on the key it names. */
    const pending *h = &ring[(i + LOOKAHEAD / 2) % LOOKAHEAD];
    if (i + LOOKAHEAD / 2 < n && h->has) {
      uint64_t s = d->slots[home(h->hash, mask)];
      if (s != 0) PD_PREFETCH(d->keys + 4 * ((size_t)(s >> 32) - 1));
    }
  }
  return 0;
}

void pd_mx_distinct_column(const pd_mx_distinct *d, int part, double *out) {
  for (size_t j = 0; j < d->m; j++) out[j] = d->keys[4 * j + part];
}
