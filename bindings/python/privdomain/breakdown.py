"""How figures are broken down, and the rows they come in (breakdown.h).
Figures reported as pd_rows come back from the bindings as Python lists of
dataclasses (the C rows are copied out and released at once)."""

import ctypes
import dataclasses
from ctypes import POINTER, byref, c_int32, c_int64, c_size_t, c_void_p

from . import constants as K
from . import errors
from ._convert import seconds
from ._lib import fn

COHORT_DAY = 1
COHORT_WEEK = 2
COHORT_MONTH = 3
COHORT_UNITS = {"day": 1, "week": 2, "month": 3}

BY_ALL = 0
BY_CHANNEL = 1
BY_SOURCE = 2
BY_GUIDE = 3
BY_SHOP = 4
BY_COHORT_DAY = 5
BY_COHORT_WEEK = 6
BY_COHORT_MONTH = 7
BY = {"all": 0, "channel": 1, "source": 2, "guide": 3, "shop": 4,
      "cohort_day": 5, "cohort_week": 6, "cohort_month": 7}

_cohort_start = fn("pd_cohort_start", c_int32, c_int32, c_int64,
                   POINTER(c_int64))
_rows_count = fn("pd_rows_count", c_size_t, c_void_p)
_rows_free = fn("pd_rows_free", None, c_void_p)


def cohort_start(unit, t):
    """The start (epoch seconds) of the "day", "week" (ISO, Monday) or
    "month" containing time t, in UTC."""
    out = c_int64()
    errors.check(_cohort_start(K.lookup(unit, COHORT_UNITS, "cohort unit"),
                               seconds(t), byref(out)))
    return out.value


def record(dc, s):
    """The dataclass `dc` with each field taken from the struct `s`."""
    return dc(*(getattr(s, f.name) for f in dataclasses.fields(dc)))


def compute_rows(store, compute, row_get, row_cls, dc, *args):
    """Run a pd_*_compute(store, *args, &rows) and return its rows as a
    list of the dataclass `dc`."""
    rows = c_void_p()
    store._check(compute(store._handle(), *args, byref(rows)))
    return read_rows(rows, row_get, row_cls, lambda r: record(dc, r))


def read_rows(handle, row_get, row_cls, convert):
    """Copy every row of a pd_rows `handle` with `row_get` into a list of
    convert(struct), then free the handle."""
    try:
        out = []
        for i in range(_rows_count(handle)):
            row = row_cls(size=ctypes.sizeof(row_cls))
            errors.check(row_get(handle, i, byref(row)))
            out.append(convert(row))
        return out
    finally:
        _rows_free(handle)
