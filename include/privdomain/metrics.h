/*
 * libprivdomain — what every metric has in common: the time it is computed
 * for and which users it covers.
 *
 * Every figure of the metrics layer (trust.h, pressure.h, store_summary.h,
 * followup.h and the retention, funnel, repurchase, referral, guide and RFM
 * figures) is computed for an `as_of` time — events after it are ignored,
 * as if they had not happened yet — and optionally restricted to a subset
 * of users described by a pd_metrics_filter. The filter selects USERS, never
 * single events: a user who passes the filter contributes all of their
 * events (on every channel, with every guide) at or before as_of.
 *
 * How a user is matched (each field 0 = no restriction; all non-zero fields
 * must match):
 * - Acquisition link: the user's first link at or before as_of — the
 *   earliest link event in time over the user and every id merged into it,
 *   ties broken by the smaller event id. A user with no link at or before
 *   as_of fails any channel or source filter.
 * - channel: the acquisition link was on this channel (加好友 first here).
 * - source:  the acquisition link's PD_LABEL_SOURCE label is this one.
 * - guide:   the user's "home guide" is this guide. The home guide is the
 *            exclusive guide bound to the user at as_of (binds and
 *            handovers, guides.h); a user never bound falls back to the
 *            guide recorded on the acquisition link (0 if none).
 * - shop:    the user's "home shop" is this PD_LABEL_SHOP label. The home
 *            shop is the shop of the home guide when that guide has one;
 *            otherwise the shop of the user's first order at or before
 *            as_of that names a shop (earliest time, then smaller event
 *            id); 0 if neither exists.
 * Erased users never match. Merged users are one user (the survivor).
 */
#ifndef PRIVDOMAIN_METRICS_H
#define PRIVDOMAIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/** Which users a figure covers and the time it is computed for. Initialise
 *  with PD_METRICS_FILTER_INIT, then set as_of (required) and any
 *  restriction. Functions taking a filter reject a size smaller than this
 *  struct (PD_E_INVALID) and accept a larger one (a newer caller) when the
 *  bytes this version does not know are all zero (else PD_E_INVALID). */
typedef struct pd_metrics_filter {
  size_t size;      /**< sizeof(pd_metrics_filter) as the caller compiled it */
  int32_t channel;  /**< acquisition channel id (channels.h), 0 = any */
  uint32_t source;  /**< acquisition PD_LABEL_SOURCE label, 0 = any */
  uint32_t guide;   /**< home guide id (guides.h), 0 = any */
  uint32_t shop;    /**< home shop PD_LABEL_SHOP label, 0 = any */
  /** The time the figure is computed for, seconds since the epoch (UTC),
   *  in [PD_TIME_MIN, PD_TIME_MAX]; events after it are ignored. */
  int64_t as_of;
} pd_metrics_filter;

#define PD_METRICS_FILTER_INIT {sizeof(pd_metrics_filter), 0, 0, 0, 0, 0}

/* Errors common to every function taking a const pd_metrics_filter *:
 * PD_E_INVALID (filter NULL, size too small, unknown trailing bytes
 * non-zero), PD_E_RANGE (as_of outside [PD_TIME_MIN, PD_TIME_MAX]),
 * PD_E_NOT_FOUND (channel, source label, guide or shop label that does not
 * exist in the store). */

/**
 * pd_metrics_filter_match - whether @user passes @filter: *out = 1 if it
 * does, 0 if not (see the matching rules at the top of this header).
 *
 * An erased user gives *out = 0 (not an error), so a caller walking ids can
 * use it directly. Errors: PD_E_MISUSE (bad handle), the filter errors
 * above, PD_E_INVALID (out NULL), PD_E_NOT_FOUND (no such user id).
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_metrics_filter_match(pd_store *store, pd_user_id user,
                                         const pd_metrics_filter *filter,
                                         int32_t *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_METRICS_H */
