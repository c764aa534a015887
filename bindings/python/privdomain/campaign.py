"""Campaign health (campaign.h): what a campaign sold, and what it cost in
deleted contacts (业绩 vs 服务). Money in minor units."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint32, c_uint64, c_void_p

from . import _structs as S
from ._convert import int64, seconds, uint32
from ._lib import fn
from .metrics import filter_struct, pd_metrics_filter

CAMPAIGN_HEALTHY = 1
CAMPAIGN_UNHEALTHY = 2


@S.register("campaign.h")
class pd_campaign_options(Structure):
    _fields_ = [("size", c_size_t), ("attribution_window", c_int64),
                ("observe_after", c_int64), ("count_staff", c_int32),
                ("unhealthy_ratio", c_double),
                ("unhealthy_min_rate", c_double)]


@S.register("campaign.h")
class pd_campaign_health(Structure):
    _fields_ = [("size", c_size_t), ("pool", c_uint64),
                ("buyers", c_uint64), ("orders", c_uint64),
                ("revenue", c_int64), ("linked", c_uint64),
                ("unlinked", c_uint64), ("rate", c_double),
                ("baseline_linked", c_uint64),
                ("baseline_unlinked", c_uint64),
                ("baseline_rate", c_double), ("ratio", c_double),
                ("verdict", c_int32), ("unlink_window_end", c_int64),
                ("baseline_start", c_int64)]


_compute = fn("pd_campaign_health_compute", c_int32, c_void_p,
              POINTER(pd_metrics_filter), c_uint32, c_int64, c_int64,
              POINTER(pd_campaign_options), POINTER(pd_campaign_health))


@dataclasses.dataclass(frozen=True)
class CampaignHealth:
    """A campaign's sales and health (see campaign.h); healthy is the
    verdict; ratio is -1 when the baseline rate is 0."""
    pool: int
    buyers: int
    orders: int
    revenue: int
    linked: int
    unlinked: int
    rate: float
    baseline_linked: int
    baseline_unlinked: int
    baseline_rate: float
    ratio: float
    healthy: bool
    unlink_window_end: int
    baseline_start: int


def campaign_health(store, filter, campaign, start, end,
                    attribution_window=7 * 86400,
                    observe_after=14 * 86400, count_staff=False,
                    unhealthy_ratio=3.0, unhealthy_min_rate=0.10):
    """CampaignHealth of the campaign label `campaign` run in [start,
    end), as of the filter's as_of."""
    o = S.new(pd_campaign_options,
              attribution_window=int64(attribution_window,
                                       "attribution_window"),
              observe_after=int64(observe_after, "observe_after"),
              count_staff=1 if count_staff else 0,
              unhealthy_ratio=float(unhealthy_ratio),
              unhealthy_min_rate=float(unhealthy_min_rate))
    out = S.new(pd_campaign_health)
    f = filter_struct(store, filter)
    store._check(_compute(store._handle(), byref(f),
                          uint32(campaign, "campaign"),
                          seconds(start, "start"), seconds(end, "end"),
                          byref(o), byref(out)))
    return CampaignHealth(
        out.pool, out.buyers, out.orders, out.revenue, out.linked,
        out.unlinked, out.rate, out.baseline_linked, out.baseline_unlinked,
        out.baseline_rate, out.ratio, out.verdict == CAMPAIGN_HEALTHY,
        out.unlink_window_end, out.baseline_start)
