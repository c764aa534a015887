"""Shopping guides' figures (导购; guide_metrics.h): load, attributed
revenue and commission, handovers (离职继承) and service. Money in minor
units."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint32, c_uint64, c_void_p

from . import _structs as S
from . import constants as K
from ._convert import int32, int64, uint32
from ._lib import fn
from .breakdown import compute_rows
from .metrics import filter_struct, pd_metrics_filter

GUIDE_ATTR_BOUND = 1
GUIDE_ATTR_ORDER = 2
ATTRIBUTIONS = {"bound": 1, "order": 2}


@S.register("guide_metrics.h")
class pd_guide_figures_options(Structure):
    _fields_ = [("size", c_size_t), ("service_radius", c_uint32),
                ("attribution", c_int32), ("default_commission_bp", c_int32),
                ("reply_same_guide", c_int32), ("reply_window", c_int64)]


@S.register("guide_metrics.h")
class pd_guide_figures_row(Structure):
    _fields_ = [("size", c_size_t), ("guide", c_uint32), ("shop", c_uint32),
                ("active", c_int32), ("over_radius", c_int32),
                ("users_bound", c_uint64), ("orders", c_uint64),
                ("revenue", c_int64), ("commission_bp", c_int32),
                ("commission", c_int64), ("inbound", c_uint64),
                ("replied", c_uint64), ("reply_rate", c_double),
                ("reply_median_seconds", c_double), ("unlinks", c_uint64),
                ("user_unlinks", c_uint64), ("handovers_in", c_uint32),
                ("handovers_out", c_uint32)]


@S.register("guide_metrics.h")
class pd_handover_row(Structure):
    _fields_ = [("size", c_size_t), ("time", c_int64),
                ("from_guide", c_uint32), ("to_guide", c_uint32),
                ("users_moved", c_uint64)]


_F = POINTER(pd_metrics_filter)
_set_commission = fn("pd_guide_set_commission", c_int32, c_void_p, c_uint32,
                     c_int32)
_get_commission = fn("pd_guide_get_commission", c_int32, c_void_p, c_uint32,
                     POINTER(c_int32))
_figures = fn("pd_guide_figures_compute", c_int32, c_void_p, _F,
              POINTER(pd_guide_figures_options), POINTER(c_void_p))
_figures_row = fn("pd_guide_figures_row_get", c_int32, c_void_p, c_size_t,
                  POINTER(pd_guide_figures_row))
_history = fn("pd_guide_handover_history", c_int32, c_void_p, _F,
              POINTER(c_void_p))
_handover_row = fn("pd_handover_row_get", c_int32, c_void_p, c_size_t,
                   POINTER(pd_handover_row))


@dataclasses.dataclass(frozen=True)
class GuideFigures:
    """One guide's figures (see guide_metrics.h)."""
    guide: int
    shop: int
    active: int
    over_radius: int
    users_bound: int
    orders: int
    revenue: int
    commission_bp: int
    commission: int
    inbound: int
    replied: int
    reply_rate: float
    reply_median_seconds: float
    unlinks: int
    user_unlinks: int
    handovers_in: int
    handovers_out: int


@dataclasses.dataclass(frozen=True)
class Handover:
    time: int
    from_guide: int
    to_guide: int
    users_moved: int


def set_commission(store, guide, basis_points):
    """Set a guide's commission rate in basis points (1000 = 10%), or None
    to go back to the figures' default."""
    bp = -1 if basis_points is None else int32(basis_points, "basis_points")
    store._check(_set_commission(store._handle(), uint32(guide, "guide"),
                                 bp))


def get_commission(store, guide):
    """A guide's commission rate in basis points, or None when unset."""
    out = c_int32()
    store._check(_get_commission(store._handle(), uint32(guide, "guide"),
                                 byref(out)))
    return None if out.value < 0 else out.value


def guide_figures(store, filter, service_radius=500, attribution="bound",
                  default_commission_bp=1000, reply_same_guide=False,
                  reply_window=86400):
    """One GuideFigures per guide (sorted by id). attribution "bound" (the
    guide bound at the order) or "order" (the guide named on it)."""
    o = S.new(pd_guide_figures_options,
              service_radius=uint32(service_radius, "service_radius"),
              attribution=K.lookup(attribution, ATTRIBUTIONS,
                                   "attribution"),
              default_commission_bp=int32(default_commission_bp,
                                          "default_commission_bp"),
              reply_same_guide=1 if reply_same_guide else 0,
              reply_window=int64(reply_window, "reply_window"))
    f = filter_struct(store, filter)
    return compute_rows(store, _figures, _figures_row, pd_guide_figures_row,
                        GuideFigures, byref(f), byref(o))


def handover_history(store, filter):
    """The handovers at or before the filter's as_of, in time order."""
    f = filter_struct(store, filter)
    return compute_rows(store, _history, _handover_row, pd_handover_row,
                        Handover, byref(f))
