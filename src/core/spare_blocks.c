/* Large freed blocks kept for reuse (spare_blocks.h). */
#include "spare_blocks.h"

#include <string.h>

int pd_spare_init(pd_spare_blocks *sp, pd_spare_release_fn release,
                  void *ctx) {
  memset(sp, 0, sizeof *sp);
  sp->release = release;
  sp->ctx = ctx;
  return mtx_init(&sp->lock, mtx_plain) == thrd_success ? 0 : -1;
}

/* Drop the oldest blocks until at most limit bytes are kept; the lock is
 * held. */
static void trim_locked(pd_spare_blocks *sp, uint64_t limit) {
  size_t drop = 0;
  while (drop < sp->n && sp->bytes > limit) {
    sp->bytes -= sp->kept[drop].cap;
    sp->release(sp->ctx, sp->kept[drop].block);
    drop++;
  }
  if (drop == 0) return;
  memmove(sp->kept, sp->kept + drop, (sp->n - drop) * sizeof sp->kept[0]);
  sp->n -= drop;
}

void pd_spare_destroy(pd_spare_blocks *sp) {
  trim_locked(sp, 0);
  mtx_destroy(&sp->lock);
}

void *pd_spare_take(pd_spare_blocks *sp, size_t bytes, size_t *cap) {
  mtx_lock(&sp->lock);
  size_t best = sp->n;
  for (size_t i = 0; i < sp->n; i++) {
    size_t c = sp->kept[i].cap;
    if (c < bytes || c / 2 > bytes) continue;
    if (best == sp->n || c < sp->kept[best].cap) best = i;
  }
  void *block = NULL;
  if (best < sp->n) {
    block = sp->kept[best].block;
    *cap = sp->kept[best].cap;
    sp->bytes -= *cap;
    memmove(sp->kept + best, sp->kept + best + 1,
            (sp->n - best - 1) * sizeof sp->kept[0]);
    sp->n--;
  }
  mtx_unlock(&sp->lock);
  return block;
}

void pd_spare_give(pd_spare_blocks *sp, void *block, size_t cap,
                   uint64_t limit) {
  if (cap > limit) {
    sp->release(sp->ctx, block);
    mtx_lock(&sp->lock);
    trim_locked(sp, limit);
    mtx_unlock(&sp->lock);
    return;
  }
  mtx_lock(&sp->lock);
  if (sp->n == PD_SPARE_MAX) {
    sp->bytes -= sp->kept[0].cap;
    sp->release(sp->ctx, sp->kept[0].block);
    memmove(sp->kept, sp->kept + 1, (sp->n - 1) * sizeof sp->kept[0]);
    sp->n--;
  }
  sp->kept[sp->n].block = block;
  sp->kept[sp->n].cap = cap;
  sp->n++;
  sp->bytes += cap;
  trim_locked(sp, limit);
  mtx_unlock(&sp->lock);
}

void pd_spare_trim(pd_spare_blocks *sp, uint64_t limit) {
  mtx_lock(&sp->lock);
  trim_locked(sp, limit);
  mtx_unlock(&sp->lock);
}

uint64_t pd_spare_bytes(pd_spare_blocks *sp) {
  mtx_lock(&sp->lock);
  uint64_t b = sp->bytes;
  mtx_unlock(&sp->lock);
  return b;
}
