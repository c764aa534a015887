#include "core/envelope.h"

#include "core/crc32c.h"

static const unsigned char magic[4] = {'P', 'D', 'A', 'G'};

size_t pd_envelope_open(pd_obuf *b, uint16_t kind) {
  size_t start = b->len;
  pd_putbytes(b, magic, sizeof magic);
  pd_put16(b, PD_ENVELOPE_VERSION);
  pd_put16(b, kind);
  pd_put64(b, 0); /* payload length, known at close */
  return start;
}

void pd_envelope_close(pd_obuf *b, size_t start) {
  if (b->failed) return;
  uint64_t payload = b->len - start - PD_ENVELOPE_HEADER;
  pd_le64(b->p + start + 8, payload);
  uint32_t crc = pd_crc32c(0, b->p + start, b->len - start);
  pd_put32(b, crc);
}

pd_envelope_check pd_envelope_read(const void *data, size_t len, uint16_t kind,
                                   pd_ibuf *payload) {
  const unsigned char *p = data;
  if (!p || len < PD_ENVELOPE_HEADER + PD_ENVELOPE_TRAILER)
    return PD_ENVELOPE_TRUNCATED;
  for (size_t i = 0; i < sizeof magic; i++)
    if (p[i] != magic[i]) return PD_ENVELOPE_BAD_MAGIC;
  uint16_t version = (uint16_t)(p[4] | p[5] << 8);
  if (version > PD_ENVELOPE_VERSION || version == 0) return PD_ENVELOPE_NEWER;
  uint64_t n = pd_rd64(p + 8);
  size_t room = len - PD_ENVELOPE_HEADER - PD_ENVELOPE_TRAILER;
  if (n > room) return PD_ENVELOPE_TRUNCATED;
  if (n < room) return PD_ENVELOPE_TRAILING;
  size_t body = PD_ENVELOPE_HEADER + (size_t)n;
  if (pd_crc32c(0, p, body) != pd_rd32(p + body)) return PD_ENVELOPE_BAD_CRC;
  if ((uint16_t)(p[6] | p[7] << 8) != kind) return PD_ENVELOPE_WRONG_KIND;
  payload->p = p + PD_ENVELOPE_HEADER;
  payload->len = (size_t)n;
  payload->pos = 0;
  payload->bad = 0;
  return PD_ENVELOPE_OK;
}

const char *pd_envelope_check_text(pd_envelope_check c) {
  switch (c) {
    case PD_ENVELOPE_OK: return "ok";
    case PD_ENVELOPE_TRUNCATED: return "truncated (shorter than its header says)";
    case PD_ENVELOPE_BAD_MAGIC: return "not a serialised aggregate (bad magic)";
    case PD_ENVELOPE_NEWER: return "written by a newer format version";
    case PD_ENVELOPE_WRONG_KIND: return "an aggregate of another kind";
    case PD_ENVELOPE_BAD_CRC: return "damaged (checksum mismatch)";
    case PD_ENVELOPE_TRAILING: return "extra bytes after the aggregate";
  }
  return "unknown envelope error";
}
