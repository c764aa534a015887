"""Link retention (留存) and unlinks (删粉/取关/拉黑) measured on a store
(retention_metrics.h): cohort tables, Kaplan–Meier link survival, sBG on a
cohort's survivors, and the unlink rate."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint32, c_uint64, c_void_p

from . import _structs as S
from . import constants as K
from ._convert import new_doubles, seconds, size, uint32
from ._lib import fn
from .breakdown import COHORT_UNITS, read_rows
from .metrics import filter_struct, pd_metrics_filter
from .models import Fit, KaplanMeier

_P = c_void_p


@S.register("retention_metrics.h")
class pd_link_retention_options(Structure):
    _fields_ = [("size", c_size_t), ("cohort_unit", c_int32),
                ("periods", c_uint32), ("channel", c_int32)]


@S.register("retention_metrics.h")
class pd_link_retention_row(Structure):
    _fields_ = [("size", c_size_t), ("channel", c_int32),
                ("period", c_uint32), ("cohort_start", c_int64),
                ("cohort_size", c_uint64), ("observed", c_uint64),
                ("retained", c_uint64), ("rate", c_double)]


@S.register("retention_metrics.h")
class pd_unlink_rate(Structure):
    _fields_ = [("size", c_size_t), ("base", c_uint64),
                ("user_unlinks", c_uint64), ("staff_unlinks", c_uint64),
                ("user_unlinked_pairs", c_uint64),
                ("staff_unlinked_pairs", c_uint64), ("user_rate", c_double),
                ("staff_rate", c_double), ("rate", c_double)]


_F = POINTER(pd_metrics_filter)
_O = POINTER(pd_link_retention_options)
_compute = fn("pd_link_retention_compute", c_int32, _P, _F, _O,
              POINTER(_P))
_row_get = fn("pd_link_retention_row_get", c_int32, _P, c_size_t,
              POINTER(pd_link_retention_row))
_km = fn("pd_link_survival_km", c_int32, _P, _F, c_int32, _P)
_survivors = fn("pd_link_cohort_survivors", c_int32, _P, _F, _O, c_int64,
                c_int64, POINTER(c_double), c_size_t, POINTER(c_size_t))
_fit_sbg = fn("pd_link_retention_fit_sbg", c_int32, _P, _F, _O, c_int64,
              c_int64, _P)
_unlink_rate = fn("pd_unlink_rate_compute", c_int32, _P, _F, c_int32,
                  c_int64, c_int64, POINTER(pd_unlink_rate))


@dataclasses.dataclass(frozen=True)
class LinkRetentionRow:
    """One cell of the cohort table: (channel, cohort, period)."""
    channel: int
    period: int
    cohort_start: int
    cohort_size: int
    observed: int
    retained: int
    rate: float


@dataclasses.dataclass(frozen=True)
class UnlinkRate:
    """删粉率 over a window, user- and staff-initiated apart."""
    base: int
    user_unlinks: int
    staff_unlinks: int
    user_unlinked_pairs: int
    staff_unlinked_pairs: int
    user_rate: float
    staff_rate: float
    rate: float


def _options(store, cohort_unit, periods, channel):
    return S.new(pd_link_retention_options,
                 cohort_unit=K.lookup(cohort_unit, COHORT_UNITS,
                                      "cohort unit"),
                 periods=uint32(periods, "periods"),
                 channel=store._channel(channel))


def link_retention(store, filter, cohort_unit="month", periods=12,
                   channel=0):
    """The cohort table: a list of LinkRetentionRow sorted by (channel,
    cohort_start, period)."""
    f = filter_struct(store, filter)
    o = _options(store, cohort_unit, periods, channel)
    rows = _P()
    store._check(_compute(store._handle(), byref(f), byref(o), byref(rows)))
    return read_rows(rows, _row_get, pd_link_retention_row, lambda r:
                     LinkRetentionRow(*(getattr(r, f.name) for f in
                                        dataclasses.fields(
                                            LinkRetentionRow))))


def link_survival_km(store, filter, channel=0, km=None):
    """Kaplan–Meier link survival in days (first spell per user and
    channel; channel 0 = each user's acquisition channel). Returns the
    KaplanMeier (a new one unless `km` is given)."""
    km = KaplanMeier() if km is None else km
    f = filter_struct(store, filter)
    store._check(_km(store._handle(), byref(f), store._channel(channel),
                     km._handle()))
    return km


def link_cohort_survivors(store, filter, cohort_from, cohort_to,
                          cohort_unit="month", periods=12, channel=0):
    """One cohort's survivor curve (array.array('d'), survivors[0] = the
    cohort size), ready for Fit.estimate_sbg."""
    f = filter_struct(store, filter)
    o = _options(store, cohort_unit, periods, channel)
    cap = size(periods, "periods") + 1
    out, ptr = new_doubles(cap)
    n = c_size_t()
    store._check(_survivors(store._handle(), byref(f), byref(o),
                            seconds(cohort_from, "cohort_from"),
                            seconds(cohort_to, "cohort_to"), ptr, cap,
                            byref(n)))
    del ptr
    del out[n.value:]
    return out


def link_retention_fit_sbg(store, filter, cohort_from, cohort_to,
                           cohort_unit="month", periods=12, channel=0,
                           fit=None):
    """Fit sBG to one cohort's survivor curve; returns the Fit (a new one
    unless `fit` is given), ready for survival/project/derl."""
    fit = Fit() if fit is None else fit
    f = filter_struct(store, filter)
    o = _options(store, cohort_unit, periods, channel)
    store._check(_fit_sbg(store._handle(), byref(f), byref(o),
                          seconds(cohort_from, "cohort_from"),
                          seconds(cohort_to, "cohort_to"), fit._handle()))
    return fit


def unlink_rate(store, filter, start, end, channel=0):
    """UnlinkRate of links on `channel` (0 = every channel) in [start,
    end)."""
    f = filter_struct(store, filter)
    out = S.new(pd_unlink_rate)
    store._check(_unlink_rate(store._handle(), byref(f),
                              store._channel(channel),
                              seconds(start, "start"), seconds(end, "end"),
                              byref(out)))
    return UnlinkRate(*(getattr(out, f.name)
                        for f in dataclasses.fields(UnlinkRate)))
