/* The store's mutation hook: the one place where a journal (io layer)
 * sees every change before the store applies it.
 *
 * Every recording function that is about to change the store calls
 * pd_st_log() under the store's lock, after all validation and after
 * reserving every allocation the change needs, and before changing
 * anything a caller could observe. pd_st_log encodes the call with the
 * codec of mutation_codec.h and hands the bytes to the hook; if the hook
 * fails, the recording function returns PD_E_IO and the store is as it
 * was. Replayed calls (PD_REPLAYED) change nothing and are not logged.
 * Without a hook pd_st_log costs one test of a pointer. */
#ifndef PD_STORE_MUTATION_HOOK_H
#define PD_STORE_MUTATION_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store_internal.h"

/* Append one encoded mutation (len bytes). Return 0 when it is durable as
 * the hook's policy promises, or non-zero with a message in `why`. */
typedef int (*pd_st_append_fn)(void *user, const unsigned char *rec,
                               size_t len, pd_errbuf *why);
/* Called once when the store is freed (or the hook replaced): flush and
 * release whatever `user` holds. */
typedef void (*pd_st_release_fn)(void *user);

typedef struct pd_st_hook {
  pd_st_append_fn append;
  pd_st_release_fn release; /* may be NULL */
  void *user;
} pd_st_hook;

/* Install `h` (owned by the caller until its release runs; NULL removes
 * the hook without releasing it). Take the store's lock around it when
 * other threads may record. Returns the hook that was installed before. */
pd_st_hook *pd_st_hook_set(pd_store *s, pd_st_hook *h);

/* The installed hook, or NULL. */
static inline pd_st_hook *pd_st_hook_get(const pd_store *s) {
  return s->hook;
}

/* Encode mutation `type` (PD_MUT_*) with its argument struct and hand it to
 * the hook. PD_OK, or PD_E_IO with the store's message set (the hook
 * failed, or the codec has no row for `type`: a programming error). */
pd_status pd_st_log_emit(pd_store *s, int32_t type, const void *args);

static inline pd_status pd_st_log(pd_store *s, int32_t type,
                                  const void *args) {
  return s->hook ? pd_st_log_emit(s, type, args) : PD_OK;
}

#endif
