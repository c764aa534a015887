/* Indexing the distinct recencies and ages of customer summaries with a
 * small open-addressing set keyed by the value's bits. */
#include "models/distinct_times.h"

#include <string.h>

#include "models/model.h"

#define SLOTS (2u * PD_DISTINCT_TIMES_MAX) /* power of two, load <= 1/2 */

size_t pd_distinct_times_bytes(const pd_customer_data *d) {
  if (d->n > PD_MODEL_PACK_MAX) return 0;
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
