/* Specification: erasure reaches the files (PIPL). After a user is erased
 * and the store checkpointed, no file the library wrote holds any of the
 * user's identities, while the other users' identities are still there
 * (so the search itself is shown to work). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "persist_testutil.h"

/* How many files under dir contain `needle` (plain byte search). */
static int files_containing(const char *dir, const char *needle) {
  int hits = 0;
  size_t nlen = strlen(needle);
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(len > 0 ? (size_t)len : 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    for (size_t i = 0; i + nlen <= got; i++)
      if (memcmp(buf + i, needle, nlen) == 0) {
        hits++;
        break;
      }
    free(buf);
  }
  closedir(d);
  return hits;
}

static pd_store *open_in(const char *dir) {
  char snap[1024], jrnl[1024];
  snprintf(snap, sizeof snap, "%s/members.pds", dir);
  snprintf(jrnl, sizeof jrnl, "%s/members.pdj", dir);
  pd_store *s = NULL;
  assert_int_equal(pd_store_open(snap, jrnl, NULL, NULL, &s), PD_OK);
  return s;
}

static pd_user_id member(pd_store *s, const char *phone, const char *unionid,
                         uint64_t order_id) {
  pd_user_id u;
  assert_true(pd_user_ensure(s, "phone", PD_NTS, phone, PD_NTS, &u) >= 0);
  assert_true(pd_user_attach(s, u, "wechat.unionid", PD_NTS, unionid, PD_NTS,
                             &u) >= 0);
  pd_order o = PD_ORDER_INIT;
  o.event_id = order_id;
  o.order_id = order_id;
  o.user = u;
  o.time = T0 + (int64_t)order_id * DAY;
  o.amount = 12900;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  return u;
}

static void an_erased_user_is_in_no_file_after_a_checkpoint(void **state) {
  (void)state;
  char dir[512];
  scratch_dir(dir, sizeof dir, "erasure");
  assert_true(dir[0] != '\0');
  pd_store *s = open_in(dir);
  pd_user_id gone = member(s, "+8613900001111", "oERASEDunionid42", 1);
  member(s, "+8613900002222", "oKEPTunionid7", 2);
  assert_int_equal(pd_store_sync(s), PD_OK);
  /* Before erasure the journal holds both members. */
  assert_true(files_containing(dir, "+8613900001111") >= 1);
  assert_true(files_containing(dir, "oERASEDunionid42") >= 1);

  assert_int_equal(pd_user_erase(s, gone), PD_OK);
  assert_int_equal(pd_store_checkpoint(s), PD_OK);
  pd_store_free(s);

  assert_int_equal(files_containing(dir, "+8613900001111"), 0);
  assert_int_equal(files_containing(dir, "oERASEDunionid42"), 0);
  assert_true(files_containing(dir, "+8613900002222") >= 1);
  assert_true(files_containing(dir, "oKEPTunionid7") >= 1);

  /* And reopening finds the kept member, not the erased one. */
  s = open_in(dir);
  pd_user_id u;
  assert_int_equal(pd_user_find(s, "phone", PD_NTS, "+8613900001111", PD_NTS,
                                &u),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_user_find(s, "wechat.unionid", PD_NTS, "oKEPTunionid7",
                                PD_NTS, &u),
                   PD_OK);
  pd_store_free(s);
  remove_dir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_erased_user_is_in_no_file_after_a_checkpoint),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
