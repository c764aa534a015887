/* The ids of a store's channels, in the order pd lists them. */
#ifndef PD_TOOL_CHANNEL_IDS_H
#define PD_TOOL_CHANNEL_IDS_H

#include <stddef.h>
#include <stdint.h>

/* Writes the ids of the channels of a store that has @channels of them
 * (pd_store_stats.channels) into ids[0..cap-1]: the built-in ones
 * 1..PD_CHANNEL_BUILTIN_LAST, then the custom ones from
 * PD_CHANNEL_CUSTOM_FIRST. Returns how many it wrote (at most @cap). */
size_t channel_ids(uint64_t channels, int32_t *ids, size_t cap);

#endif
