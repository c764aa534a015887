#include "channel_ids.h"

#include <privdomain/channels.h>

size_t channel_ids(uint64_t channels, int32_t *ids, size_t cap) {
  /* Custom ids are not contiguous with the built-in ones (channels.h). */
  uint64_t custom = channels > PD_CHANNEL_BUILTIN_LAST
                        ? channels - PD_CHANNEL_BUILTIN_LAST
                        : 0;
  size_t n = 0;
  for (uint64_t i = 0; i < PD_CHANNEL_BUILTIN_LAST + custom && n < cap; i++)
    ids[n++] =
        i < PD_CHANNEL_BUILTIN_LAST
            ? (int32_t)i + 1
            : PD_CHANNEL_CUSTOM_FIRST + (int32_t)(i - PD_CHANNEL_BUILTIN_LAST);
  return n;
}
