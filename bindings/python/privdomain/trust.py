"""Trust (trust.h): 信任 = 专业 × 靠谱 × 亲密度 / 自私度, expertise ×
reliability × intimacy / self-orientation, each 1–10, derived from
touchpoints by the rules documented in trust.h."""

import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int32, c_int64, \
    c_size_t, c_uint32, c_uint64, c_void_p
from typing import Optional, Tuple

from . import _structs as S
from ._convert import int64, seconds, uint32, uint64
from ._lib import fn
from .metrics import filter_struct, pd_metrics_filter
from .pressure import ContactPolicy, pd_contact_policy

TRUST_MULTIPLICATIVE = 0
TRUST_ADDITIVE = 1
FORMULAS = {"multiplicative": 0, "additive": 1}
TRUST_BINS = 10


@S.register("trust.h")
class pd_trust_options(Structure):
    _fields_ = [("size", c_size_t), ("formula", c_int32),
                ("reply_window", c_int64), ("half_life", c_int64)] + [
        (n, c_double) for n in (
            "prior_good", "prior_bad", "weight_inbound", "weight_1to1",
            "weight_engagement", "weight_broadcast", "weight_live",
            "intimacy_saturation", "prior_promo", "prior_other",
            "over_cap_scale", "prior_good_e", "prior_bad_e",
            "rating_weight")] + [("policy", POINTER(pd_contact_policy))]


@S.register("trust.h")
class pd_trust(Structure):
    _fields_ = [("size", c_size_t)] + [(n, c_double) for n in (
        "expertise", "reliability", "intimacy", "self_orientation", "trust",
        "score")] + [(n, c_uint32) for n in (
            "promises_kept", "promises_broken", "inbound",
            "inbound_answered", "brand_touches", "promotions",
            "over_cap_pushes", "ratings")]


@S.register("trust.h")
class pd_trust_distribution(Structure):
    _fields_ = [("size", c_size_t), ("users", c_uint64),
                ("mean_score", c_double), ("mean_expertise", c_double),
                ("mean_reliability", c_double), ("mean_intimacy", c_double),
                ("mean_self_orientation", c_double),
                ("histogram", c_uint64 * TRUST_BINS),
                ("deciles", c_double * 9)]


_trust_user = fn("pd_trust_user", c_int32, c_void_p, c_uint64, c_uint32,
                 c_int64, POINTER(pd_trust_options), POINTER(pd_trust))
_distribution = fn("pd_trust_distribution_get", c_int32, c_void_p,
                   POINTER(pd_metrics_filter), POINTER(pd_trust_options),
                   POINTER(pd_trust_distribution))


@dataclasses.dataclass(frozen=True)
class TrustOptions:
    """How trust is derived; the defaults are PD_TRUST_OPTIONS_INIT's.
    Times in seconds; formula "multiplicative" or "additive"."""
    formula: str = "multiplicative"
    reply_window: int = 86400
    half_life: int = 2592000
    prior_good: float = 3.0
    prior_bad: float = 1.0
    weight_inbound: float = 3.0
    weight_1to1: float = 1.0
    weight_engagement: float = 1.0
    weight_broadcast: float = 0.2
    weight_live: float = 0.5
    intimacy_saturation: float = 5.0
    prior_promo: float = 1.0
    prior_other: float = 3.0
    over_cap_scale: float = 3.0
    prior_good_e: float = 1.0
    prior_bad_e: float = 1.0
    rating_weight: float = 0.5
    policy: Optional[ContactPolicy] = None

    def _struct(self):
        from . import constants as K
        s = S.new(pd_trust_options,
                  formula=K.lookup(self.formula, FORMULAS, "trust formula"),
                  reply_window=int64(self.reply_window, "reply_window"),
                  half_life=int64(self.half_life, "half_life"))
        for f in dataclasses.fields(self):
            if f.type is float:
                setattr(s, f.name, float(getattr(self, f.name)))
        keep = None
        if self.policy is not None:
            keep = self.policy._struct()
            s.policy = POINTER(pd_contact_policy)(keep)
        return s, keep


@dataclasses.dataclass(frozen=True)
class Trust:
    """One user's (or user–guide relationship's) trust and its evidence."""
    expertise: float
    reliability: float
    intimacy: float
    self_orientation: float
    trust: float
    score: float
    promises_kept: int
    promises_broken: int
    inbound: int
    inbound_answered: int
    brand_touches: int
    promotions: int
    over_cap_pushes: int
    ratings: int


@dataclasses.dataclass(frozen=True)
class TrustDistribution:
    """The trust score over a population: means, a 10-bin histogram of the
    0–100 score and its deciles (deciles[4] is the median)."""
    users: int
    mean_score: float
    mean_expertise: float
    mean_reliability: float
    mean_intimacy: float
    mean_self_orientation: float
    histogram: Tuple[int, ...]
    deciles: Tuple[float, ...]


def _opts(options):
    if options is None:
        return None, None
    s, keep = options._struct()
    return byref(s), (s, keep)


def trust_user(store, user, as_of, guide=0, options=None):
    """Trust of `user` at `as_of`, from all touchpoints (guide 0) or only
    those recorded with `guide`."""
    out = S.new(pd_trust)
    opts, _keep = _opts(options)
    store._check(_trust_user(store._handle(), uint64(user, "user"),
                             uint32(guide, "guide"), seconds(as_of, "as_of"),
                             opts, byref(out)))
    return Trust(*(getattr(out, f.name) for f in dataclasses.fields(Trust)))


def trust_distribution(store, filter, options=None):
    """TrustDistribution over the users matching `filter` (a
    metrics.Filter or an as_of time)."""
    out = S.new(pd_trust_distribution)
    opts, _keep = _opts(options)
    f = filter_struct(store, filter)
    store._check(_distribution(store._handle(), byref(f), opts, byref(out)))
    return TrustDistribution(
        out.users, out.mean_score, out.mean_expertise, out.mean_reliability,
        out.mean_intimacy, out.mean_self_orientation, tuple(out.histogram),
        tuple(out.deciles))
