/*
 * libprivdomain — shopping guides' (导购) figures: load, attributed revenue
 * and commission, handovers (离职继承) and service.
 *
 * Definitions (binding for this header), all as of filter->as_of, over
 * users passing the metrics filter (metrics.h):
 * - users bound: users whose exclusive guide at as_of is the guide (binds
 *   and handovers, guides.h). A guide serving more than service_radius
 *   users is flagged over_radius (a KOC knows about 300–500 people).
 * - attributed revenue, by opts->attribution:
 *   PD_GUIDE_ATTR_BOUND (default): an order belongs to the guide bound to
 *   its user at the order's time;
 *   PD_GUIDE_ATTR_ORDER: an order belongs to the guide named on it.
 *   Orders placed at or before as_of; revenue = amounts minus refunds
 *   recorded at or before as_of, minor units.
 * - commission = revenue × rate / 10000, rounded towards zero, where rate
 *   is the guide's basis points (pd_guide_set_commission()) or
 *   opts->default_commission_bp (default 1000 = 10%).
 * - service: an inbound message (PD_TOUCH_INBOUND_MESSAGE) belongs to the
 *   guide bound to the user at its time. It is replied when a brand 1:1
 *   message (PD_TOUCH_OUTBOUND_1TO1) to the same user follows it within
 *   reply_window seconds (at or after the inbound, at or before as_of) —
 *   by any guide, or only by that guide when reply_same_guide is set.
 *   Several inbound messages before one reply are each replied by it.
 *   reply rate = replied / inbound; reply time = the delay to that first
 *   reply, in seconds (median over replied messages).
 * - unlinks: effective unlinks (any initiator) at or before as_of of users
 *   bound to the guide at the unlink's time; user_unlinks are the
 *   user-initiated ones.
 * - handovers in / out: handovers at or before as_of to / from the guide.
 */
#ifndef PRIVDOMAIN_GUIDE_METRICS_H
#define PRIVDOMAIN_GUIDE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "breakdown.h"
#include "export.h"
#include "metrics.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** Revenue attribution (int32_t). Values are never renumbered. */
enum {
  PD_GUIDE_ATTR_BOUND = 1, /**< the guide bound to the user at the order */
  PD_GUIDE_ATTR_ORDER = 2  /**< the guide named on the order */
};

/**
 * pd_guide_set_commission - set @guide's commission rate to
 * @basis_points (0–10000; 1000 = 10%), or back to the figures' default
 * with -1. The setting is kept by the store: it is not an event (no event
 * id; the last call wins), but like every change it is written to an
 * attached journal and saved in snapshots (persist.h).
 * Errors: PD_E_MISUSE (bad store, or called from a callback), PD_E_INVALID
 * (guide 0, basis_points outside -1–10000), PD_E_NOT_FOUND (no such
 * guide), PD_E_NOMEM. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_guide_set_commission(pd_store *store, uint32_t guide,
                                         int32_t basis_points);

/**
 * pd_guide_get_commission - @guide's commission rate in basis points into
 * *out, or -1 when none was set. Errors: PD_E_MISUSE, PD_E_INVALID (out
 * NULL, guide 0), PD_E_NOT_FOUND. Thread safety: serialised on the lock.
 */
PD_API pd_status pd_guide_get_commission(pd_store *store, uint32_t guide,
                                         int32_t *out);

/** Options for pd_guide_figures_compute(). Initialise with
 *  PD_GUIDE_FIGURES_OPTIONS_INIT. */
typedef struct pd_guide_figures_options {
  size_t size;
  uint32_t service_radius;       /**< default 500 users, > 0 */
  int32_t attribution;           /**< PD_GUIDE_ATTR_*, default BOUND */
  int32_t default_commission_bp; /**< 0–10000, default 1000 */
  int32_t reply_same_guide;      /**< 1 = only the bound guide's reply
                                      counts; 0 (default) = anyone's */
  int64_t reply_window;          /**< seconds, > 0, default 24 h */
} pd_guide_figures_options;

#define PD_GUIDE_FIGURES_OPTIONS_INIT \
  {sizeof(pd_guide_figures_options), 500, PD_GUIDE_ATTR_BOUND, 1000, 0, \
   INT64_C(86400)}

/** One guide's figures. */
typedef struct pd_guide_figures_row {
  size_t size;
  uint32_t guide;
  uint32_t shop;             /**< PD_LABEL_SHOP of the guide, 0 = none */
  int32_t active;            /**< 0 once deactivated at or before as_of */
  int32_t over_radius;       /**< 1 when users_bound > service_radius */
  uint64_t users_bound;
  uint64_t orders;           /**< attributed orders */
  int64_t revenue;           /**< attributed revenue, minor units */
  int32_t commission_bp;     /**< the rate applied */
  int64_t commission;        /**< minor units */
  uint64_t inbound;          /**< inbound messages of bound users */
  uint64_t replied;
  double reply_rate;         /**< replied / inbound; 0 without inbound */
  double reply_median_seconds; /**< 0 without replies */
  uint64_t unlinks;          /**< unlinks of bound users */
  uint64_t user_unlinks;     /**< of those, user-initiated */
  uint32_t handovers_in;
  uint32_t handovers_out;
} pd_guide_figures_row;

#define PD_GUIDE_FIGURES_ROW_INIT {sizeof(pd_guide_figures_row), 0, 0, 0, \
                                   0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0, 0,  \
                                   0, 0}

/**
 * pd_guide_figures_compute - one row per guide of the store (sorted by
 * guide id; a filter guide gives only that guide's row), as defined above.
 *
 * @opts may be NULL for the defaults. On success *out receives a pd_rows
 * owned by the caller (pd_rows_free()); read it with
 * pd_guide_figures_row_get(). Errors: PD_E_MISUSE (bad store), the filter
 * errors of metrics.h, PD_E_INVALID (out NULL, opts size too small or
 * unknown trailing bytes non-zero, service_radius 0, unknown attribution,
 * default_commission_bp outside 0–10000, reply_window <= 0), PD_E_NOMEM.
 * Memory: working arrays of a few bytes per user and per order, and, on a
 * store whose touchpoints are not clustered (pd_store_cluster()), a
 * grouping of its inbound messages and 1:1 replies by user (about 18
 * bytes each), all freed before it returns. On a clustered store it reads
 * each user's touchpoints in place instead, into buffers that grow on the
 * store's threads (pd_store_set_threads()) with the store's allocator,
 * which must therefore be thread-safe, as alloc.h requires. The figures
 * are the same either way.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_guide_figures_compute(
    pd_store *store, const pd_metrics_filter *filter,
    const pd_guide_figures_options *opts, pd_rows **out);

/**
 * pd_guide_figures_row_get - copy row @i into @out (out->size from
 * PD_GUIDE_FIGURES_ROW_INIT; a larger struct keeps its extra bytes).
 * Errors: PD_E_INVALID (rows or out NULL, out->size too small),
 * PD_E_MISUSE (rows is not a guide table), PD_E_RANGE (i out of range).
 * Thread safety: any thread.
 */
PD_API pd_status pd_guide_figures_row_get(const pd_rows *rows, size_t i,
                                          pd_guide_figures_row *out);

/** One handover (离职继承) in the history. */
typedef struct pd_handover_row {
  size_t size;
  int64_t time;
  uint32_t from_guide;
  uint32_t to_guide;
  uint64_t users_moved; /**< users bound to from_guide just before it */
} pd_handover_row;

#define PD_HANDOVER_ROW_INIT {sizeof(pd_handover_row), 0, 0, 0, 0}

/**
 * pd_guide_handover_history - the handovers at or before filter->as_of, in
 * time order (ties by event id), with the users each moved (users passing
 * the filter bound to from_guide when it happened; the filter's guide, if
 * any, selects handovers from or to that guide). On success *out receives
 * a pd_rows (pd_rows_free()); read it with pd_handover_row_get().
 * Errors: PD_E_MISUSE, the filter errors of metrics.h, PD_E_INVALID (out
 * NULL), PD_E_NOMEM. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_guide_handover_history(pd_store *store,
                                           const pd_metrics_filter *filter,
                                           pd_rows **out);

/**
 * pd_handover_row_get - copy row @i of a handover history into @out.
 * Errors: as pd_guide_figures_row_get(). Thread safety: any thread.
 */
PD_API pd_status pd_handover_row_get(const pd_rows *rows, size_t i,
                                     pd_handover_row *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_GUIDE_METRICS_H */
