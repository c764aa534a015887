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

/* Quintile scores without sorting. A buyer's score on a measure is
 * 1 + the number of boundaries q = 1..4 it reaches, where boundary q is
 * the buyer of rank R_q = ceil(q n / 5) (rank: key ascending, ties by the
 * larger user id first) and a buyer reaches it when its (key, -id) is at
 * least the boundary's: 1 + floor(5 r / n) for every rank r. The four
 * boundaries are found by selection: 16-bit digits of the keys from the
 * highest that differs, one counting pass over the buyers each, then one
 * pass for the ties. Every pass runs over user blocks on the store's
 * threads and only reads the per-user counters, so nothing of the size
 * of the buyers is allocated besides the result. */
enum { MEASURES = 3, BOUNDS = 4, DIGIT_BITS = 16 };
#define DIGITS ((size_t)1 << DIGIT_BITS)
#define DIGIT_MASK ((uint64_t)DIGITS - 1)

/* Per-buyer counts from one pass over the order column cut into blocks
 * (par.h): blocks add into shared per-user counters atomically; integer
 * sums and maxima do not depend on the order of the updates. */
typedef struct rfm_job {
  const pd_mb_ctx *c;
  const int64_t *ref;
  _Atomic uint32_t *cnt, *last;
  _Atomic int64_t *rev;
  size_t nb;          /* user blocks */
  uint32_t *buyers;   /* [nb]: buyers per block, then the block's first row */
  uint64_t *lo, *hi;  /* [nb][MEASURES]: the block's smallest, largest key */
  /* the selection pass under way */
  int measure, shift;
  uint64_t fixed;           /* key bits already chosen (above the digit) */
  uint64_t prefix[BOUNDS];  /* each boundary's chosen bits */
  uint32_t *hist;           /* [workers][BOUNDS][DIGITS] */
  uint32_t *equal;          /* [nb][BOUNDS]: buyers with a boundary's key */
  /* the boundaries, per measure: R_q's key and user (R_q < n only) */
  size_t bounds;
  uint64_t bkey[MEASURES][BOUNDS];
  uint32_t bid[MEASURES][BOUNDS];
  pd_rows *rows;
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

static uint32_t orders_of(const rfm_job *j, uint32_t u) {
  return atomic_load_explicit(&j->cnt[u], memory_order_relaxed);
}

/* Measure k's key of buyer u, ascending from worst to best: recency
 * (a later last order is better), frequency, net revenue (signed). */
static uint64_t key_of(const rfm_job *j, int k, uint32_t u) {
  if (k == 0)
    return (uint64_t)(UINT32_MAX -
                      (j->c->f.as_of - atomic_load_explicit(
                                            &j->last[u], memory_order_relaxed)));
  if (k == 1) return orders_of(j, u);
  return (uint64_t)atomic_load_explicit(&j->rev[u], memory_order_relaxed) ^
         ((uint64_t)1 << 63);
}

static void user_range(const rfm_job *j, size_t b, uint32_t *lo,
                       uint32_t *hi) {
  pd_mx_block_range(b, PD_MX_USER_BLOCK, j->c->n, lo, hi);
  if (*lo == 0) *lo = 1;
}

/* A block's buyers and each measure's smallest and largest key. */
static void range_block(void *p, size_t b) {
  rfm_job *j = p;
  uint32_t lo, hi, n = 0;
  uint64_t mn[MEASURES], mx[MEASURES];
  for (int k = 0; k < MEASURES; k++) mn[k] = UINT64_MAX, mx[k] = 0;
  user_range(j, b, &lo, &hi);
  for (uint32_t u = lo; u < hi; u++) {
    if (!orders_of(j, u)) continue;
    n++;
    for (int k = 0; k < MEASURES; k++) {
      uint64_t key = key_of(j, k, u);
      if (key < mn[k]) mn[k] = key;
      if (key > mx[k]) mx[k] = key;
    }
  }
  j->buyers[b] = n;
  for (int k = 0; k < MEASURES; k++) {
    j->lo[b * MEASURES + k] = mn[k];
    j->hi[b * MEASURES + k] = mx[k];
  }
}

/* One digit of the measure's keys, counted per boundary among the buyers
 * whose chosen bits match that boundary's, into the worker's counts. */
static void digit_block(void *p, size_t b, int32_t worker) {
  const rfm_job *j = p;
  uint32_t *h = j->hist + (size_t)worker * BOUNDS * DIGITS, lo, hi;
  user_range(j, b, &lo, &hi);
  for (uint32_t u = lo; u < hi; u++) {
    if (!orders_of(j, u)) continue;
    uint64_t key = key_of(j, j->measure, u);
    size_t d = (size_t)((key >> j->shift) & DIGIT_MASK);
    for (size_t q = 0; q < j->bounds; q++)
      if (((key ^ j->prefix[q]) & j->fixed) == 0) h[q * DIGITS + d]++;
  }
}

/* How many of the block's buyers have each boundary's key. */
static void equal_block(void *p, size_t b) {
  rfm_job *j = p;
  uint32_t lo, hi, *e = j->equal + b * BOUNDS;
  for (size_t q = 0; q < BOUNDS; q++) e[q] = 0;
  user_range(j, b, &lo, &hi);
  for (uint32_t u = lo; u < hi; u++) {
    if (!orders_of(j, u)) continue;
    uint64_t key = key_of(j, j->measure, u);
    for (size_t q = 0; q < j->bounds; q++)
      e[q] += key == j->bkey[j->measure][q];
  }
}

/* The boundaries of measure k among n buyers, whose keys span lo..hi;
 * rank[q] = R_q. */
static void select_bounds(rfm_job *j, int k, const size_t *rank, uint64_t lo,
                          uint64_t hi, int32_t workers) {
  size_t below[BOUNDS] = {0};
  j->measure = k;
  for (size_t q = 0; q < j->bounds; q++) j->prefix[q] = lo;
  if (lo != hi) {
    int top = 63;
    while (!(((lo ^ hi) >> top) & 1)) top--;
    j->shift = top / DIGIT_BITS * DIGIT_BITS;
    j->fixed = j->shift + DIGIT_BITS >= 64
                   ? 0
                   : ~(uint64_t)0 << (j->shift + DIGIT_BITS);
    for (;;) {
      memset(j->hist, 0, (size_t)workers * BOUNDS * DIGITS * sizeof *j->hist);
      pd_parallel_for_workers(j->c->threads, j->nb, digit_block, j);
      for (size_t q = 0; q < j->bounds; q++) {
        size_t d = 0, cum = below[q];
        for (;; d++) {
          size_t c = 0;
          for (int32_t w = 0; w < workers; w++)
            c += j->hist[((size_t)w * BOUNDS + q) * DIGITS + d];
          if (cum + c > rank[q]) break;
          cum += c;
        }
        below[q] = cum;
        j->prefix[q] = (j->prefix[q] & j->fixed) | (uint64_t)d << j->shift;
      }
      j->fixed |= DIGIT_MASK << j->shift;
      if (j->shift == 0) break;
      j->shift -= DIGIT_BITS;
    }
  }
  for (size_t q = 0; q < j->bounds; q++) j->bkey[k][q] = j->prefix[q];
  /* Ties: boundary q is the (R_q - below)-th buyer with its key, counting
   * from the largest id down; found by block counts, then in its block. */
  pd_parallel_for(j->c->threads, j->nb, equal_block, j);
  for (size_t q = 0; q < j->bounds; q++) {
    size_t want = rank[q] - below[q], seen = 0, b = j->nb;
    while (b-- > 0 && seen + j->equal[b * BOUNDS + q] <= want)
      seen += j->equal[b * BOUNDS + q];
    uint32_t lo_u, hi_u;
    user_range(j, b, &lo_u, &hi_u);
    for (uint32_t u = hi_u; u-- > lo_u;) {
      if (!orders_of(j, u) || key_of(j, k, u) != j->bkey[k][q]) continue;
      if (seen++ == want) {
        j->bid[k][q] = u;
        break;
      }
    }
  }
}

/* The block's rows: values, scores and segment. */
static void rows_block(void *p, size_t b) {
  const rfm_job *j = p;
  uint32_t lo, hi;
  size_t row = j->buyers[b];
  user_range(j, b, &lo, &hi);
  uint32_t as_of = j->c->f.as_of;
  for (uint32_t u = lo; u < hi; u++) {
    uint32_t n = orders_of(j, u);
    if (!n) continue;
    int32_t score[MEASURES];
    for (int k = 0; k < MEASURES; k++) {
      uint64_t key = key_of(j, k, u);
      score[k] = 1;
      for (size_t q = 0; q < j->bounds; q++)
        score[k] += key > j->bkey[k][q] ||
                    (key == j->bkey[k][q] && u <= j->bid[k][q]);
    }
    pd_rfm_row *r = pd_mb_row(j->rows, row++);
    r->user = u;
    r->recency_days =
        (double)(as_of - atomic_load_explicit(&j->last[u],
                                              memory_order_relaxed)) /
        PD_MB_DAY;
    r->frequency = n;
    r->monetary = atomic_load_explicit(&j->rev[u], memory_order_relaxed);
    r->r_score = score[0];
    r->f_score = score[1];
    r->m_score = score[2];
    r->segment = pd_segment_from_scores(r->r_score, r->f_score);
  }
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
  j.nb = pd_mx_blocks(c.n, PD_MX_USER_BLOCK);
  int32_t workers = pd_parallel_workers(c.threads, j.nb);
  j.cnt = pd_calloc(a, c.n, sizeof *j.cnt);
  j.last = pd_calloc(a, c.n, sizeof *j.last);
  j.rev = pd_calloc(a, c.n, sizeof *j.rev);
  j.buyers = pd_malloc(a, (j.nb + 1) * sizeof *j.buyers);
  j.lo = pd_malloc(a, (j.nb + 1) * MEASURES * sizeof *j.lo);
  j.hi = pd_malloc(a, (j.nb + 1) * MEASURES * sizeof *j.hi);
  j.equal = pd_malloc(a, (j.nb + 1) * BOUNDS * sizeof *j.equal);
  j.hist = pd_malloc(a, (size_t)workers * BOUNDS * DIGITS * sizeof *j.hist);
  int64_t *ref = NULL;
  if (!j.cnt || !j.last || !j.rev || !j.buyers || !j.lo || !j.hi ||
      !j.equal || !j.hist)
    st = pd_mb_nomem(&c);
  if (!st) st = pd_mb_refunds_at(&c, c.f.as_of, &ref);
  size_t n = 0;
  if (!st) {
    j.ref = ref;
    pd_parallel_for(c.threads,
                    pd_mx_blocks(s->col[PD_EV_ORDER].n, PD_MX_EVENT_BLOCK),
                    rfm_orders_block, &j);
    pd_parallel_for(c.threads, j.nb, range_block, &j);
    for (size_t b = 0; b < j.nb; b++) {
      size_t in_block = j.buyers[b];
      j.buyers[b] = (uint32_t)n; /* now the block's first row */
      n += in_block;
    }
    j.rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_RFM,
                            sizeof(pd_rfm_row), n);
    if (!j.rows) st = pd_mb_nomem(&c);
  }
  if (!st && n > 0) {
    size_t rank[BOUNDS];
    for (size_t q = 1; q <= BOUNDS; q++) {
      size_t r = (q * n + 4) / 5; /* ceil(q n / 5) */
      if (r < n) rank[j.bounds++] = r;
    }
    for (int k = 0; k < MEASURES; k++) {
      uint64_t lo = UINT64_MAX, hi = 0;
      for (size_t b = 0; b < j.nb; b++) {
        if (j.lo[b * MEASURES + k] < lo) lo = j.lo[b * MEASURES + k];
        if (j.hi[b * MEASURES + k] > hi) hi = j.hi[b * MEASURES + k];
      }
      if (j.bounds > 0) select_bounds(&j, k, rank, lo, hi, workers);
    }
    pd_parallel_for(c.threads, j.nb, rows_block, &j);
  }
  pd_free(a, (void *)j.cnt);
  pd_free(a, (void *)j.last);
  pd_free(a, (void *)j.rev);
  pd_free(a, j.buyers);
  pd_free(a, j.lo);
  pd_free(a, j.hi);
  pd_free(a, j.equal);
  pd_free(a, j.hist);
  pd_free(a, ref);
  pd_mb_ctx_free(&c);
  if (st)
    pd_rows_free(j.rows);
  else
    *out = j.rows;
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
