/* Orders and refunds (成交, 复购, 退款): money in int64 minor units,
 * every sum bounded by the store-wide total so no query can overflow. */
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/events.h>

#include "core/checked.h"
#include "core/hash.h"
#include "core/prefetch.h"
#include "event_index.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "record.h"
#include "store_restore.h"
#include "store_internal.h"
#include "store_threads.h"

/* ---- order id -> order index -------------------------------------------- */

/* A slot holds the low 32 bits of the order id's hash above the order
 * index + 1 (0 = empty); the position comes from the high bits, scaled to
 * the slot count (any number, so the table grows by half and a
 * reservation sizes it exactly). Comparing the stored hash bits first
 * means a probe reads an order record only when it almost surely is the
 * one sought. */
static inline uint64_t order_hash(uint64_t order_id) {
  return pd_mix64(order_id ^ 0x6f72646572ULL);
}

static inline size_t order_home(uint64_t h, size_t cap) {
  return (size_t)(((h >> 32) * (uint64_t)cap) >> 32);
}

static inline size_t order_next(size_t i, size_t cap) {
  return i + 1 == cap ? 0 : i + 1;
}

/* The fewest slots (at least 256) holding n orders at load <= 3/4. */
static size_t order_slots_for(size_t n) {
  size_t cap = n / 3 * 4 + 4;
  return cap < 256 ? 256 : cap;
}

/* The slot holding order_id (of hash h), or the empty slot where it
 * would go. The table must have slots. */
static size_t order_slot(const pd_store *s, uint64_t order_id, uint64_t h) {
  size_t cap = s->order_slots_cap;
  uint64_t check = h << 32;
  for (size_t i = order_home(h, cap);; i = order_next(i, cap)) {
    uint64_t v = s->order_slots[i];
    if (v == 0 || ((v & ~(uint64_t)UINT32_MAX) == check &&
                   pd_st_orders(s)[(uint32_t)v - 1].order_id == order_id))
      return i;
  }
}

static uint32_t order_find(const pd_store *s, uint64_t order_id) {
  if (s->order_slots_cap == 0) return PD_ST_NIL;
  uint64_t v = s->order_slots[order_slot(s, order_id, order_hash(order_id))];
  return v ? (uint32_t)v - 1 : PD_ST_NIL;
}

void pd_st_order_prefetch(const pd_store *s, uint64_t order_id) {
  if (s->order_slots_cap == 0) return;
  PD_PREFETCH(&s->order_slots[order_home(order_hash(order_id),
                                         s->order_slots_cap)]);
}

static void order_place(uint64_t *slots, size_t cap, uint64_t order_id,
                        uint32_t v) {
  uint64_t h = order_hash(order_id);
  size_t i = order_home(h, cap);
  while (slots[i]) i = order_next(i, cap);
  slots[i] = h << 32 | v;
}

/* Room for `more` orders: growing by half keeps the load between 1/2 and
 * 3/4 (doubling would let it fall to 3/8). */
static pd_status order_slots_reserve(pd_store *s, size_t more) {
  if (more <= s->order_slots_cap / 4 * 3 - s->order_slots_len) return PD_OK;
  size_t ncap = order_slots_for(s->order_slots_len + more);
  if (more == 1 && ncap < s->order_slots_cap + s->order_slots_cap / 2)
    ncap = s->order_slots_cap + s->order_slots_cap / 2;
  uint64_t *ns = pd_st_alloc_slots(s, ncap);
  if (!ns) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  /* Every order is in the table (erased ones keep their order id), so
   * read them from the column in order and prefetch the slots a few
   * ahead, rather than chase each old slot's order record at random. */
  const pd_st_order *o = pd_st_orders(s);
  size_t n = s->order_slots_len;
  for (size_t i = 0; i < n; i++) {
    if (i + PD_PREFETCH_AHEAD < n)
      PD_PREFETCH(&ns[order_home(order_hash(o[i + PD_PREFETCH_AHEAD].order_id),
                                 ncap)]);
    order_place(ns, ncap, o[i].order_id, (uint32_t)i + 1);
  }
  pd_free(&s->alloc, s->order_slots);
  s->order_slots = ns;
  s->order_slots_cap = ncap;
  return PD_OK;
}

pd_status pd_st_order_reserve(pd_store *s, size_t count) {
  return count ? order_slots_reserve(s, count) : PD_OK;
}

/* ---- orders --------------------------------------------------------------- */


pd_status pd_st_record_order(pd_store *s, const pd_order *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_order), "order");
  if (st) return st;
  pd_order ev;
  memcpy(&ev, in, sizeof ev);
  pd_st_record_prefetch(s, ev.event_id, ev.user);
  pd_st_order_prefetch(s, ev.order_id);
  if (ev.order_id == 0)
    return pd_err(&s->err, PD_E_INVALID, "order_id 0 is not an order id");
  if ((st = pd_st_check_time(s, ev.time, "order time")) != PD_OK) return st;
  if (ev.amount < 0)
    return pd_err(&s->err, PD_E_RANGE, "order amount %lld is negative",
                  (long long)ev.amount);
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_ORDER, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_order *o = &pd_st_orders(s)[idx];
    int same = o->order_id == ev.order_id &&
               pd_st_same_user(s, o->user, ev.user) &&
               o->time == (uint32_t)ev.time && o->amount == ev.amount &&
               o->channel == ev.channel && o->guide == ev.guide &&
               o->shop == ev.shop;
    return pd_st_replay(s, same, ev.event_id, "order");
  }
  uint32_t u = 0;
  if ((st = pd_st_user_check(s, ev.user, "order user", &u)) != PD_OK ||
      (st = pd_st_channel_check(s, ev.channel, 1, "order")) != PD_OK ||
      (st = pd_st_guide_check(s, ev.guide, 1, "order")) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_SHOP, ev.shop, "order shop")) !=
          PD_OK)
    return st;
  if (order_find(s, ev.order_id) != PD_ST_NIL)
    return pd_err(&s->err, PD_E_DUPLICATE,
                  "order id %llu was recorded by another event",
                  (unsigned long long)ev.order_id);
  int64_t total;
  if (pd_add_i64(s->order_total, ev.amount, &total) != 0)
    return pd_err(&s->err, PD_E_OVERFLOW,
                  "order amount %lld would overflow the store's revenue "
                  "(sums must fit in int64 minor units)",
                  (long long)ev.amount);
  if ((st = pd_st_event_reserve(s, PD_EV_ORDER)) != PD_OK ||
      (st = order_slots_reserve(s, 1)) != PD_OK ||
      (st = pd_st_log(s, PD_MUT_ORDER, &ev)) != PD_OK)
    return st;
  uint32_t i = pd_st_event_append(s, PD_EV_ORDER, ev.event_id);
  pd_st_order *o = &pd_st_orders(s)[i];
  o->order_id = ev.order_id;
  o->amount = ev.amount;
  o->refunded = 0;
  o->user = u;
  o->time = (uint32_t)ev.time;
  o->guide = ev.guide;
  o->shop = ev.shop;
  o->channel = (uint16_t)ev.channel;
  o->pad = 0;
  o->next = s->users[u].head[PD_EV_ORDER];
  s->users[u].head[PD_EV_ORDER] = i;
  order_place(s->order_slots, s->order_slots_cap, ev.order_id, i + 1);
  s->order_slots_len++;
  s->order_total = total;
  return PD_OK;
}

pd_status pd_record_order(pd_store *s, const pd_order *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_order(s, ev));
}

/* ---- refunds -------------------------------------------------------------- */

pd_status pd_st_record_refund(pd_store *s, const pd_refund *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_refund), "refund");
  if (st) return st;
  pd_refund ev;
  memcpy(&ev, in, sizeof ev);
  if (ev.order_id == 0)
    return pd_err(&s->err, PD_E_INVALID, "order_id 0 is not an order id");
  if ((st = pd_st_check_time(s, ev.time, "refund time")) != PD_OK) return st;
  if (ev.amount <= 0)
    return pd_err(&s->err, PD_E_RANGE, "refund amount %lld is not positive",
                  (long long)ev.amount);
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_REFUND, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_refund *r = &pd_st_refunds(s)[idx];
    int same = pd_st_orders(s)[r->order].order_id == ev.order_id &&
               r->time == (uint32_t)ev.time && r->amount == ev.amount;
    return pd_st_replay(s, same, ev.event_id, "refund");
  }
  uint32_t oi = order_find(s, ev.order_id);
  if (oi == PD_ST_NIL)
    return pd_err(&s->err, PD_E_NOT_FOUND, "order %llu was not recorded",
                  (unsigned long long)ev.order_id);
  pd_st_order *o = &pd_st_orders(s)[oi];
  if (o->time == PD_ST_ERASED)
    return pd_err(&s->err, PD_E_ERASED,
                  "order %llu belonged to an erased user",
                  (unsigned long long)ev.order_id);
  if ((uint32_t)ev.time < o->time)
    return pd_err(&s->err, PD_E_RANGE,
                  "refund at %lld precedes its order at %lld",
                  (long long)ev.time, (long long)o->time);
  if (ev.amount > o->amount - o->refunded)
    return pd_err(&s->err, PD_E_CONFLICT,
                  "refund of %lld exceeds the %lld left of order %llu",
                  (long long)ev.amount, (long long)(o->amount - o->refunded),
                  (unsigned long long)ev.order_id);
  if ((st = pd_st_event_reserve(s, PD_EV_REFUND)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_REFUND, &ev)) != PD_OK) return st;
  o = &pd_st_orders(s)[oi];
  uint32_t i = pd_st_event_append(s, PD_EV_REFUND, ev.event_id);
  pd_st_refund *r = &pd_st_refunds(s)[i];
  r->amount = ev.amount;
  r->order = oi;
  r->user = o->user;
  r->time = (uint32_t)ev.time;
  r->next = s->users[o->user].head[PD_EV_REFUND];
  s->users[o->user].head[PD_EV_REFUND] = i;
  o->refunded += ev.amount;
  return PD_OK;
}

pd_status pd_record_refund(pd_store *s, const pd_refund *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_refund(s, ev));
}

/* After a snapshot load (store_restore.h): index every order id (erased
 * orders keep theirs); 0 or a repeated id is corrupt data. */
int pd_st_order_index_rebuild(pd_store *s) {
  size_t n = s->col[PD_EV_ORDER].n, cap = order_slots_for(n + n / 8 + 1);
  uint64_t *slots = pd_st_alloc_slots(s, cap);
  if (!slots) return -1;
  pd_free(&s->alloc, s->order_slots);
  s->order_slots = slots;
  s->order_slots_cap = cap;
  s->order_slots_len = 0;
  const pd_st_order *o = pd_st_orders(s);
  for (uint32_t i = 0; i < n; i++) {
    /* the slots are larger than the caches: start the load of a later
     * order's home slot now */
    if (n - i > PD_PREFETCH_AHEAD)
      pd_st_order_prefetch(s, o[i + PD_PREFETCH_AHEAD].order_id);
    uint64_t id = o[i].order_id, h = order_hash(id);
    size_t k = order_slot(s, id, h);
    if (id == 0 || slots[k] != 0) return -2;
    slots[k] = h << 32 | (i + 1);
    s->order_slots_len++;
  }
  return 0;
}
