/* Fixed row blocks on several threads: waves of blocks through
 * pd_parallel_for, partials combined in block order on the caller. */
#include "models/row_blocks.h"

#include <string.h>

#include "core/parallel.h"

int32_t pd_row_threads(int32_t threads, size_t n) {
  if (n < PD_ROW_PARALLEL_MIN) return 1;
  int32_t t = pd_parallel_resolve_threads(threads);
  return t < 1 ? 1 : t;
}

static size_t block_count(size_t n) {
  return n / PD_ROW_BLOCK + (n % PD_ROW_BLOCK != 0);
}

typedef struct sum_wave {
  pd_row_sum_fn fn;
  void *ctx;
  size_t n, first;
  double part[PD_ROW_WAVE][PD_ROW_MAX_SUMS];
} sum_wave;

static void sum_block(void *vw, size_t b) {
  sum_wave *w = vw;
  size_t begin = (w->first + b) * PD_ROW_BLOCK;
  size_t end = w->n - begin < PD_ROW_BLOCK ? w->n : begin + PD_ROW_BLOCK;
  w->fn(w->ctx, begin, end, w->part[b]);
}

void pd_row_sums(int32_t threads, size_t n, size_t nsums, pd_row_sum_fn fn,
                 void *ctx, double *sums) {
  for (size_t k = 0; k < nsums; k++) sums[k] = 0.0;
  size_t nb = block_count(n);
  int32_t t = pd_row_threads(threads, n);
  if (t <= 1) {
    /* The same blocks and the same order of additions as below. */
    double part[PD_ROW_MAX_SUMS];
    for (size_t b = 0; b < nb; b++) {
      size_t begin = b * PD_ROW_BLOCK;
      size_t end = n - begin < PD_ROW_BLOCK ? n : begin + PD_ROW_BLOCK;
      fn(ctx, begin, end, part);
      for (size_t k = 0; k < nsums; k++) sums[k] += part[k];
    }
    return;
  }
  sum_wave w;
  w.fn = fn, w.ctx = ctx, w.n = n;
  for (size_t first = 0; first < nb; first += PD_ROW_WAVE) {
    size_t len = nb - first < PD_ROW_WAVE ? nb - first : PD_ROW_WAVE;
    w.first = first;
    pd_parallel_for(t, len, sum_block, &w);
    for (size_t b = 0; b < len; b++)
      for (size_t k = 0; k < nsums; k++) sums[k] += w.part[b][k];
  }
}

typedef struct map_wave {
  pd_row_map_fn fn;
  void *ctx;
  size_t n, first;
  unsigned char failed[PD_ROW_WAVE];
} map_wave;

static void map_block(void *vw, size_t b) {
  map_wave *w = vw;
  size_t begin = (w->first + b) * PD_ROW_BLOCK;
  size_t end = w->n - begin < PD_ROW_BLOCK ? w->n : begin + PD_ROW_BLOCK;
  w->failed[b] = w->fn(w->ctx, begin, end) != 0;
}

size_t pd_row_map(int32_t threads, size_t n, pd_row_map_fn fn, void *ctx) {
  size_t nb = block_count(n), bad = PD_ROW_NONE;
  int32_t t = pd_row_threads(threads, n);
  if (t <= 1) {
    for (size_t b = 0; b < nb; b++) {
      size_t begin = b * PD_ROW_BLOCK;
      size_t end = n - begin < PD_ROW_BLOCK ? n : begin + PD_ROW_BLOCK;
      if (fn(ctx, begin, end) != 0 && bad == PD_ROW_NONE) bad = b;
    }
    return bad;
  }
  map_wave w;
  w.fn = fn, w.ctx = ctx, w.n = n;
  for (size_t first = 0; first < nb; first += PD_ROW_WAVE) {
    size_t len = nb - first < PD_ROW_WAVE ? nb - first : PD_ROW_WAVE;
    w.first = first;
    memset(w.failed, 0, sizeof w.failed);
    pd_parallel_for(t, len, map_block, &w);
    for (size_t b = 0; b < len && bad == PD_ROW_NONE; b++)
      if (w.failed[b]) bad = first + b;
  }
  return bad;
}
