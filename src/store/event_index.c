/* The event-id index (see event_index.h and pd_st_index): linear probing
 * over uint32 tags with one-byte fingerprints, power-of-two capacity, load
 * at most 3/4. Entries are never removed (an erased event keeps its id so
 * that retries get PD_E_ERASED). */
#include "event_index.h"

#include <string.h>

#include "core/hash.h"

static inline uint64_t eid_of(const pd_store *s, uint32_t tag) {
  return s->col[pd_st_tag_kind(tag)].eid[pd_st_tag_index(tag)];
}

static inline uint8_t fingerprint(uint64_t h) {
  uint8_t f = (uint8_t)(h >> 56);
  return f ? f : 1;
}

uint32_t pd_st_index_find(const pd_store *s, uint64_t eid) {
  const pd_st_index *x = &s->index;
  if (x->cap == 0) return 0;
  uint64_t h = pd_mix64(eid);
  uint8_t f = fingerprint(h);
  size_t mask = x->cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    uint8_t c = x->fp[i];
    if (c == 0) return 0;
    if (c == f && eid_of(s, x->slots[i]) == eid) return x->slots[i];
  }
}

static void place(uint32_t *slots, uint8_t *fp, size_t cap, uint64_t eid,
                  uint32_t tag) {
  uint64_t h = pd_mix64(eid);
  size_t mask = cap - 1, i = (size_t)h & mask;
  while (fp[i] != 0) i = (i + 1) & mask;
  fp[i] = fingerprint(h);
  slots[i] = tag;
}

/* Rebuild at twice the size from the columns, read in order (sequential
 * reads of the event ids instead of one random read per entry). */
static int grow(pd_store *s) {
  pd_st_index *x = &s->index;
  size_t ncap = x->cap ? x->cap * 2 : 1024;
  uint32_t *ns = pd_malloc(&s->alloc, ncap * sizeof *ns);
  if (!ns) return -1;
  uint8_t *nf = pd_calloc(&s->alloc, ncap, 1);
  if (!nf) {
    pd_free(&s->alloc, ns);
    return -1;
  }
  for (int k = 1; k < PD_EV_KINDS; k++) {
    const pd_st_column *c = &s->col[k];
    for (uint32_t i = 0; i < c->n; i++)
      place(ns, nf, ncap, c->eid[i], pd_st_tag(k, i));
  }
  pd_free(&s->alloc, x->slots);
  pd_free(&s->alloc, x->fp);
  x->slots = ns;
  x->fp = nf;
  x->cap = ncap;
  return 0;
}

pd_status pd_st_event_lookup(pd_store *s, uint64_t eid, int kind,
                             uint32_t *index) {
  if (eid == 0)
    return pd_err(&s->err, PD_E_INVALID, "event_id 0 is not an event id");
  uint32_t tag = pd_st_index_find(s, eid);
  if (tag == 0) {
    *index = PD_ST_NIL;
    return PD_OK;
  }
  int k = pd_st_tag_kind(tag);
  uint32_t i = pd_st_tag_index(tag);
  if (pd_st_event_time(s, k, i) == PD_ST_ERASED)
    return pd_err(&s->err, PD_E_ERASED,
                  "event %llu belonged to an erased user and cannot be "
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

pd_status pd_st_event_reserve(pd_store *s, int kind) {
  pd_status st = pd_st_column_reserve(s, kind);
  if (st) return st;
  pd_st_index *x = &s->index;
  if ((x->len + 1) * 4 > x->cap * 3 && grow(s) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  return PD_OK;
}

uint32_t pd_st_event_append(pd_store *s, int kind, uint64_t eid) {
  pd_st_column *c = &s->col[kind];
  uint32_t i = c->n++;
  c->live++;
  c->eid[i] = eid;
  place(s->index.slots, s->index.fp, s->index.cap, eid, pd_st_tag(kind, i));
  s->index.len++;
  return i;
}

pd_status pd_st_replay(pd_store *s, int same, uint64_t eid,
                       const char *what) {
  if (same) return PD_REPLAYED;
  return pd_err(&s->err, PD_E_DUPLICATE,
                "event id %llu was recorded as a different %s",
                (unsigned long long)eid, what);
}
