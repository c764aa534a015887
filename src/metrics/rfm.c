/* RFM quintile scores and the named segments (segments.h). */
#include <string.h>

#include <privdomain/segments.h>

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
 * arrays of the same length. */
static void radix_sort(uint64_t *key, uint32_t *pos, uint64_t *tk,
                       uint32_t *tp, size_t n) {
  for (int shift = 0; shift < 64; shift += 8) {
    size_t cnt[257] = {0};
    for (size_t i = 0; i < n; i++) cnt[((key[i] >> shift) & 0xff) + 1]++;
    if (cnt[1] == n) continue; /* this byte is 0 everywhere */
    for (int b = 0; b < 256; b++) cnt[b + 1] += cnt[b];
    for (size_t i = 0; i < n; i++) {
      size_t d = cnt[(key[i] >> shift) & 0xff]++;
      tk[d] = key[i];
      tp[d] = pos[i];
    }
    memcpy(key, tk, n * sizeof *key);
    memcpy(pos, tp, n * sizeof *pos);
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

pd_status pd_rfm_compute(pd_store *s, const pd_metrics_filter *filter,
                         pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  const pd_allocator *a = &s->alloc;
  uint32_t *cnt = pd_calloc(a, c.n, sizeof *cnt);
  uint32_t *last = pd_calloc(a, c.n, sizeof *last);
  int64_t *rev = pd_calloc(a, c.n, sizeof *rev);
  int64_t *ref = NULL;
  uint64_t *key = NULL, *tk = NULL;
  uint32_t *pos = NULL, *tp = NULL, *ids = NULL;
  int32_t *sc = NULL;
  pd_rows *rows = NULL;
  if (!cnt || !last || !rev) st = pd_mb_nomem(&c);
  if (!st) st = pd_mb_refunds_at(&c, c.f.as_of, &ref);
  size_t n = 0;
  if (!st) {
    const pd_st_order *o = pd_st_orders(s);
    for (uint32_t i = 0; i < s->col[PD_EV_ORDER].n; i++) {
      if (o[i].time > c.f.as_of) continue;
      uint32_t r = c.root_of[o[i].user];
      if (r == 0 || !c.pass[r]) continue;
      n += cnt[r] == 0;
      cnt[r]++;
      rev[r] += pd_mb_net(s, ref, i);
      if (o[i].time > last[r]) last[r] = o[i].time;
    }
    key = pd_malloc(a, (n + 1) * sizeof *key);
    tk = pd_malloc(a, (n + 1) * sizeof *tk);
    pos = pd_malloc(a, (n + 1) * sizeof *pos);
    tp = pd_malloc(a, (n + 1) * sizeof *tp);
    ids = pd_malloc(a, (n + 1) * sizeof *ids);
    sc = pd_malloc(a, (3 * n + 1) * sizeof *sc);
    rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_RFM,
                          sizeof(pd_rfm_row), n);
    if (!key || !tk || !pos || !tp || !ids || !sc || !rows)
      st = pd_mb_nomem(&c);
  }
  if (!st) {
    /* ids[] by decreasing id: position p holds the p-th largest buyer. */
    size_t m = 0;
    for (uint32_t r = c.n; r-- > 1;)
      if (cnt[r]) ids[m++] = r;
    for (size_t p = 0; p < n; p++) {
      key[p] = (uint64_t)(UINT32_MAX - (c.f.as_of - last[ids[p]]));
      pos[p] = (uint32_t)p;
    }
    quintiles(key, pos, tk, tp, n, sc);
    for (size_t p = 0; p < n; p++) {
      key[p] = cnt[ids[p]];
      pos[p] = (uint32_t)p;
    }
    quintiles(key, pos, tk, tp, n, sc + n);
    for (size_t p = 0; p < n; p++) {
      key[p] = (uint64_t)rev[ids[p]] ^ ((uint64_t)1 << 63);
      pos[p] = (uint32_t)p;
    }
    quintiles(key, pos, tk, tp, n, sc + 2 * n);
    /* Rows by increasing id: position n-1-q. */
    for (size_t q = 0; q < n; q++) {
      size_t p = n - 1 - q;
      uint32_t u = ids[p];
      pd_rfm_row *row = pd_mb_row(rows, q);
      row->user = u;
      row->recency_days = (double)(c.f.as_of - last[u]) / PD_MB_DAY;
      row->frequency = cnt[u];
      row->monetary = rev[u];
      row->r_score = sc[p];
      row->f_score = sc[n + p];
      row->m_score = sc[2 * n + p];
      row->segment = pd_segment_from_scores(row->r_score, row->f_score);
    }
  }
  pd_free(a, cnt);
  pd_free(a, last);
  pd_free(a, rev);
  pd_free(a, ref);
  pd_free(a, key);
  pd_free(a, tk);
  pd_free(a, pos);
  pd_free(a, tp);
  pd_free(a, ids);
  pd_free(a, sc);
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
