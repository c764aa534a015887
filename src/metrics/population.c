/* Shared machinery of the population figures (see population.h). */
#include "population.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/events.h>

#include "core/prefetch.h"
#include "par.h"
#include "store/store_query.h"

pd_status pd_mb_nomem(pd_mb_ctx *c) {
  return pd_err(&c->s->err, PD_E_NOMEM, "out of memory");
}

pd_status pd_mb_grow_zeroed_slow(pd_mb_ctx *c, void **v, size_t *cap,
                                 size_t n, size_t elem) {
  size_t old = *cap;
  if (pd_grow(&c->s->alloc, v, cap, n, elem) != 0) return pd_mb_nomem(c);
  if (*cap > old) memset((char *)*v + old * elem, 0, (*cap - old) * elem);
  return PD_OK;
}

pd_status pd_mb_top_k_args(pd_store *s, const void *rows, const size_t *n,
                           size_t k, size_t cap, size_t row_size,
                           const char *init, size_t *stride) {
  if (rows == NULL || n == NULL || k == 0 || cap < k)
    return pd_err(&s->err, PD_E_INVALID,
                  "rows or n is NULL, k is 0 or cap < k");
  size_t size = *(const size_t *)rows;
  if (size < row_size)
    return pd_err(&s->err, PD_E_INVALID,
                  "rows[0].size %zu is smaller than %zu (use %s)", size,
                  row_size, init);
  *stride = size;
  return PD_OK;
}

/* ctx_init's passes over user blocks: roots and the filter, then the
 * per-id lookup that column scans use. */
typedef struct ctx_job {
  pd_mb_ctx *c;
  int restricted;
} ctx_job;

static void ctx_roots_block(void *p, size_t b) {
  const ctx_job *j = p;
  pd_mb_ctx *c = j->c;
  const pd_store *s = c->s;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_USER_BLOCK, c->n, &lo, &hi);
  for (uint32_t u = lo ? lo : 1; u < hi; u++) {
    uint32_t r = pd_mx_find_ro(s, u);
    c->root_of[u] = (s->users[r].flags & PD_ST_USER_ERASED) ? 0 : r;
    if (r == u && c->root_of[u])
      c->pass[u] = (uint8_t)(!j->restricted || pd_mx_filter_match(s, &c->f, u));
  }
}

static void ctx_in_root_block(void *p, size_t b) {
  pd_mb_ctx *c = ((const ctx_job *)p)->c;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_USER_BLOCK, c->n, &lo, &hi);
  for (uint32_t u = lo; u < hi; u++)
    c->in_root[u] = c->pass[c->root_of[u]] ? c->root_of[u] : 0;
}

pd_status pd_mb_ctx_init(pd_mb_ctx *c, pd_store *s,
                         const pd_metrics_filter *filter) {
  memset(c, 0, sizeof *c);
  c->s = s;
  pd_status st = pd_mx_filter_load(s, filter, &c->f);
  if (st) return st;
  c->n = s->n_users;
  c->threads = pd_mx_threads(s);
  c->root_of = pd_malloc(&s->alloc, (size_t)c->n * sizeof *c->root_of);
  c->pass = pd_calloc(&s->alloc, c->n, 1);
  c->in_root = pd_malloc(&s->alloc, (size_t)c->n * sizeof *c->in_root);
  if (!c->root_of || !c->pass || !c->in_root) {
    pd_mb_ctx_free(c);
    return pd_mb_nomem(c);
  }
  ctx_job j = {c, c->f.channel || c->f.source || c->f.guide || c->f.shop};
  c->root_of[0] = 0;
  size_t nb = pd_mx_blocks(c->n, PD_MX_USER_BLOCK);
  pd_parallel_for(c->threads, nb, ctx_roots_block, &j);
  pd_parallel_for(c->threads, nb, ctx_in_root_block, &j);
  return PD_OK;
}

void pd_mb_ctx_free(pd_mb_ctx *c) {
  pd_free(&c->s->alloc, c->root_of);
  pd_free(&c->s->alloc, c->pass);
  pd_free(&c->s->alloc, c->in_root);
  c->root_of = NULL;
  c->pass = NULL;
  c->in_root = NULL;
}

uint32_t pd_mb_event_user(const pd_store *s, int kind, uint32_t i) {
  switch (kind) {
    case PD_EV_LINK: return pd_st_links(s)[i].user;
    case PD_EV_UNLINK: return pd_st_unlinks(s)[i].user;
    case PD_EV_TOUCH: return pd_st_touches(s)[i].user;
    case PD_EV_ORDER: return pd_st_orders(s)[i].user;
    case PD_EV_REFUND: return pd_st_refunds(s)[i].user;
    case PD_EV_REFERRAL: return pd_st_referrals(s)[i].referrer;
    case PD_EV_BIND: return pd_st_binds(s)[i].user;
    default: return 0;
  }
}

uint64_t pd_mb_event_eid(const pd_store *s, int kind, uint32_t i) {
  return s->col[kind].eid[i];
}

/* ---- events grouped by user ------------------------------------------- */

/* Where a kind's records keep their user (the referrer for referrals) and
 * time, so the column scans read fields without a switch per event. */
static size_t user_offset(int kind) {
  switch (kind) {
    case PD_EV_LINK: return offsetof(pd_st_link, user);
    case PD_EV_UNLINK: return offsetof(pd_st_unlink, user);
    case PD_EV_TOUCH: return offsetof(pd_st_touch, user);
    case PD_EV_ORDER: return offsetof(pd_st_order, user);
    case PD_EV_REFUND: return offsetof(pd_st_refund, user);
    case PD_EV_REFERRAL: return offsetof(pd_st_referral, referrer);
    default: return offsetof(pd_st_bind, user);
  }
}

static size_t time_offset(int kind) {
  switch (kind) {
    case PD_EV_LINK: return offsetof(pd_st_link, time);
    case PD_EV_UNLINK: return offsetof(pd_st_unlink, time);
    case PD_EV_TOUCH: return offsetof(pd_st_touch, time);
    case PD_EV_ORDER: return offsetof(pd_st_order, time);
    case PD_EV_REFUND: return offsetof(pd_st_refund, time);
    case PD_EV_REFERRAL: return offsetof(pd_st_referral, time);
    default: return offsetof(pd_st_bind, time);
  }
}

static inline uint32_t field(const char *rec, size_t off) {
  uint32_t v;
  memcpy(&v, rec + off, sizeof v);
  return v;
}

static int key_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

void pd_mb_sort_keys(const uint64_t *eid, uint64_t *v, size_t n) {
  if (n < 2) return;
  /* Keys in order already (a store recorded in time order) need only
   * their ties looked at. */
  size_t sorted = 1;
  while (sorted < n && v[sorted - 1] <= v[sorted]) sorted++;
  if (sorted < n && n > 32) {
    qsort(v, n, sizeof *v, key_cmp_u64);
  } else {
    for (size_t i = sorted; i < n; i++) {
      uint64_t x = v[i];
      size_t j = i;
      while (j > 0 && v[j - 1] > x) {
        v[j] = v[j - 1];
        j--;
      }
      v[j] = x;
    }
  }
  /* Same-time runs: by event id (rare, so insertion sort). */
  for (size_t a = 0; a < n;) {
    size_t b = a + 1;
    while (b < n && pd_mb_key_time(v[b]) == pd_mb_key_time(v[a])) b++;
    for (size_t i = a + 1; i < b; i++) {
      uint64_t x = v[i];
      size_t j = i;
      while (j > a && eid[pd_mb_key_index(v[j - 1])] > eid[pd_mb_key_index(x)]) {
        v[j] = v[j - 1];
        j--;
      }
      v[j] = x;
    }
    a = b;
  }
}

/* pd_mb_csr_build in two parallel passes, reading the column once.
 * (1) Column blocks: the block's kept events (key, root) gathered into the
 * worker's scratch, counted per user block, then moved into the block's
 * own slice of the stage, grouped by user block (stable: column order
 * within a group). A slice has room for the whole block: untouched room
 * costs address space, not memory, and sizing slices exactly would need
 * a second read of the column, the dearest part of the build. (2) User
 * blocks: the block's groups gathered from every slice in column-block
 * order, counting-sorted by user (the counters stay in cache), then each
 * user's keys sorted. */
typedef struct csr_job {
  pd_mb_ctx *c;
  const pd_store *s;
  int kind;
  uint32_t upto, ne;
  const pd_mb_touch_tags *tags; /* NULL: every event, tag 0 */
  const char *rec;
  size_t rs, uo, to;
  size_t nub, neb;        /* user blocks, column blocks */
  uint32_t *seg;          /* [neb][nub + 1] group starts in each slice */
  size_t per;             /* scratch per worker: min(ne, PD_MX_EVENT_BLOCK) */
  uint64_t *scratch_key;  /* [threads][per] */
  uint32_t *scratch_root; /* [threads][per] */
  uint32_t *cursor;       /* [threads][nub] */
  uint64_t *stage;        /* [ne] slice b at b * PD_MX_EVENT_BLOCK */
  uint16_t *uloc;         /* root - first id of its user block, beside stage */
  size_t *ubstart;        /* [nub + 1] first key of each user block */
  pd_mb_csr *out;
} csr_job;

/* The root of event i if the figure keeps it (0 if not), and its tag. The
 * tag first: it reads this record, and the user lookup is a random access
 * worth skipping for the events a tag drops. */
static inline uint32_t csr_root(const csr_job *j, uint32_t i, int *tag) {
  const char *e = j->rec + (size_t)i * j->rs;
  if (field(e, j->to) > j->upto) return 0;
  *tag = j->tags ? j->tags->of_kind[((const pd_st_touch *)e)->kind] : 0;
  return *tag >= 0 ? j->c->in_root[field(e, j->uo)] : 0;
}

/* Events are in arrival order, so the per-user lookups are random
 * accesses; prefetching PF events ahead hides most of their latency. */
enum { CSR_PF = 16 };

static void csr_slice_block(void *p, size_t b, int32_t worker) {
  const csr_job *j = p;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, j->ne, &lo, &hi);
  uint64_t *skey = j->scratch_key + (size_t)worker * j->per;
  uint32_t *sroot = j->scratch_root + (size_t)worker * j->per;
  uint32_t *seg = j->seg + b * (j->nub + 1);
  uint32_t *cur = j->cursor + (size_t)worker * j->nub;
  memset(cur, 0, j->nub * sizeof *cur);
  uint32_t n = 0;
  for (uint32_t i = lo; i < hi; i++) {
    if (i + CSR_PF < hi)
      PD_PREFETCH(&j->c->in_root[field(j->rec + (size_t)(i + CSR_PF) * j->rs,
                                       j->uo)]);
    int tag = 0;
    uint32_t r = csr_root(j, i, &tag);
    if (!r) continue;
    skey[n] = pd_mb_key(field(j->rec + (size_t)i * j->rs, j->to),
                        (uint32_t)tag, i);
    sroot[n++] = r;
    cur[r >> PD_MX_USER_BLOCK_BITS]++;
  }
  uint32_t run = 0;
  for (size_t ub = 0; ub < j->nub; ub++) {
    seg[ub] = run;
    run += cur[ub];
    cur[ub] = seg[ub];
  }
  seg[j->nub] = run;
  size_t base = b * PD_MX_EVENT_BLOCK;
  for (uint32_t k = 0; k < n; k++) {
    size_t at = base + cur[sroot[k] >> PD_MX_USER_BLOCK_BITS]++;
    j->stage[at] = skey[k];
    j->uloc[at] = (uint16_t)(sroot[k] & (PD_MX_USER_BLOCK - 1));
  }
}

static void csr_user_block(void *p, size_t ub) {
  const csr_job *j = p;
  uint32_t *off = j->out->off;
  uint64_t *key = j->out->key;
  uint32_t lo, hi;
  pd_mx_block_range(ub, PD_MX_USER_BLOCK, j->c->n, &lo, &hi);
  /* off[r] (r in this block) counts, then is r's fill cursor, and ends as
   * the end of r's run; the caller shifts it to off[r + 1]. Each block
   * clears its own counters: on the block's thread, not in one memset of
   * fresh memory beforehand. */
  memset(off + lo, 0, (size_t)(hi - lo) * sizeof *off);
  for (size_t b = 0; b < j->neb; b++) {
    const uint32_t *seg = j->seg + b * (j->nub + 1);
    const uint16_t *u = j->uloc + b * PD_MX_EVENT_BLOCK;
    for (uint32_t k = seg[ub]; k < seg[ub + 1]; k++) off[lo + u[k]]++;
  }
  uint32_t run = (uint32_t)j->ubstart[ub];
  for (uint32_t r = lo; r < hi; r++) {
    uint32_t n = off[r];
    off[r] = run;
    run += n;
  }
  for (size_t b = 0; b < j->neb; b++) {
    const uint32_t *seg = j->seg + b * (j->nub + 1);
    const uint16_t *u = j->uloc + b * PD_MX_EVENT_BLOCK;
    const uint64_t *v = j->stage + b * PD_MX_EVENT_BLOCK;
    for (uint32_t k = seg[ub]; k < seg[ub + 1]; k++)
      key[off[lo + u[k]]++] = v[k];
  }
  const uint64_t *eid = j->s->col[j->kind].eid;
  uint32_t start = (uint32_t)j->ubstart[ub];
  for (uint32_t r = lo; r < hi; r++) {
    size_t n = off[r] - start;
    if (n > 1) pd_mb_sort_keys(eid, key + start, n);
    start = off[r];
  }
}

static void csr_job_free(const pd_allocator *a, csr_job *j) {
  pd_free(a, j->seg);
  pd_free(a, j->scratch_key);
  pd_free(a, j->scratch_root);
  pd_free(a, j->cursor);
  pd_free(a, j->stage);
  pd_free(a, j->uloc);
  pd_free(a, j->ubstart);
}

pd_status pd_mb_csr_build(pd_mb_ctx *c, int kind, uint32_t upto,
                          const pd_mb_touch_tags *tags, pd_mb_csr *out) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  csr_job j;
  memset(&j, 0, sizeof j);
  j.c = c;
  j.s = s;
  j.kind = kind;
  j.upto = upto; /* erased events have time PD_ST_ERASED > upto */
  j.ne = s->col[kind].n;
  j.tags = kind == PD_EV_TOUCH ? tags : NULL;
  j.rec = s->col[kind].rec;
  j.rs = s->col[kind].rec_size;
  j.uo = user_offset(kind);
  j.to = time_offset(kind);
  j.nub = pd_mx_blocks(c->n, PD_MX_USER_BLOCK);
  j.neb = pd_mx_blocks(j.ne, PD_MX_EVENT_BLOCK);
  j.out = out;
  out->key = NULL;
  out->off = NULL;
  /* A worker's scratch holds a whole block, or a short column. */
  size_t per = j.per = j.ne < PD_MX_EVENT_BLOCK ? j.ne : PD_MX_EVENT_BLOCK;
  /* No more workers run than there are blocks. */
  size_t threads = (size_t)pd_parallel_workers(c->threads, j.neb);
  j.seg = pd_malloc(a, (j.neb * (j.nub + 1) + 1) * sizeof *j.seg);
  j.scratch_key = pd_malloc(a, (threads * per + 1) * sizeof *j.scratch_key);
  j.scratch_root = pd_malloc(a, (threads * per + 1) * sizeof *j.scratch_root);
  j.cursor = pd_malloc(a, (threads * j.nub + 1) * sizeof *j.cursor);
  j.stage = pd_malloc(a, ((size_t)j.ne + 1) * sizeof *j.stage);
  j.uloc = pd_malloc(a, ((size_t)j.ne + 1) * sizeof *j.uloc);
  j.ubstart = pd_malloc(a, (j.nub + 1) * sizeof *j.ubstart);
  if (!j.seg || !j.scratch_key || !j.scratch_root || !j.cursor || !j.stage ||
      !j.uloc || !j.ubstart)
    goto nomem;
  pd_parallel_for_workers(c->threads, j.neb, csr_slice_block, &j);
  pd_free(a, j.scratch_key);
  pd_free(a, j.scratch_root);
  pd_free(a, j.cursor);
  j.scratch_key = NULL;
  j.scratch_root = NULL;
  j.cursor = NULL;
  size_t kept = 0;
  for (size_t ub = 0; ub < j.nub; ub++) {
    j.ubstart[ub] = kept;
    for (size_t b = 0; b < j.neb; b++)
      kept += j.seg[b * (j.nub + 1) + ub + 1] - j.seg[b * (j.nub + 1) + ub];
  }
  j.ubstart[j.nub] = kept;
  out->off = pd_malloc(a, ((size_t)c->n + 1) * sizeof *out->off);
  out->key = pd_malloc(a, (kept + 1) * sizeof *out->key);
  if (!out->off || !out->key) goto nomem;
  pd_parallel_for(c->threads, j.nub, csr_user_block, &j);
  for (uint32_t r = c->n; r > 0; r--) out->off[r] = out->off[r - 1];
  out->off[0] = 0;
  csr_job_free(a, &j);
  return PD_OK;
nomem:
  csr_job_free(a, &j);
  pd_free(a, out->off);
  pd_free(a, out->key);
  out->off = NULL;
  out->key = NULL;
  return pd_mb_nomem(c);
}

void pd_mb_csr_free(pd_mb_ctx *c, pd_mb_csr *csr) {
  pd_free(&c->s->alloc, csr->off);
  pd_free(&c->s->alloc, csr->key);
  csr->off = NULL;
  csr->key = NULL;
}

/* ---- refunds as of a time --------------------------------------------- */

pd_status pd_mb_refunds_at(pd_mb_ctx *c, uint32_t as_of, int64_t **out) {
  pd_store *s = c->s;
  const pd_st_refund *rf = pd_st_refunds(s);
  uint32_t nr = s->col[PD_EV_REFUND].n;
  int later = 0;
  for (uint32_t i = 0; i < nr && !later; i++)
    later = rf[i].time != PD_ST_ERASED && rf[i].time > as_of;
  *out = NULL;
  if (!later) return PD_OK;
  int64_t *r = pd_calloc(&s->alloc, (size_t)s->col[PD_EV_ORDER].n + 1,
                         sizeof *r);
  if (!r) return pd_mb_nomem(c);
  for (uint32_t i = 0; i < nr; i++)
    if (rf[i].time <= as_of) r[rf[i].order] += rf[i].amount;
  *out = r;
  return PD_OK;
}

/* ---- link spells ------------------------------------------------------- */

#define UNLINK_BIT 0x80000000u

typedef struct ref_view {
  const pd_store *s;
} ref_view;

static void ref_key(const pd_store *s, uint32_t r, uint32_t *ch, uint32_t *t,
                    uint64_t *e) {
  uint32_t i = r & ~UNLINK_BIT;
  if (r & UNLINK_BIT) {
    *ch = pd_st_unlinks(s)[i].channel;
    *t = pd_st_unlinks(s)[i].time;
    *e = s->col[PD_EV_UNLINK].eid[i];
  } else {
    *ch = pd_st_links(s)[i].channel;
    *t = pd_st_links(s)[i].time;
    *e = s->col[PD_EV_LINK].eid[i];
  }
}

/* The order pd_user_link_state() replays in: channel, time, link before
 * unlink, event id. */
static int ref_cmp(const void *ctx, uint32_t a, uint32_t b) {
  const pd_store *s = ((const ref_view *)ctx)->s;
  uint32_t ca, ta, cb, tb;
  uint64_t ea, eb;
  ref_key(s, a, &ca, &ta, &ea);
  ref_key(s, b, &cb, &tb, &eb);
  if (ca != cb) return ca < cb ? -1 : 1;
  if (ta != tb) return ta < tb ? -1 : 1;
  uint32_t ua = a & UNLINK_BIT, ub = b & UNLINK_BIT;
  if (ua != ub) return ua ? 1 : -1;
  return (ea > eb) - (ea < eb);
}

/* Most users have a handful of links and unlinks: their refs are sorted
 * by insertion on keys read once each, instead of a comparison that reads
 * two records (random accesses) every time. */
#define SMALL_REFS 32

/* ref_cmp's order up to the event id, in one integer: channel, time,
 * link before unlink. */
static uint64_t ref_order_key(const pd_store *s, uint32_t r) {
  uint32_t ch, t;
  uint64_t e;
  ref_key(s, r, &ch, &t, &e);
  return (uint64_t)ch << 33 | (uint64_t)t << 1 | (r & UNLINK_BIT ? 1 : 0);
}

static void sort_few_refs(const pd_store *s, uint32_t *v, size_t n,
                          const ref_view *view) {
  uint64_t key[SMALL_REFS];
  for (size_t k = 0; k < n; k++) key[k] = ref_order_key(s, v[k]);
  for (size_t i = 1; i < n; i++) {
    uint64_t kx = key[i];
    uint32_t x = v[i];
    size_t j = i;
    while (j > 0 && (key[j - 1] > kx ||
                     (key[j - 1] == kx && ref_cmp(view, v[j - 1], x) > 0))) {
      key[j] = key[j - 1];
      v[j] = v[j - 1];
      j--;
    }
    key[j] = kx;
    v[j] = x;
  }
}

pd_status pd_mb_spells_of(pd_mb_ctx *c, const pd_mb_csr *links,
                          const pd_mb_csr *unlinks, uint32_t root,
                          int32_t channel, pd_mb_spells *sp) {
  pd_store *s = c->s;
  sp->n = 0;
  size_t nl = links->off[root + 1] - links->off[root];
  size_t nu = unlinks->off[root + 1] - unlinks->off[root];
  if (nl == 0) return PD_OK;
  size_t need = 2 * (nl + nu);
  if (need > sp->refs_cap &&
      pd_grow(&s->alloc, (void **)&sp->refs, &sp->refs_cap, need,
              sizeof *sp->refs) != 0)
    return pd_mb_nomem(c);
  size_t n = 0;
  for (size_t k = 0; k < nl; k++) {
    uint32_t i = pd_mb_key_index(links->key[links->off[root] + k]);
    if (channel == 0 || pd_st_links(s)[i].channel == (uint32_t)channel)
      sp->refs[n++] = i;
  }
  if (n == 0) return PD_OK;
  for (size_t k = 0; k < nu; k++) {
    uint32_t i = pd_mb_key_index(unlinks->key[unlinks->off[root] + k]);
    if (channel == 0 || pd_st_unlinks(s)[i].channel == (uint32_t)channel)
      sp->refs[n++] = i | UNLINK_BIT;
  }
  ref_view view = {s};
  if (n <= SMALL_REFS)
    sort_few_refs(s, sp->refs, n, &view);
  else
    pd_st_sort_u32(sp->refs, n, sp->refs + n, ref_cmp, &view);
  /* At most one spell per link event. */
  if (n > sp->cap &&
      pd_grow(&s->alloc, (void **)&sp->v, &sp->cap, n, sizeof *sp->v) != 0)
    return pd_mb_nomem(c);
  uint32_t cur_ch = UINT32_MAX;
  int open = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t r = sp->refs[k], ch, t;
    uint64_t e;
    ref_key(s, r, &ch, &t, &e);
    if (ch != cur_ch) {
      cur_ch = ch;
      open = 0;
    }
    if (r & UNLINK_BIT) {
      if (!open) continue; /* an unlink without a link: no effect */
      pd_mb_spell *p = &sp->v[sp->n - 1];
      p->end = t;
      p->initiator = pd_st_unlinks(s)[r & ~UNLINK_BIT].initiator;
      open = 0;
    } else if (!open) {
      pd_mb_spell *p = &sp->v[sp->n++];
      p->channel = ch;
      p->start = t;
      p->end = PD_ST_NIL;
      p->initiator = 0;
      open = 1;
    }
  }
  return PD_OK;
}

void pd_mb_spells_free(pd_mb_ctx *c, pd_mb_spells *sp) {
  pd_free(&c->s->alloc, sp->v);
  pd_free(&c->s->alloc, sp->refs);
  memset(sp, 0, sizeof *sp);
}

/* ---- groups ------------------------------------------------------------ */

int pd_mb_group_by_valid(int32_t by) {
  return by >= PD_BY_ALL && by <= PD_BY_COHORT_MONTH;
}

int64_t pd_mb_user_key(const pd_mb_ctx *c, int32_t by, uint32_t root) {
  const pd_store *s = c->s;
  uint32_t as_of = c->f.as_of;
  if (by == PD_BY_ALL) return 0;
  uint32_t fl = pd_mx_first_link(s, root, as_of);
  const pd_st_link *l = fl == PD_ST_NIL ? NULL : &pd_st_links(s)[fl];
  switch (by) {
    case PD_BY_CHANNEL: return l ? l->channel : 0;
    case PD_BY_SOURCE: return l ? l->source : 0;
    case PD_BY_GUIDE: return pd_mx_home_guide(s, root, as_of, fl);
    case PD_BY_SHOP:
      return pd_mx_home_shop(s, root, as_of,
                             pd_mx_home_guide(s, root, as_of, fl));
    case PD_BY_COHORT_DAY:
      return l ? pd_mb_cohort_start(PD_COHORT_DAY, l->time) : -1;
    case PD_BY_COHORT_WEEK:
      return l ? pd_mb_cohort_start(PD_COHORT_WEEK, l->time) : -1;
    default:
      return l ? pd_mb_cohort_start(PD_COHORT_MONTH, l->time) : -1;
  }
}

void pd_mb_groups_init(pd_mb_groups *g) {
  memset(g, 0, sizeof *g);
  pd_map64_init(&g->map);
}

void pd_mb_groups_free(pd_mb_ctx *c, pd_mb_groups *g) {
  pd_map64_free(&g->map, &c->s->alloc);
  pd_free(&c->s->alloc, g->keys);
  memset(g, 0, sizeof *g);
}

pd_status pd_mb_group(pd_mb_ctx *c, pd_mb_groups *g, int64_t key,
                      uint32_t *idx) {
  /* Map keys must not be 0: shift the int64 range by 2 (keys are times,
   * ids and -1, far from the ends of the range). */
  uint64_t mk = (uint64_t)key + 2u;
  uint64_t *v = pd_map64_get(&g->map, mk);
  if (v) {
    *idx = (uint32_t)*v;
    return PD_OK;
  }
  if (pd_grow(&c->s->alloc, (void **)&g->keys, &g->cap, g->n + 1,
              sizeof *g->keys) != 0 ||
      pd_map64_put(&g->map, &c->s->alloc, mk, g->n) != 0)
    return pd_mb_nomem(c);
  g->keys[g->n] = key;
  *idx = (uint32_t)g->n++;
  return PD_OK;
}

static int key_cmp(const void *ctx, uint32_t a, uint32_t b) {
  const int64_t *k = ctx;
  return (k[a] > k[b]) - (k[a] < k[b]);
}

uint32_t *pd_mb_groups_sorted(pd_mb_ctx *c, const pd_mb_groups *g) {
  uint32_t *v = pd_malloc(&c->s->alloc, (2 * g->n + 1) * sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < g->n; i++) v[i] = (uint32_t)i;
  pd_st_sort_u32(v, g->n, v + g->n, key_cmp, g->keys);
  return v;
}

/* ---- medians ----------------------------------------------------------- */

/* *p (capacity *cap) made to hold n items of elem bytes, exactly: 0, or
 * -1 with *p and *cap unchanged. */
static int grow_exact(const pd_allocator *a, void **p, size_t *cap, size_t n,
                      size_t elem) {
  if (n <= *cap) return 0;
  void *q = pd_realloc_array(a, *p, n, elem);
  if (!q) return -1;
  *p = q;
  *cap = n;
  return 0;
}

pd_status pd_mb_tagged_reserve(pd_mb_ctx *c, pd_mb_tagged *t, size_t more) {
  const pd_allocator *a = &c->s->alloc;
  if (more > SIZE_MAX - t->n) return pd_mb_nomem(c);
  size_t n = t->n + more;
  if (grow_exact(a, (void **)&t->tag, &t->tag_cap, n, sizeof *t->tag) != 0 ||
      grow_exact(a, (void **)&t->val, &t->val_cap, n, sizeof *t->val) != 0)
    return pd_mb_nomem(c);
  return PD_OK;
}

pd_status pd_mb_tagged_push(pd_mb_ctx *c, pd_mb_tagged *t, uint32_t tag,
                            double v) {
  if (pd_grow(&c->s->alloc, (void **)&t->tag, &t->tag_cap, t->n + 1,
              sizeof *t->tag) != 0 ||
      pd_grow(&c->s->alloc, (void **)&t->val, &t->val_cap, t->n + 1,
              sizeof *t->val) != 0)
    return pd_mb_nomem(c);
  t->tag[t->n] = tag;
  t->val[t->n++] = v;
  return PD_OK;
}

void pd_mb_tagged_free(pd_mb_ctx *c, pd_mb_tagged *t) {
  pd_free(&c->s->alloc, t->tag);
  pd_free(&c->s->alloc, t->val);
  memset(t, 0, sizeof *t);
}

/* Wirth's selection: afterwards v[k] is the k-th smallest, everything
 * before it is <= and everything after it >=. */
static double select_kth(double *v, size_t n, size_t k) {
  ptrdiff_t l = 0, r = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
  while (l < r) {
    double x = v[kk];
    ptrdiff_t i = l, j = r;
    do {
      while (v[i] < x) i++;
      while (x < v[j]) j--;
      if (i <= j) {
        double tmp = v[i];
        v[i] = v[j];
        v[j] = tmp;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < kk) l = i;
    if (kk < i) r = j;
  }
  return v[k];
}

double pd_mb_median(double *v, size_t n) {
  if (n == 0) return 0.0;
  double hi = select_kth(v, n, n / 2);
  if (n % 2) return hi;
  /* The lower middle is the largest value below position n/2. */
  double lo = v[0];
  for (size_t i = 1; i < n / 2; i++)
    if (v[i] > lo) lo = v[i];
  return (lo + hi) / 2;
}

pd_status pd_mb_tagged_stats(pd_mb_ctx *c, pd_mb_tagged *t, size_t groups,
                             double *median, double *mean) {
  const pd_allocator *a = &c->s->alloc;
  size_t *off = pd_calloc(a, groups + 1, sizeof *off);
  double *byg = pd_malloc(a, (t->n + 1) * sizeof *byg);
  if (!off || !byg) {
    pd_free(a, off);
    pd_free(a, byg);
    return pd_mb_nomem(c);
  }
  for (size_t i = 0; i < t->n; i++) off[t->tag[i] + 1]++;
  for (size_t g = 0; g < groups; g++) off[g + 1] += off[g];
  for (size_t i = 0; i < t->n; i++) byg[off[t->tag[i]]++] = t->val[i];
  for (size_t g = groups; g > 0; g--) off[g] = off[g - 1];
  off[0] = 0;
  for (size_t g = 0; g < groups; g++) {
    size_t n = off[g + 1] - off[g];
    double sum = 0;
    for (size_t i = off[g]; i < off[g + 1]; i++) sum += byg[i];
    mean[g] = n ? sum / (double)n : 0.0;
    median[g] = pd_mb_median(byg + off[g], n);
  }
  pd_free(a, off);
  pd_free(a, byg);
  return PD_OK;
}

/* ---- cohorts ------------------------------------------------------------ */

/* Days since the epoch -> (year, month) and back, proleptic Gregorian
 * (Howard Hinnant's civil calendar algorithms). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t pd_mb_cohort_start(int32_t unit, int64_t t) {
  int64_t days = t / 86400; /* t >= 0 */
  if (unit == PD_COHORT_DAY) return days * 86400;
  if (unit == PD_COHORT_WEEK) {
    /* 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) % 7. */
    return (days - (days + 3) % 7) * 86400;
  }
  int64_t y, m;
  civil_from_days(days, &y, &m);
  return days_from_civil(y, m, 1) * 86400;
}

pd_status pd_cohort_start(int32_t unit, int64_t t, int64_t *out) {
  if (out == NULL || unit < PD_COHORT_DAY || unit > PD_COHORT_MONTH)
    return PD_E_INVALID;
  if (t < PD_TIME_MIN || t > PD_TIME_MAX) return PD_E_RANGE;
  *out = pd_mb_cohort_start(unit, t);
  return PD_OK;
}
