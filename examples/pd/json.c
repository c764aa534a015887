#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void pd_json_init(pd_json_writer *w, FILE *out) {
  memset(w, 0, sizeof *w);
  w->out = out;
}

/* Separator before a value (or key) at the current depth. */
static void before_value(pd_json_writer *w) {
  if (w->after_key) {
    w->after_key = 0;
    return;
  }
  if (w->count[w->depth]++ > 0) fputs(", ", w->out);
}

static void open_container(pd_json_writer *w, char c) {
  before_value(w);
  fputc(c, w->out);
  if (w->depth + 1 < PD_JSON_MAX_DEPTH) w->depth++;
  w->count[w->depth] = 0;
}

static void close_container(pd_json_writer *w, char c) {
  fputc(c, w->out);
  if (w->depth > 0) w->depth--;
  if (w->depth == 0) fputc('\n', w->out);
}

void pd_json_begin_object(pd_json_writer *w) { open_container(w, '{'); }
void pd_json_end_object(pd_json_writer *w) { close_container(w, '}'); }
void pd_json_begin_array(pd_json_writer *w) { open_container(w, '['); }
void pd_json_end_array(pd_json_writer *w) { close_container(w, ']'); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  unsigned cp = c & (0x3F >> (len - 1));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

static void write_string(FILE *f, const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  fputc('"', f);
  for (size_t i = 0; i < len;) {
    unsigned c = s[i];
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc((int)c, f);
      i++;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default: fprintf(f, "\\u%04x", c);
      }
      i++;
    } else {
      size_t l = utf8_len(s + i, len - i);
      if (l == 0) {
        fputs("\\ufffd", f); /* not UTF-8: the replacement character */
        i++;
      } else {
        fwrite(s + i, 1, l, f);
        i += l;
      }
    }
  }
  fputc('"', f);
}

void pd_json_key(pd_json_writer *w, const char *key) {
  before_value(w);
  write_string(w->out, key, strlen(key));
  fputs(": ", w->out);
  w->after_key = 1;
}

void pd_json_string(pd_json_writer *w, const char *s, size_t len) {
  before_value(w);
  write_string(w->out, s, len);
}

void pd_json_format_number(double v, char *buf, size_t cap) {
  if (!isfinite(v)) {
    snprintf(buf, cap, "null");
    return;
  }
  /* Whole numbers (counts) print as integers, not 1e+03. */
  if (v == floor(v) && fabs(v) < 9007199254740992.0) {
    snprintf(buf, cap, "%.0f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

void pd_json_number(pd_json_writer *w, double v) {
  char buf[40];
  before_value(w);
  pd_json_format_number(v, buf, sizeof buf);
  fputs(buf, w->out);
}

void pd_json_int(pd_json_writer *w, int64_t v) {
  before_value(w);
  fprintf(w->out, "%lld", (long long)v);
}

void pd_json_bool(pd_json_writer *w, int v) {
  before_value(w);
  fputs(v ? "true" : "false", w->out);
}

void pd_json_null(pd_json_writer *w) {
  before_value(w);
  fputs("null", w->out);
}

void pd_json_member_uint(pd_json_writer *w, const char *key, uint64_t v) {
  pd_json_key(w, key);
  pd_json_int(w, (int64_t)v);
}

void pd_json_member_int(pd_json_writer *w, const char *key, int64_t v) {
  pd_json_key(w, key);
  pd_json_int(w, v);
}

void pd_json_member_string(pd_json_writer *w, const char *key, const char *v) {
  pd_json_key(w, key);
  pd_json_string(w, v, strlen(v));
}

void pd_json_member_number(pd_json_writer *w, const char *key, double v) {
  pd_json_key(w, key);
  pd_json_number(w, v);
}

/* ---- reader ---- */

typedef struct parser {
  const char *p, *end;
  size_t line;
  char *err;
  size_t err_cap;
  int depth;
} parser;

static int fail(parser *ps, const char *what) {
  if (!ps->err[0]) snprintf(ps->err, ps->err_cap, "line %zu: %s", ps->line, what);
  return -1;
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
    if (*ps->p == '\n') ps->line++;
    ps->p++;
  }
}

static void put_utf8(char *out, size_t *n, unsigned cp) {
  if (cp < 0x80) {
    out[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*n)++] = (char)(0xC0 | (cp >> 6));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xE0 | (cp >> 12));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    out[(*n)++] = (char)(0xF0 | (cp >> 18));
    out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static int hex4(parser *ps, unsigned *out) {
  unsigned v = 0;
  if (ps->end - ps->p < 4) return fail(ps, "bad \\u escape");
  for (int i = 0; i < 4; i++) {
    char c = *ps->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return fail(ps, "bad \\u escape");
  }
  *out = v;
  return 0;
}

static int parse_string(parser *ps, char **out) {
  ps->p++; /* opening quote */
  /* Unescaped text is never longer than the escaped text. */
  const char *q = ps->p;
  while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
  if (q >= ps->end) return fail(ps, "unterminated string");
  char *s = malloc((size_t)(q - ps->p) + 4);
  if (!s) return fail(ps, "out of memory");
  size_t n = 0;
  while (*ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p++;
    if (c < 0x20) {
      free(s);
      return fail(ps, "control character in string");
    }
    if (c != '\\') {
      s[n++] = (char)c;
      continue;
    }
    char e = *ps->p++;
    unsigned cp;
    switch (e) {
      case '"': s[n++] = '"'; break;
      case '\\': s[n++] = '\\'; break;
      case '/': s[n++] = '/'; break;
      case 'b': s[n++] = '\b'; break;
      case 'f': s[n++] = '\f'; break;
      case 'n': s[n++] = '\n'; break;
      case 'r': s[n++] = '\r'; break;
      case 't': s[n++] = '\t'; break;
      case 'u':
        if (hex4(ps, &cp)) {
          free(s);
          return -1;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* lone surrogates */
        put_utf8(s, &n, cp);
        break;
      default:
        free(s);
        return fail(ps, "bad escape in string");
    }
  }
  ps->p++;
  s[n] = '\0';
  *out = s;
  return 0;
}

static int parse_value(parser *ps, pd_json_value *v);

static int add_child(parser *ps, pd_json_value *v, size_t *cap,
                     pd_json_value **child) {
  if (v->n_children == *cap) {
    size_t ncap = *cap ? *cap * 2 : 4;
    pd_json_value *c = realloc(v->children, ncap * sizeof *c);
    if (!c) return fail(ps, "out of memory");
    v->children = c;
    *cap = ncap;
  }
  *child = &v->children[v->n_children++];
  memset(*child, 0, sizeof **child);
  return 0;
}

static int parse_container(parser *ps, pd_json_value *v, int object) {
  if (++ps->depth > 64) return fail(ps, "nested too deeply");
  v->type = object ? PD_JSON_OBJECT : PD_JSON_ARRAY;
  ps->p++;
  size_t cap = 0;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
    ps->p++;
    ps->depth--;
    return 0;
  }
  for (;;) {
    pd_json_value *c;
    if (add_child(ps, v, &cap, &c)) return -1;
    skip_ws(ps);
    if (object) {
      if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a key");
      if (parse_string(ps, &c->key)) return -1;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':'");
      ps->p++;
    }
    if (parse_value(ps, c)) return -1;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
      ps->p++;
      ps->depth--;
      return 0;
    }
    return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return fail(ps, "unexpected text");
  ps->p += n;
  return 0;
}

static int parse_value(parser *ps, pd_json_value *v) {
  skip_ws(ps);
  if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
  char c = *ps->p;
  if (c == '{') return parse_container(ps, v, 1);
  if (c == '[') return parse_container(ps, v, 0);
  if (c == '"') {
    v->type = PD_JSON_STRING;
    return parse_string(ps, &v->string);
  }
  if (c == 't') {
    v->type = PD_JSON_BOOL;
    v->number = 1;
    return literal(ps, "true");
  }
  if (c == 'f') {
    v->type = PD_JSON_BOOL;
    return literal(ps, "false");
  }
  if (c == 'n') {
    v->type = PD_JSON_NULL;
    return literal(ps, "null");
  }
  /* A number: copy the JSON number characters and let strtod read them
   * (the tool runs in the C locale). */
  char buf[64];
  size_t n = 0;
  while (ps->p < ps->end && n < sizeof buf - 1 &&
         strchr("+-0123456789.eE", *ps->p))
    buf[n++] = *ps->p++;
  buf[n] = '\0';
  char *end = NULL;
  double d = strtod(buf, &end);
  if (n == 0 || *end != '\0' || !isfinite(d)) return fail(ps, "bad number");
  v->type = PD_JSON_NUMBER;
  v->number = d;
  return 0;
}

static void free_children(pd_json_value *v) {
  for (size_t i = 0; i < v->n_children; i++) free_children(&v->children[i]);
  free(v->children);
  free(v->string);
  free(v->key);
}

void pd_json_free(pd_json_value *v) {
  if (!v) return;
  free_children(v);
  free(v);
}

pd_json_value *pd_json_parse(const char *text, size_t len, char *err,
                             size_t err_cap) {
  parser ps = {text, text + len, 1, err, err_cap, 0};
  err[0] = '\0';
  pd_json_value *v = calloc(1, sizeof *v);
  if (!v) {
    snprintf(err, err_cap, "out of memory");
    return NULL;
  }
  if (parse_value(&ps, v) == 0) {
    skip_ws(&ps);
    if (ps.p == ps.end) return v;
    fail(&ps, "text after the JSON value");
  }
  pd_json_free(v);
  return NULL;
}

const pd_json_value *pd_json_get(const pd_json_value *obj, const char *key) {
  if (!obj || obj->type != PD_JSON_OBJECT) return NULL;
  for (size_t i = 0; i < obj->n_children; i++)
    if (strcmp(obj->children[i].key, key) == 0) return &obj->children[i];
  return NULL;
}
