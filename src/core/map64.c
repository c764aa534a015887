#include "map64.h"

#include "hash.h"

void pd_map64_init(pd_map64 *m) {
  m->keys = NULL;
  m->vals = NULL;
  m->cap = 0;
  m->len = 0;
}

void pd_map64_free(pd_map64 *m, const pd_allocator *a) {
  pd_free(a, m->keys);
  pd_free(a, m->vals);
  pd_map64_init(m);
}

static size_t slot_of(const pd_map64 *m, uint64_t key) {
  return (size_t)pd_mix64(key) & (m->cap - 1);
}

uint64_t *pd_map64_get(const pd_map64 *m, uint64_t key) {
  if (m->cap == 0 || key == 0) return NULL;
  for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) return &m->vals[i];
    if (m->keys[i] == 0) return NULL;
  }
}

static void insert_fresh(pd_map64 *m, uint64_t key, uint64_t val) {
  size_t i = slot_of(m, key);
  while (m->keys[i] != 0) i = (i + 1) & (m->cap - 1);
  m->keys[i] = key;
  m->vals[i] = val;
  m->len++;
}

static int rehash(pd_map64 *m, const pd_allocator *a, size_t ncap) {
  pd_map64 n = {pd_calloc(a, ncap, sizeof(uint64_t)),
                pd_malloc(a, ncap * sizeof(uint64_t)), ncap, 0};
  if (!n.keys || !n.vals) {
    pd_free(a, n.keys);
    pd_free(a, n.vals);
    return -1;
  }
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i]) insert_fresh(&n, m->keys[i], m->vals[i]);
  pd_free(a, m->keys);
  pd_free(a, m->vals);
  *m = n;
  return 0;
}

int pd_map64_reserve(pd_map64 *m, const pd_allocator *a, size_t extra) {
  if (extra > SIZE_MAX / 4 - m->len) return -1;
  size_t need = m->len + extra;
  if (need * 4 <= m->cap * 3) return 0;
  size_t ncap = m->cap ? m->cap : 16;
  while (need * 4 > ncap * 3) {
    if (ncap > SIZE_MAX / 2 / sizeof(uint64_t)) return -1;
    ncap *= 2;
  }
  return rehash(m, a, ncap);
}

int pd_map64_put(pd_map64 *m, const pd_allocator *a, uint64_t key,
                 uint64_t val) {
  if (key == 0) return -1;
  uint64_t *v = pd_map64_get(m, key);
  if (v) {
    *v = val;
    return 0;
  }
  if (pd_map64_reserve(m, a, 1) != 0) return -1;
  insert_fresh(m, key, val);
  return 0;
}

bool pd_map64_del(pd_map64 *m, uint64_t key) {
  if (m->cap == 0 || key == 0) return false;
  size_t mask = m->cap - 1, i = slot_of(m, key);
  while (m->keys[i] != key) {
    if (m->keys[i] == 0) return false;
    i = (i + 1) & mask;
  }
  /* Backward-shift deletion: pull later members of the probe run into the
   * hole when their home slot does not lie strictly after it. */
  size_t hole = i;
  for (size_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
    size_t home = slot_of(m, m->keys[j]);
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      m->keys[hole] = m->keys[j];
      m->vals[hole] = m->vals[j];
      hole = j;
    }
  }
  m->keys[hole] = 0;
  m->len--;
  return true;
}

size_t pd_map64_bytes(const pd_map64 *m) {
  return m->cap * 2 * sizeof(uint64_t);
}
