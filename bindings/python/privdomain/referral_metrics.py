"""Referral and fission figures (转介绍, 裂变; referral_metrics.h): trees,
K-factor and revenue attributed to referrers (minor units)."""

import ctypes
import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint32, c_uint64, c_void_p

from . import _structs as S
from ._convert import seconds, size
from ._lib import fn
from .breakdown import record
from .metrics import filter_struct, pd_metrics_filter


@S.register("referral_metrics.h")
class pd_referral_stats(Structure):
    _fields_ = [("size", c_size_t), ("referrals", c_uint64),
                ("referrers", c_uint64), ("referees", c_uint64),
                ("trees", c_uint64), ("largest_tree", c_uint64),
                ("mean_tree_size", c_double), ("max_depth", c_uint32),
                ("window_referrals", c_uint64), ("base", c_uint64),
                ("k_factor", c_double), ("referee_revenue", c_int64)]


@S.register("referral_metrics.h")
class pd_referrer_row(Structure):
    _fields_ = [("size", c_size_t), ("user", c_uint64),
                ("referrals", c_uint64), ("descendants", c_uint64),
                ("depth", c_uint32), ("revenue", c_int64)]


_F = POINTER(pd_metrics_filter)
_stats = fn("pd_referral_stats_compute", c_int32, c_void_p, _F, c_int64,
            c_int64, POINTER(pd_referral_stats))
_top = fn("pd_referral_top", c_int32, c_void_p, _F, c_size_t,
          POINTER(pd_referrer_row), c_size_t, POINTER(c_size_t))


@dataclasses.dataclass(frozen=True)
class ReferralStats:
    referrals: int
    referrers: int
    referees: int
    trees: int
    largest_tree: int
    mean_tree_size: float
    max_depth: int
    window_referrals: int
    base: int
    k_factor: float
    referee_revenue: int


@dataclasses.dataclass(frozen=True)
class Referrer:
    user: int
    referrals: int
    descendants: int
    depth: int
    revenue: int


def referral_stats(store, filter, start, end):
    """ReferralStats as of the filter's as_of, with the K-factor over
    [start, end)."""
    f = filter_struct(store, filter)
    out = S.new(pd_referral_stats)
    store._check(_stats(store._handle(), byref(f), seconds(start, "start"),
                        seconds(end, "end"), byref(out)))
    return record(ReferralStats, out)


def referral_top(store, filter, k):
    """The `k` referrers with the most direct referrals, best first."""
    k = size(k, "k")
    rows = (pd_referrer_row * max(k, 1))()
    rows[0].size = ctypes.sizeof(pd_referrer_row)
    n = c_size_t()
    f = filter_struct(store, filter)
    store._check(_top(store._handle(), byref(f), k, rows, k, byref(n)))
    return [record(Referrer, rows[i]) for i in range(n.value)]
