/* The retention purge (purge.h): erase old activity records in place with
 * the same primitive as user erasure, so every query already skips them
 * and a retried event id is answered PD_E_ERASED. */
#include <string.h>

#include <privdomain/purge.h>

#include "mutation_codec.h"
#include "mutation_hook.h"
#include "store_internal.h"

pd_status pd_store_purge_before(pd_store *s, int64_t cutoff,
                                pd_purge_result *out) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if ((st = pd_st_check_time(s, cutoff, "purge cutoff")) != PD_OK)
    return pd_st_leave(s, st);
  if (out != NULL && out->size < sizeof *out)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "pd_purge_result size %zu is smaller than "
                                 "%zu (use PD_PURGE_RESULT_INIT)",
                                 out->size, sizeof *out));
  if ((st = pd_st_log(s, PD_MUT_PURGE_BEFORE, &(pd_mut_time){cutoff})) != PD_OK)
    return pd_st_leave(s, st);
  pd_purge_result r = PD_PURGE_RESULT_INIT;
  uint32_t t = (uint32_t)cutoff; /* erased records have PD_ST_ERASED, never
                                    below any cutoff */
  uint32_t n = s->col[PD_EV_TOUCH].n;
  for (uint32_t i = 0; i < n; i++)
    if (pd_st_touches(s)[i].time < t)
      r.touchpoints += (uint64_t)pd_st_erase_event(s, PD_EV_TOUCH, i);
  /* Refunds first, while their orders still hold a time: a refund goes
   * when it is old or when its order does. */
  n = s->col[PD_EV_REFUND].n;
  for (uint32_t i = 0; i < n; i++) {
    const pd_st_refund *f = &pd_st_refunds(s)[i];
    if (f->time == PD_ST_ERASED) continue;
    if (f->time < t || pd_st_orders(s)[f->order].time < t) {
      int64_t amount = f->amount;
      pd_st_orders(s)[f->order].refunded -= amount;
      r.revenue -= amount;
      r.refunds += (uint64_t)pd_st_erase_event(s, PD_EV_REFUND, i);
    }
  }
  n = s->col[PD_EV_ORDER].n;
  for (uint32_t i = 0; i < n; i++) {
    const pd_st_order *o = &pd_st_orders(s)[i];
    if (o->time < t) {
      r.revenue += o->amount;
      r.orders += (uint64_t)pd_st_erase_event(s, PD_EV_ORDER, i);
    }
  }
  r.events = r.touchpoints + r.orders + r.refunds;
  if (out != NULL) {
    r.size = out->size;
    memcpy(out, &r, sizeof r);
  }
  return pd_st_leave(s, r.events ? PD_OK : PD_REPLAYED);
}
