/* Specification of version reporting and status strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

static void runtime_version_matches_headers(void **state) {
  (void)state;
  assert_int_equal(pd_version(), PD_VERSION_NUMBER);
  assert_string_equal(pd_version_string(), PD_VERSION_STRING);
  char buf[32];
  snprintf(buf, sizeof buf, "%d.%d.%d", PD_VERSION_MAJOR, PD_VERSION_MINOR,
           PD_VERSION_PATCH);
  assert_string_equal(buf, PD_VERSION_STRING);
}

static void every_status_has_its_own_description(void **state) {
  (void)state;
  const char *unknown = pd_status_str(-9999);
  assert_string_equal(unknown, "unknown status");
  assert_string_equal(pd_status_str(PD_OK), "ok");
  for (pd_status a = PD_E_FULL; a <= PD_REPLAYED; a++) {
    assert_non_null(pd_status_str(a));
    assert_string_not_equal(pd_status_str(a), unknown);
    for (pd_status b = a + 1; b <= PD_REPLAYED; b++)
      assert_string_not_equal(pd_status_str(a), pd_status_str(b));
  }
  assert_string_equal(pd_status_str(PD_REPLAYED + 1), unknown);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(runtime_version_matches_headers),
      cmocka_unit_test(every_status_has_its_own_description),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
