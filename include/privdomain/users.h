/*
 * libprivdomain — users and their identities.
 *
 * A user is a person the brand can recognise. It is found or created by an
 * identity: a (namespace, key) pair such as ("wechat.unionid", "o6_bm…"),
 * ("wecom.external_userid", …), ("phone", "+8613800000000"),
 * ("pos.member", "M00042"). A user may have any number of identities.
 *
 * When an identity turns out to belong to two users (a WeChat member pays
 * at the till with a member card known under another user), the two users
 * are merged: every fact of both counts for the merged user from then on,
 * in every query and for every `as_of`. The surviving id is the smaller of
 * the two (so the result does not depend on the order of calls); the other
 * id keeps working as an alias of the survivor everywhere a pd_user_id is
 * accepted. Merging is idempotent.
 *
 * Erasure (PIPL right to deletion) removes a user's identities and every
 * event of it: no query returns them afterwards, and the identity strings
 * are overwritten in memory. Events still arriving for an erased user get
 * PD_E_ERASED. Erased ids are never reused.
 *
 * Namespaces are 1–64 bytes of [a-z0-9._-]; keys are 1–512 bytes of valid
 * UTF-8 without NUL. Errors for text: PD_E_INVALID (empty, bad namespace
 * character), PD_E_UTF8 (invalid UTF-8 or too long).
 *
 * Thread safety and error conventions: see store.h.
 */
#ifndef PRIVDOMAIN_USERS_H
#define PRIVDOMAIN_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** A user id, from 1 upwards in order of creation; 0 means "no user". */
typedef uint64_t pd_user_id;

#define PD_IDENTITY_NS_MAX 64
#define PD_IDENTITY_KEY_MAX 512

/**
 * pd_user_find - the user who has identity (@ns, @key).
 *
 * Writes the user's current id (the survivor if it was merged) to @out.
 * Errors: PD_E_NOT_FOUND (no such identity), PD_E_INVALID, PD_E_UTF8,
 * PD_E_MISUSE.
 */
PD_API pd_status pd_user_find(pd_store *store, const char *ns, size_t ns_len,
                              const char *key, size_t key_len,
                              pd_user_id *out);

/**
 * pd_user_ensure - the user who has identity (@ns, @key), created with that
 * identity if there is none.
 *
 * Returns PD_OK when a user was created and PD_REPLAYED when it existed
 * (both write @out). Errors: as pd_user_find() but not PD_E_NOT_FOUND,
 * plus PD_E_NOMEM, PD_E_FULL (2³²−2 users).
 */
PD_API pd_status pd_user_ensure(pd_store *store, const char *ns,
                                size_t ns_len, const char *key,
                                size_t key_len, pd_user_id *out);

/**
 * pd_users_ensure - pd_user_ensure() for @n identities of namespace @ns
 * under one acquisition of the store's lock: identity i has key @keys[i]
 * of @key_lens[i] bytes (PD_NTS, or @key_lens NULL for every key: the key
 * is NUL-terminated). This is the fastest way to bring in many users (a
 * member import): while one identity is looked up, the hash slots of the
 * next few are already being fetched.
 *
 * Each identity is ensured exactly as pd_user_ensure() would ensure it, in
 * array order and independently of the others: @statuses[i] receives what
 * that call would have returned (PD_OK: created; PD_REPLAYED: it existed,
 * also when an earlier entry of the same batch created it; PD_E_INVALID or
 * PD_E_UTF8 for a bad key; PD_E_NOMEM; PD_E_FULL) and @out[i] the user, or
 * 0 when the entry failed. A failed entry neither stops the later ones nor
 * undoes the earlier ones. Each user created is journaled as its own
 * pd_user_ensure() call. Nothing is kept of @keys or @key_lens.
 *
 * Returns PD_OK when every entry gave PD_OK or PD_REPLAYED; otherwise the
 * status of the first entry that failed, with pd_store_errmsg() naming it
 * ("keys[i]: ..."); all @n statuses and ids are written in both cases.
 * Errors before any entry is attempted (@out and @statuses untouched,
 * store unchanged): PD_E_MISUSE (bad handle, or called from a callback),
 * PD_E_INVALID (@keys, @out or @statuses NULL while @n > 0; @ns NULL,
 * empty or with a byte outside [a-z0-9._-]), PD_E_UTF8 (@ns longer than
 * 64 bytes). @n = 0 returns PD_OK once @ns is checked.
 * Thread safety: serialised on the store's lock, which is held for the
 * whole batch (batches of about a thousand keep other threads' wait
 * short). Added in 0.2.
 */
PD_API pd_status pd_users_ensure(pd_store *store, const char *ns,
                                 size_t ns_len, size_t n,
                                 const char *const *keys,
                                 const size_t *key_lens, pd_user_id *out,
                                 pd_status *statuses);

/**
 * pd_user_attach - give @user the identity (@ns, @key).
 *
 * If the identity is new it is added to @user. If it already belongs to
 * @user, nothing changes (PD_REPLAYED). If it belongs to another user, the
 * two users are merged (see above). @out receives the surviving id.
 * Errors: PD_E_NOT_FOUND (unknown user), PD_E_ERASED, PD_E_INVALID,
 * PD_E_UTF8, PD_E_NOMEM, PD_E_MISUSE.
 */
PD_API pd_status pd_user_attach(pd_store *store, pd_user_id user,
                                const char *ns, size_t ns_len,
                                const char *key, size_t key_len,
                                pd_user_id *out);

/**
 * pd_user_merge - merge users @a and @b (they are the same person).
 *
 * @out receives the survivor (the smaller id). Merging two ids that are
 * already one user returns PD_REPLAYED. Merging never fails for money: the
 * store's order total bounds every user's sum. Errors: PD_E_NOT_FOUND,
 * PD_E_ERASED, PD_E_INVALID (out NULL), PD_E_CONFLICT (the merged user
 * would have two different referrers, or would refer itself or close a
 * referral cycle), PD_E_MISUSE (bad handle, or from a callback).
 */
PD_API pd_status pd_user_merge(pd_store *store, pd_user_id a, pd_user_id b,
                               pd_user_id *out);

/**
 * pd_user_canonical - the id @user is known by now (itself, or the
 * survivor of the merges it took part in). Errors: PD_E_NOT_FOUND,
 * PD_E_ERASED, PD_E_MISUSE.
 */
PD_API pd_status pd_user_canonical(pd_store *store, pd_user_id user,
                                   pd_user_id *out);

/**
 * pd_user_erase - erase @user (and every user merged with it): identities,
 * links, touchpoints, orders, refunds, bindings and referrals. Referral
 * edges through the erased user are removed; users it referred keep no
 * referrer. Erasing an erased user returns PD_REPLAYED. The event ids of
 * erased events stay reserved: recording one again returns PD_E_ERASED.
 * Erasure allocates nothing, so it cannot fail for memory.
 * Errors: PD_E_NOT_FOUND, PD_E_MISUSE (bad handle, or from a callback).
 */
PD_API pd_status pd_user_erase(pd_store *store, pd_user_id user);

/** Called once per identity by pd_user_identities(). The strings are not
 *  NUL-terminated copies: they are valid only during the call. Return 0 to
 *  go on, non-zero to stop (the function then returns PD_OK). */
typedef int (*pd_identity_fn)(void *user_data, const char *ns, size_t ns_len,
                              const char *key, size_t key_len);

/**
 * pd_user_identities - call @fn for each identity of @user (of every user
 * merged into it), ordered by namespace then key bytes. In a store created
 * with pd_store_options.identity_key, the key passed to @fn is the stored
 * pseudonym (64 lowercase hex digits of the HMAC, see store.h), never the
 * key that was given. @fn runs under the
 * store's lock: it may call queries, but recording returns PD_E_MISUSE.
 * Errors: PD_E_NOT_FOUND, PD_E_ERASED, PD_E_INVALID (fn NULL), PD_E_NOMEM,
 * PD_E_MISUSE.
 */
PD_API pd_status pd_user_identities(pd_store *store, pd_user_id user,
                                    pd_identity_fn fn, void *user_data);

/** What pd_user_get() reports about one user as of a time. */
typedef struct pd_user_info {
  size_t size;
  pd_user_id user;          /**< canonical id */
  uint32_t identities;      /**< identities of the user */
  uint32_t channels_linked; /**< channels with a live link at as_of */
  uint64_t orders;          /**< orders placed at or before as_of */
  int64_t revenue;          /**< order amounts minus refunds, both at or
                                 before as_of, minor units */
  int64_t refunded;         /**< refunds at or before as_of, minor units */
  int64_t first_purchase;   /**< time of the first order, -1 if none */
  int64_t last_purchase;    /**< time of the last order, -1 if none */
  uint32_t guide;           /**< guide bound at as_of, 0 if none */
  uint32_t referrals_made;  /**< users this user referred at or before as_of */
  pd_user_id referrer;      /**< who referred this user (canonical id) if
                                 the referral happened at or before as_of,
                                 else 0 */
  int64_t first_seen;       /**< earliest event of the user, -1 if none */
} pd_user_info;

#define PD_USER_INFO_INIT {sizeof(pd_user_info), 0, 0, 0, 0, 0, 0, -1, -1, \
                           0, 0, 0, -1}

/**
 * pd_user_get - what is known of @user as of time @as_of (events after
 * @as_of are ignored). out->size must be at least sizeof(pd_user_info)
 * (PD_USER_INFO_INIT; a newer caller's larger struct keeps its extra bytes
 * untouched). Sums cannot in fact overflow (see pd_record_order()).
 * Errors: PD_E_NOT_FOUND, PD_E_ERASED, PD_E_RANGE (as_of), PD_E_INVALID,
 * PD_E_OVERFLOW (revenue does not fit in int64), PD_E_NOMEM, PD_E_MISUSE.
 * Thread safety: serialised on the store's lock.
 */
PD_API pd_status pd_user_get(pd_store *store, pd_user_id user, int64_t as_of,
                             pd_user_info *out);

/** Called once per user by pd_store_foreach_user(); return non-zero to
 *  stop. */
typedef int (*pd_user_fn)(void *user_data, pd_user_id user);

/**
 * pd_store_foreach_user - call @fn for every live user (canonical ids only:
 * merged-away and erased ids are skipped), in increasing id order. @fn
 * runs under the store's lock: it may call queries, but recording returns
 * PD_E_MISUSE. Errors: PD_E_INVALID (fn NULL), PD_E_MISUSE.
 */
PD_API pd_status pd_store_foreach_user(pd_store *store, pd_user_fn fn,
                                       void *user_data);

PD_END_DECLS

#endif /* PRIVDOMAIN_USERS_H */
