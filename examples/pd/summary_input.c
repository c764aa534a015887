#include "summary_input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

/* The first of `names` that the table has, or SIZE_MAX. */
static size_t find_any(const pd_csv_table *t, const char *const *names) {
  for (; *names; names++) {
    size_t c;
    if (pd_csv_table_find(t, *names, &c) == PD_OK) return c;
  }
  return SIZE_MAX;
}

static int numbers(summary_input *in, const char *path, size_t col,
                   const double **out) {
  if (pd_csv_table_numbers(in->table, col, out) != PD_OK)
    return pd_fail(1, "%s: %s", path, pd_csv_table_errmsg(in->table));
  return 0;
}

int summary_input_load(summary_input *in, const char *path, int need_monetary,
                       int repeat_only, int time_optional) {
  static const char *const x_names[] = {"frequency", "x", NULL};
  static const char *const tx_names[] = {"recency", "t_x", NULL};
  static const char *const T_names[] = {"T", "periods", NULL};
  static const char *const m_names[] = {"monetary_value", "zbar", NULL};
  static const char *const w_names[] = {"weights", "weight", NULL};
  static const char *const id_names[] = {"ID", "id", "customer_id", NULL};
  memset(in, 0, sizeof *in);
  in->data = (pd_customer_data)PD_CUSTOMER_DATA_INIT;
  if (pd_csv_table_new(NULL, &in->table) != PD_OK)
    return pd_fail(1, "out of memory");
  if (pd_csv_table_load_file(in->table, path) != PD_OK)
    return pd_fail(1, "%s", pd_csv_table_errmsg(in->table));
  const pd_csv_table *t = in->table;
  size_t cx = find_any(t, x_names), ctx = find_any(t, tx_names),
         cT = find_any(t, T_names), cm = find_any(t, m_names),
         cw = find_any(t, w_names);
  in->id_column = find_any(t, id_names);
  if (cx == SIZE_MAX)
    return pd_fail(1, "%s: no 'frequency' or 'x' column", path);
  if (!time_optional && ctx == SIZE_MAX)
    return pd_fail(1, "%s: no 'recency' or 't_x' column", path);
  if (!time_optional && cT == SIZE_MAX)
    return pd_fail(1, "%s: no 'T' (or 'periods') column", path);
  if (need_monetary && cm == SIZE_MAX)
    return pd_fail(1, "%s: no 'monetary_value' or 'zbar' column", path);
  const double *x, *tx = NULL, *T = NULL, *m = NULL, *w = NULL;
  if (numbers(in, path, cx, &x) ||
      (ctx != SIZE_MAX && numbers(in, path, ctx, &tx)) ||
      (cT != SIZE_MAX && numbers(in, path, cT, &T)) ||
      (cm != SIZE_MAX && numbers(in, path, cm, &m)) ||
      (cw != SIZE_MAX && numbers(in, path, cw, &w)))
    return 1;
  size_t rows = pd_csv_table_rows(t), n = 0;
  if (rows == 0) return pd_fail(1, "%s: no customers", path);
  size_t bytes = (rows ? rows : 1) * sizeof(double);
  in->x = malloc(bytes);
  in->t_x = malloc(bytes);
  in->T = malloc(bytes);
  in->monetary = m ? malloc(bytes) : NULL;
  in->weight = w ? malloc(bytes) : NULL;
  in->row = malloc((rows ? rows : 1) * sizeof(size_t));
  if (!in->x || !in->t_x || !in->T || (m && !in->monetary) ||
      (w && !in->weight) || !in->row)
    return pd_fail(1, "out of memory");
  for (size_t i = 0; i < rows; i++) {
    if (repeat_only && !(x[i] > 0)) continue;
    in->x[n] = x[i];
    /* Gamma-Gamma reads only x and the mean spend; the times it ignores
     * get neutral values when the file lacks them. */
    in->t_x[n] = tx ? tx[i] : 0.0;
    in->T[n] = T ? T[i] : 1.0;
    if (m) in->monetary[n] = m[i];
    if (w) in->weight[n] = w[i];
    in->row[n] = i;
    n++;
  }
  if (n == 0) return pd_fail(1, "%s: no repeat customers (x > 0)", path);
  in->data.n = n;
  in->data.x = in->x;
  in->data.t_x = in->t_x;
  in->data.T = in->T;
  in->data.monetary = in->monetary;
  in->data.weight = in->weight;
  return 0;
}

void summary_input_free(summary_input *in) {
  pd_csv_table_free(in->table);
  free(in->x);
  free(in->t_x);
  free(in->T);
  free(in->monetary);
  free(in->weight);
  free(in->row);
  memset(in, 0, sizeof *in);
}

const char *summary_input_id(const summary_input *in, size_t i) {
  const char *s;
  if (in->id_column == SIZE_MAX ||
      pd_csv_table_cell(in->table, in->row[i], in->id_column, &s, NULL) !=
          PD_OK)
    return NULL;
  return s;
}
