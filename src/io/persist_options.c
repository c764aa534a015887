/* Options shared by snapshot loading, opening and checking. */
#include <stddef.h>
#include <string.h>

#include "core/parallel.h"
#include "persist_internal.h"

pd_status pd_persist_opts(const pd_persist_options *in,
                          pd_persist_options *out, pd_errbuf *err) {
  pd_persist_options o = PD_PERSIST_OPTIONS_INIT;
  *out = o;
  if (in == NULL) return PD_OK;
  /* Callers built against 0.1 pass the struct that ends at errmsg_cap;
   * the fields added since keep their defaults for them. */
  size_t v01 = offsetof(pd_persist_options, errmsg_cap) + sizeof(size_t);
  if (in->size < sizeof o && in->size != v01)
    return pd_err(err, PD_E_INVALID,
                  "options size %zu is smaller than %zu (use "
                  "PD_PERSIST_OPTIONS_INIT)",
                  in->size, sizeof o);
  if (in->size > sizeof o) {
    const unsigned char *extra = (const unsigned char *)in + sizeof o;
    for (size_t i = 0; i < in->size - sizeof o; i++)
      if (extra[i] != 0)
        return pd_err(err, PD_E_INVALID,
                      "options: fields unknown to this library version are "
                      "set");
  }
  memcpy(&o, in, in->size < sizeof o ? in->size : sizeof o);
  o.size = sizeof o;
  *out = o;
  if (o.threads < 0 || o.threads > PD_PARALLEL_MAX_THREADS)
    return pd_err(err, PD_E_INVALID, "threads %d is not 0..%d",
                  (int)o.threads, PD_PARALLEL_MAX_THREADS);
  if (o.sync < PD_SYNC_EVERY_EVENT || o.sync > PD_SYNC_NEVER)
    return pd_err(err, PD_E_INVALID, "sync %d is not a PD_SYNC_*",
                  (int)o.sync);
  if (o.sync == PD_SYNC_EVERY_N && o.sync_every_events == 0)
    return pd_err(err, PD_E_INVALID,
                  "PD_SYNC_EVERY_N needs sync_every_events >= 1");
  if (o.sync == PD_SYNC_INTERVAL && o.sync_every_ms == 0)
    return pd_err(err, PD_E_INVALID,
                  "PD_SYNC_INTERVAL needs sync_every_ms >= 1");
  if (o.currency_exponent < 0 || o.currency_exponent > 4)
    return pd_err(err, PD_E_INVALID, "currency_exponent %d is not 0-4",
                  (int)o.currency_exponent);
  if ((o.identity_key == NULL) != (o.identity_key_len == 0))
    return pd_err(err, PD_E_INVALID,
                  "identity_key and identity_key_len disagree");
  return PD_OK;
}

pd_status pd_persist_fail(const pd_persist_options *o, const pd_errbuf *err,
                          pd_status st) {
  if (st < 0 && o->errmsg != NULL && o->errmsg_cap > 0) {
    size_t n = strnlen(err->msg, sizeof err->msg);
    if (n >= o->errmsg_cap) n = o->errmsg_cap - 1;
    memcpy(o->errmsg, err->msg, n);
    o->errmsg[n] = '\0';
  }
  return st;
}
