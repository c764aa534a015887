/* Taking the page faults of the columns' reserved room on a background
 * thread while a bulk load records into it (see core/prefault_async.h
 * for why, and store_internal.h's column_prefault for the rule that
 * keeps it safe: nothing moves or frees a column while it runs). */
#include "core/prefault.h"
#include "core/prefault_async.h"
#include "store_internal.h"
#include "store_threads.h"

void pd_st_prefault_stop(pd_store *s) {
  pd_prefault_async_stop(s->column_prefault);
  s->column_prefault = NULL;
}

/* The room after a column's events in its id array and record array. */
static void room_of(const pd_st_column *c, pd_prefault_range r[2]) {
  size_t free_slots = c->cap - c->n;
  r[0] = (pd_prefault_range){c->eid + c->n, free_slots * sizeof *c->eid};
  r[1] = (pd_prefault_range){(char *)c->rec + c->n * c->rec_size,
                             free_slots * c->rec_size};
}

void pd_st_prefault_columns(pd_store *s, int kind) {
  pd_st_prefault_stop(s);
  int32_t threads = pd_st_threads(s);
  if (threads <= 1) return; /* as pd_prefault: faults are taken as used */
  /* Every column's room, not only kind's: a bulk load reserves one kind
   * after another, and each call replaces the thread. Pages already
   * resident cost the kernel a look at their page table entry. */
  pd_prefault_range all[2 * PD_EV_KINDS];
  size_t n = 0;
  for (int k = 1; k < PD_EV_KINDS; k++) {
    if (s->col[k].cap == s->col[k].n) continue; /* none (maybe no array) */
    pd_prefault_range r[2];
    room_of(&s->col[k], r);
    for (int i = 0; i < 2; i++)
      if (r[i].bytes >= PD_PREFAULT_FROM) all[n++] = r[i];
  }
  if (n > 0) s->column_prefault = pd_prefault_async_start(&s->alloc, all, n);
  if (s->column_prefault == NULL) {
    pd_prefault_range r[2];
    room_of(&s->col[kind], r);
    for (int i = 0; i < 2; i++) pd_prefault(r[i].p, r[i].bytes, threads);
  }
}
