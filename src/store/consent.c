/* Consent and opt-out: recording grants and withdrawals per purpose, and
 * the state of a purpose at a time (rules in consent.h). */
#include <string.h>

#include <privdomain/consent.h>

#include "event_index.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "record.h"
#include "store_internal.h"
#include "store_query.h"
#include "consent_query.h"

static int valid_purpose(int32_t p) {
  return p >= PD_CONSENT_MARKETING && p <= PD_CONSENT_ANALYTICS;
}

static int same_consent(pd_store *s, const pd_st_consent *c,
                        const pd_consent *ev) {
  return pd_st_same_user(s, c->user, ev->user) &&
         c->time == (uint32_t)ev->time && c->purpose == ev->purpose &&
         c->granted == ev->granted;
}

pd_status pd_st_record_consent(pd_store *s, const pd_consent *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_consent), "consent");
  if (st) return st;
  pd_consent ev;
  memcpy(&ev, in, sizeof ev);
  if (!valid_purpose(ev.purpose))
    return pd_err(&s->err, PD_E_INVALID,
                  "consent purpose %d is not a PD_CONSENT_*", (int)ev.purpose);
  if (ev.granted != 0 && ev.granted != 1)
    return pd_err(&s->err, PD_E_INVALID,
                  "consent granted is %d; it must be 1 (grant) or 0 "
                  "(withdraw)",
                  (int)ev.granted);
  if ((st = pd_st_check_time(s, ev.time, "consent time")) != PD_OK) return st;
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_CONSENT, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL)
    return pd_st_replay(s, same_consent(s, &pd_st_consents(s)[idx], &ev),
                        ev.event_id, "consent");
  uint32_t u = 0;
  if ((st = pd_st_user_check(s, ev.user, "consent user", &u)) != PD_OK)
    return st;
  if ((st = pd_st_event_reserve(s, PD_EV_CONSENT)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_CONSENT, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_CONSENT, ev.event_id);
  pd_st_consent *c = &pd_st_consents(s)[i];
  c->user = u;
  c->time = (uint32_t)ev.time;
  c->purpose = (uint8_t)ev.purpose;
  c->granted = (uint8_t)ev.granted;
  c->pad = 0;
  c->next = s->users[u].head[PD_EV_CONSENT];
  s->users[u].head[PD_EV_CONSENT] = i;
  return PD_OK;
}

pd_status pd_record_consent(pd_store *s, const pd_consent *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_consent(s, ev));
}

int32_t pd_st_consent_at(const pd_store *s, uint32_t root, int32_t purpose,
                         uint32_t as_of, int64_t *since) {
  const pd_st_consent *cs = pd_st_consents(s);
  int64_t best_t = -1;
  int32_t granted = 1;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_CONSENT, i) {
    const pd_st_consent *c = &cs[i];
    if (c->time > as_of || c->purpose != purpose) continue; /* erased too */
    /* Latest wins; at the same second a withdrawal wins. */
    if ((int64_t)c->time > best_t ||
        ((int64_t)c->time == best_t && c->granted == 0)) {
      best_t = c->time;
      granted = c->granted;
    }
  }
  if (since) *since = best_t;
  return granted;
}

pd_status pd_user_consent_recorded(pd_store *s, pd_user_id user,
                                   int32_t purpose, int64_t as_of,
                                   int32_t *granted, int32_t *recorded,
                                   int64_t *since) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (granted == NULL && recorded == NULL && since == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "every output pointer is NULL"));
  if (!valid_purpose(purpose))
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "consent purpose %d is not a PD_CONSENT_*",
                                 (int)purpose));
  uint32_t u = 0;
  if ((st = pd_st_check_time(s, as_of, "as_of")) != PD_OK ||
      (st = pd_st_user_check(s, user, "user", &u)) != PD_OK)
    return pd_st_leave(s, st);
  int64_t t = -1;
  int32_t g = pd_st_consent_at(s, pd_st_find(s, u), purpose,
                               (uint32_t)as_of, &t);
  if (granted) *granted = g;
  if (recorded) *recorded = t >= 0;
  if (since) *since = t;
  return pd_st_leave(s, PD_OK);
}

pd_status pd_user_consent(pd_store *s, pd_user_id user, int32_t purpose,
                          int64_t as_of, int32_t *granted) {
  if (pd_st_valid(s) && granted == NULL) {
    pd_st_lock(s);
    pd_err(&s->err, PD_E_INVALID, "granted is NULL");
    pd_st_unlock(s);
    return PD_E_INVALID;
  }
  return pd_user_consent_recorded(s, user, purpose, as_of, granted, NULL,
                                  NULL);
}
