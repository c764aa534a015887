/* Helpers for the store tests: creating users, and a digest of everything
 * the public queries report about a store, so a test can prove that a
 * failed call left the store exactly as it was (or that two stores built
 * from the same events in different orders answer alike). */
#ifndef PD_TESTS_STORE_TESTUTIL_H
#define PD_TESTS_STORE_TESTUTIL_H

#include <stdint.h>
#include <string.h>

#include <privdomain/privdomain.h>

static inline uint64_t digest_mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 29);
}

static inline int digest_identity(void *u, const char *ns, size_t ns_len,
                           const char *key, size_t key_len) {
  uint64_t *h = u;
  for (size_t i = 0; i < ns_len; i++) *h = digest_mix(*h, (uint8_t)ns[i]);
  *h = digest_mix(*h, 0x100);
  for (size_t i = 0; i < key_len; i++) *h = digest_mix(*h, (uint8_t)key[i]);
  *h = digest_mix(*h, 0x200);
  return 0;
}

static inline uint64_t digest_link_state(uint64_t h, const pd_link_state *l) {
  h = digest_mix(h, (uint64_t)l->channel);
  h = digest_mix(h, (uint64_t)l->linked);
  h = digest_mix(h, l->links);
  h = digest_mix(h, l->unlinks);
  h = digest_mix(h, (uint64_t)l->first_linked);
  h = digest_mix(h, (uint64_t)l->linked_since);
  h = digest_mix(h, (uint64_t)l->last_unlinked);
  h = digest_mix(h, (uint64_t)l->last_initiator);
  h = digest_mix(h, l->source);
  return digest_mix(h, l->guide);
}

static inline uint64_t digest_user_info(uint64_t h, const pd_user_info *i) {
  h = digest_mix(h, i->user);
  h = digest_mix(h, i->identities);
  h = digest_mix(h, i->channels_linked);
  h = digest_mix(h, i->orders);
  h = digest_mix(h, (uint64_t)i->revenue);
  h = digest_mix(h, (uint64_t)i->refunded);
  h = digest_mix(h, (uint64_t)i->first_purchase);
  h = digest_mix(h, (uint64_t)i->last_purchase);
  h = digest_mix(h, i->guide);
  h = digest_mix(h, i->referrals_made);
  h = digest_mix(h, i->referrer);
  return digest_mix(h, (uint64_t)i->first_seen);
}

/* Everything observable about users 1..max_user at the given times, the
 * store-wide counts (not memory) and guides 1..max_guide. */
static inline uint64_t store_digest(pd_store *s, pd_user_id max_user,
                             const int64_t *times, size_t n_times,
                             uint32_t max_guide) {
  uint64_t h = 1;
  pd_store_stats st = PD_STORE_STATS_INIT;
  if (pd_store_get_stats(s, &st) != PD_OK) return 0;
  const uint64_t *f = &st.users;
  for (const uint64_t *p = f; p < &st.memory_bytes; p++) h = digest_mix(h, *p);
  for (pd_user_id u = 1; u <= max_user; u++) {
    pd_user_id c = 0;
    h = digest_mix(h, (uint64_t)(int64_t)pd_user_canonical(s, u, &c));
    h = digest_mix(h, c);
    uint64_t ih = 0;
    h = digest_mix(h, (uint64_t)(int64_t)pd_user_identities(
                          s, u, digest_identity, &ih));
    h = digest_mix(h, ih);
    for (size_t k = 0; k < n_times; k++) {
      pd_user_info info = PD_USER_INFO_INIT;
      h = digest_mix(h, (uint64_t)(int64_t)pd_user_get(s, u, times[k], &info));
      h = digest_user_info(h, &info);
      for (int32_t ch = 1; ch <= PD_CHANNEL_BUILTIN_LAST; ch++) {
        pd_link_state l = PD_LINK_STATE_INIT;
        if (pd_user_link_state(s, u, ch, times[k], &l) == PD_OK)
          h = digest_link_state(h, &l);
      }
    }
  }
  for (uint32_t g = 1; g <= max_guide; g++)
    for (size_t k = 0; k < n_times; k++) {
      pd_guide_info gi = PD_GUIDE_INFO_INIT;
      h = digest_mix(h, (uint64_t)(int64_t)pd_guide_get(s, g, times[k], &gi));
      h = digest_mix(h, gi.users_bound);
      h = digest_mix(h, (uint64_t)gi.active);
      h = digest_mix(h, (uint64_t)gi.deactivated);
    }
  return h;
}

/* The user of identity ("phone", key), created if new. */
static inline pd_user_id user_of(pd_store *s, const char *key) {
  pd_user_id u = 0;
  pd_status st = pd_user_ensure(s, "phone", PD_NTS, key, PD_NTS, &u);
  return st == PD_OK || st == PD_REPLAYED ? u : 0;
}

#endif
