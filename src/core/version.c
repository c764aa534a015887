#include <privdomain/version.h>

uint32_t pd_version(void) { return PD_VERSION_NUMBER; }

const char *pd_version_string(void) { return PD_VERSION_STRING; }
