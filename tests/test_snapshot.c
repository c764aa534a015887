/* Specification of snapshots (persist.h): a saved store loads into a store
 * that answers every query alike and remembers every event id; the file
 * and callback forms carry the same bytes; and no damaged, truncated,
 * foreign or hostile input is trusted: each gives PD_E_CORRUPT or
 * PD_E_VERSION without a crash, a leak or a large allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "../src/core/crc32c.h"
#include "demo_data.h"
#include "persist_testutil.h"
#include "testutil_alloc.h"

/* ---- fixtures ---------------------------------------------------------- */

static pd_store *small_store(void) {
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  assert_int_equal(small_domain(s, 7), PD_OK);
  return s;
}

static membuf snapshot_bytes(pd_store *s) {
  membuf m = {0};
  assert_int_equal(pd_snapshot_write(s, membuf_write, &m), PD_OK);
  return m;
}

/* Load m through the callbacks with a counting allocator: the status, and
 * no allocation may outlive the call unless it returned a store. */
static pd_status load_counted(const unsigned char *p, size_t len) {
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.allocator = &a;
  membuf m = {(unsigned char *)p, len, len, 0, 0};
  pd_store *s = NULL;
  pd_status st = pd_snapshot_read(membuf_read, &m, &o, &s);
  if (st == PD_OK) pd_store_free(s);
  assert_int_equal(atomic_load(&ta.live), 0);
  return st;
}

static void le32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Offset of section `id` (its header) in a snapshot, or 0. */
static size_t section_at(const membuf *m, uint32_t id, uint64_t *len) {
  size_t off = 40;
  while (off + 16 <= m->len) {
    uint64_t l = rd32(m->p + off + 8) | (uint64_t)rd32(m->p + off + 12) << 32;
    if (rd32(m->p + off) == id) {
      *len = l;
      return off;
    }
    off += 16 + (size_t)l + 4;
  }
  return 0;
}

/* Recompute the CRC of the section at off (after a deliberate edit). */
static void reseal(membuf *m, size_t off, uint64_t len) {
  uint32_t c = pd_crc32c(0, m->p + off, 16 + (size_t)len);
  le32(m->p + off + 16 + len, c);
}

/* ---- round trips ----------------------------------------------------------- */

static void a_loaded_store_answers_every_query_as_the_saved_one(void **st) {
  (void)st;
  demo_data d;
  assert_int_equal(demo_generate(DEMO_DEFAULT_SEED, 800, &d), 0);
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  demo_player p;
  assert_int_equal(demo_player_init(&p, &d, s, 0), 0);
  for (size_t i = 0; i < d.n_records; i++) {
    pd_status r = demo_play(&p, &d.records[i]);
    assert_true(r == PD_OK || r == PD_REPLAYED || r < 0);
  }
  assert_int_equal(small_domain(s, 99), PD_OK); /* erasure, consent ... */
  char dir[512], path[600];
  scratch_dir(dir, sizeof dir, "snap");
  assert_true(dir[0] != '\0');
  snprintf(path, sizeof path, "%s/store.pds", dir);
  assert_int_equal(pd_snapshot_save(s, path), PD_OK);
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_load(path, NULL, &t), PD_OK);
  uint64_t ds = digest_of(s), dt = digest_of(t);
  pd_store_stats gs = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &gs), PD_OK);
  int32_t b1 = 0, b2 = 0;
  assert_int_equal(pd_guide_get_commission(s, (uint32_t)gs.guides, &b1), PD_OK);
  assert_int_equal(pd_guide_get_commission(t, (uint32_t)gs.guides, &b2), PD_OK);
  assert_int_equal(b1, 250);
  assert_int_equal(b2, 250);
  assert_true(ds != 0);
  assert_true(ds == dt);
  pd_store_stats a = PD_STORE_STATS_INIT, b = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &a), PD_OK);
  assert_int_equal(pd_store_get_stats(t, &b), PD_OK);
  assert_true(a.events == b.events && a.users == b.users);
  /* Every event, recorded again on the loaded store, is recognised exactly
   * as on the original (PD_REPLAYED, or PD_E_ERASED for erased users). */
  demo_player q = p;
  size_t replayed = 0;
  for (size_t i = 0; i < d.n_records; i++) {
    if (d.records[i].kind < DEMO_LINK) continue;
    q.store = s;
    pd_status on_s = demo_play(&q, &d.records[i]);
    q.store = t;
    pd_status on_t = demo_play(&q, &d.records[i]);
    assert_int_equal(on_s, on_t);
    replayed += on_t == PD_REPLAYED;
  }
  assert_true(replayed > d.n_records / 2);
  assert_true(digest_of(t) == ds); /* replays changed nothing */
  /* and it keeps recording: a new event gets PD_OK on both */
  pd_user_id u;
  assert_int_equal(pd_user_ensure(t, "phone", PD_NTS, "new-after-load",
                                  PD_NTS, &u),
                   PD_OK);
  assert_int_equal(u, a.users + a.merged_users + a.erased_users + 1);
  demo_player_free(&p);
  demo_free(&d);
  pd_store_free(s);
  pd_store_free(t);
  remove_dir(dir);
}

static void file_and_callback_snapshots_are_the_same_bytes(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s), m2 = snapshot_bytes(s);
  assert_int_equal(m.len, m2.len);
  assert_memory_equal(m.p, m2.p, m.len); /* deterministic */
  char dir[512], path[600];
  scratch_dir(dir, sizeof dir, "snap");
  snprintf(path, sizeof path, "%s/s.pds", dir);
  assert_int_equal(pd_snapshot_save(s, path), PD_OK);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  unsigned char *buf = malloc(m.len + 1);
  assert_int_equal(fread(buf, 1, m.len + 1, f), m.len);
  fclose(f);
  assert_memory_equal(buf, m.p, m.len);
  /* no temporary file is left beside it */
  char tmp[700];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  struct stat sb;
  assert_int_not_equal(stat(tmp, &sb), 0);
  /* reading in 1-byte pieces works too */
  m.chunk = 1;
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &m, NULL, &t), PD_OK);
  assert_true(digest_of(t) == digest_of(s));
  assert_int_equal(m.pos, m.len); /* read exactly the snapshot */
  free(buf);
  free(m.p);
  free(m2.p);
  pd_store_free(s);
  pd_store_free(t);
  remove_dir(dir);
}

static void an_empty_store_round_trips(void **st) {
  (void)st;
  pd_store *s = NULL;
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.currency_exponent = 0;
  assert_int_equal(pd_store_new(&so, &s), PD_OK);
  membuf m = snapshot_bytes(s);
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &m, NULL, &t), PD_OK);
  assert_int_equal(pd_store_currency_exponent(t), 0);
  assert_true(digest_of(t) == digest_of(s));
  free(m.p);
  pd_store_free(s);
  pd_store_free(t);
}

/* ---- damage ---------------------------------------------------------------- */

static void truncation_at_every_byte_offset_is_corrupt(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  assert_int_equal(load_counted(m.p, m.len), PD_OK);
  for (size_t len = 0; len < m.len; len++)
    assert_int_equal(load_counted(m.p, len), PD_E_CORRUPT);
  free(m.p);
  pd_store_free(s);
}

static void every_single_bit_flip_is_detected(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  unsigned char *c = malloc(m.len);
  for (size_t off = 0; off < m.len; off++) {
    memcpy(c, m.p, m.len);
    c[off] ^= (unsigned char)(1u << (off * 5 % 8));
    pd_status r = load_counted(c, m.len);
    assert_true(r == PD_E_CORRUPT || r == PD_E_VERSION);
  }
  free(c);
  free(m.p);
  pd_store_free(s);
}

static void trailing_bytes_after_the_end_marker_are_not_read(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  size_t n = m.len;
  assert_int_equal(membuf_write(&m, "junk", 4), 0);
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &m, NULL, &t), PD_OK);
  assert_int_equal(m.pos, n);
  free(m.p);
  pd_store_free(s);
  pd_store_free(t);
}

static void wrong_magic_is_corrupt_and_another_version_is_refused(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  m.p[1] = 'X';
  char msg[256] = "";
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.errmsg = msg;
  o.errmsg_cap = sizeof msg;
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &m, &o, &t), PD_E_CORRUPT);
  assert_non_null(strstr(msg, "magic"));
  m.p[1] = 'P';
  m.pos = 0;
  le32(m.p + 8, 2); /* version 2, header resealed */
  le32(m.p + 36, pd_crc32c(0, m.p, 36));
  assert_int_equal(pd_snapshot_read(membuf_read, &m, &o, &t), PD_E_VERSION);
  assert_non_null(strstr(msg, "version 2"));
  free(m.p);
  pd_store_free(s);
}

/* An allocator that refuses (and records) any request above 16 MiB. */
static size_t biggest;
static void *big_malloc(void *u, size_t n) {
  (void)u;
  if (n > biggest) biggest = n;
  return n > (16u << 20) ? NULL : malloc(n);
}
static void *big_realloc(void *u, void *p, size_t n) {
  (void)u;
  if (n > biggest) biggest = n;
  return n > (16u << 20) ? NULL : realloc(p, n);
}
static void big_free(void *u, void *p) {
  (void)u;
  free(p);
}

static void hostile_counts_are_corrupt_without_a_large_allocation(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  pd_allocator a = {big_malloc, big_realloc, big_free, NULL};
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.allocator = &a;
  static const uint32_t sections[] = {1, 2, 3, 4, 5, 6, 0x101, 0x104, 0x105};
  for (size_t k = 0; k < sizeof sections / sizeof sections[0]; k++) {
    for (int field = 0; field < 3; field++) {
      membuf c = {malloc(m.len), m.len, m.len, 0, 0};
      memcpy(c.p, m.p, m.len);
      uint64_t len;
      size_t off = section_at(&c, sections[k], &len);
      assert_true(off != 0);
      /* the first count, or the kind's event count, or the section length */
      if (field < 2 && len >= 8)
        le32(c.p + off + 16 + 4 * (sections[k] >= 0x100 ? 1 : field),
             0xfffffff0u);
      else
        le32(c.p + off + 12, 0x7fffffffu);
      reseal(&c, off, len);
      biggest = 0;
      pd_store *t = NULL;
      pd_status r = pd_snapshot_read(membuf_read, &c, &o, &t);
      assert_true(r == PD_E_CORRUPT || r == PD_E_VERSION);
      assert_true(biggest <= 1u << 20);
      free(c.p);
    }
  }
  /* a section that claims 2^62 bytes */
  membuf c = {malloc(m.len), m.len, m.len, 0, 0};
  memcpy(c.p, m.p, m.len);
  uint64_t len;
  size_t off = section_at(&c, 5, &len);
  le32(c.p + off + 12, 0x40000000u);
  biggest = 0;
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &c, &o, &t), PD_E_CORRUPT);
  assert_true(biggest <= 1u << 20);
  free(c.p);
  free(m.p);
  pd_store_free(s);
}

/* Event ids are unique across all kinds and never 0: a snapshot that
 * breaks this (checksums resealed) is refused, within a kind and across
 * kinds. */
static void repeated_or_zero_event_ids_are_corrupt(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  uint64_t tlen, llen;
  size_t touch = section_at(&m, 0x103, &tlen), link = section_at(&m, 0x101, &llen);
  assert_true(touch != 0 && link != 0);
  assert_true(rd32(m.p + touch + 16 + 4) >= 2 && rd32(m.p + link + 16 + 4) >= 1);
  size_t t_ids = touch + 16 + 12, l_ids = link + 16 + 12;
  for (int edit = 0; edit < 3; edit++) {
    membuf c = {malloc(m.len), m.len, m.len, 0, 0};
    memcpy(c.p, m.p, m.len);
    if (edit == 0) { /* second touchpoint takes the first one's id */
      memcpy(c.p + t_ids + 8, c.p + t_ids, 8);
      reseal(&c, touch, tlen);
    } else if (edit == 1) { /* a touchpoint takes a link's id */
      memcpy(c.p + t_ids + 8, c.p + l_ids, 8);
      reseal(&c, touch, tlen);
    } else { /* id 0 */
      memset(c.p + l_ids, 0, 8);
      reseal(&c, link, llen);
    }
    assert_int_equal(load_counted(c.p, c.len), PD_E_CORRUPT);
    free(c.p);
  }
  free(m.p);
  pd_store_free(s);
}

static void inconsistent_links_are_corrupt_even_with_good_checksums(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  /* users section: per user parent, next_member, referral_in, flags,
   * heads; make user 2's parent 3 (parents point to smaller ids), then
   * its member link to itself (splitting a ring), then a chain head out
   * of range, then a chain that loops. */
  uint64_t len;
  size_t off = section_at(&m, 5, &len);
  uint32_t chains = rd32(m.p + off + 16 + 4);
  size_t row = 4 * (4 + chains), u2 = off + 16 + 8 + row;
  struct {
    size_t at;
    uint32_t v;
  } edits[] = {{u2, 3},           {u2 + 4, 2},
               {u2 + 16 + 4, 999}, {u2 + 16 + 4 * 4, 0},
               {u2 + 8, 0}};
  for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
    membuf c = {malloc(m.len), m.len, m.len, 0, 0};
    memcpy(c.p, m.p, m.len);
    le32(c.p + edits[k].at, edits[k].v);
    reseal(&c, off, len);
    assert_int_equal(load_counted(c.p, c.len), PD_E_CORRUPT);
    free(c.p);
  }
  free(m.p);
  pd_store_free(s);
}

static void out_of_memory_at_any_allocation_fails_cleanly(void **st) {
  (void)st;
  pd_store *s = small_store();
  membuf m = snapshot_bytes(s);
  int succeeded = 0;
  for (long k = 1; k < 400 && !succeeded; k++) {
    test_alloc ta;
    test_alloc_init(&ta);
    pd_allocator a = test_alloc_allocator(&ta);
    pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
    o.allocator = &a;
    test_alloc_fail_in(&ta, k);
    m.pos = 0;
    pd_store *t = NULL;
    pd_status r = pd_snapshot_read(membuf_read, &m, &o, &t);
    test_alloc_fail_in(&ta, 0);
    if (r == PD_OK) {
      succeeded = 1;
      assert_true(digest_of(t) == digest_of(s));
      pd_store_free(t);
    } else {
      assert_int_equal(r, PD_E_NOMEM);
    }
    assert_int_equal(atomic_load(&ta.live), 0);
  }
  assert_true(succeeded);
  free(m.p);
  pd_store_free(s);
}

static void a_pseudonymising_store_loads_only_with_its_key(void **st) {
  (void)st;
  static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                  12, 13, 14, 15, 16, 17};
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.identity_key = key;
  so.identity_key_len = sizeof key;
  pd_store *s = NULL;
  assert_int_equal(pd_store_new(&so, &s), PD_OK);
  assert_int_equal(small_domain(s, 3), PD_OK);
  membuf m = snapshot_bytes(s);
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_read(membuf_read, &m, NULL, &t),
                   PD_E_INVALID);
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.identity_key = key;
  o.identity_key_len = sizeof key;
  m.pos = 0;
  assert_int_equal(pd_snapshot_read(membuf_read, &m, &o, &t), PD_OK);
  pd_user_id u1, u2;
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "138000031", PD_NTS, &u1),
                   PD_OK);
  assert_int_equal(pd_user_find(t, "phone", PD_NTS, "138000031", PD_NTS, &u2),
                   PD_OK);
  assert_int_equal(u1, u2);
  free(m.p);
  pd_store_free(s);
  pd_store_free(t);
}

static void bad_arguments_are_invalid_and_io_errors_are_io(void **st) {
  (void)st;
  pd_store *s = small_store();
  pd_store *t = NULL;
  assert_int_equal(pd_snapshot_save(s, NULL), PD_E_INVALID);
  assert_int_equal(pd_snapshot_save(s, "/nonexistent-dir/x/y.pds"), PD_E_IO);
  assert_non_null(strstr(pd_store_errmsg(s), "nonexistent"));
  assert_int_equal(pd_snapshot_write(s, NULL, NULL), PD_E_INVALID);
  assert_int_equal(pd_snapshot_save(NULL, "x"), PD_E_MISUSE);
  assert_int_equal(pd_snapshot_load("/nonexistent-dir/y.pds", NULL, &t),
                   PD_E_IO);
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  o.size = sizeof o - 1;
  assert_int_equal(pd_snapshot_load("x", &o, &t), PD_E_INVALID);
  assert_null(t);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_loaded_store_answers_every_query_as_the_saved_one),
      cmocka_unit_test(file_and_callback_snapshots_are_the_same_bytes),
      cmocka_unit_test(an_empty_store_round_trips),
      cmocka_unit_test(truncation_at_every_byte_offset_is_corrupt),
      cmocka_unit_test(every_single_bit_flip_is_detected),
      cmocka_unit_test(trailing_bytes_after_the_end_marker_are_not_read),
      cmocka_unit_test(wrong_magic_is_corrupt_and_another_version_is_refused),
      cmocka_unit_test(hostile_counts_are_corrupt_without_a_large_allocation),
      cmocka_unit_test(inconsistent_links_are_corrupt_even_with_good_checksums),
      cmocka_unit_test(repeated_or_zero_event_ids_are_corrupt),
      cmocka_unit_test(out_of_memory_at_any_allocation_fails_cleanly),
      cmocka_unit_test(a_pseudonymising_store_loads_only_with_its_key),
      cmocka_unit_test(bad_arguments_are_invalid_and_io_errors_are_io),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
