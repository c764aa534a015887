/* Customer summaries read from a CSV file for pd fit / pd predict, with
 * columns recognised by name: frequency|x, recency|t_x, T (or periods),
 * monetary_value|zbar, weights|weight, ID|id. */
#ifndef PD_TOOL_SUMMARY_INPUT_H
#define PD_TOOL_SUMMARY_INPUT_H

#include <stddef.h>

#include <privdomain/privdomain.h>

typedef struct summary_input {
  pd_csv_table *table;
  pd_customer_data data; /* points into arrays owned here */
  double *x, *t_x, *T, *monetary, *weight;
  size_t *row;           /* data row -> table row (rows may be filtered) */
  size_t id_column;      /* SIZE_MAX when the file has no id column */
} summary_input;

/* Reads `path`. need_monetary: require a monetary column. repeat_only:
 * keep only rows with x > 0 (Gamma-Gamma). t_x and T may be absent only
 * when time_optional (Gamma-Gamma does not use them). Returns 0, or 1
 * after reporting the error. */
int summary_input_load(summary_input *in, const char *path, int need_monetary,
                       int repeat_only, int time_optional);
void summary_input_free(summary_input *in);
/* The customer id of data row i (the table's text), or NULL. */
const char *summary_input_id(const summary_input *in, size_t i);

#endif
