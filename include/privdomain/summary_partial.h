/*
 * libprivdomain — customer-summary partials: summarise transactions on
 * many machines, merge the pieces on one, and get exactly the rows one
 * pd_summary over all the transactions would give.
 *
 * A partial is the mergeable state of a pd_summary for one calibration
 * end and one observation end (summary.h gives the convention), per
 * customer: the customer id and one or more runs of purchase days, each
 * run with its first and last day, its number of distinct days, the spend
 * of its first day and its total spend (calibration), and the same days
 * without spends for the holdout period. Spends are kept as exact sums
 * (every bit of every amount), so adding them in another order or on
 * another machine gives the same bits.
 *
 * THE MERGE RULE. Two pieces of the same customer merge exactly when their
 * purchase-day ranges (first to last purchase day, per period) are
 * disjoint or share exactly ONE day that is an end of both: the shared day
 * is counted once and its spends are added. This covers partitions by
 * customer, by time range (a cut between days or inside a day), and
 * consecutive chunks of a file sorted by customer then time. Pieces whose
 * ranges overlap more cannot be merged exactly (a day inside a range may
 * or may not be a purchase day of both): the merge is refused with
 * PD_E_CONFLICT and a message naming the customer. Runs that do not touch
 * are kept apart, so partials may be merged in any order and any tree
 * shape. Loading the same partial twice is not detected in general (a
 * customer with one purchase day would have that day's spend doubled):
 * load each partition once.
 *
 * Workflow: on each machine, pd_summary_add() the partition's
 * transactions and pd_summary_partial_save() with the spec; ship the
 * bytes; on one machine, pd_summary_partial_load() each of them into one
 * handle (which may also hold transactions of its own) and
 * pd_summary_compute() with the same calibration_end and observation_end
 * (any unit). Tree reductions: load some partials into a fresh handle and
 * save it again; the result is one partial for all of them.
 *
 * The serialised form is stable, little-endian and independent of the
 * machine; docs/FORMAT.md ("Serialised aggregates") documents it. It sits
 * in the library's envelope (magic "PDAG", CRC-32C) with kind 1.
 */
#ifndef PRIVDOMAIN_SUMMARY_PARTIAL_H
#define PRIVDOMAIN_SUMMARY_PARTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "export.h"
#include "status.h"
#include "summary.h"

PD_BEGIN_DECLS

/**
 * pd_summary_partial_save - serialise the mergeable state of @s for the
 * calibration_end and observation_end of @spec (its unit is checked but
 * does not matter: the state is kept in days).
 *
 * The state covers @s's own transactions and every partial loaded into @s,
 * merged by the rule at the top of this header. Customers are written in
 * the order of the handle's rows (first appearance), each once; customers
 * with no purchase on or before the observation end (calibration end
 * without holdout) are left out; customers with holdout purchases only are
 * kept (another partition may hold their calibration purchases). The
 * handle's current result is not changed.
 *
 * @out: receives the bytes, owned by the caller (pd_bytes_free()); they
 *       are made with @s's allocator.
 *
 * Errors: PD_E_MISUSE (s NULL), PD_E_INVALID (spec or out NULL, a bad
 * spec, as for pd_summary_compute), PD_E_RANGE (an end outside the time
 * range), PD_E_CONFLICT (partials were loaded for other ends, or the
 * handle's transactions overlap a loaded partial beyond the merge rule;
 * the message names the customer), PD_E_NOMEM. On error *out is not set.
 * Thread safety: as for any call on the handle (summary.h).
 */
PD_API pd_status pd_summary_partial_save(pd_summary *s,
                                         const pd_summary_spec *spec,
                                         pd_bytes **out);

/**
 * pd_summary_partial_load - merge a serialised partial into @dst.
 *
 * @data, @len: bytes made by pd_summary_partial_save() (any machine, any
 *              build of this format version); not kept after the call.
 *
 * Afterwards pd_summary_compute() on @dst must be given the partial's
 * calibration_end and observation_end (other ends: PD_E_CONFLICT) and
 * computes rows from @dst's own transactions and every loaded partial,
 * exactly as if all their transactions had been added to @dst. Customers
 * new to @dst are added in the partial's order after those it knows, so
 * loading the partitions of an input in order gives the rows in the order
 * one handle over the whole input gives (first appearance). The current
 * result of @dst is not changed until the next compute.
 *
 * All or nothing: on any error @dst is unchanged.
 * Errors: PD_E_MISUSE (dst NULL), PD_E_INVALID (data NULL with len > 0),
 * PD_E_CORRUPT (not a partial, truncated, damaged or inconsistent bytes;
 * the message says which check failed), PD_E_VERSION (a newer format),
 * PD_E_CONFLICT (a partial for other ends was loaded before, or a customer
 * overlaps what @dst already holds beyond the merge rule; the message
 * names the customer), PD_E_FULL (too many customers), PD_E_NOMEM.
 * Conflicts with @dst's own transactions are found by the next compute or
 * save. Thread safety: as for any call on the handle.
 */
PD_API pd_status pd_summary_partial_load(pd_summary *dst, const void *data,
                                         size_t len);

/**
 * pd_summary_partial_customers - number of customers in a serialised
 * partial, after checking it as pd_summary_partial_load() does (without
 * loading it; a customer listed twice, which load refuses, is not looked
 * for here).
 *
 * @calibration_end, @observation_end: receive the partial's ends (either
 * may be NULL); observation_end is PD_SUMMARY_NO_HOLDOUT without holdout.
 *
 * Errors: PD_E_INVALID (data NULL with len > 0, or out NULL), PD_E_CORRUPT,
 * PD_E_VERSION. Thread safety: safe from any thread.
 */
PD_API pd_status pd_summary_partial_customers(const void *data, size_t len,
                                              int64_t *calibration_end,
                                              int64_t *observation_end,
                                              size_t *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_SUMMARY_PARTIAL_H */
