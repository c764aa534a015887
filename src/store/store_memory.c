/* The store's memory: every allocation counted, and large blocks freed
 * by a computation kept for the next one (pd_store_set_spare_limit()). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store_internal.h"

/* ---- counted allocation ------------------------------------------------
 * Every allocation carries a 16-byte header holding the size asked for
 * and the capacity behind it (larger when a spare block was reused), so
 * that memory_bytes is exact without asking the caller's allocator. The
 * header keeps max_align_t alignment of the returned pointer. */

#define HDR 16

typedef struct header {
  size_t size, cap;
} header;

_Static_assert(sizeof(header) <= HDR, "the header fits its 16 bytes");

static header header_of(const unsigned char *block) {
  header h;
  memcpy(&h, block, sizeof h);
  return h;
}

static void *stamp(pd_store *s, unsigned char *block, size_t size,
                   size_t cap) {
  header h = {size, cap};
  memcpy(block, &h, sizeof h);
  s->memory_bytes += cap + HDR;
  return block + HDR;
}

/* What the spare blocks may hold now: the setting, or a quarter of what
 * the store holds besides them. */
static uint64_t spare_limit(const pd_store *s) {
  return s->spare_limit >= 0 ? (uint64_t)s->spare_limit
                             : s->memory_bytes / 4;
}

static void *counted_malloc(void *user, size_t size) {
  pd_store *s = user;
  if (size > SIZE_MAX - HDR) return NULL;
  if (size >= s->spare_from && s->spare_limit != 0) {
    size_t cap;
    unsigned char *block = pd_spare_take(&s->spare, size + HDR, &cap);
    if (block != NULL) {
      if (s->spare_poison) memset(block + HDR, 0xA5, size);
      return stamp(s, block, size, cap - HDR);
    }
  }
  unsigned char *block =
      s->caller_alloc.malloc_fn(s->caller_alloc.user, size + HDR);
  return block ? stamp(s, block, size, size) : NULL;
}

static void *counted_realloc(void *user, void *ptr, size_t size) {
  pd_store *s = user;
  if (size > SIZE_MAX - HDR) return NULL;
  unsigned char *old = (unsigned char *)ptr - HDR;
  header h = header_of(old);
  unsigned char *block = s->caller_alloc.realloc_fn(s->caller_alloc.user,
                                                    old, size + HDR);
  if (!block) return NULL;
  s->memory_bytes -= h.cap + HDR;
  return stamp(s, block, size, size);
}

static void counted_free(void *user, void *ptr) {
  pd_store *s = user;
  unsigned char *block = (unsigned char *)ptr - HDR;
  header h = header_of(block);
  s->memory_bytes -= h.cap + HDR;
  if (h.cap >= s->spare_from && s->spare_limit != 0 && s->spare_keeping)
    pd_spare_give(&s->spare, block, h.cap + HDR, spare_limit(s));
  else
    s->caller_alloc.free_fn(s->caller_alloc.user, block);
}

static void release_to_caller(void *ctx, void *block) {
  pd_store *s = ctx;
  s->caller_alloc.free_fn(s->caller_alloc.user, block);
}

/* ---- setup ------------------------------------------------------------ */

int pd_st_memory_init(pd_store *s) {
  s->alloc.malloc_fn = counted_malloc;
  s->alloc.realloc_fn = counted_realloc;
  s->alloc.free_fn = counted_free;
  s->alloc.user = s;
  s->spare_limit = -1;
  s->spare_from = PD_ST_SPARE_FROM;
  return pd_spare_init(&s->spare, release_to_caller, s);
}

void pd_st_memory_destroy(pd_store *s) {
  s->spare_limit = 0;
  pd_spare_destroy(&s->spare);
}

void pd_st_memory_debug(pd_store *s, size_t from, int poison) {
  s->spare_from = from > 0 ? from : 1;
  s->spare_poison = poison;
}

/* ---- the public setting ----------------------------------------------- */

pd_status pd_store_set_spare_limit(pd_store *s, int64_t bytes) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (bytes < PD_SPARE_AUTO)
    return pd_st_leave(
        s, pd_err(&s->err, PD_E_INVALID,
                  "spare limit %lld: expected bytes >= 0 or PD_SPARE_AUTO",
                  (long long)bytes));
  /* Lowered: what is over the new limit goes back at once. */
  s->spare_limit = bytes;
  pd_spare_trim(&s->spare, spare_limit(s));
  return pd_st_leave(s, PD_OK);
}
