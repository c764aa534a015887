"""Exceptions raised for the library's error statuses.

Every failing call raises a subclass of PrivDomainError that carries the
status code (``status``), its name (``status_name``, e.g. "PD_E_NOT_FOUND")
and the library's message for the failure (``message``). Positive statuses
are not errors: PD_REPLAYED comes back as a return value (see Store).
"""

import ctypes

from ._lib import fn

OK = 0
REPLAYED = 1

_status_str = fn("pd_status_str", ctypes.c_char_p, ctypes.c_int32)


class PrivDomainError(Exception):
    """A libprivdomain call failed. ``status`` is the pd_status code."""

    status = None
    status_name = "PD_E_UNKNOWN"

    def __init__(self, message, status=None):
        if status is not None:
            self.status = status
        self.message = message
        super().__init__(message)

    def __str__(self):
        return f"{self.message} [{self.status_name}]"


def _define(name, status, status_name, doc, *bases):
    cls = type(name, (PrivDomainError,) + bases,
               {"status": status, "status_name": status_name, "__doc__": doc})
    return cls


InvalidArgument = _define("InvalidArgument", -1, "PD_E_INVALID",
                          "An argument is invalid.", ValueError)
NotFound = _define("NotFound", -2, "PD_E_NOT_FOUND",
                   "What was named does not exist.", LookupError)
Duplicate = _define("Duplicate", -3, "PD_E_DUPLICATE",
                    "The id exists already with different content.")
OutOfMemory = _define("OutOfMemory", -4, "PD_E_NOMEM",
                      "An allocation failed.", MemoryError)
IOFailure = _define("IOFailure", -5, "PD_E_IO",
                    "A file read or write failed.", OSError)
Corrupt = _define("Corrupt", -6, "PD_E_CORRUPT",
                  "Data being read is damaged or malformed.", ValueError)
VersionMismatch = _define("VersionMismatch", -7, "PD_E_VERSION",
                          "Data from an incompatible version.")
NumericError = _define("NumericError", -8, "PD_E_NUMERIC",
                       "A numerical computation failed.", ArithmeticError)
Misuse = _define("Misuse", -9, "PD_E_MISUSE",
                 "The handle is closed or not of the expected type.")
OutOfRange = _define("OutOfRange", -10, "PD_E_RANGE",
                     "A value is outside its documented range.", ValueError)
Overflow = _define("Overflow", -11, "PD_E_OVERFLOW",
                   "An integer result would overflow.", OverflowError)
Erased = _define("Erased", -12, "PD_E_ERASED",
                 "The user was erased.")
Conflict = _define("Conflict", -13, "PD_E_CONFLICT",
                   "The request contradicts recorded state.")
InvalidUtf8 = _define("InvalidUtf8", -14, "PD_E_UTF8",
                      "A text argument is not valid UTF-8 or too long.",
                      ValueError)
NoConvergence = _define("NoConvergence", -15, "PD_E_NO_CONVERGENCE",
                        "A model fit did not converge; the fit holds the "
                        "last iterate.")
Full = _define("Full", -16, "PD_E_FULL",
               "A capacity limit of the library was reached.")

_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgument, NotFound, Duplicate, OutOfMemory, IOFailure, Corrupt,
    VersionMismatch, NumericError, Misuse, OutOfRange, Overflow, Erased,
    Conflict, InvalidUtf8, NoConvergence, Full)}


def status_str(status):
    """The library's short English description of a status code."""
    return _status_str(int(status)).decode("utf-8", "replace")


def error_for(status, message=None):
    """The exception for a negative status (not raised)."""
    cls = _BY_STATUS.get(status)
    if not message:
        message = status_str(status)
    if cls is None:
        return PrivDomainError(message, status)
    return cls(message)


def check(status, errmsg=None):
    """Return True for PD_OK, False for PD_REPLAYED; raise for an error.

    `errmsg` is a callable giving the handle's message for the failure."""
    if status >= 0:
        return status == OK
    message = errmsg() if errmsg is not None else None
    raise error_for(status, message)
