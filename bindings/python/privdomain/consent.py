"""Consent and opt-out (consent.h): what a user allows the brand to do.
Default when nothing is recorded: granted (see consent.h for why)."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_int32, c_int64, c_size_t, \
    c_uint64, c_void_p
from typing import Optional

from . import _structs as S
from . import constants as K
from ._convert import optional_time, seconds, uint64
from ._lib import fn
from .store import event_id

CONSENT_MARKETING = 1
CONSENT_PERSONALISED_MARKETING = 2
CONSENT_ANALYTICS = 3
PURPOSES = {"marketing": 1, "personalised_marketing": 2, "analytics": 3}


@S.register("consent.h")
class pd_consent(Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("user", c_uint64), ("purpose", c_int32),
                ("granted", c_int32), ("time", c_int64)]


_record = fn("pd_record_consent", c_int32, c_void_p, POINTER(pd_consent))
_recorded = fn("pd_user_consent_recorded", c_int32, c_void_p, c_uint64,
               c_int32, c_int64, POINTER(c_int32), POINTER(c_int32),
               POINTER(c_int64))


@dataclasses.dataclass(frozen=True)
class ConsentState:
    """Whether a purpose is granted at a time, and whether that comes from
    a recorded event (since = its time) or the default (since None)."""
    granted: bool
    recorded: bool
    since: Optional[int]

    def __bool__(self):
        return self.granted


def record_consent(store, event, user, purpose, granted, time):
    """Record that `user` granted (True) or withdrew (False) consent for
    `purpose` ("marketing", "personalised_marketing", "analytics" or a
    CONSENT_* int). True when new, False when replayed."""
    ev = S.new(pd_consent, event_id=event_id(event),
               user=uint64(user, "user"),
               purpose=K.lookup(purpose, PURPOSES, "consent purpose"),
               granted=1 if granted else 0, time=seconds(time))
    return store._check(_record(store._handle(), byref(ev)))


def user_consent(store, user, purpose, as_of):
    """ConsentState of `purpose` for `user` at `as_of` (truthy when
    granted)."""
    granted, recorded, since = c_int32(), c_int32(), c_int64()
    store._check(_recorded(store._handle(), uint64(user, "user"),
                           K.lookup(purpose, PURPOSES, "consent purpose"),
                           seconds(as_of, "as_of"), byref(granted),
                           byref(recorded), byref(since)))
    return ConsentState(bool(granted.value), bool(recorded.value),
                        optional_time(since.value))
