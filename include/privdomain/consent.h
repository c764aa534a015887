/*
 * libprivdomain — consent and opt-out (同意 / 退订): what a user allows the
 * brand to do with their data and their attention.
 *
 * A consent event grants or withdraws one purpose for one user at a time.
 * It is recorded like every event (events.h: caller-supplied event id,
 * idempotent, any arrival order) and erased with the user
 * (pd_user_erase()).
 *
 * The state of a purpose at a time `as_of` is decided by the user's latest
 * consent event for that purpose at or before as_of, over the user and
 * every id merged into it; when a grant and a withdrawal have the same
 * time, the withdrawal wins (so the answer never depends on arrival order
 * and ambiguity errs on the side of the user).
 *
 * Default when nothing is recorded (the documented choice): GRANTED for
 * every purpose. Rationale: a user enters the private domain by linking
 * (adding the brand's WeChat, following, joining), which is the basis on
 * which the brand contacts them; PIPL art. 24 requires that marketing and
 * personalised (profiled) marketing can be refused conveniently, which the
 * library honours by treating a recorded withdrawal as final until a later
 * grant. Callers whose legal basis is opt-in consent should record a grant
 * when it is given and treat "no event" themselves via
 * pd_user_consent_recorded()'s `recorded` output.
 */
#ifndef PRIVDOMAIN_CONSENT_H
#define PRIVDOMAIN_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/** Purposes a user can grant or withdraw (passed as int32_t; never
 *  renumbered, new ones appended). */
enum {
  /** Being sent promotions at all (1:1, broadcast). */
  PD_CONSENT_MARKETING = 1,
  /** Promotions chosen from the user's profile and history (PIPL art. 24
   *  "automated decision-making for marketing"). */
  PD_CONSENT_PERSONALISED_MARKETING = 2,
  /** The user's data used in analytics figures. Recorded and queryable;
   *  the library's own figures do not filter on it (the caller decides). */
  PD_CONSENT_ANALYTICS = 3
};

/** A consent granted (granted = 1) or withdrawn (granted = 0). */
typedef struct pd_consent {
  size_t size;       /**< sizeof(pd_consent), set by PD_CONSENT_INIT */
  uint64_t event_id; /**< non-zero, unique across all events */
  pd_user_id user;
  int32_t purpose;   /**< PD_CONSENT_* */
  int32_t granted;   /**< 1 = grant, 0 = withdraw */
  int64_t time;      /**< seconds since the epoch */
} pd_consent;

#define PD_CONSENT_INIT {sizeof(pd_consent), 0, 0, 0, 0, 0}

/**
 * pd_record_consent - record that ev->user granted (ev->granted = 1) or
 * withdrew (0) consent for ev->purpose at ev->time.
 *
 * The record is copied. Recording is idempotent (events.h): a replay of the
 * same event id with the same content returns PD_REPLAYED.
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE (bad handle, or called
 * from a callback), PD_E_INVALID (ev NULL, ev->size too small or unknown
 * trailing bytes non-zero, event_id 0, purpose not a PD_CONSENT_*, granted
 * not 0 or 1), PD_E_RANGE (time outside [PD_TIME_MIN, PD_TIME_MAX]),
 * PD_E_NOT_FOUND (unknown user), PD_E_ERASED (user erased, or the event id
 * belonged to an erased event), PD_E_DUPLICATE (event id used by other
 * content), PD_E_NOMEM, PD_E_FULL (2^28 consent events). On error the
 * store is unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_consent(pd_store *store, const pd_consent *ev);

/**
 * pd_user_consent - whether @user allows @purpose at @as_of: *granted = 1
 * (granted, also by default when nothing is recorded) or 0 (withdrawn).
 * See the rules at the top of this header.
 *
 * Errors: PD_E_MISUSE (bad handle), PD_E_INVALID (granted NULL, purpose
 * not a PD_CONSENT_*), PD_E_RANGE (as_of outside the time range),
 * PD_E_NOT_FOUND (no such user), PD_E_ERASED (the user was erased).
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_user_consent(pd_store *store, pd_user_id user,
                                 int32_t purpose, int64_t as_of,
                                 int32_t *granted);

/**
 * pd_user_consent_recorded - like pd_user_consent(), and also whether the
 * answer comes from a recorded event (*recorded = 1, *since = its time) or
 * from the default (*recorded = 0, *since = -1). Any of the three outputs
 * may be NULL (but not all).
 *
 * Errors: as pd_user_consent(). Thread safety: serialised on the store's
 * lock.
 */
PD_API pd_status pd_user_consent_recorded(pd_store *store, pd_user_id user,
                                          int32_t purpose, int64_t as_of,
                                          int32_t *granted, int32_t *recorded,
                                          int64_t *since);

PD_END_DECLS

#endif /* PRIVDOMAIN_CONSENT_H */
