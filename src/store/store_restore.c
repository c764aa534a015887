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

/* Events of a kind that are not erased: one typed loop per kind (a call
 * per event to pd_st_event_time was a twentieth of a load). */
#define LIVE(col, field)                                       \
  for (uint32_t i = 0; i < n; i++) live += col(s)[i].field != PD_ST_ERASED;
static uint32_t count_live(const pd_store *s, int k) {
  uint32_t live = 0, n = s->col[k].n;
  switch (k) {
    case PD_EV_LINK: LIVE(pd_st_links, time) break;
    case PD_EV_UNLINK: LIVE(pd_st_unlinks, time) break;
    case PD_EV_TOUCH: LIVE(pd_st_touches, time) break;
    case PD_EV_ORDER: LIVE(pd_st_orders, time) break;
    case PD_EV_REFUND: LIVE(pd_st_refunds, time) break;
    case PD_EV_REFERRAL: LIVE(pd_st_referrals, time) break;
    case PD_EV_BIND: LIVE(pd_st_binds, time) break;
    case PD_EV_HANDOVER: LIVE(pd_st_handovers, time) break;
    case PD_EV_DEACTIVATE: LIVE(pd_st_deactivations, time) break;
    case PD_EV_REACH: LIVE(pd_st_reaches, period_start) break;
    case PD_EV_COST: LIVE(pd_st_costs, period_start) break;
    case PD_EV_CONSENT: LIVE(pd_st_consents, time) break;
    default:
      for (uint32_t i = 0; i < n; i++)
        live += pd_st_event_time(s, k, i) != PD_ST_ERASED;
  }
  return live;
}
#undef LIVE

static pd_status recount(pd_store *s) {
  for (int k = 1; k < PD_EV_KINDS; k++) s->col[k].live = count_live(s, k);
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

static pd_status event_index_status(pd_store *s, int r) {
  if (r == -1) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  if (r == -2)
    return pd_err(&s->err, PD_E_CORRUPT,
                  "an event id is 0 or used by two events");
  return PD_OK;
}

pd_status pd_st_restore_rest(pd_store *s) {
  int r = pd_st_ident_index_rebuild(s);
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

/* Takes ranges of the event-id index until none is left. */
static void drain(pd_st_restore *r) {
  for (;;) {
    size_t k = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
    if (k >= r->ib.nranges) return;
    pd_st_index_build_range(&r->ib, k);
  }
}

static int helper(void *arg) {
  drain(arg);
  return 0;
}

void pd_st_restore_begin(pd_st_restore *r, pd_store *s, int32_t threads) {
  r->s = s;
  r->started = 0;
  atomic_init(&r->next, 0);
  r->ib_status = pd_st_index_build_begin(s, &r->ib);
  if (r->ib_status != 0) return;
  /* A helper that cannot be started is not used: the calling thread
   * takes its ranges in finish(). */
  size_t helpers = r->ib.nranges > 1 && threads > 1 ? (size_t)threads - 1 : 0;
  if (helpers > r->ib.nranges) helpers = r->ib.nranges;
  if (helpers > PD_ST_INDEX_RANGES) helpers = PD_ST_INDEX_RANGES;
  for (size_t t = 0; t < helpers; t++) {
    if (thrd_create(&r->helpers[r->started], helper, r) != thrd_success)
      break;
    r->started++;
  }
}

/* begin() with every range of the index already placed: nothing is
 * allocated, no thread started. */
static void begin_built(pd_st_restore *r, pd_store *s,
                        const pd_st_index_build *built) {
  r->s = s;
  r->started = 0;
  r->ib = *built;
  r->ib_status = 0;
  atomic_init(&r->next, r->ib.nranges); /* no range left to take */
}

pd_status pd_st_restore_event_index(pd_store *s,
                                    const pd_st_index_build *built,
                                    int32_t threads) {
  pd_st_restore r;
  if (built) begin_built(&r, s, built);
  else pd_st_restore_begin(&r, s, threads);
  if (r.ib_status != 0) return event_index_status(s, -1);
  drain(&r);
  for (int i = 0; i < r.started; i++) thrd_join(r.helpers[i], NULL);
  return event_index_status(s, pd_st_index_build_end(&r.ib));
}

pd_status pd_st_restore_finish(pd_st_restore *r, pd_status prior) {
  pd_store *s = r->s;
  pd_status rest = prior;
  if (!prior && r->ib_status == 0) rest = pd_st_restore_rest(s);
  /* after a failed check, no range is started any more */
  if (prior) atomic_store(&r->next, r->ib.nranges);
  if (r->ib_status == 0) drain(r);
  for (int i = 0; i < r->started; i++) thrd_join(r->helpers[i], NULL);
  if (r->ib_status != 0) return prior ? prior : event_index_status(s, -1);
  if (prior) {
    pd_st_index_build_abandon(&r->ib);
    return prior;
  }
  /* The event-id index comes first (store_restore.h). */
  pd_status st = event_index_status(s, pd_st_index_build_end(&r->ib));
  return st ? st : rest;
}
