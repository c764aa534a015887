/*
 * A small SVG writer for the charts of `pd report`: a multi-series line
 * chart, a heat map, a horizontal bar (funnel) chart and a histogram.
 *
 * Each chart is a self-contained SVG 1.1 document with a <title>, a visible
 * title, labelled axes with ticks, and a legend where there is more than
 * one series or a colour scale. Text is UTF-8 (Chinese labels are fine) and
 * escaped for XML; bytes that XML cannot carry (invalid UTF-8, control
 * characters) become U+FFFD. Output is a pure function of the input: every
 * coordinate is printed with two decimals, so the same chart gives the
 * same bytes on every run and platform.
 *
 * The writers only write to the FILE they are given; the caller opens it
 * and checks ferror()/fclose(). They return 0, or -1 for input they cannot
 * draw (NULL pointers, no data, a range that is empty or not finite), in
 * which case nothing has been written.
 */
#ifndef PD_TOOL_SVG_H
#define PD_TOOL_SVG_H

#include <stddef.h>
#include <stdio.h>

/** One line of a line chart: y[i] is the value at x = i (periods since the
 *  start); NAN means "no value" and breaks the line there. */
typedef struct svg_series {
  const char *name;
  const double *y;
  size_t n;
} svg_series;

typedef struct svg_line_chart {
  const char *title;
  const char *subtitle; /* may be NULL */
  const char *x_label;
  const char *y_label;
  const svg_series *series;
  size_t n_series;
  double y_min, y_max;  /* the y axis range (values outside are clipped) */
  const char *y_suffix; /* appended to y tick labels ("%"), may be NULL */
} svg_line_chart;

/* Rows (e.g. cohorts) × columns (e.g. periods since joining); values[r *
 * cols + c], NAN = no cell. Colours run from light (v_min) to dark (v_max);
 * each cell shows its value × label_scale rounded, followed by
 * value_suffix, when it is wide enough. */
typedef struct svg_heat_map {
  const char *title;
  const char *subtitle;
  const char *x_label;
  const char *y_label;
  const char *const *row_labels;
  size_t rows;
  const char *const *col_labels;
  size_t cols;
  const double *values;
  double v_min, v_max;
  double label_scale;       /* 100 shows shares as percentages */
  const char *value_suffix; /* may be NULL */
} svg_heat_map;

/** One bar of a horizontal bar chart; note (may be NULL) is printed after
 *  the value, e.g. "41.2% of previous step". */
typedef struct svg_bar {
  const char *label;
  double value; /* >= 0 */
  const char *note;
} svg_bar;

typedef struct svg_bar_chart {
  const char *title;
  const char *subtitle;
  const char *x_label;
  const svg_bar *bars; /* drawn top to bottom */
  size_t n_bars;
} svg_bar_chart;

/* counts[i] falls in [x_min + i·w, x_min + (i+1)·w), w = (x_max −
 * x_min) / bins. */
typedef struct svg_histogram {
  const char *title;
  const char *subtitle;
  const char *x_label;
  const char *y_label;
  double x_min, x_max;
  const double *counts;
  size_t bins;
} svg_histogram;

int svg_write_line_chart(FILE *f, const svg_line_chart *c);
int svg_write_heat_map(FILE *f, const svg_heat_map *c);
int svg_write_bar_chart(FILE *f, const svg_bar_chart *c);
int svg_write_histogram(FILE *f, const svg_histogram *c);

/** The nice tick step (1, 2 or 5 × 10^k) that splits `span` (> 0) into at
 *  most `max_ticks` intervals. */
double svg_nice_step(double span, int max_ticks);

/** Approximate rendered width of UTF-8 `text` at font size `px` (wide for
 *  CJK, narrower for Latin), for layout. */
double svg_text_width(const char *text, double px);

#endif /* PD_TOOL_SVG_H */
