"""Segments (segments.h): RFM scores and named segments, and super users
(超级用户). Money in minor units."""

import ctypes
import dataclasses
from ctypes import POINTER, Structure, byref, c_char_p, c_double, c_int32, \
    c_int64, c_size_t, c_uint64, c_void_p

from . import _structs as S
from . import errors
from ._convert import int32, int64, size
from ._lib import fn
from .breakdown import read_rows, record
from .metrics import filter_struct, pd_metrics_filter

SEGMENT_CHAMPIONS = 1
SEGMENT_LOYAL = 2
SEGMENT_POTENTIAL_LOYALIST = 3
SEGMENT_NEW = 4
SEGMENT_PROMISING = 5
SEGMENT_NEED_ATTENTION = 6
SEGMENT_ABOUT_TO_SLEEP = 7
SEGMENT_AT_RISK = 8
SEGMENT_CANT_LOSE = 9
SEGMENT_HIBERNATING = 10
SEGMENT_LOST = 11
SEGMENT_LAST = 11


@S.register("segments.h")
class pd_rfm_row(Structure):
    _fields_ = [("size", c_size_t), ("user", c_uint64),
                ("recency_days", c_double), ("frequency", c_uint64),
                ("monetary", c_int64), ("r_score", c_int32),
                ("f_score", c_int32), ("m_score", c_int32),
                ("segment", c_int32)]


@S.register("segments.h")
class pd_segment_count(Structure):
    _fields_ = [("size", c_size_t), ("segment", c_int32),
                ("users", c_uint64), ("revenue", c_int64)]


@S.register("segments.h")
class pd_super_user_options(Structure):
    _fields_ = [("size", c_size_t), ("w_spend", c_double),
                ("w_frequency", c_double), ("w_referrals", c_double),
                ("w_engagement", c_double), ("min_score", c_double),
                ("engagement_window", c_int64)]


@S.register("segments.h")
class pd_super_user(Structure):
    _fields_ = [("size", c_size_t), ("user", c_uint64), ("score", c_double),
                ("spend", c_int64), ("orders", c_uint64),
                ("referrals", c_uint64), ("engagement", c_uint64)]


_F = POINTER(pd_metrics_filter)
_segment_name = fn("pd_segment_name", c_char_p, c_int32)
_from_scores = fn("pd_segment_from_scores", c_int32, c_int32, c_int32)
_rfm = fn("pd_rfm_compute", c_int32, c_void_p, _F, POINTER(c_void_p))
_rfm_row = fn("pd_rfm_row_get", c_int32, c_void_p, c_size_t,
              POINTER(pd_rfm_row))
_segment_count = fn("pd_rfm_segment_count", c_int32, c_void_p, c_int32,
                    POINTER(pd_segment_count))
_rows_free = fn("pd_rows_free", None, c_void_p)
_super = fn("pd_super_users", c_int32, c_void_p, _F,
            POINTER(pd_super_user_options), c_size_t,
            POINTER(pd_super_user), c_size_t, POINTER(c_size_t))


def segment_name(segment):
    """The segment's snake-case name ("champions", "cant_lose" …), or None
    for an unknown value."""
    name = _segment_name(int32(segment, "segment"))
    return name.decode() if name else None


SEGMENTS = {segment_name(i): i for i in range(1, SEGMENT_LAST + 1)}


def segment_from_scores(r_score, f_score):
    """The segment name of an (R, F) score pair, None outside 1–5."""
    return segment_name(_from_scores(int32(r_score, "r_score"),
                                     int32(f_score, "f_score"))) \
        if 1 <= r_score <= 5 and 1 <= f_score <= 5 else None


@dataclasses.dataclass(frozen=True)
class RfmRow:
    """One buyer's RFM; segment by name."""
    user: int
    recency_days: float
    frequency: int
    monetary: int
    r_score: int
    f_score: int
    m_score: int
    segment: str


@dataclasses.dataclass(frozen=True)
class SegmentCount:
    users: int
    revenue: int


@dataclasses.dataclass(frozen=True)
class SuperUser:
    user: int
    score: float
    spend: int
    orders: int
    referrals: int
    engagement: int


def _rfm_record(r):
    return RfmRow(r.user, r.recency_days, r.frequency, r.monetary, r.r_score,
                  r.f_score, r.m_score, segment_name(r.segment))


def rfm(store, filter):
    """(rows, counts): the RfmRow of every buyer matching `filter`, by user
    id, and a dict segment name -> SegmentCount over them."""
    f = filter_struct(store, filter)
    h = c_void_p()
    store._check(_rfm(store._handle(), byref(f), byref(h)))
    counts = {}
    try:
        for name, seg in SEGMENTS.items():
            c = S.new(pd_segment_count)
            errors.check(_segment_count(h, seg, byref(c)))
            counts[name] = SegmentCount(c.users, c.revenue)
    except BaseException:
        _rows_free(h)
        raise
    return read_rows(h, _rfm_row, pd_rfm_row, _rfm_record), counts


def super_users(store, filter, k, w_spend=0.4, w_frequency=0.2,
                w_referrals=0.2, w_engagement=0.2, min_score=0.0,
                engagement_window=90 * 86400):
    """The (at most) k highest-scoring super users, best first."""
    k = size(k, "k")
    o = S.new(pd_super_user_options, w_spend=float(w_spend),
              w_frequency=float(w_frequency),
              w_referrals=float(w_referrals),
              w_engagement=float(w_engagement), min_score=float(min_score),
              engagement_window=int64(engagement_window,
                                      "engagement_window"))
    rows = (pd_super_user * max(k, 1))()
    rows[0].size = ctypes.sizeof(pd_super_user)
    n = c_size_t()
    f = filter_struct(store, filter)
    store._check(_super(store._handle(), byref(f), byref(o), k, rows, k,
                        byref(n)))
    return [record(SuperUser, rows[i]) for i in range(n.value)]
