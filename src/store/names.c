/* Name tables: open addressing over ids, each name its own allocation so
 * that its address never changes. */
#include "names.h"

#include <string.h>

#include "core/hash.h"

static uint64_t hash_of(const char *s, size_t len) {
  return pd_hash_bytes(s, len, 0x6e616d65);
}

void pd_st_names_free(pd_st_names *t, const pd_allocator *a) {
  for (size_t i = 0; i < t->n; i++) pd_free(a, t->str[i]);
  pd_free(a, t->str);
  pd_free(a, t->len);
  pd_free(a, t->slots);
  memset(t, 0, sizeof *t);
}

uint32_t pd_st_names_find(const pd_st_names *t, const char *s, size_t len) {
  if (t->slots_cap == 0) return PD_ST_NAME_NONE;
  size_t mask = t->slots_cap - 1;
  for (size_t i = (size_t)hash_of(s, len) & mask;; i = (i + 1) & mask) {
    uint32_t v = t->slots[i];
    if (v == 0) return PD_ST_NAME_NONE;
    if (t->len[v - 1] == len && memcmp(t->str[v - 1], s, len) == 0)
      return v - 1;
  }
}

static void place(uint32_t *slots, size_t cap, uint64_t h, uint32_t v) {
  size_t mask = cap - 1, i = (size_t)h & mask;
  while (slots[i] != 0) i = (i + 1) & mask;
  slots[i] = v;
}

int pd_st_names_reserve(pd_st_names *t, const pd_allocator *a) {
  if (t->n >= UINT32_MAX - 2) return -1;
  if ((t->n + 1) * 4 > t->slots_cap * 3) {
    size_t ncap = t->slots_cap ? t->slots_cap * 2 : 16;
    uint32_t *ns = pd_calloc(a, ncap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < t->n; i++)
      place(ns, ncap, hash_of(t->str[i], t->len[i]), (uint32_t)i + 1);
    pd_free(a, t->slots);
    t->slots = ns;
    t->slots_cap = ncap;
  }
  if (t->n + 1 > t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 16;
    char **s = pd_realloc_array(a, t->str, ncap, sizeof *s);
    if (!s) return -1;
    t->str = s;
    uint32_t *l = pd_realloc_array(a, t->len, ncap, sizeof *l);
    if (!l) return -1;
    t->len = l;
    t->cap = ncap;
  }
  return 0;
}

int pd_st_names_add(pd_st_names *t, const pd_allocator *a, const char *s,
                    size_t len, uint32_t *id) {
  if (pd_st_names_reserve(t, a) != 0) return -1;
  char *copy = pd_strndup(a, s, len);
  if (!copy) return -1;
  pd_st_names_add_copy(t, copy, len, id);
  return 0;
}

void pd_st_names_add_copy(pd_st_names *t, char *copy, size_t len,
                          uint32_t *id) {
  const char *s = copy;
  uint32_t nid = (uint32_t)t->n;
  t->str[nid] = copy;
  t->len[nid] = (uint32_t)len;
  t->n++;
  place(t->slots, t->slots_cap, hash_of(s, len), nid + 1);
  *id = nid;
}
