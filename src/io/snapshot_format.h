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

/* On little-endian hosts a record whose fields are listed in memory order,
 * back to back from offset 0 and covering the whole struct, has the same
 * bytes in the file as in the column: such columns are written and read
 * as one block instead of field by field. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PD_SNAP_HOST_LE 1
#else
#define PD_SNAP_HOST_LE 0
#endif

/* Tests set this to 1 (while no snapshot is being read or written) to
 * take the field-by-field paths even where the block paths apply, so both
 * are checked on every host. 0 in normal use. */
extern int pd_snap_portable_only;

/* 1 if column k's records are their own file image on this host. */
int pd_snap_kind_raw(int k);

/* The same for the users and identities sections' rows. */
#define PD_SNAP_USERS_RAW                                                  \
  (PD_SNAP_HOST_LE && !pd_snap_portable_only && offsetof(pd_st_user, parent) == 0 &&                 \
   offsetof(pd_st_user, next_member) == 4 &&                               \
   offsetof(pd_st_user, referral_in) == 8 &&                               \
   offsetof(pd_st_user, flags) == 12 && offsetof(pd_st_user, head) == 16 && \
   sizeof(pd_st_user) == 4 * (4 + (size_t)PD_ST_USER_CHAINS))
#define PD_SNAP_IDENTS_RAW                                                 \
  (PD_SNAP_HOST_LE && !pd_snap_portable_only && offsetof(pd_st_identity, off) == 0 &&                \
   sizeof(((pd_st_identity *)0)->off) == 8 &&                              \
   offsetof(pd_st_identity, len) == 8 &&                                   \
   offsetof(pd_st_identity, user) == 12 &&                                 \
   offsetof(pd_st_identity, next) == 16 &&                                 \
   offsetof(pd_st_identity, ns) == 20 && sizeof(pd_st_identity) == 24)

#endif
