#include "report_orders.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void trim(const char **s, size_t *len) {
  while (*len && isspace((unsigned char)**s))
    (*s)++, (*len)--;
  while (*len && isspace((unsigned char)(*s)[*len - 1]))
    (*len)--;
}

static int all_digits(const char *s, size_t len) {
  if (!len)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!isdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

static int two_digits(const char *s, int max, int *out) {
  if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
    return -1;
  *out = (s[0] - '0') * 10 + (s[1] - '0');
  return *out <= max ? 0 : -1;
}

/* The importer's date forms (io.h, PD_IMPORT_CSV): a date with an optional
 * time of day, or Unix seconds. The file was validated by the importer
 * already; this only has to agree with it on valid input. */
static int parse_when(const char *s, size_t len, int64_t *out) {
  trim(&s, &len);
  if (all_digits(s, len) && len != 8) {
    if (len > 12)
      return -1;
    *out = (int64_t)strtoll(s, NULL, 10);
    return 0;
  }
  size_t dlen = len >= 10 && s[4] == '-' ? 10 : 8;
  if (len < dlen || pd_date_parse(s, dlen, out) != PD_OK)
    return -1;
  const char *t = s + dlen;
  size_t rest = len - dlen;
  if (rest == 0)
    return 0;
  int hh, mm, ss = 0;
  if ((t[0] != 'T' && t[0] != ' ') || rest < 6 || two_digits(t + 1, 23, &hh) ||
      t[3] != ':' || two_digits(t + 4, 59, &mm))
    return -1;
  t += 6, rest -= 6;
  if (rest >= 3 && t[0] == ':') {
    if (two_digits(t + 1, 60, &ss))
      return -1;
    t += 3, rest -= 3;
  }
  if (rest == 1 && t[0] == 'Z')
    rest = 0;
  if (rest)
    return -1;
  *out += hh * 3600 + mm * 60 + ss;
  return 0;
}

/* Minor units (2 decimals) of a validated decimal amount. */
static int parse_amount(const char *s, size_t len, int64_t *out) {
  char buf[64];
  trim(&s, &len);
  if (len == 0 || len >= sizeof buf)
    return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end = NULL;
  double v = strtod(buf, &end);
  if (end != buf + len || !isfinite(v) || v < 0 || v > 9e15)
    return -1;
  *out = (int64_t)llround(v * 100.0);
  return 0;
}

typedef struct loader {
  pd_store *store;
  report_orders *o;
  char *err;
  size_t cap;
} loader;

static int add_order(loader *l, size_t line, const char *id, size_t id_len,
                     int64_t when, int64_t amount) {
  pd_user_id user = 0;
  pd_status st =
      pd_user_ensure(l->store, REPORT_ORDERS_NS, PD_NTS, id, id_len, &user);
  if (st != PD_OK && st != PD_REPLAYED) {
    snprintf(l->err, l->cap, "line %zu: customer '%.*s': %s", line,
             (int)(id_len > 64 ? 64 : id_len), id, pd_store_errmsg(l->store));
    return -1;
  }
  char eid[48];
  int n = snprintf(eid, sizeof eid, "order-row:%zu", line);
  pd_order ev = PD_ORDER_INIT;
  ev.event_id = pd_event_id_from_string(eid, (size_t)n);
  ev.order_id = (uint64_t)line;
  ev.user = user;
  ev.time = when;
  ev.amount = amount;
  st = pd_record_order(l->store, &ev);
  if (st != PD_OK) {
    snprintf(l->err, l->cap, "line %zu: recording the order: %s", line,
             pd_store_errmsg(l->store));
    return -1;
  }
  report_orders *o = l->o;
  if (o->rows == 0 || when < o->first)
    o->first = when;
  if (o->rows == 0 || when > o->last)
    o->last = when;
  o->rows++;
  return 0;
}

static int header_is(const char *s, size_t len, const char *name) {
  trim(&s, &len);
  if (len != strlen(name))
    return 0;
  for (size_t i = 0; i < len; i++)
    if (tolower((unsigned char)s[i]) != name[i])
      return 0;
  return 1;
}

static int load_csv(loader *l, const char *path) {
  pd_csv_table *t = NULL;
  pd_status st = pd_csv_table_new(NULL, &t);
  if (st == PD_OK)
    st = pd_csv_table_load_file(t, path);
  if (st != PD_OK) {
    snprintf(l->err, l->cap, "%s: %s", path,
             t ? pd_csv_table_errmsg(t) : pd_status_str(st));
    pd_csv_table_free(t);
    return -1;
  }
  static const char *const names[3] = {"customer_id", "date", "amount"};
  size_t col[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
  for (size_t c = 0; c < pd_csv_table_columns(t); c++) {
    const char *text;
    size_t len;
    if (pd_csv_table_cell(t, SIZE_MAX, c, &text, &len) != PD_OK)
      continue;
    for (int k = 0; k < 3; k++)
      if (col[k] == SIZE_MAX && header_is(text, len, names[k]))
        col[k] = c;
  }
  int rc = 0;
  for (int k = 0; k < 3 && !rc; k++)
    if (col[k] == SIZE_MAX) {
      snprintf(l->err, l->cap, "%s: no '%s' column", path, names[k]);
      rc = -1;
    }
  /* Rows are numbered from the header (line 1); blank lines are skipped
   * by the table, so this is the row's position, not always its line. */
  for (size_t r = 0; r < pd_csv_table_rows(t) && !rc; r++) {
    const char *v[3];
    size_t len[3];
    for (int k = 0; k < 3; k++)
      pd_csv_table_cell(t, r, col[k], &v[k], &len[k]);
    int64_t when = 0, amount = 0;
    const char *id = v[0];
    size_t id_len = len[0];
    if (parse_when(v[1], len[1], &when) ||
        parse_amount(v[2], len[2], &amount)) {
      snprintf(l->err, l->cap, "%s: row %zu: cannot read date or amount", path,
               r + 1);
      rc = -1;
      break;
    }
    rc = add_order(l, r + 2, id, id_len, when, amount);
  }
  pd_csv_table_free(t);
  return rc;
}

static char *read_file(const char *path, size_t *len, char *err, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, cap, "%s: cannot open", path);
    return NULL;
  }
  size_t n = 0, size = 1 << 16;
  char *buf = malloc(size);
  for (;;) {
    if (!buf)
      break;
    n += fread(buf + n, 1, size - n, f);
    if (n < size)
      break;
    char *p = realloc(buf, size * 2);
    if (!p) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = p;
    size *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    snprintf(err, cap, "%s: %s", path, buf ? "read error" : "out of memory");
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* CDNOW files: whitespace-separated words, ids with leading zeros
 * removed (as io.h describes). */
static int load_cdnow(loader *l, const char *path, int sample) {
  size_t len = 0;
  char *data = read_file(path, &len, l->err, l->cap);
  if (!data)
    return -1;
  int rc = 0;
  size_t line = 0;
  const size_t need = sample ? 5 : 4;
  for (size_t pos = 0; pos < len && !rc;) {
    size_t end = pos;
    while (end < len && data[end] != '\n')
      end++;
    line++;
    const char *w[6];
    size_t wl[6], nw = 0;
    for (size_t i = pos; i < end;) {
      while (i < end && isspace((unsigned char)data[i]))
        i++;
      if (i == end)
        break;
      size_t j = i;
      while (j < end && !isspace((unsigned char)data[j]))
        j++;
      if (nw < 6) {
        w[nw] = data + i;
        wl[nw] = j - i;
      }
      nw++;
      i = j;
    }
    pos = end + 1;
    if (nw == 0 || (!sample && line == 1))
      continue; /* blank line, or the master file's header */
    int64_t when = 0, amount = 0;
    const char *id = w[sample ? 1 : 0];
    size_t id_len = wl[sample ? 1 : 0];
    while (id_len > 1 && id[0] == '0')
      id++, id_len--;
    if (nw != need || pd_date_parse(w[need - 3], wl[need - 3], &when) ||
        parse_amount(w[need - 1], wl[need - 1], &amount)) {
      snprintf(l->err, l->cap, "%s: line %zu: not a CDNOW row", path, line);
      rc = -1;
      break;
    }
    rc = add_order(l, line, id, id_len, when, amount);
  }
  free(data);
  return rc;
}

int report_orders_load(pd_store *store, int32_t format, const char *path,
                       report_orders *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  pd_summary *check = NULL;
  pd_status st = pd_summary_new(NULL, &check);
  if (st != PD_OK) {
    snprintf(err, cap, "%s", pd_status_str(st));
    return -1;
  }
  st = pd_import_transactions_file(check, format, path);
  if (st != PD_OK) {
    if (st == PD_E_CORRUPT)
      snprintf(err, cap, "%s: %s", path, pd_summary_errmsg(check));
    else
      snprintf(err, cap, "%s", pd_summary_errmsg(check));
  }
  pd_summary_free(check);
  if (st != PD_OK)
    return -1;
  loader l = {store, out, err, cap};
  int rc = format == PD_IMPORT_CSV            ? load_csv(&l, path)
           : format == PD_IMPORT_CDNOW_SAMPLE ? load_cdnow(&l, path, 1)
                                              : load_cdnow(&l, path, 0);
  if (!rc && out->rows == 0) {
    snprintf(err, cap, "%s: no transactions", path);
    rc = -1;
  }
  return rc;
}
