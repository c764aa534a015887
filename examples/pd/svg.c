#include "svg.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define FONT                                                                   \
  "DejaVu Sans, Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, "      \
  "PingFang SC, sans-serif"
#define INK "#222222"
#define MUTED "#666666"
#define GRID "#e3e3e3"
#define AXIS "#444444"

/* Colour-blind-friendly categorical palette (Okabe–Ito, then extras). */
static const char *const palette[] = {
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
    "#56B4E9", "#8C6D1F", "#000000", "#7F7F7F", "#F0E442"};
#define PALETTE_N (sizeof palette / sizeof palette[0])

/* ---- text ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0
 * when the bytes are not valid UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned c = s[0];
  size_t len;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF)
    len = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  uint32_t v = c & (0x3Fu >> (len - 1));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    v = (v << 6) | (s[i] & 0x3Fu);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return len;
}

/* Wide (CJK, full-width) characters take about one em; Latin about 0.6. */
static int is_wide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

double svg_text_width(const char *text, double px) {
  if (!text)
    return 0.0;
  const unsigned char *s = (const unsigned char *)text;
  size_t n = strlen(text);
  double em = 0.0;
  for (size_t i = 0; i < n;) {
    uint32_t cp = 0xFFFD;
    size_t len = utf8_decode(s + i, n - i, &cp);
    i += len ? len : 1;
    em += is_wide(cp)                             ? 1.0
          : (cp == ' ' || cp == '.' || cp == ',') ? 0.32
                                                  : 0.62;
  }
  return em * px;
}

/* Writes text escaped for XML character data and attribute values. */
static void put_escaped(FILE *f, const char *text) {
  if (!text)
    return;
  const unsigned char *s = (const unsigned char *)text;
  size_t n = strlen(text);
  for (size_t i = 0; i < n;) {
    uint32_t cp = 0;
    size_t len = utf8_decode(s + i, n - i, &cp);
    if (len == 0 || (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xFFFE ||
        cp == 0xFFFF) {
      fputs("\xEF\xBF\xBD", f); /* U+FFFD: XML cannot carry these */
      i += len ? len : 1;
      continue;
    }
    switch (cp) {
    case '&':
      fputs("&amp;", f);
      break;
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    case '\'':
      fputs("&apos;", f);
      break;
    default:
      fwrite(s + i, 1, len, f);
    }
    i += len;
  }
}

/* ---- numbers ---------------------------------------------------------- */

/* A coordinate with at most two decimals and no "-0". */
static const char *num(char buf[32], double v) {
  double r = round(v * 100.0) / 100.0;
  if (r == 0.0 || !isfinite(r))
    r = 0.0;
  snprintf(buf, 32, "%.2f", r);
  char *dot = strchr(buf, '.');
  if (dot) {
    char *end = buf + strlen(buf) - 1;
    while (end > dot && *end == '0')
      *end-- = '\0';
    if (end == dot)
      *end = '\0';
  }
  return buf;
}

double svg_nice_step(double span, int max_ticks) {
  if (!(span > 0.0) || !isfinite(span) || max_ticks < 1)
    return 1.0;
  double raw = span / max_ticks;
  double mag = pow(10.0, floor(log10(raw)));
  double steps[] = {1.0, 2.0, 5.0, 10.0};
  for (size_t i = 0; i < 4; i++)
    if (steps[i] * mag >= raw * (1.0 - 1e-9))
      return steps[i] * mag;
  return 10.0 * mag;
}

/* A tick label: whole numbers with thousands separators, else up to two
 * significant decimals, then the suffix. */
static void tick_label(char *buf, size_t cap, double v, const char *suffix) {
  double r = round(v * 100.0) / 100.0;
  if (r == 0.0)
    r = 0.0;
  if (fabs(r - round(r)) < 1e-9 && fabs(r) < 1e15) {
    char digits[32];
    long long iv = (long long)llround(r);
    unsigned long long mag =
        iv < 0 ? 0ull - (unsigned long long)iv : (unsigned long long)iv;
    int nd = snprintf(digits, sizeof digits, "%llu", mag);
    char grouped[48];
    size_t k = 0;
    if (iv < 0)
      grouped[k++] = '-';
    for (int i = 0; i < nd; i++) {
      if (i > 0 && (nd - i) % 3 == 0)
        grouped[k++] = ',';
      grouped[k++] = digits[i];
    }
    grouped[k] = '\0';
    snprintf(buf, cap, "%s%s", grouped, suffix ? suffix : "");
  } else {
    char n[32];
    snprintf(buf, cap, "%s%s", num(n, r), suffix ? suffix : "");
  }
}

/* ---- primitives ------------------------------------------------------- */

static void doc_begin(FILE *f, double w, double h, const char *title,
                      const char *subtitle) {
  char a[32], b[32];
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
          "width=\"%s\" height=\"%s\" viewBox=\"0 0 %s %s\" "
          "font-family=\"%s\" font-size=\"12\" fill=\"" INK "\">\n",
          num(a, w), num(b, h), a, b, FONT);
  fputs("<title>", f);
  put_escaped(f, title);
  fputs("</title>\n", f);
  if (subtitle) {
    fputs("<desc>", f);
    put_escaped(f, subtitle);
    fputs("</desc>\n", f);
  }
  fprintf(f,
          "<rect x=\"0\" y=\"0\" width=\"%s\" height=\"%s\" "
          "fill=\"#ffffff\"/>\n",
          a, b);
  fputs("<text x=\"24\" y=\"32\" font-size=\"18\" font-weight=\"bold\">", f);
  put_escaped(f, title);
  fputs("</text>\n", f);
  if (subtitle) {
    fputs("<text x=\"24\" y=\"52\" font-size=\"12\" fill=\"" MUTED "\">", f);
    put_escaped(f, subtitle);
    fputs("</text>\n", f);
  }
}

static void doc_end(FILE *f) { fputs("</svg>\n", f); }

/* anchor: "start", "middle" or "end"; rotate: degrees about (x, y). */
static void text_at(FILE *f, double x, double y, const char *anchor,
                    double size, const char *fill, double rotate,
                    const char *text) {
  char a[32], b[32], c[32];
  fprintf(f, "<text x=\"%s\" y=\"%s\" text-anchor=\"%s\" font-size=\"%s\"",
          num(a, x), num(b, y), anchor, num(c, size));
  if (fill)
    fprintf(f, " fill=\"%s\"", fill);
  if (rotate != 0.0) {
    char r[32];
    fprintf(f, " transform=\"rotate(%s %s %s)\"", num(r, rotate), a, b);
  }
  fputc('>', f);
  put_escaped(f, text);
  fputs("</text>\n", f);
}

static void line(FILE *f, double x1, double y1, double x2, double y2,
                 const char *stroke, double width) {
  char a[32], b[32], c[32], d[32], e[32];
  fprintf(f,
          "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
          "stroke-width=\"%s\"/>\n",
          num(a, x1), num(b, y1), num(c, x2), num(d, y2), stroke,
          num(e, width));
}

static void rect(FILE *f, double x, double y, double w, double h,
                 const char *fill) {
  char a[32], b[32], c[32], d[32];
  fprintf(f,
          "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n",
          num(a, x), num(b, y), num(c, w), num(d, h), fill);
}

/* Axis title below a horizontal axis and beside a vertical one. */
static void axis_titles(FILE *f, double left, double right, double top,
                        double bottom, const char *x_label, const char *y_label,
                        double x_gap) {
  if (x_label)
    text_at(f, (left + right) / 2, bottom + x_gap, "middle", 13, NULL, 0,
            x_label);
  if (y_label)
    text_at(f, 20, (top + bottom) / 2, "middle", 13, NULL, -90, y_label);
}

static int finite_range(double lo, double hi) {
  return isfinite(lo) && isfinite(hi) && hi > lo;
}

/* ---- line chart ------------------------------------------------------- */

int svg_write_line_chart(FILE *f, const svg_line_chart *c) {
  if (!f || !c || !c->title || !c->series || c->n_series == 0 ||
      !finite_range(c->y_min, c->y_max))
    return -1;
  size_t n_max = 0;
  double legend_w = 0.0;
  for (size_t s = 0; s < c->n_series; s++) {
    if (!c->series[s].y && c->series[s].n)
      return -1;
    if (c->series[s].n > n_max)
      n_max = c->series[s].n;
    double w = svg_text_width(c->series[s].name, 12);
    if (w > legend_w)
      legend_w = w;
  }
  if (n_max == 0)
    return -1;
  const double W = 860, H = 500;
  legend_w = (legend_w > 300 ? 300 : legend_w) + 44;
  const double left = 80, right = W - legend_w - 24, top = 76, bottom = H - 64;
  const double y_span = c->y_max - c->y_min;
  const double x_span = n_max > 1 ? (double)(n_max - 1) : 1.0;
#define LX(i) (left + (right - left) * (double)(i) / x_span)
#define LY(v) (bottom - (bottom - top) * ((v)-c->y_min) / y_span)

  doc_begin(f, W, H, c->title, c->subtitle);
  char label[64];
  double ystep = svg_nice_step(y_span, 5);
  for (double v = ceil(c->y_min / ystep) * ystep; v <= c->y_max + 1e-9;
       v += ystep) {
    line(f, left, LY(v), right, LY(v), GRID, 1);
    tick_label(label, sizeof label, v, c->y_suffix);
    text_at(f, left - 8, LY(v) + 4, "end", 11, MUTED, 0, label);
  }
  double xstep = svg_nice_step(x_span, 12);
  if (xstep < 1.0)
    xstep = 1.0;
  for (double i = 0; i <= x_span + 1e-9; i += xstep) {
    line(f, LX(i), bottom, LX(i), bottom + 5, AXIS, 1);
    tick_label(label, sizeof label, i, NULL);
    text_at(f, LX(i), bottom + 19, "middle", 11, MUTED, 0, label);
  }
  line(f, left, bottom, right, bottom, AXIS, 1);
  line(f, left, top, left, bottom, AXIS, 1);
  axis_titles(f, left, right, top, bottom, c->x_label, c->y_label, 44);

  for (size_t s = 0; s < c->n_series; s++) {
    const svg_series *sr = &c->series[s];
    const char *colour = palette[s % PALETTE_N];
    fprintf(f, "<g stroke=\"%s\" fill=\"%s\">\n", colour, colour);
    fputs("<title>", f);
    put_escaped(f, sr->name);
    fputs("</title>\n", f);
    int pen = 0;
    char a[32], b[32];
    for (size_t i = 0; i < sr->n; i++) {
      double v = sr->y[i];
      if (!isfinite(v)) {
        if (pen)
          fputs("\" fill=\"none\" stroke-width=\"2.5\"/>\n", f);
        pen = 0;
        continue;
      }
      v = v < c->y_min ? c->y_min : v > c->y_max ? c->y_max : v;
      fprintf(f, pen ? " L%s %s" : "<path d=\"M%s %s", num(a, LX(i)),
              num(b, LY(v)));
      pen = 1;
    }
    if (pen)
      fputs("\" fill=\"none\" stroke-width=\"2.5\"/>\n", f);
    for (size_t i = 0; i < sr->n && sr->n <= 40; i++) {
      double v = sr->y[i];
      if (!isfinite(v))
        continue;
      v = v < c->y_min ? c->y_min : v > c->y_max ? c->y_max : v;
      fprintf(f, "<circle cx=\"%s\" cy=\"%s\" r=\"3\" stroke=\"none\"/>\n",
              num(a, LX(i)), num(b, LY(v)));
    }
    fputs("</g>\n", f);
    double row = (bottom - top) / (double)c->n_series;
    double ly = top + 8 + (row < 22.0 ? row : 22.0) * (double)s;
    line(f, right + 24, ly, right + 48, ly, colour, 3);
    text_at(f, right + 54, ly + 4, "start", 12, NULL, 0, sr->name);
  }
#undef LX
#undef LY
  doc_end(f);
  return 0;
}

/* ---- heat map --------------------------------------------------------- */

/* Sequential blue scale, light (t = 0) to dark (t = 1). */
static void scale_colour(double t, char out[8]) {
  static const double stops[3][3] = {
      {247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  int k = t < 0.5 ? 0 : 1;
  double u = (t - 0.5 * k) * 2.0;
  int rgb[3];
  for (int i = 0; i < 3; i++)
    rgb[i] = (int)lround(stops[k][i] + (stops[k + 1][i] - stops[k][i]) * u);
  snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

int svg_write_heat_map(FILE *f, const svg_heat_map *c) {
  if (!f || !c || !c->title || !c->values || !c->row_labels || !c->col_labels ||
      c->rows == 0 || c->cols == 0 || !finite_range(c->v_min, c->v_max))
    return -1;
  double row_w = 0.0;
  for (size_t r = 0; r < c->rows; r++) {
    double w = svg_text_width(c->row_labels[r], 11);
    if (w > row_w)
      row_w = w;
  }
  const double left = 52 + row_w, top = 76, cell_h = 24;
  double cell_w = (640.0 - row_w) / (double)c->cols;
  cell_w = cell_w < 14 ? 14 : cell_w > 64 ? 64 : cell_w;
  const double grid_w = cell_w * (double)c->cols;
  const double grid_h = cell_h * (double)c->rows;
  const double W = left + grid_w + 130, H = top + grid_h + 76;
  const double scale = c->label_scale > 0 ? c->label_scale : 1.0;
  char label[64], colour[8], a[32], b[32], cw[32], ch[32];

  doc_begin(f, W, H, c->title, c->subtitle);
  fputs("<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" "
        "y2=\"0\">",
        f);
  for (int i = 0; i <= 10; i++) {
    scale_colour(i / 10.0, colour);
    fprintf(f, "<stop offset=\"%s\" stop-color=\"%s\"/>", num(a, i / 10.0),
            colour);
  }
  fputs("</linearGradient></defs>\n", f);

  for (size_t r = 0; r < c->rows; r++) {
    double y = top + cell_h * (double)r;
    text_at(f, left - 8, y + cell_h / 2 + 4, "end", 11, NULL, 0,
            c->row_labels[r]);
    for (size_t k = 0; k < c->cols; k++) {
      double v = c->values[r * c->cols + k];
      double x = left + cell_w * (double)k;
      if (!isfinite(v))
        continue;
      double t = (v - c->v_min) / (c->v_max - c->v_min);
      scale_colour(t, colour);
      fprintf(f,
              "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" "
              "fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
              num(a, x), num(b, y), num(cw, cell_w), num(ch, cell_h), colour);
      if (cell_w >= 30) {
        tick_label(label, sizeof label, round(v * scale), c->value_suffix);
        text_at(f, x + cell_w / 2, y + cell_h / 2 + 4, "middle", 10,
                t > 0.55 ? "#ffffff" : INK, 0, label);
      }
    }
  }
  size_t every = (size_t)ceil(36.0 / cell_w);
  for (size_t k = 0; k < c->cols; k += every)
    text_at(f, left + cell_w * ((double)k + 0.5), top + grid_h + 18, "middle",
            11, MUTED, 0, c->col_labels[k]);
  if (c->x_label)
    text_at(f, left + grid_w / 2, top + grid_h + 46, "middle", 13, NULL, 0,
            c->x_label);
  if (c->y_label)
    text_at(f, 20, top + grid_h / 2, "middle", 13, NULL, -90, c->y_label);

  /* Colour legend: a vertical gradient bar with five labelled ticks. */
  const double lx = left + grid_w + 28, lh = grid_h < 160 ? grid_h : 160;
  fprintf(f,
          "<rect x=\"%s\" y=\"%s\" width=\"16\" height=\"%s\" "
          "fill=\"url(#scale)\" stroke=\"" AXIS "\" stroke-width=\"0.5\"/>\n",
          num(a, lx), num(b, top), num(label, lh));
  for (int i = 0; i <= 4; i++) {
    double v = c->v_min + (c->v_max - c->v_min) * i / 4.0;
    double y = top + lh - lh * i / 4.0;
    line(f, lx + 16, y, lx + 20, y, AXIS, 1);
    tick_label(label, sizeof label, v * scale, c->value_suffix);
    text_at(f, lx + 24, y + 4, "start", 11, MUTED, 0, label);
  }
  doc_end(f);
  return 0;
}

/* ---- horizontal bars -------------------------------------------------- */

int svg_write_bar_chart(FILE *f, const svg_bar_chart *c) {
  if (!f || !c || !c->title || !c->bars || c->n_bars == 0)
    return -1;
  double label_w = 0.0, note_w = 0.0, v_max = 0.0;
  char label[96];
  for (size_t i = 0; i < c->n_bars; i++) {
    const svg_bar *b = &c->bars[i];
    if (!isfinite(b->value) || b->value < 0)
      return -1;
    double w = svg_text_width(b->label, 13);
    if (w > label_w)
      label_w = w;
    tick_label(label, sizeof label, b->value, NULL);
    w = svg_text_width(label, 12) + svg_text_width(b->note, 11) + 16;
    if (w > note_w)
      note_w = w;
    if (b->value > v_max)
      v_max = b->value;
  }
  if (v_max <= 0)
    v_max = 1;
  const double left = 36 + label_w, bar_len = 460, top = 76, bar_h = 30,
               gap = 14;
  const double bottom = top + (bar_h + gap) * (double)c->n_bars;
  const double W = left + bar_len + note_w + 36, H = bottom + 62;
  double step = svg_nice_step(v_max, 5);
  double axis_max = ceil(v_max / step) * step;
#define BX(v) (left + bar_len * (v) / axis_max)

  doc_begin(f, W, H, c->title, c->subtitle);
  for (double v = 0; v <= axis_max + 1e-9; v += step) {
    line(f, BX(v), top - 4, BX(v), bottom, GRID, 1);
    tick_label(label, sizeof label, v, NULL);
    text_at(f, BX(v), bottom + 18, "middle", 11, MUTED, 0, label);
  }
  line(f, left, top - 4, left, bottom, AXIS, 1);
  if (c->x_label)
    text_at(f, left + bar_len / 2, bottom + 44, "middle", 13, NULL, 0,
            c->x_label);
  for (size_t i = 0; i < c->n_bars; i++) {
    const svg_bar *b = &c->bars[i];
    double y = top + (bar_h + gap) * (double)i;
    text_at(f, left - 10, y + bar_h / 2 + 5, "end", 13, NULL, 0, b->label);
    rect(f, left, y, BX(b->value) - left, bar_h, palette[0]);
    tick_label(label, sizeof label, b->value, NULL);
    double vx = BX(b->value) + 8;
    text_at(f, vx, y + bar_h / 2 + 5, "start", 12, NULL, 0, label);
    if (b->note)
      text_at(f, vx + svg_text_width(label, 12) + 10, y + bar_h / 2 + 5,
              "start", 11, MUTED, 0, b->note);
  }
#undef BX
  doc_end(f);
  return 0;
}

/* ---- histogram -------------------------------------------------------- */

int svg_write_histogram(FILE *f, const svg_histogram *c) {
  if (!f || !c || !c->title || !c->counts || c->bins == 0 ||
      !finite_range(c->x_min, c->x_max))
    return -1;
  double c_max = 0.0;
  for (size_t i = 0; i < c->bins; i++) {
    if (!isfinite(c->counts[i]) || c->counts[i] < 0)
      return -1;
    if (c->counts[i] > c_max)
      c_max = c->counts[i];
  }
  if (c_max <= 0)
    c_max = 1;
  const double W = 820, H = 460, left = 84, right = W - 30, top = 76,
               bottom = H - 64;
  double ystep = svg_nice_step(c_max, 5);
  if (ystep < 1)
    ystep = 1;
  /* Headroom above the tallest bar for its count label. */
  double y_top = ceil(c_max * 1.08 / ystep) * ystep;
  const double span = c->x_max - c->x_min;
#define HX(v) (left + (right - left) * ((v)-c->x_min) / span)
#define HY(v) (bottom - (bottom - top) * (v) / y_top)
  char label[64];

  doc_begin(f, W, H, c->title, c->subtitle);
  for (double v = 0; v <= y_top + 1e-9; v += ystep) {
    line(f, left, HY(v), right, HY(v), GRID, 1);
    tick_label(label, sizeof label, v, NULL);
    text_at(f, left - 8, HY(v) + 4, "end", 11, MUTED, 0, label);
  }
  double bw = span / (double)c->bins;
  for (size_t i = 0; i < c->bins; i++) {
    double x0 = HX(c->x_min + bw * (double)i),
           x1 = HX(c->x_min + bw * (double)(i + 1));
    if (c->counts[i] > 0)
      rect(f, x0 + 0.5, HY(c->counts[i]), x1 - x0 - 1,
           bottom - HY(c->counts[i]), palette[0]);
    if (x1 - x0 >= 24) {
      tick_label(label, sizeof label, c->counts[i], NULL);
      text_at(f, (x0 + x1) / 2, HY(c->counts[i]) - 5, "middle", 10, INK, 0,
              label);
    }
  }
  double xstep = svg_nice_step(span, 10);
  for (double v = ceil(c->x_min / xstep) * xstep; v <= c->x_max + 1e-9;
       v += xstep) {
    line(f, HX(v), bottom, HX(v), bottom + 5, AXIS, 1);
    tick_label(label, sizeof label, v, NULL);
    text_at(f, HX(v), bottom + 19, "middle", 11, MUTED, 0, label);
  }
  line(f, left, bottom, right, bottom, AXIS, 1);
  line(f, left, top, left, bottom, AXIS, 1);
  axis_titles(f, left, right, top, bottom, c->x_label, c->y_label, 44);
#undef HX
#undef HY
  doc_end(f);
  return 0;
}
