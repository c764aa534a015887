/* Kaplan–Meier product-limit estimate of link survival with a Greenwood
 * log-log confidence band (definitions in include/privdomain/survival.h). */
#include <privdomain/survival.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/radix_sort.h"

#define KM_MAGIC 0x50444b4du /* "PDKM" */
#define KM_COLUMNS 7

struct pd_km {
  uint32_t magic;
  pd_allocator alloc;
  pd_errbuf err;
  double z; /* normal quantile of the band */
  int estimated;
  size_t n;
  double *block; /* KM_COLUMNS columns of n doubles */
};

static int struct_size_ok(const void *p, size_t given, size_t known) {
  if (given < known) return 0;
  const unsigned char *b = p;
  for (size_t i = known; i < given; i++)
    if (b[i]) return 0;
  return 1;
}

static int valid(const pd_km *km) { return km && km->magic == KM_MAGIC; }

/* z with Phi(z) = p for p in (0.5, 1), by bisection on erfc: 200 halvings
 * reach the resolution of a double, and this runs once per handle. */
static double normal_quantile(double p) {
  double lo = 0.0, hi = 40.0;
  for (int i = 0; i < 200; i++) {
    double mid = 0.5 * (lo + hi);
    if (0.5 * erfc(-mid / sqrt(2.0)) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

pd_status pd_km_new(const pd_km_options *opts, pd_km **out) {
  if (!out) return PD_E_INVALID;
  pd_km_options o = PD_KM_OPTIONS_INIT;
  if (opts) {
    if (!struct_size_ok(opts, opts->size, sizeof o)) return PD_E_INVALID;
    o = *opts;
  }
  if (!(o.confidence > 0.0 && o.confidence < 1.0)) return PD_E_INVALID;
  pd_allocator a;
  if (pd_alloc_init(&a, o.allocator) != 0) return PD_E_INVALID;
  pd_km *km = pd_calloc(&a, 1, sizeof *km);
  if (!km) return PD_E_NOMEM;
  km->magic = KM_MAGIC;
  km->alloc = a;
  km->z = normal_quantile(0.5 * (1.0 + o.confidence));
  *out = km;
  return PD_OK;
}

void pd_km_free(pd_km *km) {
  if (!valid(km)) return;
  pd_allocator a = km->alloc;
  pd_free(&a, km->block);
  km->magic = 0;
  pd_free(&a, km);
}

const char *pd_km_errmsg(const pd_km *km) {
  if (!valid(km)) return "not a valid pd_km handle";
  return km->err.msg;
}

/* Durations (finite, >= 0) order as the bit patterns of their doubles;
 * -0.0 is 0. */
static uint64_t time_key(double t) {
  uint64_t k;
  memcpy(&k, &t, sizeof k);
  return t == 0 ? 0 : k;
}

/* An observation as one sortable word: its time's key shifted left (a
 * duration's sign bit is 0, so nothing is lost and the order is kept)
 * and its event flag in bit 0. Sorting 8-byte words instead of (time,
 * weight, event) records moves a third of the bytes. */
static uint64_t obs_key(double t, int32_t event) {
  return time_key(t) << 1 | (uint64_t)(event != 0);
}

static double key_time(uint64_t k) {
  uint64_t bits = k >> 1;
  double t;
  memcpy(&t, &bits, sizeof t);
  return t;
}

/* The observations in time order: sorted keys (with each key's input
 * index when weighted), or, when the input came in order of duration, the
 * input itself (key NULL). */
typedef struct obs_order {
  const uint64_t *key;
  const size_t *idx;
  const double *dur;
  const int32_t *ev;
  const double *w;
  size_t n;
} obs_order;

/* The observations tied at one time, from the i-th: their time, the
 * weight of their events and of their censorings, each summed in input
 * order (the sort is stable) so that both orders give the same bits.
 * Returns the index after them. */
static size_t next_time(const obs_order *o, size_t i, double *t, double *d,
                        double *c) {
  *d = *c = 0;
  if (o->key) {
    uint64_t tk = o->key[i] >> 1;
    *t = key_time(o->key[i]);
    for (; i < o->n && o->key[i] >> 1 == tk; i++) {
      double w = o->w ? o->w[o->idx[i]] : 1.0;
      if (o->key[i] & 1)
        *d += w;
      else
        *c += w;
    }
    return i;
  }
  double ti = o->dur[i];
  *t = ti == 0 ? 0.0 : ti; /* -0 reads as 0 */
  for (; i < o->n && o->dur[i] == ti; i++) {
    double w = o->w ? o->w[i] : 1.0;
    if (o->ev[i])
      *d += w;
    else
      *c += w;
  }
  return i;
}

/* Sorts the observations into *o (key and idx from km's allocator, to be
 * freed by the caller), unless durations[] is already ascending. 0, or -1
 * out of memory. */
static int order_observations(pd_km *km, const double *durations,
                              const int32_t *events, const double *weights,
                              size_t n, int in_order, obs_order *o) {
  *o = (obs_order){NULL, NULL, durations, events, weights, n};
  if (in_order) return 0;
  const pd_allocator *a = &km->alloc;
  /* Unweighted: the keys alone. Weighted: each key's input index too, to
   * find its weight. */
  uint64_t *key = pd_realloc_array(a, NULL, n, sizeof *key);
  size_t *idx = weights ? pd_realloc_array(a, NULL, n, sizeof *idx) : NULL;
  if (key && (!weights || idx)) {
    for (size_t i = 0; i < n; i++) {
      key[i] = obs_key(durations[i], events[i]);
      if (idx) idx[i] = i;
    }
    if (pd_radix_sort_u64(a, key, idx, n) == 0) {
      o->key = key;
      o->idx = idx;
      return 0;
    }
  }
  pd_free(a, key);
  pd_free(a, idx);
  return -1;
}

pd_status pd_km_estimate(pd_km *km, const double *durations,
                         const int32_t *events, const double *weights,
                         size_t n) {
  if (!valid(km)) return PD_E_MISUSE;
  if (!durations || !events || n == 0)
    return pd_err(&km->err, PD_E_INVALID,
                  "durations and events are required and n must be > 0");
  double total = 0;
  int in_order = 1;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(durations[i]) || durations[i] < 0)
      return pd_err(&km->err, PD_E_RANGE,
                    "duration %zu is negative, NaN or infinite", i);
    if (events[i] != 0 && events[i] != 1)
      return pd_err(&km->err, PD_E_INVALID,
                    "event flag %zu is %d; it must be 0 (censored) or 1",
                    i, (int)events[i]);
    if (weights && (!isfinite(weights[i]) || weights[i] < 0))
      return pd_err(&km->err, PD_E_RANGE,
                    "weight %zu is negative, NaN or infinite", i);
    total += weights ? weights[i] : 1.0;
    if (i > 0 && durations[i] < durations[i - 1]) in_order = 0;
  }
  if (!(total > 0))
    return pd_err(&km->err, PD_E_INVALID, "all weights are zero");

  const pd_allocator *a = &km->alloc;
  obs_order o;
  if (order_observations(km, durations, events, weights, n, in_order, &o))
    return pd_err(&km->err, PD_E_NOMEM, "out of memory");
  size_t rows = 0;
  for (size_t i = 0; i < n;) {
    double t, d, c;
    i = next_time(&o, i, &t, &d, &c);
    if (d > 0) rows++;
  }
  /* The new curve goes into the previous one's block, resized: its pages
   * are already there for an estimate repeated on similar data. Nothing
   * can fail past the resize, and a failed one keeps the block, so the
   * previous estimate stands until the new one is certain. */
  double *block = NULL;
  if (rows > 0) {
    if (rows > SIZE_MAX / KM_COLUMNS ||
        !(block = pd_realloc_array(a, km->block, rows * KM_COLUMNS,
                                   sizeof(double)))) {
      pd_free(a, (void *)o.key);
      pd_free(a, (void *)o.idx);
      return pd_err(&km->err, PD_E_NOMEM, "out of memory");
    }
  } else {
    pd_free(a, km->block);
  }
  km->block = block;
  double *time = block, *at_risk = block + rows, *ev = block + 2 * rows,
         *cens = block + 3 * rows, *surv = block + 4 * rows,
         *lower = block + 5 * rows, *upper = block + 6 * rows;
  double remaining = total, s = 1.0, greenwood = 0.0;
  size_t r = 0;
  for (size_t i = 0; i < n;) {
    double t, d, c;
    i = next_time(&o, i, &t, &d, &c);
    if (d > 0) {
      double at = remaining;
      time[r] = t;
      at_risk[r] = at;
      ev[r] = d;
      cens[r] = c;
      if (at - d <= 0) {
        s = 0.0;
      } else {
        s *= 1.0 - d / at;
        greenwood += d / (at * (at - d));
      }
      surv[r] = s;
      if (s <= 0.0) {
        lower[r] = upper[r] = 0.0;
      } else {
        double se = sqrt(greenwood) / fabs(log(s));
        lower[r] = pow(s, exp(km->z * se));
        upper[r] = pow(s, exp(-km->z * se));
      }
      r++;
    } else if (r > 0) {
      cens[r - 1] += c;
    }
    remaining -= d + c;
  }
  pd_free(a, (void *)o.key);
  pd_free(a, (void *)o.idx);
  km->n = rows;
  km->estimated = 1;
  pd_err_clear(&km->err);
  return PD_OK;
}

pd_status pd_km_get_curve(const pd_km *km, pd_km_curve *out) {
  if (!valid(km)) return PD_E_MISUSE;
  if (!out || out->size < sizeof *out) return PD_E_INVALID;
  if (!km->estimated) return PD_E_INVALID;
  size_t n = km->n;
  const double *b = km->block;
  out->n = n;
  out->time = b;
  out->at_risk = b ? b + n : NULL;
  out->events = b ? b + 2 * n : NULL;
  out->censored = b ? b + 3 * n : NULL;
  out->survival = b ? b + 4 * n : NULL;
  out->lower = b ? b + 5 * n : NULL;
  out->upper = b ? b + 6 * n : NULL;
  return PD_OK;
}

pd_status pd_km_survival_at(const pd_km *km, double t, double *out) {
  if (!valid(km)) return PD_E_MISUSE;
  if (!out) return PD_E_INVALID;
  if (!(t >= 0)) return PD_E_RANGE;
  if (!km->estimated) return PD_E_INVALID;
  const double *time = km->block, *surv = km->block + 4 * km->n;
  /* Last event time <= t, by binary search. */
  size_t lo = 0, hi = km->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (time[mid] <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  *out = lo == 0 ? 1.0 : surv[lo - 1];
  return PD_OK;
}

pd_status pd_km_median(const pd_km *km, double *out) {
  if (!valid(km)) return PD_E_MISUSE;
  if (!out) return PD_E_INVALID;
  if (!km->estimated) return PD_E_INVALID;
  const double *time = km->block, *surv = km->block + 4 * km->n;
  for (size_t i = 0; i < km->n; i++)
    if (surv[i] <= 0.5) {
      *out = time[i];
      return PD_OK;
    }
  return PD_E_NOT_FOUND;
}
