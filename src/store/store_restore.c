/* Rebuilding a store's derived structures after a snapshot load (see
 * store_restore.h): what the recording functions maintain incrementally
 * is recomputed here from the arrays in one pass each. */
#include "store_restore.h"

#include <string.h>

#include "core/checked.h"
#include "store_query.h"

static int handover_cmp(const void *ctx, uint32_t a, uint32_t b) {
  const pd_store *s = ctx;
  uint32_t ta = pd_st_handovers(s)[a].time, tb = pd_st_handovers(s)[b].time;
  if (ta != tb) return ta < tb ? -1 : 1;
  uint64_t ea = s->col[PD_EV_HANDOVER].eid[a];
  uint64_t eb = s->col[PD_EV_HANDOVER].eid[b];
  return (ea > eb) - (ea < eb);
}

static pd_status rebuild_guides(pd_store *s) {
  for (size_t g = 0; g < s->guide_codes.n; g++)
    s->guide_deactivation[g] = PD_ST_NIL;
  const pd_st_column *d = &s->col[PD_EV_DEACTIVATE];
  for (uint32_t i = 0; i < d->n; i++) {
    uint32_t g = pd_st_deactivations(s)[i].guide;
    if (g == 0 || g > s->guide_codes.n || s->guide_deactivation[g - 1] !=
                                              PD_ST_NIL)
      return pd_err(&s->err, PD_E_CORRUPT,
                    "deactivation %u names guide %u, which does not exist "
                    "or was deactivated twice",
                    i, g);
    s->guide_deactivation[g - 1] = i;
  }
  size_t n = s->col[PD_EV_HANDOVER].n;
  if (n == 0) return PD_OK;
  if (pd_grow(&s->alloc, (void **)&s->handover_sorted, &s->handover_sorted_cap,
              n, sizeof(uint32_t)) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  uint32_t *tmp = pd_malloc(&s->alloc, n * sizeof *tmp);
  if (!tmp) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) s->handover_sorted[i] = i;
  pd_st_sort_u32(s->handover_sorted, n, tmp, handover_cmp, s);
  pd_free(&s->alloc, tmp);
  return PD_OK;
}

static pd_status recount(pd_store *s) {
  for (int k = 1; k < PD_EV_KINDS; k++) {
    uint32_t live = 0;
    for (uint32_t i = 0; i < s->col[k].n; i++)
      live += pd_st_event_time(s, k, i) != PD_ST_ERASED;
    s->col[k].live = live;
  }
  int64_t total = 0;
  for (uint32_t i = 0; i < s->col[PD_EV_ORDER].n; i++) {
    const pd_st_order *o = &pd_st_orders(s)[i];
    if (o->time != PD_ST_ERASED && pd_add_i64(total, o->amount, &total) != 0)
      return pd_err(&s->err, PD_E_CORRUPT, "order amounts overflow int64");
  }
  s->order_total = total;
  total = 0;
  for (uint32_t i = 0; i < s->col[PD_EV_COST].n; i++)
    if (pd_add_i64(total, pd_st_costs(s)[i].amount, &total) != 0)
      return pd_err(&s->err, PD_E_CORRUPT, "cost amounts overflow int64");
  s->cost_total = total;
  s->live_users = s->merged_users = s->erased_users = 0;
  for (uint32_t u = 1; u < s->n_users; u++) {
    const pd_st_user *p = &s->users[u];
    if (p->flags & PD_ST_USER_ERASED)
      s->erased_users++;
    else if (p->parent == u)
      s->live_users++;
    else
      s->merged_users++;
  }
  s->live_idents = 0;
  for (uint32_t i = 0; i < s->n_idents; i++)
    s->live_idents += s->idents[i].user != 0;
  return PD_OK;
}

pd_status pd_st_restore_derived(pd_store *s) {
  int r = pd_st_index_rebuild(s);
  if (r == -1) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  if (r == -2)
    return pd_err(&s->err, PD_E_CORRUPT,
                  "an event id is 0 or used by two events");
  r = pd_st_ident_index_rebuild(s);
  if (r == -1) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  if (r == -2)
    return pd_err(&s->err, PD_E_CORRUPT, "an identity is held twice");
  r = pd_st_order_index_rebuild(s);
  if (r == -1) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  if (r == -2)
    return pd_err(&s->err, PD_E_CORRUPT,
                  "an order id is 0 or used by two orders");
  pd_status st = rebuild_guides(s);
  if (st) return st;
  return recount(s);
}
