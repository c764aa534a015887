/*
 * libprivdomain — shopping guides (导购).
 *
 * A guide is a staff member users are bound to for 1:1 and 1:N service.
 * A user is bound to at most one guide at a time; rebinding keeps the
 * history. When a guide leaves, all of their users are handed over to
 * another guide at a time (离职继承); a deactivated guide keeps its history.
 *
 * Guides are identified by the caller's staff code (1–128 bytes UTF-8) and
 * numbered from 1 by the store; 0 means "no guide" everywhere.
 *
 * Binding, handover and deactivation are events: they carry event ids and
 * follow the idempotency and ordering rules of events.h. A user's guide at
 * time t is found by taking, in time order (ties by event id), the user's
 * binds and the handovers away from the guide the user had at that moment.
 *
 * Thread safety and error conventions: see store.h.
 */
#ifndef PRIVDOMAIN_GUIDES_H
#define PRIVDOMAIN_GUIDES_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/**
 * pd_guide_ensure - the id of the guide with staff code @code, created if
 * new; @shop is the PD_LABEL_SHOP label the guide works at (0 = none).
 * Returns PD_OK when created, PD_REPLAYED when the guide existed with the
 * same shop (both write @out). Not an event: it carries no event id.
 * Errors: PD_E_DUPLICATE (exists with another shop),
 * PD_E_NOT_FOUND (unknown shop label), PD_E_INVALID, PD_E_UTF8,
 * PD_E_NOMEM, PD_E_FULL, PD_E_MISUSE.
 */
PD_API pd_status pd_guide_ensure(pd_store *store, const char *code,
                                 size_t code_len, uint32_t shop,
                                 uint32_t *out);

/**
 * pd_guide_find - the id of the guide with staff code @code.
 * Errors: PD_E_NOT_FOUND, PD_E_INVALID, PD_E_MISUSE.
 */
PD_API pd_status pd_guide_find(pd_store *store, const char *code,
                               size_t code_len, uint32_t *out);

/** Bind @user to @guide from @time on (replacing any earlier binding). */
typedef struct pd_guide_bind {
  size_t size;
  uint64_t event_id;
  pd_user_id user;
  uint32_t guide;
  int64_t time;
} pd_guide_bind;

#define PD_GUIDE_BIND_INIT {sizeof(pd_guide_bind), 0, 0, 0, 0}

/** Hand every user bound to @from_guide at @time over to @to_guide. */
typedef struct pd_guide_handover {
  size_t size;
  uint64_t event_id;
  uint32_t from_guide;
  uint32_t to_guide;   /**< != from_guide */
  int64_t time;
} pd_guide_handover;

#define PD_GUIDE_HANDOVER_INIT {sizeof(pd_guide_handover), 0, 0, 0, 0}

/** @guide stops serving from @time (left the company). */
typedef struct pd_guide_deactivate {
  size_t size;
  uint64_t event_id;
  uint32_t guide;
  int64_t time;
} pd_guide_deactivate;

#define PD_GUIDE_DEACTIVATE_INIT {sizeof(pd_guide_deactivate), 0, 0, 0}

/**
 * pd_record_guide_bind - bind ev->user to ev->guide (non-zero) from
 * ev->time on; the user's earlier binds stay in the history.
 *
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE (bad handle, or from a
 * callback), PD_E_INVALID (ev NULL, bad size, event_id 0, guide 0),
 * PD_E_RANGE (time), PD_E_NOT_FOUND (user or guide), PD_E_ERASED,
 * PD_E_CONFLICT (the guide was deactivated at or before ev->time),
 * PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL. On error the store is unchanged.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_guide_bind(pd_store *store,
                                      const pd_guide_bind *ev);

/**
 * pd_record_guide_handover - hand every user bound to ev->from_guide at
 * ev->time over to ev->to_guide (离职继承). Users bound to from_guide later
 * (a bind after ev->time) keep that binding; a handover arriving late
 * applies to the history as if it had arrived in time.
 *
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id 0, a guide 0, from == to), PD_E_RANGE (time),
 * PD_E_NOT_FOUND (a guide), PD_E_CONFLICT (to_guide was deactivated at or
 * before ev->time), PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL. On error the
 * store is unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_guide_handover(pd_store *store,
                                          const pd_guide_handover *ev);

/**
 * pd_record_guide_deactivate - ev->guide stops serving from ev->time. Its
 * history stays; from then on no bind or handover may give it users.
 *
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id 0, guide 0), PD_E_RANGE (time), PD_E_NOT_FOUND
 * (guide), PD_E_CONFLICT (the guide is already deactivated, whatever the
 * time; or a recorded bind or handover gave it users at or after
 * ev->time), PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL. On error the store is
 * unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_guide_deactivate(pd_store *store,
                                            const pd_guide_deactivate *ev);

/** What is known of a guide as of a time. */
typedef struct pd_guide_info {
  size_t size;
  uint32_t guide;
  uint32_t shop;        /**< PD_LABEL_SHOP label, 0 = none */
  const char *code;     /**< staff code, owned by the store, NUL-terminated,
                             valid until the store is freed */
  int32_t active;       /**< 1 unless deactivated at or before as_of */
  int64_t deactivated;  /**< time of deactivation, -1 if none */
  uint64_t users_bound; /**< users bound to the guide at as_of */
} pd_guide_info;

#define PD_GUIDE_INFO_INIT {sizeof(pd_guide_info), 0, 0, NULL, 0, -1, 0}

/**
 * pd_guide_get - what is known of @guide as of @as_of. users_bound counts
 * live users (merged users once); it visits every user, so it costs time
 * proportional to the store's users. out->size must be at least
 * sizeof(pd_guide_info) (PD_GUIDE_INFO_INIT). Errors: PD_E_NOT_FOUND,
 * PD_E_RANGE, PD_E_INVALID (out NULL or too small, guide 0), PD_E_MISUSE.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_guide_get(pd_store *store, uint32_t guide, int64_t as_of,
                              pd_guide_info *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_GUIDES_H */
