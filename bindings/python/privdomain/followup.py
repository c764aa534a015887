"""Follow-up plans (followup.h, 日常维护计划): which users each guide should
contact on a day, why, and in what order (ranked by value at risk)."""

import ctypes
import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int, c_int32, \
    c_int64, c_size_t, c_uint32, c_uint64, c_void_p
from typing import Optional

from . import _structs as S
from ._convert import int64, optional_time, uint32
from ._lib import fn
from .metrics import filter_struct, pd_metrics_filter
from .pressure import ContactPolicy, pd_contact_policy
from .store import _Collector
from .store_summary import StoreSummary

FOLLOWUP_REPURCHASE_DUE = 1
FOLLOWUP_WIN_BACK = 2
FOLLOWUP_AFTER_SALES = 3
FOLLOWUP_KEY_CUSTOMER = 4
REASONS = {1: "repurchase_due", 2: "win_back", 3: "after_sales",
           4: "key_customer"}


@S.register("followup.h")
class pd_followup_options(Structure):
    _fields_ = [("size", c_size_t), ("guide_capacity", c_uint32),
                ("key_customers", c_uint32), ("usage_cycle", c_int64),
                ("after_sales_delay", c_int64),
                ("key_care_interval", c_int64),
                ("win_back_p_alive", c_double),
                ("policy", POINTER(pd_contact_policy))]


@S.register("followup.h")
class pd_followup_item(Structure):
    _fields_ = [("size", c_size_t), ("guide", c_uint32), ("rank", c_uint32),
                ("user", c_uint64), ("reason", c_int32),
                ("channel", c_int32), ("value", c_double),
                ("p_alive", c_double), ("value_at_risk", c_double),
                ("last_purchase", c_int64)]


FOLLOWUP_FN = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(pd_followup_item))
_plan = fn("pd_followup_plan", c_int32, c_void_p, c_void_p,
           POINTER(pd_metrics_filter), POINTER(pd_followup_options),
           FOLLOWUP_FN, c_void_p)


@dataclasses.dataclass(frozen=True)
class FollowupOptions:
    """Planning rules; the defaults are PD_FOLLOWUP_OPTIONS_INIT's. Times
    in seconds (usage_cycle 0 = each user's own interval)."""
    guide_capacity: int = 30
    key_customers: int = 1000
    usage_cycle: int = 0
    after_sales_delay: int = 259200
    key_care_interval: int = 1209600
    win_back_p_alive: float = 0.5
    policy: Optional[ContactPolicy] = None


@dataclasses.dataclass(frozen=True)
class FollowupItem:
    """One user on a guide's list; reason by name ("repurchase_due",
    "win_back", "after_sales", "key_customer"); value in major units."""
    guide: int
    rank: int
    user: int
    reason: str
    channel: int
    value: float
    p_alive: float
    value_at_risk: float
    last_purchase: Optional[int]


def _item(p):
    c = p.contents
    return FollowupItem(c.guide, c.rank, c.user,
                        REASONS.get(c.reason, str(c.reason)), c.channel,
                        c.value, c.p_alive, c.value_at_risk,
                        optional_time(c.last_purchase))


def followup_plan(store, filter, values=None, options=None):
    """The plan for the day ending at the filter's as_of (a metrics.Filter
    or a time): a list of FollowupItem, guides in increasing id, each
    guide's users in rank order. `values`: a StoreSummary with predictions
    (or None to rank by spend to date)."""
    if values is not None and not isinstance(values, StoreSummary):
        raise TypeError("values must be a StoreSummary or None")
    keep = None
    opts = None
    if options is not None:
        o = S.new(pd_followup_options,
                  guide_capacity=uint32(options.guide_capacity,
                                        "guide_capacity"),
                  key_customers=uint32(options.key_customers,
                                       "key_customers"),
                  usage_cycle=int64(options.usage_cycle, "usage_cycle"),
                  after_sales_delay=int64(options.after_sales_delay,
                                          "after_sales_delay"),
                  key_care_interval=int64(options.key_care_interval,
                                          "key_care_interval"),
                  win_back_p_alive=float(options.win_back_p_alive))
        if options.policy is not None:
            keep = options.policy._struct()
            o.policy = ctypes.pointer(keep)
        opts = byref(o)
    f = filter_struct(store, filter)
    col = _Collector()
    cb = FOLLOWUP_FN(col.wrap(lambda _u, p: _item(p)))
    store._check(_plan(store._handle(),
                       values._handle() if values is not None else None,
                       byref(f), opts, cb, None))
    return col.finish()
