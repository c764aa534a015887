/* What the crash writer and harness agree on: file names and the content
 * of event `id`, so the harness can recognise an acknowledged event. */
#ifndef PD_TESTS_CRASH_COMMON_H
#define PD_TESTS_CRASH_COMMON_H

#include <stdio.h>

#include <privdomain/privdomain.h>

#define CRASH_USERS 8

static inline void crash_paths(const char *dir, char *snap, char *jrnl,
                               char *spare, size_t cap) {
  snprintf(snap, cap, "%s/store.pds", dir);
  snprintf(jrnl, cap, "%s/store.pdj", dir);
  snprintf(spare, cap, "%s/spare.pds", dir);
}

static inline void crash_event(uint64_t id, const pd_user_id *users,
                               pd_touchpoint *t) {
  pd_touchpoint z = PD_TOUCHPOINT_INIT;
  *t = z;
  t->event_id = id;
  t->user = users[id % CRASH_USERS];
  t->kind = PD_TOUCH_INBOUND_MESSAGE;
  t->channel = PD_CHANNEL_WECOM;
  t->time = INT64_C(1735689600) + (int64_t)(id % 100000) * 60;
}

#endif
