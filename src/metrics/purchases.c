/* A customer's purchases (purchases.h). */
#include "purchases.h"

#include "store/store_query.h"

/* (time, net) order; customers have a handful of purchases, so an
 * insertion sort beats a qsort call. */
static void sort_purchases(pd_mx_purchase *p, size_t n) {
  for (size_t i = 1; i < n; i++) {
    pd_mx_purchase x = p[i];
    size_t j = i;
    while (j > 0 && (p[j - 1].time > x.time ||
                     (p[j - 1].time == x.time && p[j - 1].net > x.net))) {
      p[j] = p[j - 1];
      j--;
    }
    p[j] = x;
  }
}

int pd_mx_purchases_into(const pd_store *s, uint32_t root, uint32_t end,
                         pd_mx_purchase *p, size_t cap, pd_mx_refund_ref *rf,
                         size_t rcap, size_t *n) {
  const pd_st_order *os = pd_st_orders(s);
  const pd_st_refund *fs = pd_st_refunds(s);
  size_t nr = 0, k = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_REFUND, i) {
    if (fs[i].time > end) continue;
    if (nr == rcap) return -1;
    rf[nr].order = fs[i].order;
    rf[nr++].amount = fs[i].amount;
  }
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_ORDER, i) {
    const pd_st_order *o = &os[i];
    if (o->time > end) continue;
    int64_t refunded = 0;
    if (o->refunded != 0)
      for (size_t j = 0; j < nr; j++)
        if (rf[j].order == i) refunded += rf[j].amount;
    if (refunded > 0 && refunded >= o->amount) continue; /* fully refunded */
    if (k == cap) return -1;
    p[k].time = o->time;
    p[k++].net = o->amount - refunded;
  }
  sort_purchases(p, k);
  *n = k;
  return 0;
}

pd_status pd_mx_purchases(pd_store *s, uint32_t root, uint32_t end,
                          pd_mx_buf *b, pd_mx_buf *rb, size_t *n) {
  if (pd_mx_buf_reserve(s, b, 16, sizeof(pd_mx_purchase)) != 0 ||
      pd_mx_buf_reserve(s, rb, 16, sizeof(pd_mx_refund_ref)) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  /* A customer with more than the buffers hold: twice the room, again. */
  while (pd_mx_purchases_into(s, root, end, b->p, b->cap, rb->p, rb->cap,
                              n) != 0)
    if (pd_mx_buf_reserve(s, b, 2 * b->cap, sizeof(pd_mx_purchase)) != 0 ||
        pd_mx_buf_reserve(s, rb, 2 * rb->cap, sizeof(pd_mx_refund_ref)) != 0)
      return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  return PD_OK;
}
