/* Specification of the transaction importer and the CSV table reader
 * (include/privdomain/io.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

/* cmocka's assert_float_equal compares in single precision; this one
 * compares doubles. */
#define assert_near(a, b, tol)                                            \
  do {                                                                    \
    double a_ = (a), b_ = (b);                                            \
    if (!(fabs(a_ - b_) <= (tol)))                                        \
      fail_msg("%s = %.17g, expected %.17g within %g", #a, a_, b_,        \
               (double)(tol));                                            \
  } while (0)

#define DAY INT64_C(86400)

static pd_summary *new_summary(void) {
  pd_summary *s = NULL;
  assert_int_equal(pd_summary_new(NULL, &s), PD_OK);
  return s;
}

static pd_status import(pd_summary *s, const char *text) {
  return pd_import_transactions(s, PD_IMPORT_CSV, text, strlen(text));
}

static void compute_days(pd_summary *s, const char *cal_end) {
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  assert_int_equal(pd_date_parse(cal_end, strlen(cal_end),
                                 &spec.calibration_end), PD_OK);
  spec.calibration_end += DAY - 1;
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
}

static const double *col(pd_summary *s, int32_t c) {
  const double *p = NULL;
  assert_int_equal(pd_summary_column(s, c, &p), PD_OK);
  return p;
}

static void id_is(pd_summary *s, size_t row, const char *want) {
  const char *id;
  size_t len;
  assert_int_equal(pd_summary_id(s, row, &id, &len), PD_OK);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(id, want, len);
}

static void csv_columns_are_found_by_name_in_any_order(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  assert_int_equal(import(s, "store,Amount, date ,CUSTOMER_ID\n"
                             "s1,10.50,2024-01-01,c1\n"
                             "s2,4,2024-01-03,c1\n"
                             "s1,.5,2024-01-02,c2\n"),
                   PD_OK);
  assert_int_equal(pd_summary_transactions(s), 3);
  compute_days(s, "2024-01-10");
  assert_int_equal(pd_summary_rows(s), 2);
  id_is(s, 0, "c1");
  assert_true(col(s, PD_SUMMARY_X)[0] == 1);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 2);
  assert_true(col(s, PD_SUMMARY_T)[0] == 9);
  assert_true(col(s, PD_SUMMARY_MONETARY)[0] == 4.0);
  id_is(s, 1, "c2");
  pd_summary_free(s);
}

static void quoted_fields_follow_rfc4180(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  assert_int_equal(import(s, "\xEF\xBB\xBF" /* byte-order mark */
                             "customer_id,date,amount,note\r\n"
                             "\"Lee, \"\"Xiao\"\" Ming\",20240101,1,\"two\r\n"
                             "lines\"\r\n"
                             "\r\n"
                             "\"王芳\",\"2024-01-05\",\"2.25\",\n"),
                   PD_OK);
  compute_days(s, "2024-01-31");
  id_is(s, 0, "Lee, \"Xiao\" Ming");
  id_is(s, 1, "王芳");
  pd_summary_free(s);
}

static void dates_may_be_iso_compact_or_unix_seconds(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  assert_int_equal(import(s, "customer_id,date,amount\n"
                             "a,2024-02-29,1\n"
                             "a,20240301,1\n"
                             "a,1709337600,1\n"      /* 2024-03-02 00:00Z */
                             "a,2024-03-03T23:59:59Z,1\n"
                             "a,2024-03-04 08:30,1\n"),
                   PD_OK);
  compute_days(s, "2024-03-04");
  assert_true(col(s, PD_SUMMARY_X)[0] == 4);
  assert_true(col(s, PD_SUMMARY_T_X)[0] == 4);
  assert_true(col(s, PD_SUMMARY_T)[0] == 4);
  int64_t t = 0;
  assert_int_equal(pd_date_parse("2024-03-02", 10, &t), PD_OK);
  assert_true(t == INT64_C(1709337600));
  assert_int_equal(pd_date_parse("19700101", 8, &t), PD_OK);
  assert_true(t == 0);
  assert_int_equal(pd_date_parse("2023-02-29", 10, &t), PD_E_CORRUPT);
  assert_int_equal(pd_date_parse("2024-13-01", 10, &t), PD_E_CORRUPT);
  assert_int_equal(pd_date_parse("2024-04-31", 10, &t), PD_E_CORRUPT);
  assert_int_equal(pd_date_parse("2024/01/01", 10, &t), PD_E_CORRUPT);
  assert_int_equal(pd_date_parse("1969-12-31", 10, &t), PD_E_RANGE);
  assert_int_equal(pd_date_parse("2100-01-02", 10, &t), PD_E_RANGE);
  pd_summary_free(s);
}

/* Each malformed input: the status, the line named, and nothing kept. */
static void malformed_input_names_the_line_and_imports_nothing(
    void **state) {
  (void)state;
  static const struct {
    const char *text, *line;
  } cases[] = {
      {"customer_id,date\n", "line 1:"},
      {"", "line 1:"},
      {"customer_id,date,amount\na,2024-01-01,1\nb,2024-01-32,1\n",
       "line 3:"},
      {"customer_id,date,amount\na,2024-01-01,1\n\nb,2024-01-01,-3\n",
       "line 4: negative"},
      {"customer_id,date,amount\na,2024-01-01,1,9\n", "line 2: 4 fields"},
      {"customer_id,date,amount\na,2024-01-01,1e3\n", "line 2:"},
      {"customer_id,date,amount\na,2024-01-01,1\n\"b,2024-01-01,1\n",
       "line 3: unterminated"},
      {"customer_id,date,amount\n\"a\"x,2024-01-01,1\n", "line 2: text"},
      {"customer_id,date,amount\n,2024-01-01,1\n", "line 2: empty"},
      {"customer_id,date,amount\n\xff,2024-01-01,1\n", "line 2:"},
      {"customer_id,date,amount\na,1969-12-31,1\n", "line 2: date"},
      {"customer_id,date,amount,date\n", "line 1: column 'date'"},
      {"customer_id,date,amount\na,2024-01-01,nan\n", "line 2:"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pd_summary *s = new_summary();
    assert_int_equal(import(s, "customer_id,date,amount\nkeep,2024-01-01,1\n"),
                     PD_OK);
    pd_status st = import(s, cases[i].text);
    if (st != PD_E_CORRUPT) fail_msg("case %zu: status %d", i, st);
    if (!strstr(pd_summary_errmsg(s), cases[i].line))
      fail_msg("case %zu: message '%s'", i, pd_summary_errmsg(s));
    assert_int_equal(pd_summary_transactions(s), 1);
    compute_days(s, "2024-12-31");
    assert_int_equal(pd_summary_rows(s), 1);
    pd_summary_free(s);
  }
}

static void bad_arguments_are_rejected(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  assert_int_equal(pd_import_transactions(s, 99, "", 0), PD_E_INVALID);
  assert_int_equal(pd_import_transactions(s, PD_IMPORT_CSV, NULL, 3),
                   PD_E_INVALID);
  assert_int_equal(pd_import_transactions(NULL, PD_IMPORT_CSV, "", 0),
                   PD_E_MISUSE);
  assert_int_equal(pd_import_transactions_file(s, PD_IMPORT_CSV,
                                               "/nonexistent/tx.csv"),
                   PD_E_IO);
  assert_non_null(strstr(pd_summary_errmsg(s), "/nonexistent/tx.csv"));
  assert_int_equal(pd_import_format_from_name("cdnow-sample"),
                   PD_IMPORT_CDNOW_SAMPLE);
  assert_int_equal(pd_import_format_from_name("cdnow-master"),
                   PD_IMPORT_CDNOW_MASTER);
  assert_int_equal(pd_import_format_from_name("csv"), PD_IMPORT_CSV);
  assert_int_equal(pd_import_format_from_name("CSV"), 0);
  assert_int_equal(pd_import_format_from_name(NULL), 0);
  pd_summary_free(s);
}

static void cdnow_ids_lose_their_leading_zeros(void **state) {
  (void)state;
  pd_summary *s = new_summary();
  const char *sample = " 00004 0001 19970101  2   29.33\n"
                       " 00004 0001 19970118  2   29.73\n"
                       " 00021 0002 19970101  3   63.34\n";
  assert_int_equal(pd_import_transactions(s, PD_IMPORT_CDNOW_SAMPLE, sample,
                                          strlen(sample)),
                   PD_OK);
  const char *master = "customer_id date number_of_cds dollar_value\r\n"
                       " 00001 19970101 1 11.77\r\n"
                       " 00000 19970112 1 12.00\r\n";
  assert_int_equal(pd_import_transactions(s, PD_IMPORT_CDNOW_MASTER, master,
                                          strlen(master)),
                   PD_OK);
  compute_days(s, "1997-09-30");
  id_is(s, 0, "1");
  id_is(s, 1, "2");
  id_is(s, 2, "0"); /* "00000" is the number 0, not an empty id */
  assert_true(col(s, PD_SUMMARY_X)[0] == 1);
  const char *bad = " 00004 0001 1997-01-01  2   29.33\n";
  assert_int_equal(pd_import_transactions(s, PD_IMPORT_CDNOW_SAMPLE, bad,
                                          strlen(bad)),
                   PD_E_CORRUPT);
  const char *short_line = " 00004 0001 19970101  2\n";
  assert_int_equal(pd_import_transactions(s, PD_IMPORT_CDNOW_SAMPLE,
                                          short_line, strlen(short_line)),
                   PD_E_CORRUPT);
  assert_non_null(strstr(pd_summary_errmsg(s), "line 1: 4 fields"));
  pd_summary_free(s);
}

/* The path of a shared data set, or NULL after skipping (failing in CI). */
static const char *dataset(char *buf, size_t cap, const char *name) {
  const char *dir = getenv("PD_DATASETS");
  if (dir) {
    snprintf(buf, cap, "%s/%s", dir, name);
    FILE *f = fopen(buf, "rb");
    if (f) {
      fclose(f);
      return buf;
    }
  }
  const char *ci = getenv("CI");
  if (ci && strcmp(ci, "true") == 0)
    fail_msg("data set %s not found (PD_DATASETS=%s)", name,
             dir ? dir : "(unset)");
  return NULL;
}

static void cdnow_sample_summary_equals_the_published_one(void **state) {
  (void)state;
  char p1[1024], p2[1024], p3[1024];
  const char *tx = dataset(p1, sizeof p1, "CDNOW_sample.txt");
  const char *sum = dataset(p2, sizeof p2, "cdnow_customers_summary.csv");
  const char *zbar = dataset(p3, sizeof p3,
                             "cdnow_customers_summary_with_transactions.csv");
  if (!tx || !sum || !zbar) {
    print_message("CDNOW data sets not found: set PD_DATASETS\n");
    skip();
    return;
  }
  pd_summary *s = new_summary();
  assert_int_equal(pd_import_transactions_file(s, PD_IMPORT_CDNOW_SAMPLE, tx),
                   PD_OK);
  assert_int_equal(pd_summary_transactions(s), 6919);
  pd_summary_spec spec = PD_SUMMARY_SPEC_INIT;
  assert_int_equal(pd_date_parse("1997-09-30", 10, &spec.calibration_end),
                   PD_OK);
  spec.calibration_end += DAY - 1; /* the whole last day */
  spec.unit = PD_TIME_UNIT_WEEK;
  assert_int_equal(pd_summary_compute(s, &spec), PD_OK);
  assert_int_equal(pd_summary_rows(s), 2357);

  pd_csv_table *t = NULL, *z = NULL;
  assert_int_equal(pd_csv_table_new(NULL, &t), PD_OK);
  assert_int_equal(pd_csv_table_new(NULL, &z), PD_OK);
  assert_int_equal(pd_csv_table_load_file(t, sum), PD_OK);
  assert_int_equal(pd_csv_table_load_file(z, zbar), PD_OK);
  assert_int_equal(pd_csv_table_rows(t), 2357);
  size_t c_id, c_f, c_r, c_T, c_z;
  assert_int_equal(pd_csv_table_find(t, "ID", &c_id), PD_OK);
  assert_int_equal(pd_csv_table_find(t, "frequency", &c_f), PD_OK);
  assert_int_equal(pd_csv_table_find(t, "recency", &c_r), PD_OK);
  assert_int_equal(pd_csv_table_find(t, "T", &c_T), PD_OK);
  assert_int_equal(pd_csv_table_find(z, "zbar", &c_z), PD_OK);
  const double *f, *r, *T, *zb;
  assert_int_equal(pd_csv_table_numbers(t, c_f, &f), PD_OK);
  assert_int_equal(pd_csv_table_numbers(t, c_r, &r), PD_OK);
  assert_int_equal(pd_csv_table_numbers(t, c_T, &T), PD_OK);
  assert_int_equal(pd_csv_table_numbers(z, c_z, &zb), PD_OK);
  const double *x = col(s, PD_SUMMARY_X), *tx_ = col(s, PD_SUMMARY_T_X),
               *TT = col(s, PD_SUMMARY_T), *m = col(s, PD_SUMMARY_MONETARY);
  size_t repeaters = 0;
  for (size_t i = 0; i < 2357; i++) {
    const char *want;
    assert_int_equal(pd_csv_table_cell(t, i, c_id, &want, NULL), PD_OK);
    id_is(s, i, want);
    assert_true(x[i] == f[i]);
    /* The published file rounds to 0.01 week. */
    assert_near(round(tx_[i] * 100) / 100, r[i], 1e-9);
    assert_near(round(TT[i] * 100) / 100, T[i], 1e-9);
    assert_near(m[i], zb[i], 0.005 + 1e-9);
    repeaters += x[i] > 0;
  }
  assert_int_equal(repeaters, 946);
  pd_csv_table_free(t);
  pd_csv_table_free(z);
  pd_summary_free(s);
}

static void cdnow_master_reads_the_whole_cohort(void **state) {
  (void)state;
  char p[1024];
  const char *path = dataset(p, sizeof p, "CDNOW_master.txt");
  if (!path) {
    print_message("CDNOW_master.txt not found: set PD_DATASETS\n");
    skip();
    return;
  }
  pd_summary *s = new_summary();
  assert_int_equal(pd_import_transactions_file(s, PD_IMPORT_CDNOW_MASTER,
                                               path),
                   PD_OK);
  assert_int_equal(pd_summary_transactions(s), 69659);
  compute_days(s, "1998-06-30");
  assert_int_equal(pd_summary_rows(s), 23570);
  pd_summary_free(s);
}

static void csv_table_reads_columns_by_name(void **state) {
  (void)state;
  pd_csv_table *t = NULL;
  assert_int_equal(pd_csv_table_new(NULL, &t), PD_OK);
  const char *text = "id, x ,T,label\n"
                     "a,1,2.5e1,\"q,1\"\n"
                     "b,-0.25,3,\n";
  assert_int_equal(pd_csv_table_load(t, text, strlen(text)), PD_OK);
  assert_int_equal(pd_csv_table_rows(t), 2);
  assert_int_equal(pd_csv_table_columns(t), 4);
  size_t c;
  assert_int_equal(pd_csv_table_find(t, "x", &c), PD_OK); /* trimmed */
  assert_int_equal(c, 1);
  assert_int_equal(pd_csv_table_find(t, "t", &c), PD_E_NOT_FOUND);
  const double *v;
  assert_int_equal(pd_csv_table_numbers(t, 1, &v), PD_OK);
  assert_true(v[0] == 1 && v[1] == -0.25);
  assert_int_equal(pd_csv_table_numbers(t, 2, &v), PD_OK);
  assert_true(v[0] == 25 && v[1] == 3);
  assert_int_equal(pd_csv_table_numbers(t, 3, &v), PD_E_CORRUPT);
  assert_non_null(strstr(pd_csv_table_errmsg(t),
                         "line 2: column 'label': 'q,1' is not a number"));
  const char *cell;
  assert_int_equal(pd_csv_table_cell(t, 0, 3, &cell, NULL), PD_OK);
  assert_string_equal(cell, "q,1");
  assert_int_equal(pd_csv_table_cell(t, SIZE_MAX, 0, &cell, NULL), PD_OK);
  assert_string_equal(cell, "id");
  assert_int_equal(pd_csv_table_cell(t, 2, 0, &cell, NULL), PD_E_NOT_FOUND);
  /* A failed load keeps the previous content. */
  const char *bad = "a,b\n1,2\n3\n";
  assert_int_equal(pd_csv_table_load(t, bad, strlen(bad)), PD_E_CORRUPT);
  assert_non_null(strstr(pd_csv_table_errmsg(t), "line 3"));
  assert_int_equal(pd_csv_table_rows(t), 2);
  const char *dup = "a,a\n";
  assert_int_equal(pd_csv_table_load(t, dup, strlen(dup)), PD_E_CORRUPT);
  const char *empty = "a,\n";
  assert_int_equal(pd_csv_table_load(t, empty, strlen(empty)), PD_E_CORRUPT);
  assert_int_equal(pd_csv_table_load_file(t, "/nonexistent.csv"), PD_E_IO);
  pd_csv_table_free(t);
  pd_csv_table_free(NULL);
}

static void long_numbers_round_trip_exactly(void **state) {
  (void)state;
  pd_csv_table *t = NULL;
  assert_int_equal(pd_csv_table_new(NULL, &t), PD_OK);
  double want[4] = {0.24259395230803504, 4.4135928692847137, 1e-300,
                    123456789012345678901234.0};
  char text[512];
  int n = snprintf(text, sizeof text, "v\n%.17g\n%.17g\n%.17g\n%.17g\n",
                   want[0], want[1], want[2], want[3]);
  assert_int_equal(pd_csv_table_load(t, text, (size_t)n), PD_OK);
  const double *v;
  assert_int_equal(pd_csv_table_numbers(t, 0, &v), PD_OK);
  for (int i = 0; i < 4; i++) assert_true(v[i] == want[i]);
  pd_csv_table_free(t);
}

/* Allocator failing the n-th allocation. */
typedef struct failing {
  long countdown;
} failing;
static void *f_malloc(void *u, size_t n) {
  failing *f = u;
  return --f->countdown == 0 ? NULL : malloc(n);
}
static void *f_realloc(void *u, void *p, size_t n) {
  failing *f = u;
  return --f->countdown == 0 ? NULL : realloc(p, n);
}
static void f_free(void *u, void *p) {
  (void)u;
  free(p);
}

static void allocation_failure_during_import_keeps_the_summary(
    void **state) {
  (void)state;
  char text[8192] = "customer_id,date,amount\n";
  for (int i = 0; i < 200; i++) {
    char line[64];
    snprintf(line, sizeof line, "\"c%d\",2024-01-%02d,%d.5\n", i % 37,
             i % 28 + 1, i);
    strcat(text, line);
  }
  int failures = 0;
  for (long n = 1;; n++) {
    failing f = {1 << 30};
    pd_allocator al = {f_malloc, f_realloc, f_free, &f};
    pd_summary_options o = PD_SUMMARY_OPTIONS_INIT;
    o.allocator = &al;
    pd_summary *s = NULL;
    assert_int_equal(pd_summary_new(&o, &s), PD_OK);
    assert_int_equal(import(s, "customer_id,date,amount\nx,2024-01-01,1\n"),
                     PD_OK);
    f.countdown = n;
    pd_status st = import(s, text);
    int done = f.countdown > 0;
    f.countdown = 1 << 30;
    if (st == PD_E_NOMEM) {
      failures++;
      assert_int_equal(pd_summary_transactions(s), 1);
      assert_int_equal(import(s, text), PD_OK);
    } else {
      assert_int_equal(st, PD_OK);
    }
    assert_int_equal(pd_summary_transactions(s), 201);
    compute_days(s, "2024-02-01");
    assert_int_equal(pd_summary_rows(s), 38);
    pd_summary_free(s);
    if (done) break;
  }
  assert_true(failures > 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(csv_columns_are_found_by_name_in_any_order),
      cmocka_unit_test(quoted_fields_follow_rfc4180),
      cmocka_unit_test(dates_may_be_iso_compact_or_unix_seconds),
      cmocka_unit_test(malformed_input_names_the_line_and_imports_nothing),
      cmocka_unit_test(bad_arguments_are_rejected),
      cmocka_unit_test(cdnow_ids_lose_their_leading_zeros),
      cmocka_unit_test(cdnow_sample_summary_equals_the_published_one),
      cmocka_unit_test(cdnow_master_reads_the_whole_cohort),
      cmocka_unit_test(csv_table_reads_columns_by_name),
      cmocka_unit_test(long_numbers_round_trip_exactly),
      cmocka_unit_test(allocation_failure_during_import_keeps_the_summary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
