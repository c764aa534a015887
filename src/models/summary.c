/* Customer summaries (x, t_x, T, monetary value, x_holdout) from
 * transactions, by the lifetimes/BTYD convention in
 * include/privdomain/summary.h. */
#include <privdomain/summary.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/prefetch.h"
#include "customer_ids.h"
#include "summary_impl.h"
#include "summary_internal.h"

#define SUMMARY_MAGIC 0x5044534du /* "PDSM" */
/* Transactions are counted in doubles by the models; keep counts exact. */
#define MAX_TRANSACTIONS ((size_t)1 << 53)

typedef pd_summary_result result;

/* A struct from a newer caller may be larger; its unknown tail must be
 * zero so that no setting is silently ignored. */
static int struct_size_ok(const void *p, size_t given, size_t known) {
  if (given < known) return 0;
  const unsigned char *b = p;
  for (size_t i = known; i < given; i++)
    if (b[i]) return 0;
  return 1;
}

static int valid(const pd_summary *s) {
  return s && s->magic == SUMMARY_MAGIC;
}

int pd_summary_is_valid(const pd_summary *s) { return valid(s); }

const pd_allocator *pd_summary_allocator(pd_summary *s) { return &s->alloc; }

pd_status pd_summary_set_error(pd_summary *s, pd_status status,
                               const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->err.msg, sizeof s->err.msg, fmt, ap);
  va_end(ap);
  return status;
}

static void result_free(const pd_allocator *a, result *r) {
  pd_free(a, r->x);
  pd_free(a, r->t_x);
  pd_free(a, r->T);
  pd_free(a, r->monetary);
  pd_free(a, r->x_holdout);
  pd_free(a, r->weight);
  pd_free(a, r->customer);
  memset(r, 0, sizeof *r);
}

pd_status pd_summary_new(const pd_summary_options *opts, pd_summary **out) {
  if (!out) return PD_E_INVALID;
  pd_summary_options o = PD_SUMMARY_OPTIONS_INIT;
  if (opts) {
    if (!struct_size_ok(opts, opts->size, sizeof o)) return PD_E_INVALID;
    o.allocator = opts->allocator;
  }
  pd_allocator a;
  if (pd_alloc_init(&a, o.allocator) != 0) return PD_E_INVALID;
  pd_summary *s = pd_calloc(&a, 1, sizeof *s);
  if (!s) return PD_E_NOMEM;
  s->magic = SUMMARY_MAGIC;
  s->alloc = a;
  pd_customer_ids_init(&s->ids);
  *out = s;
  return PD_OK;
}

void pd_summary_free(pd_summary *s) {
  if (!valid(s)) return;
  pd_allocator a = s->alloc;
  pd_customer_ids_free(&s->ids, &a);
  pd_free(&a, s->tx_customer);
  pd_free(&a, s->tx_time);
  pd_free(&a, s->tx_amount);
  result_free(&a, &s->res);
  pd_summary_partials_free(s);
  s->magic = 0;
  pd_free(&a, s);
}

const char *pd_summary_errmsg(const pd_summary *s) {
  if (!valid(s)) return "not a valid pd_summary handle";
  return s->err.msg;
}

void pd_summary_begin(const pd_summary *s, pd_summary_mark *mark) {
  mark->transactions = s->n_tx;
  mark->customers = s->ids.count;
}

void pd_summary_rollback(pd_summary *s, const pd_summary_mark *mark) {
  s->n_tx = mark->transactions;
  pd_customer_ids_truncate(&s->ids, mark->customers);
}

/* pd_summary_add_one() with the id's hash key already computed. */
static pd_status add_keyed(pd_summary *s, uint64_t key, const char *id,
                           size_t len, int64_t time, double amount) {
  if (time < 0 || time > PD_TIME_MAX)
    return pd_summary_set_error(
        s, PD_E_RANGE,
        "time %lld is outside 1970-01-01 .. 2100-01-01 (seconds since the "
        "epoch expected)",
        (long long)time);
  if (!isfinite(amount) || amount < 0)
    return pd_summary_set_error(s, PD_E_RANGE,
                                "amount must be finite and >= 0");
  if (s->n_tx >= MAX_TRANSACTIONS)
    return pd_summary_set_error(s, PD_E_FULL, "too many transactions");
  size_t need = s->n_tx + 1;
  if (pd_grow(&s->alloc, (void **)&s->tx_customer, &s->cap_customer, need,
              sizeof *s->tx_customer) != 0 ||
      pd_grow(&s->alloc, (void **)&s->tx_time, &s->cap_time, need,
              sizeof *s->tx_time) != 0 ||
      pd_grow(&s->alloc, (void **)&s->tx_amount, &s->cap_amount, need,
              sizeof *s->tx_amount) != 0)
    return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  uint32_t cid;
  int added;
  if (pd_customer_ids_add_keyed(&s->ids, &s->alloc, key, id, len, &cid,
                                &added) != 0) {
    if (s->ids.count >= PD_CUSTOMER_NONE - 1)
      return pd_summary_set_error(s, PD_E_FULL, "too many customers");
    return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  }
  s->tx_customer[s->n_tx] = cid;
  s->tx_time[s->n_tx] = time;
  s->tx_amount[s->n_tx] = amount;
  s->n_tx++;
  return PD_OK;
}

pd_status pd_summary_add_one(pd_summary *s, const char *id, size_t len,
                             int64_t time, double amount) {
  return add_keyed(s, pd_customer_ids_key(id, len), id, len, time, amount);
}

/* Lookups of a batch are pipelined: the home slot of transaction
 * i + 2 LAG is fetched, then the text of a long id found there (i + LAG),
 * so that by transaction i both are in cache. Lookups themselves stay in
 * order, so ids are numbered exactly as one by one. */
#define LAG 16
#define RING 64 /* > 2 LAG, a power of two */

static size_t id_len(const char *const *ids, const size_t *id_lens,
                     size_t i) {
  return id_lens ? id_lens[i] : strlen(ids[i]);
}

pd_status pd_summary_add(pd_summary *s, const char *const *ids,
                         const size_t *id_lens, const int64_t *times,
                         const double *amounts, size_t n) {
  if (!valid(s)) return PD_E_MISUSE;
  if (n > 0 && (!ids || !times))
    return pd_summary_set_error(s, PD_E_INVALID,
                                "ids and times must not be NULL");
  pd_summary_mark mark;
  pd_summary_begin(s, &mark);
  uint64_t key[RING];
  for (size_t j = 0; j < n && j < 2 * LAG; j++)
    if (ids[j])
      key[j % RING] = pd_customer_ids_key(ids[j], id_len(ids, id_lens, j));
  for (size_t i = 0; i < n; i++) {
    size_t j = i + 2 * LAG;
    if (j < n && ids[j]) {
      key[j % RING] = pd_customer_ids_key(ids[j], id_len(ids, id_lens, j));
      pd_customer_ids_prefetch(&s->ids, key[j % RING],
                               PD_CUSTOMER_PREFETCH_SLOT);
    }
    if ((j = i + LAG) < n && ids[j])
      pd_customer_ids_prefetch(&s->ids, key[j % RING],
                               PD_CUSTOMER_PREFETCH_TEXT);
    if (!ids[i]) {
      pd_summary_rollback(s, &mark);
      return pd_summary_set_error(s, PD_E_INVALID,
                                  "transaction %zu: customer id is NULL", i);
    }
    size_t len = id_len(ids, id_lens, i);
    pd_status st = add_keyed(s, key[i % RING], ids[i], len, times[i],
                             amounts ? amounts[i] : 0.0);
    if (st != PD_OK) {
      char why[PD_ERRMSG_MAX];
      memcpy(why, s->err.msg, sizeof why);
      pd_summary_rollback(s, &mark);
      return pd_summary_set_error(s, st, "transaction %zu: %s", i, why);
    }
  }
  pd_err_clear(&s->err);
  return PD_OK;
}

size_t pd_summary_transactions(const pd_summary *s) {
  return valid(s) ? s->n_tx : 0;
}

typedef pd_purchase purchase;

static int purchase_cmp(const void *pa, const void *pb) {
  const purchase *a = pa, *b = pb;
  return a->time != b->time ? (a->time < b->time ? -1 : 1) : 0;
}

/* Purchases are sorted by time only, to group them into days: spends are
 * summed exactly (core/exact_sum.h), so their order within a day does not
 * matter. Insertion sort is the fast path for the few purchases most
 * customers have. */
static void sort_purchases(purchase *p, size_t n) {
  if (n > 48) {
    qsort(p, n, sizeof *p, purchase_cmp);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    purchase v = p[i];
    size_t j = i;
    while (j > 0 && p[j - 1].time > v.time) {
      p[j] = p[j - 1];
      j--;
    }
    p[j] = v;
  }
}

static int result_alloc(const pd_allocator *a, result *r, size_t n,
                        int holdout, int ids) {
  memset(r, 0, sizeof *r);
  r->x = pd_realloc_array(a, NULL, n, sizeof(double));
  r->t_x = pd_realloc_array(a, NULL, n, sizeof(double));
  r->T = pd_realloc_array(a, NULL, n, sizeof(double));
  r->monetary = pd_realloc_array(a, NULL, n, sizeof(double));
  if (holdout) r->x_holdout = pd_realloc_array(a, NULL, n, sizeof(double));
  if (ids) r->customer = pd_realloc_array(a, NULL, n, sizeof(uint32_t));
  if (!r->x || !r->t_x || !r->T || !r->monetary ||
      (holdout && !r->x_holdout) || (ids && !r->customer)) {
    result_free(a, r);
    return -1;
  }
  return 0;
}

pd_status pd_summary_check_spec(pd_summary *s, const pd_summary_spec *spec) {
  if (!spec || !struct_size_ok(spec, spec->size, sizeof *spec))
    return pd_summary_set_error(
        s, PD_E_INVALID, "spec is NULL or its size is not this version's");
  if (spec->unit != PD_TIME_UNIT_DAY && spec->unit != PD_TIME_UNIT_WEEK)
    return pd_summary_set_error(s, PD_E_INVALID, "unknown time unit %d",
                                (int)spec->unit);
  if (spec->calibration_end < 0 ||
      spec->calibration_end > PD_TIME_MAX)
    return pd_summary_set_error(s, PD_E_RANGE,
                                "calibration_end is outside 1970 .. 2100");
  if (spec->observation_end != PD_SUMMARY_NO_HOLDOUT) {
    if (spec->observation_end > PD_TIME_MAX)
      return pd_summary_set_error(s, PD_E_RANGE,
                                  "observation_end is after 2100");
    if (spec->observation_end < spec->calibration_end)
      return pd_summary_set_error(
          s, PD_E_INVALID, "observation_end is before calibration_end");
  }
  return PD_OK;
}

int pd_summary_group(pd_summary *s, int64_t horizon, size_t **start_out,
                     purchase **p_out) {
  const pd_allocator *a = &s->alloc;
  size_t nc = s->ids.count;
  /* Group the purchases by customer with a counting sort. Its arrays are
   * written at random: huge pages, where the system has them, are asked
   * for before anything touches them. */
  size_t *start = pd_realloc_array(a, NULL, nc + 1, sizeof *start);
  if (!start) {
    pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
    return -1;
  }
  pd_advise_random_large(a, start, (nc + 1) * sizeof *start);
  memset(start, 0, (nc + 1) * sizeof *start);
  size_t used = 0;
  const uint32_t *cust = s->tx_customer;
  /* Customers come at random: each pass fetches the counter of the
   * transaction LAG ahead (and, placing, its slot LAG / 2 ahead). */
  for (size_t i = 0; i < s->n_tx; i++) {
    if (i + LAG < s->n_tx) PD_PREFETCH(&start[cust[i + LAG] + 1]);
    if (s->tx_time[i] <= horizon) {
      start[cust[i] + 1]++;
      used++;
    }
  }
  for (size_t c = 0; c < nc; c++) start[c + 1] += start[c];
  purchase *p = pd_realloc_array(a, NULL, used ? used : 1, sizeof *p);
  size_t *fill = pd_realloc_array(a, NULL, nc + 1, sizeof *fill);
  if (!p || !fill) {
    pd_free(a, p);
    pd_free(a, fill);
    pd_free(a, start);
    pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
    return -1;
  }
  pd_advise_random_large(a, p, (used ? used : 1) * sizeof *p);
  pd_advise_random_large(a, fill, (nc + 1) * sizeof *fill);
  memcpy(fill, start, (nc + 1) * sizeof *fill);
  for (size_t i = 0; i < s->n_tx; i++) {
    if (i + LAG < s->n_tx) PD_PREFETCH(&fill[cust[i + LAG]]);
    if (i + LAG / 2 < s->n_tx) PD_PREFETCH(&p[fill[cust[i + LAG / 2]]]);
    if (s->tx_time[i] <= horizon) {
      purchase *q = &p[fill[cust[i]]++];
      q->time = s->tx_time[i];
      q->amount = s->tx_amount[i];
    }
  }
  pd_free(a, fill);
  for (size_t c = 0; c < nc; c++)
    sort_purchases(p + start[c], start[c + 1] - start[c]);
  *start_out = start;
  *p_out = p;
  return 0;
}

pd_status pd_summary_compute(pd_summary *s, const pd_summary_spec *spec) {
  if (!valid(s)) return PD_E_MISUSE;
  pd_status st = pd_summary_check_spec(s, spec);
  if (st != PD_OK) return st;
  st = pd_summary_partials_check_ends(s, spec);
  if (st != PD_OK) return st;
  int holdout = spec->observation_end != PD_SUMMARY_NO_HOLDOUT;
  const pd_allocator *a = &s->alloc;
  size_t nc = s->ids.count;
  int64_t horizon = holdout ? spec->observation_end : spec->calibration_end;

  size_t *start;
  purchase *p;
  if (pd_summary_group(s, horizon, &start, &p) != 0) return PD_E_NOMEM;
  size_t rows = 0;
  for (size_t c = 0; c < nc; c++)
    if ((start[c + 1] > start[c] &&
         p[start[c]].time <= spec->calibration_end) ||
        pd_summary_partials_has_calibration(s, (uint32_t)c))
      rows++;

  result r;
  pd_summary_scratch *w = pd_summary_scratch_new(s);
  if (!w || result_alloc(a, &r, rows, holdout, 1) != 0) {
    pd_summary_scratch_free(s, w);
    pd_free(a, p);
    pd_free(a, start);
    return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  }
  size_t row = 0;
  for (size_t c = 0; c < nc; c++) {
    int got = pd_summary_customer_row(
        s, w, (uint32_t)c, p + start[c], start[c + 1] - start[c], spec,
        &r.x[row], &r.t_x[row], &r.T[row], &r.monetary[row],
        holdout ? &r.x_holdout[row] : NULL);
    if (got < 0) {
      pd_summary_scratch_free(s, w);
      result_free(a, &r);
      pd_free(a, p);
      pd_free(a, start);
      return (pd_status)got;
    }
    if (got) {
      r.customer[row] = (uint32_t)c;
      row++;
    }
  }
  pd_summary_scratch_free(s, w);
  r.n = rows;
  r.calibration_end = spec->calibration_end;
  r.observation_end = spec->observation_end;
  r.unit = spec->unit;
  pd_free(a, p);
  pd_free(a, start);
  result_free(a, &s->res);
  s->res = r;
  s->has_result = 1;
  pd_err_clear(&s->err);
  return PD_OK;
}

size_t pd_summary_rows(const pd_summary *s) {
  return valid(s) && s->has_result ? s->res.n : 0;
}

pd_status pd_summary_column(const pd_summary *s, int32_t column,
                            const double **out) {
  if (!valid(s)) return PD_E_MISUSE;
  if (!out) return PD_E_INVALID;
  const double *col;
  switch (column) {
    case PD_SUMMARY_X: col = s->res.x; break;
    case PD_SUMMARY_T_X: col = s->res.t_x; break;
    case PD_SUMMARY_T: col = s->res.T; break;
    case PD_SUMMARY_MONETARY: col = s->res.monetary; break;
    case PD_SUMMARY_X_HOLDOUT: col = s->res.x_holdout; break;
    case PD_SUMMARY_WEIGHT: col = s->res.weight; break;
    default: return PD_E_INVALID;
  }
  if (!s->has_result || !col) return PD_E_NOT_FOUND;
  *out = col;
  return PD_OK;
}

pd_status pd_summary_data(const pd_summary *s, pd_customer_data *out) {
  if (!valid(s)) return PD_E_MISUSE;
  if (!out || out->size < sizeof *out) return PD_E_INVALID;
  if (!s->has_result) return PD_E_NOT_FOUND;
  out->n = s->res.n;
  out->x = s->res.x;
  out->t_x = s->res.t_x;
  out->T = s->res.T;
  out->monetary = s->res.monetary;
  out->weight = s->res.weight;
  return PD_OK;
}

pd_status pd_summary_id(const pd_summary *s, size_t row, const char **id,
                        size_t *len) {
  if (!valid(s)) return PD_E_MISUSE;
  if (!id) return PD_E_INVALID;
  if (!s->has_result || !s->res.customer || row >= s->res.n)
    return PD_E_NOT_FOUND;
  *id = pd_customer_ids_str(&s->ids, s->res.customer[row], len);
  return PD_OK;
}

/* A row of a compressed result while it is being built. */
typedef struct tuple {
  double x, t_x, T, weight;
} tuple;

static int tuple_cmp(const void *pa, const void *pb) {
  const tuple *a = pa, *b = pb;
  if (a->x != b->x) return a->x < b->x ? -1 : 1;
  if (a->t_x != b->t_x) return a->t_x < b->t_x ? -1 : 1;
  if (a->T != b->T) return a->T < b->T ? -1 : 1;
  return 0;
}

static void append_tuples(tuple *t, size_t *n, const result *r) {
  for (size_t i = 0; i < r->n; i++) {
    tuple *q = &t[(*n)++];
    q->x = r->x[i];
    q->t_x = r->t_x[i];
    q->T = r->T[i];
    q->weight = r->weight ? r->weight[i] : 1.0;
  }
}

/* Builds the compressed form of rows a (and b, when not NULL) into *out;
 * *out takes the spec of a. Returns 0 or -1 (out of memory). */
static int compress_rows(const pd_allocator *al, const result *a,
                         const result *b, result *out) {
  size_t n = a->n + (b ? b->n : 0);
  tuple *t = pd_realloc_array(al, NULL, n, sizeof *t);
  if (!t) return -1;
  size_t k = 0;
  append_tuples(t, &k, a);
  if (b) append_tuples(t, &k, b);
  qsort(t, n, sizeof *t, tuple_cmp);
  size_t u = 0;
  for (size_t i = 0; i < n; i++) {
    if (u > 0 && tuple_cmp(&t[u - 1], &t[i]) == 0)
      t[u - 1].weight += t[i].weight;
    else
      t[u++] = t[i];
  }
  result r;
  memset(&r, 0, sizeof r);
  r.x = pd_realloc_array(al, NULL, u, sizeof(double));
  r.t_x = pd_realloc_array(al, NULL, u, sizeof(double));
  r.T = pd_realloc_array(al, NULL, u, sizeof(double));
  r.weight = pd_realloc_array(al, NULL, u, sizeof(double));
  if (!r.x || !r.t_x || !r.T || !r.weight) {
    result_free(al, &r);
    pd_free(al, t);
    return -1;
  }
  for (size_t i = 0; i < u; i++) {
    r.x[i] = t[i].x;
    r.t_x[i] = t[i].t_x;
    r.T[i] = t[i].T;
    r.weight[i] = t[i].weight;
  }
  pd_free(al, t);
  r.n = u;
  r.calibration_end = a->calibration_end;
  r.observation_end = a->observation_end;
  r.unit = a->unit;
  *out = r;
  return 0;
}

pd_status pd_summary_compress(pd_summary *s) {
  if (!valid(s)) return PD_E_MISUSE;
  if (!s->has_result)
    return pd_summary_set_error(s, PD_E_NOT_FOUND, "nothing computed yet");
  if (s->res.weight) return PD_OK;
  result r;
  if (compress_rows(&s->alloc, &s->res, NULL, &r) != 0)
    return pd_summary_set_error(s, PD_E_NOMEM, "out of memory");
  result_free(&s->alloc, &s->res);
  s->res = r;
  pd_err_clear(&s->err);
  return PD_OK;
}

/* Appends src's per-customer rows (with ids) to dst's. */
static pd_status merge_customers(pd_summary *dst, const pd_summary *src) {
  const pd_allocator *a = &dst->alloc;
  const result *d = &dst->res, *sr = &src->res;
  for (size_t i = 0; i < sr->n; i++) {
    size_t len;
    const char *id = pd_customer_ids_str(&src->ids, sr->customer[i], &len);
    if (pd_customer_ids_find(&dst->ids, id, len) != PD_CUSTOMER_NONE)
      return pd_summary_set_error(
          dst, PD_E_DUPLICATE,
          "customer '%.64s' is in both summaries; merge needs disjoint "
          "customers",
          id);
  }
  size_t n = d->n + sr->n;
  int holdout = d->x_holdout != NULL;
  result r;
  if (result_alloc(a, &r, n, holdout, 1) != 0)
    return pd_summary_set_error(dst, PD_E_NOMEM, "out of memory");
  pd_summary_mark mark;
  pd_summary_begin(dst, &mark);
  for (size_t i = 0; i < sr->n; i++) {
    size_t len;
    const char *id = pd_customer_ids_str(&src->ids, sr->customer[i], &len);
    uint32_t cid;
    int added;
    if (pd_customer_ids_add(&dst->ids, a, id, len, &cid, &added) != 0 ||
        !added) {
      /* !added: src itself repeats an id, which compute never does. */
      pd_summary_rollback(dst, &mark);
      result_free(a, &r);
      return pd_summary_set_error(dst, PD_E_NOMEM, "out of memory");
    }
    r.customer[d->n + i] = cid;
  }
  const result *parts[2] = {d, sr};
  size_t at = 0;
  for (int k = 0; k < 2; k++) {
    const result *q = parts[k];
    memcpy(r.x + at, q->x, q->n * sizeof(double));
    memcpy(r.t_x + at, q->t_x, q->n * sizeof(double));
    memcpy(r.T + at, q->T, q->n * sizeof(double));
    memcpy(r.monetary + at, q->monetary, q->n * sizeof(double));
    if (holdout) memcpy(r.x_holdout + at, q->x_holdout, q->n * sizeof(double));
    if (k == 0) memcpy(r.customer, d->customer, d->n * sizeof(uint32_t));
    at += q->n;
  }
  r.n = n;
  r.calibration_end = d->calibration_end;
  r.observation_end = d->observation_end;
  r.unit = d->unit;
  result_free(a, &dst->res);
  dst->res = r;
  return PD_OK;
}

pd_status pd_summary_merge(pd_summary *dst, const pd_summary *src) {
  if (!valid(dst) || !valid(src) || dst == src) return PD_E_MISUSE;
  if (!dst->has_result || !src->has_result)
    return pd_summary_set_error(dst, PD_E_NOT_FOUND,
                                "both summaries must be computed first");
  const result *d = &dst->res, *sr = &src->res;
  if (d->calibration_end != sr->calibration_end ||
      d->observation_end != sr->observation_end || d->unit != sr->unit)
    return pd_summary_set_error(
        dst, PD_E_CONFLICT,
        "summaries computed with different calibration end, observation "
        "end or unit cannot be merged");
  pd_status st;
  if (!d->weight && !sr->weight) {
    st = merge_customers(dst, src);
  } else {
    result r;
    if (compress_rows(&dst->alloc, d, sr, &r) != 0)
      return pd_summary_set_error(dst, PD_E_NOMEM, "out of memory");
    result_free(&dst->alloc, &dst->res);
    dst->res = r;
    st = PD_OK;
  }
  if (st == PD_OK) pd_err_clear(&dst->err);
  return st;
}
