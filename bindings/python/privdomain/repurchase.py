"""Repurchase (复购, repurchase.h): who buys again, how often, how much, and
whether the time between purchases shortens. Money in minor units."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint64, c_void_p

from . import _structs as S
from . import constants as K
from ._lib import fn
from .breakdown import BY, compute_rows
from .metrics import filter_struct, pd_metrics_filter


@S.register("repurchase.h")
class pd_repurchase_options(Structure):
    _fields_ = [("size", c_size_t), ("group_by", c_int32)]


@S.register("repurchase.h")
class pd_repurchase_row(Structure):
    _fields_ = [("size", c_size_t), ("key", c_int64), ("buyers", c_uint64),
                ("repeat_buyers", c_uint64), ("purchases", c_uint64),
                ("revenue", c_int64), ("repeat_revenue", c_int64),
                ("repurchase_rate", c_double), ("frequency", c_double),
                ("average_order_value", c_double), ("intervals", c_uint64),
                ("interval_median_days", c_double),
                ("interval_mean_days", c_double),
                ("trend_buyers", c_uint64), ("shortening_buyers", c_uint64),
                ("shortening_share", c_double),
                ("repeat_revenue_share", c_double)]


_compute = fn("pd_repurchase_compute", c_int32, c_void_p,
              POINTER(pd_metrics_filter), POINTER(pd_repurchase_options),
              POINTER(c_void_p))
_row_get = fn("pd_repurchase_row_get", c_int32, c_void_p, c_size_t,
              POINTER(pd_repurchase_row))


@dataclasses.dataclass(frozen=True)
class RepurchaseRow:
    """One group's repurchase figures (see repurchase.h)."""
    key: int
    buyers: int
    repeat_buyers: int
    purchases: int
    revenue: int
    repeat_revenue: int
    repurchase_rate: float
    frequency: float
    average_order_value: float
    intervals: int
    interval_median_days: float
    interval_mean_days: float
    trend_buyers: int
    shortening_buyers: int
    shortening_share: float
    repeat_revenue_share: float


def repurchase(store, filter, group_by="all"):
    """Repurchase rows of the buyers matching `filter`, one per group (see
    funnel.funnel for group_by)."""
    o = S.new(pd_repurchase_options,
              group_by=K.lookup(group_by, BY, "group_by"))
    f = filter_struct(store, filter)
    return compute_rows(store, _compute, _row_get, pd_repurchase_row,
                        RepurchaseRow, byref(f), byref(o))
