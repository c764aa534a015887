/* Loading a snapshot on several threads (pd_persist_options.threads): the
 * loaded store, and the status and message of a failed load, are the same
 * for every thread count; the event-id index built by bucket ranges holds
 * every id and still refuses a repeated one; large sections read by
 * offsets on several threads give the same bytes and checksum. White-box:
 * the index, identity and order slots are compared byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/crc32c.h"
#include "io/snapshot_pread.h"
#include "persist_testutil.h"
#include "store/event_index.h"
#include "store/store_restore.h"
#include "store/store_internal.h"
#include "testutil_alloc.h"

/* More events than one index range takes (2^16), and sections longer than
 * the small pread threshold the tests use. */
#define USERS 3000u
#define TOUCHES 70000u
#define SMALL_PREAD ((size_t)64 << 10)

static const int32_t thread_counts[] = {1, 2, 3, 0};
#define NCOUNTS (sizeof thread_counts / sizeof thread_counts[0])

static char dir[512];
static char path[600];
static membuf saved; /* the bytes of `path` */

/* xorshift: the same pseudo-random stream in every run */
static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static pd_store *big_store(void) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(small_domain(s, 7), PD_OK);
  pd_user_id u[USERS];
  for (uint32_t i = 0; i < USERS; i++) {
    char k[32];
    snprintf(k, sizeof k, "1390000%05u", i);
    assert_int_equal(pd_user_ensure(s, "phone", PD_NTS, k, PD_NTS, &u[i]),
                     PD_OK);
  }
  for (uint32_t i = 0; i < TOUCHES; i++) {
    pd_touchpoint t = PD_TOUCHPOINT_INIT;
    t.event_id = 1000000 + next_rand() % 4000000000u * 4 + i % 4;
    t.user = u[next_rand() % USERS];
    t.kind = PD_TOUCH_BROADCAST;
    t.purpose = PD_PURPOSE_PROMOTION;
    t.channel = PD_CHANNEL_WECOM;
    t.time = T0 + (int64_t)(i % 300) * DAY;
    pd_status st = pd_record_touchpoint(s, &t);
    assert_true(st == PD_OK || st == PD_REPLAYED || st == PD_E_DUPLICATE);
  }
  for (uint32_t i = 0; i < USERS; i++) {
    pd_order o = PD_ORDER_INIT;
    o.event_id = 9000000000ull + i;
    o.order_id = 5000000 + i;
    o.user = u[i];
    o.time = T0 + (int64_t)(i % 200) * DAY;
    o.amount = 1000 + i;
    o.channel = PD_CHANNEL_STORE;
    assert_int_equal(pd_record_order(s, &o), PD_OK);
  }
  return s;
}

static int setup(void **state) {
  (void)state;
  scratch_dir(dir, sizeof dir, "snapthreads");
  if (dir[0] == '\0') return -1;
  snprintf(path, sizeof path, "%s/big.pds", dir);
  pd_store *s = big_store();
  if (pd_snapshot_save(s, path) != PD_OK) return -1;
  memset(&saved, 0, sizeof saved);
  if (pd_snapshot_write(s, membuf_write, &saved) != PD_OK) return -1;
  pd_store_free(s);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(saved.p);
  remove_dir(dir);
  return 0;
}

/* How load() reads large files: -1 as pd_snapshot_load does (through
 * the page cache, where the files just written are), 1 around it, which
 * with 2 threads or more reads ahead on a thread of its own and builds
 * the event-id index as the columns arrive (readahead.h,
 * snapshot_feed.h). Tests that compare thread counts run both. */
static int direct_mode = -1;
#define EACH_READ_MODE \
  for (direct_mode = -1; direct_mode <= 1; direct_mode += 2)

static pd_status load(const char *file, int32_t threads, size_t pread_from,
                      const pd_allocator *a, pd_store **out, char *msg,
                      size_t cap) {
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.threads = threads;
  o.allocator = a;
  o.errmsg = msg;
  o.errmsg_cap = cap;
  pd_errbuf err;
  err.msg[0] = '\0';
  pd_status st = pd_snap_load_path_direct(file, &o, out, NULL, &err,
                                          pread_from, direct_mode);
  if (msg && cap) snprintf(msg, cap, "%s", st ? err.msg : "");
  return st;
}

/* The test snapshot, loaded on one thread. */
static pd_store *loaded(void) {
  pd_store *s = NULL;
  assert_int_equal(load(path, 1, PD_SNAP_PREAD_FROM, NULL, &s, NULL, 0),
                   PD_OK);
  return s;
}

static void write_file(const char *file, const unsigned char *p, size_t n) {
  FILE *f = fopen(file, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static size_t total_events(const pd_store *s) {
  size_t n = 0;
  for (int k = 1; k < PD_EV_KINDS; k++) n += s->col[k].n;
  return n;
}

/* ---- the loaded store --------------------------------------------------- */

static void a_load_is_the_same_store_for_every_thread_count(void **state) {
  (void)state;
  pd_store *ref = NULL;
  assert_int_equal(load(path, 1, PD_SNAP_PREAD_FROM, NULL, &ref, NULL, 0),
                   PD_OK);
  assert_true(total_events(ref) > 65536);
  uint64_t digest = digest_of(ref);
  assert_int_not_equal(digest, 0);
  EACH_READ_MODE
  for (size_t c = 0; c < NCOUNTS; c++)
    for (int small = 0; small < 2; small++) {
      pd_store *s = NULL;
      assert_int_equal(load(path, thread_counts[c],
                            small ? SMALL_PREAD : PD_SNAP_PREAD_FROM, NULL,
                            &s, NULL, 0),
                       PD_OK);
      assert_int_equal(digest_of(s), digest);
      /* saved again: the very bytes of the file */
      membuf m = {0};
      assert_int_equal(pd_snapshot_write(s, membuf_write, &m), PD_OK);
      assert_int_equal(m.len, saved.len);
      assert_memory_equal(m.p, saved.p, saved.len);
      free(m.p);
      /* the derived structures, byte for byte */
      assert_int_equal(s->index.nbuckets, ref->index.nbuckets);
      assert_int_equal(s->index.len, ref->index.len);
      assert_memory_equal(s->index.buckets, ref->index.buckets,
                          ref->index.nbuckets * sizeof(pd_st_bucket));
      assert_int_equal(s->ident_slots_cap, ref->ident_slots_cap);
      assert_memory_equal(s->ident_slots, ref->ident_slots,
                          ref->ident_slots_cap * sizeof *ref->ident_slots);
      assert_int_equal(s->order_slots_cap, ref->order_slots_cap);
      assert_memory_equal(s->order_slots, ref->order_slots,
                          ref->order_slots_cap * sizeof *ref->order_slots);
      for (int k = 1; k < PD_EV_KINDS; k++)
        assert_int_equal(s->col[k].live, ref->col[k].live);
      pd_store_free(s);
    }
  pd_store_free(ref);
}

static void a_loaded_store_remembers_every_event_id(void **state) {
  (void)state;
  EACH_READ_MODE {
    pd_store *s = NULL;
    assert_int_equal(load(path, 2, SMALL_PREAD, NULL, &s, NULL, 0), PD_OK);
    for (int k = 1; k < PD_EV_KINDS; k++)
      for (uint32_t i = 0; i < s->col[k].n; i++)
        assert_int_equal(pd_st_index_find(s, s->col[k].eid[i]),
                         pd_st_tag(k, i));
    assert_int_equal(pd_st_index_find(s, 999), 0);
    pd_store_free(s);
  }
}

/* ---- failures ------------------------------------------------------------ */

/* Every way the file can be damaged is reported alike on every thread
 * count and pread threshold. */
static void a_damaged_file_fails_alike_on_every_thread_count(void **state) {
  (void)state;
  char bad[700];
  snprintf(bad, sizeof bad, "%s/bad.pds", dir);
  unsigned char *p = malloc(saved.len);
  assert_non_null(p);
  const size_t cuts[] = {saved.len / 3, saved.len / 2, saved.len - 5};
  for (int v = 0; v < 6; v++) {
    memcpy(p, saved.p, saved.len);
    size_t n = saved.len;
    if (v < 3) {
      n = cuts[v];  /* truncated */
    } else {
      p[saved.len / 4 + (size_t)v * 7919] ^= 0x40; /* a flipped bit */
    }
    write_file(bad, p, n);
    char ref[256] = "";
    pd_store *s = NULL;
    pd_status want = load(bad, 1, PD_SNAP_PREAD_FROM, NULL, &s, ref,
                          sizeof ref);
    assert_int_equal(want, PD_E_CORRUPT);
    assert_null(s);
    EACH_READ_MODE
    for (size_t c = 0; c < NCOUNTS; c++)
      for (int small = 0; small < 2; small++) {
        char msg[256] = "";
        assert_int_equal(load(bad, thread_counts[c],
                              small ? SMALL_PREAD : PD_SNAP_PREAD_FROM, NULL,
                              &s, msg, sizeof msg),
                         want);
        assert_null(s);
        assert_string_equal(msg, ref);
      }
  }
  free(p);
}

/* A snapshot whose checksums hold but where two events share an id (made
 * by saving a store whose column was altered) is refused the same way on
 * every thread count; so is one whose chains are also broken, where the
 * chain check comes first as it always did. */
static void a_repeated_event_id_in_a_file_is_corrupt_on_every_count(
    void **state) {
  (void)state;
  char bad[700];
  snprintf(bad, sizeof bad, "%s/dup.pds", dir);
  for (int v = 0; v < 2; v++) {
    pd_store *s = NULL;
    assert_int_equal(load(path, 1, PD_SNAP_PREAD_FROM, NULL, &s, NULL, 0),
                     PD_OK);
    pd_st_column *c = &s->col[PD_EV_TOUCH];
    c->eid[c->n - 1] = c->eid[17];
    if (v == 1) s->users[1].head[PD_EV_TOUCH] = PD_ST_NIL; /* off-chain */
    assert_int_equal(pd_snapshot_save(s, bad), PD_OK);
    pd_store_free(s);
    s = NULL;
    char ref[256] = "";
    assert_int_equal(load(bad, 1, PD_SNAP_PREAD_FROM, NULL, &s, ref,
                          sizeof ref),
                     PD_E_CORRUPT);
    if (v == 0) assert_non_null(strstr(ref, "event id"));
    else if (strstr(ref, "event id")) fail_msg("%s", ref);
    EACH_READ_MODE
    for (size_t k = 0; k < NCOUNTS; k++) {
      char msg[256] = "";
      assert_int_equal(load(bad, thread_counts[k], SMALL_PREAD, NULL, &s,
                            msg, sizeof msg),
                       PD_E_CORRUPT);
      assert_null(s);
      assert_string_equal(msg, ref);
    }
  }
}

/* Fields out of range in two parts of a long column (the column is
 * checked in parts of 65536 records on several threads): the first one
 * in record order is reported, on every thread count. */
static void the_first_field_out_of_range_is_reported_on_every_count(
    void **state) {
  (void)state;
  char bad[700];
  snprintf(bad, sizeof bad, "%s/range.pds", dir);
  pd_store *s = loaded();
  pd_st_column *c = &s->col[PD_EV_TOUCH];
  assert_true(c->n > 65536 + 100);
  pd_st_touch *t = c->rec;
  t[65536 + 50].kind = 200;  /* second part */
  t[70].rating[2] = 11;      /* first part: this one is reported */
  assert_int_equal(pd_snapshot_save(s, bad), PD_OK);
  pd_store_free(s);
  s = NULL;
  EACH_READ_MODE
  for (size_t k = 0; k < NCOUNTS; k++) {
    char msg[256] = "";
    assert_int_equal(load(bad, thread_counts[k], SMALL_PREAD, NULL, &s, msg,
                          sizeof msg),
                     PD_E_CORRUPT);
    assert_null(s);
    assert_string_equal(msg, "touchpoint event 70: field 10 holds 11, out "
                             "of range");
  }
}

/* Out of memory at any allocation of a threaded load: PD_E_NOMEM and
 * nothing left allocated (every allocation is made on the calling
 * thread, before or after the helpers run). Reading ahead, the read-ahead
 * ring and the index fed during the read are speed-ups: without their
 * memory the load goes on without them, to the same store. */
static void out_of_memory_anywhere_in_a_threaded_load_leaks_nothing(
    void **state) {
  (void)state;
  uint64_t digest;
  {
    pd_store *ref = loaded();
    digest = digest_of(ref);
    pd_store_free(ref);
  }
  EACH_READ_MODE {
    test_alloc t;
    test_alloc_init(&t);
    pd_allocator a = test_alloc_allocator(&t);
    pd_store *s = NULL;
    assert_int_equal(load(path, 2, SMALL_PREAD, &a, &s, NULL, 0), PD_OK);
    long calls = atomic_load(&t.calls);
    pd_store_free(s);
    assert_int_equal(atomic_load(&t.live), 0);
    for (long k = 1; k <= calls; k++) {
      test_alloc_fail_in(&t, k);
      s = NULL;
      pd_status st = load(path, 2, SMALL_PREAD, &a, &s, NULL, 0);
      test_alloc_fail_in(&t, 0);
      if (st == PD_OK && direct_mode == 1) {
        assert_int_equal(digest_of(s), digest);
        pd_store_free(s);
      } else {
        assert_int_equal(st, PD_E_NOMEM);
        assert_null(s);
      }
      assert_int_equal(atomic_load(&t.live), 0);
    }
  }
}

/* ---- the option ---------------------------------------------------------- */

static void threads_must_be_0_to_64_and_a_0_1_sized_struct_still_loads(
    void **state) {
  (void)state;
  pd_store *s = NULL;
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.threads = -1;
  assert_int_equal(pd_snapshot_load(path, &o, &s), PD_E_INVALID);
  o.threads = 65;
  assert_int_equal(pd_snapshot_load(path, &o, &s), PD_E_INVALID);
  assert_null(s);
  o.threads = 64;
  assert_int_equal(pd_snapshot_load(path, &o, &s), PD_OK);
  pd_store_free(s);
  s = NULL;
  /* what a caller built against 0.1 passes: the struct ends at errmsg_cap
   * (threads, past its end, holds garbage the library must not read) */
  pd_persist_options old = PD_PERSIST_OPTIONS_INIT;
  old.size = offsetof(pd_persist_options, errmsg_cap) + sizeof(size_t);
  old.threads = -12345;
  assert_int_equal(pd_snapshot_load(path, &old, &s), PD_OK);
  assert_int_equal(digest_of(s) != 0, 1);
  pd_store_free(s);
  s = NULL;
  old.size = offsetof(pd_persist_options, errmsg_cap);
  assert_int_equal(pd_snapshot_load(path, &old, &s), PD_E_INVALID);
  assert_null(s);
}

/* ---- the event-id index by ranges --------------------------------------- */

/* Build s's index with r ranges, running them forwards or backwards;
 * returns end()'s answer and copies the buckets out when it succeeds. */
/* End build b of store s: its result, and on success a copy of the
 * installed buckets in *bytes (when bytes is not NULL; free it). */
static int end_build(pd_store *s, pd_st_index_build *b,
                     unsigned char **bytes) {
  int res = pd_st_index_build_end(b);
  if (res == 0 && bytes) {
    size_t n = s->index.nbuckets * sizeof(pd_st_bucket);
    *bytes = malloc(n);
    assert_non_null(*bytes);
    memcpy(*bytes, s->index.buckets, n);
  }
  return res;
}

/* Pairs of suspects a build compares at a time (0: its own number): 1
 * compares each pair as the next is found. */
static size_t suspect_cap = 0;

static int build(pd_store *s, size_t r, int backwards, size_t defer_cap,
                 unsigned char **bytes, size_t *deferred) {
  pd_st_index_build b;
  assert_int_equal(pd_st_index_build_begin_ranges(s, &b, r), 0);
  assert_int_equal(b.nranges, r);
  if (defer_cap != SIZE_MAX) b.defer_cap = defer_cap;
  if (suspect_cap) b.suspect_cap = suspect_cap;
  for (size_t i = 0; i < r; i++)
    pd_st_index_build_range(&b, backwards ? r - 1 - i : i);
  if (deferred) {
    *deferred = 0;
    for (size_t i = 0; i < r; i++) *deferred += b.ndeferred[i];
  }
  return end_build(s, &b, bytes);
}

static void every_id_is_found_at_its_event(pd_store *s) {
  for (int k = 1; k < PD_EV_KINDS; k++)
    for (uint32_t i = 0; i < s->col[k].n; i++)
      assert_int_equal(pd_st_index_find(s, s->col[k].eid[i]),
                       pd_st_tag(k, i));
}

static void the_index_layout_does_not_depend_on_the_order_of_ranges(
    void **state) {
  (void)state;
  pd_store *s = loaded();
  const size_t ranges[] = {1, 2, 7, 64};
  for (size_t r = 0; r < 4; r++) {
    unsigned char *fwd = NULL, *bwd = NULL;
    size_t deferred = 0;
    assert_int_equal(build(s, ranges[r], 0, SIZE_MAX, &fwd, &deferred), 0);
    every_id_is_found_at_its_event(s);
    /* 64 ranges of ~20 buckets: probes do cross range ends */
    if (ranges[r] == 64) assert_true(deferred > 0);
    assert_int_equal(build(s, ranges[r], 1, SIZE_MAX, &bwd, NULL), 0);
    every_id_is_found_at_its_event(s);
    assert_memory_equal(fwd, bwd, s->index.nbuckets * sizeof(pd_st_bucket));
    free(fwd);
    free(bwd);
  }
  pd_store_free(s);
}

/* The build fed while the columns are read (snapshot_feed.h), given
 * each column in uneven pieces: 0 or its end() result, and the buckets. */
static int fed(pd_store *s, size_t lanes, size_t defer_cap,
               unsigned char **bytes) {
  pd_st_index_build b;
  assert_int_equal(
      pd_st_index_build_begin_fed(s, &b, total_events(s), lanes), 0);
  assert_int_equal(b.nranges, PD_ST_INDEX_RANGES);
  assert_int_equal(b.nlanes, lanes);
  if (defer_cap != SIZE_MAX) b.defer_cap = defer_cap;
  if (suspect_cap) b.suspect_cap = suspect_cap;
  for (size_t l = 0; l < lanes; l++) pd_st_index_build_zero(&b, l);
  /* the lanes take turns in uneven pieces, as their threads might */
  for (int k = 1; k < PD_EV_KINDS; k++) {
    pd_st_index_build_feed_column(&b, k, s->col[k].eid);
    uint32_t at[PD_ST_INDEX_RANGES] = {0}, n = s->col[k].n;
    for (size_t done = 0; done < lanes;) {
      size_t l = (size_t)next_rand() % lanes;
      if (at[l] == n) continue;
      uint32_t to = at[l] + 1 + (uint32_t)(next_rand() % 5000);
      if (to > n) to = n;
      pd_st_index_build_feed(&b, l, k, at[l], to);
      at[l] = to;
      done += to == n;
    }
  }
  return end_build(s, &b, bytes);
}

static void the_index_fed_during_the_read_is_the_ranged_build(void **state) {
  (void)state;
  pd_store *s = loaded();
  size_t bytes = 0;
  const size_t lanes[] = {1, 2, 3, PD_ST_INDEX_RANGES};
  for (int cap = 0; cap < 2; cap++) {
    /* cap 1: no room to defer, so both fall back to one pass */
    size_t defer_cap = cap ? 0 : SIZE_MAX;
    unsigned char *ranged = NULL;
    assert_int_equal(build(s, PD_ST_INDEX_RANGES, 0, defer_cap, &ranged,
                           NULL),
                     0);
    bytes = s->index.nbuckets * sizeof(pd_st_bucket);
    for (size_t l = 0; l < 4; l++) {
      unsigned char *feed = NULL;
      assert_int_equal(fed(s, lanes[l], defer_cap, &feed), 0);
      assert_int_equal(s->index.nbuckets * sizeof(pd_st_bucket), bytes);
      every_id_is_found_at_its_event(s);
      assert_memory_equal(feed, ranged, bytes);
      free(feed);
    }
    free(ranged);
  }
  /* a repeated id, then a zero id: refused, whichever lane has it */
  pd_st_column *c = &s->col[PD_EV_TOUCH];
  uint64_t last = c->eid[c->n - 1], fifth = c->eid[5];
  for (size_t l = 0; l < 4; l++) {
    c->eid[c->n - 1] = c->eid[17];
    assert_int_equal(fed(s, lanes[l], SIZE_MAX, NULL), -2);
    c->eid[c->n - 1] = last;
    c->eid[5] = 0;
    assert_int_equal(fed(s, lanes[l], SIZE_MAX, NULL), -2);
    c->eid[5] = fifth;
  }
  pd_store_free(s);
}

static void a_range_that_defers_too_many_falls_back_to_one_pass(
    void **state) {
  (void)state;
  pd_store *s = loaded();
  /* no room for a deferred id: one sequential pass, whatever the ranges */
  unsigned char *two = NULL, *many = NULL;
  assert_int_equal(build(s, 2, 0, 0, &two, NULL), 0);
  every_id_is_found_at_its_event(s);
  assert_int_equal(build(s, 64, 1, 0, &many, NULL), 0);
  every_id_is_found_at_its_event(s);
  assert_memory_equal(two, many, s->index.nbuckets * sizeof(pd_st_bucket));
  free(two);
  free(many);
  pd_store_free(s);
}

static void a_repeated_or_zero_id_is_refused_by_every_range_count(
    void **state) {
  (void)state;
  pd_store *s = loaded();
  pd_st_column *tc = &s->col[PD_EV_TOUCH];
  pd_st_column *oc = &s->col[PD_EV_ORDER];
  /* find an id the 64-range build defers: its repeat is deferred too */
  pd_st_index_build b;
  assert_int_equal(pd_st_index_build_begin_ranges(s, &b, 64), 0);
  for (size_t i = 0; i < 64; i++) pd_st_index_build_range(&b, i);
  uint32_t deferred_tag = 0;
  for (size_t i = 0; i < 64 && !deferred_tag; i++)
    if (b.ndeferred[i]) deferred_tag = b.deferred[i * b.defer_cap];
  assert_int_equal(pd_st_index_build_end(&b), 0);
  assert_int_not_equal(deferred_tag, 0);
  uint64_t deferred_eid =
      s->col[pd_st_tag_kind(deferred_tag)].eid[pd_st_tag_index(deferred_tag)];
  const size_t ranges[] = {1, 2, 64};
  for (int v = 0; v < 4; v++) {
    uint64_t saved_eid = oc->eid[5], saved_t = tc->eid[tc->n - 1];
    if (v == 0) oc->eid[5] = tc->eid[3];           /* across kinds */
    if (v == 1) tc->eid[tc->n - 1] = tc->eid[0];   /* within a kind */
    if (v == 2) tc->eid[tc->n - 1] = deferred_eid; /* a deferred id */
    if (v == 3) oc->eid[5] = 0;                    /* id 0 */
    /* suspects compared in one batch at the end, or one by one */
    for (suspect_cap = 0; suspect_cap < 2; suspect_cap++)
      for (size_t r = 0; r < 3; r++) {
        assert_int_equal(build(s, ranges[r], 0, SIZE_MAX, NULL, NULL), -2);
        assert_int_equal(build(s, ranges[r], 1, 0, NULL, NULL), -2);
        size_t lanes = ranges[r] < PD_ST_INDEX_RANGES ? ranges[r]
                                                       : PD_ST_INDEX_RANGES;
        assert_int_equal(fed(s, lanes, SIZE_MAX, NULL), -2);
      }
    suspect_cap = 0;
    oc->eid[5] = saved_eid;
    tc->eid[tc->n - 1] = saved_t;
  }
  pd_store_free(s);
}

/* The other two indexes a load rebuilds refuse what a store never holds:
 * an order id twice or 0, an identity twice; and index the intact store
 * again afterwards. */
static void the_order_and_identity_rebuilds_refuse_repeated_keys(
    void **state) {
  (void)state;
  pd_store *s = loaded();
  pd_st_column *oc = &s->col[PD_EV_ORDER];
  assert_true(oc->n > 6);
  pd_st_order *orders = (pd_st_order *)oc->rec;
  uint64_t saved = orders[6].order_id;
  orders[6].order_id = orders[2].order_id;
  assert_int_equal(pd_st_order_index_rebuild(s), -2);
  orders[6].order_id = 0;
  assert_int_equal(pd_st_order_index_rebuild(s), -2);
  orders[6].order_id = saved;
  assert_int_equal(pd_st_order_index_rebuild(s), 0);
  assert_int_equal(s->order_slots_len, oc->n);

  /* two live identities made the same (namespace, key) */
  uint32_t a = UINT32_MAX, b = UINT32_MAX;
  for (uint32_t i = 0; i < s->n_idents && b == UINT32_MAX; i++)
    if (s->idents[i].user != 0) {
      if (a == UINT32_MAX) a = i;
      else b = i;
    }
  assert_int_not_equal(b, UINT32_MAX);
  pd_st_identity kept = s->idents[b];
  s->idents[b].off = s->idents[a].off;
  s->idents[b].len = s->idents[a].len;
  s->idents[b].ns = s->idents[a].ns;
  assert_int_equal(pd_st_ident_index_rebuild(s), -2);
  s->idents[b] = kept;
  assert_int_equal(pd_st_ident_index_rebuild(s), 0);
  pd_store_free(s);
}

/* ---- reading by offsets -------------------------------------------------- */

static void crc_combine_equals_the_crc_of_the_concatenation(void **state) {
  (void)state;
  unsigned char buf[5000];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)next_rand();
  const size_t cuts[] = {0, 1, 7, 8, 64, 1000, 4095, 4999, 5000};
  uint32_t whole = pd_crc32c(0, buf, sizeof buf);
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    size_t k = cuts[c];
    uint32_t a = pd_crc32c(0, buf, k);
    uint32_t b = pd_crc32c(0, buf + k, sizeof buf - k);
    assert_int_equal(pd_snap_crc32c_combine(a, b, sizeof buf - k), whole);
  }
  /* the known CRC-32C check value, through a combine */
  uint32_t a = pd_crc32c(0, "1234", 4), b = pd_crc32c(0, "56789", 5);
  assert_int_equal(pd_snap_crc32c_combine(a, b, 5), 0xE3069283u);
}

static void pread_gives_the_same_bytes_and_checksum_on_any_thread_count(
    void **state) {
  (void)state;
  char f[700];
  snprintf(f, sizeof f, "%s/raw.bin", dir);
  size_t n = 300000;
  unsigned char *data = malloc(n);
  assert_non_null(data);
  for (size_t i = 0; i < n; i++) data[i] = (unsigned char)next_rand();
  write_file(f, data, n);
  FILE *fp = fopen(f, "rb");
  assert_non_null(fp);
  int fd = fileno(fp);
  unsigned char *got = malloc(n);
  assert_non_null(got);
  const size_t from = 777, len = n - 777 - 1000;
  uint32_t want = pd_crc32c(pd_crc32c(0, "head", 4), data + from, len);
  const size_t chunk_mins[] = {1, 4096, 65536, (size_t)1 << 30};
  for (size_t c = 0; c < NCOUNTS; c++)
    for (size_t m = 0; m < 4; m++) {
      memset(got, 0, n);
      uint32_t crc = pd_crc32c(0, "head", 4);
      assert_int_equal(pd_snap_pread(fd, from, got, len, thread_counts[c],
                                     chunk_mins[m], &crc),
                       0);
      assert_int_equal(crc, want);
      assert_memory_equal(got, data + from, len);
    }
  /* past the end: truncated, *crc untouched */
  uint32_t crc = 5;
  assert_int_equal(pd_snap_pread(fd, n - 100, got, 200, 2, 16, &crc), -2);
  assert_int_equal(crc, 5);
  fclose(fp);
  /* a closed descriptor: a read error */
  assert_int_equal(pd_snap_pread(fd, 0, got, 100, 2, 16, &crc), -1);
  free(got);
  free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_load_is_the_same_store_for_every_thread_count),
      cmocka_unit_test(a_loaded_store_remembers_every_event_id),
      cmocka_unit_test(a_damaged_file_fails_alike_on_every_thread_count),
      cmocka_unit_test(
          a_repeated_event_id_in_a_file_is_corrupt_on_every_count),
      cmocka_unit_test(
          the_first_field_out_of_range_is_reported_on_every_count),
      cmocka_unit_test(
          out_of_memory_anywhere_in_a_threaded_load_leaks_nothing),
      cmocka_unit_test(
          threads_must_be_0_to_64_and_a_0_1_sized_struct_still_loads),
      cmocka_unit_test(
          the_index_layout_does_not_depend_on_the_order_of_ranges),
      cmocka_unit_test(a_range_that_defers_too_many_falls_back_to_one_pass),
      cmocka_unit_test(the_index_fed_during_the_read_is_the_ranged_build),
      cmocka_unit_test(the_order_and_identity_rebuilds_refuse_repeated_keys),
      cmocka_unit_test(
          a_repeated_or_zero_id_is_refused_by_every_range_count),
      cmocka_unit_test(crc_combine_equals_the_crc_of_the_concatenation),
      cmocka_unit_test(
          pread_gives_the_same_bytes_and_checksum_on_any_thread_count),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
