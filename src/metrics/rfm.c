/* RFM quintile scores and the named segments (segments.h). */
#include <stdatomic.h>
#include <string.h>

#include <privdomain/segments.h>

#include "core/prefetch.h"
#include "par.h"
#include "population.h"
#include "rows.h"

static const char *const segment_names[PD_SEGMENT_LAST + 1] = {
    NULL,           "champions",      "loyal",
    "potential_loyalist", "new",      "promising",
    "need_attention", "about_to_sleep", "at_risk",
    "cant_lose",    "hibernating",    "lost"};

const char *pd_segment_name(int32_t segment) {
  if (segment < 1 || segment > PD_SEGMENT_LAST) return NULL;
  return segment_names[segment];
}

int32_t pd_segment_from_scores(int32_t r, int32_t f) {
  if (r < 1 || r > 5 || f < 1 || f > 5) return 0;
  if (r == 5 && f >= 4) return PD_SEGMENT_CHAMPIONS;
  if (r >= 3 && f >= 4) return PD_SEGMENT_LOYAL;
  if (r == 3 && f == 3) return PD_SEGMENT_NEED_ATTENTION;
  if (r >= 4 && f >= 2) return PD_SEGMENT_POTENTIAL_LOYALIST;
  if (r == 5) return PD_SEGMENT_NEW;
  if (r == 4) return PD_SEGMENT_PROMISING;
  if (r == 3) return PD_SEGMENT_ABOUT_TO_SLEEP;
  if (f == 5) return PD_SEGMENT_CANT_LOSE;
  if (f >= 3) return PD_SEGMENT_AT_RISK;
  if (r == 1 && f == 1) return PD_SEGMENT_LOST;
  return PD_SEGMENT_HIBERNATING;
}

/* Stable LSD radix sort of (key, pos) pairs on the 64-bit key, using tmp
 * arrays of the same length. A byte that is the same in every key leaves
 * the order as it is, so its pass is skipped (the high bytes of amounts,
 * counts and recencies usually are); the passes alternate between the two
 * pairs of arrays, and the result is copied back once at the end. */
static void radix_sort(uint64_t *key, uint32_t *pos, uint64_t *tk,
                       uint32_t *tp, size_t n) {
  uint64_t *ka = key, *kb = tk;
  uint32_t *pa = pos, *pb = tp;
  for (int shift = 0; shift < 64; shift += 8) {
    size_t cnt[257] = {0};
    for (size_t i = 0; i < n; i++) cnt[((ka[i] >> shift) & 0xff) + 1]++;
    if (n == 0 || cnt[((ka[0] >> shift) & 0xff) + 1] == n) continue;
    for (int b = 0; b < 256; b++) cnt[b + 1] += cnt[b];
    for (size_t i = 0; i < n; i++) {
      size_t d = cnt[(ka[i] >> shift) & 0xff]++;
      kb[d] = ka[i];
      pb[d] = pa[i];
    }
    uint64_t *kt = ka;
    ka = kb;
    kb = kt;
    uint32_t *pt = pa;
    pa = pb;
    pb = pt;
  }
  if (ka != key) {
    memcpy(key, ka, n * sizeof *key);
    memcpy(pos, pa, n * sizeof *pos);
  }
}

/* Scores 1-5 into score[pos] from the keys (worst first); the positions
 * are laid out by decreasing user id, so a stable sort breaks ties by the
 * larger id first. */
static void quintiles(uint64_t *key, uint32_t *pos, uint64_t *tk,
                      uint32_t *tp, size_t n, int32_t *score) {
  radix_sort(key, pos, tk, tp, n);
  for (size_t rank = 0; rank < n; rank++)
    score[pos[rank]] = 1 + (int32_t)((5 * (uint64_t)rank) / n);
}

/* Per-buyer counts from one pass over the order column cut into blocks
 * (par.h): blocks add into shared per-user counters atomically; integer
 * sums and maxima do not depend on the order of the updates. */
typedef struct rfm_job {
  const pd_mb_ctx *c;
  const int64_t *ref;
  _Atomic uint32_t *cnt, *last;
  _Atomic int64_t *rev;
  /* the three scorings (recency, frequency, monetary), one block each */
  size_t n;
  const uint32_t *ids;
  uint64_t *key[3], *tk[3];
  uint32_t *pos[3], *tp[3];
  int32_t *sc;
} rfm_job;

/* Orders ahead whose user lookup (2 PF) and counters (PF) the scan
 * prefetches: orders come in time order, so both are random accesses. */
enum { RFM_PF = 16 };

static void rfm_orders_block(void *p, size_t b) {
  const rfm_job *j = p;
  const pd_store *s = j->c->s;
  const pd_st_order *o = pd_st_orders(s);
  const uint32_t *in_root = j->c->in_root;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, s->col[PD_EV_ORDER].n, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    if (i + 2 * RFM_PF < hi)
      PD_PREFETCH_READ(&in_root[o[i + 2 * RFM_PF].user]);
    if (i + RFM_PF < hi) {
      uint32_t q = in_root[o[i + RFM_PF].user];
      if (q) {
        PD_PREFETCH((const void *)&j->cnt[q]);
        PD_PREFETCH((const void *)&j->last[q]);
        PD_PREFETCH((const void *)&j->rev[q]);
      }
    }
    if (o[i].time > j->c->f.as_of) continue;
    /* in_root: the root, or 0 when erased or filtered out */
    uint32_t r = in_root[o[i].user];
    if (r == 0) continue;
    atomic_fetch_add_explicit(&j->cnt[r], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&j->rev[r], pd_mb_net(s, j->ref, i),
                              memory_order_relaxed);
    uint32_t seen = atomic_load_explicit(&j->last[r], memory_order_relaxed);
    while (o[i].time > seen &&
           !atomic_compare_exchange_weak_explicit(&j->last[r], &seen,
                                                  o[i].time,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
  }
}

static void rfm_score_block(void *p, size_t k) {
  const rfm_job *j = p;
  uint64_t *key = j->key[k];
  uint32_t *pos = j->pos[k];
  uint32_t as_of = j->c->f.as_of;
  for (size_t q = 0; q < j->n; q++) {
    uint32_t u = j->ids[q];
    key[q] = k == 0 ? (uint64_t)(UINT32_MAX - (as_of - j->last[u]))
             : k == 1 ? (uint64_t)j->cnt[u]
                      : (uint64_t)j->rev[u] ^ ((uint64_t)1 << 63);
    pos[q] = (uint32_t)q;
  }
  quintiles(key, pos, j->tk[k], j->tp[k], j->n, j->sc + k * j->n);
}

pd_status pd_rfm_compute(pd_store *s, const pd_metrics_filter *filter,
                         pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  const pd_allocator *a = &s->alloc;
  rfm_job j;
  memset(&j, 0, sizeof j);
  j.c = &c;
  j.cnt = pd_calloc(a, c.n, sizeof *j.cnt);
  j.last = pd_calloc(a, c.n, sizeof *j.last);
  j.rev = pd_calloc(a, c.n, sizeof *j.rev);
  int64_t *ref = NULL;
  uint32_t *ids = NULL;
  pd_rows *rows = NULL;
  if (!j.cnt || !j.last || !j.rev) st = pd_mb_nomem(&c);
  if (!st) st = pd_mb_refunds_at(&c, c.f.as_of, &ref);
  size_t n = 0;
  if (!st) {
    j.ref = ref;
    pd_parallel_for(c.threads,
                    pd_mx_blocks(s->col[PD_EV_ORDER].n, PD_MX_EVENT_BLOCK),
                    rfm_orders_block, &j);
    for (uint32_t r = 1; r < c.n; r++) n += j.cnt[r] != 0;
    for (int k = 0; k < 3; k++) {
      j.key[k] = pd_malloc(a, (n + 1) * sizeof *j.key[k]);
      j.tk[k] = pd_malloc(a, (n + 1) * sizeof *j.tk[k]);
      j.pos[k] = pd_malloc(a, (n + 1) * sizeof *j.pos[k]);
      j.tp[k] = pd_malloc(a, (n + 1) * sizeof *j.tp[k]);
      if (!j.key[k] || !j.tk[k] || !j.pos[k] || !j.tp[k]) st = PD_E_NOMEM;
    }
    ids = pd_malloc(a, (n + 1) * sizeof *ids);
    j.sc = pd_malloc(a, (3 * n + 1) * sizeof *j.sc);
    rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_RFM,
                          sizeof(pd_rfm_row), n);
    if (st || !ids || !j.sc || !rows) st = pd_mb_nomem(&c);
  }
  if (!st) {
    /* ids[] by decreasing id: position p holds the p-th largest buyer. */
    size_t m = 0;
    for (uint32_t r = c.n; r-- > 1;)
      if (j.cnt[r]) ids[m++] = r;
    j.n = n;
    j.ids = ids;
    pd_parallel_for(c.threads, 3, rfm_score_block, &j);
    const int32_t *sc = j.sc;
    /* Rows by increasing id: position n-1-q. */
    for (size_t q = 0; q < n; q++) {
      size_t p = n - 1 - q;
      uint32_t u = ids[p];
      pd_rfm_row *row = pd_mb_row(rows, q);
      row->user = u;
      row->recency_days = (double)(c.f.as_of - j.last[u]) / PD_MB_DAY;
      row->frequency = j.cnt[u];
      row->monetary = j.rev[u];
      row->r_score = sc[p];
      row->f_score = sc[n + p];
      row->m_score = sc[2 * n + p];
      row->segment = pd_segment_from_scores(row->r_score, row->f_score);
    }
  }
  pd_free(a, (void *)j.cnt);
  pd_free(a, (void *)j.last);
  pd_free(a, (void *)j.rev);
  pd_free(a, ref);
  for (int k = 0; k < 3; k++) {
    pd_free(a, j.key[k]);
    pd_free(a, j.tk[k]);
    pd_free(a, j.pos[k]);
    pd_free(a, j.tp[k]);
  }
  pd_free(a, ids);
  pd_free(a, j.sc);
  pd_mb_ctx_free(&c);
  if (st)
    pd_rows_free(rows);
  else
    *out = rows;
  return pd_st_leave(s, st);
}

pd_status pd_rfm_row_get(const pd_rows *rows, size_t i, pd_rfm_row *out) {
  return pd_mb_rows_get(rows, PD_MB_ROWS_RFM, i, out);
}

pd_status pd_rfm_segment_count(const pd_rows *rows, int32_t segment,
                               pd_segment_count *out) {
  if (rows == NULL || out == NULL || out->size < sizeof *out ||
      segment < 1 || segment > PD_SEGMENT_LAST)
    return PD_E_INVALID;
  pd_rfm_row probe = PD_RFM_ROW_INIT;
  if (pd_mb_rows_get(rows, PD_MB_ROWS_RFM, 0, &probe) == PD_E_MISUSE)
    return PD_E_MISUSE;
  pd_segment_count r = PD_SEGMENT_COUNT_INIT;
  r.size = out->size;
  r.segment = segment;
  for (size_t i = 0; i < rows->n; i++) {
    const pd_rfm_row *row =
        (const pd_rfm_row *)((const char *)rows->data + i * rows->row_size);
    if (row->segment != segment) continue;
    r.users++;
    r.revenue += row->monetary;
  }
  memcpy(out, &r, sizeof r);
  return PD_OK;
}
