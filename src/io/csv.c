#include "csv.h"

#include <string.h>

void pd_csv_init(pd_csv_reader *r, const pd_allocator *a, const char *data,
                 size_t len) {
  memset(r, 0, sizeof *r);
  r->a = a;
  r->data = r->p = data ? data : "";
  r->end = r->p + (data ? len : 0);
  r->line = 1;
  if (r->end - r->p >= 3 && memcmp(r->p, "\xEF\xBB\xBF", 3) == 0) r->p += 3;
}

void pd_csv_free(pd_csv_reader *r) {
  pd_free(r->a, r->scratch);
  pd_free(r->a, r->fields);
  r->scratch = NULL;
  r->fields = NULL;
}

const char *pd_csv_field_text(const pd_csv_reader *r, size_t i,
                              size_t *len) {
  const pd_csv_field *f = &r->fields[i];
  *len = f->len;
  /* An empty field may have no buffer behind it (no scratch allocated
   * yet): NULL + 0 is undefined behaviour, so hand out "" instead. */
  const char *base = f->in_scratch ? r->scratch : r->data;
  return base ? base + f->off : "";
}

static int push_field(pd_csv_reader *r, size_t off, size_t len,
                      int in_scratch) {
  if (pd_grow(r->a, (void **)&r->fields, &r->fields_cap, r->nfields + 1,
              sizeof *r->fields) != 0)
    return -2;
  pd_csv_field *f = &r->fields[r->nfields++];
  f->off = off;
  f->len = len;
  f->in_scratch = in_scratch;
  return 0;
}

/* Consumes a line end at p if there is one; returns whether it did. */
static int eat_newline(pd_csv_reader *r) {
  if (r->p < r->end && *r->p == '\r') {
    r->p++;
    if (r->p < r->end && *r->p == '\n') r->p++;
    r->line++;
    return 1;
  }
  if (r->p < r->end && *r->p == '\n') {
    r->p++;
    r->line++;
    return 1;
  }
  return 0;
}

static int quoted_field(pd_csv_reader *r) {
  size_t start = r->scratch_len;
  r->p++; /* opening quote */
  for (;;) {
    if (r->p >= r->end) {
      r->error = "unterminated quoted field";
      return -1;
    }
    char c = *r->p++;
    if (c == '"') {
      if (r->p < r->end && *r->p == '"') {
        r->p++;
      } else {
        break;
      }
    } else if (c == '\n') {
      r->line++;
    }
    if (pd_grow(r->a, (void **)&r->scratch, &r->scratch_cap,
                r->scratch_len + 1, 1) != 0)
      return -2;
    r->scratch[r->scratch_len++] = c;
  }
  if (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') {
    r->error = "text after the closing quote of a field";
    return -1;
  }
  return push_field(r, start, r->scratch_len - start, 1);
}

int pd_csv_next(pd_csv_reader *r) {
  r->nfields = 0;
  r->scratch_len = 0;
  r->error = NULL;
  while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) eat_newline(r);
  if (r->p >= r->end) return 0;
  r->record_line = r->line;
  for (;;) {
    int rc;
    if (r->p < r->end && *r->p == '"') {
      rc = quoted_field(r);
    } else {
      const char *s = r->p;
      while (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r')
        r->p++;
      rc = push_field(r, (size_t)(s - r->data), (size_t)(r->p - s), 0);
    }
    if (rc) return rc;
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      continue;
    }
    eat_newline(r);
    return 1;
  }
}
