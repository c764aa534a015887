/* A small streaming JSON writer (objects, arrays, strings, numbers that
 * round-trip, never NaN: non-finite numbers are written as null) and a
 * small reader for the JSON that pd itself prints (pd fit output read back
 * by pd predict). */
#ifndef PD_TOOL_JSON_H
#define PD_TOOL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PD_JSON_MAX_DEPTH 32

typedef struct pd_json_writer {
  FILE *out;
  int depth;
  int count[PD_JSON_MAX_DEPTH]; /* values written at each depth */
  int after_key;
} pd_json_writer;

void pd_json_init(pd_json_writer *w, FILE *out);
void pd_json_begin_object(pd_json_writer *w);
void pd_json_end_object(pd_json_writer *w);
void pd_json_begin_array(pd_json_writer *w);
void pd_json_end_array(pd_json_writer *w);
void pd_json_key(pd_json_writer *w, const char *key);
void pd_json_string(pd_json_writer *w, const char *s, size_t len);
void pd_json_number(pd_json_writer *w, double v);
void pd_json_int(pd_json_writer *w, int64_t v);
void pd_json_bool(pd_json_writer *w, int v);
void pd_json_null(pd_json_writer *w);
/* A key and its value in one call, for the long flat objects pd prints:
 * an unsigned or signed whole number, a NUL-terminated string, a double. */
void pd_json_member_uint(pd_json_writer *w, const char *key, uint64_t v);
void pd_json_member_int(pd_json_writer *w, const char *key, int64_t v);
void pd_json_member_string(pd_json_writer *w, const char *key, const char *v);
void pd_json_member_number(pd_json_writer *w, const char *key, double v);
/* Writes a number in its shortest form that reads back to the same
 * double, into buf (at least 32 bytes); "null" when not finite. */
void pd_json_format_number(double v, char *buf, size_t cap);

/* Parsed JSON values (reader). */
typedef enum pd_json_type {
  PD_JSON_NULL,
  PD_JSON_BOOL,
  PD_JSON_NUMBER,
  PD_JSON_STRING,
  PD_JSON_ARRAY,
  PD_JSON_OBJECT
} pd_json_type;

typedef struct pd_json_value pd_json_value;
struct pd_json_value {
  pd_json_type type;
  double number;   /* NUMBER, BOOL (0/1) */
  char *string;    /* STRING (NUL-terminated, unescaped); key of a member */
  char *key;       /* set on object members */
  pd_json_value *children; /* ARRAY items / OBJECT members */
  size_t n_children;
};

/* Parses text; returns a tree to free with pd_json_free, or NULL with a
 * message in err ("line N: ..."). */
pd_json_value *pd_json_parse(const char *text, size_t len, char *err,
                             size_t err_cap);
void pd_json_free(pd_json_value *v);
/* The member `key` of an object, or NULL. */
const pd_json_value *pd_json_get(const pd_json_value *obj, const char *key);

#endif
