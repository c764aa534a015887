/* Channels (built-in and custom, private or public) and labels (sources,
 * campaigns, shops). */
#include <string.h>

#include <privdomain/channels.h>

#include "core/utf8.h"
#include "names.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "store_internal.h"

#define NAME_MAX_BYTES 128
#define BUILTINS PD_CHANNEL_BUILTIN_LAST

static int32_t channel_id_of_index(uint32_t i) {
  return i < BUILTINS ? (int32_t)i + 1
                      : PD_CHANNEL_CUSTOM_FIRST + (int32_t)(i - BUILTINS);
}

/* Index in channel_names of a channel id, or PD_ST_NAME_NONE. */
static uint32_t channel_index(const pd_store *s, int32_t id) {
  uint32_t i;
  if (id >= 1 && id <= BUILTINS)
    i = (uint32_t)id - 1;
  else if (id >= PD_CHANNEL_CUSTOM_FIRST && id <= PD_ST_CHANNEL_ID_MAX)
    i = (uint32_t)(id - PD_CHANNEL_CUSTOM_FIRST) + BUILTINS;
  else
    return PD_ST_NAME_NONE;
  return i < s->channel_names.n ? i : PD_ST_NAME_NONE;
}

pd_status pd_st_check_name(pd_store *s, const char *name, size_t *len,
                           const char *what) {
  if (name == NULL) return pd_err(&s->err, PD_E_INVALID, "%s is NULL", what);
  if (*len == PD_NTS) *len = strnlen(name, NAME_MAX_BYTES + 1);
  if (*len == 0) return pd_err(&s->err, PD_E_INVALID, "%s is empty", what);
  if (*len > NAME_MAX_BYTES)
    return pd_err(&s->err, PD_E_UTF8, "%s is longer than %d bytes", what,
                  NAME_MAX_BYTES);
  if (memchr(name, '\0', *len) != NULL || !pd_utf8_valid(name, *len))
    return pd_err(&s->err, PD_E_UTF8,
                  "%s is not valid UTF-8 (or holds a NUL byte)", what);
  return PD_OK;
}

pd_status pd_st_channel_check(pd_store *s, int32_t channel, int allow_zero,
                              const char *what) {
  if (channel == 0) {
    if (allow_zero) return PD_OK;
    return pd_err(&s->err, PD_E_INVALID, "%s: channel 0 is not a channel",
                  what);
  }
  if (channel_index(s, channel) == PD_ST_NAME_NONE)
    return pd_err(&s->err, PD_E_NOT_FOUND, "%s: channel %d does not exist",
                  what, (int)channel);
  return PD_OK;
}

pd_status pd_st_label_check(pd_store *s, int32_t kind, uint32_t id,
                            const char *what) {
  if (id == 0 || id <= s->labels[kind].n) return PD_OK;
  return pd_err(&s->err, PD_E_NOT_FOUND, "%s label %u does not exist", what,
                id);
}

pd_status pd_channel_register(pd_store *s, const char *name, size_t name_len,
                              int32_t kind, int32_t *out) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  st = pd_st_check_name(s, name, &name_len, "channel name");
  if (st) return pd_st_leave(s, st);
  if (kind != PD_CHANNEL_PUBLIC && kind != PD_CHANNEL_PRIVATE)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "channel kind %d is neither "
                                 "PD_CHANNEL_PUBLIC nor PD_CHANNEL_PRIVATE",
                                 (int)kind));
  uint32_t i = pd_st_names_find(&s->channel_names, name, name_len);
  if (i != PD_ST_NAME_NONE) {
    if (s->channel_kind[i] != kind)
      return pd_st_leave(s, pd_err(&s->err, PD_E_DUPLICATE,
                                   "channel \"%.*s\" exists with another "
                                   "kind",
                                   (int)name_len, name));
    *out = channel_id_of_index(i);
    return pd_st_leave(s, PD_REPLAYED);
  }
  if (s->channel_names.n >=
      (size_t)(PD_ST_CHANNEL_ID_MAX - PD_CHANNEL_CUSTOM_FIRST + 1) + BUILTINS)
    return pd_st_leave(s, pd_err(&s->err, PD_E_FULL,
                                 "at most %d custom channels",
                                 PD_ST_CHANNEL_ID_MAX -
                                     PD_CHANNEL_CUSTOM_FIRST + 1));
  char *copy = NULL;
  if (pd_grow(&s->alloc, (void **)&s->channel_kind, &s->channel_kind_cap,
              s->channel_names.n + 1, 1) != 0 ||
      pd_st_names_reserve(&s->channel_names, &s->alloc) != 0 ||
      (copy = pd_strndup(&s->alloc, name, name_len)) == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOMEM, "out of memory"));
  if ((st = pd_st_log(s, PD_MUT_CHANNEL_REGISTER,
                      &(pd_mut_name){kind, name, name_len})) != PD_OK) {
    pd_free(&s->alloc, copy);
    return pd_st_leave(s, st);
  }
  pd_st_names_add_copy(&s->channel_names, copy, name_len, &i);
  s->channel_kind[i] = (uint8_t)kind;
  *out = channel_id_of_index(i);
  return pd_st_leave(s, PD_OK);
}

pd_status pd_channel_find(pd_store *s, const char *name, size_t name_len,
                          int32_t *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  st = pd_st_check_name(s, name, &name_len, "channel name");
  if (st) return pd_st_leave(s, st);
  uint32_t i = pd_st_names_find(&s->channel_names, name, name_len);
  if (i == PD_ST_NAME_NONE)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "no channel is named \"%.*s\"",
                                 (int)name_len, name));
  *out = channel_id_of_index(i);
  return pd_st_leave(s, PD_OK);
}

pd_status pd_channel_info(pd_store *s, int32_t channel, const char **name,
                          int32_t *kind) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  uint32_t i = channel_index(s, channel);
  if (i == PD_ST_NAME_NONE)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "channel %d does not exist", (int)channel));
  if (name) *name = s->channel_names.str[i];
  if (kind) *kind = s->channel_kind[i];
  return pd_st_leave(s, PD_OK);
}

/* ---- labels --------------------------------------------------------------- */

static pd_status check_label_kind(pd_store *s, int32_t kind) {
  if (kind < PD_LABEL_SOURCE || kind > PD_LABEL_SHOP)
    return pd_err(&s->err, PD_E_INVALID, "label kind %d is not a PD_LABEL_*",
                  (int)kind);
  return PD_OK;
}

pd_status pd_label_ensure(pd_store *s, int32_t kind, const char *name,
                          size_t name_len, uint32_t *out) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if ((st = check_label_kind(s, kind)) != PD_OK ||
      (st = pd_st_check_name(s, name, &name_len, "label name")) != PD_OK)
    return pd_st_leave(s, st);
  pd_st_names *t = &s->labels[kind];
  uint32_t i = pd_st_names_find(t, name, name_len);
  if (i != PD_ST_NAME_NONE) {
    *out = i + 1;
    return pd_st_leave(s, PD_REPLAYED);
  }
  if (t->n >= UINT32_MAX - 2)
    return pd_st_leave(s, pd_err(&s->err, PD_E_FULL, "too many labels"));
  char *copy = NULL;
  if (pd_st_names_reserve(t, &s->alloc) != 0 ||
      (copy = pd_strndup(&s->alloc, name, name_len)) == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOMEM, "out of memory"));
  if ((st = pd_st_log(s, PD_MUT_LABEL_ENSURE,
                      &(pd_mut_name){kind, name, name_len})) != PD_OK) {
    pd_free(&s->alloc, copy);
    return pd_st_leave(s, st);
  }
  pd_st_names_add_copy(t, copy, name_len, &i);
  *out = i + 1;
  return pd_st_leave(s, PD_OK);
}

pd_status pd_label_find(pd_store *s, int32_t kind, const char *name,
                        size_t name_len, uint32_t *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if ((st = check_label_kind(s, kind)) != PD_OK ||
      (st = pd_st_check_name(s, name, &name_len, "label name")) != PD_OK)
    return pd_st_leave(s, st);
  uint32_t i = pd_st_names_find(&s->labels[kind], name, name_len);
  if (i == PD_ST_NAME_NONE)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "no label of this kind is named \"%.*s\"",
                                 (int)name_len, name));
  *out = i + 1;
  return pd_st_leave(s, PD_OK);
}

pd_status pd_label_name(pd_store *s, int32_t kind, uint32_t id,
                        const char **name, size_t *len) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (name == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "name is NULL"));
  if ((st = check_label_kind(s, kind)) != PD_OK) return pd_st_leave(s, st);
  const pd_st_names *t = &s->labels[kind];
  if (id == 0 || id > t->n)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "label %u does not exist", id));
  *name = t->str[id - 1];
  if (len) *len = t->len[id - 1];
  return pd_st_leave(s, PD_OK);
}
