/* Per-guide settings kept by the store that are not events: the
 * commission rate (guide_metrics.h). A setting is state, not history: the
 * last call wins. Like every change it is journaled (mutation_codec.h) and
 * saved in snapshots (the GUIDES section). */
#include <string.h>

#include <privdomain/guide_metrics.h>

#include "mutation_codec.h"
#include "mutation_hook.h"
#include "store_internal.h"

pd_status pd_guide_set_commission(pd_store *s, uint32_t guide,
                                  int32_t basis_points) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (guide == 0)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "guide is 0"));
  if (basis_points < -1 || basis_points > 10000)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "commission %d basis points is outside "
                                 "-1-10000",
                                 (int)basis_points));
  if ((st = pd_st_guide_check(s, guide, 0, "commission")) != PD_OK)
    return pd_st_leave(s, st);
  size_t need = s->guide_codes.n, old = s->guide_commission_cap;
  if (need > old) {
    if (pd_grow(&s->alloc, (void **)&s->guide_commission,
                &s->guide_commission_cap, need,
                sizeof *s->guide_commission) != 0)
      return pd_st_leave(s, pd_err(&s->err, PD_E_NOMEM, "out of memory"));
    for (size_t i = old; i < s->guide_commission_cap; i++)
      s->guide_commission[i] = -1;
  }
  if ((st = pd_st_log(s, PD_MUT_GUIDE_COMMISSION,
                      &(pd_mut_setting){guide, basis_points})) != PD_OK)
    return pd_st_leave(s, st);
  s->guide_commission[guide - 1] = basis_points;
  return pd_st_leave(s, PD_OK);
}

pd_status pd_guide_get_commission(pd_store *s, uint32_t guide,
                                  int32_t *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL || guide == 0)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "out is NULL or guide is 0"));
  if ((st = pd_st_guide_check(s, guide, 0, "commission")) != PD_OK)
    return pd_st_leave(s, st);
  *out = guide - 1 < s->guide_commission_cap ? s->guide_commission[guide - 1]
                                             : -1;
  return pd_st_leave(s, PD_OK);
}
