/* Exact sums of non-negative doubles (exact_sum.h). */
#include "core/exact_sum.h"

#include <math.h>
#include <string.h>

#define DIGIT_MASK INT64_C(0xffffffff)
/* Each addition puts less than 2^33 into a digit; normalising every 2^29
 * additions keeps digits far from the int64_t limit. */
#define NORMALISE_EVERY (UINT32_C(1) << 29)

void pd_xacc_init(pd_xacc *a) {
  memset(a, 0, sizeof *a);
  a->lo = PD_XSUM_DIGITS;
  a->hi = -1;
}

void pd_xacc_clear(pd_xacc *a) {
  if (a->hi >= a->lo)
    memset(a->d + a->lo, 0, (size_t)(a->hi - a->lo + 1) * sizeof a->d[0]);
  a->lo = PD_XSUM_DIGITS;
  a->hi = -1;
  a->pending = 0;
}

static void touch(pd_xacc *a, int lo, int hi) {
  if (lo < a->lo) a->lo = lo;
  if (hi > a->hi) a->hi = hi;
}

/* Propagates carries so every digit is in [0, 2^32) and trims lo/hi to
 * the non-zero digits. The value must be >= 0. */
static void normalise(pd_xacc *a) {
  if (a->hi < a->lo) return;
  int64_t carry = 0;
  int k = a->lo;
  for (; k < PD_XSUM_DIGITS && (k <= a->hi || carry != 0); k++) {
    int64_t v = a->d[k] + carry;
    int64_t low = v & DIGIT_MASK;
    carry = (v - low) / (DIGIT_MASK + 1);
    a->d[k] = low;
  }
  a->hi = k - 1;
  while (a->hi >= a->lo && a->d[a->hi] == 0) a->hi--;
  while (a->lo <= a->hi && a->d[a->lo] == 0) a->lo++;
  if (a->hi < a->lo) {
    a->lo = PD_XSUM_DIGITS;
    a->hi = -1;
  }
  a->pending = 0;
}

static void added(pd_xacc *a) {
  if (++a->pending >= NORMALISE_EVERY) normalise(a);
}

void pd_xacc_add(pd_xacc *a, double v) {
  if (!(v > 0)) return;
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int e = (int)(bits >> 52) & 0x7ff;
  uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
  /* Bit position of the mantissa's last bit above 2^-1088. */
  int p;
  if (e) {
    m |= UINT64_C(1) << 52;
    p = e + 13; /* (e - 1075) + 1088 */
  } else {
    p = 14; /* subnormal: last bit is 2^-1074 */
  }
  int k = p >> 5, sh = p & 31;
  uint64_t t0 = (m & UINT64_C(0xffffffff)) << sh;
  uint64_t t1 = (m >> 32) << sh;
  a->d[k] += (int64_t)(t0 & UINT64_C(0xffffffff));
  a->d[k + 1] += (int64_t)((t0 >> 32) + (t1 & UINT64_C(0xffffffff)));
  a->d[k + 2] += (int64_t)(t1 >> 32);
  touch(a, k, k + 2);
  added(a);
}

void pd_xacc_add_xnum(pd_xacc *a, const uint32_t *x) {
  int lo = (int)(x[0] & 0xff), n = (int)(x[0] >> 8);
  if (n == 0) return;
  for (int i = 0; i < n; i++) a->d[lo + i] += (int64_t)x[1 + i];
  touch(a, lo, lo + n - 1);
  added(a);
}

void pd_xacc_sub_xnum(pd_xacc *a, const uint32_t *x) {
  int lo = (int)(x[0] & 0xff), n = (int)(x[0] >> 8);
  if (n == 0) return;
  for (int i = 0; i < n; i++) a->d[lo + i] -= (int64_t)x[1 + i];
  touch(a, lo, lo + n - 1);
  added(a);
}

void pd_xacc_add_acc(pd_xacc *a, pd_xacc *b) {
  normalise(b); /* digits < 2^32: the addition cannot overflow a */
  for (int k = b->lo; k <= b->hi; k++) a->d[k] += b->d[k];
  if (b->hi >= b->lo) touch(a, b->lo, b->hi);
  added(a);
}

int pd_xacc_is_zero(pd_xacc *a) {
  normalise(a);
  return a->hi < a->lo;
}

int pd_xacc_cmp(pd_xacc *a, pd_xacc *b) {
  normalise(a);
  normalise(b);
  int za = a->hi < a->lo, zb = b->hi < b->lo;
  if (za || zb) return za && zb ? 0 : za ? -1 : 1;
  if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
  for (int k = a->hi; k >= 0; k--) {
    int64_t x = k >= a->lo ? a->d[k] : 0, y = k >= b->lo ? b->d[k] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

size_t pd_xacc_store(pd_xacc *a, uint32_t *out) {
  normalise(a);
  if (a->hi < a->lo) {
    out[0] = 0;
    return 1;
  }
  int n = a->hi - a->lo + 1;
  out[0] = (uint32_t)a->lo | (uint32_t)n << 8;
  for (int i = 0; i < n; i++) out[1 + i] = (uint32_t)a->d[a->lo + i];
  return (size_t)n + 1;
}

double pd_xacc_value(pd_xacc *a) {
  normalise(a);
  if (a->hi < a->lo) return 0.0;
  int h = a->hi;
  uint64_t w2 = (uint64_t)a->d[h];
  uint64_t w1 = h - 1 >= a->lo ? (uint64_t)a->d[h - 1] : 0;
  uint64_t w0 = h - 2 >= a->lo ? (uint64_t)a->d[h - 2] : 0;
  int sticky = 0;
  for (int k = a->lo; k < h - 2; k++)
    if (a->d[k]) sticky = 1;
  int nb = 0;
  while (nb < 32 && (w2 >> nb)) nb++;
  /* The top 64 bits with the leading 1 at bit 63; the rest is sticky. */
  int s = 32 - nb;
  uint64_t mant = ((w2 << 32 | w1) << s) | (s ? w0 >> (32 - s) : 0);
  if (((w0 << s) & UINT64_C(0xffffffff)) != 0) sticky = 1;
  int E = 32 * h - 1088 + nb - 1; /* exponent of the leading bit */
  int lsb = E - 52 < -1074 ? -1074 : E - 52;
  int drop = 64 - (E - lsb + 1);
  if (drop > 63) return 0.0; /* below 2^-1074: stored values never are */
  uint64_t m = mant >> drop;
  uint64_t rem = mant & ((UINT64_C(1) << drop) - 1);
  uint64_t half = UINT64_C(1) << (drop - 1);
  if (rem > half || (rem == half && (sticky || (m & 1)))) m++;
  return ldexp((double)m, lsb);
}
