#include "customer_ids.h"

#include <string.h>

#include "core/hash.h"

void pd_customer_ids_init(pd_customer_ids *t) {
  memset(t, 0, sizeof *t);
  pd_map64_init(&t->heads);
}

void pd_customer_ids_free(pd_customer_ids *t, const pd_allocator *a) {
  pd_free(a, t->bytes);
  pd_free(a, t->offsets);
  pd_free(a, t->next);
  pd_map64_free(&t->heads, a);
  pd_customer_ids_init(t);
}

/* Map keys must be non-zero; one hash value in 2^64 shares a key. */
static uint64_t key_of(const char *s, size_t len) {
  uint64_t h = pd_hash_bytes(s, len, 0x5c0ffee5u);
  return h ? h : 1;
}

const char *pd_customer_ids_str(const pd_customer_ids *t, uint32_t id,
                                size_t *len) {
  uint64_t off = t->offsets[id];
  if (len) *len = (size_t)(t->offsets[id + 1] - off - 1);
  return t->bytes + off;
}

static uint32_t find_keyed(const pd_customer_ids *t, uint64_t key,
                           const char *s, size_t len) {
  uint64_t *head = pd_map64_get(&t->heads, key);
  if (!head) return PD_CUSTOMER_NONE;
  for (uint32_t id = (uint32_t)*head; id != PD_CUSTOMER_NONE;
       id = t->next[id]) {
    size_t l;
    const char *p = pd_customer_ids_str(t, id, &l);
    if (l == len && (len == 0 || memcmp(p, s, len) == 0)) return id;
  }
  return PD_CUSTOMER_NONE;
}

uint32_t pd_customer_ids_find(const pd_customer_ids *t, const char *s,
                              size_t len) {
  return find_keyed(t, key_of(s, len), s, len);
}

int pd_customer_ids_add(pd_customer_ids *t, const pd_allocator *a,
                        const char *s, size_t len, uint32_t *id, int *added) {
  uint64_t key = key_of(s, len);
  uint32_t found = find_keyed(t, key, s, len);
  if (found != PD_CUSTOMER_NONE) {
    *id = found;
    *added = 0;
    return 0;
  }
  if (t->count >= PD_CUSTOMER_NONE - 1 || len > SIZE_MAX / 4 ||
      t->bytes_len > SIZE_MAX / 4)
    return -1;
  /* Reserve everything first so a failure leaves the table unchanged. */
  if (pd_map64_reserve(&t->heads, a, 1) != 0 ||
      pd_grow(a, (void **)&t->offsets, &t->offsets_cap, t->count + 2,
              sizeof *t->offsets) != 0 ||
      pd_grow(a, (void **)&t->next, &t->next_cap, t->count + 1,
              sizeof *t->next) != 0 ||
      pd_grow(a, (void **)&t->bytes, &t->bytes_cap, t->bytes_len + len + 1,
              1) != 0)
    return -1;
  uint32_t nid = (uint32_t)t->count;
  if (nid == 0) t->offsets[0] = 0;
  if (len) memcpy(t->bytes + t->bytes_len, s, len);
  t->bytes[t->bytes_len + len] = '\0';
  t->bytes_len += len + 1;
  t->offsets[nid + 1] = t->bytes_len;
  uint64_t *head = pd_map64_get(&t->heads, key);
  t->next[nid] = head ? (uint32_t)*head : PD_CUSTOMER_NONE;
  /* Cannot fail: room for one new key was reserved above. */
  (void)pd_map64_put(&t->heads, a, key, nid);
  t->count++;
  *id = nid;
  *added = 1;
  return 0;
}

void pd_customer_ids_truncate(pd_customer_ids *t, size_t count) {
  while (t->count > count) {
    uint32_t id = (uint32_t)(t->count - 1);
    size_t len;
    const char *s = pd_customer_ids_str(t, id, &len);
    uint64_t key = key_of(s, len);
    uint64_t *head = pd_map64_get(&t->heads, key);
    /* The newest id is always the head of its chain. */
    if (t->next[id] == PD_CUSTOMER_NONE)
      pd_map64_del(&t->heads, key);
    else if (head)
      *head = t->next[id];
    t->bytes_len = (size_t)t->offsets[id];
    t->count--;
  }
}
