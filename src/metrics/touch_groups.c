/* A user's touchpoints as compact copies (touch_groups.h). */
#include "core/alloc.h"
#include "store/store_query.h"
#include "touch_groups.h"

pd_status pd_mx_touches_of(pd_store *s, uint32_t root, uint32_t t,
                           pd_mx_buf *b, size_t *n) {
  const pd_st_touch *ts = pd_st_touches(s);
  size_t k = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_TOUCH, i) {
    if (ts[i].time > t) continue;
    if (pd_mx_buf_reserve(s, b, k + 1, sizeof(pd_mx_touch)) != 0)
      return pd_err(&s->err, PD_E_NOMEM, "out of memory");
    pd_mx_touch_from((pd_mx_touch *)b->p + k++, &ts[i], i);
  }
  *n = k;
  return PD_OK;
}
