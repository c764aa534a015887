/*
 * libprivdomain — recording what happens between a brand and its users.
 *
 * Every event carries a caller-supplied, non-zero 64-bit event id, unique
 * across all kinds of event in a store (pd_event_id_from_string() turns a
 * text id into one). Recording is idempotent:
 * - a new id is recorded and returns PD_OK;
 * - the same id with the same content changes nothing and returns
 *   PD_REPLAYED (a POS retrying after a timeout is safe);
 * - the same id with different content is rejected with PD_E_DUPLICATE.
 * "Content" is every field of the record after normalisation (user ids are
 * compared by the user they denote now, so a retry after a merge still
 * matches).
 *
 * Events may arrive late and in any order: every query gives the same
 * answer as if they had arrived in time order. The only order that matters
 * is causal: a refund must arrive after the order it refunds, and users,
 * guides, channels and labels must exist before events name them.
 *
 * Each pd_record_* function takes a record struct whose first member is its
 * size; initialise it with the matching *_INIT macro, then set the fields.
 * A size smaller than this version's struct is rejected (PD_E_INVALID); a
 * larger one (a newer caller) is accepted when the bytes this version does
 * not know are all zero, else PD_E_INVALID.
 * Common errors: PD_E_MISUSE (bad handle, or called from a callback),
 * PD_E_INVALID (NULL record, size too small, event id 0, unknown enum
 * value), PD_E_NOT_FOUND (unknown user, channel, label, guide or order),
 * PD_E_ERASED (the user was erased), PD_E_RANGE (time outside
 * [PD_TIME_MIN, PD_TIME_MAX], negative amount or count), PD_E_DUPLICATE,
 * PD_E_NOMEM, PD_E_FULL. On every error the store is unchanged.
 *
 * Thread safety: see store.h.
 */
#ifndef PRIVDOMAIN_EVENTS_H
#define PRIVDOMAIN_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "store.h"
#include "users.h"

PD_BEGIN_DECLS

/* ---- links (加好友 / 关注) and unlinks (删粉 / 取关 / 拉黑) ---------------- */

/** A user became reachable on a channel (added the brand's WeChat,
 *  followed the official account, joined the mini-program …). Linking
 *  again after an unlink is a re-link and is counted as such. Linking
 *  while already linked on that channel is allowed (it counts as a
 *  repeated link; the link state stays "linked"). */
typedef struct pd_link_event {
  size_t size;
  uint64_t event_id;
  pd_user_id user;
  int32_t channel;  /**< channel id (channels.h) */
  uint32_t source;  /**< PD_LABEL_SOURCE label id, 0 = unknown */
  uint32_t campaign;/**< PD_LABEL_CAMPAIGN label id, 0 = none */
  uint32_t guide;   /**< guide who brought the user, 0 = none */
  int64_t time;
} pd_link_event;

#define PD_LINK_EVENT_INIT {sizeof(pd_link_event), 0, 0, 0, 0, 0, 0, 0}

/** Who ended a link. */
enum {
  PD_UNLINK_USER_DELETED = 1,    /**< the user deleted the brand (删好友) */
  PD_UNLINK_USER_BLOCKED = 2,    /**< the user blocked the brand (拉黑) */
  PD_UNLINK_USER_UNFOLLOWED = 3, /**< the user unfollowed / left (取关/退群) */
  PD_UNLINK_STAFF_REMOVED = 4    /**< staff removed the user */
};

/** A link ended. An unlink for a channel the user is not linked on at that
 *  time is accepted and recorded (it may precede a late link event); it
 *  only affects state when it follows a link in time. */
typedef struct pd_unlink_event {
  size_t size;
  uint64_t event_id;
  pd_user_id user;
  int32_t channel;
  int32_t initiator; /**< PD_UNLINK_* */
  uint32_t guide;    /**< guide whose contact it was, 0 = none/unknown */
  int64_t time;
} pd_unlink_event;

#define PD_UNLINK_EVENT_INIT {sizeof(pd_unlink_event), 0, 0, 0, 0, 0, 0}

/**
 * pd_record_link - record that ev->user became reachable on ev->channel at
 * ev->time (加好友 / 关注).
 *
 * ev->channel must be an existing channel (not 0); source (PD_LABEL_SOURCE),
 * campaign (PD_LABEL_CAMPAIGN) and guide are 0 or existing. The record is
 * copied; nothing is kept of @ev.
 * Returns PD_OK (recorded) or PD_REPLAYED (same event id, same content).
 * Errors: PD_E_MISUSE (bad handle, or called from a callback),
 * PD_E_INVALID (ev NULL, ev->size too small or unknown trailing bytes
 * non-zero, event_id 0, channel 0), PD_E_RANGE (time outside
 * [PD_TIME_MIN, PD_TIME_MAX]), PD_E_NOT_FOUND (user, channel, label or
 * guide unknown), PD_E_ERASED (user erased, or the event id belonged to an
 * erased event), PD_E_DUPLICATE (event id used by different content),
 * PD_E_NOMEM, PD_E_FULL (2^28 links). On error the store is unchanged.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_link(pd_store *store, const pd_link_event *ev);

/**
 * pd_record_unlink - record that ev->user's link on ev->channel ended at
 * ev->time, and who ended it (ev->initiator, a PD_UNLINK_*).
 *
 * An unlink while not linked is kept and has no effect on the state (see
 * pd_unlink_event). guide is 0 or an existing guide.
 * Returns PD_OK or PD_REPLAYED. Errors: as pd_record_link(), plus
 * PD_E_INVALID for an initiator that is not a PD_UNLINK_*.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_unlink(pd_store *store, const pd_unlink_event *ev);

/* ---- touchpoints (触点) ----------------------------------------------- */

/** Kinds of touchpoint. */
enum {
  PD_TOUCH_INBOUND_MESSAGE = 1,   /**< the user wrote to the brand */
  PD_TOUCH_OUTBOUND_1TO1 = 2,     /**< a 1:1 message from brand/guide */
  PD_TOUCH_BROADCAST = 3,         /**< mass message (群发) */
  PD_TOUCH_POST_EXPOSURE = 4,     /**< moments or group post seen */
  PD_TOUCH_CONTENT_VIEW = 5,      /**< article / video viewed */
  PD_TOUCH_CONTENT_ENGAGEMENT = 6,/**< liked, commented, shared content */
  PD_TOUCH_LIVE_VIEW = 7,         /**< watched a live stream */
  PD_TOUCH_PROMISE_KEPT = 8,      /**< a service promise was kept */
  PD_TOUCH_PROMISE_BROKEN = 9,    /**< a service promise was broken */
  PD_TOUCH_RATING = 10            /**< explicit rating of the trust
                                       components (fields rating_*) */
};

/** Purpose of a brand-initiated touch. Kinds 2, 3 and 4 need one of
 *  SERVICE, CONTENT or PROMOTION; other kinds take PD_PURPOSE_NONE or any
 *  purpose that describes them. */
enum {
  PD_PURPOSE_NONE = 0,
  PD_PURPOSE_SERVICE = 1,
  PD_PURPOSE_CONTENT = 2,
  PD_PURPOSE_PROMOTION = 3
};

typedef struct pd_touchpoint {
  size_t size;
  uint64_t event_id;
  pd_user_id user;
  int32_t kind;     /**< PD_TOUCH_* */
  int32_t purpose;  /**< PD_PURPOSE_* */
  int32_t channel;  /**< channel id, 0 = unknown */
  uint32_t guide;   /**< 0 = none */
  uint32_t campaign;/**< 0 = none */
  /** For PD_TOUCH_RATING: each component on 1–10, 0 = not rated (at least
   *  one must be rated). Must be 0 for other kinds. */
  int32_t rating_expertise;
  int32_t rating_reliability;
  int32_t rating_intimacy;
  int32_t rating_self_orientation;
  int64_t time;
} pd_touchpoint;

#define PD_TOUCHPOINT_INIT {sizeof(pd_touchpoint), 0, 0, 0, 0, 0, 0, 0, 0, \
                            0, 0, 0, 0}

/**
 * pd_record_touchpoint - record one contact between brand and user.
 *
 * ev->kind is a PD_TOUCH_*; ev->purpose a PD_PURPOSE_* (kinds OUTBOUND_1TO1,
 * BROADCAST and POST_EXPOSURE need SERVICE, CONTENT or PROMOTION: the
 * promotional share of brand-initiated touches measures self-orientation).
 * ev->channel is 0 (unknown) or an existing channel; guide and campaign are
 * 0 or existing. Ratings: see pd_touchpoint.
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id 0, unknown kind or purpose, missing purpose, a rating
 * on another kind, a rating touchpoint rating nothing), PD_E_RANGE (time,
 * a rating outside 0-10), PD_E_NOT_FOUND, PD_E_ERASED, PD_E_DUPLICATE,
 * PD_E_NOMEM, PD_E_FULL (2^28 touchpoints). On error the store is
 * unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_touchpoint(pd_store *store,
                                      const pd_touchpoint *ev);

/* ---- orders and refunds (成交, 复购, 退款) -------------------------------- */

typedef struct pd_order {
  size_t size;
  uint64_t event_id;
  uint64_t order_id; /**< caller's order number, non-zero, unique */
  pd_user_id user;
  int64_t time;
  int64_t amount;    /**< minor units, >= 0 */
  int32_t channel;   /**< where it was placed, 0 = unknown */
  uint32_t guide;    /**< guide on the order, 0 = none */
  uint32_t shop;     /**< PD_LABEL_SHOP label, 0 = none */
} pd_order;

#define PD_ORDER_INIT {sizeof(pd_order), 0, 0, 0, 0, 0, 0, 0, 0}

/** A (partial) refund of an order. The refunds of an order never add up to
 *  more than its amount (PD_E_CONFLICT), and none precedes the order in
 *  time (PD_E_RANGE). */
typedef struct pd_refund {
  size_t size;
  uint64_t event_id;
  uint64_t order_id;
  int64_t time;
  int64_t amount;    /**< minor units, > 0 */
} pd_refund;

#define PD_REFUND_INIT {sizeof(pd_refund), 0, 0, 0, 0}

/**
 * pd_record_order - record an order of ev->amount minor units (>= 0) by
 * ev->user at ev->time.
 *
 * ev->order_id (non-zero) names the order for later refunds and must not
 * have been used by another event. channel is 0 or an existing channel,
 * guide 0 or existing, shop 0 or a PD_LABEL_SHOP label. The sum of all
 * recorded order amounts must fit in int64 (so every per-user, per-channel
 * or store-wide sum a query makes fits too).
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id or order_id 0), PD_E_RANGE (time, negative amount),
 * PD_E_NOT_FOUND (user, channel, guide, shop), PD_E_ERASED,
 * PD_E_DUPLICATE (event id reused with other content, or order_id used by
 * another event), PD_E_OVERFLOW (the store's order total would overflow),
 * PD_E_NOMEM, PD_E_FULL (2^28 orders). On error the store is unchanged.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_order(pd_store *store, const pd_order *ev);

/**
 * pd_record_refund - record a refund of ev->amount minor units (> 0) of
 * order ev->order_id at ev->time. It counts against the order's user.
 *
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id or order_id 0), PD_E_RANGE (time outside the range or
 * before the order's time, amount <= 0), PD_E_NOT_FOUND (no order with that
 * id), PD_E_ERASED (the order's user was erased, or the event id belonged
 * to an erased event), PD_E_CONFLICT (the order's refunds would exceed its
 * amount), PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL. On error the store is
 * unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_refund(pd_store *store, const pd_refund *ev);

/* ---- referrals (转介绍, 裂变) -------------------------------------------- */

/** @referrer brought @referee. A user has at most one referrer: a second
 *  referral of a user who has one is rejected with PD_E_CONFLICT (also
 *  from the same referrer under another event id); self-referrals (also
 *  between ids merged into one user) and cycles (A→B→…→A) are rejected
 *  with PD_E_CONFLICT. The rules are checked on merged users and do not
 *  depend on time, so they hold whatever order referrals arrive in. */
typedef struct pd_referral {
  size_t size;
  uint64_t event_id;
  pd_user_id referrer;
  pd_user_id referee;
  uint32_t campaign; /**< PD_LABEL_CAMPAIGN, 0 = none */
  int64_t time;
} pd_referral;

#define PD_REFERRAL_INIT {sizeof(pd_referral), 0, 0, 0, 0, 0}

/**
 * pd_record_referral - record that ev->referrer brought ev->referee at
 * ev->time (campaign 0 or a PD_LABEL_CAMPAIGN label).
 *
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id 0), PD_E_RANGE (time), PD_E_NOT_FOUND (either user or
 * the campaign), PD_E_ERASED (either user erased), PD_E_CONFLICT (self,
 * second referrer, cycle), PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL. On error
 * the store is unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_referral(pd_store *store, const pd_referral *ev);

/* ---- reach and acquisition cost (吸粉率, CAC) -------------------------- */

/** How many people a channel/source reached in [period_start, period_end)
 *  (the denominator of the link rate 吸粉率 = linked / reached). */
typedef struct pd_reach {
  size_t size;
  uint64_t event_id;
  int32_t channel;
  uint32_t source;       /**< PD_LABEL_SOURCE, 0 = the channel as a whole */
  int64_t period_start;
  int64_t period_end;    /**< > period_start */
  uint64_t reached;      /**< people reached, < 2^53 */
} pd_reach;

#define PD_REACH_INIT {sizeof(pd_reach), 0, 0, 0, 0, 0, 0}

/** Money spent acquiring users through a source in a period (for LTV:CAC). */
typedef struct pd_acquisition_cost {
  size_t size;
  uint64_t event_id;
  int32_t channel;       /**< 0 = any */
  uint32_t source;       /**< PD_LABEL_SOURCE, 0 = the channel as a whole */
  int64_t period_start;
  int64_t period_end;    /**< > period_start */
  int64_t amount;        /**< minor units, >= 0 */
} pd_acquisition_cost;

#define PD_ACQUISITION_COST_INIT {sizeof(pd_acquisition_cost), 0, 0, 0, 0, 0, 0}

/**
 * pd_record_reach - record how many people ev->channel (an existing
 * channel, not 0) and ev->source (0 or a PD_LABEL_SOURCE label) reached in
 * [period_start, period_end). Records are kept as given (overlapping
 * periods are not merged); they are not tied to users.
 *
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id 0, channel 0), PD_E_RANGE (a time outside the range,
 * period_end <= period_start, reached >= 2^53), PD_E_NOT_FOUND (channel,
 * source), PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL. On error the store is
 * unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_reach(pd_store *store, const pd_reach *ev);

/**
 * pd_record_cost - record ev->amount minor units (>= 0) spent acquiring
 * users through ev->channel (0 = any) and ev->source in [period_start,
 * period_end). The sum of all recorded costs must fit in int64.
 *
 * Returns PD_OK or PD_REPLAYED. Errors: PD_E_MISUSE, PD_E_INVALID (ev NULL,
 * bad size, event_id 0), PD_E_RANGE (times, period, negative amount),
 * PD_E_NOT_FOUND (channel, source), PD_E_OVERFLOW (the total cost would
 * overflow), PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL. On error the store is
 * unchanged. Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_record_cost(pd_store *store,
                                const pd_acquisition_cost *ev);

/* ---- queries about links ------------------------------------------------ */

/** The state of one user's link on one channel as of a time. */
typedef struct pd_link_state {
  size_t size;
  int32_t channel;
  int32_t linked;          /**< 1 if linked at as_of */
  uint32_t links;          /**< link events at or before as_of */
  uint32_t unlinks;        /**< unlinks that ended a link, at or before as_of */
  int64_t first_linked;    /**< time of the first link, -1 if never */
  int64_t linked_since;    /**< start of the current link, -1 if not linked */
  int64_t last_unlinked;   /**< time of the last effective unlink, -1 if none */
  int32_t last_initiator;  /**< PD_UNLINK_* of that unlink, 0 if none */
  uint32_t source;         /**< source of the first link, 0 if unknown */
  uint32_t guide;          /**< guide of the first link, 0 if none */
} pd_link_state;

#define PD_LINK_STATE_INIT {sizeof(pd_link_state), 0, 0, 0, 0, -1, -1, -1, \
                            0, 0, 0}

/**
 * pd_user_link_state - @user's link on @channel as of @as_of.
 *
 * The link events and unlinks of the user (and of users merged into it) on
 * that channel are taken in time order (ties: link before unlink, then by
 * event id); an unlink ends a live link; a link starts one (or repeats a
 * live one). out->size must be at least sizeof(pd_link_state) (use
 * PD_LINK_STATE_INIT; a newer caller's larger struct keeps its extra bytes
 * untouched). A channel the user never touched gives
 * linked = 0 and zero counts (not an error). Errors: PD_E_NOT_FOUND,
 * PD_E_ERASED, PD_E_RANGE, PD_E_INVALID (out NULL or too small, channel 0),
 * PD_E_NOT_FOUND also for an unknown channel, PD_E_NOMEM, PD_E_MISUSE.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_user_link_state(pd_store *store, pd_user_id user,
                                    int32_t channel, int64_t as_of,
                                    pd_link_state *out);

/** Called by pd_user_links() once per channel the user has link or unlink
 *  events on (at or before as_of), in increasing channel id. Return
 *  non-zero to stop. The state is valid only during the call. */
typedef int (*pd_link_state_fn)(void *user_data, const pd_link_state *state);

/**
 * pd_user_links - the link state (as pd_user_link_state() computes it) of
 * @user, and every user merged with it, on each channel it has link or
 * unlink events on at or before @as_of, passed to @fn in increasing
 * channel id.
 *
 * @fn runs under the store's lock: it may call queries on the store, but
 * recording functions called from it return PD_E_MISUSE. Returns PD_OK
 * (also when @fn stopped early). Errors: PD_E_MISUSE, PD_E_INVALID (fn
 * NULL), PD_E_RANGE (as_of), PD_E_NOT_FOUND, PD_E_ERASED, PD_E_NOMEM.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_user_links(pd_store *store, pd_user_id user,
                               int64_t as_of, pd_link_state_fn fn,
                               void *user_data);

/* ---- recording many events at once ------------------------------------- */

/** What kind of record an entry of pd_record_events() points to. Values
 *  are never renumbered; new kinds are appended. */
enum {
  PD_EVENT_LINK = 1,              /**< pd_link_event, as pd_record_link */
  PD_EVENT_UNLINK = 2,            /**< pd_unlink_event */
  PD_EVENT_TOUCHPOINT = 3,        /**< pd_touchpoint */
  PD_EVENT_ORDER = 4,             /**< pd_order */
  PD_EVENT_REFUND = 5,            /**< pd_refund */
  PD_EVENT_REFERRAL = 6,          /**< pd_referral */
  PD_EVENT_GUIDE_BIND = 7,        /**< pd_guide_bind (guides.h) */
  PD_EVENT_GUIDE_HANDOVER = 8,    /**< pd_guide_handover (guides.h) */
  PD_EVENT_GUIDE_DEACTIVATE = 9,  /**< pd_guide_deactivate (guides.h) */
  PD_EVENT_REACH = 10,            /**< pd_reach */
  PD_EVENT_COST = 11,             /**< pd_acquisition_cost */
  PD_EVENT_CONSENT = 12           /**< pd_consent (consent.h) */
};

/**
 * pd_record_events - record @n events of any kinds under one acquisition
 * of the store's lock: event i is the record @records[i] of kind
 * @kinds[i] (a PD_EVENT_*). This is the fastest way to record: while one
 * event is recorded, the memory the next few will touch is already being
 * fetched.
 *
 * Each event is recorded exactly as its pd_record_* function would record
 * it, in array order, and independently of the others: it is validated,
 * deduplicated by event id (idempotent: a replayed id with the same
 * content gives PD_REPLAYED, with other content PD_E_DUPLICATE) and either
 * recorded whole or not at all; a failed event neither stops the later
 * ones nor undoes the earlier ones (a refund may follow its order in the
 * same batch). @statuses[i] receives what that pd_record_* call would have
 * returned; an unknown kind gives PD_E_INVALID for that event. Records are
 * copied; nothing is kept of @kinds, @records or the records.
 *
 * Returns PD_OK when every event gave PD_OK or PD_REPLAYED; otherwise the
 * status of the first event that failed, with pd_store_errmsg() naming it
 * ("events[i]: ...") — @statuses says which others failed. In both cases
 * all n statuses are written. Errors before any event is attempted
 * (@statuses untouched, store unchanged): PD_E_MISUSE (bad handle, or
 * called from a callback), PD_E_INVALID (@kinds, @records or @statuses
 * NULL while @n > 0). @n = 0 returns PD_OK.
 * Thread safety: serialised on the store's lock, which is held for the
 * whole batch: other threads see either none or all of its events, and
 * wait for it (batches of about a thousand events keep the wait short;
 * larger ones gain nothing).
 */
PD_API pd_status pd_record_events(pd_store *store, size_t n,
                                  const int32_t *kinds,
                                  const void *const *records,
                                  pd_status *statuses);

PD_END_DECLS

#endif /* PRIVDOMAIN_EVENTS_H */
