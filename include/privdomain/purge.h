/*
 * libprivdomain — retention limit: purging a store's old activity.
 *
 * PIPL art. 19 asks that personal data be kept no longer than its purpose
 * needs. pd_store_purge_before() removes the records of what users *did*
 * before a cutoff time — touchpoints, orders and refunds — the way
 * pd_user_erase() removes a person: the records' payload is overwritten in
 * memory, no query returns them again, and their event ids stay reserved.
 *
 * What is purged and what is kept (the documented choice):
 * - Purged: touchpoints, orders and refunds whose time is before the
 *   cutoff, and every refund of a purged order whatever its time (a refund
 *   without its order would make a user's revenue negative).
 * - Kept: users, identities and merges (erasure removes a person); the
 *   records that make a user's *current* relationship with the brand —
 *   links and unlinks, guide binds, referrals, consents — because the state
 *   they define (linked now, bound to a guide now, referred by, consent
 *   withdrawn) is still in force and a consent is the brand's evidence;
 *   and the records about no one in particular: reach counts, acquisition
 *   costs, guide handovers and deactivations.
 * - Figures afterwards count the retained window only: pd_user_get()'s
 *   orders, revenue, refunded, first_purchase, last_purchase and
 *   first_seen, the store statistics, trust (from touchpoints), RFM,
 *   repurchase, cohort and customer-summary figures are computed as if the
 *   purged records had never been recorded. In particular a customer whose
 *   first order was purged has a later first purchase, which shortens T in
 *   the BTYD models; purge with a cutoff older than the calibration window
 *   of any model you fit. No per-user "purged summary" is kept: a lifetime
 *   total that survives the purge would itself be retained personal data.
 * - Recording a purged event id again returns PD_E_ERASED (not
 *   PD_REPLAYED: the content can no longer be compared, and accepting it
 *   would bring the purged record back); a refund of a purged order
 *   returns PD_E_ERASED; a purged order's order id cannot be used by
 *   another order (PD_E_DUPLICATE).
 * - Memory is not returned to the allocator: a purged record keeps its
 *   slot (its event id answers retries).
 * - With a journal attached (persist.h) the purge is journaled like every
 *   other change, before it is applied: replaying the journal after a
 *   crash purges the same records again, so they never come back.
 *
 * Thread safety and error conventions: see store.h.
 */
#ifndef PRIVDOMAIN_PURGE_H
#define PRIVDOMAIN_PURGE_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** What one pd_store_purge_before() call removed. Initialise with
 *  PD_PURGE_RESULT_INIT. */
typedef struct pd_purge_result {
  size_t size;
  uint64_t touchpoints; /**< touchpoints purged by this call */
  uint64_t orders;      /**< orders purged by this call */
  uint64_t refunds;     /**< refunds purged (including refunds of purged
                             orders recorded at or after the cutoff) */
  uint64_t events;      /**< sum of the above */
  int64_t revenue;      /**< order amounts minus their live refunds removed
                             from the store's revenue, minor units */
} pd_purge_result;

#define PD_PURGE_RESULT_INIT {sizeof(pd_purge_result), 0, 0, 0, 0, 0}

/**
 * pd_store_purge_before - purge the touchpoints, orders and refunds whose
 * time is before @cutoff (seconds since the epoch), and the refunds of the
 * purged orders; see the top of this header for what stays and what every
 * figure means afterwards.
 *
 * @out: NULL, or receives the counts of this call; out->size must be at
 *       least sizeof(pd_purge_result) (PD_PURGE_RESULT_INIT; a newer
 *       caller's larger struct keeps its extra bytes untouched).
 *
 * Returns PD_OK when something was purged, PD_REPLAYED when nothing was
 * older than the cutoff (out then holds zeros). The purge allocates
 * nothing, so it cannot fail for memory, and it runs in time linear in the
 * number of recorded touchpoints, orders and refunds.
 * Errors: PD_E_MISUSE (bad handle, or called from a callback),
 * PD_E_RANGE (cutoff outside [PD_TIME_MIN, PD_TIME_MAX]), PD_E_INVALID
 * (out->size too small). On error the store is unchanged.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_store_purge_before(pd_store *store, int64_t cutoff,
                                       pd_purge_result *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_PURGE_H */
