/* An RFC 4180 CSV record reader over a memory buffer: comma separated,
 * fields optionally double-quoted with "" for a quote (quoted fields may
 * span lines), CRLF, LF or CR line ends, a leading UTF-8 byte-order mark
 * skipped, empty lines skipped. Unquoted fields are returned in place;
 * quoted ones are unescaped into a scratch buffer. */
#ifndef PD_IO_CSV_H
#define PD_IO_CSV_H

#include <stddef.h>

#include "core/alloc.h"

typedef struct pd_csv_field {
  size_t off, len;
  int in_scratch; /* off is into the scratch buffer, else into the input */
} pd_csv_field;

typedef struct pd_csv_reader {
  const pd_allocator *a;
  const char *data, *p, *end;
  size_t line;        /* physical line of p, from 1 */
  size_t record_line; /* first line of the last record read */
  char *scratch;
  size_t scratch_len, scratch_cap;
  pd_csv_field *fields;
  size_t nfields, fields_cap;
  const char *error; /* what was malformed, when next returned -1 */
} pd_csv_reader;

void pd_csv_init(pd_csv_reader *r, const pd_allocator *a, const char *data,
                 size_t len);
void pd_csv_free(pd_csv_reader *r);
/* Reads the next record: 1, 0 at the end of input, -1 malformed
 * (r->error, at r->record_line), -2 out of memory. */
int pd_csv_next(pd_csv_reader *r);
/* Field i of the last record (not NUL-terminated). */
const char *pd_csv_field_text(const pd_csv_reader *r, size_t i,
                              size_t *len);

#endif
