#include "intern.h"

#include <string.h>

#include "hash.h"

void pd_intern_init(pd_intern *t) { memset(t, 0, sizeof *t); }

void pd_intern_free(pd_intern *t, const pd_allocator *a) {
  pd_free(a, t->bytes);
  pd_free(a, t->offsets);
  pd_free(a, t->slots);
  pd_intern_init(t);
}

static uint64_t hash_of(const char *s, size_t len) {
  return pd_hash_bytes(s, len, 0x1f7e);
}

const char *pd_intern_str(const pd_intern *t, uint32_t id, size_t *len) {
  uint64_t off = t->offsets[id];
  if (len) *len = (size_t)(t->offsets[id + 1] - off - 1);
  return t->bytes + off;
}

static int equals(const pd_intern *t, uint32_t id, const char *s,
                  size_t len) {
  size_t l;
  const char *p = pd_intern_str(t, id, &l);
  return l == len && memcmp(p, s, len) == 0;
}

uint32_t pd_intern_find(const pd_intern *t, const char *s, size_t len) {
  if (t->slots_cap == 0) return PD_INTERN_NONE;
  size_t mask = t->slots_cap - 1;
  for (size_t i = (size_t)hash_of(s, len) & mask;; i = (i + 1) & mask) {
    uint32_t id = t->slots[i];
    if (id == PD_INTERN_NONE) return PD_INTERN_NONE;
    if (equals(t, id, s, len)) return id;
  }
}

static void place(uint32_t *slots, size_t cap, uint64_t h, uint32_t id) {
  size_t mask = cap - 1, i = (size_t)h & mask;
  while (slots[i] != PD_INTERN_NONE) i = (i + 1) & mask;
  slots[i] = id;
}

static int grow_slots(pd_intern *t, const pd_allocator *a) {
  size_t ncap = t->slots_cap ? t->slots_cap * 2 : 16;
  uint32_t *ns = pd_realloc_array(a, NULL, ncap, sizeof *ns);
  if (!ns) return -1;
  memset(ns, 0xFF, ncap * sizeof *ns);
  for (uint32_t id = 0; id < t->count; id++) {
    size_t l;
    const char *p = pd_intern_str(t, id, &l);
    place(ns, ncap, hash_of(p, l), id);
  }
  pd_free(a, t->slots);
  t->slots = ns;
  t->slots_cap = ncap;
  return 0;
}

int pd_intern_add(pd_intern *t, const pd_allocator *a, const char *s,
                  size_t len, uint32_t *id) {
  uint32_t found = pd_intern_find(t, s, len);
  if (found != PD_INTERN_NONE) {
    *id = found;
    return 0;
  }
  if (t->count >= PD_INTERN_NONE - 1 || len > SIZE_MAX / 2) return -1;
  /* Reserve everything first so a failure leaves the table unchanged. */
  if ((t->count + 1) * 4 > t->slots_cap * 3 && grow_slots(t, a) != 0)
    return -1;
  if (pd_grow(a, (void **)&t->offsets, &t->offsets_cap, t->count + 2,
              sizeof *t->offsets) != 0)
    return -1;
  if (pd_grow(a, (void **)&t->bytes, &t->bytes_cap, t->bytes_len + len + 1,
              1) != 0)
    return -1;
  if (t->count == 0) t->offsets[0] = 0;
  if (len) memcpy(t->bytes + t->bytes_len, s, len);
  t->bytes[t->bytes_len + len] = '\0';
  t->bytes_len += len + 1;
  uint32_t nid = (uint32_t)t->count;
  t->offsets[nid + 1] = t->bytes_len;
  t->count++;
  place(t->slots, t->slots_cap, hash_of(s, len), nid);
  *id = nid;
  return 0;
}

size_t pd_intern_bytes(const pd_intern *t) {
  return t->bytes_cap + t->offsets_cap * sizeof(uint64_t) +
         t->slots_cap * sizeof(uint32_t);
}
