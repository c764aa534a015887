/* A CSV table with a header, kept as text and converted to numbers per
 * column on request: the reader of customer-summary files. */
#include <privdomain/io.h>

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "csv.h"
#include "file.h"
#include "text.h"

#define TABLE_MAGIC 0x50444354u /* "PDCT" */

typedef struct content {
  size_t rows, cols;
  char *text;      /* every cell, NUL-terminated */
  size_t text_len, text_cap;
  size_t *cell;    /* (rows + 1) * cols offsets into text; row 0 = header */
  size_t cell_cap;
  size_t *line;    /* physical line of each data row */
  size_t line_cap;
  double **numbers; /* per column, NULL until asked for */
} content;

struct pd_csv_table {
  uint32_t magic;
  pd_allocator alloc;
  pd_errbuf err;
  content c;
};

static int valid(const pd_csv_table *t) {
  return t && t->magic == TABLE_MAGIC;
}

static void content_free(const pd_allocator *a, content *c) {
  if (c->numbers)
    for (size_t i = 0; i < c->cols; i++) pd_free(a, c->numbers[i]);
  pd_free(a, c->numbers);
  pd_free(a, c->text);
  pd_free(a, c->cell);
  pd_free(a, c->line);
  memset(c, 0, sizeof *c);
}

pd_status pd_csv_table_new(const pd_csv_table_options *opts,
                           pd_csv_table **out) {
  if (!out) return PD_E_INVALID;
  const pd_allocator *in = NULL;
  if (opts) {
    if (opts->size < sizeof *opts) return PD_E_INVALID;
    const unsigned char *b = (const unsigned char *)opts;
    for (size_t i = sizeof *opts; i < opts->size; i++)
      if (b[i]) return PD_E_INVALID;
    in = opts->allocator;
  }
  pd_allocator a;
  if (pd_alloc_init(&a, in) != 0) return PD_E_INVALID;
  pd_csv_table *t = pd_calloc(&a, 1, sizeof *t);
  if (!t) return PD_E_NOMEM;
  t->magic = TABLE_MAGIC;
  t->alloc = a;
  *out = t;
  return PD_OK;
}

void pd_csv_table_free(pd_csv_table *t) {
  if (!valid(t)) return;
  pd_allocator a = t->alloc;
  content_free(&a, &t->c);
  t->magic = 0;
  pd_free(&a, t);
}

const char *pd_csv_table_errmsg(const pd_csv_table *t) {
  if (!valid(t)) return "not a valid pd_csv_table handle";
  return t->err.msg;
}

/* Appends the fields of the reader's current record as one row. */
static int add_row(const pd_allocator *a, content *c,
                   const pd_csv_reader *r, int header) {
  size_t row = header ? 0 : c->rows + 1;
  if (pd_grow(a, (void **)&c->cell, &c->cell_cap, (row + 1) * c->cols,
              sizeof *c->cell) != 0)
    return -1;
  if (!header && pd_grow(a, (void **)&c->line, &c->line_cap, c->rows + 1,
                         sizeof *c->line) != 0)
    return -1;
  for (size_t i = 0; i < c->cols; i++) {
    size_t len;
    const char *f = pd_csv_field_text(r, i, &len);
    if (header) pd_io_trim(&f, &len);
    if (pd_grow(a, (void **)&c->text, &c->text_cap, c->text_len + len + 1,
                1) != 0)
      return -1;
    c->cell[row * c->cols + i] = c->text_len;
    if (len) memcpy(c->text + c->text_len, f, len);
    c->text[c->text_len + len] = '\0';
    c->text_len += len + 1;
  }
  if (!header) c->line[c->rows++] = r->record_line;
  return 0;
}

static const char *cell_text(const content *c, size_t row, size_t col) {
  return c->text + c->cell[row * c->cols + col];
}

static pd_status parse(pd_csv_table *t, const char *data, size_t len,
                       content *c) {
  const pd_allocator *a = &t->alloc;
  pd_csv_reader r;
  pd_csv_init(&r, a, data, len);
  pd_status st = PD_OK;
  int rc = pd_csv_next(&r);
  if (rc == 0) {
    st = pd_err(&t->err, PD_E_CORRUPT, "line 1: no header row");
    goto done;
  }
  if (rc < 0) goto malformed;
  c->cols = r.nfields;
  if (add_row(a, c, &r, 1) != 0) goto nomem;
  for (size_t i = 0; i < c->cols; i++) {
    const char *name = cell_text(c, 0, i);
    if (!*name) {
      st = pd_err(&t->err, PD_E_CORRUPT, "line %zu: column %zu has no name",
                  r.record_line, i + 1);
      goto done;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(name, cell_text(c, 0, j)) == 0) {
        st = pd_err(&t->err, PD_E_CORRUPT,
                    "line %zu: column '%.40s' appears twice", r.record_line,
                    name);
        goto done;
      }
  }
  while ((rc = pd_csv_next(&r)) == 1) {
    if (r.nfields != c->cols) {
      st = pd_err(&t->err, PD_E_CORRUPT,
                  "line %zu: %zu fields, the header has %zu", r.record_line,
                  r.nfields, c->cols);
      goto done;
    }
    if (add_row(a, c, &r, 0) != 0) goto nomem;
  }
  if (rc == 0) {
    c->numbers = pd_calloc(a, c->cols, sizeof *c->numbers);
    if (!c->numbers) goto nomem;
    goto done;
  }
malformed:
  if (rc == -2) goto nomem;
  st = pd_err(&t->err, PD_E_CORRUPT, "line %zu: %s", r.record_line, r.error);
  goto done;
nomem:
  st = pd_err(&t->err, PD_E_NOMEM, "out of memory");
done:
  pd_csv_free(&r);
  return st;
}

pd_status pd_csv_table_load(pd_csv_table *t, const char *data, size_t len) {
  if (!valid(t)) return PD_E_MISUSE;
  if (!data && len > 0)
    return pd_err(&t->err, PD_E_INVALID, "data is NULL");
  content c;
  memset(&c, 0, sizeof c);
  pd_status st = parse(t, data, len, &c);
  if (st != PD_OK) {
    content_free(&t->alloc, &c);
    return st;
  }
  content_free(&t->alloc, &t->c);
  t->c = c;
  pd_err_clear(&t->err);
  return PD_OK;
}

pd_status pd_csv_table_load_file(pd_csv_table *t, const char *path) {
  if (!valid(t)) return PD_E_MISUSE;
  if (!path) return pd_err(&t->err, PD_E_INVALID, "path is NULL");
  char *data;
  size_t len;
  pd_status st = pd_io_read_file(&t->alloc, path, &data, &len, &t->err);
  if (st != PD_OK) return st;
  st = pd_csv_table_load(t, data, len);
  pd_free(&t->alloc, data);
  return st;
}

size_t pd_csv_table_rows(const pd_csv_table *t) {
  return valid(t) ? t->c.rows : 0;
}

size_t pd_csv_table_columns(const pd_csv_table *t) {
  return valid(t) ? t->c.cols : 0;
}

pd_status pd_csv_table_find(const pd_csv_table *t, const char *name,
                            size_t *out) {
  if (!valid(t)) return PD_E_MISUSE;
  if (!name || !out) return PD_E_INVALID;
  for (size_t i = 0; i < t->c.cols; i++)
    if (strcmp(cell_text(&t->c, 0, i), name) == 0) {
      *out = i;
      return PD_OK;
    }
  return PD_E_NOT_FOUND;
}

pd_status pd_csv_table_cell(const pd_csv_table *t, size_t row, size_t column,
                            const char **text, size_t *len) {
  if (!valid(t)) return PD_E_MISUSE;
  if (!text) return PD_E_INVALID;
  size_t r = row == SIZE_MAX ? 0 : row + 1;
  if (column >= t->c.cols || (row != SIZE_MAX && row >= t->c.rows))
    return PD_E_NOT_FOUND;
  const char *s = cell_text(&t->c, r, column);
  *text = s;
  if (len) *len = strlen(s);
  return PD_OK;
}

pd_status pd_csv_table_numbers(pd_csv_table *t, size_t column,
                               const double **out) {
  if (!valid(t)) return PD_E_MISUSE;
  if (!out) return PD_E_INVALID;
  content *c = &t->c;
  if (column >= c->cols)
    return pd_err(&t->err, PD_E_NOT_FOUND, "no column %zu", column);
  if (c->numbers[column]) {
    *out = c->numbers[column];
    return PD_OK;
  }
  double *v = pd_realloc_array(&t->alloc, NULL, c->rows, sizeof *v);
  if (!v) return pd_err(&t->err, PD_E_NOMEM, "out of memory");
  for (size_t i = 0; i < c->rows; i++) {
    const char *s = cell_text(c, i + 1, column);
    size_t len = strlen(s);
    pd_io_trim(&s, &len);
    if (pd_io_parse_number(s, len, 1, 1, &v[i]) != 0) {
      pd_free(&t->alloc, v);
      return pd_err(&t->err, PD_E_CORRUPT,
                    "line %zu: column '%.40s': '%.40s' is not a number",
                    c->line[i], cell_text(c, 0, column),
                    cell_text(c, i + 1, column));
    }
  }
  c->numbers[column] = v;
  *out = v;
  pd_err_clear(&t->err);
  return PD_OK;
}
