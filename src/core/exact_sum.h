/* Exact sums of non-negative doubles: an accumulator that keeps every bit,
 * so a sum does not depend on the order of its terms or on how the terms
 * were grouped into partial sums (what lets spends summed on different
 * machines merge into the value one machine would get), rounded to the
 * nearest double (ties to even) only when read.
 *
 * A value is a non-negative binary number sum(d[k] * 2^(32k - 1088)) with
 * 32-bit digits d[0 .. PD_XSUM_DIGITS): wide enough for 2^53 terms of any
 * finite double, including subnormals. Stored values ("xnums") keep only
 * the digits from the lowest to the highest non-zero one:
 *   word 0: lo | n << 8  (lowest digit index, number of digits; n = 0 is 0)
 *   words 1 .. n: the digits, lowest first, each < 2^32; with n > 0 the
 *   first and last are non-zero (one value has one form). */
#ifndef PD_CORE_EXACT_SUM_H
#define PD_CORE_EXACT_SUM_H

#include <stddef.h>
#include <stdint.h>

#define PD_XSUM_DIGITS 68
/* Most words an xnum takes (header + digits). */
#define PD_XNUM_MAX_WORDS (PD_XSUM_DIGITS + 1)

typedef struct pd_xacc {
  int64_t d[PD_XSUM_DIGITS]; /* digits, with carries not yet propagated */
  int lo, hi;                /* range of digits that may be non-zero */
  uint32_t pending;          /* additions since the last normalisation */
} pd_xacc;

/* Sets the accumulator to 0 (the first time; later pd_xacc_clear). */
void pd_xacc_init(pd_xacc *a);
/* Sets it back to 0, touching only the digits in use. */
void pd_xacc_clear(pd_xacc *a);
/* Adds v, which must be finite and >= 0. */
void pd_xacc_add(pd_xacc *a, double v);
/* Adds / subtracts a stored value (the result must stay >= 0). */
void pd_xacc_add_xnum(pd_xacc *a, const uint32_t *x);
void pd_xacc_sub_xnum(pd_xacc *a, const uint32_t *x);
/* Adds another accumulator (normalising b, whose value is unchanged). */
void pd_xacc_add_acc(pd_xacc *a, pd_xacc *b);
/* The value rounded to the nearest double, ties to even (inf when it is
 * beyond DBL_MAX). */
double pd_xacc_value(pd_xacc *a);
/* Writes the value as an xnum into out (room for PD_XNUM_MAX_WORDS);
 * returns the number of words written. */
size_t pd_xacc_store(pd_xacc *a, uint32_t *out);
/* Whether a is zero. */
int pd_xacc_is_zero(pd_xacc *a);
/* Compares two accumulators' values: -1, 0 or 1. */
int pd_xacc_cmp(pd_xacc *a, pd_xacc *b);

/* Words taken by the xnum at x. */
static inline size_t pd_xnum_words(const uint32_t *x) {
  return 1 + (x[0] >> 8);
}

#endif
