/* The snapshot format's constants and the table of event kinds (layout
 * byte by byte: docs/FORMAT.md). */
#ifndef PD_IO_SNAPSHOT_FORMAT_H
#define PD_IO_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_internal.h"

#define PD_SNAP_MAGIC "\x89PDSNAP\n"
#define PD_SNAP_VERSION 1u
#define PD_SNAP_HEADER_BYTES 40u
#define PD_SNAP_SECTION_HEADER_BYTES 16u

/* Header flags. */
#define PD_SNAP_FLAG_HASHED_IDENTITIES 1u

/* Section ids, in the order they appear. */
enum {
  PD_SEC_NAMESPACES = 1,
  PD_SEC_CHANNELS = 2,
  PD_SEC_LABELS = 3,
  PD_SEC_GUIDES = 4,
  PD_SEC_USERS = 5,
  PD_SEC_IDENTITIES = 6,
  PD_SEC_EVENTS = 0x100, /* + kind */
  PD_SEC_END = 0x7fffffff
};

/* What a field of an event record means, for validation on load. */
enum {
  PD_SF_PLAIN = 0,  /* any value */
  PD_SF_OWNER,      /* user id whose chain of this kind holds the event */
  PD_SF_USER,       /* another user id */
  PD_SF_NEXT,       /* next event in the owner's chain, or NIL */
  PD_SF_TIME,       /* the event's time; PD_ST_ERASED once erased */
  PD_SF_TIME2,      /* another time (period end): <= PD_TIME_MAX */
  PD_SF_CHANNEL,    /* 0 or an existing channel id */
  PD_SF_GUIDE,      /* 0 or an existing guide id */
  PD_SF_LABEL,      /* 0 or an existing label of kind `arg` */
  PD_SF_ORDER,      /* index into the order column */
  PD_SF_AMOUNT,     /* int64 minor units, >= 0 */
  PD_SF_MAX,        /* unsigned value <= arg */
  PD_SF_ZERO        /* padding: 0 */
};

typedef struct pd_snap_field {
  uint16_t off;
  uint8_t width; /* 1, 2, 4 or 8 bytes */
  uint8_t role;  /* PD_SF_* */
  uint64_t arg;
} pd_snap_field;

#define PD_SNAP_MAX_FIELDS 14

typedef struct pd_snap_kind {
  const char *name;
  size_t rec_size;
  pd_snap_field f[PD_SNAP_MAX_FIELDS]; /* ends at width 0 */
} pd_snap_kind;

/* Indexed by kind (PD_EV_*); row 0 is unused. THE one table to extend
 * when the store gains a kind of event (snapshot_kinds.c). */
extern const pd_snap_kind pd_snap_kinds[PD_EV_KINDS];

/* Bytes a record of kind k takes in the file (sum of its field widths). */
size_t pd_snap_kind_bytes(int k);

#endif
