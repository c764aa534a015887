/*
 * libprivdomain — reading transaction logs and customer-summary tables.
 *
 * The only part of the library that touches files. Every reader has a
 * memory-buffer form (for callers that already hold the bytes, and for
 * fuzzing) and a file-path form that reads the whole file and then does
 * exactly what the buffer form does.
 *
 * Malformed input gives PD_E_CORRUPT with a message "line N: what is
 * wrong" (N counts physical lines from 1) on the handle involved, and the
 * handle is left exactly as it was before the call: nothing is half
 * imported.
 */
#ifndef PRIVDOMAIN_IO_H
#define PRIVDOMAIN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "export.h"
#include "status.h"
#include "summary.h"

PD_BEGIN_DECLS

/**
 * Transaction file formats, passed as int32_t. Never renumbered.
 *
 * PD_IMPORT_CSV: RFC 4180 CSV (comma separated, fields optionally in double
 *   quotes with "" for a quote, CRLF or LF line ends, an optional UTF-8
 *   byte-order mark). The first record is a header naming the columns
 *   customer_id, date and amount (matched without regard to case or
 *   surrounding spaces, in any order; other columns are ignored). Every
 *   record has as many fields as the header; blank lines are skipped.
 *   customer_id: non-empty UTF-8, kept verbatim. date: YYYY-MM-DD or
 *   YYYYMMDD (midnight UTC), either optionally followed by 'T' or ' ' and
 *   HH:MM or HH:MM:SS and an optional 'Z' (all UTC), or Unix seconds (a
 *   run of digits other than 8 long). amount: a decimal number >= 0
 *   ("12", "12.5", ".5"; no exponent, no thousands separator).
 * PD_IMPORT_CDNOW_SAMPLE: the CDNOW 2,357-customer sample: no header,
 *   whitespace separated: master id, sample id, date YYYYMMDD, number of
 *   CDs, dollars. The customer id is the sample id (1 .. 2357, leading
 *   zeros removed, as in the published summaries).
 * PD_IMPORT_CDNOW_MASTER: the full CDNOW cohort: one header line, then
 *   whitespace separated customer id, date YYYYMMDD, number of CDs,
 *   dollars; CRLF or LF. The id has its leading zeros removed.
 */
enum {
  PD_IMPORT_CSV = 1,
  PD_IMPORT_CDNOW_SAMPLE = 2,
  PD_IMPORT_CDNOW_MASTER = 3
};

/**
 * pd_import_format_from_name - the format named "csv", "cdnow-sample" or
 * "cdnow-master" (NUL-terminated, case-sensitive); 0 when unknown or NULL.
 * Thread safety: safe from any thread.
 */
PD_API int32_t pd_import_format_from_name(const char *name);

/**
 * pd_import_transactions - add the transactions in `len` bytes at `data`
 * (in `format`) to the summary builder `s`, all or nothing.
 *
 * Amounts become pd_summary amounts as written (no currency conversion).
 * Errors (message on s, see pd_summary_errmsg): PD_E_MISUSE (s NULL),
 * PD_E_INVALID (data NULL with len > 0, unknown format), PD_E_CORRUPT
 * (malformed input, a date outside 1970-01-01 .. 2100-01-01, a negative
 * amount; "line N: …"), PD_E_FULL, PD_E_NOMEM. On error s is unchanged.
 * Thread safety: as for any call modifying s.
 */
PD_API pd_status pd_import_transactions(pd_summary *s, int32_t format,
                                        const char *data, size_t len);

/**
 * pd_import_transactions_file - as pd_import_transactions, reading the
 * file at `path` (NUL-terminated, opened read-only in binary mode).
 *
 * Additional errors: PD_E_INVALID (path NULL), PD_E_IO (cannot open or
 * read the file; the message names it and the system's reason).
 */
PD_API pd_status pd_import_transactions_file(pd_summary *s, int32_t format,
                                             const char *path);

/**
 * pd_date_parse - a calendar date "YYYY-MM-DD" or "YYYYMMDD" (exactly
 * `len` bytes) as seconds since the epoch at 00:00:00 UTC of that day.
 *
 * Errors: PD_E_INVALID (text NULL or out NULL), PD_E_CORRUPT (not one of
 * the two forms, or no such day: month 13, 31 April, 29 February of a
 * common year), PD_E_RANGE (before 1970 or after 2100-01-01).
 * Thread safety: safe from any thread.
 */
PD_API pd_status pd_date_parse(const char *text, size_t len, int64_t *out);

/**
 * A CSV table with a header row, read whole into memory: the reader for
 * customer-summary files (ID, frequency, recency, T, … as written by
 * `pd summary` or other BTYD tools) and similar numeric tables. Same CSV
 * dialect as PD_IMPORT_CSV; cells are kept as text and converted to
 * numbers on request. Opaque; pd_csv_table_new() / pd_csv_table_free().
 * Not thread-safe: one thread at a time per table.
 */
typedef struct pd_csv_table pd_csv_table;

/** Options for pd_csv_table_new(); PD_CSV_TABLE_OPTIONS_INIT. A larger
 *  size from a newer caller is accepted when the unknown tail is zero. */
typedef struct pd_csv_table_options {
  size_t size;
  /** Allocator for everything the table allocates; NULL = malloc/free. */
  const pd_allocator *allocator;
} pd_csv_table_options;

#define PD_CSV_TABLE_OPTIONS_INIT {sizeof(pd_csv_table_options), NULL}

/**
 * pd_csv_table_new - create an empty table (no columns, no rows).
 * Errors: PD_E_INVALID (out NULL, bad size, incomplete allocator),
 * PD_E_NOMEM. Thread safety: safe from any thread.
 */
PD_API pd_status pd_csv_table_new(const pd_csv_table_options *opts,
                                  pd_csv_table **out);

/** pd_csv_table_free - release the table; NULL is a no-op. */
PD_API void pd_csv_table_free(pd_csv_table *t);

/** pd_csv_table_errmsg - message of the last error ("" after success);
 *  owned by the table, never NULL. */
PD_API const char *pd_csv_table_errmsg(const pd_csv_table *t);

/**
 * pd_csv_table_load - replace the table's content by the CSV in `len`
 * bytes at `data`. The header must name every column (non-empty, no name
 * twice); every record must have as many fields as the header; blank lines
 * are skipped.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (data NULL with len > 0), PD_E_CORRUPT
 * ("line N: …": no header, an unterminated quote, a wrong field count, an
 * empty or repeated column name), PD_E_NOMEM. On error the table keeps its
 * previous content.
 */
PD_API pd_status pd_csv_table_load(pd_csv_table *t, const char *data,
                                   size_t len);

/** pd_csv_table_load_file - as pd_csv_table_load, reading `path`.
 *  Additional errors: PD_E_INVALID (path NULL), PD_E_IO. */
PD_API pd_status pd_csv_table_load_file(pd_csv_table *t, const char *path);

/** pd_csv_table_rows - number of data rows (header excluded). */
PD_API size_t pd_csv_table_rows(const pd_csv_table *t);

/** pd_csv_table_columns - number of columns. */
PD_API size_t pd_csv_table_columns(const pd_csv_table *t);

/**
 * pd_csv_table_find - the index of the column named `name` (NUL-terminated,
 * compared exactly, case-sensitive, after trimming spaces from the header).
 * Errors: PD_E_MISUSE, PD_E_INVALID (name or out NULL), PD_E_NOT_FOUND.
 */
PD_API pd_status pd_csv_table_find(const pd_csv_table *t, const char *name,
                                   size_t *out);

/**
 * pd_csv_table_cell - the text of a cell (row < rows, or row = SIZE_MAX
 * for the header). *text is NUL-terminated, owned by the table, valid until
 * the next load or free; *len (may be NULL) is its length.
 * Errors: PD_E_MISUSE, PD_E_INVALID (text NULL), PD_E_NOT_FOUND (row or
 * column out of range).
 */
PD_API pd_status pd_csv_table_cell(const pd_csv_table *t, size_t row,
                                   size_t column, const char **text,
                                   size_t *len);

/**
 * pd_csv_table_numbers - column `column` as rows() doubles. Each cell must
 * be a finite decimal number (optional sign, digits, optional fraction,
 * optional exponent; surrounding spaces allowed). The array is owned by the
 * table and valid until the next load or free.
 *
 * Errors: PD_E_MISUSE, PD_E_INVALID (out NULL), PD_E_NOT_FOUND (no such
 * column), PD_E_CORRUPT ("line N: column 'x': 'abc' is not a number"),
 * PD_E_NOMEM.
 */
PD_API pd_status pd_csv_table_numbers(pd_csv_table *t, size_t column,
                                      const double **out);

PD_END_DECLS

#endif /* PRIVDOMAIN_IO_H */
