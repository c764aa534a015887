"""Store aggregates (aggregates.h): the funnel, link cohort, repurchase and
RFM figures
of many stores (one per region or shard, disjoint users), merged without
moving their events. Each shard computes an Aggregate and ships its bytes
(save()); head office loads and merges them and reads the chain-wide rows,
quantiles and RFM thresholds. Money in minor units."""

import ctypes
import dataclasses
from ctypes import POINTER, Structure, byref, c_char_p, c_double, c_int32, \
    c_int64, c_size_t, c_uint64, c_void_p

from . import _structs as S
from . import constants as K
from . import errors
from ._convert import int64
from ._handle import _Handle
from ._lib import fn
from .breakdown import BY, read_rows, record
from .funnel import FunnelRow, pd_funnel_options, pd_funnel_row
from .metrics import filter_struct, pd_metrics_filter
from .retention_metrics import LinkRetentionRow, _options as _lr_options, \
    pd_link_retention_options, pd_link_retention_row
from .repurchase import RepurchaseRow, pd_repurchase_options, \
    pd_repurchase_row
from .segments import _rfm_record, pd_rfm_row

_P = c_void_p

AGGREGATE_FUNNEL = 1
AGGREGATE_LINK_COHORTS = 2
AGGREGATE_RFM = 3
AGGREGATE_REPURCHASE = 4
KINDS = {"funnel": 1, "link_cohorts": 2, "rfm": 3, "repurchase": 4}
_KIND_NAMES = {v: k for k, v in KINDS.items()}

RECENCY = 1
FREQUENCY = 2
MONETARY = 3
DIMENSIONS = {"recency": 1, "frequency": 2, "monetary": 3}

ACCURACY_DEFAULT = 0.01


@S.register("aggregates.h")
class pd_aggregate_spec(Structure):
    _fields_ = [("size", c_size_t),
                ("funnel", POINTER(pd_funnel_options)),
                ("link_retention", POINTER(pd_link_retention_options)),
                ("repurchase", POINTER(pd_repurchase_options)),
                ("accuracy", c_double)]


@S.register("aggregates.h")
class pd_rfm_thresholds(Structure):
    _fields_ = [("size", c_size_t), ("buyers", c_uint64),
                ("orders", c_uint64), ("revenue", c_int64),
                ("recency", c_double * 4), ("frequency", c_double * 4),
                ("monetary", c_double * 4)]


_compute = fn("pd_aggregate_compute", c_int32, _P, c_int32,
              POINTER(pd_metrics_filter), POINTER(pd_aggregate_spec),
              POINTER(_P))
_free = fn("pd_aggregate_free", None, _P)
_kind = fn("pd_aggregate_kind", c_int32, _P)
_errmsg = fn("pd_aggregate_errmsg", c_char_p, _P)
_merge = fn("pd_aggregate_merge", c_int32, _P, _P)
_save = fn("pd_aggregate_save", c_int32, _P, POINTER(_P))
_load = fn("pd_aggregate_load", c_int32, c_char_p, c_size_t, _P, c_char_p,
           c_size_t, POINTER(_P))
_funnel_rows = fn("pd_aggregate_funnel_rows", c_int32, _P, POINTER(_P))
_lr_rows = fn("pd_aggregate_link_retention_rows", c_int32, _P, POINTER(_P))
_rep_rows = fn("pd_aggregate_repurchase_rows", c_int32, _P, POINTER(_P))
_rep_row_get = fn("pd_repurchase_row_get", c_int32, _P, c_size_t,
                  POINTER(pd_repurchase_row))
_quantile = fn("pd_aggregate_quantile", c_int32, _P, c_int32, c_double,
               POINTER(c_double))
_thresholds = fn("pd_aggregate_rfm_thresholds", c_int32, _P,
                 POINTER(pd_rfm_thresholds))
_score = fn("pd_rfm_score_with_thresholds", c_int32, _P,
            POINTER(pd_metrics_filter), POINTER(pd_rfm_thresholds),
            POINTER(_P))
_funnel_row_get = fn("pd_funnel_row_get", c_int32, _P, c_size_t,
                     POINTER(pd_funnel_row))
_lr_row_get = fn("pd_link_retention_row_get", c_int32, _P, c_size_t,
                 POINTER(pd_link_retention_row))
_rfm_row_get = fn("pd_rfm_row_get", c_int32, _P, c_size_t,
                  POINTER(pd_rfm_row))
_bytes_data = fn("pd_bytes_data", c_void_p, _P)
_bytes_size = fn("pd_bytes_size", c_size_t, _P)
_bytes_free = fn("pd_bytes_free", None, _P)


@dataclasses.dataclass(frozen=True)
class RfmThresholds:
    """Chain-wide RFM quintile thresholds (the 20/40/60/80% quantiles) and
    totals of an RFM aggregate. Frequency and monetary are whole numbers."""
    buyers: int
    orders: int
    revenue: int
    recency: tuple
    frequency: tuple
    monetary: tuple

    def _struct(self):
        t = S.new(pd_rfm_thresholds, buyers=self.buyers, orders=self.orders,
                  revenue=self.revenue)
        for name in ("recency", "frequency", "monetary"):
            values = getattr(self, name)
            if len(values) != 4:
                raise errors.InvalidArgument(f"{name} needs 4 thresholds")
            getattr(t, name)[:] = [float(v) for v in values]
        return t


class Aggregate(_Handle):
    """A mergeable aggregate (pd_aggregate) of one kind: "funnel",
    "link_cohorts", "rfm" or "repurchase". Make one with Aggregate.compute()
    or Aggregate.load(); close() it or use it as a context manager."""

    _free = _free
    _errmsg = _errmsg
    _what = "aggregate"

    def __init__(self, handle):
        self._h = handle

    @classmethod
    def compute(cls, store, kind, filter, group_by="all",
                conversion_window=30 * 86400, model_clv=0.0,
                cohort_unit="month", periods=12, channel=0, accuracy=0.0):
        """The aggregate of `kind` over the users of `store` matching
        `filter` (a metrics.Filter or an as_of time). group_by,
        conversion_window and model_clv are the funnel's options (group_by
        is also the repurchase aggregate's);
        cohort_unit, periods and channel the link cohort table's; accuracy
        the relative error of the quantile sketches (0 = 1%)."""
        k = K.lookup(kind, KINDS, "aggregate kind")
        f = filter_struct(store, filter)
        fo = S.new(pd_funnel_options,
                   group_by=K.lookup(group_by, BY, "group_by"),
                   conversion_window=int64(conversion_window,
                                           "conversion_window"),
                   model_clv=float(model_clv))
        lo = _lr_options(store, cohort_unit, periods, channel)
        spec = S.new(pd_aggregate_spec, accuracy=float(accuracy))
        if k == AGGREGATE_FUNNEL:
            spec.funnel = ctypes.pointer(fo)
        elif k == AGGREGATE_LINK_COHORTS:
            spec.link_retention = ctypes.pointer(lo)
        elif k == AGGREGATE_REPURCHASE:
            ro = S.new(pd_repurchase_options, group_by=fo.group_by)
            spec.repurchase = ctypes.pointer(ro)
        out = _P()
        store._check(_compute(store._handle(), k, byref(f), byref(spec),
                              byref(out)))
        return cls(out.value)

    @classmethod
    def load(cls, data):
        """An aggregate from the bytes of save() (made on any machine).
        Raises Corrupt (with the reason) for damaged or foreign bytes."""
        data = bytes(data)
        why = ctypes.create_string_buffer(256)
        out = _P()
        errors.check(_load(data, len(data), None, why, len(why), byref(out)),
                     lambda: why.value.decode("utf-8", "replace"))
        return cls(out.value)

    @property
    def kind(self):
        """"funnel", "link_cohorts", "rfm" or "repurchase"."""
        return _KIND_NAMES[_kind(self._handle())]

    def save(self):
        """The serialised form (bytes; docs/FORMAT.md)."""
        out = _P()
        self._check(_save(self._handle(), byref(out)))
        try:
            return ctypes.string_at(_bytes_data(out), _bytes_size(out))
        finally:
            _bytes_free(out)

    def merge(self, other):
        """Add `other` (an Aggregate or its bytes) into this one; raises
        Conflict when they differ in kind, filter, as_of or options. On
        error this aggregate is unchanged. Returns self."""
        if isinstance(other, (bytes, bytearray, memoryview)):
            with Aggregate.load(other) as o:
                return self.merge(o)
        self._check(_merge(self._handle(), other._handle()))
        return self

    def funnel_rows(self):
        """The FunnelRow list pd_funnel_compute() gives on one store holding
        every merged shard's users."""
        rows = _P()
        self._check(_funnel_rows(self._handle(), byref(rows)))
        return read_rows(rows, _funnel_row_get, pd_funnel_row,
                         lambda r: record(FunnelRow, r))

    def link_retention_rows(self):
        """The LinkRetentionRow list of the merged cohort table."""
        rows = _P()
        self._check(_lr_rows(self._handle(), byref(rows)))
        return read_rows(rows, _lr_row_get, pd_link_retention_row,
                         lambda r: record(LinkRetentionRow, r))

    def repurchase_rows(self):
        """The RepurchaseRow list of the merged repurchase figures."""
        rows = _P()
        self._check(_rep_rows(self._handle(), byref(rows)))
        return read_rows(rows, _rep_row_get, pd_repurchase_row,
                         lambda r: record(RepurchaseRow, r))

    def quantile(self, dimension, q):
        """The q quantile (0..1) of "recency" (days), "frequency" or
        "monetary" of an RFM aggregate, within its relative accuracy."""
        out = c_double()
        self._check(_quantile(self._handle(),
                              K.lookup(dimension, DIMENSIONS, "dimension"),
                              float(q), byref(out)))
        return out.value

    def rfm_thresholds(self):
        """The RfmThresholds of an RFM aggregate."""
        t = S.new(pd_rfm_thresholds)
        self._check(_thresholds(self._handle(), byref(t)))
        return RfmThresholds(t.buyers, t.orders, t.revenue,
                             tuple(t.recency), tuple(t.frequency),
                             tuple(t.monetary))


def rfm_score_with_thresholds(store, filter, thresholds):
    """The RfmRow of every buyer of `store` matching `filter`, scored
    against chain-wide RfmThresholds (from a merged RFM aggregate)."""
    f = filter_struct(store, filter)
    t = thresholds._struct()
    rows = _P()
    store._check(_score(store._handle(), byref(f), byref(t), byref(rows)))
    return read_rows(rows, _rfm_row_get, pd_rfm_row, _rfm_record)
