/* Recording many events under one lock (pd_record_events): each event goes
 * through the same function as its own pd_record_* call (record.h), so a
 * batch keeps every guarantee of single calls. What it adds: the lock is
 * taken once, and the index bucket and user record of an event a few
 * entries ahead are prefetched, so that the cache misses of consecutive
 * events overlap instead of following one another. */
#include <stddef.h>
#include <string.h>

#include <privdomain/events.h>
#include <privdomain/guides.h>

#include "event_index.h"
#include "record.h"
#include "store_internal.h"

/* Entries are recorded in groups; all prefetches for the next group are
 * issued back to back while this one is recorded. Issued together, their
 * address translations (TLB misses, the main cost on large stores) and
 * cache misses overlap; spread one per event, each would sit alone in
 * the CPU's instruction window. 16 entries touch about 40 lines. */
#define GROUP 16

/* Where the user id sits in each kind's record (0 = the kind has none);
 * the event id is always the second member, after the size. */
static size_t user_offset(int32_t kind) {
  switch (kind) {
    case PD_EVENT_LINK: return offsetof(pd_link_event, user);
    case PD_EVENT_UNLINK: return offsetof(pd_unlink_event, user);
    case PD_EVENT_TOUCHPOINT: return offsetof(pd_touchpoint, user);
    case PD_EVENT_ORDER: return offsetof(pd_order, user);
    case PD_EVENT_GUIDE_BIND: return offsetof(pd_guide_bind, user);
    default: return 0;
  }
}

/* Start fetching what recording this entry will touch: its index bucket,
 * the two words of its user's record it reads and writes (flags, and the
 * chain head of its kind: PD_EVENT_* 1..7 equal the chained PD_EV_*
 * kinds) and, for an order, its order-index slot. Reads only bytes the
 * record's own size says it has. */
static void prefetch(pd_store *s, int32_t kind, const void *rec) {
  if (rec == NULL) return;
  size_t size;
  uint64_t eid, user = 0;
  memcpy(&size, rec, sizeof size);
  if (size < 2 * sizeof(uint64_t)) return;
  memcpy(&eid, (const char *)rec + sizeof(uint64_t), sizeof eid);
  pd_st_index_prefetch(s, eid);
  size_t uo = user_offset(kind);
  if (uo != 0 && size >= uo + sizeof user) {
    memcpy(&user, (const char *)rec + uo, sizeof user);
    if (user != 0 && user < s->n_users) {
      PD_PREFETCH(&s->users[user].flags);
      PD_PREFETCH(&s->users[user].head[kind]);
    }
  }
  if (kind == PD_EVENT_ORDER && size >= sizeof(pd_order)) {
    uint64_t order_id;
    memcpy(&order_id, (const char *)rec + offsetof(pd_order, order_id),
           sizeof order_id);
    pd_st_order_prefetch(s, order_id);
  }
}

static pd_status record_one(pd_store *s, int32_t kind, const void *rec) {
  switch (kind) {
    case PD_EVENT_LINK: return pd_st_record_link(s, rec);
    case PD_EVENT_UNLINK: return pd_st_record_unlink(s, rec);
    case PD_EVENT_TOUCHPOINT: return pd_st_record_touch(s, rec);
    case PD_EVENT_ORDER: return pd_st_record_order(s, rec);
    case PD_EVENT_REFUND: return pd_st_record_refund(s, rec);
    case PD_EVENT_REFERRAL: return pd_st_record_referral(s, rec);
    case PD_EVENT_GUIDE_BIND: return pd_st_record_bind(s, rec);
    case PD_EVENT_GUIDE_HANDOVER: return pd_st_record_handover(s, rec);
    case PD_EVENT_GUIDE_DEACTIVATE: return pd_st_record_deactivate(s, rec);
    case PD_EVENT_REACH: return pd_st_record_reach(s, rec);
    case PD_EVENT_COST: return pd_st_record_cost(s, rec);
    case PD_EVENT_CONSENT: return pd_st_record_consent(s, rec);
    default:
      return pd_err(&s->err, PD_E_INVALID, "kind %d is not a PD_EVENT_*",
                    (int)kind);
  }
}

pd_status pd_record_events(pd_store *s, size_t n, const int32_t *kinds,
                           const void *const *records, pd_status *statuses) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (n > 0 && (kinds == NULL || records == NULL || statuses == NULL))
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "kinds, records or statuses is NULL"));
  /* The lock is held throughout: no other thread records or reads
   * between the events of the batch. */
  for (size_t i = 0; i < n && i < GROUP; i++)
    prefetch(s, kinds[i], records[i]);
  pd_status first = PD_OK;
  size_t first_at = 0;
  pd_errbuf first_err;
  for (size_t g = 0; g < n; g += GROUP) {
    size_t end = n - g < GROUP ? n : g + GROUP;
    for (size_t i = end; i < n && i < end + GROUP; i++)
      prefetch(s, kinds[i], records[i]);
    for (size_t i = g; i < end; i++) {
      s->batch_prefetched = 1;
      pd_status r = record_one(s, kinds[i], records[i]);
      s->batch_prefetched = 0;
      statuses[i] = r;
      if (r < 0 && first == PD_OK) {
        first = r;
        first_at = i;
        memcpy(&first_err, &s->err, sizeof first_err);
      }
    }
  }
  if (first < 0)
    pd_err(&s->err, first, "events[%zu]: %s", first_at, first_err.msg);
  return pd_st_leave(s, first);
}
