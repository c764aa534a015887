#include "customer_ids.h"

#include <string.h>

#include "core/hash.h"
#include "core/prefault.h"
#include "core/prefetch.h"

void pd_customer_ids_init(pd_customer_ids *t) { memset(t, 0, sizeof *t); }

void pd_customer_ids_free(pd_customer_ids *t, const pd_allocator *a) {
  pd_free(a, t->bytes);
  pd_free(a, t->offsets);
  pd_free(a, t->slots);
  pd_customer_ids_init(t);
}

/* Keys must be non-zero (0 marks an empty slot). */
static uint64_t key_of(const char *s, size_t len) {
  uint64_t h = pd_hash_bytes(s, len, 0x5c0ffee5u);
  return h ? h : 1;
}

uint64_t pd_customer_ids_key(const char *s, size_t len) {
  return key_of(s, len);
}

/* The key is already a well-mixed hash: its low bits pick the slot. */
static size_t home_of(const pd_customer_ids *t, uint64_t key) {
  return (size_t)key & (t->cap - 1);
}

const char *pd_customer_ids_str(const pd_customer_ids *t, uint32_t id,
                                size_t *len) {
  uint64_t off = t->offsets[id];
  if (len) *len = (size_t)(t->offsets[id + 1] - off - 1);
  return t->bytes + off;
}

static int slot_holds(const pd_customer_ids *t, const pd_customer_slot *q,
                      uint64_t key, const char *s, size_t len) {
  if (q->key != key || q->len != len) return 0;
  const char *p =
      len <= PD_CUSTOMER_INLINE ? q->at.text : t->bytes + q->at.off;
  return len == 0 || memcmp(p, s, len) == 0;
}

static uint32_t find_keyed(const pd_customer_ids *t, uint64_t key,
                           const char *s, size_t len) {
  if (t->cap == 0) return PD_CUSTOMER_NONE;
  for (size_t i = home_of(t, key); t->slots[i].key != 0;
       i = (i + 1) & (t->cap - 1))
    if (slot_holds(t, &t->slots[i], key, s, len)) return t->slots[i].id;
  return PD_CUSTOMER_NONE;
}

uint32_t pd_customer_ids_find(const pd_customer_ids *t, const char *s,
                              size_t len) {
  return find_keyed(t, key_of(s, len), s, len);
}

void pd_customer_ids_prefetch(const pd_customer_ids *t, uint64_t key,
                              int stage) {
  if (t->cap == 0) return;
  size_t i = home_of(t, key);
  if (stage == PD_CUSTOMER_PREFETCH_SLOT) {
    PD_PREFETCH(&t->slots[i]);
    return;
  }
  for (; t->slots[i].key != 0; i = (i + 1) & (t->cap - 1))
    if (t->slots[i].key == key) {
      if (t->slots[i].len > PD_CUSTOMER_INLINE)
        PD_PREFETCH(t->bytes + t->slots[i].at.off);
      return;
    }
}

static void put_slot(pd_customer_slot *slots, size_t cap,
                     const pd_customer_slot *q) {
  size_t i = (size_t)q->key & (cap - 1);
  while (slots[i].key != 0) i = (i + 1) & (cap - 1);
  slots[i] = *q;
}

/* Room for one more id at load <= 3/4; 0 or -1 (table unchanged). */
static int reserve_one(pd_customer_ids *t, const pd_allocator *a) {
  if ((t->count + 1) * 4 <= t->cap * 3) return 0;
  size_t ncap = t->cap ? t->cap : 16;
  while ((t->count + 1) * 4 > ncap * 3) {
    if (ncap > SIZE_MAX / 2 / sizeof *t->slots) return -1;
    ncap *= 2;
  }
  /* every lookup lands at random in the table: huge pages, if the system
   * has them, before the zeroing touches it */
  pd_customer_slot *n = pd_alloc_random_zeroed(a, a, ncap, sizeof *n, 1);
  if (!n) return -1;
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].key != 0) put_slot(n, ncap, &t->slots[i]);
  pd_free(a, t->slots);
  t->slots = n;
  t->cap = ncap;
  return 0;
}

int pd_customer_ids_add(pd_customer_ids *t, const pd_allocator *a,
                        const char *s, size_t len, uint32_t *id, int *added) {
  return pd_customer_ids_add_keyed(t, a, key_of(s, len), s, len, id, added);
}

int pd_customer_ids_add_keyed(pd_customer_ids *t, const pd_allocator *a,
                              uint64_t key, const char *s, size_t len,
                              uint32_t *id, int *added) {
  uint32_t found = find_keyed(t, key, s, len);
  if (found != PD_CUSTOMER_NONE) {
    *id = found;
    *added = 0;
    return 0;
  }
  if (t->count >= PD_CUSTOMER_NONE - 1 || (uint64_t)len > UINT32_MAX ||
      t->bytes_len > SIZE_MAX / 4 || len > SIZE_MAX / 4)
    return -1;
  /* Reserve everything first so a failure leaves the table unchanged. */
  if (reserve_one(t, a) != 0 ||
      pd_grow(a, (void **)&t->offsets, &t->offsets_cap, t->count + 2,
              sizeof *t->offsets) != 0 ||
      pd_grow(a, (void **)&t->bytes, &t->bytes_cap, t->bytes_len + len + 1,
              1) != 0)
    return -1;
  uint32_t nid = (uint32_t)t->count;
  if (nid == 0) t->offsets[0] = 0;
  pd_customer_slot q;
  memset(&q, 0, sizeof q);
  q.key = key;
  q.id = nid;
  q.len = (uint32_t)len;
  if (len <= PD_CUSTOMER_INLINE) {
    if (len) memcpy(q.at.text, s, len);
  } else {
    q.at.off = t->bytes_len;
  }
  if (len) memcpy(t->bytes + t->bytes_len, s, len);
  t->bytes[t->bytes_len + len] = '\0';
  t->bytes_len += len + 1;
  t->offsets[nid + 1] = t->bytes_len;
  put_slot(t->slots, t->cap, &q);
  t->count++;
  *id = nid;
  *added = 1;
  return 0;
}

/* Empties slot `hole` and shifts later members of its probe run back so
 * every key stays reachable from its home without tombstones. */
static void delete_slot(pd_customer_ids *t, size_t hole) {
  size_t mask = t->cap - 1;
  for (size_t j = (hole + 1) & mask; t->slots[j].key != 0;
       j = (j + 1) & mask) {
    size_t home = home_of(t, t->slots[j].key);
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      t->slots[hole] = t->slots[j];
      hole = j;
    }
  }
  memset(&t->slots[hole], 0, sizeof t->slots[hole]);
}

void pd_customer_ids_truncate(pd_customer_ids *t, size_t count) {
  while (t->count > count) {
    uint32_t id = (uint32_t)(t->count - 1);
    size_t len;
    const char *s = pd_customer_ids_str(t, id, &len);
    size_t i = home_of(t, key_of(s, len));
    while (t->slots[i].id != id || t->slots[i].key == 0)
      i = (i + 1) & (t->cap - 1);
    delete_slot(t, i);
    t->bytes_len = (size_t)t->offsets[id];
    t->count--;
  }
}
