/* Sorting of customer row keys (row_keys.h). */
#include "row_keys.h"

#include "core/parallel.h"

typedef pd_mx_row_key row_key;

static int less(const row_key *p, const row_key *q) {
  if (p->x != q->x) return p->x < q->x;
  if (p->t_x != q->t_x) return p->t_x < q->t_x;
  if (p->T != q->T) return p->T < q->T;
  return p->row < q->row;
}

static void swap(row_key *a, row_key *b) {
  row_key t = *a;
  *a = *b;
  *b = t;
}

/* Partitions k[0..n), n >= 3, around the median of k[0], k[n/2] and
 * k[n-1] (which also become the scans' sentinels): k[0..left) <= pivot
 * <= k[left..n). Returns left, 0 < left < n. */
static size_t partition(row_key *k, size_t n) {
  size_t mid = n / 2;
  if (less(&k[mid], &k[0])) swap(&k[mid], &k[0]);
  if (less(&k[n - 1], &k[0])) swap(&k[n - 1], &k[0]);
  if (less(&k[n - 1], &k[mid])) swap(&k[n - 1], &k[mid]);
  row_key pivot = k[mid];
  size_t i = 0, j = n - 1;
  for (;;) {
    while (less(&k[i], &pivot)) i++;
    while (less(&pivot, &k[j])) j--;
    if (i >= j) break;
    swap(&k[i], &k[j]);
    i++;
    j--;
  }
  return j + 1;
}

/* A quicksort with the comparison inlined (qsort's call per comparison
 * was a tenth of a prediction's time). Recursion only into the smaller
 * side keeps the stack at log2 n frames; the median of three keeps sorted
 * input fast. */
static void sort_serial(row_key *k, size_t n) {
  while (n > 16) {
    size_t left = partition(k, n), right = n - left;
    if (left < right) {
      sort_serial(k, left);
      k += left;
      n = right;
    } else {
      sort_serial(k + left, right);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    row_key v = k[i];
    size_t j = i;
    while (j > 0 && less(&v, &k[j - 1])) {
      k[j] = k[j - 1];
      j--;
    }
    k[j] = v;
  }
}

/* Index of the median of k[a], k[b], k[c]. */
static size_t median3(const row_key *k, size_t a, size_t b, size_t c) {
  if (less(&k[a], &k[b])) {
    if (less(&k[b], &k[c])) return b;
    return less(&k[a], &k[c]) ? c : a;
  }
  if (less(&k[a], &k[c])) return a;
  return less(&k[b], &k[c]) ? c : b;
}

enum { MAX_PIECES = 8, MIN_PIECE = 1 << 16 };

typedef struct piece {
  row_key *k;
  size_t n;
} piece;

/* Cuts k[0..n) into up to 2^depth pieces, each <= the next, in order.
 * A piece's pivot is the median of three medians of three spread over it
 * (partition() takes the median of the three medians put at its probe
 * places), so that the pieces, sorted one per thread, come out of similar
 * size. */
static void split(row_key *k, size_t n, int depth, piece *out, size_t *np) {
  if (depth == 0 || n < 2 * (size_t)MIN_PIECE) {
    out[(*np)++] = (piece){k, n};
    return;
  }
  size_t e = n / 9, mid = n / 2;
  size_t lo = median3(k, 0, e, 2 * e);
  size_t md = median3(k, mid - e, mid, mid + e);
  size_t hi = median3(k, n - 1 - 2 * e, n - 1 - e, n - 1);
  swap(&k[0], &k[lo]);
  swap(&k[mid], &k[md]);
  swap(&k[n - 1], &k[hi]);
  size_t left = partition(k, n);
  split(k, left, depth - 1, out, np);
  split(k + left, n - left, depth - 1, out, np);
}

static void sort_piece(void *p, size_t b) {
  const piece *v = p;
  sort_serial(v[b].k, v[b].n);
}

void pd_mx_row_key_sort(row_key *k, size_t n, int32_t threads) {
  if (threads <= 1 || n < 2 * (size_t)MIN_PIECE) {
    sort_serial(k, n);
    return;
  }
  int depth = threads > 4 ? 3 : threads > 2 ? 2 : 1;
  piece v[MAX_PIECES];
  size_t np = 0;
  split(k, n, depth, v, &np);
  pd_parallel_for(threads, np, sort_piece, v);
}
