/* The canonical encoding of store mutations: what the journal records and
 * replays. Store layer, no files.
 *
 * A mutation is one successful change-making call of the public API (a
 * recorded event, or user ensure/attach/merge/erase, channel register,
 * label ensure, guide ensure, or a store setting). Its encoding is
 *   varint type, then each field of its row in mutation_codec.c in order:
 *   unsigned fields as LEB128 varints, signed ones zigzag-encoded, byte
 *   strings as a varint length and the bytes.
 * The `size` member of public structs is not encoded (decoding sets it to
 * the struct's size), so the encoding is the same whatever the caller's
 * struct size was, and two equal calls encode to equal bytes.
 *
 * HOW TO ADD A MUTATION (new recording function or store setting):
 *  1. Append a PD_MUT_* value below (never renumber: journals store them).
 *  2. Append a row to `rows` in mutation_codec.c: the struct whose fields
 *     are encoded (the public event struct, or a pd_mut_* struct below),
 *     each field with PD_MF_U/PD_MF_I/PD_MF_BYTES, and an apply function
 *     that calls the public function (the same code path as the caller's).
 *     When you append a field to a public struct, append it to its row too.
 *  3. In the recording function, after every check and every reservation
 *     and before the first change, add one line:
 *       if ((st = pd_st_log(s, PD_MUT_X, &args)) != PD_OK) return st;
 *     (mutation_hook.h). Nothing may fail after that line.
 *  4. Make small_domain() in tests/persist_testutil.h call the function
 *     and extend the type range checked by test_journal.c's
 *     every_mutation_decodes_to_what_was_encoded, which round-trips every
 *     journaled record and fails for a type that was never journaled.
 *  5. Document the type in docs/FORMAT.md (journal payload table).
 * A new kind of EVENT also needs its row in src/io/snapshot_kinds.c (the
 * build fails until it has one). */
#ifndef PD_STORE_MUTATION_CODEC_H
#define PD_STORE_MUTATION_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <privdomain/store.h>

enum {
  PD_MUT_USER_ENSURE = 1,      /* pd_mut_identity (user = 0) */
  PD_MUT_USER_ATTACH = 2,      /* pd_mut_identity */
  PD_MUT_USER_MERGE = 3,       /* pd_mut_users */
  PD_MUT_USER_ERASE = 4,       /* pd_mut_users (b = 0) */
  PD_MUT_CHANNEL_REGISTER = 5, /* pd_mut_name (value = channel kind) */
  PD_MUT_LABEL_ENSURE = 6,     /* pd_mut_name (value = label kind) */
  PD_MUT_GUIDE_ENSURE = 7,     /* pd_mut_name (value = shop) */
  PD_MUT_LINK = 8,             /* pd_link_event */
  PD_MUT_UNLINK = 9,           /* pd_unlink_event */
  PD_MUT_TOUCHPOINT = 10,      /* pd_touchpoint */
  PD_MUT_ORDER = 11,           /* pd_order */
  PD_MUT_REFUND = 12,          /* pd_refund */
  PD_MUT_REFERRAL = 13,        /* pd_referral */
  PD_MUT_REACH = 14,           /* pd_reach */
  PD_MUT_COST = 15,            /* pd_acquisition_cost */
  PD_MUT_GUIDE_BIND = 16,      /* pd_guide_bind */
  PD_MUT_GUIDE_HANDOVER = 17,  /* pd_guide_handover */
  PD_MUT_GUIDE_DEACTIVATE = 18, /* pd_guide_deactivate */
  PD_MUT_CONSENT = 19,          /* pd_consent */
  PD_MUT_PURGE_BEFORE = 20,     /* pd_mut_time (the cutoff) */
  PD_MUT_GUIDE_COMMISSION = 21  /* pd_mut_setting (guide, basis points) */
};

/* Arguments of the mutations that are not event structs. */
typedef struct pd_mut_identity {
  uint64_t user; /* 0 for ensure */
  const char *ns;
  size_t ns_len;
  const char *key;
  size_t key_len;
} pd_mut_identity;

typedef struct pd_mut_users {
  uint64_t a, b;
} pd_mut_users;

typedef struct pd_mut_time {
  int64_t time;
} pd_mut_time;

typedef struct pd_mut_setting {
  uint64_t id; /* what is set (a guide id ...) */
  int64_t value;
} pd_mut_setting;

typedef struct pd_mut_name {
  int64_t value; /* channel kind, label kind or shop */
  const char *name;
  size_t name_len;
} pd_mut_name;

/* Largest encoding of any mutation (strings are at most 512 bytes). */
#define PD_MUT_MAX_BYTES 2048
/* Room for any decoded argument struct. */
#define PD_MUT_ARGS_MAX 256

/* Encode into buf (cap bytes); returns the length, or 0 if `type` has no
 * row or cap is too small. */
size_t pd_mut_encode(int32_t type, const void *args, unsigned char *buf,
                     size_t cap);

/* A decoded mutation. Byte strings point into the encoded buffer. */
typedef struct pd_mut_decoded {
  int32_t type;
  _Alignas(max_align_t) unsigned char args[PD_MUT_ARGS_MAX];
} pd_mut_decoded;

/* Decode one mutation of exactly len bytes: 0, or -1 if malformed (unknown
 * type, truncated, trailing bytes, a value out of its field's range). */
int pd_mut_decode(const unsigned char *buf, size_t len, pd_mut_decoded *out);

/* Apply a decoded mutation through the public function it came from.
 * Returns that function's status (PD_OK for a change, PD_REPLAYED when it
 * was already applied, or an error with the store's message set). */
pd_status pd_mut_apply(pd_store *s, const pd_mut_decoded *m);

/* The mutation's name ("link", "user_ensure" ...), or NULL if unknown. */
const char *pd_mut_name_of(int32_t type);

#endif
