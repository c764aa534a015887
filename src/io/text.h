/* Numbers and dates in text, parsed without the C locale (strtod reads a
 * decimal comma in some locales; a POS host may have set one). */
#ifndef PD_IO_TEXT_H
#define PD_IO_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
int64_t pd_io_days_from_civil(int64_t y, int m, int d);

/* A decimal number: [sign] digits [. digits] [e [sign] digits], with at
 * least one digit. allow_sign / allow_exponent select the forms accepted.
 * Returns 0 and *out (finite), or -1. */
int pd_io_parse_number(const char *s, size_t len, int allow_sign,
                       int allow_exponent, double *out);

/* A calendar date YYYY-MM-DD or YYYYMMDD as days since the epoch (may be
 * negative). Returns 0, or -1 when malformed or no such day. */
int pd_io_parse_date_days(const char *s, size_t len, int64_t *days);

/* A transaction time (see PD_IMPORT_CSV in io.h): a date with an optional
 * UTC time of day, or Unix seconds. Returns 0 and *out, or -1. */
int pd_io_parse_time(const char *s, size_t len, int64_t *out);

/* Strips ASCII spaces and tabs from both ends of [*s, *s + *len). */
void pd_io_trim(const char **s, size_t *len);

#endif
