/*
 * pd report --transactions: a plain order log (customer_id, date, amount)
 * recorded into a store, so that the order-based sections of the report
 * (repurchase, segments, lifetime value) run on it exactly as on a full
 * private domain.
 *
 * The file is first read by the library's importer (io.h) into a
 * pd_summary, which is then dropped: that validates it with the same rules
 * and messages ("line N: …") as `pd summary`, before anything is recorded.
 * Each row then becomes one order of the user with
 * identity ("csv.customer", customer id), amount in minor units (cents/fen,
 * currency exponent 2), order id = the row's line number and event id =
 * pd_event_id_from_string("order-row:<line>").
 */
#ifndef PD_TOOL_REPORT_ORDERS_H
#define PD_TOOL_REPORT_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/privdomain.h>

#define REPORT_ORDERS_NS "csv.customer"

typedef struct report_orders {
  size_t rows;   /* orders recorded */
  int64_t first; /* earliest order time, seconds since the epoch */
  int64_t last;  /* latest order time */
} report_orders;

/* Reads `path` in `format` (PD_IMPORT_*) into `store` (new and empty).
 * Returns 0, or non-zero with a one-line reason in err (the store may then
 * hold part of the file). */
int report_orders_load(pd_store *store, int32_t format, const char *path,
                       report_orders *out, char *err, size_t cap);

#endif
