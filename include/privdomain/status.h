/*
 * libprivdomain — status codes.
 *
 * Every fallible function returns a pd_status. Zero is success, positive
 * values are successes that carry extra information, negative values are
 * errors. Codes are never renumbered; new codes are appended. The
 * human-readable message for the most recent error on a handle is kept on
 * that handle (e.g. pd_store_errmsg()).
 */
#ifndef PRIVDOMAIN_STATUS_H
#define PRIVDOMAIN_STATUS_H

#include <stdint.h>

#include "export.h"

PD_BEGIN_DECLS

/** Result of every fallible call. Passed across FFI as int32_t. */
typedef int32_t pd_status;

enum {
  /** Success. */
  PD_OK = 0,
  /**
   * Success, nothing changed: the event id was already recorded with the
   * same content (a retried call). Not an error; output parameters are set
   * as on PD_OK.
   */
  PD_REPLAYED = 1,

  /** An argument is invalid (NULL pointer, empty string, bad enum value). */
  PD_E_INVALID = -1,
  /** The user, identity, channel, guide, order … named does not exist. */
  PD_E_NOT_FOUND = -2,
  /** The id exists already with different content (an event id reused for
   *  another event, an order id used twice, a name registered twice). */
  PD_E_DUPLICATE = -3,
  /** An allocation failed. The handle is unchanged and still usable. */
  PD_E_NOMEM = -4,
  /** A file or callback read/write failed. */
  PD_E_IO = -5,
  /** Data being read is damaged (bad checksum, truncated, malformed). */
  PD_E_CORRUPT = -6,
  /** Data was written by an incompatible format or library version. */
  PD_E_VERSION = -7,
  /** A numerical computation failed (non-finite result, singular matrix). */
  PD_E_NUMERIC = -8,
  /** The handle is NULL, freed or not of the expected type (bad magic). */
  PD_E_MISUSE = -9,
  /** A value is outside its documented range (time before 1970 or after
   *  PD_TIME_MAX, a negative amount, a rate outside [0, 1], NaN). */
  PD_E_RANGE = -10,
  /** An integer result would overflow (e.g. a user's revenue). */
  PD_E_OVERFLOW = -11,
  /** The user was erased; no further events may refer to it. */
  PD_E_ERASED = -12,
  /** The request contradicts recorded state (a refund above what is left of
   *  the order, a referral cycle, an inactive guide). */
  PD_E_CONFLICT = -13,
  /** A text argument is not valid UTF-8 or is too long. */
  PD_E_UTF8 = -14,
  /** A model fit did not converge within its iteration limit. The output
   *  holds the last iterate and is marked as not converged. */
  PD_E_NO_CONVERGENCE = -15,
  /** A capacity limit of this library version was reached. */
  PD_E_FULL = -16
};

/**
 * pd_status_str - a short English description of a status code.
 *
 * Returns a static NUL-terminated string, never NULL ("unknown status" for
 * codes this version does not know). Thread safety: safe from any thread.
 */
PD_API const char *pd_status_str(pd_status status);

PD_END_DECLS

#endif /* PRIVDOMAIN_STATUS_H */
