/*
 * libprivdomain — persistence: snapshots, the journal and checkpoints.
 *
 * A snapshot is the whole store in one versioned, checksummed binary file
 * (layout: docs/FORMAT.md). The journal is an append-only file beside it
 * holding every change made since the snapshot, written before the change
 * is applied, so that no acknowledged change is lost between snapshots. A
 * checkpoint writes a new snapshot and starts a new journal.
 *
 * The usual life of a POS process:
 *
 *   pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
 *   pd_store *s;
 *   pd_store_open("brand.pds", "brand.pdj", &o, NULL, &s);  // load+replay
 *   ... pd_record_order(s, ...) ...      // journaled before it is applied
 *   pd_store_checkpoint(s);              // now and then (e.g. nightly)
 *   pd_store_free(s);                    // syncs and closes the journal
 *
 * Nothing here ever aborts or prints. Files are written with POSIX calls
 * (open, write, fsync, fdatasync, rename); a snapshot saved to a path
 * replaces the old one atomically, so a crash leaves either the old or the
 * new file, never a mixture. Loading validates every byte before it is
 * trusted: a truncated, damaged, hostile or foreign file gives
 * PD_E_CORRUPT or PD_E_VERSION, never a crash, a hang or an allocation
 * larger than the data actually read.
 */
#ifndef PRIVDOMAIN_PERSIST_H
#define PRIVDOMAIN_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "export.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** Receives `len` bytes of a snapshot being written. Return 0 when all
 *  were taken, non-zero to abort the save (it then fails with PD_E_IO). */
typedef int32_t (*pd_write_fn)(void *user, const void *buf, size_t len);

/** Supplies up to `len` bytes of a snapshot being read into `buf`, storing
 *  how many it gave in *got. Give fewer than `len` only at the end of the
 *  data. Return 0, or non-zero for a read error (the load then fails with
 *  PD_E_IO). */
typedef int32_t (*pd_read_fn)(void *user, void *buf, size_t len,
                              size_t *got);

/** When the journal makes appended changes durable (fdatasync), and what a
 *  power loss or kernel crash can then lose. A killed process loses
 *  nothing under any policy: appends reach the operating system before
 *  the call returns. */
enum {
  /** Sync every change before its call returns: nothing acknowledged is
   *  ever lost; costs one fdatasync per change (about 0.05–10 ms each,
   *  depending on the disk). The default. */
  PD_SYNC_EVERY_EVENT = 1,
  /** Sync after every `sync_every_events` changes: a power loss loses at
   *  most that many acknowledged changes. */
  PD_SYNC_EVERY_N = 2,
  /** Sync when `sync_every_ms` milliseconds have passed since the last
   *  sync, checked at each append (there is no background thread: an idle
   *  journal stays unsynced until the next change, pd_store_sync() or
   *  pd_store_free()). */
  PD_SYNC_INTERVAL = 3,
  /** Never sync (the operating system writes back when it likes): fastest;
   *  a power loss may lose any changes since the last checkpoint. */
  PD_SYNC_NEVER = 4
};

/** Options for loading and opening. Initialise with
 *  PD_PERSIST_OPTIONS_INIT. A `size` smaller than this struct gives
 *  PD_E_INVALID, except the size of the 0.1 struct (which ends at
 *  errmsg_cap; `threads` is then 1); a larger one is accepted when the
 *  extra bytes are 0. */
typedef struct pd_persist_options {
  size_t size;
  /** Allocator for the new store; NULL = malloc/free (see
   *  pd_store_options.allocator). */
  const pd_allocator *allocator;
  /** Currency exponent of a store that pd_store_open() creates (a loaded
   *  store keeps the one it was saved with). */
  int32_t currency_exponent;
  /** Journal sync policy, a PD_SYNC_* (pd_store_open() only). */
  int32_t sync;
  /** For PD_SYNC_EVERY_N: changes between syncs, >= 1. */
  uint32_t sync_every_events;
  /** For PD_SYNC_INTERVAL: milliseconds between syncs, >= 1. */
  uint32_t sync_every_ms;
  /** The identity key of a store that pseudonymises identities (see
   *  pd_store_options.identity_key); it is never saved, so give the same
   *  key whenever such a store is loaded. NULL/0 for none. */
  const uint8_t *identity_key;
  size_t identity_key_len;
  /** Optional: a buffer that receives a NUL-terminated explanation when a
   *  load or open fails (there is no store yet to ask). NULL/0 = none. */
  char *errmsg;
  size_t errmsg_cap;
  /** Threads a snapshot load may use to read and check the data and to
   *  rebuild the store's indexes, 0..64: 1 (the default, and for callers
   *  built against 0.1) = the calling thread only, 0 = one per online
   *  processor. Added in 0.2. With 2 or more, a large file that is read
   *  around the page cache (see pd_snapshot_load) is read by one more
   *  thread that only waits on the disk, ahead of the others (it
   *  computes nothing), while the calling thread copies and checks what
   *  arrives, `threads` threads (8 at most) index its event ids and one
   *  more makes the memory copied into resident ahead of the copy; the
   *  calling thread mostly waits for the disk meanwhile, so up to
   *  threads + 3 threads exist during the read. The threads are started
   *  for the load and joined before it returns; the loaded store, and the
   *  status and message of a failed load, are the same for every value.
   *  It does not set the loaded store's pd_store_set_threads() (that
   *  stays 1).
   *  Outside 0..64: PD_E_INVALID. */
  int32_t threads;
} pd_persist_options;

#define PD_PERSIST_OPTIONS_INIT \
  {sizeof(pd_persist_options), NULL, 2, PD_SYNC_EVERY_EVENT, 0, 0, NULL, 0, \
   NULL, 0, 1}

/* ---- snapshots ---------------------------------------------------------- */

/**
 * Save the whole store to `path` atomically: the snapshot is written to a
 * temporary file in the same directory, synced, renamed over `path`, and
 * the directory is synced. When the store has a journal (pd_store_open),
 * the snapshot records the journal position it contains, the journal is
 * synced first, and the journal keeps going (use pd_store_checkpoint() to
 * also start a new journal).
 *
 * A snapshot of 64 MB or more is written around the operating system's
 * page cache where it allows that (Linux: O_DIRECT; elsewhere, and on file
 * systems that refuse it, ordinary writes): the save then runs at the
 * disk's speed instead of waiting for the cache's writeback, and leaves
 * the file out of the cache. The bytes and the guarantees are the same.
 *
 * The store is locked while it is written: other threads' calls wait.
 * Thread-safe. Errors: PD_E_MISUSE (not a store), PD_E_INVALID (path
 * NULL/empty), PD_E_IO (cannot write; `path` is untouched and the
 * temporary file removed), PD_E_NOMEM. The message is on the store.
 */
PD_API pd_status pd_snapshot_save(pd_store *store, const char *path);

/**
 * Write the snapshot through `write` (for systems that keep blobs in their
 * own database). The bytes are exactly those pd_snapshot_save() puts in a
 * file. `write` is called under the store's lock and must not call the
 * store. Errors: PD_E_MISUSE, PD_E_INVALID (write NULL), PD_E_IO (write
 * returned non-zero), PD_E_NOMEM.
 */
PD_API pd_status pd_snapshot_write(pd_store *store, pd_write_fn write,
                                   void *user);

/**
 * Load a snapshot file into a new store (*out; free with pd_store_free).
 * The new store answers every query exactly as the saved one did and
 * remembers every event id (recording one again gives PD_REPLAYED). It has
 * no journal (see pd_store_open). opts may be NULL.
 *
 * A large file that is mostly not in the page cache (after a restart, or
 * after pd_snapshot_save()) has its large sections read around the cache
 * (Linux: O_DIRECT), which spares the cost of filling the cache with a
 * file that is read once; a cached file is read from the cache. Read so
 * with 2 or more threads (pd_persist_options.threads), the file is read
 * ahead while the data already read is checked and the event-id index is
 * built, so that the load takes little longer than the disk needs.
 *
 * Errors (nothing is created; the reason goes to opts->errmsg):
 * PD_E_INVALID (bad arguments or options; a store that pseudonymises
 * identities without its identity_key, or a key for one that does not),
 * PD_E_IO (cannot read), PD_E_CORRUPT (truncated, damaged or inconsistent
 * data: a checksum, count, index, chain or string that does not hold),
 * PD_E_VERSION (not written by a compatible version of this format),
 * PD_E_NOMEM.
 */
PD_API pd_status pd_snapshot_load(const char *path,
                                  const pd_persist_options *opts,
                                  pd_store **out);

/** pd_snapshot_load() reading through `read`; same errors, and PD_E_IO
 *  when `read` fails. Reads exactly the snapshot's bytes. */
PD_API pd_status pd_snapshot_read(pd_read_fn read, void *user,
                                  const pd_persist_options *opts,
                                  pd_store **out);

/* ---- snapshot + journal --------------------------------------------------- */

/** What pd_store_open() found and did. Initialise with
 *  PD_OPEN_REPORT_INIT. */
typedef struct pd_open_report {
  size_t size;
  /** 1 if neither file existed and a new, empty store was created. */
  int32_t created;
  /** 1 if a checkpoint interrupted by a crash was completed. */
  int32_t checkpoint_completed;
  /** Journal generation now in use (starts at 1, +1 per checkpoint). */
  uint64_t generation;
  /** Changes the snapshot contained (its journal position). */
  uint64_t snapshot_position;
  /** Journal records applied on top of the snapshot. */
  uint64_t replayed;
  /** Torn or damaged bytes cut from the end of the journal (a crash in
   *  the middle of an append), and how many records they started. */
  uint64_t cut_bytes;
  uint64_t cut_records;
} pd_open_report;

#define PD_OPEN_REPORT_INIT {sizeof(pd_open_report), 0, 0, 0, 0, 0, 0, 0}

/**
 * Open a store kept in a snapshot file and a journal file, and keep
 * journaling to it: load the snapshot, apply the journal's changes that
 * the snapshot does not contain, cut a torn tail (the last append of a
 * process killed mid-write; reported in *report), and attach the journal
 * so that every later change is appended (and synced per opts->sync)
 * before it is applied. If the journal cannot be written, the change is
 * refused with PD_E_IO and the store is unchanged.
 *
 * When neither file exists, a new empty store is created (with
 * opts->currency_exponent) and both files are written. A snapshot without
 * a journal starts a new journal; a journal without its snapshot is
 * PD_E_CORRUPT. A journal left by a crash during pd_store_checkpoint() is
 * handled: the checkpoint is completed.
 *
 * Damage in the middle of the journal (a record that fails its checksum
 * followed by good records) is not cut: that would drop acknowledged
 * changes; the open fails with PD_E_CORRUPT and the files are left as
 * they are (pd_persist_check says where).
 *
 * Only one process may open the same files at a time (not enforced).
 * report may be NULL; it and *out are written only on success. The store
 * is freed with pd_store_free(), which syncs and closes the journal.
 * Errors: those of pd_snapshot_load(), PD_E_CORRUPT for a journal that
 * does not belong to the snapshot (another generation) or whose changes
 * do not apply, PD_E_IO.
 */
PD_API pd_status pd_store_open(const char *snapshot_path,
                               const char *journal_path,
                               const pd_persist_options *opts,
                               pd_open_report *report, pd_store **out);

/**
 * Checkpoint a store opened with pd_store_open(): write a new snapshot
 * containing every change so far and start a new, empty journal.
 *
 * Crash safety (the protocol, also in docs/FORMAT.md): both files carry a
 * journal generation; the snapshot also records the journal position it
 * contains. The checkpoint (1) writes snapshot generation g+1 at position
 * p to a temporary file, syncs it and renames it over the snapshot, then
 * (2) writes a new journal of generation g+1 starting at p the same way.
 * A crash before (1) completes leaves the old pair; a crash between (1)
 * and (2) leaves the new snapshot beside the journal of generation g,
 * whose changes at positions >= p are applied by pd_store_open(), which
 * then completes the checkpoint. No window loses a change.
 *
 * The store is locked throughout. Errors: PD_E_MISUSE (not a store, or no
 * journal attached), PD_E_IO (the old files stay in use and nothing is
 * lost), PD_E_NOMEM.
 */
PD_API pd_status pd_store_checkpoint(pd_store *store);

/** Make every journaled change durable now (fdatasync), whatever the sync
 *  policy. Thread-safe. PD_OK (also when the store has no journal),
 *  PD_E_MISUSE, PD_E_IO. */
PD_API pd_status pd_store_sync(pd_store *store);

/* ---- checking files --------------------------------------------------- */

/** Kinds of file pd_persist_check() recognises. */
enum { PD_FILE_UNKNOWN = 0, PD_FILE_SNAPSHOT = 1, PD_FILE_JOURNAL = 2 };

/** What pd_persist_check() found. Initialise with PD_CHECK_REPORT_INIT. */
typedef struct pd_check_report {
  size_t size;
  int32_t file_kind;  /**< PD_FILE_* */
  pd_status status;   /**< PD_OK if intact, else what loading would say */
  uint64_t generation;
  /** Snapshot: changes it contains; journal: position of its first record. */
  uint64_t position;
  /** Snapshot: events (all kinds); journal: intact records. */
  uint64_t records;
  uint64_t good_bytes; /**< journal: bytes up to the end of the last good record */
  uint64_t bad_bytes;  /**< journal: bytes after it */
  char message[256];   /**< NUL-terminated description */
} pd_check_report;

#define PD_CHECK_REPORT_INIT \
  {sizeof(pd_check_report), 0, 0, 0, 0, 0, 0, 0, {0}}

/**
 * Examine a snapshot or journal file without changing it: a snapshot is
 * fully loaded and validated (then freed); a journal's records are
 * checked (frame, checksum, decodable). Returns PD_OK with the verdict in
 * out->status and out->message (a file that cannot be read is reported as
 * out->status = PD_E_IO); opts may be NULL (its allocator and identity key
 * are used for snapshots). Thread-safe (touches no store). Errors:
 * PD_E_INVALID (path or out NULL, out->size too small, bad options).
 */
PD_API pd_status pd_persist_check(const char *path,
                                  const pd_persist_options *opts,
                                  pd_check_report *out);

PD_END_DECLS

#endif /* PRIVDOMAIN_PERSIST_H */
