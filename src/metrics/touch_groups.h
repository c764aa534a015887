/* A user's touchpoints as compact copies (pd_mx_touch): what trust
 * figures keep of the touchpoints whose order matters, and a user's whole
 * list for per-user calls. */
#ifndef PD_METRICS_TOUCH_GROUPS_H
#define PD_METRICS_TOUCH_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "pushes.h"
#include "store/store_internal.h"

/* A touchpoint without its chain link, user and campaign; index is its
 * place in the touchpoint column (20 bytes). */
typedef struct pd_mx_touch {
  uint32_t time;
  uint32_t guide;
  uint32_t index;
  uint16_t channel;
  uint8_t kind, purpose;
  uint8_t rating[4];
} pd_mx_touch;

static inline void pd_mx_touch_from(pd_mx_touch *d, const pd_st_touch *x,
                                    uint32_t index) {
  d->time = x->time;
  d->guide = x->guide;
  d->index = index;
  d->channel = x->channel;
  d->kind = x->kind;
  d->purpose = x->purpose;
  for (int k = 0; k < 4; k++) d->rating[k] = x->rating[k];
}

/* The touchpoints of canonical root at or before t, from its chains, into
 * b (as pd_mx_touch); *n their number. */
pd_status pd_mx_touches_of(pd_store *s, uint32_t root, uint32_t t,
                           pd_mx_buf *b, size_t *n);

#endif
