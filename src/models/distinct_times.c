/* Indexing the distinct recencies and ages of customer summaries, and the
 * distinct (purchase count, time) pairs, with small open-addressing sets
 * keyed by the values' bits. */
#include "models/distinct_times.h"

#include <string.h>

#include "models/model.h"

#define SLOTS (2u * PD_DISTINCT_TIMES_MAX) /* power of two, load <= 1/2 */

size_t pd_distinct_times_bytes(const pd_customer_data *d) {
  if (d->n > PD_MODEL_PACK_MAX) return 0;
  return pd_distinct_times_bytes_any(d);
}

size_t pd_distinct_times_bytes_any(const pd_customer_data *d) {
  return PD_DISTINCT_TIMES_MAX * sizeof(double) + SLOTS * sizeof(uint32_t) +
         2 * d->n * sizeof(uint16_t);
}

static uint64_t key_of(double v) {
  uint64_t u;
  v += 0.0; /* -0.0 and 0.0 are the same time */
  memcpy(&u, &v, sizeof u);
  u ^= u >> 33;
  u *= 0xFF51AFD7ED558CCDull;
  u ^= u >> 33;
  return u;
}

/* Index of v in the set, adding it if new; -1 when the set is full. */
static long intern(double v, double *value, uint32_t *slot, size_t *count) {
  size_t s = (size_t)key_of(v) & (SLOTS - 1);
  for (;;) {
    uint32_t j = slot[s];
    if (j == 0) {
      if (*count >= PD_DISTINCT_TIMES_MAX) return -1;
      value[*count] = v;
      slot[s] = (uint32_t)++*count;
      return (long)*count - 1;
    }
    if (value[j - 1] == v) return (long)j - 1;
    s = (s + 1) & (SLOTS - 1);
  }
}

void pd_distinct_times_build(const pd_customer_data *d, void *mem,
                             pd_distinct_times *out) {
  double *value = mem;
  uint32_t *slot = (uint32_t *)(void *)(value + PD_DISTINCT_TIMES_MAX);
  uint16_t *i_T = (uint16_t *)(void *)(slot + SLOTS);
  uint16_t *i_tx = i_T + d->n;
  memset(slot, 0, SLOTS * sizeof *slot);
  out->count = 0;
  out->value = value;
  out->i_T = i_T;
  out->i_tx = i_tx;
  size_t count = 0;
  for (size_t i = 0; i < d->n; i++) {
    long a = intern(d->T[i], value, slot, &count);
    long b = intern(d->x[i] > 0.0 ? d->t_x[i] : 0.0, value, slot, &count);
    if (a < 0 || b < 0) return;
    i_T[i] = (uint16_t)a;
    i_tx[i] = (uint16_t)b;
  }
  if (count <= d->n) out->count = count;
}

/* Slots of the pair set: a power of two at least twice its capacity. */
static size_t pair_slots(size_t cap) {
  size_t s = 4;
  while (s < 2 * cap) s <<= 1;
  return s;
}

size_t pd_distinct_pairs_capacity(const pd_customer_data *d) {
  return d->n < PD_DISTINCT_PAIRS_MAX / 2 ? 2 * d->n : PD_DISTINCT_PAIRS_MAX;
}

size_t pd_distinct_pairs_bytes(const pd_customer_data *d) {
  size_t pairs = pd_distinct_pairs_capacity(d);
  return pairs * sizeof(double) + pairs * sizeof(uint32_t) +
         2 * d->n * sizeof(uint32_t) + pair_slots(pairs) * sizeof(uint32_t);
}

/* Index of the pair (x, t) in the set, adding it if new; UINT32_MAX
 * when the set already holds cap pairs. */
static uint32_t intern_pair(double x, uint32_t t, pd_distinct_pairs *p,
                            uint32_t *slot, size_t mask, size_t cap) {
  uint64_t u;
  x += 0.0;
  memcpy(&u, &x, sizeof u);
  u ^= (uint64_t)t * 0x9E3779B97F4A7C15ull;
  u ^= u >> 33;
  u *= 0xFF51AFD7ED558CCDull;
  u ^= u >> 33;
  size_t s = (size_t)u & mask;
  for (;;) {
    uint32_t j = slot[s];
    if (j == 0) {
      if (p->count == cap) return UINT32_MAX;
      p->x[p->count] = x;
      p->t[p->count] = t;
      slot[s] = (uint32_t)++p->count;
      return (uint32_t)p->count - 1;
    }
    if (p->x[j - 1] == x && p->t[j - 1] == t) return j - 1;
    s = (s + 1) & mask;
  }
}

void pd_distinct_pairs_build(const pd_customer_data *d,
                             const pd_distinct_times *times, void *mem,
                             pd_distinct_pairs *out) {
  out->count = 0;
  if (!times->count) return;
  size_t pairs = pd_distinct_pairs_capacity(d), slots = pair_slots(pairs);
  out->x = mem;
  out->t = (uint32_t *)(void *)(out->x + pairs);
  out->i_T = out->t + pairs;
  out->i_tx = out->i_T + d->n;
  uint32_t *slot = out->i_tx + d->n;
  memset(slot, 0, slots * sizeof *slot);
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i];
    uint32_t a = intern_pair(x, times->i_T[i], out, slot, slots - 1, pairs);
    uint32_t b = intern_pair(x, times->i_tx[i], out, slot, slots - 1, pairs);
    if (a == UINT32_MAX || b == UINT32_MAX) {
      out->count = 0; /* too many pairs: the caller uses the rows */
      return;
    }
    out->i_T[i] = a;
    out->i_tx[i] = b;
  }
}
