#include "text.h"

#include <math.h>
#include <privdomain/io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/summary_internal.h"

int64_t pd_io_days_from_civil(int64_t y, int m, int d) {
  /* Shift the year to start in March so the leap day comes last. */
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int digits(const char *s, size_t n, int64_t *out) {
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

void pd_io_trim(const char **s, size_t *len) {
  while (*len && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*len)--;
  }
  while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) (*len)--;
}

int pd_io_parse_number(const char *s, size_t len, int allow_sign,
                       int allow_exponent, double *out) {
  size_t i = 0;
  int negative = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) {
    if (!allow_sign) return -1;
    negative = s[i] == '-';
    i++;
  }
  uint64_t mant = 0;
  int exp10 = 0, ndigits = 0, significant = 0;
  for (; i < len && is_digit(s[i]); i++, ndigits++) {
    if (significant < 19) {
      mant = mant * 10 + (uint64_t)(s[i] - '0');
      if (mant) significant++;
    } else {
      exp10++;
    }
  }
  if (i < len && s[i] == '.') {
    for (i++; i < len && is_digit(s[i]); i++, ndigits++) {
      if (significant < 19) {
        mant = mant * 10 + (uint64_t)(s[i] - '0');
        if (mant) significant++;
        exp10--;
      }
    }
  }
  if (ndigits == 0) return -1;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    if (!allow_exponent) return -1;
    i++;
    int eneg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= len || !is_digit(s[i])) return -1;
    int e = 0;
    for (; i < len && is_digit(s[i]); i++)
      if (e < 100000) e = e * 10 + (s[i] - '0');
    exp10 += eneg ? -e : e;
  }
  if (i != len) return -1;
  double v;
  /* Exact when the mantissa and the power of ten are both exact doubles:
   * one correctly rounded multiplication or division. */
  if (mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
    static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                   1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                   1e18, 1e19, 1e20, 1e21, 1e22};
    v = exp10 >= 0 ? (double)mant * p10[exp10] : (double)mant / p10[-exp10];
  } else if (mant == 0) {
    v = 0;
  } else {
    /* Long mantissas (e.g. %.17g output): the canonical text through
     * strtod, checked to be consumed whole; long double powers if a
     * locale made strtod stop early. */
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)mant,
                     exp10);
    char *end = NULL;
    v = strtod(buf, &end);
    if (n <= 0 || end != buf + n)
      v = (double)((long double)mant * powl(10.0L, (long double)exp10));
  }
  if (!isfinite(v)) return -1;
  *out = negative ? -v : v;
  return 0;
}

static int days_in_month(int64_t y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return dm[m - 1] + (m == 2 && leap);
}

int pd_io_parse_date_days(const char *s, size_t len, int64_t *days) {
  int64_t y, m, d;
  if (len == 10 && s[4] == '-' && s[7] == '-') {
    if (digits(s, 4, &y) || digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
      return -1;
  } else if (len == 8) {
    if (digits(s, 4, &y) || digits(s + 4, 2, &m) || digits(s + 6, 2, &d))
      return -1;
  } else {
    return -1;
  }
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m)) return -1;
  *days = pd_io_days_from_civil(y, (int)m, (int)d);
  return 0;
}

int pd_io_parse_time(const char *s, size_t len, int64_t *out) {
  int64_t v;
  size_t k = 0;
  while (k < len && is_digit(s[k])) k++;
  if (k == len && len != 8) {
    /* Unix seconds; 12 digits already exceed the accepted range. */
    if (len == 0 || len > 12 || digits(s, len, &v)) return -1;
    *out = v;
    return 0;
  }
  size_t dlen = (len >= 10 && s[4] == '-') ? 10 : 8;
  if (len < dlen) return -1;
  int64_t days;
  if (pd_io_parse_date_days(s, dlen, &days)) return -1;
  int64_t secs = 0;
  if (len > dlen) {
    const char *t = s + dlen + 1;
    size_t tl = len - dlen - 1;
    if (s[dlen] != 'T' && s[dlen] != ' ') return -1;
    if (tl && t[tl - 1] == 'Z') tl--;
    int64_t hh, mm, ss = 0;
    if (tl != 5 && tl != 8) return -1;
    if (digits(t, 2, &hh) || t[2] != ':' || digits(t + 3, 2, &mm)) return -1;
    if (tl == 8 && (t[5] != ':' || digits(t + 6, 2, &ss))) return -1;
    if (hh > 23 || mm > 59 || ss > 59) return -1;
    secs = hh * 3600 + mm * 60 + ss;
  }
  *out = days * 86400 + secs;
  return 0;
}

pd_status pd_date_parse(const char *text, size_t len, int64_t *out) {
  if (!text || !out) return PD_E_INVALID;
  int64_t days;
  if (pd_io_parse_date_days(text, len, &days)) return PD_E_CORRUPT;
  int64_t t = days * 86400;
  if (t < 0 || t > PD_TIME_MAX) return PD_E_RANGE;
  *out = t;
  return PD_OK;
}
