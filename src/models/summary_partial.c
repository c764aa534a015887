/* Customer-summary partials (include/privdomain/summary_partial.h): the
 * per-customer runs of purchase days a summary is made of, merged across
 * partitions, serialised, and finished into rows. */
#include <privdomain/summary_partial.h>

#include <string.h>

#include "core/alloc.h"
#include "core/bytes.h"
#include "core/envelope.h"
#include "core/exact_sum.h"
#include "core/le_bytes.h"
#include "summary_impl.h"
#include "summary_internal.h"

/* Envelope kind of a customer-summary partial (kinds 1..15 are this
 * module's; docs/FORMAT.md). */
#define PARTIAL_KIND 1
/* Layout number inside the payload; a reader refuses others. */
#define PARTIAL_LAYOUT 1
#define NONE UINT32_MAX
#define CAL 0
#define HOLD 1

/* A run of purchase days of one customer in one period, as loaded. */
typedef struct run {
  int32_t first, last; /* days since 1970-01-01 */
  uint32_t days;       /* distinct purchase days in [first, last] */
  uint32_t next;       /* next run of this customer and period, or NONE */
  size_t first_spend, total; /* xnum offsets in the pool (calibration) */
} run;

struct pd_summary_partials {
  int64_t calibration_end, observation_end;
  uint32_t *head[2]; /* per customer: first run per period, or NONE */
  size_t heads_n, head_cap[2];
  run *runs;
  size_t nruns, runs_cap;
  uint32_t *pool; /* exact sums (core/exact_sum.h xnums) */
  size_t npool, pool_cap;
};

/* A run while merging: spends point at xnums wherever they live. */
typedef struct wrun {
  int32_t first, last;
  uint32_t days;
  const uint32_t *fs, *tot; /* NULL for holdout runs */
} wrun;

struct pd_summary_scratch {
  pd_xacc fs, tot, sum, own_first, own_rest, a, b;
  uint32_t own_fs[PD_XNUM_MAX_WORDS], own_tot[PD_XNUM_MAX_WORDS];
  uint32_t first_fs[PD_XNUM_MAX_WORDS], tmp[PD_XNUM_MAX_WORDS];
  wrun *w;
  size_t w_cap;
};

pd_summary_scratch *pd_summary_scratch_new(pd_summary *s) {
  pd_summary_scratch *w = pd_calloc(&s->alloc, 1, sizeof *w);
  if (!w) return NULL;
  pd_xacc_init(&w->fs);
  pd_xacc_init(&w->tot);
  pd_xacc_init(&w->sum);
  pd_xacc_init(&w->own_first);
  pd_xacc_init(&w->own_rest);
  pd_xacc_init(&w->a);
  pd_xacc_init(&w->b);
  return w;
}

void pd_summary_scratch_free(pd_summary *s, pd_summary_scratch *w) {
  if (!w) return;
  pd_free(&s->alloc, w->w);
  pd_free(&s->alloc, w);
}

void pd_summary_partials_free(pd_summary *s) {
  pd_summary_partials *p = s->partials;
  if (!p) return;
  pd_free(&s->alloc, p->head[CAL]);
  pd_free(&s->alloc, p->head[HOLD]);
  pd_free(&s->alloc, p->runs);
  pd_free(&s->alloc, p->pool);
  pd_free(&s->alloc, p);
  s->partials = NULL;
}

static int64_t day_of(int64_t t) { return t / PD_SECONDS_PER_DAY; }

pd_status pd_summary_partials_check_ends(pd_summary *s,
                                         const pd_summary_spec *spec) {
  const pd_summary_partials *p = s->partials;
  if (p && (p->calibration_end != spec->calibration_end ||
            p->observation_end != spec->observation_end))
    return pd_summary_set_error(
        s, PD_E_CONFLICT,
        "partials were loaded for calibration_end %lld and "
        "observation_end %lld; compute with those ends",
        (long long)p->calibration_end, (long long)p->observation_end);
  return PD_OK;
}

static uint32_t head_of(const pd_summary_partials *p, int period,
                        uint32_t cid) {
  return p && cid < p->heads_n ? p->head[period][cid] : NONE;
}

int pd_summary_partials_has_calibration(const pd_summary *s, uint32_t cid) {
  return head_of(s->partials, CAL, cid) != NONE;
}

/* ---- one customer's runs ---- */

/* The customer's own runs from purchases p[0, n) (sorted): at most one
 * calibration run (spends in w->own_first / w->own_rest) and one holdout
 * run. */
static void own_runs(pd_summary_scratch *w, const pd_purchase *p, size_t n,
                     const pd_summary_spec *spec, wrun *cal, int *has_cal,
                     wrun *hold, int *has_hold) {
  pd_xacc_clear(&w->own_first);
  pd_xacc_clear(&w->own_rest);
  size_t i = 0;
  *has_cal = *has_hold = 0;
  if (n && p[0].time <= spec->calibration_end) {
    int64_t first = day_of(p[0].time), day = first;
    uint32_t days = 1;
    for (; i < n && p[i].time <= spec->calibration_end; i++) {
      int64_t d = day_of(p[i].time);
      if (d != day) {
        days++;
        day = d;
      }
      pd_xacc_add(d == first ? &w->own_first : &w->own_rest, p[i].amount);
    }
    cal->first = (int32_t)first;
    cal->last = (int32_t)day;
    cal->days = days;
    cal->fs = cal->tot = NULL;
    *has_cal = 1;
  }
  if (spec->observation_end == PD_SUMMARY_NO_HOLDOUT || i >= n) return;
  int64_t first = day_of(p[i].time), day = first;
  uint32_t days = 1;
  for (; i < n && p[i].time <= spec->observation_end; i++) {
    int64_t d = day_of(p[i].time);
    if (d != day) {
      days++;
      day = d;
    }
  }
  hold->first = (int32_t)first;
  hold->last = (int32_t)day;
  hold->days = days;
  hold->fs = hold->tot = NULL;
  *has_hold = 1;
}

/* Stores the own calibration run's spends as xnums, for merging. */
static void own_spends(pd_summary_scratch *w, wrun *cal) {
  pd_xacc_store(&w->own_first, w->own_fs);
  pd_xacc_clear(&w->a);
  pd_xacc_add_acc(&w->a, &w->own_first);
  pd_xacc_add_acc(&w->a, &w->own_rest);
  pd_xacc_store(&w->a, w->own_tot);
  cal->fs = w->own_fs;
  cal->tot = w->own_tot;
}

static int wrun_before(const wrun *a, const wrun *b) {
  return a->first != b->first ? a->first < b->first : a->last < b->last;
}

static void sort_wruns(wrun *r, size_t n) {
  for (size_t i = 1; i < n; i++) {
    wrun v = r[i];
    size_t j = i;
    while (j > 0 && wrun_before(&v, &r[j - 1])) {
      r[j] = r[j - 1];
      j--;
    }
    r[j] = v;
  }
}

/* Receives the merged runs of a customer in day order; cur's spends are
 * in w->fs and w->tot (calibration). Returns 0 or -1 (out of memory). */
typedef int (*emit_fn)(void *ctx, pd_summary_scratch *w, const wrun *cur);

/* Merges runs r[0, n) of one customer and period by the merge rule
 * (summary_partial.h): runs sharing one end day are joined, the day
 * counted once and its spends added. Returns 0, 1 (conflict) or -1 (out
 * of memory from emit). */
static int coalesce(pd_summary_scratch *w, wrun *r, size_t n, int spends,
                    emit_fn emit, void *ctx) {
  if (n == 0) return 0;
  sort_wruns(r, n);
  wrun cur = r[0];
  if (spends) {
    pd_xacc_clear(&w->fs);
    pd_xacc_clear(&w->tot);
    pd_xacc_add_xnum(&w->fs, r[0].fs);
    pd_xacc_add_xnum(&w->tot, r[0].tot);
  }
  for (size_t i = 1; i < n; i++) {
    if (r[i].first > cur.last) {
      if (emit(ctx, w, &cur) != 0) return -1;
      cur = r[i];
      if (spends) {
        pd_xacc_clear(&w->fs);
        pd_xacc_clear(&w->tot);
        pd_xacc_add_xnum(&w->fs, r[i].fs);
        pd_xacc_add_xnum(&w->tot, r[i].tot);
      }
    } else if (r[i].first == cur.last) {
      if (spends) {
        if (r[i].first == cur.first) pd_xacc_add_xnum(&w->fs, r[i].fs);
        pd_xacc_add_xnum(&w->tot, r[i].tot);
      }
      cur.last = r[i].last;
      cur.days += r[i].days - 1;
    } else {
      return 1;
    }
  }
  return emit(ctx, w, &cur) != 0 ? -1 : 0;
}

/* Makes room for n working runs. */
static int wruns_room(pd_summary *s, pd_summary_scratch *w, size_t n) {
  return pd_grow(&s->alloc, (void **)&w->w, &w->w_cap, n, sizeof *w->w);
}

/* Appends the loaded runs of a customer and period to w->w from k on;
 * returns the new count. */
static size_t gather_loaded(const pd_summary_partials *p, pd_summary_scratch *w,
                            int period, uint32_t cid, size_t k) {
  for (uint32_t i = head_of(p, period, cid); i != NONE; i = p->runs[i].next) {
    const run *q = &p->runs[i];
    wrun *o = &w->w[k++];
    o->first = q->first;
    o->last = q->last;
    o->days = q->days;
    o->fs = period == CAL ? p->pool + q->first_spend : NULL;
    o->tot = period == CAL ? p->pool + q->total : NULL;
  }
  return k;
}

static size_t count_loaded(const pd_summary_partials *p, int period,
                           uint32_t cid) {
  size_t k = 0;
  for (uint32_t i = head_of(p, period, cid); i != NONE; i = p->runs[i].next)
    k++;
  return k;
}

static pd_status conflict(pd_summary *s, uint32_t cid, const char *where) {
  size_t len;
  const char *id = pd_customer_ids_str(&s->ids, cid, &len);
  return pd_summary_set_error(
      s, PD_E_CONFLICT,
      "customer '%.64s': %s overlap in more than one shared end day, so "
      "they cannot be merged exactly (partition by customer, by time, or "
      "in chunks of a file sorted by customer then time)",
      id, where);
}

/* Gathers a customer's own and loaded runs of one period into w->w and
 * merges them into emit. Returns PD_OK or an error with message. */
static pd_status merge_customer(pd_summary *s, pd_summary_scratch *w,
                                uint32_t cid, int period, const wrun *own,
                                int has_own, emit_fn emit, void *ctx) {
  const pd_summary_partials *p = s->partials;
  size_t n = count_loaded(p, period, cid) + (has_own ? 1 : 0);
  if (wruns_room(s, w, n) != 0)
    return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  size_t k = 0;
  if (has_own) w->w[k++] = *own;
  k = gather_loaded(p, w, period, cid, k);
  int rc = coalesce(w, w->w, k, period == CAL, emit, ctx);
  if (rc < 0) return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  if (rc > 0)
    return conflict(s, cid,
                    period == CAL
                        ? "calibration purchases of two pieces"
                        : "holdout purchases of two pieces");
  return PD_OK;
}

/* Finishing a customer: the merged runs folded into its row. */
typedef struct finish {
  size_t runs;
  int32_t first, last;
  uint64_t days;
} finish;

static int finish_emit(void *ctx, pd_summary_scratch *w, const wrun *cur) {
  finish *f = ctx;
  if (f->runs++ == 0) {
    f->first = cur->first;
    pd_xacc_store(&w->fs, w->first_fs);
  }
  pd_xacc_add_acc(&w->sum, &w->tot);
  f->last = cur->last;
  f->days += cur->days;
  return 0;
}

static int finish_hold_emit(void *ctx, pd_summary_scratch *w,
                            const wrun *cur) {
  (void)w;
  finish *f = ctx;
  if (f->runs++ == 0) f->first = cur->first;
  f->last = cur->last;
  f->days += cur->days;
  return 0;
}

/* The convention of summary.h from a customer's runs: first purchase day,
 * last calibration day, distinct days, the exact repeat spend. */
static void write_row(const pd_summary_spec *spec, int32_t first,
                      int32_t last, uint64_t days, double repeat_spend,
                      int has_hold, int32_t hold_first, uint64_t hold_days,
                      double *x, double *t_x, double *T, double *monetary,
                      double *x_holdout) {
  double unit_days = spec->unit == PD_TIME_UNIT_WEEK ? 7.0 : 1.0;
  uint64_t repeats = days - 1;
  *x = (double)repeats;
  *t_x = (double)(last - first) / unit_days;
  *T = (double)(day_of(spec->calibration_end) - first) / unit_days;
  *monetary = repeats ? repeat_spend / (double)repeats : 0.0;
  if (x_holdout)
    *x_holdout = has_hold ? (double)(hold_days -
                                     (hold_first == last ? 1 : 0))
                          : 0.0;
}

int pd_summary_customer_row(pd_summary *s, pd_summary_scratch *w,
                            uint32_t cid, const pd_purchase *p, size_t n,
                            const pd_summary_spec *spec, double *x,
                            double *t_x, double *T, double *monetary,
                            double *x_holdout) {
  wrun cal, hold;
  int has_cal, has_hold;
  own_runs(w, p, n, spec, &cal, &has_cal, &hold, &has_hold);
  int loaded = head_of(s->partials, CAL, cid) != NONE ||
               head_of(s->partials, HOLD, cid) != NONE;
  if (!loaded) {
    if (!has_cal) return 0;
    write_row(spec, cal.first, cal.last, cal.days,
              pd_xacc_value(&w->own_rest), has_hold, hold.first, hold.days,
              x, t_x, T, monetary, x_holdout);
    return 1;
  }
  if (has_cal) own_spends(w, &cal);
  finish fc = {0, 0, 0, 0}, fh = {0, 0, 0, 0};
  pd_xacc_clear(&w->sum);
  pd_status st =
      merge_customer(s, w, cid, CAL, &cal, has_cal, finish_emit, &fc);
  if (st != PD_OK) return st;
  if (fc.runs == 0) return 0;
  if (spec->observation_end != PD_SUMMARY_NO_HOLDOUT) {
    st = merge_customer(s, w, cid, HOLD, &hold, has_hold, finish_hold_emit,
                        &fh);
    if (st != PD_OK) return st;
  }
  pd_xacc_sub_xnum(&w->sum, w->first_fs);
  write_row(spec, fc.first, fc.last, fc.days, pd_xacc_value(&w->sum),
            fh.runs > 0, fh.first, fh.days, x, t_x, T, monetary, x_holdout);
  return 1;
}

/* ---- the serialised form ----
 *
 * payload (docs/FORMAT.md, "Serialised aggregates"):
 *   u32 layout (1)
 *   i64 calibration_end, i64 observation_end (-1: no holdout)
 *   u64 customers
 *   per customer:
 *     u32 id length, id bytes
 *     u32 calibration runs; each: i32 first day, i32 last day, u32 days,
 *         xnum first-day spend, xnum total spend
 *     u32 holdout runs; each: i32 first day, i32 last day, u32 days
 *   xnum: u8 lowest digit, u8 digits, then the u32 digits (exact_sum.h)
 */

static void put_xacc(pd_obuf *b, pd_xacc *a, uint32_t *tmp) {
  size_t words = pd_xacc_store(a, tmp);
  pd_put8(b, (uint8_t)(tmp[0] & 0xff));
  pd_put8(b, (uint8_t)(tmp[0] >> 8));
  for (size_t i = 1; i < words; i++) pd_put32(b, tmp[i]);
}

typedef struct writer {
  pd_obuf *b;
  uint32_t runs;
  int spends;
} writer;

static int write_emit(void *ctx, pd_summary_scratch *w, const wrun *cur) {
  writer *o = ctx;
  pd_put32(o->b, (uint32_t)cur->first);
  pd_put32(o->b, (uint32_t)cur->last);
  pd_put32(o->b, cur->days);
  if (o->spends) {
    put_xacc(o->b, &w->fs, w->tmp);
    put_xacc(o->b, &w->tot, w->tmp);
  }
  o->runs++;
  return o->b->failed ? -1 : 0;
}

/* Writes one period's merged runs with their count in front. */
static pd_status write_period(pd_summary *s, pd_summary_scratch *w,
                              pd_obuf *b, uint32_t cid, int period,
                              const wrun *own, int has_own) {
  size_t at = b->len;
  pd_put32(b, 0);
  writer o = {b, 0, period == CAL};
  pd_status st = merge_customer(s, w, cid, period, own, has_own, write_emit,
                                &o);
  if (st != PD_OK) return st;
  if (b->failed) return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  pd_le32(b->p + at, o.runs);
  return PD_OK;
}

pd_status pd_summary_partial_save(pd_summary *s, const pd_summary_spec *spec,
                                  pd_bytes **out) {
  if (!pd_summary_is_valid(s)) return PD_E_MISUSE;
  if (!out)
    return pd_summary_set_error(s, PD_E_INVALID, "out must not be NULL");
  pd_status st = pd_summary_check_spec(s, spec);
  if (st != PD_OK) return st;
  st = pd_summary_partials_check_ends(s, spec);
  if (st != PD_OK) return st;
  int holdout = spec->observation_end != PD_SUMMARY_NO_HOLDOUT;
  size_t *start;
  pd_purchase *p;
  if (pd_summary_group(s, holdout ? spec->observation_end
                                  : spec->calibration_end,
                       &start, &p) != 0)
    return PD_E_NOMEM;
  pd_summary_scratch *w = pd_summary_scratch_new(s);
  pd_obuf b = {&s->alloc, NULL, 0, 0, 0};
  if (!w) {
    st = pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
    goto done;
  }
  size_t env = pd_envelope_open(&b, PARTIAL_KIND);
  pd_put32(&b, PARTIAL_LAYOUT);
  pd_put64(&b, (uint64_t)spec->calibration_end);
  pd_put64(&b, (uint64_t)spec->observation_end);
  size_t count_at = b.len;
  pd_put64(&b, 0);
  uint64_t customers = 0;
  for (size_t c = 0; c < s->ids.count && !b.failed; c++) {
    uint32_t cid = (uint32_t)c;
    wrun cal, hold;
    int has_cal, has_hold;
    own_runs(w, p + start[c], start[c + 1] - start[c], spec, &cal, &has_cal,
             &hold, &has_hold);
    if (!has_cal && !has_hold && head_of(s->partials, CAL, cid) == NONE &&
        head_of(s->partials, HOLD, cid) == NONE)
      continue;
    if (has_cal) own_spends(w, &cal);
    size_t len;
    const char *id = pd_customer_ids_str(&s->ids, cid, &len);
    pd_put32(&b, (uint32_t)len);
    pd_putbytes(&b, id, len);
    st = write_period(s, w, &b, cid, CAL, &cal, has_cal);
    if (st == PD_OK) st = write_period(s, w, &b, cid, HOLD, &hold, has_hold);
    if (st != PD_OK) goto done;
    customers++;
  }
  if (!b.failed) pd_le64(b.p + count_at, customers);
  pd_envelope_close(&b, env);
  if (b.failed || pd_bytes_take(&b, out) != 0) {
    st = pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
    goto done;
  }
  pd_err_clear(&s->err);
  st = PD_OK;
done:
  pd_free(&s->alloc, b.p);
  pd_summary_scratch_free(s, w);
  pd_free(&s->alloc, p);
  pd_free(&s->alloc, start);
  return st;
}

/* ---- reading ---- */

typedef struct header {
  int64_t calibration_end, observation_end;
  uint64_t customers;
  int32_t cal_day, obs_day;
} header;

/* Opens the envelope and reads the header. Returns PD_OK, PD_E_CORRUPT or
 * PD_E_VERSION with `why` set. */
static pd_status open_partial(const void *data, size_t len, pd_ibuf *in,
                              header *h, const char **why) {
  pd_envelope_check c = pd_envelope_read(data, len, PARTIAL_KIND, in);
  if (c != PD_ENVELOPE_OK) {
    *why = pd_envelope_check_text(c);
    return c == PD_ENVELOPE_NEWER ? PD_E_VERSION : PD_E_CORRUPT;
  }
  uint32_t layout = pd_get32(in);
  h->calibration_end = (int64_t)pd_get64(in);
  h->observation_end = (int64_t)pd_get64(in);
  h->customers = pd_get64(in);
  if (in->bad) {
    *why = "header cut short";
    return PD_E_CORRUPT;
  }
  if (layout != PARTIAL_LAYOUT) {
    *why = "unknown partial layout";
    return PD_E_VERSION;
  }
  if (h->calibration_end < 0 || h->calibration_end > PD_TIME_MAX ||
      (h->observation_end != PD_SUMMARY_NO_HOLDOUT &&
       (h->observation_end < h->calibration_end ||
        h->observation_end > PD_TIME_MAX))) {
    *why = "calibration or observation end out of range";
    return PD_E_CORRUPT;
  }
  /* Every customer takes at least 12 bytes. */
  if (h->customers > pd_ileft(in) / 12) {
    *why = "more customers than bytes";
    return PD_E_CORRUPT;
  }
  h->cal_day = (int32_t)day_of(h->calibration_end);
  h->obs_day = h->observation_end == PD_SUMMARY_NO_HOLDOUT
                   ? h->cal_day
                   : (int32_t)day_of(h->observation_end);
  return PD_OK;
}

/* Decoded xnums of the record being read. */
typedef struct words {
  uint32_t *w;
  size_t n, cap;
} words;

/* Reads an xnum into v (room reserved); 0 or -1 when malformed. */
static int get_xnum(pd_ibuf *in, uint32_t *v) {
  uint32_t lo = pd_get8(in), n = pd_get8(in);
  if (in->bad || lo + n > PD_XSUM_DIGITS) return -1;
  v[0] = lo | n << 8;
  for (uint32_t i = 0; i < n; i++) v[1 + i] = pd_get32(in);
  if (in->bad) return -1;
  if (n && (v[1] == 0 || v[n] == 0)) return -1; /* not canonical */
  /* Nothing finer than 2^-1074, the last bit of the smallest double. */
  if (n && lo == 0 && (v[1] & 0x3fffu)) return -1;
  return 0;
}

/* One customer record, checked: its runs are in r[0, ncal + nhold) with
 * spends in ws. */
typedef struct record {
  const char *id;
  size_t id_len;
  size_t ncal, nhold;
} record;

/* Reads and checks one customer record into w->w (runs) and ws (spends).
 * Returns NULL or a reason for refusing the bytes; *nomem is set when
 * memory ran out instead. */
static const char *read_record(const pd_allocator *a, pd_ibuf *in,
                               const header *h, pd_summary_scratch *w,
                               words *ws, record *rec, int *nomem) {
  *nomem = 0;
  uint32_t id_len = pd_get32(in);
  const unsigned char *id = pd_iget(in, id_len);
  if (in->bad) return "customer id cut short";
  rec->id = (const char *)id;
  rec->id_len = id_len;
  size_t k = 0;
  ws->n = 0;
  for (int period = CAL; period <= HOLD; period++) {
    uint32_t nr = pd_get32(in);
    size_t min_bytes = period == CAL ? 16 : 12;
    if (in->bad || nr > pd_ileft(in) / min_bytes) return "run count too large";
    if (period == HOLD && nr &&
        h->observation_end == PD_SUMMARY_NO_HOLDOUT)
      return "holdout runs in a partial without holdout";
    if (pd_grow(a, (void **)&w->w, &w->w_cap, k + nr, sizeof *w->w) != 0 ||
        (period == CAL &&
         pd_grow(a, (void **)&ws->w, &ws->cap,
                 ws->n + (size_t)nr * 2 * PD_XNUM_MAX_WORDS,
                 sizeof *ws->w) != 0)) {
      *nomem = 1;
      return "out of memory";
    }
    for (uint32_t i = 0; i < nr; i++) {
      wrun *r = &w->w[k++];
      r->first = (int32_t)pd_get32(in);
      r->last = (int32_t)pd_get32(in);
      r->days = pd_get32(in);
      r->fs = r->tot = NULL;
      if (in->bad) return "run cut short";
      int32_t lo = period == CAL ? 0 : h->cal_day;
      int32_t hi = period == CAL ? h->cal_day : h->obs_day;
      if (r->first < lo || r->last > hi || r->first > r->last)
        return "run outside its period";
      if (r->days == 0 ||
          (uint64_t)r->days > (uint64_t)(r->last - r->first) + 1 ||
          (r->first == r->last) != (r->days == 1))
        return "run with an impossible number of days";
      if (i > 0 && r->first <= w->w[k - 2].last)
        return "runs not in order or not merged";
      if (period == CAL) {
        uint32_t *fs = ws->w + ws->n;
        if (get_xnum(in, fs) != 0) return "malformed spend";
        ws->n += pd_xnum_words(fs);
        uint32_t *tot = ws->w + ws->n;
        if (get_xnum(in, tot) != 0) return "malformed spend";
        ws->n += pd_xnum_words(tot);
        pd_xacc_clear(&w->a);
        pd_xacc_clear(&w->b);
        pd_xacc_add_xnum(&w->a, fs);
        pd_xacc_add_xnum(&w->b, tot);
        int cmp = pd_xacc_cmp(&w->a, &w->b);
        if (cmp > 0 || (r->days == 1 && cmp != 0))
          return "first-day spend larger than the total";
      }
    }
    if (period == CAL)
      rec->ncal = nr;
    else
      rec->nhold = nr;
  }
  if (rec->ncal + rec->nhold == 0) return "customer without purchases";
  /* Spends now stay put: point the runs at them. */
  size_t at = 0;
  for (size_t i = 0; i < rec->ncal; i++) {
    w->w[i].fs = ws->w + at;
    at += pd_xnum_words(ws->w + at);
    w->w[i].tot = ws->w + at;
    at += pd_xnum_words(ws->w + at);
  }
  return NULL;
}

pd_status pd_summary_partial_customers(const void *data, size_t len,
                                       int64_t *calibration_end,
                                       int64_t *observation_end,
                                       size_t *out) {
  if ((!data && len > 0) || !out) return PD_E_INVALID;
  pd_ibuf in;
  header h;
  const char *why;
  pd_status st = open_partial(data, len, &in, &h, &why);
  if (st != PD_OK) return st;
  pd_allocator a;
  pd_alloc_init(&a, NULL);
  pd_summary_scratch *w = pd_calloc(&a, 1, sizeof *w);
  if (!w) return PD_E_NOMEM;
  pd_xacc_init(&w->a);
  pd_xacc_init(&w->b);
  words ws = {NULL, 0, 0};
  for (uint64_t c = 0; c < h.customers && st == PD_OK; c++) {
    record rec;
    int nomem;
    if (read_record(&a, &in, &h, w, &ws, &rec, &nomem))
      st = nomem ? PD_E_NOMEM : PD_E_CORRUPT;
  }
  if (st == PD_OK && pd_ileft(&in) != 0) st = PD_E_CORRUPT;
  pd_free(&a, ws.w);
  pd_free(&a, w->w);
  pd_free(&a, w);
  if (st != PD_OK) return st;
  if (calibration_end) *calibration_end = h.calibration_end;
  if (observation_end) *observation_end = h.observation_end;
  *out = (size_t)h.customers;
  return PD_OK;
}

/* ---- loading ---- */

/* What a load will change, built aside so that dst stays as it was until
 * everything has succeeded. */
typedef struct staged {
  run *runs; /* merged runs, grouped by (customer, period) */
  size_t nruns, runs_cap;
  uint32_t *pool;
  size_t npool, pool_cap;
  struct touch {
    uint32_t cid;
    int period;
    size_t first, count; /* in runs */
  } *touched;
  size_t ntouched, touched_cap;
  unsigned char *seen; /* per customer: already in this partial */
  size_t seen_len, seen_cap;
} staged;

typedef struct stage_ctx {
  const pd_allocator *a;
  staged *g;
  int spends;
} stage_ctx;

static int stage_xnum(const pd_allocator *a, staged *g, pd_xacc *x,
                      size_t *at) {
  if (pd_grow(a, (void **)&g->pool, &g->pool_cap,
              g->npool + PD_XNUM_MAX_WORDS, sizeof *g->pool) != 0)
    return -1;
  *at = g->npool;
  g->npool += pd_xacc_store(x, g->pool + g->npool);
  return 0;
}

static int stage_emit(void *ctx, pd_summary_scratch *w, const wrun *cur) {
  stage_ctx *c = ctx;
  staged *g = c->g;
  if (pd_grow(c->a, (void **)&g->runs, &g->runs_cap, g->nruns + 1,
              sizeof *g->runs) != 0)
    return -1;
  run r = {cur->first, cur->last, cur->days, NONE, 0, 0};
  if (c->spends && (stage_xnum(c->a, g, &w->fs, &r.first_spend) != 0 ||
                    stage_xnum(c->a, g, &w->tot, &r.total) != 0))
    return -1;
  g->runs[g->nruns++] = r;
  return 0;
}

static void staged_free(const pd_allocator *a, staged *g) {
  pd_free(a, g->runs);
  pd_free(a, g->pool);
  pd_free(a, g->touched);
  pd_free(a, g->seen);
}

/* Merges the record's incoming runs of one period (w->w[off, off + n))
 * with what dst holds for the customer, into g. */
static pd_status stage_period(pd_summary *s, pd_summary_scratch *w,
                              staged *g, uint32_t cid, int period,
                              size_t off, size_t n) {
  if (n == 0) return PD_OK;
  const pd_allocator *a = &s->alloc;
  const pd_summary_partials *p = s->partials;
  size_t have = count_loaded(p, period, cid);
  /* Incoming runs first at [0, n), the loaded ones after. */
  if (off != 0) memmove(w->w, w->w + off, n * sizeof *w->w);
  if (wruns_room(s, w, n + have) != 0 ||
      pd_grow(a, (void **)&g->touched, &g->touched_cap, g->ntouched + 1,
              sizeof *g->touched) != 0)
    return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  size_t k = gather_loaded(p, w, period, cid, n);
  size_t first = g->nruns;
  stage_ctx c = {a, g, period == CAL};
  int rc = coalesce(w, w->w, k, period == CAL, stage_emit, &c);
  if (rc < 0) return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  if (rc > 0)
    return conflict(s, cid,
                    period == CAL
                        ? "the partial's and the handle's calibration runs"
                        : "the partial's and the handle's holdout runs");
  struct touch *t = &g->touched[g->ntouched++];
  t->cid = cid;
  t->period = period;
  t->first = first;
  t->count = g->nruns - first;
  return PD_OK;
}

/* Makes dst's partial state ready to take g (allocations only). */
static int reserve(pd_summary *s, const staged *g, pd_summary_partials **made,
                   int64_t cal_end, int64_t obs_end) {
  const pd_allocator *a = &s->alloc;
  pd_summary_partials *p = s->partials;
  *made = NULL;
  if (!p) {
    p = pd_calloc(a, 1, sizeof *p);
    if (!p) return -1;
    p->calibration_end = cal_end;
    p->observation_end = obs_end;
    *made = p;
  }
  size_t n = s->ids.count;
  if (pd_grow(a, (void **)&p->head[CAL], &p->head_cap[CAL], n ? n : 1,
              sizeof(uint32_t)) != 0 ||
      pd_grow(a, (void **)&p->head[HOLD], &p->head_cap[HOLD], n ? n : 1,
              sizeof(uint32_t)) != 0 ||
      pd_grow(a, (void **)&p->runs, &p->runs_cap, p->nruns + g->nruns + 1,
              sizeof *p->runs) != 0 ||
      pd_grow(a, (void **)&p->pool, &p->pool_cap, p->npool + g->npool + 1,
              sizeof *p->pool) != 0) {
    if (*made) {
      pd_free(a, p->head[CAL]);
      pd_free(a, p->head[HOLD]);
      pd_free(a, p->runs);
      pd_free(a, p->pool);
      pd_free(a, p);
      *made = NULL;
    }
    return -1;
  }
  return 0;
}

/* Moves g into dst's state; cannot fail after reserve(). */
static void commit(pd_summary *s, pd_summary_partials *p, const staged *g) {
  s->partials = p;
  for (size_t c = p->heads_n; c < s->ids.count; c++)
    p->head[CAL][c] = p->head[HOLD][c] = NONE;
  if (s->ids.count > p->heads_n) p->heads_n = s->ids.count;
  size_t run0 = p->nruns, pool0 = p->npool;
  if (g->npool)
    memcpy(p->pool + pool0, g->pool, g->npool * sizeof *g->pool);
  p->npool += g->npool;
  for (size_t i = 0; i < g->nruns; i++) {
    run r = g->runs[i];
    r.first_spend += pool0;
    r.total += pool0;
    p->runs[run0 + i] = r;
  }
  p->nruns += g->nruns;
  /* Runs replaced here stay in the arrays unreferenced; a load never
   * needs more than the bytes it brought. */
  for (size_t i = 0; i < g->ntouched; i++) {
    const struct touch *t = &g->touched[i];
    uint32_t head = NONE;
    for (size_t j = t->count; j-- > 0;) {
      p->runs[run0 + t->first + j].next = head;
      head = (uint32_t)(run0 + t->first + j);
    }
    p->head[t->period][t->cid] = head;
  }
}

pd_status pd_summary_partial_load(pd_summary *s, const void *data,
                                  size_t len) {
  if (!pd_summary_is_valid(s)) return PD_E_MISUSE;
  if (!data && len > 0)
    return pd_summary_set_error(s, PD_E_INVALID, "data is NULL");
  pd_ibuf in;
  header h;
  const char *why;
  pd_status st = open_partial(data, len, &in, &h, &why);
  if (st != PD_OK)
    return pd_summary_set_error(s, st, "not a usable customer-summary "
                                "partial: %s", why);
  if (s->partials && (s->partials->calibration_end != h.calibration_end ||
                      s->partials->observation_end != h.observation_end))
    return pd_summary_set_error(
        s, PD_E_CONFLICT,
        "the partial is for calibration_end %lld, observation_end %lld; "
        "partials for %lld, %lld were loaded before",
        (long long)h.calibration_end, (long long)h.observation_end,
        (long long)s->partials->calibration_end,
        (long long)s->partials->observation_end);
  const pd_allocator *a = &s->alloc;
  pd_summary_scratch *w = pd_summary_scratch_new(s);
  if (!w) return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  staged g;
  memset(&g, 0, sizeof g);
  words ws = {NULL, 0, 0};
  pd_summary_mark mark;
  pd_summary_begin(s, &mark);
  st = PD_OK;
  for (uint64_t c = 0; c < h.customers && st == PD_OK; c++) {
    record rec;
    int nomem;
    const char *bad = read_record(a, &in, &h, w, &ws, &rec, &nomem);
    if (bad) {
      st = nomem ? pd_summary_set_error(s, PD_E_NOMEM, "out of memory")
                 : pd_summary_set_error(
                       s, PD_E_CORRUPT,
                       "customer-summary partial: customer %llu: %s",
                       (unsigned long long)c, bad);
      break;
    }
    uint32_t cid;
    int added;
    if (pd_customer_ids_add(&s->ids, a, rec.id, rec.id_len, &cid, &added) !=
        0) {
      st = s->ids.count >= PD_CUSTOMER_NONE - 1
               ? pd_summary_set_error(s, PD_E_FULL, "too many customers")
               : pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
      break;
    }
    (void)added;
    if (pd_grow(a, (void **)&g.seen, &g.seen_cap, (size_t)cid + 1, 1) != 0) {
      st = pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
      break;
    }
    if (g.seen_len <= cid) {
      memset(g.seen + g.seen_len, 0, (size_t)cid + 1 - g.seen_len);
      g.seen_len = (size_t)cid + 1;
    }
    if (g.seen[cid]) {
      st = pd_summary_set_error(s, PD_E_CORRUPT,
                                "customer-summary partial: customer %llu "
                                "appears twice", (unsigned long long)c);
      break;
    }
    g.seen[cid] = 1;
    /* Runs are staged per period; the calibration runs of the record sit
     * at w->w[0, ncal), the holdout runs after. Stage holdout first so
     * the calibration runs are not overwritten by the move. */
    size_t nc = rec.ncal, nh = rec.nhold;
    wrun *hold_copy = NULL;
    if (nh) {
      hold_copy = pd_realloc_array(a, NULL, nh, sizeof *hold_copy);
      if (!hold_copy) {
        st = pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
        break;
      }
      memcpy(hold_copy, w->w + nc, nh * sizeof *hold_copy);
    }
    st = stage_period(s, w, &g, cid, CAL, 0, nc);
    if (st == PD_OK && nh) {
      if (wruns_room(s, w, nh) != 0) {
        st = pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
      } else {
        memcpy(w->w, hold_copy, nh * sizeof *hold_copy);
        st = stage_period(s, w, &g, cid, HOLD, 0, nh);
      }
    }
    pd_free(a, hold_copy);
  }
  if (st == PD_OK && pd_ileft(&in) != 0)
    st = pd_summary_set_error(s, PD_E_CORRUPT,
                              "customer-summary partial: bytes after the "
                              "last customer");
  pd_summary_partials *made = NULL;
  if (st == PD_OK &&
      reserve(s, &g, &made, h.calibration_end, h.observation_end) != 0)
    st = pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  if (st == PD_OK) {
    commit(s, made ? made : s->partials, &g);
    pd_err_clear(&s->err);
  } else {
    pd_customer_ids_truncate(&s->ids, mark.customers);
  }
  pd_free(a, ws.w);
  staged_free(a, &g);
  pd_summary_scratch_free(s, w);
  return st;
}
