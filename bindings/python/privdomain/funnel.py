"""The funnel 引流 → 成交 → 复购 → 转介绍 (funnel.h): reached → linked →
first purchase → repurchase → referral, by channel, source, guide, shop or
cohort. Money in minor units."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint64, c_void_p

from . import _structs as S
from . import constants as K
from ._convert import int64
from ._lib import fn
from .breakdown import BY, compute_rows
from .metrics import filter_struct, pd_metrics_filter


@S.register("funnel.h")
class pd_funnel_options(Structure):
    _fields_ = [("size", c_size_t), ("group_by", c_int32),
                ("conversion_window", c_int64), ("model_clv", c_double)]


@S.register("funnel.h")
class pd_funnel_row(Structure):
    _fields_ = [("size", c_size_t), ("key", c_int64)] + [
        (n, c_uint64) for n in ("reached", "linked", "converted", "repeat",
                                "referrers")] + [
        (n, c_double) for n in ("link_rate", "conversion_rate",
                                "repeat_rate", "referral_rate",
                                "days_to_first_purchase_median",
                                "days_to_first_purchase_mean")] + [
        ("revenue", c_int64), ("cost", c_int64), ("ltv", c_double),
        ("cac", c_double), ("ltv_cac", c_double)]


_compute = fn("pd_funnel_compute", c_int32, c_void_p,
              POINTER(pd_metrics_filter), POINTER(pd_funnel_options),
              POINTER(c_void_p))
_row_get = fn("pd_funnel_row_get", c_int32, c_void_p, c_size_t,
              POINTER(pd_funnel_row))


@dataclasses.dataclass(frozen=True)
class FunnelRow:
    """One group of the funnel (see funnel.h for every definition);
    ltv_cac is -1 when the group has no cost."""
    key: int
    reached: int
    linked: int
    converted: int
    repeat: int
    referrers: int
    link_rate: float
    conversion_rate: float
    repeat_rate: float
    referral_rate: float
    days_to_first_purchase_median: float
    days_to_first_purchase_mean: float
    revenue: int
    cost: int
    ltv: float
    cac: float
    ltv_cac: float


def funnel(store, filter, group_by="all", conversion_window=30 * 86400,
           model_clv=0.0):
    """The funnel rows of the users matching `filter` (a metrics.Filter or
    an as_of time), grouped by "all", "channel", "source", "guide", "shop",
    "cohort_day", "cohort_week" or "cohort_month"."""
    o = S.new(pd_funnel_options,
              group_by=K.lookup(group_by, BY, "group_by"),
              conversion_window=int64(conversion_window,
                                      "conversion_window"),
              model_clv=float(model_clv))
    f = filter_struct(store, filter)
    return compute_rows(store, _compute, _row_get, pd_funnel_row, FunnelRow,
                        byref(f), byref(o))
