/* What the io layer's importers need from a pd_summary beyond the public
 * API: adding one transaction at a time inside an all-or-nothing batch,
 * and reporting errors through the handle's message. */
#ifndef PD_MODELS_SUMMARY_INTERNAL_H
#define PD_MODELS_SUMMARY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/summary.h>
#include <privdomain/types.h>

/* Where a batch started; pd_summary_rollback() returns the handle to it. */
typedef struct pd_summary_mark {
  size_t transactions;
  size_t customers;
} pd_summary_mark;

void pd_summary_begin(const pd_summary *s, pd_summary_mark *mark);
/* Adds one transaction. On error the message is set (without position)
 * and the handle holds what it held before this call. */
pd_status pd_summary_add_one(pd_summary *s, const char *id, size_t len,
                             int64_t time, double amount);
/* Forgets every transaction and customer added since `mark`; cannot fail. */
void pd_summary_rollback(pd_summary *s, const pd_summary_mark *mark);

/* Whether s is a live handle (non-NULL, right magic). */
int pd_summary_is_valid(const pd_summary *s);
/* The handle's allocator, for scratch memory of an import. */
const pd_allocator *pd_summary_allocator(pd_summary *s);

/* Records a message on the handle and returns `status`. */
pd_status pd_summary_set_error(pd_summary *s, pd_status status,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
