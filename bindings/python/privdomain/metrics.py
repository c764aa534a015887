"""What every metric has in common (metrics.h): the time it is computed for
and which users it covers. A Filter selects users, never single events."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_int32, c_int64, c_size_t, \
    c_uint32, c_uint64, c_void_p

from . import _structs as S
from ._convert import seconds, uint32, uint64
from ._lib import fn


@S.register("metrics.h")
class pd_metrics_filter(Structure):
    _fields_ = [("size", c_size_t), ("channel", c_int32),
                ("source", c_uint32), ("guide", c_uint32),
                ("shop", c_uint32), ("as_of", c_int64)]


@dataclasses.dataclass(frozen=True)
class Filter:
    """The users a figure covers and the time it is computed for: as_of
    (a time, required) and optional restrictions (0 = any): acquisition
    channel (id or name), acquisition source label, home guide, home shop
    label. See metrics.h for how a user is matched."""
    as_of: object
    channel: object = 0
    source: int = 0
    guide: int = 0
    shop: int = 0


def filter_struct(store, f):
    """The C filter for a Filter, or for a bare time (as_of only)."""
    if not isinstance(f, Filter):
        f = Filter(as_of=f)
    return S.new(pd_metrics_filter, as_of=seconds(f.as_of, "as_of"),
                 channel=store._channel(f.channel),
                 source=uint32(f.source, "source"),
                 guide=uint32(f.guide, "guide"), shop=uint32(f.shop, "shop"))


_match = fn("pd_metrics_filter_match", c_int32, c_void_p, c_uint64,
            POINTER(pd_metrics_filter), POINTER(c_int32))


def filter_match(store, user, f):
    """Whether `user` passes the Filter `f` (or a bare as_of time); an
    erased user does not pass."""
    out = c_int32()
    store._check(_match(store._handle(), uint64(user, "user"),
                        byref(filter_struct(store, f)), byref(out)))
    return bool(out.value)
