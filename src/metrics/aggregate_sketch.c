/* The relative-error quantile sketch (aggregate_sketch.h). */
#include "aggregate_sketch.h"

#include <math.h>
#include <string.h>

double pd_ag_log_gamma(double accuracy) {
  return log((1.0 + accuracy) / (1.0 - accuracy));
}

static int32_t bucket_of(double m, double lg) {
  return (int32_t)ceil(log(m) / lg);
}

/* Dense counts of the indices of one sign, compressed into bins. */
static int bins_from(const pd_allocator *a, const int32_t *ix,
                     const int8_t *sg, size_t n, int8_t sign, int32_t lo,
                     int32_t hi, pd_ag_bins *out) {
  memset(out, 0, sizeof *out);
  if (lo > hi) return 0;
  size_t span = (size_t)((int64_t)hi - lo) + 1;
  uint64_t *dense = pd_calloc(a, span, sizeof *dense);
  if (!dense) return -1;
  for (size_t i = 0; i < n; i++)
    if (sg[i] == sign) dense[ix[i] - lo]++;
  size_t m = 0;
  for (size_t j = 0; j < span; j++) m += dense[j] != 0;
  out->idx = pd_malloc(a, m * sizeof *out->idx);
  out->cnt = pd_malloc(a, m * sizeof *out->cnt);
  if (!out->idx || !out->cnt) {
    pd_free(a, out->idx);
    pd_free(a, out->cnt);
    pd_free(a, dense);
    memset(out, 0, sizeof *out);
    return -1;
  }
  for (size_t j = 0; j < span; j++)
    if (dense[j]) {
      out->idx[out->n] = (int32_t)(lo + (int64_t)j);
      out->cnt[out->n++] = dense[j];
    }
  pd_free(a, dense);
  return 0;
}

int pd_ag_sketch_build(const pd_allocator *a, double accuracy,
                       const double *v, size_t n, pd_ag_sketch *out) {
  memset(out, 0, sizeof *out);
  if (n == 0) return 0;
  double lg = pd_ag_log_gamma(accuracy);
  int32_t *ix = pd_malloc(a, n * sizeof *ix);
  int8_t *sg = pd_malloc(a, n * sizeof *sg);
  if (!ix || !sg) {
    pd_free(a, ix);
    pd_free(a, sg);
    return -1;
  }
  int32_t lo[2] = {INT32_MAX, INT32_MAX}, hi[2] = {INT32_MIN, INT32_MIN};
  double mn = v[0], mx = v[0];
  /* Counts and other whole-number measures repeat from one value to the
   * next: the bucket of the last magnitude is reused, saving its log. */
  double last_m = 0.0;
  int32_t last_ix = 0;
  for (size_t i = 0; i < n; i++) {
    double x = v[i];
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    if (x == 0) {
      sg[i] = 0;
      out->zero++;
      continue;
    }
    int s = x < 0;
    sg[i] = s ? -1 : 1;
    double m = s ? -x : x;
    if (m != last_m) {
      last_m = m;
      last_ix = bucket_of(m, lg);
    }
    ix[i] = last_ix;
    if (ix[i] < lo[s]) lo[s] = ix[i];
    if (ix[i] > hi[s]) hi[s] = ix[i];
  }
  int rc = bins_from(a, ix, sg, n, 1, lo[0], hi[0], &out->pos);
  if (!rc && (rc = bins_from(a, ix, sg, n, -1, lo[1], hi[1], &out->neg)))
    pd_ag_sketch_free(a, out);
  pd_free(a, ix);
  pd_free(a, sg);
  if (rc) return -1;
  out->count = n;
  out->min = mn == 0 ? 0.0 : mn; /* no -0 in the stable form */
  out->max = mx == 0 ? 0.0 : mx;
  return 0;
}

void pd_ag_sketch_free(const pd_allocator *a, pd_ag_sketch *s) {
  pd_free(a, s->pos.idx);
  pd_free(a, s->pos.cnt);
  pd_free(a, s->neg.idx);
  pd_free(a, s->neg.cnt);
  memset(s, 0, sizeof *s);
}

static int add_u64(uint64_t x, uint64_t y, uint64_t *r) {
  if (x > UINT64_MAX - y) return -1;
  *r = x + y;
  return 0;
}

/* Bucket-wise sum of two bin lists (both sorted by index). */
static int bins_sum(const pd_allocator *a, const pd_ag_bins *x,
                    const pd_ag_bins *y, pd_ag_bins *out) {
  memset(out, 0, sizeof *out);
  size_t cap = x->n + y->n;
  out->idx = pd_malloc(a, (cap ? cap : 1) * sizeof *out->idx);
  out->cnt = pd_malloc(a, (cap ? cap : 1) * sizeof *out->cnt);
  if (!out->idx || !out->cnt) {
    pd_free(a, out->idx);
    pd_free(a, out->cnt);
    memset(out, 0, sizeof *out);
    return -1;
  }
  size_t i = 0, j = 0, m = 0;
  while (i < x->n || j < y->n) {
    if (j == y->n || (i < x->n && x->idx[i] < y->idx[j])) {
      out->idx[m] = x->idx[i];
      out->cnt[m++] = x->cnt[i++];
    } else if (i == x->n || y->idx[j] < x->idx[i]) {
      out->idx[m] = y->idx[j];
      out->cnt[m++] = y->cnt[j++];
    } else {
      out->idx[m] = x->idx[i];
      if (add_u64(x->cnt[i], y->cnt[j], &out->cnt[m])) {
        pd_free(a, out->idx);
        pd_free(a, out->cnt);
        memset(out, 0, sizeof *out);
        return -2;
      }
      m++, i++, j++;
    }
  }
  out->n = m;
  return 0;
}

int pd_ag_sketch_sum(const pd_allocator *a, const pd_ag_sketch *x,
                     const pd_ag_sketch *y, pd_ag_sketch *out) {
  memset(out, 0, sizeof *out);
  if (add_u64(x->count, y->count, &out->count) ||
      add_u64(x->zero, y->zero, &out->zero))
    return -2;
  int rc = bins_sum(a, &x->pos, &y->pos, &out->pos);
  if (!rc && (rc = bins_sum(a, &x->neg, &y->neg, &out->neg)) != 0)
    pd_ag_sketch_free(a, out);
  if (rc) {
    memset(out, 0, sizeof *out);
    return rc;
  }
  if (x->count == 0 || y->count == 0) {
    const pd_ag_sketch *s = x->count ? x : y;
    out->min = s->min;
    out->max = s->max;
  } else {
    out->min = x->min < y->min ? x->min : y->min;
    out->max = x->max > y->max ? x->max : y->max;
  }
  return 0;
}

double pd_ag_sketch_quantile(const pd_ag_sketch *s, double accuracy,
                             double q) {
  uint64_t k = (uint64_t)floor(q * (double)(s->count - 1));
  return pd_ag_sketch_rank(s, accuracy, k < s->count ? k : s->count - 1);
}

double pd_ag_sketch_median(const pd_ag_sketch *s, double accuracy) {
  if (s->count == 0) return 0.0;
  double hi = pd_ag_sketch_rank(s, accuracy, s->count / 2);
  if (s->count % 2) return hi;
  return (pd_ag_sketch_rank(s, accuracy, s->count / 2 - 1) + hi) / 2;
}

double pd_ag_sketch_rank(const pd_ag_sketch *s, double accuracy,
                         uint64_t k) {
  /* The extremes are kept exactly. */
  if (k == 0) return s->min;
  if (k + 1 >= s->count) return s->max;
  double lg = pd_ag_log_gamma(accuracy);
  double gamma = (1.0 + accuracy) / (1.0 - accuracy);
  double v = 0.0;
  uint64_t seen = 0;
  int found = 0;
  /* Most negative first: the negative buckets by decreasing index. */
  for (size_t i = s->neg.n; i-- > 0 && !found;) {
    seen += s->neg.cnt[i];
    if (k < seen) {
      v = -2.0 * exp(s->neg.idx[i] * lg) / (gamma + 1.0);
      found = 1;
    }
  }
  if (!found) {
    seen += s->zero;
    if (k < seen) found = 1; /* v = 0 */
  }
  for (size_t i = 0; i < s->pos.n && !found; i++) {
    seen += s->pos.cnt[i];
    if (k < seen) {
      v = 2.0 * exp(s->pos.idx[i] * lg) / (gamma + 1.0);
      found = 1;
    }
  }
  if (v < s->min) v = s->min;
  if (v > s->max) v = s->max;
  return v;
}

static void bins_put(pd_obuf *b, const pd_ag_bins *x) {
  pd_put32(b, (uint32_t)x->n);
  for (size_t i = 0; i < x->n; i++) {
    pd_put32(b, (uint32_t)x->idx[i]);
    pd_put64(b, x->cnt[i]);
  }
}

void pd_ag_sketch_put(pd_obuf *b, const pd_ag_sketch *s) {
  pd_put64(b, s->count);
  pd_put64(b, s->zero);
  pd_put64(b, pd_ag_dbits(s->min));
  pd_put64(b, pd_ag_dbits(s->max));
  bins_put(b, &s->pos);
  bins_put(b, &s->neg);
}

static int bins_get(const pd_allocator *a, pd_ibuf *in, pd_ag_bins *out,
                    uint64_t *total, const char **why) {
  memset(out, 0, sizeof *out);
  uint32_t n = pd_get32(in);
  if (in->bad || (uint64_t)n * 12 > pd_ileft(in)) {
    *why = "sketch bucket count runs past the end";
    return -1;
  }
  out->idx = pd_malloc(a, ((size_t)n + 1) * sizeof *out->idx);
  out->cnt = pd_malloc(a, ((size_t)n + 1) * sizeof *out->cnt);
  if (!out->idx || !out->cnt) {
    pd_free(a, out->idx);
    pd_free(a, out->cnt);
    memset(out, 0, sizeof *out);
    return -2;
  }
  out->n = n;
  for (uint32_t i = 0; i < n; i++) {
    out->idx[i] = (int32_t)pd_get32(in);
    out->cnt[i] = pd_get64(in);
    if (out->cnt[i] == 0) {
      *why = "sketch bucket with a zero count";
      return -1;
    }
    if (i > 0 && out->idx[i] <= out->idx[i - 1]) {
      *why = "sketch buckets out of order";
      return -1;
    }
    if (add_u64(*total, out->cnt[i], total)) {
      *why = "sketch counts overflow";
      return -1;
    }
  }
  return 0;
}

int pd_ag_sketch_get(const pd_allocator *a, pd_ibuf *in, pd_ag_sketch *out,
                     const char **why) {
  memset(out, 0, sizeof *out);
  out->count = pd_get64(in);
  out->zero = pd_get64(in);
  out->min = pd_ag_bitsd(pd_get64(in));
  out->max = pd_ag_bitsd(pd_get64(in));
  uint64_t total = out->zero;
  int rc = bins_get(a, in, &out->pos, &total, why);
  if (!rc) rc = bins_get(a, in, &out->neg, &total, why);
  if (!rc && total != out->count) {
    *why = "sketch count differs from its buckets";
    rc = -1;
  }
  if (!rc && out->count == 0 &&
      (pd_ag_dbits(out->min) != 0 || pd_ag_dbits(out->max) != 0)) {
    *why = "empty sketch with a minimum or maximum";
    rc = -1;
  }
  if (!rc && out->count > 0 &&
      (!isfinite(out->min) || !isfinite(out->max) || out->min > out->max ||
       (out->zero && (out->min > 0 || out->max < 0)) ||
       (out->pos.n && out->max <= 0) || (out->neg.n && out->min >= 0))) {
    *why = "sketch minimum or maximum inconsistent with its buckets";
    rc = -1;
  }
  if (rc) pd_ag_sketch_free(a, out);
  return rc;
}
