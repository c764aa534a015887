"""Marketing pressure and contact caps (pressure.h): how often users are
pushed promotions, and whether one more push would break the brand's cap."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint32, c_uint64, c_void_p
from typing import Optional

from . import _structs as S
from . import constants as K
from ._convert import int64, optional_time, seconds, uint32, uint64
from ._lib import fn
from .metrics import filter_struct, pd_metrics_filter

CONTACT_ALLOWED = 0
CONTACT_DAILY_CAP = 1
CONTACT_WEEKLY_CAP = 2
CONTACT_CHANNEL_CAP = 3
CONTACT_OPTED_OUT = 4
CONTACT_UNLINKED = 5
CONTACT_ERASED = 6
REASONS = {0: "allowed", 1: "daily_cap", 2: "weekly_cap", 3: "channel_cap",
           4: "opted_out", 5: "unlinked", 6: "erased"}


@S.register("pressure.h")
class pd_contact_policy(Structure):
    _fields_ = [("size", c_size_t), ("per_day", c_uint32),
                ("per_week", c_uint32), ("per_channel_day", c_uint32),
                ("per_channel_week", c_uint32),
                ("count_post_exposures", c_int32)]


@S.register("pressure.h")
class pd_contact_verdict(Structure):
    _fields_ = [("size", c_size_t), ("allowed", c_int32),
                ("reason", c_int32), ("pushes_day", c_uint32),
                ("pushes_week", c_uint32), ("pushes_channel_day", c_uint32),
                ("pushes_channel_week", c_uint32), ("earliest", c_int64)]


@S.register("pressure.h")
class pd_pressure_stats(Structure):
    _fields_ = [("size", c_size_t), ("users", c_uint64),
                ("pushes", c_uint64), ("mean", c_double), ("p50", c_double),
                ("p90", c_double), ("max", c_uint32),
                ("over_cap_pushes", c_uint64), ("users_over_cap", c_uint64)]


_check = fn("pd_contact_check", c_int32, c_void_p, c_uint64, c_int32,
            c_int32, c_int64, POINTER(pd_contact_policy),
            POINTER(pd_contact_verdict))
_stats = fn("pd_pressure_stats_get", c_int32, c_void_p,
            POINTER(pd_metrics_filter), c_int64, POINTER(pd_contact_policy),
            POINTER(pd_pressure_stats))


@dataclasses.dataclass(frozen=True)
class ContactPolicy:
    """Caps on promotional pushes per user (0 = no cap); the defaults are
    the library's (1 a day, 2 a week)."""
    per_day: int = 1
    per_week: int = 2
    per_channel_day: int = 0
    per_channel_week: int = 0
    count_post_exposures: bool = False

    def _struct(self):
        return S.new(pd_contact_policy,
                     per_day=uint32(self.per_day, "per_day"),
                     per_week=uint32(self.per_week, "per_week"),
                     per_channel_day=uint32(self.per_channel_day,
                                            "per_channel_day"),
                     per_channel_week=uint32(self.per_channel_week,
                                             "per_channel_week"),
                     count_post_exposures=1 if self.count_post_exposures
                     else 0)


@dataclasses.dataclass(frozen=True)
class ContactVerdict:
    """pd_contact_verdict; reason by name ("allowed", "daily_cap",
    "weekly_cap", "channel_cap", "opted_out", "unlinked", "erased");
    earliest None when no waiting helps."""
    allowed: bool
    reason: str
    pushes_day: int
    pushes_week: int
    pushes_channel_day: int
    pushes_channel_week: int
    earliest: Optional[int]

    def __bool__(self):
        return self.allowed


@dataclasses.dataclass(frozen=True)
class PressureStats:
    users: int
    pushes: int
    mean: float
    p50: float
    p90: float
    max: int
    over_cap_pushes: int
    users_over_cap: int


def _policy(policy):
    return None if policy is None else byref(policy._struct())


def contact_check(store, user, channel, purpose, at, policy=None):
    """Whether a touch with `purpose` ("service", "content", "promotion")
    may be sent to `user` on `channel` at time `at` (ContactVerdict, truthy
    when allowed)."""
    out = S.new(pd_contact_verdict)
    store._check(_check(store._handle(), uint64(user, "user"),
                        store._channel(channel),
                        K.lookup(purpose, K.PURPOSES, "purpose"),
                        seconds(at, "at"), _policy(policy), byref(out)))
    return ContactVerdict(bool(out.allowed),
                          REASONS.get(out.reason, str(out.reason)),
                          out.pushes_day, out.pushes_week,
                          out.pushes_channel_day, out.pushes_channel_week,
                          optional_time(out.earliest))


def pressure_stats(store, filter, window=604800, policy=None):
    """PressureStats of the users matching `filter` (a metrics.Filter or an
    as_of time) over the `window` seconds ending at as_of."""
    out = S.new(pd_pressure_stats)
    f = filter_struct(store, filter)
    store._check(_stats(store._handle(), byref(f), int64(window, "window"),
                        _policy(policy), byref(out)))
    return PressureStats(*(getattr(out, f.name)
                           for f in dataclasses.fields(PressureStats)))
