/* The event-id index built while the columns are read (see
 * snapshot_feed.h). */
#include "snapshot_feed.h"

#include <string.h>
#include <threads.h>

#include "core/le_bytes.h"
#include "direct_io.h"
#include "snapshot_format.h"

/* ---- what the file declares ---------------------------------------------- */

/* Sections a well-formed file can hold: six fixed ones, one per kind and
 * the end marker (a file that claims more is not sized from). */
#define MAX_SECTIONS (7 + PD_EV_KINDS)

static int read_at(int dfd, int fd, uint64_t pos, unsigned char *dst,
                   size_t n, unsigned char *bounce) {
  return dfd >= 0 ? pd_direct_pread(dfd, fd, pos, dst, n, bounce,
                                    2 * PD_DIRECT_ALIGN)
                  : pd_pread_exact(fd, pos, dst, n);
}

uint64_t pd_snap_declared_events(const pd_allocator *a, int dfd, int fd,
                                 uint64_t size) {
  void *block;
  unsigned char *bounce = pd_direct_alloc(a, 2 * PD_DIRECT_ALIGN, &block);
  if (!bounce) return UINT64_MAX;
  uint64_t pos = PD_SNAP_HEADER_BYTES, events = 0;
  uint64_t result = UINT64_MAX;
  for (int i = 0; i < MAX_SECTIONS; i++) {
    unsigned char h[PD_SNAP_SECTION_HEADER_BYTES], pre[12];
    if (pos > size || size - pos < sizeof h + 4 ||
        read_at(dfd, fd, pos, h, sizeof h, bounce) != 0)
      break;
    uint32_t id = pd_rd32(h);
    uint64_t len = pd_rd64(h + 8);
    if (id == PD_SEC_END) {
      result = events;
      break;
    }
    if (len > size - pos - sizeof h - 4) break;
    if (id > PD_SEC_EVENTS && id < PD_SEC_EVENTS + PD_EV_KINDS) {
      /* the section opens with its kind, count and record bytes */
      if (len < sizeof pre ||
          read_at(dfd, fd, pos + sizeof h, pre, sizeof pre, bounce) != 0)
        break;
      /* a count its section's length cannot hold is not believed: the
       * index sized from it would cost more memory than the file holds */
      uint64_t n = pd_rd32(pre + 4), bytes = pd_rd32(pre + 8);
      if (bytes > 4096 || n * (8 + bytes) != len - sizeof pre) break;
      events += n;
    }
    pos += PD_SNAP_SECTION_HEADER_BYTES + len + 4;
  }
  pd_free(a, block);
  return result;
}

/* ---- the feeding threads --------------------------------------------------- */

/* Threads a fed build can have: one per lane. */
#define MAX_LANES PD_ST_INDEX_RANGES

typedef struct lane {
  pd_snap_feed *f;
  size_t index;
  /* the lane's thread's: ids placed per kind (read by others under mu) */
  uint32_t placed[PD_EV_KINDS];
} lane;

struct pd_snap_feed {
  pd_store *s;
  pd_st_index_build ib;
  mtx_t mu;
  cnd_t cv;
  thrd_t thread[MAX_LANES];
  lane lanes[MAX_LANES];
  size_t started;
  /* under mu: what the reading thread announced */
  const uint64_t *eid[PD_EV_KINDS];
  uint32_t n[PD_EV_KINDS], ready[PD_EV_KINDS];
  int latest; /* the last kind announced, 0 before any */
  int closed, abort, waiting;
  void (*after)(void *ctx); /* set with closed */
  void *after_ctx;
};

/* Place kind k's ids of lane l as they arrive, until the reader has moved
 * past k (or closed, or aborted): 0, or -1 on abort. */
static int feed_kind(pd_snap_feed *f, lane *l, int k) {
  mtx_lock(&f->mu);
  for (;;) {
    while (!f->abort && !f->closed && f->latest <= k &&
           !(f->latest == k && f->ready[k] > l->placed[k])) {
      f->waiting++;
      cnd_wait(&f->cv, &f->mu);
      f->waiting--;
    }
    if (f->abort) break;
    uint32_t from = l->placed[k], to = f->ready[k];
    if (to > from) {
      mtx_unlock(&f->mu);
      pd_st_index_build_feed(&f->ib, l->index, k, from, to);
      mtx_lock(&f->mu);
      l->placed[k] = to;
      continue;
    }
    /* nothing new: k is over once the reader announced a later kind or
     * closed */
    if (f->latest > k || f->closed) {
      mtx_unlock(&f->mu);
      return 0;
    }
  }
  mtx_unlock(&f->mu);
  return -1;
}

/* A lane's thread; lane 0's also runs the after() job once fed. */
static int feeder(void *arg) {
  lane *l = arg;
  pd_snap_feed *f = l->f;
  pd_st_index_build_zero(&f->ib, l->index);
  for (int k = 1; k < PD_EV_KINDS; k++)
    if (feed_kind(f, l, k) != 0) return 0;
  if (l->index != 0) return 0;
  mtx_lock(&f->mu);
  void (*after)(void *) = f->abort ? NULL : f->after;
  mtx_unlock(&f->mu);
  if (after) after(f->after_ctx);
  return 0;
}

static void join_all(pd_snap_feed *f) {
  mtx_lock(&f->mu);
  f->closed = 1;
  cnd_broadcast(&f->cv);
  mtx_unlock(&f->mu);
  for (size_t i = 0; i < f->started; i++) thrd_join(f->thread[i], NULL);
  cnd_destroy(&f->cv);
  mtx_destroy(&f->mu);
}

pd_snap_feed *pd_snap_feed_begin(pd_store *s, uint64_t events,
                                 int32_t lanes) {
  if (events > SIZE_MAX) return NULL;
  pd_snap_feed *f = pd_malloc(&s->alloc, sizeof *f);
  if (!f) return NULL;
  memset(f, 0, sizeof *f);
  f->s = s;
  size_t want = lanes < 1 ? 1 : lanes > MAX_LANES ? MAX_LANES : (size_t)lanes;
  if (pd_st_index_build_begin_fed(s, &f->ib, (size_t)events, want) != 0) {
    pd_free(&s->alloc, f);
    return NULL;
  }
  int mu = mtx_init(&f->mu, mtx_plain) == thrd_success;
  int cv = mu && cnd_init(&f->cv) == thrd_success;
  if (cv) {
    while (f->started < f->ib.nlanes) {
      lane *l = &f->lanes[f->started];
      l->f = f;
      l->index = f->started;
      if (thrd_create(&f->thread[f->started], feeder, l) != thrd_success)
        break;
      f->started++;
    }
    if (f->started == f->ib.nlanes) return f;
    mtx_lock(&f->mu);
    f->abort = 1; /* a lane without a thread: none of it is any use */
    mtx_unlock(&f->mu);
    join_all(f);
  } else {
    if (mu) mtx_destroy(&f->mu);
  }
  pd_st_index_build_abandon(&f->ib);
  pd_free(&s->alloc, f);
  return NULL;
}

static void wake(pd_snap_feed *f) {
  if (f->waiting) cnd_broadcast(&f->cv);
}

void pd_snap_feed_column(pd_snap_feed *f, int k, const uint64_t *eid,
                         uint32_t n) {
  mtx_lock(&f->mu);
  if (k > f->latest) {
    f->eid[k] = eid;
    f->n[k] = n;
    f->ready[k] = 0;
    f->latest = k;
    pd_st_index_build_feed_column(&f->ib, k, eid);
    wake(f);
  }
  mtx_unlock(&f->mu);
}

void pd_snap_feed_ready(pd_snap_feed *f, uint32_t ready) {
  mtx_lock(&f->mu);
  int k = f->latest;
  if (k > 0 && ready <= f->n[k] && ready > f->ready[k]) {
    f->ready[k] = ready;
    wake(f);
  }
  mtx_unlock(&f->mu);
}

void pd_snap_feed_close(pd_snap_feed *f, void (*after)(void *ctx),
                        void *ctx) {
  mtx_lock(&f->mu);
  if (!f->closed) {
    f->after = after;
    f->after_ctx = ctx;
  }
  f->closed = 1;
  cnd_broadcast(&f->cv);
  mtx_unlock(&f->mu);
}

/* 1 when every lane placed every column of the store whole, and nothing
 * else. */
static int covers_store(const pd_snap_feed *f) {
  const pd_store *s = f->s;
  size_t total = 0;
  for (int k = 1; k < PD_EV_KINDS; k++) {
    const pd_st_column *c = &s->col[k];
    if (c->n > 0 && f->eid[k] != c->eid) return 0;
    for (size_t i = 0; i < f->started; i++)
      if (f->lanes[i].placed[k] != c->n) return 0;
    total += c->n;
  }
  return total == f->ib.n;
}

int pd_snap_feed_stop(pd_snap_feed *f, pd_st_index_build *out) {
  if (!f) return 0;
  if (!out) {
    mtx_lock(&f->mu);
    f->abort = 1;
    mtx_unlock(&f->mu);
  }
  join_all(f);
  pd_store *s = f->s;
  int whole = out != NULL && covers_store(f);
  if (whole) *out = f->ib;
  else pd_st_index_build_abandon(&f->ib);
  pd_free(&s->alloc, f);
  return whole;
}
