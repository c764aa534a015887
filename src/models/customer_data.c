/* The rules every customer summary obeys, checked once for all models so
 * each reports the same message for the same bad row. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "models/model.h"

pd_status pd_model_check_customers(const pd_customer_data *d, int whole_x,
                                   pd_errbuf *err, double *total_weight) {
  if (!d) return pd_err(err, PD_E_INVALID, "customer data is NULL");
  if (d->size < sizeof(pd_customer_data))
    return pd_err(err, PD_E_INVALID,
                  "pd_customer_data.size is %zu, expected at least %zu "
                  "(use PD_CUSTOMER_DATA_INIT)",
                  d->size, sizeof(pd_customer_data));
  if (d->size > sizeof(pd_customer_data)) {
    const unsigned char *extra = (const unsigned char *)d + sizeof *d;
    for (size_t i = 0; i < d->size - sizeof *d; i++)
      if (extra[i])
        return pd_err(err, PD_E_INVALID,
                      "pd_customer_data has non-zero fields unknown to this "
                      "library version");
  }
  if (d->n == 0) return pd_err(err, PD_E_INVALID, "no customers (n = 0)");
  if (!d->x || !d->t_x || !d->T)
    return pd_err(err, PD_E_INVALID, "customer data: x, t_x and T must all be given");
  double total = 0.0;
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i], tx = d->t_x[i], T = d->T[i];
    if (!isfinite(x) || !isfinite(tx) || !isfinite(T))
      return pd_err(err, PD_E_RANGE,
                    "customer %zu: x, t_x and T must be finite numbers", i);
    if (x < 0.0)
      return pd_err(err, PD_E_RANGE, "customer %zu: frequency x = %g is negative", i, x);
    if (whole_x && x != floor(x))
      return pd_err(err, PD_E_INVALID,
                    "customer %zu: frequency x = %g is not a whole number", i, x);
    /* T = 0 is a customer acquired at the very end of calibration: valid
     * (its likelihood is 1) as long as it has no repeat purchase. */
    if (T < 0.0 || (x > 0.0 && !(T > 0.0)))
      return pd_err(err, PD_E_RANGE,
                    "customer %zu: age T = %g must be >= 0, and > 0 when "
                    "x > 0", i, T);
    if (tx < 0.0 || tx > T)
      return pd_err(err, PD_E_RANGE,
                    "customer %zu: recency t_x = %g must lie in [0, T = %g]", i, tx, T);
    if (d->weight) {
      double w = d->weight[i];
      if (!isfinite(w) || w < 0.0)
        return pd_err(err, PD_E_RANGE,
                      "customer %zu: weight %g must be finite and >= 0", i, w);
      total += w;
    } else {
      total += 1.0;
    }
  }
  if (total_weight) *total_weight = total;
  return PD_OK;
}

/* ---- packing identical rows ---------------------------------------- */

static size_t pack_slots(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  return cap;
}

/* Distinct rows the scratch has room for. */
static size_t pack_capacity(const pd_customer_data *d) {
  return d->n < PD_MODEL_PACK_MAX ? d->n : PD_MODEL_PACK_MAX;
}

size_t pd_model_pack_bytes(const pd_customer_data *d) {
  size_t rows = pack_capacity(d);
  size_t cols = d->monetary ? 5 : 4;
  return cols * rows * sizeof(double) + pack_slots(rows) * sizeof(uint32_t);
}

static uint64_t bits_of(double v) {
  uint64_t u;
  v += 0.0; /* -0.0 and 0.0 are the same summary */
  memcpy(&u, &v, sizeof u);
  return u;
}

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return h;
}

int pd_model_pack(const pd_customer_data *d, void *mem, pd_customer_data *out) {
  size_t n = pack_capacity(d), cap = pack_slots(n);
  double *x = mem, *tx = x + n, *T = tx + n, *w = T + n;
  double *mon = d->monetary ? w + n : NULL;
  uint32_t *slot = (uint32_t *)(void *)((d->monetary ? mon : w) + n);
  memset(slot, 0, cap * sizeof *slot);
  size_t k = 0;
  for (size_t i = 0; i < d->n; i++) {
    double wi = pd_model_weight(d, i);
    if (wi == 0.0) continue;
    double xi = d->x[i], ti = xi > 0.0 ? d->t_x[i] : 0.0, Ti = d->T[i];
    double mi = mon ? d->monetary[i] : 0.0;
    uint64_t h = mix(mix(mix(mix(0, bits_of(xi)), bits_of(ti)), bits_of(Ti)),
                     bits_of(mi));
    size_t s = (size_t)h & (cap - 1);
    for (;;) {
      uint32_t j = slot[s];
      if (j == 0) {
        if (k == n) return -1; /* more distinct rows than room */
        slot[s] = (uint32_t)(k + 1);
        x[k] = xi, tx[k] = ti, T[k] = Ti, w[k] = wi;
        if (mon) mon[k] = mi;
        k++;
        break;
      }
      j--;
      if (x[j] == xi && tx[j] == ti && T[j] == Ti && (!mon || bits_of(mon[j]) == bits_of(mi))) {
        w[j] += wi;
        break;
      }
      s = (s + 1) & (cap - 1);
    }
  }
  out->size = sizeof *out;
  out->n = k;
  out->x = x;
  out->t_x = tx;
  out->T = T;
  out->monetary = mon;
  out->weight = w;
  return 0;
}
