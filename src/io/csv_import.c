/* Transaction logs (CSV and the two CDNOW layouts) into a pd_summary, all
 * or nothing. */
#include <privdomain/io.h>

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"
#include "csv.h"
#include "file.h"
#include "models/summary_internal.h"
#include "text.h"

int32_t pd_import_format_from_name(const char *name) {
  if (!name) return 0;
  if (strcmp(name, "csv") == 0) return PD_IMPORT_CSV;
  if (strcmp(name, "cdnow-sample") == 0) return PD_IMPORT_CDNOW_SAMPLE;
  if (strcmp(name, "cdnow-master") == 0) return PD_IMPORT_CDNOW_MASTER;
  return 0;
}

/* Validates one parsed transaction and adds it; errors name the line. */
static pd_status add_transaction(pd_summary *s, size_t line, const char *id,
                                 size_t id_len, const char *date,
                                 size_t date_len, const char *amount,
                                 size_t amount_len, int yyyymmdd_only) {
  if (id_len == 0)
    return pd_summary_set_error(s, PD_E_CORRUPT, "line %zu: empty customer id",
                                line);
  if (!pd_utf8_valid(id, id_len))
    return pd_summary_set_error(s, PD_E_CORRUPT,
                                "line %zu: customer id is not valid UTF-8",
                                line);
  int64_t t, days;
  /* CDNOW files write dates as YYYYMMDD only. */
  int bad = yyyymmdd_only ? date_len != 8 ||
                            pd_io_parse_date_days(date, date_len, &days)
                      : pd_io_parse_time(date, date_len, &t);
  if (yyyymmdd_only && !bad) t = days * 86400;
  if (bad)
    return pd_summary_set_error(s, PD_E_CORRUPT,
                                "line %zu: '%.*s' is not a date", line,
                                (int)(date_len > 40 ? 40 : date_len), date);
  if (t < 0 || t > PD_TIME_MAX)
    return pd_summary_set_error(
        s, PD_E_CORRUPT, "line %zu: date '%.*s' is outside 1970 .. 2100",
        line, (int)(date_len > 40 ? 40 : date_len), date);
  double v;
  if (amount_len && amount[0] == '-' &&
      pd_io_parse_number(amount + 1, amount_len - 1, 0, 0, &v) == 0)
    return pd_summary_set_error(s, PD_E_CORRUPT,
                                "line %zu: negative amount '%.*s'", line,
                                (int)(amount_len > 40 ? 40 : amount_len),
                                amount);
  if (pd_io_parse_number(amount, amount_len, 0, 0, &v) != 0)
    return pd_summary_set_error(s, PD_E_CORRUPT,
                                "line %zu: '%.*s' is not an amount", line,
                                (int)(amount_len > 40 ? 40 : amount_len),
                                amount);
  pd_status st = pd_summary_add_one(s, id, id_len, t, v);
  if (st != PD_OK)
    return pd_summary_set_error(s, st, "line %zu: %s", line,
                                pd_summary_errmsg(s));
  return PD_OK;
}

static int name_is(const char *s, size_t len, const char *name) {
  pd_io_trim(&s, &len);
  if (len != strlen(name)) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != name[i]) return 0;
  }
  return 1;
}

static pd_status csv_malformed(pd_summary *s, const pd_csv_reader *r,
                               int rc) {
  if (rc == -2)
    return pd_summary_set_error(s, PD_E_NOMEM, "line %zu: out of memory",
                                r->record_line);
  return pd_summary_set_error(s, PD_E_CORRUPT, "line %zu: %s",
                              r->record_line, r->error);
}

static pd_status import_csv(pd_summary *s, const char *data, size_t len,
                            const pd_allocator *a) {
  static const char *const wanted[3] = {"customer_id", "date", "amount"};
  pd_csv_reader r;
  pd_csv_init(&r, a, data, len);
  pd_status st = PD_OK;
  int rc = pd_csv_next(&r);
  if (rc <= 0) {
    st = rc == 0 ? pd_summary_set_error(s, PD_E_CORRUPT,
                                        "line 1: no header row")
                 : csv_malformed(s, &r, rc);
    goto done;
  }
  size_t col[3], width = r.nfields;
  for (int k = 0; k < 3; k++) {
    col[k] = SIZE_MAX;
    for (size_t i = 0; i < r.nfields; i++) {
      size_t l;
      const char *f = pd_csv_field_text(&r, i, &l);
      if (!name_is(f, l, wanted[k])) continue;
      if (col[k] != SIZE_MAX) {
        st = pd_summary_set_error(s, PD_E_CORRUPT,
                                  "line %zu: column '%s' appears twice",
                                  r.record_line, wanted[k]);
        goto done;
      }
      col[k] = i;
    }
    if (col[k] == SIZE_MAX) {
      st = pd_summary_set_error(
          s, PD_E_CORRUPT,
          "line %zu: the header has no '%s' column (need customer_id, "
          "date, amount)",
          r.record_line, wanted[k]);
      goto done;
    }
  }
  while ((rc = pd_csv_next(&r)) == 1) {
    if (r.nfields != width) {
      st = pd_summary_set_error(s, PD_E_CORRUPT,
                                "line %zu: %zu fields, the header has %zu",
                                r.record_line, r.nfields, width);
      goto done;
    }
    size_t l[3];
    const char *f[3];
    for (int k = 0; k < 3; k++) {
      f[k] = pd_csv_field_text(&r, col[k], &l[k]);
      if (k > 0) pd_io_trim(&f[k], &l[k]);
    }
    st = add_transaction(s, r.record_line, f[0], l[0], f[1], l[1], f[2], l[2],
                         0);
    if (st != PD_OK) goto done;
  }
  if (rc < 0) st = csv_malformed(s, &r, rc);
done:
  pd_csv_free(&r);
  return st;
}

/* Splits one line into whitespace-separated words (at most max). */
static size_t split_words(const char *s, const char *e, const char **w,
                          size_t *wl, size_t max) {
  size_t n = 0;
  while (s < e) {
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
    if (s >= e) break;
    const char *b = s;
    while (s < e && *s != ' ' && *s != '\t' && *s != '\r') s++;
    if (n < max) {
      w[n] = b;
      wl[n] = (size_t)(s - b);
    }
    n++;
  }
  return n;
}

/* CDNOW ids are numbers written with leading zeros ("00004"); the
 * published summaries print them as plain numbers. */
static int strip_zeros(const char **s, size_t *len) {
  for (size_t i = 0; i < *len; i++)
    if ((*s)[i] < '0' || (*s)[i] > '9') return -1;
  while (*len > 1 && **s == '0') {
    (*s)++;
    (*len)--;
  }
  return 0;
}

static pd_status import_cdnow(pd_summary *s, const char *data, size_t len,
                              int master) {
  const char *p = data, *end = data + len;
  size_t line = 0, fields = master ? 4 : 5;
  size_t id_col = master ? 0 : 1, date_col = master ? 1 : 2;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    line++;
    const char *w[5];
    size_t wl[5];
    size_t n = split_words(p, e, w, wl, 5);
    p = nl ? nl + 1 : end;
    if (master && line == 1) continue; /* the header */
    if (n == 0) continue;
    if (n != fields)
      return pd_summary_set_error(s, PD_E_CORRUPT,
                                  "line %zu: %zu fields, expected %zu", line,
                                  n, fields);
    if (strip_zeros(&w[id_col], &wl[id_col]) != 0)
      return pd_summary_set_error(
          s, PD_E_CORRUPT, "line %zu: customer id is not a number", line);
    double cds;
    if (pd_io_parse_number(w[fields - 2], wl[fields - 2], 0, 0, &cds) != 0)
      return pd_summary_set_error(
          s, PD_E_CORRUPT, "line %zu: number of CDs is not a number", line);
    pd_status st =
        add_transaction(s, line, w[id_col], wl[id_col], w[date_col],
                        wl[date_col], w[fields - 1], wl[fields - 1], 1);
    if (st != PD_OK) return st;
  }
  if (master && line == 0)
    return pd_summary_set_error(s, PD_E_CORRUPT, "line 1: no header line");
  return PD_OK;
}

pd_status pd_import_transactions(pd_summary *s, int32_t format,
                                 const char *data, size_t len) {
  if (!pd_summary_is_valid(s)) return PD_E_MISUSE;
  if (!data && len > 0)
    return pd_summary_set_error(s, PD_E_INVALID, "data is NULL");
  if (!data) data = "";
  pd_summary_mark mark;
  pd_summary_begin(s, &mark);
  pd_status st;
  switch (format) {
    case PD_IMPORT_CSV:
      st = import_csv(s, data, len, pd_summary_allocator(s));
      break;
    case PD_IMPORT_CDNOW_SAMPLE:
    case PD_IMPORT_CDNOW_MASTER:
      st = import_cdnow(s, data, len, format == PD_IMPORT_CDNOW_MASTER);
      break;
    default:
      return pd_summary_set_error(s, PD_E_INVALID, "unknown format %d",
                                  (int)format);
  }
  if (st != PD_OK) {
    pd_summary_rollback(s, &mark);
    return st;
  }
  pd_summary_set_error(s, PD_OK, "%s", "");
  return PD_OK;
}

pd_status pd_import_transactions_file(pd_summary *s, int32_t format,
                                      const char *path) {
  if (!pd_summary_is_valid(s)) return PD_E_MISUSE;
  if (!path) return pd_summary_set_error(s, PD_E_INVALID, "path is NULL");
  if (format != PD_IMPORT_CSV &&
      format != PD_IMPORT_CDNOW_SAMPLE && format != PD_IMPORT_CDNOW_MASTER)
    return pd_summary_set_error(s, PD_E_INVALID, "unknown format %d",
                                (int)format);
  const pd_allocator *a = pd_summary_allocator(s);
  char *data;
  size_t len;
  pd_errbuf why;
  pd_status st = pd_io_read_file(a, path, &data, &len, &why);
  if (st != PD_OK) return pd_summary_set_error(s, st, "%s", why.msg);
  st = pd_import_transactions(s, format, data, len);
  pd_free(a, data);
  return st;
}
