/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef PD_CORE_UTF8_H
#define PD_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool pd_utf8_valid(const char *s, size_t len);

#endif
