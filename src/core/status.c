#include <privdomain/status.h>

const char *pd_status_str(pd_status status) {
  switch (status) {
    case PD_OK: return "ok";
    case PD_REPLAYED: return "already recorded (replay ignored)";
    case PD_E_INVALID: return "invalid argument";
    case PD_E_NOT_FOUND: return "not found";
    case PD_E_DUPLICATE: return "id already used with different content";
    case PD_E_NOMEM: return "out of memory";
    case PD_E_IO: return "input/output error";
    case PD_E_CORRUPT: return "corrupt data";
    case PD_E_VERSION: return "unsupported format or version";
    case PD_E_NUMERIC: return "numerical failure";
    case PD_E_MISUSE: return "library misuse (bad or freed handle)";
    case PD_E_RANGE: return "value out of range";
    case PD_E_OVERFLOW: return "integer overflow";
    case PD_E_ERASED: return "user was erased";
    case PD_E_CONFLICT: return "conflicts with recorded state";
    case PD_E_UTF8: return "invalid UTF-8 or text too long";
    case PD_E_NO_CONVERGENCE: return "did not converge";
    case PD_E_FULL: return "capacity limit reached";
    default: return "unknown status";
  }
}
