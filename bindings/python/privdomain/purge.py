"""Retention limit (purge.h): purge old touchpoints, orders and refunds
(PIPL art. 19). See purge.h for what is purged and what is kept."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_int32, c_int64, c_size_t, \
    c_uint64, c_void_p

from . import _structs as S
from ._convert import seconds
from ._lib import fn


@S.register("purge.h")
class pd_purge_result(Structure):
    _fields_ = [("size", c_size_t), ("touchpoints", c_uint64),
                ("orders", c_uint64), ("refunds", c_uint64),
                ("events", c_uint64), ("revenue", c_int64)]


_purge = fn("pd_store_purge_before", c_int32, c_void_p, c_int64,
            POINTER(pd_purge_result))


@dataclasses.dataclass(frozen=True)
class PurgeResult:
    """What one purge removed; revenue in minor units."""
    touchpoints: int
    orders: int
    refunds: int
    events: int
    revenue: int


def purge_before(store, cutoff):
    """Purge the touchpoints, orders and refunds before `cutoff` (a time)
    and the refunds of purged orders. Returns a PurgeResult (all zeros when
    nothing was older than the cutoff)."""
    out = S.new(pd_purge_result)
    store._check(_purge(store._handle(), seconds(cutoff, "cutoff"),
                        byref(out)))
    return PurgeResult(out.touchpoints, out.orders, out.refunds, out.events,
                       out.revenue)
