/* Rebuilding what the store derives from its arrays (hash indexes, sorted
 * handovers, deactivation links, totals), after the io layer has filled
 * the arrays from a snapshot. Each index is rebuilt by the module that
 * owns its hashing, so the probing rules live in one place. */
#ifndef PD_STORE_STORE_RESTORE_H
#define PD_STORE_STORE_RESTORE_H

#include "store_internal.h"

/* Rebuild every derived structure of a store whose arrays were filled
 * directly. PD_OK, PD_E_NOMEM, or PD_E_CORRUPT when the arrays hold a
 * duplicate key (event id, order id, identity) or a guide deactivated
 * twice; the message is in s->err. */
pd_status pd_st_restore_derived(pd_store *s);

/* The parts, each 0, -1 (out of memory) or -2 (a key is 0 or repeated). */
int pd_st_index_rebuild(pd_store *s);       /* event_index.c */
int pd_st_ident_index_rebuild(pd_store *s); /* identity.c */
int pd_st_order_index_rebuild(pd_store *s); /* orders.c */

#endif
