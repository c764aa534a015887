/* Touchpoints grouped by user (touch_groups.h). */
#include <string.h>

#include "core/alloc.h"
#include "core/prefetch.h"
#include "store/store_query.h"
#include "touch_groups.h"

pd_status pd_mx_touch_groups_build(pd_store *s, uint32_t t, pd_mx_touch_groups *g) {
  memset(g, 0, sizeof *g);
  const pd_st_touch *ts = pd_st_touches(s);
  uint32_t n = s->col[PD_EV_TOUCH].n, nu = s->n_users;
  /* root[u] for every id, then counts per root. */
  uint32_t *pos = NULL;
  uint32_t *root = pd_realloc_array(&s->alloc, NULL, nu, sizeof *root);
  g->start = pd_calloc(&s->alloc, (size_t)nu + 1, sizeof *g->start);
  if (!root || !g->start) goto nomem;
  if (nu > 0) root[0] = 0; /* read by the prefetches for erased touches */
  for (uint32_t u = 1; u < nu; u++) root[u] = pd_st_find(s, u);
  size_t live = 0;
  /* Touchpoints arrive in time order, so root[] and the per-user counts
   * and cursors are hit at random: prefetch root PF touches ahead and the
   * count (cursor, slot) it leads to PF/2 ahead. */
  enum { PF = 32 };
  for (uint32_t i = 0; i < n; i++) {
    if (i + PF < n) PD_PREFETCH(&root[ts[i + PF].user]);
    if (i + PF / 2 < n) PD_PREFETCH(&g->start[root[ts[i + PF / 2].user] + 1]);
    if (ts[i].time > t) continue; /* also skips erased touchpoints */
    g->start[root[ts[i].user] + 1]++;
    live++;
  }
  for (uint32_t u = 1; u <= nu; u++) g->start[u] += g->start[u - 1];
  g->t = pd_realloc_array(&s->alloc, NULL, live ? live : 1, sizeof *g->t);
  if (!g->t) goto nomem;
  /* Scatter: pos[r] is the next free slot of root r's run. */
  pos = pd_realloc_array(&s->alloc, NULL, nu, sizeof *pos);
  if (!pos) goto nomem;
  memcpy(pos, g->start, (size_t)nu * sizeof *pos);
  for (uint32_t i = 0; i < n; i++) {
    const pd_st_touch *x = &ts[i];
    if (i + PF < n) PD_PREFETCH(&root[ts[i + PF].user]);
    if (i + PF / 2 < n) PD_PREFETCH(&pos[root[ts[i + PF / 2].user]]);
    if (i + PF / 4 < n) PD_PREFETCH(&g->t[pos[root[ts[i + PF / 4].user]]]);
    if (x->time > t) continue;
    pd_mx_touch_from(&g->t[pos[root[x->user]]++], x);
  }
  pd_free(&s->alloc, root);
  pd_free(&s->alloc, pos);
  return PD_OK;
nomem:
  pd_free(&s->alloc, root);
  pd_free(&s->alloc, pos);
  pd_mx_touch_groups_free(s, g);
  return pd_err(&s->err, PD_E_NOMEM, "out of memory");
}

void pd_mx_touch_groups_free(pd_store *s, pd_mx_touch_groups *g) {
  pd_free(&s->alloc, g->start);
  pd_free(&s->alloc, g->t);
  g->start = NULL;
  g->t = NULL;
}

pd_status pd_mx_touches_of(pd_store *s, uint32_t root, uint32_t t,
                           pd_mx_buf *b, size_t *n) {
  const pd_st_touch *ts = pd_st_touches(s);
  size_t k = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_TOUCH, i) {
    if (ts[i].time > t) continue;
    if (pd_mx_buf_reserve(s, b, k + 1, sizeof(pd_mx_touch)) != 0)
      return pd_err(&s->err, PD_E_NOMEM, "out of memory");
    pd_mx_touch_from((pd_mx_touch *)b->p + k++, &ts[i]);
  }
  *n = k;
  return PD_OK;
}
