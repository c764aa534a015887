/*
 * Specification of the pd tool's SVG writer (examples/pd/svg.c): every
 * chart is well-formed, labelled, escaped and deterministic, and input it
 * cannot draw is refused before anything is written.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svg.h"

/* Runs a writer into memory; returns its result, the text in *out. */
typedef int (*draw_fn)(FILE *f, const void *chart);

static int draw_line(FILE *f, const void *c) {
  return svg_write_line_chart(f, c);
}
static int draw_heat(FILE *f, const void *c) {
  return svg_write_heat_map(f, c);
}
static int draw_bars(FILE *f, const void *c) {
  return svg_write_bar_chart(f, c);
}
static int draw_hist(FILE *f, const void *c) {
  return svg_write_histogram(f, c);
}

static int render(draw_fn draw, const void *chart, char **out) {
  FILE *f = tmpfile();
  assert_non_null(f);
  int rc = draw(f, chart);
  long n = ftell(f);
  assert_true(n >= 0);
  rewind(f);
  *out = calloc((size_t)n + 1, 1);
  assert_non_null(*out);
  assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  return rc;
}

static size_t count(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static const double retained[4] = {100, 80, NAN, 50};
static const svg_series series[2] = {{"wecom & <co>", retained, 4},
                                     {"微信群 \"group\"", retained, 3}};
static const svg_line_chart line_chart = {
    "Retention 留存", "sub", "months", "linked (%)", series, 2, 0, 100, "%"};

static void text_is_escaped_for_xml_and_keeps_utf8(void **state) {
  (void)state;
  char *svg = NULL;
  assert_int_equal(render(draw_line, &line_chart, &svg), 0);
  assert_non_null(strstr(svg, "wecom &amp; &lt;co&gt;"));
  assert_non_null(strstr(svg, "微信群 &quot;group&quot;"));
  assert_null(strstr(svg, "<co>"));
  assert_non_null(strstr(svg, "<title>Retention 留存</title>"));
  free(svg);
}

static void bytes_xml_cannot_carry_become_replacement_characters(void **s) {
  (void)s;
  svg_bar bars[1] = {{"bad \x01 \xff byte", 3, NULL}};
  svg_bar_chart c = {"t", NULL, NULL, bars, 1};
  char *svg = NULL;
  assert_int_equal(render(draw_bars, &c, &svg), 0);
  assert_non_null(strstr(svg, "bad \xEF\xBF\xBD \xEF\xBF\xBD byte"));
  assert_null(strchr(svg, '\x01'));
  free(svg);
}

static void a_missing_value_breaks_the_line(void **state) {
  (void)state;
  char *svg = NULL;
  assert_int_equal(render(draw_line, &line_chart, &svg), 0);
  /* Series 1: points 0-1, gap, point 3 = two paths; series 2: one path. */
  assert_int_equal(count(svg, "<path "), 3);
  assert_int_equal(count(svg, "<circle "), 3 + 2);
  free(svg);
}

static void every_chart_has_a_title_axis_labels_and_a_legend(void **s) {
  (void)s;
  char *svg = NULL;
  assert_int_equal(render(draw_line, &line_chart, &svg), 0);
  assert_non_null(strstr(svg, ">months</text>"));
  assert_non_null(strstr(svg, ">linked (%)</text>"));
  assert_non_null(strstr(svg, ">100%</text>"));
  assert_non_null(strstr(svg, ">0%</text>"));
  assert_int_equal(count(svg, "<svg "), 1);
  assert_non_null(strstr(svg, "</svg>\n"));
  free(svg);

  const double v[6] = {1, 0.5, NAN, 0.9, 0.25, 0};
  const char *rows[2] = {"2025-01", "2025-02"};
  const char *cols[3] = {"0", "1", "2"};
  svg_heat_map hm = {"Cohorts", NULL, "months", "cohort", rows, 2,
                     cols, 3, v, 0, 1, 100, "%"};
  assert_int_equal(render(draw_heat, &hm, &svg), 0);
  assert_int_equal(count(svg, "stroke=\"#ffffff\""), 5); /* NAN: no cell */
  assert_non_null(strstr(svg, ">25%</text>"));
  assert_non_null(strstr(svg, "url(#scale)"));
  free(svg);

  const double counts[4] = {0, 1200, 3, 0};
  svg_histogram h = {"Trust", NULL, "score", "users", 0, 100, counts, 4};
  assert_int_equal(render(draw_hist, &h, &svg), 0);
  assert_non_null(strstr(svg, ">1,200</text>"));
  assert_non_null(strstr(svg, ">score</text>"));
  free(svg);
}

static void output_is_the_same_bytes_every_time(void **state) {
  (void)state;
  char *a = NULL, *b = NULL;
  assert_int_equal(render(draw_line, &line_chart, &a), 0);
  assert_int_equal(render(draw_line, &line_chart, &b), 0);
  assert_string_equal(a, b);
  assert_null(strstr(a, "-0\"")); /* no negative zero coordinates */
  free(a);
  free(b);
}

static void input_it_cannot_draw_is_refused_before_writing(void **s) {
  (void)s;
  char *svg = NULL;
  svg_line_chart bad = line_chart;
  bad.y_max = bad.y_min; /* empty range */
  assert_int_equal(render(draw_line, &bad, &svg), -1);
  assert_string_equal(svg, "");
  free(svg);
  bad = line_chart;
  bad.n_series = 0;
  assert_int_equal(render(draw_line, &bad, &svg), -1);
  free(svg);
  svg_bar bars[1] = {{"x", -1, NULL}};
  svg_bar_chart bc = {"t", NULL, NULL, bars, 1};
  assert_int_equal(render(draw_bars, &bc, &svg), -1);
  assert_string_equal(svg, "");
  free(svg);
  const double counts[1] = {NAN};
  svg_histogram h = {"t", NULL, NULL, NULL, 0, 1, counts, 1};
  assert_int_equal(render(draw_hist, &h, &svg), -1);
  assert_string_equal(svg, "");
  free(svg);
  assert_int_equal(svg_write_heat_map(NULL, NULL), -1);
}

static void nice_steps_are_one_two_or_five_times_a_power_of_ten(void **s) {
  (void)s;
  assert_true(svg_nice_step(100, 5) == 20);
  assert_true(svg_nice_step(1500, 5) == 500);
  assert_true(svg_nice_step(12, 12) == 1);
  assert_true(svg_nice_step(0.3, 3) == 0.1);
  assert_true(svg_nice_step(NAN, 5) == 1);
}

static void wide_characters_count_wider_than_latin_ones(void **state) {
  (void)state;
  double latin = svg_text_width("ab", 10), cjk = svg_text_width("留存", 10);
  assert_true(cjk > latin);
  assert_true(fabs(cjk - 20.0) < 1e-9);
  assert_true(svg_text_width(NULL, 10) == 0.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_is_escaped_for_xml_and_keeps_utf8),
      cmocka_unit_test(bytes_xml_cannot_carry_become_replacement_characters),
      cmocka_unit_test(a_missing_value_breaks_the_line),
      cmocka_unit_test(every_chart_has_a_title_axis_labels_and_a_legend),
      cmocka_unit_test(output_is_the_same_bytes_every_time),
      cmocka_unit_test(input_it_cannot_draw_is_refused_before_writing),
      cmocka_unit_test(nice_steps_are_one_two_or_five_times_a_power_of_ten),
      cmocka_unit_test(wide_characters_count_wider_than_latin_ones),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
