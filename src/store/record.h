/* The recording functions without the lock: each pd_record_* is
 * pd_st_enter + pd_st_record_* + pd_st_leave. pd_record_events calls
 * these directly under one acquisition of the lock. Each validates its
 * record (NULL, size, fields), deduplicates by event id, calls the
 * mutation hook and either records the event whole or changes nothing,
 * returning the status of the matching public function (message in
 * s->err on error). Call with the store's lock held, outside callbacks. */
#ifndef PD_STORE_RECORD_H
#define PD_STORE_RECORD_H

#include <privdomain/consent.h>
#include <privdomain/events.h>
#include <privdomain/guides.h>

#include "event_index.h"
#include "store_internal.h"

/* The prefetch a recording function starts with (its index bucket and
 * user), skipped inside pd_record_events, which issued it a group of
 * events ahead. */
static inline void pd_st_record_prefetch(const pd_store *s, uint64_t eid,
                                         uint64_t user) {
  if (!s->batch_prefetched) pd_st_event_prefetch(s, eid, user);
}

pd_status pd_st_record_link(pd_store *s, const pd_link_event *in);
pd_status pd_st_record_unlink(pd_store *s, const pd_unlink_event *in);
pd_status pd_st_record_touch(pd_store *s, const pd_touchpoint *in);
pd_status pd_st_record_order(pd_store *s, const pd_order *in);
pd_status pd_st_record_refund(pd_store *s, const pd_refund *in);
pd_status pd_st_record_referral(pd_store *s, const pd_referral *in);
pd_status pd_st_record_bind(pd_store *s, const pd_guide_bind *in);
pd_status pd_st_record_handover(pd_store *s, const pd_guide_handover *in);
pd_status pd_st_record_deactivate(pd_store *s,
                                  const pd_guide_deactivate *in);
pd_status pd_st_record_reach(pd_store *s, const pd_reach *in);
pd_status pd_st_record_cost(pd_store *s, const pd_acquisition_cost *in);
pd_status pd_st_record_consent(pd_store *s, const pd_consent *in);

#endif
