#include "core/bytes.h"

#include "core/alloc.h"

struct pd_bytes {
  pd_allocator alloc; /* a copy: the block may outlive its maker */
  unsigned char *data;
  size_t size;
};

int pd_bytes_take(pd_obuf *b, pd_bytes **out) {
  if (b->failed) return -1;
  pd_bytes *r = pd_malloc(b->a, sizeof *r);
  if (!r) return -1;
  r->alloc = *b->a;
  r->data = b->p;
  r->size = b->len;
  b->p = NULL;
  b->len = b->cap = 0;
  *out = r;
  return 0;
}

const void *pd_bytes_data(const pd_bytes *b) { return b ? b->data : NULL; }

size_t pd_bytes_size(const pd_bytes *b) { return b ? b->size : 0; }

void pd_bytes_free(pd_bytes *b) {
  if (!b) return;
  pd_allocator a = b->alloc;
  pd_free(&a, b->data);
  pd_free(&a, b);
}
